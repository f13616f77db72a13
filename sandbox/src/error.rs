//! The library's error type.

/// What can go wrong starting or waiting on the sandbox.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("could not bind {what} on 127.0.0.1:{port}: {source}")]
    Bind {
        what: &'static str,
        port: u16,
        #[source]
        source: std::io::Error,
    },
    #[error("could not generate the appliance's TLS certificate: {0}")]
    Tls(String),
    #[error("timed out waiting for {wanted} delivered events ({delivered} delivered)")]
    EventsTimeout { wanted: usize, delivered: usize },
}
