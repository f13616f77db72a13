//! Request parameters the way the appliance reads them: GET query or form-encoded POST body.

use axum::body::Bytes;
use axum::extract::{OriginalUri, RawQuery};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};

use super::Appliance;
use crate::recorded::{asks_connection_close, is_secret_param, RecordedCall};

/// One API call as axum hands it over: the parts [`serve_recorded`] needs.
pub(crate) struct ApiRequest {
    pub method: Method,
    pub uri: OriginalUri,
    pub query: RawQuery,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// Serves one command or reporting call: GET or form POST only, answered by `answer`, and
/// recorded with the status it got (refused calls too). `selector` names the parameter that
/// says what was asked (`action`, `generate_report`).
pub(crate) fn serve_recorded(
    appliance: &Appliance,
    request: ApiRequest,
    selector: &str,
    answer: fn(&Appliance, &HeaderMap, &Params) -> Response,
) -> Response {
    let ApiRequest {
        method,
        uri: OriginalUri(uri),
        query: RawQuery(query),
        headers,
        body,
    } = request;
    if method != Method::GET && method != Method::POST {
        return StatusCode::METHOD_NOT_ALLOWED.into_response();
    }
    let params = Params::parse(&method, query.as_deref(), &headers, &body);
    let response = answer(appliance, &headers, &params);
    let status = response.status().as_u16();
    let record = params.record(
        &method,
        uri.path(),
        params.get(selector),
        status,
        asks_connection_close(&headers),
    );
    appliance.state().api_calls.push(record);
    response
}

/// Ordered parameters of one call (query first, then form body).
#[derive(Debug, Clone, Default)]
pub(crate) struct Params(pub Vec<(String, String)>);

impl Params {
    pub fn parse(method: &Method, query: Option<&str>, headers: &HeaderMap, body: &[u8]) -> Params {
        let mut pairs: Vec<(String, String)> = query
            .map(|q| {
                url::form_urlencoded::parse(q.as_bytes())
                    .into_owned()
                    .collect()
            })
            .unwrap_or_default();
        let is_form = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.starts_with("application/x-www-form-urlencoded"))
            .unwrap_or(false);
        if *method == Method::POST && is_form {
            pairs.extend(url::form_urlencoded::parse(body).into_owned());
        }
        Params(pairs)
    }

    /// First value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// First value of `name`, trimmed, `None` when missing or empty.
    pub fn non_empty(&self, name: &str) -> Option<&str> {
        self.get(name).map(str::trim).filter(|v| !v.is_empty())
    }

    /// `session.custom.*` parameters: (code name, value).
    pub fn custom_fields(&self) -> Vec<(&str, &str)> {
        self.0
            .iter()
            .filter_map(|(k, v)| k.strip_prefix("session.custom.").map(|c| (c, v.as_str())))
            .collect()
    }

    /// A record of this call without secrets.
    pub fn record(
        &self,
        method: &Method,
        path: &str,
        action: Option<&str>,
        status: u16,
        connection_close: bool,
    ) -> RecordedCall {
        RecordedCall {
            method: method.to_string(),
            path: path.to_string(),
            action: action.map(str::to_string),
            params: self
                .0
                .iter()
                .filter(|(k, _)| !is_secret_param(k))
                .cloned()
                .collect(),
            body: None,
            status,
            connection_close,
        }
    }
}
