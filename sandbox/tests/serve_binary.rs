//! `sandbox serve`: one JSON line, a human summary, graceful exit on SIGINT.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use serde_json::Value;

#[test]
fn serve_prints_one_json_line_then_stops_on_interrupt() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sandbox"))
        .args([
            "serve",
            "--appliance-port",
            "0",
            "--zendesk-port",
            "0",
            "--plain-http",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("binary starts");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let first = lines.next().expect("a line").expect("utf-8");
    let info: Value = serde_json::from_str(&first).expect("first line is JSON");
    for key in [
        "appliance_url",
        "appliance_host",
        "client_id",
        "client_secret",
        "legacy_username",
        "legacy_password",
        "zendesk_url",
        "zendesk_email",
        "zendesk_token",
        "appliance_control_url",
        "zendesk_control_url",
    ] {
        assert!(
            info[key].as_str().is_some_and(|v| !v.is_empty()),
            "{key} in {first}"
        );
    }
    let appliance = info["appliance_url"].as_str().unwrap();
    assert!(appliance.starts_with("http://127.0.0.1:"));
    assert_eq!(
        appliance,
        format!("http://{}", info["appliance_host"].as_str().unwrap())
    );
    assert_eq!(
        info["zendesk_control_url"].as_str().unwrap(),
        format!("{}/_control", info["zendesk_url"].as_str().unwrap())
    );
    let summary = lines.next().expect("summary").expect("utf-8");
    assert!(summary.contains("appliance"), "{summary}");

    // The port answers while the process runs.
    let host = info["appliance_host"].as_str().unwrap();
    assert!(std::net::TcpStream::connect(host).is_ok());

    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
    let exit = child.wait().expect("child exits");
    assert!(exit.success(), "graceful exit on Ctrl-C: {exit:?}");
}
