//! Wall-time benchmarks of the bsu binary against a loopback fake server.
//!
//! Each figure is a median over repeated runs and is reported as a ratio to
//! the ideal (the server's latency) or to a baseline measured in the same
//! run (`bsu --version`: process start-up). Run with `cargo bench`; the
//! figures are printed and written to docs/BENCHMARKS.md (`page`).

// A benchmark's results are its output.
#![allow(clippy::print_stdout)]

#[allow(dead_code)]
#[path = "../tests/cli/fake.rs"]
mod fake;

#[path = "run/basics.rs"]
mod basics;

#[path = "run/bench.rs"]
mod bench;

#[path = "run/faster.rs"]
mod faster;

#[path = "run/fleet.rs"]
mod fleet;

#[path = "run/hot.rs"]
mod hot;

#[path = "run/packing.rs"]
mod packing;

#[path = "run/page.rs"]
mod page;

#[path = "../tests/pg/server.rs"]
mod pg;

use std::path::Path;
use std::time::Duration;

use bench::{agent_ids, big_patch, mib, ms, Bench, KEY};

fn main() {
    // The linker's list of the functions a run executes (`build.rs`).
    if let Some(path) = std::env::var_os("BSU_BENCH_HOT_SYMBOLS") {
        hot::write(Path::new(&path));
        return;
    }
    // `cargo bench -- --filter` style arguments are accepted and ignored.
    let latency = Duration::from_millis(200);
    let basics = basics::measure(latency);
    let packing = packing::measure();
    let eval = packing::eval_bench();
    let one = faster::one_prompt(latency);
    let wide = faster::wide_panel(latency);
    // Interleaved, the median wall time of five each (one run varied by
    // tens of milliseconds); cost and tokens are the same every run.
    let (mut primed, mut flat) = (Vec::new(), Vec::new());
    for _ in 0..5 {
        primed.push(faster::fan_out_cost(latency, "auto"));
        flat.push(faster::fan_out_cost(latency, "off"));
    }
    let median_wall = |runs: &mut Vec<(Duration, f64, u64)>| {
        runs.sort_by_key(|r| r.0);
        runs[runs.len() / 2]
    };
    page::write(&page::Figures {
        latency,
        basics,
        packing,
        eval,
        one,
        wide,
        primed: median_wall(&mut primed),
        flat: median_wall(&mut flat),
        on_pg: fleet::one_agent(latency, 41),
        sixty_four: fleet::sixty_four(latency),
    });
}
