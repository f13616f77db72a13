//! `cargo xtask package --appliance-host HOST`: the appliance's host in the manifest's
//! `domainWhitelist`.
//!
//! Zendesk's request proxy only sends `secure: true` requests (the ones whose secure settings
//! it fills in) to domains listed in `domainWhitelist`, and that list is fixed in the package:
//! an installation setting such as `hostname` cannot extend it. This app is uploaded as a
//! private app built for one site, so the admin names the appliance when packaging. Without the
//! flag the manifest has no `domainWhitelist` and API mode answers "unreachable" (the sidebar
//! then offers the console dialog).

use anyhow::{bail, Context, Result};
use serde_json::Value;

/// The bare host of `raw` (no scheme, path or port), lower-cased; an error names the problem.
pub fn domain(raw: &str) -> Result<String> {
    let host = raw.trim().to_ascii_lowercase();
    if host.is_empty() {
        bail!("--appliance-host is empty");
    }
    if host.contains("://") || host.contains(['/', '?', '#', '@']) {
        bail!("--appliance-host takes a host name such as support.example.com, not a URL: {raw}");
    }
    let name = match host.rsplit_once(':') {
        Some((name, port)) if port.parse::<u16>().is_ok_and(|p| p > 0) => name.to_string(),
        Some(_) => bail!("--appliance-host has a bad port: {raw}"),
        None => host,
    };
    let valid = name.split('.').all(|label| {
        !label.is_empty()
            && label.len() <= 63
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !label.starts_with('-')
            && !label.ends_with('-')
    });
    if !valid || name.len() > 253 {
        bail!("--appliance-host is not a valid host name: {raw}");
    }
    Ok(name)
}

/// `manifest` (JSON text) with `host` added to `domainWhitelist` (created if absent, kept once).
pub fn with_whitelisted(manifest: &str, host: &str) -> Result<String> {
    let host = domain(host)?;
    let mut m: Value = serde_json::from_str(manifest).context("manifest.json is not JSON")?;
    let object = m
        .as_object_mut()
        .context("manifest.json is not an object")?;
    let list = object
        .entry("domainWhitelist")
        .or_insert_with(|| Value::Array(Vec::new()));
    let Some(list) = list.as_array_mut() else {
        bail!("manifest.json: domainWhitelist is not an array");
    };
    if !list.iter().any(|v| v.as_str() == Some(host.as_str())) {
        list.push(Value::String(host));
    }
    Ok(serde_json::to_string_pretty(&m)? + "\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_are_checked_and_ports_dropped() {
        assert_eq!(domain(" BT.Example.com ").unwrap(), "bt.example.com");
        assert_eq!(domain("bt.example.com:8443").unwrap(), "bt.example.com");
        for bad in [
            "",
            "https://bt.example.com",
            "bt.example.com/x",
            "bt..com",
            "bt.example.com:0",
            "a b",
            "-x.com",
        ] {
            assert!(domain(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_whitelist_gets_the_host_once() {
        let m = r#"{"name":"x","parameters":[]}"#;
        let once = with_whitelisted(m, "bt.example.com").unwrap();
        let v: Value = serde_json::from_str(&once).unwrap();
        assert_eq!(v["domainWhitelist"], serde_json::json!(["bt.example.com"]));
        assert_eq!(v["name"], "x");
        let twice = with_whitelisted(&once, "BT.example.com:443").unwrap();
        let v: Value = serde_json::from_str(&twice).unwrap();
        assert_eq!(v["domainWhitelist"], serde_json::json!(["bt.example.com"]));
        assert!(with_whitelisted(r#"{"domainWhitelist":"x"}"#, "a.com").is_err());
    }
}
