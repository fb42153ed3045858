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

fn main() {
    println!("cargo:rerun-if-changed=build/hot-symbols.txt");
    println!("cargo:rerun-if-changed=build.rs");
    let dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let list = dir.join("build").join("hot-symbols.txt");
    if list.is_file() && rust_lld_links() {
        println!(
            "cargo:rustc-link-arg-bins=-Wl,--symbol-ordering-file={}",
            list.display()
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
    // "rustc 1.95.0 (59807616e 2026-..)"
    let version = String::from_utf8_lossy(&out.stdout);
    let minor = version
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.split('.').nth(1))
        .and_then(|m| m.parse::<u32>().ok());
    matches!(minor, Some(m) if m >= 90)
}

/// Whether rustflags (`CARGO_ENCODED_RUSTFLAGS`, split by 0x1f) choose the
/// linker: `-C linker=`, `-C linker-flavor=`, `-C link-self-contained=`, or
/// `-fuse-ld` passed to it. `-C linker-plugin-lto` only names the linker.
fn chooses_a_linker(flags: &str) -> bool {
    let mut args = flags.split('\x1f');
    while let Some(arg) = args.next() {
        let option = match arg {
            "-C" | "--codegen" => args.next().unwrap_or_default(),
            _ => arg
                .strip_prefix("--codegen=")
                .or_else(|| arg.strip_prefix("-C"))
                .unwrap_or_default(),
        };
        let key = option.split_once('=').map_or(option, |(k, _)| k);
        if arg.contains("fuse-ld")
            || option.contains("fuse-ld")
            || matches!(key, "linker" | "linker-flavor" | "link-self-contained")
        {
            return true;
        }
    }
    false
}
