//! The admin over a real port against the sandbox: connection tests, a failed event's error and
//! Retry, CSRF refusal, no secrets in any answer.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::*;
use middleware::config::ApplianceAuth;
use middleware::secret::Secret;
use middleware::store::Status;
use middleware::testing::{fast_tuning, TestApp};
use sandbox::{Sandbox, SandboxOptions, SessionSpec};

const PASSWORD: &str = "it-admin-pw-42";
const WRONG_SECRET: &str = "not-the-client-secret-9f3";

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn login(http: &reqwest::Client, addr: SocketAddr) -> String {
    let r = http
        .post(format!("http://{addr}/login"))
        .header("origin", format!("http://{addr}"))
        .form(&[("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    r.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string()
}

fn secrets(sb: &Sandbox) -> [String; 4] {
    [
        sb.appliance.client_secret(),
        sb.zendesk.api_token(),
        PASSWORD.to_string(),
        WRONG_SECRET.to_string(),
    ]
}

fn assert_no_secrets(sb: &Sandbox, text: &str) {
    for s in secrets(sb) {
        assert!(!text.contains(&s), "a secret is shown:\n{text}");
    }
}

#[tokio::test]
async fn test_connection_passes_against_the_sandbox() {
    let env = Env::start(Setup::default()).await;
    let addr = common::serve_admin(&env.app, PASSWORD).await;
    let http = client();
    let r = http
        .post(format!("http://{addr}/api/configurations/Sandbox/test"))
        .basic_auth("admin", Some(PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let text = r.text().await.unwrap();
    assert_no_secrets(&env.sb, &text);
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["ok"], true, "{text}");
    assert_eq!(
        v["passed"].as_array().unwrap().len(),
        2,
        "appliance and Zendesk: {text}"
    );
    assert!(v["failed"].as_array().unwrap().is_empty());

    let cookie = login(&http, addr).await;
    let page = http
        .post(format!("http://{addr}/configurations/Sandbox/test"))
        .header("cookie", &cookie)
        .header("origin", format!("http://{addr}"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    assert!(
        page.contains("all checks passed")
            && page.contains("permissions OK")
            && page.contains("signed in as user"),
        "{page}"
    );
    assert_no_secrets(&env.sb, &page);
    let unknown = http
        .post(format!("http://{addr}/api/configurations/Nope/test"))
        .basic_auth("admin", Some(PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
}

#[tokio::test]
async fn test_connection_names_the_failing_check_without_the_secret() {
    let sb = Sandbox::start(SandboxOptions::default()).await.unwrap();
    let setup = Setup::default();
    let mut cfg = config(&sb, &setup);
    cfg.configurations[0].beyondtrust.auth = ApplianceAuth::OAuth {
        client_id: sb.appliance.client_id(),
        client_secret: Secret::new(WRONG_SECRET),
    };
    let app = TestApp::spawn(cfg, fast_tuning(), 0).await.unwrap();
    let addr = common::serve_admin(&app, PASSWORD).await;
    let r = client()
        .post(format!("http://{addr}/api/configurations/Sandbox/test"))
        .basic_auth("admin", Some(PASSWORD))
        .send()
        .await
        .unwrap();
    let text = r.text().await.unwrap();
    assert_no_secrets(&sb, &text);
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["ok"], false);
    let failed = v["failed"].as_array().unwrap();
    assert_eq!(failed.len(), 1, "{text}");
    let line = failed[0].as_str().unwrap();
    assert!(
        line.contains("BeyondTrust") && line.contains("the OAuth client secret was refused"),
        "{line}"
    );
    assert!(
        v["passed"][0].as_str().unwrap().contains("Zendesk"),
        "the Zendesk check still passes: {text}"
    );
    app.shutdown().await;
    middleware::testing::remove_sqlite_files(&setup.database_url);
}

#[tokio::test]
async fn failed_event_shows_its_error_and_retry_requeues_it() {
    let env = Env::start(Setup::default()).await;
    let addr = common::serve_admin(&env.app, PASSWORD).await;
    let http = client();
    let lsid = env
        .sb
        .appliance
        .create_session(SessionSpec::default().external_key("987654"));
    env.sb.appliance.end_session(&lsid);
    env.delivered(1).await;
    env.app.drain().await;

    let list: serde_json::Value = http
        .get(format!("http://{addr}/api/events?status=failed"))
        .basic_auth("admin", Some(PASSWORD))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let row = &list["events"][0];
    assert_eq!(row["lsid"], lsid.as_str());
    assert_eq!(row["ticket_id"], 987654);
    assert_eq!(
        row["ticket_url"],
        format!("{}/agent/tickets/987654", env.sb.zendesk.base_url())
    );
    let error = row["last_error"].as_str().unwrap().to_string();
    assert!(error.contains("404"), "{error}");
    let id = row["id"].as_i64().unwrap();

    let cookie = login(&http, addr).await;
    let page = http
        .get(format!("http://{addr}/events/{id}"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("RecordNotFound")
            && page.contains("action=\"/events/")
            && page.contains(">Retry<"),
        "{page}"
    );
    assert_no_secrets(&env.sb, &page);
    let dashboard = http
        .get(format!("http://{addr}/"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        dashboard.contains(&format!(":8180/ERSPost?appliance={APPLIANCE_ID}</code>")),
        "{dashboard}"
    );
    assert_no_secrets(&env.sb, &dashboard);

    // A cross-site form post riding on the admin's cookie is refused.
    let forged = http
        .post(format!("http://{addr}/events/{id}/retry"))
        .header("cookie", &cookie)
        .header("origin", "http://attacker.example")
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    assert_eq!(
        env.app.store().event(id).await.unwrap().unwrap().status,
        Status::Failed
    );

    let retried = http
        .post(format!("http://{addr}/events/{id}/retry"))
        .header("cookie", &cookie)
        .header("origin", format!("http://{addr}"))
        .send()
        .await
        .unwrap();
    assert_eq!(retried.status(), 303);
    let e = env.app.store().event(id).await.unwrap().unwrap();
    assert_eq!((e.status, e.attempts), (Status::Received, 0));

    // Processed again: still no such ticket, so it fails again and both attempts are listed.
    env.app.drain_for(Duration::from_secs(20)).await;
    let detail: serde_json::Value = http
        .get(format!("http://{addr}/api/events/{id}"))
        .basic_auth("admin", Some(PASSWORD))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(detail["status"], "failed");
    assert_eq!(detail["attempt_log"].as_array().unwrap().len(), 2);
}
