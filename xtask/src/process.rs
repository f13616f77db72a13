//! Running external tools: echo the command, stream its output live (CI logs show progress)
//! while keeping a copy to count tests from.
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

/// A finished command: its exit status and everything it printed (stdout and stderr).
pub struct Captured {
    pub status: ExitStatus,
    pub output: String,
}

/// `program arg arg` for logs.
pub fn describe(cmd: &Command) -> String {
    let mut parts = vec![cmd.get_program().to_string_lossy().into_owned()];
    parts.extend(cmd.get_args().map(|a| a.to_string_lossy().into_owned()));
    parts.join(" ")
}

/// Runs `cmd`, streaming its output through and capturing it. Errors if it cannot start or
/// runs longer than `limit` (then it is killed: a hung browser must not hang CI).
pub fn stream(cmd: &mut Command, limit: Duration) -> Result<Captured> {
    println!("$ {}", describe(cmd));
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("starting {}", cmd.get_program().to_string_lossy()))?;
    let captured = Arc::new(Mutex::new(String::new()));
    let stdout = child
        .stdout
        .take()
        .map(|s| pump(s, captured.clone(), false));
    let stderr = child.stderr.take().map(|s| pump(s, captured.clone(), true));
    let deadline = Instant::now() + limit;
    // Polling keeps this free of platform signal code; a 200 ms lag is irrelevant here.
    let status = loop {
        if let Some(status) = child.try_wait().context("waiting for a child process")? {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            // Readers are left detached: a grandchild may still hold the pipes open.
            bail!(
                "`{}` did not finish within {} minutes and was stopped",
                describe(cmd),
                limit.as_secs() / 60
            );
        }
        thread::sleep(Duration::from_millis(200));
    };
    for reader in [stdout, stderr].into_iter().flatten() {
        let _ = reader.join();
    }
    let output = captured.lock().map(|s| s.clone()).unwrap_or_default();
    Ok(Captured { status, output })
}

fn pump(
    source: impl Read + Send + 'static,
    sink: Arc<Mutex<String>>,
    to_stderr: bool,
) -> thread::JoinHandle<()> {
    thread::spawn(move || {
        for line in BufReader::new(source).split(b'\n') {
            let Ok(line) = line else { break };
            let text = String::from_utf8_lossy(&line);
            if to_stderr {
                let mut err = std::io::stderr().lock();
                let _ = writeln!(err, "{text}");
            } else {
                let mut out = std::io::stdout().lock();
                let _ = writeln!(out, "{text}");
                let _ = out.flush();
            }
            if let Ok(mut all) = sink.lock() {
                all.push_str(&text);
                all.push('\n');
            }
        }
    })
}

/// Runs `cmd` with inherited output and fails unless it succeeds.
pub fn run(cmd: &mut Command) -> Result<()> {
    println!("$ {}", describe(cmd));
    let status = cmd
        .status()
        .with_context(|| format!("starting {}", cmd.get_program().to_string_lossy()))?;
    if !status.success() {
        bail!("`{}` failed ({status})", describe(cmd));
    }
    Ok(())
}

/// The first line of `program --version`-style output, or None if it cannot run.
pub fn version_of(program: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(program).args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .next()
        .map(|l| l.trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_captures_stdout_and_stderr() {
        let run = stream(
            Command::new("sh").args(["-c", "echo to-out; echo to-err >&2; exit 3"]),
            Duration::from_secs(60),
        )
        .unwrap();
        assert_eq!(run.status.code(), Some(3));
        assert!(
            run.output.contains("to-out\n") && run.output.contains("to-err\n"),
            "{}",
            run.output
        );
    }

    #[test]
    fn stream_stops_a_command_that_overruns_its_limit() {
        let start = Instant::now();
        let err = stream(Command::new("sleep").arg("30"), Duration::from_millis(300))
            .err()
            .unwrap();
        assert!(err.to_string().contains("did not finish"), "{err}");
        assert!(start.elapsed() < Duration::from_secs(10));
    }
}
