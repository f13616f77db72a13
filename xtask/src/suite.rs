//! `cargo xtask test`: every test the project has, as a list of steps. Each step streams its
//! runner's output, its passed/failed counts are read from that output, a failing step does not
//! stop the others, and the run ends with a table and one line `N passed, N failed`.
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use anyhow::Result;
use xtask::test_counts::{self, Counts};

use crate::demo;
use crate::package;
use crate::process::{self, Captured};
use crate::scratch::{self, Scratch};
use crate::setup::{self, CHROMEDRIVER, CHROMIUM};
use crate::workspace::Workspace;

/// The flags this machine's closed network needs (without them chromium keeps dialling out).
const CHROMIUM_ARGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
];
const BROWSER_TESTS: &str = "tests/browser";
/// Longest a runner may take before it is stopped (cold builds on 2 cores included).
const CARGO_LIMIT: Duration = Duration::from_secs(45 * 60);
const BROWSER_LIMIT: Duration = Duration::from_secs(15 * 60);
/// Longest one browser test (node applies it to each test file too) may take; a hung page fails
/// its test instead of hanging the whole run.
const BROWSER_TEST_TIMEOUT_MS: u32 = 300_000;

struct Step {
    name: &'static str,
    run: fn(&Ctx) -> Outcome,
}

/// The steps, in order. Adding a step is one line here plus its function below.
const STEPS: &[Step] = &[
    Step {
        name: "setup",
        run: setup_step,
    },
    Step {
        name: "cargo test (native)",
        run: native_tests,
    },
    Step {
        name: "cargo test (wasm, headless chromium)",
        run: wasm_tests,
    },
    Step {
        name: "package + validate",
        run: package_step,
    },
    Step {
        name: "browser tests (node --test)",
        run: browser_tests,
    },
    Step {
        name: "demo --check",
        run: demo_check,
    },
];

struct Ctx<'a> {
    ws: &'a Workspace,
    scratch: Scratch,
}

enum Status {
    Passed,
    Failed,
    /// The step could not run or its runner failed without reporting a failed test (a build
    /// error, a crash); counted as one failure.
    Error(String),
    Skipped(String),
}

struct Outcome {
    counts: Counts,
    status: Status,
    /// Lines for the summary table under the step's row (e.g. tests that were skipped, and why).
    notes: Vec<String>,
}

impl Outcome {
    fn error(e: impl std::fmt::Display) -> Outcome {
        Outcome {
            counts: Counts::default(),
            status: Status::Error(e.to_string()),
            notes: Vec::new(),
        }
    }

    /// Judges a runner from its exit status and the counts read from its output.
    fn of(run: Result<Captured>, parse: fn(&str) -> Counts) -> Outcome {
        let run = match run {
            Ok(run) => run,
            Err(e) => return Outcome::error(format!("{e:#}")),
        };
        let counts = parse(&run.output);
        let status = match (run.status.success(), counts.failed) {
            (true, 0) => Status::Passed,
            (_, failed) if failed > 0 => Status::Failed,
            (false, _) => Status::Error(format!("runner exited with {}", run.status)),
            (true, _) => Status::Failed,
        };
        Outcome {
            counts,
            status,
            notes: Vec::new(),
        }
    }

    /// This run followed by `next` as one step: counts add up, the worse status wins.
    fn and(self, next: Outcome) -> Outcome {
        let status = match (self.status, next.status) {
            (Status::Error(a), Status::Error(b)) => Status::Error(format!("{a}; {b}")),
            (Status::Error(e), _) | (_, Status::Error(e)) => Status::Error(e),
            (Status::Failed, _) | (_, Status::Failed) => Status::Failed,
            (Status::Skipped(_), other) | (other, Status::Skipped(_)) => other,
            (Status::Passed, Status::Passed) => Status::Passed,
        };
        let mut notes = self.notes;
        notes.extend(next.notes);
        Outcome {
            counts: Counts {
                passed: self.counts.passed + next.counts.passed,
                failed: self.counts.failed + next.counts.failed,
            },
            status,
            notes,
        }
    }

    /// Failures including one per step that errored.
    fn failures(&self) -> u64 {
        self.counts.failed + u64::from(matches!(self.status, Status::Error(_)))
    }
}

pub fn run(ws: &Workspace) -> Result<ExitCode> {
    let started = Instant::now();
    let ctx = Ctx {
        ws,
        scratch: Scratch::new(&ws.root, "test")?,
    };
    let mut rows: Vec<(&str, Outcome, Duration)> = Vec::new();
    for step in STEPS {
        println!("\n==> {}", step.name);
        let start = Instant::now();
        let outcome = (step.run)(&ctx);
        if let Status::Error(why) = &outcome.status {
            println!("==> {}: could not run: {why}", step.name);
        }
        rows.push((step.name, outcome, start.elapsed()));
    }
    drop(ctx);

    println!(
        "\n{:<40} {:<10} {:>7} {:>7} {:>8}",
        "step", "result", "passed", "failed", "time"
    );
    for (name, outcome, took) in &rows {
        let result = match &outcome.status {
            Status::Passed => "ok",
            Status::Failed => "FAILED",
            Status::Error(_) => "ERROR",
            Status::Skipped(_) => "skipped",
        };
        println!(
            "{name:<40} {result:<10} {:>7} {:>7} {:>7.1}s",
            outcome.counts.passed,
            outcome.failures(),
            took.as_secs_f64()
        );
        match &outcome.status {
            Status::Error(why) | Status::Skipped(why) => println!("    {why}"),
            _ => {}
        }
        for note in &outcome.notes {
            println!("    {note}");
        }
    }
    println!("total time {:.1}s", started.elapsed().as_secs_f64());
    let passed: u64 = rows.iter().map(|(_, o, _)| o.counts.passed).sum();
    let failed: u64 = rows.iter().map(|(_, o, _)| o.failures()).sum();
    println!("{passed} passed, {failed} failed");
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn setup_step(ctx: &Ctx) -> Outcome {
    match setup::run(ctx.ws) {
        Ok(()) => Outcome {
            counts: Counts::default(),
            status: Status::Passed,
            notes: Vec::new(),
        },
        Err(e) => Outcome::error(format!("{e:#}")),
    }
}

/// Every native test on the default SQLite backend, then the middleware's Postgres tests against
/// a throwaway cluster: the `#[ignore]`d lib tests (the Postgres store tests) and the
/// middleware's integration tests again on Postgres (`MIDDLEWARE_TEST_POSTGRES_URL`). Without a
/// cluster those are reported as skipped, in the log and under the step in the summary.
fn native_tests(ctx: &Ctx) -> Outcome {
    let mut cmd = ctx.ws.cargo();
    cmd.args(["test", "--workspace", "--exclude", "zendesk-app"]);
    let mut outcome = Outcome::of(
        process::stream(&mut cmd, CARGO_LIMIT),
        test_counts::from_libtest,
    );
    let started = Instant::now();
    let cluster = match postgres::Cluster::start(&ctx.scratch) {
        Ok(cluster) => cluster,
        Err(e) => {
            let why = format!("Postgres tests SKIPPED: no throwaway PostgreSQL cluster: {e:#}");
            println!("==> {why}");
            outcome.notes.push(why);
            return outcome;
        }
    };
    println!(
        "==> PostgreSQL cluster on {} ready in {:.1}s",
        cluster.url(),
        started.elapsed().as_secs_f64()
    );
    // The package selection of the e2e tests' (and the demo's) `cargo build -p sandbox -p
    // middleware`: cargo resolves features per selection, and any other one (`--workspace`,
    // `-p middleware`) would rebuild the TLS stack (~10 s on 2 cores) the e2e build just made.
    let selection = ["test", "-p", "sandbox", "-p", "middleware"];
    let mut store = ctx.ws.cargo();
    store
        .args(selection)
        .args(["--lib", "--", "--ignored"])
        .env("MIDDLEWARE_TEST_POSTGRES_URL", cluster.url());
    let store = Outcome::of(
        process::stream(&mut store, CARGO_LIMIT),
        test_counts::from_libtest,
    );
    outcome = outcome.and(
        if matches!(store.status, Status::Passed) && store.counts.passed == 0 {
            Outcome::error(
                "no Postgres store test ran (they are the middleware's #[ignore]d lib tests)",
            )
        } else {
            store
        },
    );
    let mut integration = ctx.ws.cargo();
    integration.args(selection);
    for name in middleware_integration_tests(&ctx.ws.root) {
        integration.args(["--test", &name]);
    }
    integration.env("MIDDLEWARE_TEST_POSTGRES_URL", cluster.url());
    outcome = outcome.and(Outcome::of(
        process::stream(&mut integration, CARGO_LIMIT),
        test_counts::from_libtest,
    ));
    // Scale-out: three middleware processes on this cluster, one killed mid-run (issue 12).
    let mut multi = ctx.ws.cargo();
    multi
        .args([
            "test",
            "-p",
            "e2e",
            "--test",
            "multi_instance",
            "--",
            "--ignored",
        ])
        .env("MIDDLEWARE_TEST_POSTGRES_URL", cluster.url());
    outcome = outcome.and(Outcome::of(
        process::stream(&mut multi, CARGO_LIMIT),
        test_counts::from_libtest,
    ));
    drop(cluster);
    let note = format!(
        "middleware Postgres tests (cluster start, tests, stop): {:.1}s",
        started.elapsed().as_secs_f64()
    );
    println!("==> {note}");
    outcome.notes.push(note);
    outcome
}

/// `middleware/tests/NAME.rs` -> `NAME`: the middleware's integration tests, which run on
/// Postgres when `MIDDLEWARE_TEST_POSTGRES_URL` is set.
fn middleware_integration_tests(root: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(root.join("middleware/tests"))
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name().into_string().ok()?;
            name.strip_suffix(".rs").map(str::to_string)
        })
        .collect();
    names.sort();
    names
}

/// wasm-bindgen-test in headless chromium: `.cargo/config.toml` makes wasm-bindgen-test-runner
/// the runner of wasm32 binaries; it drives chromium through chromedriver with our flags.
fn wasm_tests(ctx: &Ctx) -> Outcome {
    let webdriver_json = ctx.scratch.path().join("webdriver.json");
    let caps =
        serde_json::json!({ "goog:chromeOptions": { "binary": CHROMIUM, "args": CHROMIUM_ARGS } });
    if let Err(e) = std::fs::write(&webdriver_json, caps.to_string()) {
        return Outcome::error(format!("writing {}: {e}", webdriver_json.display()));
    }
    let mut cmd = ctx.ws.cargo();
    cmd.args([
        "test",
        "--target",
        setup::WASM_TARGET,
        "-p",
        "app-ui",
        "-p",
        "zendesk-app",
    ])
    .env("CHROMEDRIVER", CHROMEDRIVER)
    .env("WASM_BINDGEN_TEST_WEBDRIVER_JSON", &webdriver_json)
    .env("WASM_BINDGEN_USE_BROWSER", "1")
    .env("WASM_BINDGEN_TEST_TIMEOUT", "120")
    .env("HOME", ctx.scratch.home())
    .env("TMPDIR", ctx.scratch.tmp())
    .envs(scratch::tool_homes());
    Outcome::of(
        process::stream(&mut cmd, CARGO_LIMIT),
        test_counts::from_libtest,
    )
}

fn package_step(ctx: &Ctx) -> Outcome {
    match package::run(ctx.ws) {
        Ok(()) => Outcome {
            counts: Counts {
                passed: 1,
                failed: 0,
            },
            status: Status::Passed,
            notes: Vec::new(),
        },
        Err(e) if e.downcast_ref::<package::ValidationFailed>().is_some() => Outcome {
            counts: Counts {
                passed: 0,
                failed: 1,
            },
            status: Status::Failed,
            notes: Vec::new(),
        },
        Err(e) => Outcome::error(format!("{e:#}")),
    }
}

fn browser_tests(ctx: &Ctx) -> Outcome {
    let mut files = Vec::new();
    find_tests(&ctx.ws.root.join(BROWSER_TESTS), &mut files);
    files.sort();
    if files.is_empty() {
        return Outcome {
            counts: Counts::default(),
            status: Status::Skipped(format!("no *.test.mjs files in {BROWSER_TESTS}/")),
            notes: Vec::new(),
        };
    }
    // The Zendesk-shaped tests run the simulated appliance (`sandbox serve`) and the admin test
    // the middleware as real processes (the demo's package selection: no feature rebuild).
    let mut build = ctx.ws.cargo();
    build.args(["build", "--quiet", "-p", "sandbox", "-p", "middleware"]);
    match process::stream(&mut build, CARGO_LIMIT) {
        Ok(run) if run.status.success() => {}
        Ok(_) => return Outcome::error("building the sandbox for the browser tests failed"),
        Err(e) => return Outcome::error(format!("building the sandbox: {e}")),
    }
    let mut cmd = Command::new("node");
    cmd.args([
        "--test",
        "--test-reporter=tap",
        &format!("--test-timeout={BROWSER_TEST_TIMEOUT_MS}"),
    ])
    .args(&files)
    .current_dir(&ctx.ws.root)
    .envs(browser_env(ctx.ws, &ctx.scratch));
    Outcome::of(
        process::stream(&mut cmd, BROWSER_LIMIT),
        test_counts::from_tap,
    )
}

/// Starts the whole product against the simulators and checks it end to end.
fn demo_check(ctx: &Ctx) -> Outcome {
    if !demo::IMPLEMENTED {
        return Outcome {
            counts: Counts::default(),
            status: Status::Skipped("cargo xtask demo is not implemented yet".into()),
            notes: Vec::new(),
        };
    }
    xtask_step(ctx, &["demo", "--check"], CARGO_LIMIT)
}

/// Runs another `cargo xtask` command as a child (its own process, so a crash or hang in it
/// cannot take the orchestrator down); it counts as one test, passed if it exits 0.
fn xtask_step(ctx: &Ctx, args: &[&str], limit: Duration) -> Outcome {
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(e) => return Outcome::error(format!("locating the xtask binary: {e}")),
    };
    let mut cmd = Command::new(exe);
    cmd.args(args).current_dir(&ctx.ws.root);
    match process::stream(&mut cmd, limit) {
        Ok(run) if run.status.success() => Outcome {
            counts: Counts {
                passed: 1,
                failed: 0,
            },
            status: Status::Passed,
            notes: Vec::new(),
        },
        Ok(_) => Outcome {
            counts: Counts {
                passed: 0,
                failed: 1,
            },
            status: Status::Failed,
            notes: Vec::new(),
        },
        Err(e) => Outcome::error(format!("{e:#}")),
    }
}

fn find_tests(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            find_tests(&path, out);
        } else if path.to_string_lossy().ends_with(".test.mjs") {
            out.push(path);
        }
    }
}

/// The environment of browser tests and benchmarks (see tests/browser/lib/harness.mjs).
pub fn browser_env(ws: &Workspace, scratch: &Scratch) -> Vec<(&'static str, OsString)> {
    let mut env: Vec<(&'static str, OsString)> = vec![
        ("RSZ_DIST_APP", ws.dist_app().into()),
        ("RSZ_CHROMIUM", CHROMIUM.into()),
        (
            "RSZ_ARTIFACTS",
            ws.target_dir.join("browser-artifacts").into(),
        ),
        ("RSZ_SCRATCH", scratch.path().into()),
        // The admin browser test starts the sandbox and middleware binaries built here (above).
        ("RSZ_TARGET_DIR", ws.target_dir.clone().into()),
        // The sandbox appliance the session key tests talk to (built above).
        (
            "RSZ_SANDBOX_BIN",
            ws.target_dir.join("debug").join("sandbox").into(),
        ),
        ("HOME", scratch.home().into()),
        ("TMPDIR", scratch.tmp().into()),
    ];
    env.extend(
        scratch::tool_homes()
            .into_iter()
            .map(|(k, v)| (k, v.into_os_string())),
    );
    env
}

/// A throwaway PostgreSQL cluster for the middleware's Postgres tests.
mod postgres {
    use std::net::TcpListener;
    use std::path::PathBuf;
    use std::process::Command;

    use anyhow::{bail, Context, Result};

    use crate::process;
    use crate::scratch::Scratch;
    use crate::setup;

    /// The Debian server's system user; root may not run `initdb` or `postgres` itself.
    const SERVER_USER: &str = "postgres";
    /// Role and database the tests connect as; the role may create the per-test databases.
    const TEST_ROLE: &str = "middleware";

    /// Stopped and removed when dropped, whatever happened in between.
    pub struct Cluster {
        bin: PathBuf,
        dir: PathBuf,
        as_server_user: bool,
        url: String,
    }

    impl Cluster {
        /// `initdb` into `<scratch>/postgres`, start on a free loopback port with the socket in
        /// the same folder (trust authentication: loopback only, gone after the run), and
        /// create the test role and database.
        pub fn start(scratch: &Scratch) -> Result<Cluster> {
            let bin = setup::postgres_bin_dir().context(
                "PostgreSQL is not installed (`cargo xtask setup` installs Debian's postgresql)",
            )?;
            let dir = scratch.path().join("postgres");
            std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
            let as_server_user = setup::is_root();
            if as_server_user {
                process::run(Command::new("chown").arg(SERVER_USER).arg(&dir))?;
            }
            // From here on, Drop stops and removes whatever was started.
            let mut cluster = Cluster {
                bin,
                dir,
                as_server_user,
                url: String::new(),
            };
            let data = cluster.data();
            cluster.run(
                "initdb",
                &[
                    "-D".as_ref(),
                    data.as_os_str(),
                    "-U".as_ref(),
                    SERVER_USER.as_ref(),
                    "--auth=trust".as_ref(),
                    "--encoding=UTF8".as_ref(),
                    "--no-sync".as_ref(),
                ],
            )?;
            let port = free_port()?;
            let options = format!(
                "-c listen_addresses=127.0.0.1 -p {port} -k {} -c fsync=off -c synchronous_commit=off -c full_page_writes=off",
                cluster.dir.display()
            );
            let log = cluster.dir.join("server.log");
            let started = cluster.run(
                "pg_ctl",
                &[
                    "-D".as_ref(),
                    data.as_os_str(),
                    "-l".as_ref(),
                    log.as_os_str(),
                    "-o".as_ref(),
                    options.as_ref(),
                    "-w".as_ref(),
                    "-t".as_ref(),
                    "60".as_ref(),
                    "start".as_ref(),
                ],
            );
            if let Err(e) = started {
                let tail = std::fs::read_to_string(&log).unwrap_or_default();
                bail!("{e:#}\n{}", tail.trim_end());
            }
            let port_arg = port.to_string();
            let psql = |sql: &str| {
                cluster.run(
                    "psql",
                    &[
                        "-h".as_ref(),
                        cluster.dir.as_os_str(),
                        "-p".as_ref(),
                        port_arg.as_ref(),
                        "-U".as_ref(),
                        SERVER_USER.as_ref(),
                        "-d".as_ref(),
                        "postgres".as_ref(),
                        "-v".as_ref(),
                        "ON_ERROR_STOP=1".as_ref(),
                        "-qc".as_ref(),
                        sql.as_ref(),
                    ],
                )
            };
            psql(&format!("CREATE ROLE {TEST_ROLE} LOGIN CREATEDB"))?;
            psql(&format!("CREATE DATABASE {TEST_ROLE} OWNER {TEST_ROLE}"))?;
            cluster.url = format!("postgres://{TEST_ROLE}@127.0.0.1:{port}/{TEST_ROLE}");
            Ok(cluster)
        }

        /// `postgres://middleware@127.0.0.1:PORT/middleware`
        pub fn url(&self) -> &str {
            &self.url
        }

        fn data(&self) -> PathBuf {
            self.dir.join("data")
        }

        /// Runs one of the server's programs as its system user (when we are root).
        fn command(&self, program: &str) -> Command {
            let path = self.bin.join(program);
            if self.as_server_user {
                let mut cmd = Command::new("runuser");
                cmd.args(["-u", SERVER_USER, "--"]).arg(path);
                cmd
            } else {
                Command::new(path)
            }
        }

        fn run(&self, program: &str, args: &[&std::ffi::OsStr]) -> Result<()> {
            // The server user cannot read the caller's working directory in every setup.
            process::run(self.command(program).args(args).current_dir(&self.dir))
        }
    }

    impl Drop for Cluster {
        fn drop(&mut self) {
            let data = self.data();
            if data.join("postmaster.pid").exists() {
                let stopped = self.run(
                    "pg_ctl",
                    &[
                        "-D".as_ref(),
                        data.as_os_str(),
                        "-m".as_ref(),
                        "immediate".as_ref(),
                        "-w".as_ref(),
                        "stop".as_ref(),
                    ],
                );
                if let Err(e) = stopped {
                    println!(
                        "==> could not stop the PostgreSQL cluster in {}: {e:#}",
                        self.dir.display()
                    );
                }
            }
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }

    /// A port nobody listens on right now (the server binds it a moment later).
    fn free_port() -> Result<u16> {
        let listener = TcpListener::bind("127.0.0.1:0").context("finding a free port")?;
        Ok(listener.local_addr()?.port())
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::process::ExitStatusExt;
    use std::process::ExitStatus;

    use super::*;

    fn judge(code: i32, output: &str) -> Outcome {
        let run = Captured {
            status: ExitStatus::from_raw(code << 8),
            output: output.into(),
        };
        Outcome::of(Ok(run), test_counts::from_libtest)
    }

    #[test]
    fn a_clean_run_passes_with_its_counts() {
        let outcome = judge(0, "test result: ok. 4 passed; 0 failed; 0 ignored");
        assert!(matches!(outcome.status, Status::Passed));
        assert_eq!((outcome.counts.passed, outcome.failures()), (4, 0));
    }

    #[test]
    fn failed_tests_are_counted_as_reported() {
        let outcome = judge(101, "test result: FAILED. 3 passed; 2 failed; 0 ignored");
        assert!(matches!(outcome.status, Status::Failed));
        assert_eq!((outcome.counts.passed, outcome.failures()), (3, 2));
    }

    #[test]
    fn a_runner_that_fails_without_failed_tests_counts_as_one_failure() {
        let outcome = judge(101, "error[E0308]: mismatched types");
        assert!(matches!(outcome.status, Status::Error(_)));
        assert_eq!((outcome.counts.passed, outcome.failures()), (0, 1));
    }

    #[test]
    fn a_runner_that_cannot_start_counts_as_one_failure() {
        let outcome = Outcome::of(
            Err(anyhow::anyhow!("no such program")),
            test_counts::from_libtest,
        );
        assert_eq!(outcome.failures(), 1);
    }

    #[test]
    fn middleware_integration_tests_are_found_by_file_name() {
        let ws = Workspace::locate().unwrap();
        let names = middleware_integration_tests(&ws.root);
        for expected in ["faults", "sessions"] {
            assert!(names.iter().any(|n| n == expected), "{names:?}");
        }
        assert!(
            !names.iter().any(|n| n == "common"),
            "a folder, not a test: {names:?}"
        );
    }

    #[test]
    fn runs_joined_into_one_step_add_up_and_keep_the_worse_status() {
        let sqlite = judge(0, "test result: ok. 10 passed; 0 failed; 0 ignored");
        let postgres = judge(101, "test result: FAILED. 6 passed; 1 failed; 0 ignored");
        let joined = sqlite.and(postgres);
        assert!(matches!(joined.status, Status::Failed));
        assert_eq!((joined.counts.passed, joined.failures()), (16, 1));
        let broken = judge(0, "test result: ok. 2 passed; 0 failed").and(judge(101, "error: x"));
        assert!(matches!(broken.status, Status::Error(_)));
        assert_eq!((broken.counts.passed, broken.failures()), (2, 1));
    }

    /// The cluster serves on loopback while it lives and leaves nothing running or on disk.
    #[test]
    fn throwaway_postgres_cluster_starts_and_is_gone_after_drop() {
        if setup::postgres_bin_dir().is_none() {
            println!("PostgreSQL is not installed; nothing to check");
            return;
        }
        let root = std::env::temp_dir().join(format!("xtask-pg-{}", std::process::id()));
        let scratch = Scratch::new(&root, "pgtest").unwrap();
        let cluster = postgres::Cluster::start(&scratch).unwrap();
        let address = cluster.url().split(['@', '/']).nth(3).unwrap();
        let port: u16 = address
            .strip_prefix("127.0.0.1:")
            .expect("loopback")
            .parse()
            .unwrap();
        assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_ok());
        let dir = scratch.path().join("postgres");
        assert!(dir.join("data").is_dir());
        drop(cluster);
        assert!(!dir.exists(), "cluster folder removed");
        assert!(
            std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
            "server stopped"
        );
        drop(scratch);
        let _ = std::fs::remove_dir_all(&root);
    }
}
