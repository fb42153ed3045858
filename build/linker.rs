//! Which linker rustc will use, as build.rs reads it: a build script has no
//! tests of its own, so these are shared with tests/cli/build_script.rs.

/// Whether rustflags (`CARGO_ENCODED_RUSTFLAGS`, split by 0x1f) choose the
/// linker: `-C linker=`, `-C linker-flavor=`, `-C link-self-contained=`, or
/// `-fuse-ld` passed to it. `-C linker-plugin-lto` only names the linker.
pub fn chooses_a_linker(flags: &str) -> bool {
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

/// The minor version in `rustc --version`'s output, "rustc 1.95.0 (…)".
pub fn rustc_minor(version: &str) -> Option<u32> {
    let mut words = version.split_whitespace();
    if words.next()? != "rustc" {
        return None;
    }
    let mut numbers = words.next()?.split('.');
    if numbers.next()? != "1" {
        return None;
    }
    numbers.next()?.parse().ok()
}
