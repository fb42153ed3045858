//! Gathering and packing a change's inputs, and `bsu eval`: a 1 MB diff for
//! eight agents, the same on a re-run, the cost projection, and fifty eval
//! cases replayed.

use std::time::Duration;

use super::basics::Timed;
use super::fake::{Fake, Reply};
use super::{big_patch, Bench, KEY};

/// The figures `measure` takes.
pub struct Packing {
    /// An 8-agent dry run without inputs: the baseline.
    pub no_inputs: Duration,
    /// The same with a 1 MB, 300-file diff gathered, counted and packed.
    pub packed: Timed,
    /// The same again, the token counts kept by a real run before it.
    pub repacked: Timed,
    /// The cost projection of that run, as bsu times it (ms).
    pub projection_ms: f64,
}

const EIGHT: [&str; 8] = ["a", "b", "c", "d", "e", "f", "g", "h"];
const DRY_WITH_DIFF: [&str; 6] = [
    "run",
    "review",
    "--dry-run",
    "-q",
    "--input",
    "diff=change.patch",
];

/// Measure every figure of `Packing`.
pub fn measure() -> Packing {
    let agents_list = EIGHT.map(|a| format!("\"{a}\"")).join(", ");
    let plain = Bench::new(
        &format!("[events.review]\nagents = [{agents_list}]\n"),
        &EIGHT,
    );
    let no_inputs = plain.median(11, &["run", "review", "--dry-run", "-q", "--no-cache"], 0);
    let packing = Bench::new(
        &format!("[inputs.diff]\nkind = \"git_diff\"\n[events.review]\nagents = [{agents_list}]\ninputs = [\"diff\"]\n"),
        &EIGHT,
    );
    let patch = big_patch(300, 1024 * 1024);
    std::fs::write(packing.dir.path().join("change.patch"), &patch).unwrap();
    let packed = packing.measure(11, &DRY_WITH_DIFF, 0);

    // A re-run on the same change: a real run first keeps its token counts.
    let quick = Fake::start(|_| Reply::verdict("approve", 9));
    let packing = packing
        .env("OPENAI_BASE_URL", &quick.url)
        .env("OPENAI_API_KEY", KEY);
    let real = [
        "run",
        "review",
        "-q",
        "--no-cache",
        "--input",
        "diff=change.patch",
    ];
    assert_eq!(packing.run(&real), 0);
    let repacked = packing.measure(11, &DRY_WITH_DIFF, 0);
    Packing {
        no_inputs,
        packed,
        repacked,
        projection_ms: projection_ms(&packing),
    }
}

/// The median cost projection of `packing`'s run as bsu times it (`-v`).
fn projection_ms(packing: &Bench) -> f64 {
    let mut us: Vec<u64> = (0..7)
        .filter_map(|_| {
            let out = packing
                .cmd(&[
                    "-v",
                    "run",
                    "review",
                    "--dry-run",
                    "--input",
                    "diff=change.patch",
                ])
                .output()
                .ok()?;
            let err = String::from_utf8_lossy(&out.stderr).into_owned();
            let line = err
                .lines()
                .find(|l| l.contains("projected the run's cost"))?;
            line.split("us=")
                .nth(1)?
                .split_whitespace()
                .next()?
                .parse()
                .ok()
        })
        .collect();
    us.sort_unstable();
    us.get(us.len() / 2)
        .map_or(f64::NAN, |u| *u as f64 / 1000.0)
}

/// `bsu eval` of 50 cases with 3 agents each, from a recording made first
/// against the fake: (median wall time, peak RSS).
pub fn eval_bench() -> Timed {
    let agents = ["a", "b", "c"];
    let bench = Bench::new(
        "[inputs.diff]\nkind = \"git_diff\"\n[events.\"pull_request.opened\"]\nagents = [\"a\", \"b\", \"c\"]\ninputs = [\"diff\"]\n",
        &agents,
    );
    for i in 0..50 {
        let dir = bench.dir.path().join(format!("evals/case{i:02}"));
        std::fs::create_dir_all(&dir).unwrap();
        let mut patch = format!(
            "diff --git a/src/m{i}.rs b/src/m{i}.rs\nnew file mode 100644\n--- /dev/null\n+++ b/src/m{i}.rs\n@@ -0,0 +1,40 @@\n"
        );
        for l in 1..=40 {
            patch.push_str(&format!("+fn f{l}(x: u32) -> u32 {{ x + {l} }}\n"));
        }
        std::fs::write(dir.join("change.patch"), patch).unwrap();
        std::fs::write(
            dir.join("expect.toml"),
            format!("decision = {{ at_least = \"request_changes\" }}\n[[finding]]\ndescription = \"Overflow in f{i} on large input\"\nseverity = \"high\"\nfile = \"src/m{i}.rs\"\nline = 7\n"),
        )
        .unwrap();
    }
    let server = Fake::start(|r| {
        let file = r
            .system()
            .split("+++ b/")
            .nth(1)
            .and_then(|s| s.split('\n').next())
            .unwrap_or("")
            .to_string();
        Reply::content(
            &format!(
                "{{\"decision\": \"request_changes\", \"findings\": [{{\"severity\": \"high\", \"title\": \"Overflow on large input\", \"file\": \"{file}\", \"line\": 8}}, {{\"severity\": \"low\", \"title\": \"Naming\", \"file\": \"{file}\", \"line\": 30}}]}}"
            ),
        )
    });
    let bench = bench
        .env("OPENAI_BASE_URL", &server.url)
        .env("OPENAI_API_KEY", KEY);
    assert_eq!(bench.run(&["eval", "evals", "--record", "rec", "-q"]), 0);
    bench.measure(5, &["eval", "evals", "--replay", "rec", "-q"], 0)
}
