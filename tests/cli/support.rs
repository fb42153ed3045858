//! The `Project` builder: a temporary bsu project, a hermetic environment,
//! and the binary under test.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use tempfile::TempDir;

pub struct Project {
    dir: TempDir,
    env: Vec<(String, String)>,
}

thread_local! {
    /// The state server this test's projects share, when it runs on PostgreSQL.
    static SHARED: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

/// Run this test's projects on a fresh database of the test PostgreSQL
/// cluster (`BSU_STATE_URL`): false when there is no cluster (never in CI).
pub fn on_postgres() -> bool {
    match crate::pg::server() {
        Some(server) => {
            let url = server.fresh().1;
            SHARED.with(|s| *s.borrow_mut() = Some(url));
            true
        }
        None => false,
    }
}

/// As `on_postgres`, through the cluster's pooler (PgBouncer in session
/// mode): false without one (never in CI).
pub fn on_pooler() -> bool {
    let Some(server) = crate::pg::server() else {
        return false;
    };
    let Some(pooler) = server.pooler() else {
        return false;
    };
    let (db, _) = server.fresh();
    SHARED.with(|s| *s.borrow_mut() = Some(pooler.url(&db)));
    true
}

/// Everything the state holds, as text: the SQLite files in `p`'s state
/// directory, or the whole database on a server.
pub fn state_text(p: &Project) -> String {
    if let Some(url) = shared_url() {
        let db = url.rsplit_once('/').unwrap().1;
        return crate::pg::server().unwrap().dump(db);
    }
    let mut stored = Vec::new();
    for e in std::fs::read_dir(p.path().join(".state")).unwrap() {
        stored.extend(std::fs::read(e.unwrap().path()).unwrap_or_default());
    }
    String::from_utf8_lossy(&stored).into_owned()
}

/// The state URL this test's projects share, if any.
pub fn shared_url() -> Option<String> {
    SHARED.with(|s| s.borrow().clone())
}

/// Each named test (a plain `fn`) run twice: on SQLite, and on PostgreSQL.
#[macro_export]
macro_rules! on_both {
    ($($name:ident),* $(,)?) => {
        mod on_sqlite {
            $( #[test] fn $name() { super::$name() } )*
        }
        mod on_postgres {
            $( #[test] fn $name() {
                if $crate::support::on_postgres() { super::$name() }
            } )*
        }
    };
}

/// The repository's own example project (events.toml, agents/, knowledge/).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

impl Project {
    /// An empty folder.
    pub fn empty() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("bsu-test")
            .tempdir()
            .unwrap();
        let env = shared_url()
            .map(|u| vec![("BSU_STATE_URL".to_string(), u)])
            .unwrap_or_default();
        Project { dir, env }
    }

    /// A copy of the repository's example project.
    pub fn example() -> Self {
        let p = Project::empty();
        let root = repo_root();
        std::fs::copy(root.join("events.toml"), p.path().join("events.toml")).unwrap();
        for sub in ["agents", "knowledge"] {
            std::fs::create_dir_all(p.path().join(sub)).unwrap();
            for entry in std::fs::read_dir(root.join(sub)).unwrap() {
                let entry = entry.unwrap();
                std::fs::copy(entry.path(), p.path().join(sub).join(entry.file_name())).unwrap();
            }
        }
        p
    }

    /// A minimal valid project: the given events.toml and agents that answer to each id.
    pub fn with_agents(events: &str, agents: &[&str]) -> Self {
        let mut p = Project::empty().file("events.toml", events);
        for id in agents {
            p = p.agent(id, "");
        }
        p
    }

    /// Add `agents/<id>.toml` with a name, instructions and `extra` TOML lines.
    pub fn agent(self, id: &str, extra: &str) -> Self {
        let text = format!(
            "name = \"Agent {id}\"\ninstructions = \"You are {id}. Reply with the verdict JSON.\"\n{extra}\n"
        );
        self.file(&format!("agents/{id}.toml"), &text)
    }

    pub fn file(self, rel: &str, content: &str) -> Self {
        self.bytes(rel, content.as_bytes())
    }

    pub fn bytes(self, rel: &str, content: &[u8]) -> Self {
        let path = self.path().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
        self
    }

    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.path().join(rel)).unwrap()
    }

    /// `bsu` in this project with an environment holding only PATH, a private
    /// HOME and state dir, and whatever `env` added.
    pub fn bsu(&self) -> Command {
        Command::from_std(self.command())
    }

    /// The same as a plain `std::process::Command`, for tests that signal the process.
    pub fn command(&self) -> std::process::Command {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_bsu"));
        cmd.current_dir(self.path())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.path().join(".home"))
            .env("BSU_STATE_DIR", self.path().join(".state"));
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd
    }

    /// Run `bsu ARGS`, returning (exit code, stdout, stderr).
    pub fn run(&self, args: &[&str]) -> (i32, String, String) {
        let out = self.bsu().args(args).output().unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// Run and parse stdout as JSON.
    pub fn json(&self, args: &[&str]) -> (i32, serde_json::Value) {
        let (code, stdout, stderr) = self.run(args);
        let value = serde_json::from_str(&stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{stdout}\nstderr:\n{stderr}"));
        (code, value)
    }
}

/// The key tests send; it must never show up in any output or file.
pub const TEST_KEY: &str = "sk-test-SECRETKEY-0123456789abcdef";

impl Project {
    /// Point the built-in OpenAI provider at `fake`, with a key.
    pub fn serve(self, fake: &crate::fake::Fake) -> Self {
        self.env("OPENAI_BASE_URL", &fake.url)
            .env("OPENAI_API_KEY", TEST_KEY)
    }

    /// Files in `reports/`, sorted.
    pub fn reports(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.path().join("reports"))
            .map(|d| {
                d.filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    }

    /// `reports/latest.json`, parsed.
    pub fn latest(&self) -> serde_json::Value {
        serde_json::from_str(&self.read("reports/latest.json")).unwrap()
    }

    /// Every file under the project (reports, state, summaries), as text.
    pub fn all_text(&self) -> String {
        fn walk(dir: &Path, out: &mut String) {
            for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                let p = e.path();
                if p.is_dir() {
                    walk(&p, out);
                } else if let Ok(bytes) = std::fs::read(&p) {
                    out.push_str(&String::from_utf8_lossy(&bytes));
                }
            }
        }
        let mut out = String::new();
        walk(self.path(), &mut out);
        out
    }
}

/// Agent ids in a report, in order, with their statuses.
pub fn statuses(report: &serde_json::Value) -> Vec<(String, String)> {
    report["agents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["id"].as_str().unwrap().to_string(),
                a["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// One run of `bsu` and what it must come to, checked whole, as `just`'s
/// test builder does: the exit code, and stdout and stderr to the byte.
pub struct Expect<'a> {
    project: &'a Project,
    args: Vec<String>,
    status: i32,
    stdout: Option<String>,
    stderr: Option<String>,
}

impl Project {
    /// `bsu ARGS`, expecting exit 0 and, unless told, any output.
    pub fn expect(&self, args: &[&str]) -> Expect<'_> {
        Expect {
            project: self,
            args: args.iter().map(|a| a.to_string()).collect(),
            status: 0,
            stdout: None,
            stderr: None,
        }
    }
}

impl Expect<'_> {
    pub fn status(mut self, code: i32) -> Self {
        self.status = code;
        self
    }

    pub fn stdout(mut self, text: &str) -> Self {
        self.stdout = Some(text.to_string());
        self
    }

    pub fn stderr(mut self, text: &str) -> Self {
        self.stderr = Some(text.to_string());
        self
    }

    /// Run it; panics naming every way the run differed. Returns (stdout, stderr).
    pub fn run(self) -> (String, String) {
        let args: Vec<&str> = self.args.iter().map(String::as_str).collect();
        let (code, stdout, stderr) = self.project.run(&args);
        let mut wrong = Vec::new();
        if code != self.status {
            wrong.push(format!("exit code {code}, expected {}", self.status));
        }
        for (name, got, want) in [
            ("stdout", &stdout, &self.stdout),
            ("stderr", &stderr, &self.stderr),
        ] {
            if let Some(want) = want {
                if got != want {
                    wrong.push(format!("{name} was:\n{got}\n--- expected:\n{want}"));
                }
            }
        }
        assert!(
            wrong.is_empty(),
            "bsu {}:\n{}\n(stdout: {stdout:?}, stderr: {stderr:?})",
            args.join(" "),
            wrong.join("\n")
        );
        (stdout, stderr)
    }
}

/// Fixtures built once per test process and copied for each test that asks:
/// building a git repository takes a dozen processes, copying one takes
/// none. `build` makes the fixture in the folder it is given (an empty
/// project's) and returns what the tests need to know of it (commit ids).
pub fn fixture<T: Clone + Send + 'static>(
    key: &str,
    build: impl FnOnce(&Path) -> T,
) -> (Project, T) {
    use std::any::Any;
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    type Built = (PathBuf, Box<dyn Any + Send>);
    static BUILT: OnceLock<Mutex<HashMap<String, Built>>> = OnceLock::new();
    let mut built = BUILT
        .get_or_init(|| Mutex::new(HashMap::new()))
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    let (template, facts) = built.entry(key.to_string()).or_insert_with(|| {
        let dir = fixtures_dir().join(format!("{}", built_count()));
        std::fs::create_dir_all(&dir).unwrap();
        let facts = build(&dir);
        (dir, Box::new(facts))
    });
    let p = Project::empty();
    copy_tree(template, p.path());
    let facts = facts.downcast_ref::<T>().expect("one type per key").clone();
    (p, facts)
}

fn built_count() -> usize {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    N.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
}

/// This process's fixtures folder; those of test processes that have ended
/// are removed on first use.
fn fixtures_dir() -> PathBuf {
    static DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        let all = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("fixtures");
        if let Ok(entries) = std::fs::read_dir(&all) {
            for e in entries.flatten() {
                let pid = e.file_name().to_string_lossy().into_owned();
                if !Path::new("/proc").join(&pid).exists() {
                    let _ = std::fs::remove_dir_all(e.path());
                }
            }
        }
        all.join(std::process::id().to_string())
    })
    .clone()
}

/// Copy folders and regular files (a fixture holds nothing else).
fn copy_tree(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let (src, dst) = (entry.path(), to.join(entry.file_name()));
        if entry.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&dst).unwrap();
            copy_tree(&src, &dst);
        } else {
            std::fs::copy(&src, &dst).unwrap();
        }
    }
}

/// Agent `i`'s whole system prompt in a dry run's report: the shared part
/// (kept once, as `shared_prompt`) and its own, as it was sent.
pub fn system_prompt(report: &serde_json::Value, i: usize) -> String {
    let own = report["agents"][i]["prompt"]["system"]
        .as_str()
        .unwrap_or_default();
    match report["shared_prompt"].as_str() {
        Some(shared) if own.starts_with("=== Your role ===") => format!("{shared}\n{own}"),
        _ => own.to_string(),
    }
}
