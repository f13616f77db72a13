//! An in-process middleware for integration tests and benches (not used by the binary).
//!
//! [`TestApp::spawn`] starts the ingest router on `127.0.0.1:0` against the configured
//! database (use [`temp_database_url`] for a fresh SQLite file) with `workers` background
//! workers. With `workers = 0` nothing is processed until the test calls [`TestApp::drain`],
//! which processes due events in the test's own task until none is pending — deterministic,
//! and it waits only for known due times (retry delays), never for arbitrary sleeps.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::app::{Shared, StartError, Tuning};
use crate::config::Config;
use crate::store::{now_ms, Store, StoredEvent};

/// A fresh SQLite database file under the system temp directory.
pub fn temp_database_url(tag: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let n: u32 = rand::random();
    let path = std::env::temp_dir().join(format!(
        "middleware-{tag}-{}-{nanos}-{n}.db",
        std::process::id()
    ));
    format!("sqlite://{}?mode=rwc", path.display())
}

/// Deletes the files of a SQLite database made by [`temp_database_url`] (no-op for others).
pub fn remove_sqlite_files(url: &str) {
    let Some(path) = url.strip_prefix("sqlite://") else {
        return;
    };
    let path = path.split('?').next().unwrap_or(path);
    // `.lock`: the owner lock (see `store`), which the file keeps for its next owner.
    for suffix in ["", "-wal", "-shm", "-journal", ".lock", ".lock-journal"] {
        let _ = std::fs::remove_file(format!("{path}{suffix}"));
    }
}

/// Timings small enough for tests (retries in milliseconds, short leases).
pub fn fast_tuning() -> Tuning {
    Tuning {
        http_timeout: Duration::from_secs(5),
        lease: Duration::from_secs(2),
        retry_base: Duration::from_millis(20),
        retry_max: Duration::from_millis(200),
        report_wait_base: Duration::from_millis(20),
        report_wait_max_delay: Duration::from_millis(100),
        report_wait_tries: 8,
        store_backoff_base: Duration::from_millis(50),
        store_backoff_max: Duration::from_millis(500),
        idle_poll: Duration::from_millis(500),
        poll_overlap_secs: 60,
    }
}

pub struct TestApp {
    pub addr: SocketAddr,
    pub shared: Arc<Shared>,
    shutdown_tx: watch::Sender<bool>,
    tasks: JoinSet<()>,
}

impl TestApp {
    pub async fn spawn(config: Config, tuning: Tuning, workers: usize) -> Result<Self, StartError> {
        let (shutdown_tx, shutdown_rx) = watch::channel(false);
        let shared = Shared::build(config, tuning, shutdown_rx).await?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|source| StartError::Bind {
                addr: "127.0.0.1:0".into(),
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| StartError::Bind {
            addr: "127.0.0.1:0".into(),
            source,
        })?;
        let mut tasks = JoinSet::new();
        let mut stop = shutdown_tx.subscribe();
        let router = crate::ingest::router(shared.clone());
        tasks.spawn(async move {
            let _ = axum::serve(listener, router)
                .with_graceful_shutdown(async move {
                    let _ = stop.wait_for(|s| *s).await;
                })
                .await;
        });
        for id in 0..workers {
            tasks.spawn(crate::worker::run_worker(shared.clone(), id));
        }
        Ok(Self {
            addr,
            shared,
            shutdown_tx,
            tasks,
        })
    }

    pub fn store(&self) -> &Store {
        &self.shared.store
    }

    /// `http://127.0.0.1:PORT/ERSPost[?appliance=ID]`
    pub fn events_url(&self, appliance: Option<&str>) -> String {
        match appliance {
            Some(a) => format!("http://{}/ERSPost?appliance={a}", self.addr),
            None => format!("http://{}/ERSPost", self.addr),
        }
    }

    /// Processes events until none is received, waiting for retry, or being processed.
    /// Waits for due times of scheduled retries (bounded by `max_wait` in total).
    pub async fn drain_for(&self, max_wait: Duration) {
        let deadline = tokio::time::Instant::now() + max_wait;
        loop {
            let progress = self.shared.progress.notified();
            tokio::pin!(progress);
            progress.as_mut().enable();
            match crate::worker::process_next(&self.shared).await {
                Ok(true) => continue,
                Ok(false) => {}
                Err(e) => panic!("drain: {e}"),
            }
            let Some(at) = self.shared.store.next_due_at().await.expect("next_due_at") else {
                return;
            };
            if tokio::time::Instant::now() >= deadline {
                panic!("drain: events still pending after {max_wait:?}");
            }
            let wait = Duration::from_millis((at - now_ms()).max(0) as u64 + 1);
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = &mut progress => {}
            }
        }
    }

    /// Processes the events that are due right now, without waiting for later ones.
    pub async fn process_due(&self) -> usize {
        let mut n = 0;
        while crate::worker::process_next(&self.shared)
            .await
            .expect("process")
        {
            n += 1;
        }
        n
    }

    /// [`drain_for`](Self::drain_for) with a 60 s bound.
    pub async fn drain(&self) {
        self.drain_for(Duration::from_secs(60)).await
    }

    /// Polls every polling configuration once; returns the number of new events.
    pub async fn poll_once(&self) -> usize {
        let mut n = 0;
        for rt in self.shared.runtimes().values() {
            n += crate::poller::poll_once(&self.shared, rt)
                .await
                .expect("poll");
        }
        n
    }

    pub async fn events(&self) -> Vec<StoredEvent> {
        self.shared.store.events().await.expect("events")
    }

    /// Graceful stop: no new events, in-flight work finishes or is released.
    pub async fn shutdown(mut self) {
        let _ = self.shutdown_tx.send(true);
        while self.tasks.join_next().await.is_some() {}
        self.shared.store.close().await;
    }

    /// Simulates a killed process: every task is dropped wherever it is, nothing is released.
    pub async fn crash(mut self) {
        self.kill().await;
    }

    /// [`crash`](Self::crash) in place: the app stays, dead (its store closed).
    pub async fn kill(&mut self) {
        self.tasks.abort_all();
        while self.tasks.join_next().await.is_some() {}
        self.shared.store.close().await;
    }
}
