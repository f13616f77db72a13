//! The demo workspace's stand-in for Zendesk's request proxy (`client.request` to other hosts).
//!
//! Like Zendesk's: a non-Zendesk URL must be on the installed manifest's `domainWhitelist` (the
//! demo installs the app as packaged for its appliance, so the appliance's host is listed), and
//! `{{setting.NAME}}` of a secure parameter is replaced only when the request says
//! `secure: true` and only in the scopes the manifest declares for NAME (`url`, `header`,
//! `body`, and inside HTTP Basic credentials `basic_auth_username`/`basic_auth_password`). A
//! placeholder outside its scopes is forwarded literally. The secure values never reach the page.

use std::collections::HashMap;

use base64::Engine;
use serde::Deserialize;
use serde_json::Value;

/// One `client.request(options)`, as the page hands it over.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct ProxyCall {
    pub url: String,
    #[serde(rename = "type", default = "get")]
    pub method: String,
    #[serde(default)]
    pub headers: HashMap<String, String>,
    #[serde(default)]
    pub data: Option<String>,
    #[serde(rename = "contentType", default)]
    pub content_type: Option<String>,
    #[serde(default)]
    pub secure: bool,
}

fn get() -> String {
    "GET".into()
}

/// A secure parameter of the manifest and the scopes its value may be sent in.
#[derive(Debug, Clone, PartialEq)]
pub struct SecureParam {
    pub name: String,
    pub scopes: Vec<String>,
}

/// The manifest's secure parameters.
pub fn secure_params(manifest: &Value) -> Vec<SecureParam> {
    manifest["parameters"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| p["secure"] == Value::Bool(true))
        .filter_map(|p| {
            Some(SecureParam {
                name: p["name"].as_str()?.to_string(),
                scopes: p["scopes"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|s| s.as_str().map(str::to_string))
                    .collect(),
            })
        })
        .collect()
}

/// `text` with the placeholders of parameters allowed in `scope` replaced.
fn fill_scope(
    text: &str,
    scope: &str,
    params: &[SecureParam],
    values: &HashMap<String, String>,
) -> String {
    let mut out = text.to_string();
    for p in params
        .iter()
        .filter(|p| p.scopes.iter().any(|s| s == scope))
    {
        if let Some(value) = values.get(&p.name) {
            out = out.replace(&format!("{{{{setting.{}}}}}", p.name), value);
        }
    }
    out
}

/// Basic credentials are decoded, filled per scope and re-encoded; other headers use `header`.
fn fill_authorization(
    value: &str,
    params: &[SecureParam],
    values: &HashMap<String, String>,
) -> String {
    let b64 = base64::engine::general_purpose::STANDARD;
    let decoded = value
        .split_once(' ')
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("basic"))
        .and_then(|(_, encoded)| b64.decode(encoded.trim()).ok())
        .and_then(|bytes| String::from_utf8(bytes).ok());
    match decoded.as_deref().and_then(|d| d.split_once(':')) {
        Some((user, pass)) => {
            let user = fill_scope(user, "basic_auth_username", params, values);
            let pass = fill_scope(pass, "basic_auth_password", params, values);
            format!("Basic {}", b64.encode(format!("{user}:{pass}")))
        }
        None => fill_scope(value, "header", params, values),
    }
}

/// The request Zendesk's proxy would send for `call`.
pub fn fill(
    call: &ProxyCall,
    params: &[SecureParam],
    values: &HashMap<String, String>,
) -> ProxyCall {
    if !call.secure {
        return call.clone();
    }
    let mut out = call.clone();
    out.url = fill_scope(&call.url, "url", params, values);
    out.data = call
        .data
        .as_deref()
        .map(|d| fill_scope(d, "body", params, values));
    out.headers = call
        .headers
        .iter()
        .map(|(k, v)| {
            let v = if k.eq_ignore_ascii_case("authorization") {
                fill_authorization(v, params, values)
            } else {
                fill_scope(v, "header", params, values)
            };
            (k.clone(), v)
        })
        .collect();
    out
}

/// Whether `url`'s host name is on `whitelist` (Zendesk compares host names, not ports).
pub fn whitelisted(url: &str, whitelist: &[String]) -> bool {
    url::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_ascii_lowercase))
        .is_some_and(|host| whitelist.iter().any(|w| w.eq_ignore_ascii_case(&host)))
}

/// `POST /_demo/proxy`: the page's `client.request` to a non-Zendesk URL.
pub(super) async fn proxy_request(
    axum::extract::State(ws): axum::extract::State<super::Shared>,
    axum::Json(call): axum::Json<ProxyCall>,
) -> axum::Json<Value> {
    let manifest: Value = tokio::fs::read(ws.options.app_dir.join("manifest.json"))
        .await
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or(Value::Null);
    let mut whitelist: Vec<String> = manifest["domainWhitelist"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|d| d.as_str().map(str::to_string))
        .collect();
    // Installed as packaged for the demo's appliance (`--appliance-host`).
    let host = ws.appliance.host();
    whitelist.push(
        host.rsplit_once(':')
            .map_or(host.as_str(), |(h, _)| h)
            .to_string(),
    );
    if !whitelisted(&call.url, &whitelist) {
        return axum::Json(serde_json::json!({
            "status": 0, "responseText": "", "statusText": "the host is not in the app's domainWhitelist",
        }));
    }
    let values: HashMap<String, String> = [
        ("api_client_id".to_string(), ws.appliance.client_id()),
        (
            "api_client_secret".to_string(),
            ws.appliance.client_secret(),
        ),
    ]
    .into();
    let sent = fill(&call, &secure_params(&manifest), &values);
    let mut client = reqwest::Client::builder().timeout(std::time::Duration::from_secs(20));
    if let Some(pem) = ws.appliance.certificate_pem() {
        if let Ok(cert) = reqwest::Certificate::from_pem(pem.as_bytes()) {
            client = client.add_root_certificate(cert);
        }
    }
    let Ok(client) = client.build() else {
        return axum::Json(serde_json::json!({"status": 0, "responseText": ""}));
    };
    let method =
        reqwest::Method::from_bytes(sent.method.as_bytes()).unwrap_or(reqwest::Method::GET);
    let mut request = client.request(method, &sent.url);
    for (k, v) in &sent.headers {
        request = request.header(k, v);
    }
    if let Some(content_type) = &sent.content_type {
        request = request.header(reqwest::header::CONTENT_TYPE, content_type);
    }
    if let Some(data) = sent.data {
        request = request.body(data);
    }
    match request.send().await {
        Ok(res) => {
            let status = res.status().as_u16();
            let text = res.text().await.unwrap_or_default();
            axum::Json(serde_json::json!({"status": status, "responseText": text}))
        }
        Err(error) => axum::Json(serde_json::json!({
            "status": 0, "responseText": "", "statusText": error.to_string(),
        })),
    }
}

/// `GET /api/v2/tickets/{id}/comments.json`: Zendesk's comments API, as ZAF requests it for
/// the signed-in agent (one page: the demo's tickets are short).
pub(super) async fn ticket_comments(
    axum::extract::Path(id): axum::extract::Path<u64>,
    axum::extract::State(ws): axum::extract::State<super::Shared>,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let Some(ticket) = ws.zendesk.ticket(id) else {
        return (
            axum::http::StatusCode::NOT_FOUND,
            axum::Json(serde_json::json!({"error": "RecordNotFound", "description": "Not found"})),
        )
            .into_response();
    };
    let comments: Vec<Value> = ticket
        .comments
        .iter()
        .map(|c| {
            serde_json::json!({
                "id": c.id, "type": "Comment", "author_id": c.author_id, "public": c.public,
                "body": c.body, "html_body": c.html_body, "created_at": c.created_at,
            })
        })
        .collect();
    axum::Json(serde_json::json!({
        "count": comments.len(), "comments": comments, "next_page": null, "previous_page": null,
    }))
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn manifest() -> Value {
        json!({"parameters": [
            {"name": "hostname", "type": "text"},
            {"name": "api_client_id", "type": "text", "secure": true, "scopes": ["basic_auth_username"]},
            {"name": "api_client_secret", "type": "text", "secure": true, "scopes": ["basic_auth_password"]},
            {"name": "token", "type": "text", "secure": true, "scopes": ["header"]}
        ]})
    }

    fn values() -> HashMap<String, String> {
        [
            ("api_client_id", "ID"),
            ("api_client_secret", "S3CRET"),
            ("token", "TOK"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    fn basic(s: &str) -> String {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(s)
        )
    }

    #[test]
    fn secure_settings_fill_only_their_scopes() {
        let params = secure_params(&manifest());
        assert_eq!(params.len(), 3);
        let call = ProxyCall {
            url: "https://bt/x?s={{setting.api_client_secret}}".into(),
            method: "POST".into(),
            headers: [
                (
                    "Authorization".to_string(),
                    basic("{{setting.api_client_id}}:{{setting.api_client_secret}}"),
                ),
                (
                    "X-Token".to_string(),
                    "{{setting.token}} {{setting.api_client_secret}}".to_string(),
                ),
            ]
            .into(),
            data: Some("a={{setting.api_client_secret}}".into()),
            content_type: None,
            secure: true,
        };
        let sent = fill(&call, &params, &values());
        assert_eq!(sent.headers["Authorization"], basic("ID:S3CRET"));
        assert_eq!(sent.headers["X-Token"], "TOK {{setting.api_client_secret}}");
        // Outside its scopes the placeholder stays literal.
        assert_eq!(sent.url, call.url);
        assert_eq!(sent.data, call.data);
        // The password placeholder in the user part is not the password's scope.
        let swapped = ProxyCall {
            headers: [(
                "Authorization".to_string(),
                basic("{{setting.api_client_secret}}:x"),
            )]
            .into(),
            ..call.clone()
        };
        assert_eq!(
            fill(&swapped, &params, &values()).headers["Authorization"],
            basic("{{setting.api_client_secret}}:x")
        );
        // Without secure: true nothing is filled.
        let plain = ProxyCall {
            secure: false,
            ..call.clone()
        };
        assert_eq!(fill(&plain, &params, &values()), plain);
    }

    #[test]
    fn whitelist_compares_host_names() {
        let list = vec!["127.0.0.1".to_string(), "bt.example.com".to_string()];
        assert!(whitelisted("https://127.0.0.1:4433/oauth2/token", &list));
        assert!(whitelisted("https://BT.example.com/api", &list));
        assert!(!whitelisted("https://evil.example.com/api", &list));
        assert!(!whitelisted("not a url", &list));
    }
}
