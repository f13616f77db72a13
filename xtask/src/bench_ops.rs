//! The middleware's side of `cargo xtask bench` (issue 12): runs `benches/ops.rs` and
//! `benches/report.rs` of the middleware, writes `bench/results.json` with the machine it ran
//! on, prints a table and checks the budgets.

use std::time::Duration;

use anyhow::{bail, Context, Result};
use serde_json::{json, Value};

use crate::process;
use crate::workspace::Workspace;

/// 64 senders on SQLite: at least this many events per second...
const MIN_64_SENDERS_PER_S: f64 = 20_000.0;
/// ...with a p99 of at most this.
const MAX_64_SENDERS_P99_MS: f64 = 20.0;
/// One sender: at least this fraction of the bare handler plus one fsync.
const MIN_1_SENDER_VS_FSYNC: f64 = 0.5;
/// Backlog drain: at least this fraction of the Zendesk budget, and no 429.
const MIN_DRAIN_FRACTION: f64 = 0.9;

fn machine() -> Value {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines().find_map(|l| {
                l.strip_prefix("model name")
                    .map(|v| v.trim_start_matches([' ', '\t', ':']).to_string())
            })
        })
        .unwrap_or_else(|| "unknown".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_string())
        .unwrap_or_default();
    let mem_kib = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .unwrap_or(0);
    json!({"cpu": cpu, "cores": cores, "memory_gib": (mem_kib as f64 / 1048576.0 * 10.0).round() / 10.0, "kernel": kernel})
}

/// `report: ... total 123.4 ms` from benches/report.rs.
fn report_total_ms(output: &str) -> Option<f64> {
    let line = output.lines().find(|l| l.starts_with("report:"))?;
    let rest = line.split("total ").nth(1)?;
    rest.split_whitespace().next()?.parse().ok()
}

pub fn run(ws: &Workspace) -> Result<bool> {
    let mut cmd = ws.cargo();
    cmd.args([
        "bench",
        "-p",
        "middleware",
        "--bench",
        "ops",
        "--bench",
        "report",
    ]);
    let run = process::stream(&mut cmd, Duration::from_secs(45 * 60))?;
    if !run.status.success() {
        bail!("cargo bench -p middleware failed ({})", run.status);
    }
    let ops: Value = run
        .output
        .lines()
        .rev()
        .find_map(|l| {
            serde_json::from_str::<Value>(l.trim())
                .ok()
                .filter(Value::is_object)
        })
        .context("benches/ops.rs printed no JSON line")?;
    let render_ms =
        report_total_ms(&run.output).context("benches/report.rs printed no report line")?;
    let results = json!({
        "machine": machine(),
        "ingest": ops["ingest"],
        "drain": ops["drain"],
        "binary": ops["binary"],
        "parse_render_10000_events_ms": render_ms,
    });
    let dir = ws.root.join("bench");
    std::fs::create_dir_all(&dir)?;
    std::fs::write(
        dir.join("results.json"),
        serde_json::to_string_pretty(&results)? + "\n",
    )?;
    print!("{}", table(&results));
    Ok(within_budgets(&results))
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or(f64::NAN)
}

/// The Markdown table the README shows.
pub fn table(r: &Value) -> String {
    let i = &r["ingest"];
    let s1 = &i["senders_1"];
    let s64 = &i["senders_64"];
    let row = |name: &str, v: &Value| {
        format!(
            "| {name} | {:.0} | {:.2} | {:.2} |\n",
            f(&v["events_per_s"]),
            f(&v["p50_ms"]),
            f(&v["p99_ms"])
        )
    };
    let m = &r["machine"];
    let mut t = format!(
        "Machine: {} ({} cores, {} GiB, Linux {})\n\n",
        m["cpu"].as_str().unwrap_or("?"),
        m["cores"],
        m["memory_gib"],
        m["kernel"].as_str().unwrap_or("?")
    );
    t += "| ingest (HTTP, keep-alive) | events/s | p50 ms | p99 ms |\n|---|---|---|---|\n";
    t += &row("middleware, 1 sender", &s1["middleware"]);
    t += &row("bare 200 handler, 1 sender", &s1["bare"]);
    t += &row("bare + one fsync, 1 sender", &s1["bare_plus_fsync"]);
    t += &row("middleware, 64 senders", &s64["middleware"]);
    t += &row("bare 200 handler, 64 senders", &s64["bare"]);
    t += &format!(
        "\n1 sender: {:.2} of bare, {:.2} of bare+fsync; 64 senders: {:.2} of bare ({} group commits for {} events)\n\n",
        f(&s1["ratio_to_bare"]),
        f(&s1["ratio_to_bare_plus_fsync"]),
        f(&s64["ratio_to_bare"]),
        i["group_commits"],
        i["events_stored"]
    );
    let d = &r["drain"];
    let b = &r["binary"];
    t += "| other | value |\n|---|---|\n";
    t += &format!(
        "| drain {} sessions, budget {}/min | {:.1} s, {:.0}/min = {:.2} of budget, {} × 429 |\n",
        d["sessions"],
        d["budget_per_minute"],
        f(&d["seconds"]),
        f(&d["comments_per_minute"]),
        f(&d["fraction_of_budget"]),
        d["http_429"]
    );
    t += &format!(
        "| parse + render 10,000-event report | {:.1} ms |\n",
        f(&r["parse_render_10000_events_ms"])
    );
    t += &format!(
        "| middleware binary | {:.1} MiB, ready in {:.0} ms |\n",
        f(&b["size_bytes"]) / 1048576.0,
        f(&b["ready_ms"])
    );
    t += &format!(
        "| RSS idle / peak under 64 senders | {:.1} MiB / {:.1} MiB |\n",
        f(&b["rss_idle_kib"]) / 1024.0,
        f(&b["rss_peak_under_load_kib"]) / 1024.0
    );
    t
}

fn within_budgets(r: &Value) -> bool {
    let i = &r["ingest"];
    let checks = [
        (
            "64 senders events/s",
            f(&i["senders_64"]["middleware"]["events_per_s"]) >= MIN_64_SENDERS_PER_S,
        ),
        (
            "64 senders p99",
            f(&i["senders_64"]["middleware"]["p99_ms"]) <= MAX_64_SENDERS_P99_MS,
        ),
        (
            "1 sender vs bare+fsync",
            f(&i["senders_1"]["ratio_to_bare_plus_fsync"]) >= MIN_1_SENDER_VS_FSYNC,
        ),
        (
            "drain fraction of budget",
            f(&r["drain"]["fraction_of_budget"]) >= MIN_DRAIN_FRACTION,
        ),
        ("drain without 429", r["drain"]["http_429"] == json!(0)),
    ];
    let mut ok = true;
    for (name, pass) in checks {
        println!(
            "bench budget {name}: {}",
            if pass { "within" } else { "MISSED" }
        );
        ok &= pass;
    }
    ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_line_total_is_read() {
        let out = "x\nreport: 10000 events, 3.1 MiB XML -> 2.0 MiB HTML; parse 40.1 ms, view 5.0 ms, render 30.2 ms, total 75.3 ms (median of 7)\n";
        assert_eq!(report_total_ms(out), Some(75.3));
        assert_eq!(report_total_ms("nothing"), None);
    }

    #[test]
    fn budgets_are_checked() {
        let mut r = json!({
            "ingest": {"senders_1": {"ratio_to_bare_plus_fsync": 0.8}, "senders_64": {"middleware": {"events_per_s": 25000.0, "p99_ms": 9.0}}},
            "drain": {"fraction_of_budget": 0.95, "http_429": 0}
        });
        assert!(within_budgets(&r));
        r["drain"]["http_429"] = json!(2);
        assert!(!within_budgets(&r));
    }
}
