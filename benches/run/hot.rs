//! The list of functions a run executes, for the linker to put first in the
//! binary (`build.rs`). `BSU_BENCH_HOT_SYMBOLS=build/hot-symbols.txt cargo
//! bench` runs bsu under
//! valgrind's callgrind on the runs that matter most (one agent, a panel of
//! four, `bsu status`, one agent with its state on a PostgreSQL server when
//! one is installed) and writes the functions each executed, the first
//! run's first. A run then faults in a few hundred kilobytes of code
//! instead of most of the binary's.
//!
//! Both binaries are profiled: `cargo build --release`'s and the bench's own,
//! whose functions have other names (its dependencies have the
//! dev-dependencies' features). Names hash each crate's build, so a
//! dependency update makes the list stale: the bench says how much of it
//! the binary still has.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use super::fake::{Fake, Reply};
use super::pg;
use super::{Bench, KEY};

/// The mangled names of the functions in `binary` that callgrind's output
/// `profile` shows executed, in the order it names them.
fn executed(profile: &str, binary: &Path) -> Vec<String> {
    // Names are given once per id ("fn=(12) name"), then by id alone, and
    // the first time may be as a callee ("cfn=", "cob="); "ob=" sets the
    // object the next functions belong to.
    let named = |rest: &str, names: &mut HashMap<String, String>| -> String {
        let (id, name) = rest.split_once(' ').unwrap_or((rest, ""));
        if !name.is_empty() {
            names.insert(id.to_string(), name.to_string());
        }
        names.get(id).cloned().unwrap_or_default()
    };
    let (mut objects, mut functions) = (HashMap::new(), HashMap::new());
    let mut in_binary = false;
    let mut found = Vec::new();
    for line in profile.lines() {
        if let Some(rest) = line.strip_prefix("ob=") {
            let object = named(rest, &mut objects);
            // A name this reader missed would drop that object's functions
            // without a word (as `cob=` names once did): stop instead.
            assert!(
                !object.is_empty(),
                "callgrind's object {rest} has no name here"
            );
            in_binary = Path::new(&object) == binary;
        } else if let Some(rest) = line.strip_prefix("cob=") {
            named(rest, &mut objects);
        } else if let Some(rest) = line.strip_prefix("cfn=") {
            named(rest, &mut functions);
        } else if let Some(rest) = line.strip_prefix("fn=") {
            let name = named(rest, &mut functions);
            if in_binary && !name.is_empty() && !name.starts_with("0x") {
                found.push(name);
            }
        }
    }
    found
}

/// Run `binary ARGS` in `bench` under callgrind: the functions it executed.
fn profile(binary: &Path, bench: &Bench, args: &[&str]) -> Vec<String> {
    let out_file = bench.dir.path().join(".callgrind");
    let mut c = bench.under("valgrind");
    c.args(["--tool=callgrind", "--demangle=no"])
        .arg(format!("--callgrind-out-file={}", out_file.display()))
        .arg(binary)
        .args(args);
    let out = c
        .output()
        .expect("valgrind runs (apt-get install valgrind)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let profile = std::fs::read_to_string(&out_file).unwrap();
    executed(&profile, binary)
}

/// `cargo build --release`'s binary, built for this in `target/hot` (the
/// bench's own build replaces `target/release/bsu`).
fn release_binary() -> PathBuf {
    let target = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/hot");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let built = Command::new(cargo)
        .args([
            "build",
            "--release",
            "--locked",
            "--bin",
            "bsu",
            "--target-dir",
        ])
        .arg(&target)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .status()
        .expect("cargo runs");
    assert!(built.success(), "cargo build --release failed");
    target.join("release").join("bsu")
}

/// How many of the names in `list` the binary at `binary` has.
pub fn found(list: &Path, binary: &Path) -> (usize, usize) {
    let listed = std::fs::read_to_string(list).unwrap_or_default();
    let bytes = std::fs::read(binary).unwrap_or_default();
    let strings: HashSet<&[u8]> = bytes.split(|b| *b == 0).collect();
    let names: Vec<&str> = listed.lines().filter(|l| !l.is_empty()).collect();
    let have = names
        .iter()
        .filter(|n| strings.contains(n.as_bytes()))
        .count();
    (have, names.len())
}

/// Write the list to `path`.
pub fn write(path: &Path) {
    let fake = Fake::start(|_| Reply::verdict("approve", 9));
    let serve = |b: Bench| {
        b.env("OPENAI_BASE_URL", &fake.url)
            .env("OPENAI_API_KEY", KEY)
    };
    let one = serve(Bench::new("[events.ping]\nagents = [\"a\"]\n", &["a"]));
    let four = serve(Bench::new(
        "[events.ping]\nagents = [\"a\", \"b\", \"c\", \"d\"]\n",
        &["a", "b", "c", "d"],
    ));
    // And one agent with its state on a server, over TLS with a password:
    // the client, TLS and SCRAM's code, last.
    let on_server = pg::server().map(|server| {
        serve(Bench::new("[events.ping]\nagents = [\"a\"]\n", &["a"]))
            .env("BSU_STATE_URL", &server.fresh().1)
    });
    let run = ["run", "ping", "--no-cache", "-q"];
    // First runs make the state: a run's steady state is what is profiled.
    for project in [&one, &four].into_iter().chain(&on_server) {
        assert_eq!(project.run(&run), 0);
    }
    let release = release_binary();
    let bench = PathBuf::from(env!("CARGO_BIN_EXE_bsu"));
    let mut seen = HashSet::new();
    let mut list = String::new();
    let mut runs = vec![(&one, &run[..]), (&four, &run[..]), (&one, &["status"][..])];
    runs.extend(on_server.as_ref().map(|p| (p, &run[..])));
    for binary in [&release, &bench] {
        for &(project, args) in &runs {
            for name in profile(binary, project, args) {
                if seen.insert(name.clone()) {
                    list.push_str(&name);
                    list.push('\n');
                }
            }
        }
    }
    std::fs::write(path, list).unwrap();
    println!("{}: {} functions", path.display(), seen.len());
}
