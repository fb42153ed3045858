//! build.rs passes the hot-function list to the linker only when rustc links
//! with its own rust-lld: a linker chosen in the flags, or an older rustc,
//! must be read as such, or another linker is handed a flag it refuses and
//! the build fails.

#[path = "../../build/linker.rs"]
mod linker;

use linker::{chooses_a_linker, rustc_minor};

/// Rustflags as cargo encodes them: one argument per 0x1f-separated field.
fn encoded(args: &[&str]) -> String {
    args.join("\x1f")
}

#[test]
fn a_linker_chosen_in_the_flags_is_seen_in_every_spelling() {
    for args in [
        &["-C", "linker=clang"][..],
        &["-Clinker=clang"],
        &["--codegen", "linker=/usr/bin/cc"],
        &["--codegen=linker=cc"],
        &["-C", "link-arg=-fuse-ld=mold"],
        &["-Clink-args=-fuse-ld=lld -Wl,-O1"],
        &["-C", "linker-flavor=gnu-cc"],
        &["-Clink-self-contained=-linker"],
        &["-C", "opt-level=3", "-C", "linker=clang"],
    ] {
        assert!(chooses_a_linker(&encoded(args)), "{args:?}");
    }
}

#[test]
fn flags_that_do_not_choose_a_linker_leave_rust_lld() {
    for args in [
        &[][..],
        &[""],
        &["-C", "opt-level=3"],
        &["-Ctarget-cpu=native"],
        &["-C", "linker-plugin-lto"],
        &["--cfg", "linker"],
        &["-C", "link-arg=-Wl,--as-needed"],
    ] {
        assert!(!chooses_a_linker(&encoded(args)), "{args:?}");
    }
}

#[test]
fn rustcs_minor_version_is_read_from_its_version_line() {
    assert_eq!(rustc_minor("rustc 1.95.0 (59807616e 2026-04-14)"), Some(95));
    assert_eq!(
        rustc_minor("rustc 1.90.0-nightly (abc 2025-07-01)\n"),
        Some(90)
    );
    assert_eq!(rustc_minor("rustc 1.89.0"), Some(89));
    for other in ["", "rustc", "cargo 1.95.0", "rustc 2.1.0", "rustc one.two"] {
        assert_eq!(rustc_minor(other), None, "{other:?}");
    }
}
