//! `bsu init`: a starter project that checks clean, written only where it
//! may be (never over the files people edit, never through a link).

use crate::support::Project;

#[test]
fn init_writes_a_project_that_checks_clean_and_never_overwrites() {
    let p = Project::empty();
    let (code, _, stderr) = p.run(&["init"]);
    assert_eq!(code, 0, "{stderr}");
    let (code, stdout, _) = p.run(&["check"]);
    assert_eq!(code, 0, "{stdout}");
    let before = p.read("events.toml");
    let p = p.file("events.toml", &format!("{before}\n# mine\n"));
    let (code, _, stderr) = p.run(&["init"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("already exist"), "{stderr}");
    assert!(p.read("events.toml").ends_with("# mine\n"));
}

/// A clone can hold links where init writes: it never writes through one.
#[test]
fn init_never_writes_through_a_link() {
    let outside = tempfile::tempdir().unwrap();
    let p = Project::empty();
    std::os::unix::fs::symlink(outside.path(), p.path().join(".bsu")).unwrap();
    let (code, stdout, stderr) = p.run(&["init"]);
    assert_eq!((code, stdout.as_str()), (2, ""), "{stderr}");
    assert!(
        stderr.contains(".bsu: is a symlink (symlinks are not followed); nothing was written"),
        "{stderr}"
    );
    assert_eq!(std::fs::read_dir(outside.path()).unwrap().count(), 0);
    assert!(
        !p.path().join("events.toml").exists(),
        "nothing was written"
    );

    // A dangling link where events.toml goes is there already; with
    // --force it is replaced, not followed.
    std::fs::remove_file(p.path().join(".bsu")).unwrap();
    let planted = outside.path().join("planted");
    std::os::unix::fs::symlink(&planted, p.path().join("events.toml")).unwrap();
    let (code, _, stderr) = p.run(&["init"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("already exist"), "{stderr}");
    let (code, _, stderr) = p.run(&["init", "--force"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(!planted.exists(), "not written through the link");
    let events = std::fs::symlink_metadata(p.path().join("events.toml")).unwrap();
    assert!(events.is_file());
    assert_eq!(p.run(&["check"]).0, 0);
}
