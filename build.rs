//! Links the functions a run executes together, first in the binary's
//! code: the linker lays them out in the order `build/hot-symbols.txt`
//! lists them (made by `BSU_BENCH_HOT_SYMBOLS=build/hot-symbols.txt cargo
//! bench`), so a run faults in a few hundred kilobytes of code, not most
//! of the binary. Only where the linker is known to take
//! `--symbol-ordering-file`: rust-lld, rustc's own linker on x86_64 Linux
//! since 1.90, when nothing chooses another. Elsewhere the binary links as
//! before; a name the list has and the binary does not is skipped.

// Cargo reads a build script's directives from its standard output.
#![allow(clippy::print_stdout)]

use std::path::PathBuf;
use std::process::Command;

#[path = "build/linker.rs"]
mod linker;

use linker::{chooses_a_linker, rustc_minor};

fn main() {
    println!("cargo:rerun-if-changed=build/hot-symbols.txt");
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=build/linker.rs");
    let dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let list = dir.join("build").join("hot-symbols.txt");
    // The linker reads a copy in the build's own folder, not the list in the
    // checkout: cargo keeps a build script's output for another checkout of
    // the same package sharing the target folder (a second worktree, a CI
    // clone with `CARGO_TARGET_DIR`), and a path into a checkout since
    // removed would fail every link until the list next changes.
    let copy =
        PathBuf::from(std::env::var_os("OUT_DIR").unwrap_or_default()).join("hot-symbols.txt");
    if list.is_file() && rust_lld_links() && std::fs::copy(&list, &copy).is_ok() {
        println!(
            "cargo:rustc-link-arg-bins=-Wl,--symbol-ordering-file={}",
            copy.display()
        );
        println!("cargo:rustc-link-arg-bins=-Wl,--no-warn-symbol-ordering");
    }
}

/// Whether rustc links with its own rust-lld: on x86_64 Linux (GNU) from
/// 1.90, unless a linker or linker flavour is chosen in the configuration
/// or the flags.
fn rust_lld_links() -> bool {
    let var = |k: &str| std::env::var(k).unwrap_or_default();
    if var("TARGET") != "x86_64-unknown-linux-gnu" || !var("RUSTC_LINKER").is_empty() {
        return false;
    }
    if chooses_a_linker(&var("CARGO_ENCODED_RUSTFLAGS")) {
        return false;
    }
    let Ok(out) = Command::new(var("RUSTC")).arg("--version").output() else {
        return false;
    };
    matches!(rustc_minor(&String::from_utf8_lossy(&out.stdout)), Some(m) if m >= 90)
}
