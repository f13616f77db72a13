//! Configurations in the database against the sandbox: one added in the admin receives events
//! without a restart, a change made by another instance is followed, the file is imported only
//! at the first start, and `middleware config export` writes the set back without secrets.

mod common;

use std::time::Duration;

use common::*;
use middleware::config_store::{ConfigStore, CHECK_EVERY};
use sandbox::SessionSpec;
use serde_json::{json, Value};

const PASSWORD: &str = "cfg-admin-pw-13";

fn branch(env: &Env, appliance_id: &str) -> Value {
    json!({
        "name": "Branch",
        "appliance_id": appliance_id,
        "beyondtrust": {
            "host": env.sb.appliance.host(),
            "client_id": env.sb.appliance.client_id(),
            "client_secret": env.sb.appliance.client_secret(),
            "allow_invalid_certificates": true,
        },
        "zendesk": {
            "url": env.sb.zendesk.base_url(),
            "username": env.sb.zendesk.email(),
            "token": env.sb.zendesk.api_token(),
        }
    })
}

#[tokio::test]
async fn a_configuration_added_in_the_admin_gets_its_events_processed_without_restart() {
    let env = Env::start(Setup {
        workers: 1,
        ..Setup::default()
    })
    .await;
    let addr = common::serve_admin(&env.app, PASSWORD).await;
    let http = reqwest::Client::new();
    // Before: the appliance id is refused.
    let refused = http
        .post(env.app.events_url(Some("branch_7")))
        .form(&[("event", END), ("lsid", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 404);

    let r = http
        .post(format!("http://{addr}/api/configurations"))
        .basic_auth("admin", Some(PASSWORD))
        .json(&branch(&env, "branch_7"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let text = r.text().await.unwrap();
    for s in [env.sb.appliance.client_secret(), env.sb.zendesk.api_token()] {
        assert!(!text.contains(&s), "secret answered: {text}");
    }
    let v: Value = serde_json::from_str(&text).unwrap();
    assert!(v["outbound_event_url"]
        .as_str()
        .unwrap()
        .ends_with("/ERSPost?appliance=branch_7"));

    let test = http
        .post(format!("http://{addr}/api/configurations/Branch/test"))
        .basic_auth("admin", Some(PASSWORD))
        .send()
        .await
        .unwrap();
    let test: Value = test.json().await.unwrap();
    assert_eq!(test["ok"], true, "{test}");

    // The appliance now posts its outbound events for the new appliance id.
    env.sb
        .appliance
        .set_events_url(Some(env.app.events_url(Some("branch_7"))));
    let ticket = env.sb.zendesk.create_ticket("New branch");
    let lsid = env
        .sb
        .appliance
        .create_session(SessionSpec::default().external_key(ticket.to_string()));
    env.sb.appliance.end_session(&lsid);
    env.delivered(1).await;
    env.app.drain().await;
    let events = env.app.events().await;
    let e = events.iter().find(|e| e.lsid == lsid).expect("stored");
    assert_eq!(e.configuration, "Branch");
    assert_eq!(e.status, middleware::store::Status::Done, "{e:?}");
    let comments = env.sb.zendesk.comments(ticket);
    assert!(
        comments.iter().any(|c| c.body.contains(&lsid) && !c.public),
        "{comments:#?}"
    );

    // Found by its ticket number and by its lsid (on either database).
    for q in [ticket.to_string(), format!("%23{ticket}"), lsid.clone()] {
        let found: Value = http
            .get(format!("http://{addr}/api/events?q={q}"))
            .basic_auth("admin", Some(PASSWORD))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let events = found["events"].as_array().unwrap();
        assert!(
            events.iter().any(|x| x["id"] == e.id && x["attempts"] == 0),
            "{q}: {found}"
        );
    }

    // Its templates preview against this very session, fetched from the appliance.
    let preview: Value = http
        .get(format!("http://{addr}/api/templates?event={}", e.id))
        .basic_auth("admin", Some(PASSWORD))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let session = &preview["templates"][0];
    assert_eq!(session["file"], "session.hbs");
    assert_eq!(session["active"], "built-in");
    assert!(
        session["html"].as_str().unwrap().contains(&lsid),
        "{preview}"
    );
    assert!(session["data"]
        .as_str()
        .unwrap()
        .contains(&format!("event {}", e.id)));

    // Deleted: the next event for it is refused at once.
    let r = http
        .delete(format!("http://{addr}/api/configurations/Branch"))
        .basic_auth("admin", Some(PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let refused = http
        .post(env.app.events_url(Some("branch_7")))
        .form(&[("event", END), ("lsid", "y")])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 404);
}

#[tokio::test]
async fn a_change_made_by_another_instance_is_followed_within_seconds() {
    let env = Env::start(Setup::default()).await;
    let follower = tokio::spawn(env.app.shared.clone().follow_configurations());
    // Another instance writes to the shared database (not through this one's admin).
    let other = ConfigStore::new(env.app.store());
    other.create(branch(&env, "branch_8"), None).await.unwrap();
    let started = tokio::time::Instant::now();
    wait_until("the new configuration", CHECK_EVERY * 5, || async {
        env.app
            .shared
            .configuration_for_appliance("branch_8")
            .is_ok()
    })
    .await;
    assert!(started.elapsed() <= CHECK_EVERY * 5);
    other.set_disabled("Branch", true).await.unwrap();
    wait_until("the disable", CHECK_EVERY * 5, || async {
        env.app
            .shared
            .configuration_for_appliance("branch_8")
            .is_err_and(|e| e.contains("disabled"))
    })
    .await;
    follower.abort();
}

#[tokio::test]
async fn the_file_is_imported_once_and_export_writes_it_back_without_secrets() {
    let mut env = Env::start(Setup::default()).await;
    let addr = common::serve_admin(&env.app, PASSWORD).await;
    let r = reqwest::Client::new()
        .post(format!("http://{addr}/api/configurations"))
        .basic_auth("admin", Some(PASSWORD))
        .json(&branch(&env, "branch_9"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    // A restart reads the same file: the database keeps the added configuration.
    env.restart().await;
    let names: Vec<String> = env
        .app
        .shared
        .runtimes()
        .values()
        .map(|r| r.cfg.name.clone())
        .collect();
    assert_eq!(names, ["Sandbox", "Branch"]);

    let path = std::env::temp_dir().join(format!(
        "middleware-export-{}-{}.toml",
        std::process::id(),
        rand::random::<u32>()
    ));
    std::fs::write(&path, config_text(&env.sb, &env.setup)).unwrap();
    let bin = env!("CARGO_BIN_EXE_middleware");
    let p = path.clone();
    let (out, checked) = tokio::task::spawn_blocking(move || {
        let run = |args: &[&str]| {
            std::process::Command::new(bin)
                .args(args)
                .arg("--config")
                .arg(&p)
                .output()
                .unwrap()
        };
        (run(&["config", "export"]), run(&["check"]))
    })
    .await
    .unwrap();
    // `check` tests what is in effect: the database's set, not the file's one section.
    let check_out = String::from_utf8_lossy(&checked.stdout).into_owned();
    assert!(checked.status.success(), "{check_out}");
    assert!(
        check_out.contains("checking the 2 configuration(s) in the database")
            && check_out.contains("ok     Branch:"),
        "{check_out}"
    );
    let _ = std::fs::remove_file(&path);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for s in [env.sb.appliance.client_secret(), env.sb.zendesk.api_token()] {
        assert!(!stdout.contains(&s), "secret exported:\n{stdout}");
    }
    assert!(stdout.contains("Secrets are omitted"), "{stdout}");
    // With the secrets added back it is a valid file holding both configurations.
    let with_secrets = stdout
        .replace(
            &format!("client_id = \"{}\"", env.sb.appliance.client_id()),
            &format!(
                "client_id = \"{}\"\nclient_secret = \"s\"",
                env.sb.appliance.client_id()
            ),
        )
        .replace(
            &format!("username = \"{}\"", env.sb.zendesk.email()),
            &format!("username = \"{}\"\ntoken = \"t\"", env.sb.zendesk.email()),
        );
    let back = middleware::config::parse(&with_secrets, "export.toml", &|_| None)
        .unwrap_or_else(|e| panic!("{e}\n{with_secrets}"));
    let ids: Vec<&str> = back
        .configurations
        .iter()
        .map(|c| c.appliance_id.as_str())
        .collect();
    assert_eq!(ids, [APPLIANCE_ID, "branch_9"]);
}

#[tokio::test]
async fn test_names_each_failure_in_words_and_gives_the_urls_to_paste() {
    let env = Env::start(Setup::default()).await;
    let addr = common::serve_admin(&env.app, PASSWORD).await;
    let http = reqwest::Client::new();
    let put = |doc: Value| {
        let http = http.clone();
        async move {
            let r = http
                .put(format!("http://{addr}/api/configurations/Sandbox"))
                .basic_auth("admin", Some(PASSWORD))
                .json(&doc)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
        }
    };
    let test = || async {
        let r = http
            .post(format!("http://{addr}/api/configurations/Sandbox/test"))
            .basic_auth("admin", Some(PASSWORD))
            .send()
            .await
            .unwrap();
        let text = r.text().await.unwrap();
        for s in [env.sb.appliance.client_secret(), env.sb.zendesk.api_token()] {
            assert!(!text.contains(&s), "secret answered: {text}");
        }
        assert!(!text.contains("wrong-s3cret-1") && !text.contains("wrong-t0ken-2"));
        serde_json::from_str::<Value>(&text).unwrap()
    };
    let good = test().await;
    assert_eq!(good["ok"], true, "{good}");
    assert!(good["checks"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["ok"] == true));
    assert_eq!(
        good["custom_link_url"],
        format!(
            "{}/agent/tickets/%SESSION.CUSTOM.EXTERNAL_KEY%",
            env.sb.zendesk.base_url()
        )
    );
    assert!(good["outbound_event_url"]
        .as_str()
        .unwrap()
        .ends_with(&format!("/ERSPost?appliance={APPLIANCE_ID}")));

    let mut doc = branch(&env, APPLIANCE_ID);
    doc["name"] = json!("Sandbox");
    let cases: Vec<(Value, &str, &str)> = vec![
        (
            json!({"client_secret": "wrong-s3cret-1"}),
            "BeyondTrust",
            "the OAuth client secret was refused",
        ),
        (
            json!({"host": "127.0.0.1:1"}),
            "BeyondTrust",
            "connection refused by 127.0.0.1:1",
        ),
        (
            json!({"allow_invalid_certificates": false}),
            "BeyondTrust",
            "is not trusted",
        ),
        (
            json!({"zendesk_token": "wrong-t0ken-2"}),
            "Zendesk",
            "the Zendesk user or API token was refused",
        ),
    ];
    for (patch, target, words) in cases {
        let mut d = doc.clone();
        for (k, v) in patch.as_object().unwrap() {
            if k == "zendesk_token" {
                d["zendesk"]["token"] = v.clone();
            } else {
                d["beyondtrust"][k] = v.clone();
            }
        }
        put(d).await;
        let r = test().await;
        assert_eq!(r["ok"], false, "{patch}: {r}");
        let failed: Vec<&Value> = r["checks"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["ok"] == false)
            .collect();
        assert_eq!(failed.len(), 1, "{patch}: {r}");
        assert_eq!(failed[0]["target"], target);
        assert!(
            failed[0]["detail"].as_str().unwrap().contains(words),
            "{patch}: {r}"
        );
    }
    // Fixed again: all pass.
    put(doc).await;
    assert_eq!(test().await["ok"], true);
}

#[tokio::test]
async fn a_polling_configuration_added_while_running_starts_polling_and_stops_when_disabled() {
    let env = Env::start(Setup::default()).await;
    let supervisor = tokio::spawn(middleware::poller::supervise(env.app.shared.clone()));
    // The appliance cannot reach the middleware: no outbound events, only the session listing.
    env.sb.appliance.set_events_url(None);
    let ticket = env.sb.zendesk.create_ticket("Polled");
    let lsid = env
        .sb
        .appliance
        .create_session(SessionSpec::default().external_key(ticket.to_string()));
    env.sb.appliance.end_session(&lsid);

    let mut doc = branch(&env, "branch_poll");
    doc["beyondtrust"]["polling_event_types"] = json!([END]);
    doc["beyondtrust"]["polling_interval_secs"] = json!(1);
    let store = ConfigStore::new(env.app.store());
    store.create(doc, None).await.unwrap();
    env.app.shared.reload_configurations().await.unwrap();
    wait_until(
        "the polled session end",
        Duration::from_secs(10),
        || async {
            env.app
                .events()
                .await
                .iter()
                .any(|e| e.lsid == lsid && e.configuration == "Branch")
        },
    )
    .await;

    store.set_disabled("Branch", true).await.unwrap();
    env.app.shared.reload_configurations().await.unwrap();
    let listings = || {
        env.sb
            .appliance
            .api_calls()
            .iter()
            .filter(|c| c.action.as_deref() == Some("SupportSessionListing"))
            .count()
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    let after_disable = listings();
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(
        listings(),
        after_disable,
        "a disabled configuration does not poll"
    );
    supervisor.abort();
}

/// Everything logged while the guard lives (this test's thread only).
#[derive(Clone, Default)]
struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[tokio::test]
async fn managing_configurations_logs_no_secret() {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new("trace,sandbox=off"))
        .with_writer(captured.clone())
        .with_ansi(false)
        .finish();
    let guard = tracing::subscriber::set_default(subscriber);
    let env = Env::start(Setup::default()).await;
    let addr = common::serve_admin(&env.app, PASSWORD).await;
    let http = reqwest::Client::new();
    let wrong = "wrong-secret-in-no-log-13";
    let send = |method: reqwest::Method, path: String, body: Option<Value>| {
        let mut r = http
            .request(method, format!("http://{addr}{path}"))
            .basic_auth("admin", Some(PASSWORD));
        if let Some(b) = body {
            r = r.json(&b);
        }
        r.send()
    };
    let mut doc = branch(&env, "branch_logs");
    assert_eq!(
        send(
            reqwest::Method::POST,
            "/api/configurations".into(),
            Some(doc.clone())
        )
        .await
        .unwrap()
        .status(),
        201
    );
    doc["beyondtrust"]["client_secret"] = json!(wrong);
    doc["beyondtrust"]["polling_interval_secs"] = json!("not a number");
    let bad = send(
        reqwest::Method::PUT,
        "/api/configurations/Branch".into(),
        Some(doc.clone()),
    )
    .await
    .unwrap();
    assert_eq!(bad.status(), 422);
    doc["beyondtrust"]["polling_interval_secs"] = json!(60);
    assert_eq!(
        send(
            reqwest::Method::PUT,
            "/api/configurations/Branch".into(),
            Some(doc)
        )
        .await
        .unwrap()
        .status(),
        200
    );
    let test: Value = send(
        reqwest::Method::POST,
        "/api/configurations/Branch/test".into(),
        None,
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(test["ok"], false);
    assert_eq!(
        send(
            reqwest::Method::DELETE,
            "/api/configurations/Branch".into(),
            None
        )
        .await
        .unwrap()
        .status(),
        200
    );
    drop(guard);
    let log = String::from_utf8_lossy(&captured.0.lock().unwrap()).into_owned();
    assert!(
        log.contains("configuration added in the admin"),
        "the log was captured"
    );
    for secret in [
        env.sb.appliance.client_secret(),
        env.sb.zendesk.api_token(),
        wrong.to_string(),
        PASSWORD.to_string(),
    ] {
        assert!(!log.contains(&secret), "a secret is in the log");
    }
}
