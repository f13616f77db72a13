//! Serving a router on a loopback port, with optional TLS, outages and graceful shutdown.
//!
//! A custom accept loop (rather than `axum::serve`) because "down" must really refuse
//! connections: the listener is closed while down and bound again on the same port after.

use std::net::SocketAddr;
use std::time::Duration;

use axum::body::Body;
use axum::Router;
use hyper::body::Incoming;
use hyper::Request;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

use crate::faults::Faults;
use crate::SandboxError;

/// Grace period for in-flight answers at shutdown.
const GRACE: Duration = Duration::from_secs(2);

/// Handle to stop a running server.
pub(crate) struct ServerHandle {
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl ServerHandle {
    pub async fn shutdown(self) {
        self.stop.send_replace(true);
        let _ = self.task.await;
    }
}

pub(crate) async fn bind(what: &'static str, port: u16) -> Result<TcpListener, SandboxError> {
    TcpListener::bind(("127.0.0.1", port))
        .await
        .map_err(|source| SandboxError::Bind { what, port, source })
}

/// Runs `router` on `listener` until shut down.
pub(crate) fn spawn(
    listener: TcpListener,
    router: Router,
    tls: Option<TlsAcceptor>,
    faults: Faults,
) -> ServerHandle {
    let (stop, stop_rx) = watch::channel(false);
    let task = tokio::spawn(accept_loop(listener, router, tls, faults, stop_rx));
    ServerHandle { stop, task }
}

async fn accept_loop(
    listener: TcpListener,
    router: Router,
    tls: Option<TlsAcceptor>,
    faults: Faults,
    mut stop: watch::Receiver<bool>,
) {
    let addr = match listener.local_addr() {
        Ok(addr) => addr,
        Err(_) => return,
    };
    let mut listener = Some(listener);
    let mut down = faults.subscribe_down();
    let mut connections = JoinSet::new();
    loop {
        if *down.borrow_and_update() {
            // Refuse: close the port and every open connection until the fault is lifted.
            listener = None;
            connections.abort_all();
        } else if listener.is_none() {
            listener = rebind(addr).await;
        }
        tokio::select! {
            _ = stopped(&mut stop) => break,
            _ = down.changed() => continue,
            Some(_) = connections.join_next(), if !connections.is_empty() => continue,
            accepted = accept(listener.as_ref()) => {
                let Ok((stream, _)) = accepted else { continue };
                let _ = stream.set_nodelay(true);
                connections.spawn(serve_connection(
                    stream,
                    router.clone(),
                    tls.clone(),
                    faults.clone(),
                    stop.clone(),
                ));
            }
        }
    }
    drop(listener);
    let drain = async { while connections.join_next().await.is_some() {} };
    if tokio::time::timeout(GRACE, drain).await.is_err() {
        connections.abort_all();
    }
}

/// Resolves once a stop is requested; never if the handle was dropped without one (dropping a
/// `Sandbox` does not stop it, only `shutdown` does).
async fn stopped(stop: &mut watch::Receiver<bool>) {
    if stop.wait_for(|stop| *stop).await.is_err() {
        std::future::pending::<()>().await;
    }
}

async fn accept(
    listener: Option<&TcpListener>,
) -> std::io::Result<(tokio::net::TcpStream, SocketAddr)> {
    match listener {
        Some(listener) => listener.accept().await,
        None => std::future::pending().await,
    }
}

async fn rebind(addr: SocketAddr) -> Option<TcpListener> {
    for _ in 0..50 {
        if let Ok(listener) = TcpListener::bind(addr).await {
            return Some(listener);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tracing::error!(%addr, "sandbox could not listen again after an outage");
    None
}

#[derive(Debug)]
struct Down;

impl std::fmt::Display for Down {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("sandbox server is down (fault plan)")
    }
}

impl std::error::Error for Down {}

async fn serve_connection(
    stream: tokio::net::TcpStream,
    router: Router,
    tls: Option<TlsAcceptor>,
    faults: Faults,
    stop: watch::Receiver<bool>,
) {
    match tls {
        Some(acceptor) => match acceptor.accept(stream).await {
            Ok(stream) => serve_io(TokioIo::new(stream), router, faults, stop).await,
            Err(e) => tracing::debug!("TLS handshake failed: {e}"),
        },
        None => serve_io(TokioIo::new(stream), router, faults, stop).await,
    }
}

async fn serve_io<I>(io: I, router: Router, faults: Faults, mut stop: watch::Receiver<bool>)
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let service = hyper::service::service_fn(move |req: Request<Incoming>| {
        let router = router.clone();
        let faults = faults.clone();
        async move {
            if faults.is_down() {
                // An error from the service makes hyper close the connection without answering.
                return Err(Down);
            }
            let response = router
                .oneshot(req.map(Body::new))
                .await
                .unwrap_or_else(|never| match never {});
            Ok(response)
        }
    });
    let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    let conn = builder.serve_connection_with_upgrades(io, service);
    tokio::pin!(conn);
    tokio::select! {
        result = conn.as_mut() => {
            if let Err(e) = result {
                tracing::debug!("connection ended: {e}");
            }
        }
        _ = stopped(&mut stop) => {
            conn.as_mut().graceful_shutdown();
            let _ = conn.await;
        }
    }
}
