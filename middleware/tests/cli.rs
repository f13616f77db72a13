//! `middleware check`, config errors and graceful shutdown, through the library and the binary.

mod common;

use std::process::Command;
use std::time::Duration;

use common::*;
use middleware::check::check_configuration;
use sandbox::{Sandbox, SandboxOptions, SessionSpec};

fn write_config(text: &str, tag: &str) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!(
        "middleware-cli-{tag}-{}-{}.toml",
        std::process::id(),
        rand::random::<u32>()
    ));
    std::fs::write(&path, text).unwrap();
    path
}

#[tokio::test]
async fn check_passes_with_good_credentials() {
    let sb = Sandbox::start(SandboxOptions::default()).await.unwrap();
    let cfg = config(&sb, &Setup::default());
    let report = check_configuration(&cfg.configurations[0], Duration::from_secs(5)).await;
    assert!(report.ok(), "{report:#?}");
    assert_eq!(report.passed.len(), 2);
    assert!(report.passed[1].contains("agent"));
}

#[tokio::test]
async fn check_names_each_failure_without_secrets() {
    let sb = Sandbox::start(SandboxOptions::default()).await.unwrap();
    let text = config_text(&sb, &Setup::default())
        .replace(&sb.appliance.client_secret(), "wrong-appliance-secret")
        .replace(&sb.zendesk.api_token(), "wrong-zendesk-token");
    let cfg = middleware::config::parse(&text, "t.toml", &|_| None).unwrap();
    let report = check_configuration(&cfg.configurations[0], Duration::from_secs(5)).await;
    assert_eq!(report.failed.len(), 2, "{report:#?}");
    assert!(report.failed[0].starts_with("BeyondTrust"), "{report:#?}");
    assert!(report.failed[1].starts_with("Zendesk"), "{report:#?}");
    let all = format!("{report:?}");
    assert!(!all.contains("wrong-appliance-secret") && !all.contains("wrong-zendesk-token"));
}

#[tokio::test]
async fn check_binary_exits_non_zero_naming_the_failure() {
    let sb = Sandbox::start(SandboxOptions::default()).await.unwrap();
    let good = config_text(&sb, &Setup::default());
    let bad = good.replace(&sb.zendesk.api_token(), "not-the-token");
    let bin = env!("CARGO_BIN_EXE_middleware");
    let good_path = write_config(&good, "good");
    let bad_path = write_config(&bad, "bad");
    let (good_out, bad_out) = tokio::task::spawn_blocking(move || {
        let outs = (
            Command::new(bin)
                .args(["check", "--config"])
                .arg(&good_path)
                .output()
                .unwrap(),
            Command::new(bin)
                .arg("check")
                .env("MIDDLEWARE_CONFIG", &bad_path)
                .output()
                .unwrap(),
        );
        let _ = (
            std::fs::remove_file(good_path),
            std::fs::remove_file(bad_path),
        );
        outs
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&good_out.stdout);
    assert!(good_out.status.success(), "{stdout}");
    assert!(!bad_out.status.success());
    let stdout = String::from_utf8_lossy(&bad_out.stdout);
    let stderr = String::from_utf8_lossy(&bad_out.stderr);
    assert!(stdout.contains("FAILED Sandbox: Zendesk"), "{stdout}");
    for secret in ["not-the-token", &sb.appliance.client_secret()] {
        assert!(
            !stdout.contains(secret) && !stderr.contains(secret),
            "secret printed"
        );
    }
}

#[test]
fn invalid_config_is_rejected_at_start_with_file_line_and_key() {
    let text = "[server]\nevents_listen = \"127.0.0.1:0\"\n\n[[configuration]]\nname = \"X\"\nappliance_id = \"no spaces\"\n\
        [configuration.beyondtrust]\nhost = \"bt.example.com\"\nclient_id = \"id\"\nclient_secret = \"s3cret\"\n\
        [configuration.zendesk]\nurl = \"https://x.zendesk.com\"\nusername = \"a@b.c\"\ntoken = \"t0ken\"\n";
    let path = write_config(text, "invalid");
    let out = Command::new(env!("CARGO_BIN_EXE_middleware"))
        .args(["serve", "--config"])
        .arg(&path)
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&path);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let expected = format!("{}:6:", path.display());
    assert!(stderr.contains(&expected), "{stderr}");
    assert!(stderr.contains("appliance_id"), "{stderr}");
    assert!(!stderr.contains("s3cret") && !stderr.contains("t0ken"));
    // A file missing a whole section names the section.
    let path = write_config(
        "[[configuration]]\nname = \"X\"\nappliance_id = \"a\"\n",
        "incomplete",
    );
    let out = Command::new(env!("CARGO_BIN_EXE_middleware"))
        .args(["serve", "--config"])
        .arg(&path)
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&path);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing field `beyondtrust`"));
}

#[tokio::test]
async fn server_stops_accepting_and_finishes_in_flight_work_on_shutdown() {
    let sb = Sandbox::start(SandboxOptions::default()).await.unwrap();
    let setup = Setup::default();
    let mut cfg = config(&sb, &setup);
    cfg.server.events_listen = "127.0.0.1:0".into();
    cfg.server.admin_listen = "127.0.0.1:0".into();
    let password_file = middleware::admin::password::password_file(&cfg.server);
    cfg.server.workers = 2;
    let server = middleware::Server::bind(cfg, middleware::testing::fast_tuning())
        .await
        .unwrap();
    let addr = server.local_addr().unwrap();
    let admin = server.admin_addr().unwrap();
    let store = server.shared().store.clone();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(server.run(async move {
        let _ = stop_rx.await;
    }));
    sb.appliance.set_events_url(Some(format!(
        "http://{addr}/ERSPost?appliance={APPLIANCE_ID}"
    )));
    let login = reqwest::get(format!("http://{admin}/login")).await.unwrap();
    assert_eq!(
        login.status(),
        200,
        "the admin listener serves next to the events listener"
    );
    let ticket = sb.zendesk.create_ticket("shutdown");
    let lsid = sb
        .appliance
        .create_session(SessionSpec::default().external_key(ticket.to_string()));
    // Zendesk answers slowly: the comment is in flight when shutdown starts.
    sb.zendesk.faults().slow(Duration::from_millis(300));
    sb.appliance.end_session(&lsid);
    sb.appliance
        .wait_events_delivered(1, Duration::from_secs(10))
        .await
        .unwrap();
    wait_until("the event to be claimed", Duration::from_secs(10), || {
        let store = store.clone();
        async move {
            store
                .events()
                .await
                .unwrap()
                .iter()
                .any(|e| e.status == middleware::store::Status::Processing)
        }
    })
    .await;
    stop_tx.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(20), running)
        .await
        .expect("stops")
        .unwrap()
        .unwrap();
    assert_eq!(
        sb.zendesk
            .comments(ticket)
            .iter()
            .filter(|c| c.body.contains("rsz/1 "))
            .count(),
        1,
        "in-flight work finished"
    );
    assert!(
        reqwest::Client::new()
            .post(format!("http://{addr}/ERSPost"))
            .send()
            .await
            .is_err(),
        "no longer accepting"
    );
    assert!(
        reqwest::get(format!("http://{admin}/login")).await.is_err(),
        "admin stopped too"
    );
    middleware::testing::remove_sqlite_files(&setup.database_url);
    let _ = std::fs::remove_file(password_file);
}
