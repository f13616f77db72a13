//! The `[ingest]` and `[operations]` tables of the configuration: how the events listener is
//! protected, and how the process is run (retention, logs, claim leases).
//!
//! ```toml
//! [ingest]
//! token_env = "MIDDLEWARE_INGEST_TOKEN"      # or token = "..."; the appliance URL gets ?token=
//! allowed_networks = ["10.20.0.0/16", "192.0.2.7"]
//! tls_cert_file = "/etc/middleware/events.crt" # PEM chain; with tls_key_file: HTTPS listener
//! tls_key_file = "/etc/middleware/events.key"
//! header_timeout_secs = 10                    # request line + headers
//! body_timeout_secs = 30                      # the form body
//! max_connections = 256                       # further connections wait to be accepted
//!
//! [operations]
//! retain_days = 30                            # purge done/skipped/unassociated events after
//! log_format = "json"                         # or "text" (default)
//! claim_lease_secs = 600                      # when another instance may take over a claim
//! ```

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use crate::secret::Secret;

/// One allowed source network: an address and a prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpNet {
    addr: IpAddr,
    prefix: u8,
}

impl IpNet {
    /// `10.0.0.0/8`, `2001:db8::/32`, or a single address.
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = addr
            .parse()
            .map_err(|_| format!("{s:?} is not an IP address or network (e.g. 10.0.0.0/8)"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("{s:?}: prefix length must be 0..={max}"))?,
            None => max,
        };
        Ok(Self { addr, prefix })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        // IPv4 peers reaching a dual-stack socket show up as ::ffff:a.b.c.d.
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
            v4 => v4,
        };
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

impl std::fmt::Display for IpNet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// Certificate chain and private key (PEM files) of the HTTPS events listener.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    pub cert_file: PathBuf,
    pub key_file: PathBuf,
}

#[derive(Debug, Clone)]
pub struct IngestSettings {
    /// Shared secret the appliance's outbound-event URL carries as `?token=`.
    pub token: Option<Secret>,
    /// Source networks allowed to post events; empty: any.
    pub allowed_networks: Vec<IpNet>,
    pub tls: Option<TlsFiles>,
    pub header_timeout: Duration,
    pub body_timeout: Duration,
    pub max_connections: usize,
}

impl Default for IngestSettings {
    fn default() -> Self {
        Self {
            token: None,
            allowed_networks: Vec::new(),
            tls: None,
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            max_connections: 256,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

#[derive(Debug, Clone)]
pub struct Operations {
    /// Days after which done, skipped and unassociated events (and their attempts) are purged.
    pub retain_days: Option<u32>,
    pub log_format: LogFormat,
    /// How long a claimed event belongs to its worker before another instance may take it over.
    pub claim_lease: Duration,
}

impl Default for Operations {
    fn default() -> Self {
        Self {
            retain_days: None,
            log_format: LogFormat::Text,
            claim_lease: Duration::from_secs(600),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawIngest {
    token: Option<Secret>,
    token_env: Option<Spanned<String>>,
    #[serde(default)]
    allowed_networks: Vec<Spanned<String>>,
    tls_cert_file: Option<PathBuf>,
    tls_key_file: Option<PathBuf>,
    header_timeout_secs: Option<Spanned<u64>>,
    body_timeout_secs: Option<Spanned<u64>>,
    max_connections: Option<Spanned<usize>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawOperations {
    retain_days: Option<Spanned<u32>>,
    #[serde(default)]
    log_format: LogFormat,
    claim_lease_secs: Option<Spanned<u64>>,
}

/// Reports a problem at a byte offset of the file under a key.
pub(crate) type Fail<'a> = &'a dyn Fn(usize, &str, &str) -> crate::config::ConfigError;

fn positive(
    v: Option<Spanned<u64>>,
    key: &str,
    max: u64,
    fail: Fail,
) -> Result<Option<Duration>, crate::config::ConfigError> {
    match v {
        None => Ok(None),
        Some(s) if *s.get_ref() >= 1 && *s.get_ref() <= max => {
            Ok(Some(Duration::from_secs(*s.get_ref())))
        }
        Some(s) => Err(fail(
            s.span().start,
            key,
            &format!("must be between 1 and {max} seconds"),
        )),
    }
}

pub(crate) fn ingest(
    raw: RawIngest,
    start: usize,
    env: &dyn Fn(&str) -> Option<String>,
    fail: Fail,
) -> Result<IngestSettings, crate::config::ConfigError> {
    let token = match raw.token_env {
        Some(var) => match env(var.get_ref()) {
            Some(v) if !v.is_empty() => Some(Secret::new(v)),
            _ => {
                return Err(fail(
                    var.span().start,
                    "ingest.token_env",
                    &format!("environment variable {} is not set", var.get_ref()),
                ))
            }
        },
        None => raw.token.filter(|t| !t.is_empty()),
    };
    let mut s = IngestSettings {
        token,
        ..IngestSettings::default()
    };
    if let Some(t) = &s.token {
        // It travels in a URL query: keep it to characters that need no encoding.
        if t.expose().len() < 16
            || !t
                .expose()
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
        {
            return Err(fail(
                start,
                "ingest.token",
                "must be at least 16 characters of A-Z a-z 0-9 - . _ ~",
            ));
        }
    }
    for n in raw.allowed_networks {
        let net = IpNet::parse(n.get_ref())
            .map_err(|m| fail(n.span().start, "ingest.allowed_networks", &m))?;
        s.allowed_networks.push(net);
    }
    s.tls = match (raw.tls_cert_file, raw.tls_key_file) {
        (Some(cert_file), Some(key_file)) => Some(TlsFiles {
            cert_file,
            key_file,
        }),
        (None, None) => None,
        _ => {
            return Err(fail(
                start,
                "ingest.tls_cert_file",
                "tls_cert_file and tls_key_file go together",
            ))
        }
    };
    if let Some(d) = positive(
        raw.header_timeout_secs,
        "ingest.header_timeout_secs",
        600,
        fail,
    )? {
        s.header_timeout = d;
    }
    if let Some(d) = positive(raw.body_timeout_secs, "ingest.body_timeout_secs", 600, fail)? {
        s.body_timeout = d;
    }
    if let Some(m) = raw.max_connections {
        if *m.get_ref() == 0 || *m.get_ref() > 100_000 {
            return Err(fail(
                m.span().start,
                "ingest.max_connections",
                "must be between 1 and 100000",
            ));
        }
        s.max_connections = m.into_inner();
    }
    Ok(s)
}

pub(crate) fn operations(
    raw: RawOperations,
    fail: Fail,
) -> Result<Operations, crate::config::ConfigError> {
    let mut o = Operations {
        log_format: raw.log_format,
        ..Operations::default()
    };
    if let Some(d) = raw.retain_days {
        if *d.get_ref() == 0 {
            return Err(fail(
                d.span().start,
                "operations.retain_days",
                "must be at least 1 (leave it out to keep everything)",
            ));
        }
        o.retain_days = Some(d.into_inner());
    }
    if let Some(l) = positive(
        raw.claim_lease_secs,
        "operations.claim_lease_secs",
        86_400,
        fail,
    )? {
        if l < Duration::from_secs(5) {
            return Err(fail(
                0,
                "operations.claim_lease_secs",
                "must be at least 5 seconds",
            ));
        }
        o.claim_lease = l;
    }
    Ok(o)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks_match_by_prefix() {
        let net = IpNet::parse("10.20.0.0/16").unwrap();
        assert!(net.contains("10.20.3.4".parse().unwrap()));
        assert!(!net.contains("10.21.0.1".parse().unwrap()));
        assert!(net.contains("::ffff:10.20.9.9".parse().unwrap()));
        let one = IpNet::parse("192.0.2.7").unwrap();
        assert!(one.contains("192.0.2.7".parse().unwrap()));
        assert!(!one.contains("192.0.2.8".parse().unwrap()));
        let v6 = IpNet::parse("2001:db8::/32").unwrap();
        assert!(v6.contains("2001:db8:1::5".parse().unwrap()));
        assert!(!v6.contains("10.20.3.4".parse().unwrap()));
        assert!(IpNet::parse("0.0.0.0/0")
            .unwrap()
            .contains("8.8.8.8".parse().unwrap()));
        for bad in ["10.0.0.0/33", "nope", "10.0.0/8", "::/129"] {
            assert!(IpNet::parse(bad).is_err(), "{bad}");
        }
    }
}
