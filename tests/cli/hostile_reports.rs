//! The reports folder, where the change may have put anything: links out of
//! the project, files where folders go, names made to break a parser. The
//! real binary and the fake model server; each test fails on the code before it.

use crate::fake::Fake;
use crate::support::Project;

#[cfg(unix)]
#[test]
fn the_reports_folder_is_never_written_through_a_link_or_out_of_the_project() {
    let fake = Fake::approving();
    let outside = tempfile::tempdir().unwrap();
    // An older run's report there: pruning through the link would delete it.
    let old = "20200101T000000.000Z-x-000000000000.json";
    std::fs::write(outside.path().join(old), "{}").unwrap();
    let before = || {
        let mut names: Vec<String> = std::fs::read_dir(outside.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    let events = "[reports]\nkeep = 1\n[events.x]\nagents = [\"a\"]\n";
    let p = Project::with_agents(events, &["a"]).serve(&fake);
    // The change makes `reports` a link out of the project, or a folder
    // inside it a link: refused before anything is sent.
    std::os::unix::fs::symlink(outside.path(), p.path().join("reports")).unwrap();
    let (_, stderr) = p.expect(&["run", "x"]).status(2).run();
    assert!(
        stderr.contains(
            "the reports folder reports is a symlink (symlinks are not followed): bsu writes \
             reports only into real folders inside the project; remove the link, or give \
             --reports-dir DIR"
        ),
        "{stderr}"
    );
    std::fs::remove_file(p.path().join("reports")).unwrap();
    std::os::unix::fs::symlink(outside.path(), p.path().join("out")).unwrap();
    let p = p.file(
        "events.toml",
        "[reports]\ndir = \"out/reports\"\nkeep = 1\n[events.x]\nagents = [\"a\"]\n",
    );
    let (_, stderr) = p.expect(&["run", "x"]).status(2).run();
    assert!(
        stderr.contains("lies behind the symlink out (symlinks are not followed)"),
        "{stderr}"
    );
    // A file where the folder goes: refused, saying what to do.
    std::fs::write(p.path().join("reports"), "a file").unwrap();
    std::fs::write(p.path().join("events.toml"), events).unwrap();
    let (_, stderr) = p.expect(&["run", "x"]).status(2).run();
    assert!(
        stderr.contains("the reports folder reports is not a folder")
            && stderr.contains("move the file away"),
        "{stderr}"
    );
    std::fs::remove_file(p.path().join("reports")).unwrap();
    assert_eq!(fake.requests().len(), 0, "a request was sent");
    assert_eq!(before(), vec![old.to_string()], "written or pruned outside");
    // Out of the project by name: a configuration error with its line.
    for dir in ["/tmp/elsewhere", "../elsewhere"] {
        let text = format!("[events.x]\nagents = [\"a\"]\n[reports]\ndir = {dir:?}\n");
        std::fs::write(p.path().join("events.toml"), text).unwrap();
        let (_, stderr) = p.expect(&["run", "x", "--dry-run"]).status(2).run();
        assert!(
            stderr.contains("events.toml:4:7") && stderr.contains("reports go to a folder inside"),
            "{stderr}"
        );
    }
    // `link/..` is worked out by name: the reports go to the project's own
    // folder, never to where the link's parent is.
    std::fs::create_dir_all(outside.path().join("sub")).unwrap();
    std::os::unix::fs::symlink(outside.path().join("sub"), p.path().join("up")).unwrap();
    let text = "[events.x]\nagents = [\"a\"]\n[reports]\ndir = \"up/../reports\"\n";
    std::fs::write(p.path().join("events.toml"), text).unwrap();
    p.expect(&["run", "x"]).status(0).run();
    assert!(p.path().join("reports/latest.json").is_file());
    assert!(
        !outside.path().join("reports").exists(),
        "written through up/.."
    );
    // A link's name cannot forge a line of the log (a workflow command).
    let forged = "x\n::error::forged";
    std::os::unix::fs::symlink(outside.path(), p.path().join(forged)).unwrap();
    let text = format!("[events.x]\nagents = [\"a\"]\n[reports]\ndir = {forged:?}\n");
    std::fs::write(p.path().join("events.toml"), text).unwrap();
    let (_, stderr) = p.expect(&["run", "x"]).status(2).run();
    assert!(stderr.contains("is a symlink"), "{stderr}");
    assert!(!stderr.lines().any(|l| l.starts_with("::")), "{stderr}");
    // The caller's own folder, given on the command line, is used as given.
    let p = p.file("events.toml", events);
    let given = outside.path().join("given");
    p.expect(&["run", "x", "--reports-dir", given.to_str().unwrap()])
        .status(0)
        .run();
    assert!(given.join("latest.json").is_file());
}

#[test]
fn any_name_in_the_reports_folder_is_left_alone_while_old_reports_are_pruned() {
    let fake = Fake::approving();
    let events = "[reports]\nkeep = 1\n[events.x]\nagents = [\"a\"]\n";
    // A checkout's own files: one named as an older report of this event,
    // and one whose first part has a report stamp's length in bytes, a
    // character across the byte where the stamp is cut.
    let old = "20200101T000000.000Z-x-000000000000.json";
    let odd = "aaaaaaaaaaaaaa\u{e9}-x-000000000000.json";
    let p = Project::with_agents(events, &["a"])
        .serve(&fake)
        .file(&format!("reports/{old}"), "{}")
        .file(&format!("reports/{odd}"), "{}");
    p.expect(&["run", "x"]).status(0).run();
    assert!(!p.path().join("reports").join(old).exists(), "not pruned");
    assert!(p.path().join("reports").join(odd).is_file(), "not a report");
    assert!(p.path().join("reports/latest.json").is_file());
}
