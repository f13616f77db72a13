//! No secret in the logs: a run with successes and every kind of failure, logged at TRACE
//! (every crate, our own and the HTTP stack), never prints a credential or token.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use common::*;
use sandbox::SessionSpec;

/// Everything logged while the guard lives (this test's thread only).
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
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

async fn run_with_failures(setup: Setup) -> (String, Vec<String>) {
    let env = Env::start(setup).await;
    let secrets = vec![
        env.sb.appliance.client_secret(),
        env.sb.appliance.legacy_password(),
        env.sb.zendesk.api_token(),
    ];
    let mut tickets = Vec::new();
    for i in 0..4 {
        let ticket = env.sb.zendesk.create_ticket(&format!("secret{i}"));
        let lsid = env
            .sb
            .appliance
            .create_session(SessionSpec::default().external_key(ticket.to_string()));
        env.sb.appliance.end_session(&lsid);
        tickets.push(ticket);
    }
    env.delivered(4).await;
    // An appliance outage, a dropped answer, a Zendesk 401 and a 503: retried or failed.
    env.sb.appliance.faults().fail_next(1, 503);
    env.sb.appliance.faults().drop_next(1);
    env.sb.zendesk.faults().fail_next(1, 401);
    env.sb.zendesk.faults().fail_next(1, 503);
    env.app.drain().await;
    let events = env.app.events().await;
    let mut texts: Vec<String> = events.iter().filter_map(|e| e.last_error.clone()).collect();
    for e in &events {
        for a in env.app.store().attempts(e.id).await.unwrap() {
            texts.push(a.error);
        }
    }
    (texts.join("\n"), secrets)
}

#[tokio::test]
async fn logs_and_stored_errors_never_carry_a_secret() {
    for legacy in [false, true] {
        let captured = Captured::default();
        let subscriber = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new("trace,sandbox=off"))
            .with_writer(captured.clone())
            .with_ansi(false)
            .finish();
        let guard = tracing::subscriber::set_default(subscriber);
        let (errors, secrets) = run_with_failures(Setup {
            legacy,
            ..Setup::default()
        })
        .await;
        drop(guard);
        let log = String::from_utf8_lossy(&captured.0.lock().unwrap()).into_owned();
        assert!(log.contains("comment added"), "the log was captured");
        assert!(log.contains("retrying later"), "failures were logged");
        assert!(!errors.is_empty(), "failures were stored");
        for secret in &secrets {
            assert!(
                !log.contains(secret.as_str()),
                "legacy={legacy}: a secret is in the log"
            );
            assert!(
                !errors.contains(secret.as_str()),
                "legacy={legacy}: a secret is in an error"
            );
        }
    }
}
