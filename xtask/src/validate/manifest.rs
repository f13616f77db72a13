//! manifest.json: its keys and their types, `location`, `parameters`, `frameworkVersion`.
//! Messages are Zendesk's (`zendesk_apps_support`, config/locales/en.yml) word for word.
use serde_json::{Map, Value};

use super::{Package, Report};

const FILE: &str = "manifest.json";

/// Keys Zendesk knows at the top of manifest.json.
const KNOWN_KEYS: &[&str] = &[
    "name",
    "author",
    "defaultLocale",
    "private",
    "location",
    "version",
    "frameworkVersion",
    "parameters",
    "domainWhitelist",
    "singleInstall",
    "signedUrls",
    "requirementsOnly",
    "marketingOnly",
    "experiments",
    "oauth",
    "remoteInstallationURL",
    "termsConditionsURL",
    "gaID",
];
const BOOLEAN_KEYS: &[&str] = &[
    "requirementsOnly",
    "marketingOnly",
    "singleInstall",
    "signedUrls",
    "private",
];
const STRING_KEYS: &[&str] = &[
    "name",
    "defaultLocale",
    "version",
    "frameworkVersion",
    "remoteInstallationURL",
    "termsConditionsURL",
    "gaID",
];
/// Products (hosts) an app can run in.
const HOSTS: &[&str] = &["support", "chat", "sell"];
const SUPPORT_LOCATIONS: &[&str] = &[
    "top_bar",
    "nav_bar",
    "ticket_sidebar",
    "new_ticket_sidebar",
    "user_sidebar",
    "organization_sidebar",
    "background",
    "modal",
    "system_top_bar",
    "ticket_editor",
];
const LOCATION_OPTIONS: &[&str] = &[
    "url",
    "flexible",
    "autoLoad",
    "autoHide",
    "signed",
    "size",
    "objectTypes",
];
pub const PARAMETER_TYPES: &[&str] = &[
    "text",
    "checkbox",
    "url",
    "number",
    "multiline",
    "hidden",
    "oauth",
];
const PARAMETER_ATTRIBUTES: &[&str] = &["name", "type", "required", "secure", "default", "scopes"];
const SCOPES: &[&str] = &[
    "header",
    "body",
    "url",
    "jwt_secret_key",
    "jwt_claim",
    "basic_auth_username",
    "basic_auth_password",
];
const FRAMEWORK_VERSIONS: &[&str] = &["2.0"];
const OAUTH_FIELDS: &[&str] = &[
    "client_id",
    "client_secret",
    "authorize_uri",
    "access_token_uri",
];

/// The parsed manifest (a JSON object; values are kept raw so messages can quote them).
#[derive(Debug, Clone)]
pub struct Manifest {
    pub fields: Map<String, Value>,
}

impl Manifest {
    /// `private` defaults to true, as in Zendesk.
    pub fn is_private(&self) -> bool {
        !matches!(self.fields.get("private"), Some(Value::Bool(false)))
    }

    pub fn default_locale(&self) -> Option<&str> {
        self.fields.get("defaultLocale").and_then(Value::as_str)
    }

    /// Names of the well-formed parameters (objects with a string `name`), in order.
    pub fn parameter_names(&self) -> Vec<&str> {
        parameters(&self.fields)
            .iter()
            .filter_map(|p| p.get("name")?.as_str())
            .collect()
    }
}

/// Parses manifest.json; a syntax error is reported with its line and column.
pub fn parse(package: &Package, report: &mut Report) -> Option<Manifest> {
    let bytes = package.file(FILE)?;
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(fields)) => Some(Manifest { fields }),
        Ok(other) => {
            report.error(
                FILE,
                format!(
                    "manifest is not proper JSON. expected an object, got {}",
                    ruby_class(&other)
                ),
            );
            None
        }
        Err(e) => {
            report.error(FILE, format!("manifest is not proper JSON. {e}"));
            None
        }
    }
}

/// Runs every manifest rule.
pub fn check(manifest: &Manifest, package: &Package, report: &mut Report) {
    let m = &manifest.fields;
    for key in m.keys().filter(|k| !KNOWN_KEYS.contains(&k.as_str())) {
        report.warning(FILE, format!("Unknown field in manifest: {key}"));
    }
    for key in ["author", "defaultLocale"] {
        if m.get(key).is_none_or(Value::is_null) {
            missing(report, key);
        }
    }
    check_types(m, report);
    check_author(m, report);
    check_oauth(m, report);
    if let Some(url) = m.get("termsConditionsURL").and_then(Value::as_str) {
        check_url(url, "terms_conditions_url", report);
    }
    check_parameters(m, report);
    let special = [m.get("requirementsOnly"), m.get("marketingOnly")]
        .into_iter()
        .any(|v| v == Some(&Value::Bool(true)));
    if !special {
        check_location(m, package, report);
        match m.get("frameworkVersion") {
            None | Some(Value::Null) => missing(report, "frameworkVersion"),
            Some(Value::String(v)) if FRAMEWORK_VERSIONS.contains(&v.as_str()) => {}
            Some(v) => report.error(
                FILE,
                format!(
                    "{} is not a valid framework version. Available versions are: {}.",
                    ruby_str(v),
                    FRAMEWORK_VERSIONS.join(", ")
                ),
            ),
        }
    }
}

fn missing(report: &mut Report, key: &str) {
    report.error(FILE, format!("Missing required field in manifest: {key}"));
}

fn check_types(m: &Map<String, Value>, report: &mut Report) {
    for key in BOOLEAN_KEYS {
        if let Some(v) = m.get(*key).filter(|v| !v.is_boolean()) {
            report.error(
                FILE,
                format!("{key} must be a boolean value, got \"{}\".", ruby_str(v)),
            );
        }
    }
    for key in STRING_KEYS {
        if let Some(v) = m.get(*key).filter(|v| !v.is_string() && !v.is_null()) {
            report.error(
                FILE,
                format!("{key} must be a string, got \"{}\".", ruby_str(v)),
            );
        }
    }
    if let Some(v) = m.get("experiments").filter(|v| !v.is_object()) {
        report.error(
            FILE,
            format!("The manifest field experiments needs to be key-value pairs with string keys, but it was {}", ruby_class(v)),
        );
    }
    if let Some(v) = m.get("domainWhitelist").filter(|v| !v.is_null()) {
        let ok = v.as_array().is_some_and(|a| a.iter().all(Value::is_string));
        if !ok {
            report.error(
                FILE,
                "The manifest field domainWhitelist need to be an array containing strings",
            );
        }
    }
}

fn check_author(m: &Map<String, Value>, report: &mut Report) {
    let Some(author) = m.get("author").filter(|v| !v.is_null()) else {
        return;
    };
    let Some(author) = author.as_object() else {
        report.error(
            FILE,
            format!("The manifest field author needs to be key-value pairs with string keys, but it was {}", ruby_class(author)),
        );
        return;
    };
    for field in ["name", "email", "url"] {
        if let Some(v) = author.get(field).filter(|v| !v.is_string() && !v.is_null()) {
            report.error(
                FILE,
                format!("author {field} must be a string, got \"{}\".", ruby_str(v)),
            );
        }
    }
    if let Some(url) = author.get("url").and_then(Value::as_str) {
        check_url(url, "author url", report);
    }
}

/// Zendesk's URL rule for manifest fields: `http://` or `https://` followed by anything.
fn check_url(url: &str, label: &str, report: &mut Report) {
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        report.error(FILE, format!("{label} must be a valid URL, got \"{url}\"."));
    }
}

fn check_oauth(m: &Map<String, Value>, report: &mut Report) {
    let Some(oauth) = m.get("oauth").filter(|v| !v.is_null()) else {
        return;
    };
    let empty = Map::new();
    let fields = oauth.as_object().unwrap_or(&empty);
    let absent: Vec<&str> = OAUTH_FIELDS
        .iter()
        .copied()
        .filter(|k| {
            fields
                .get(*k)
                .and_then(Value::as_str)
                .is_none_or(str::is_empty)
        })
        .collect();
    if !absent.is_empty() {
        let noun = if absent.len() == 1 { "field" } else { "fields" };
        report.error(
            FILE,
            format!(
                "Missing required oauth {noun} in manifest: {}",
                absent.join(", ")
            ),
        );
    }
    let has_oauth_param = parameters(m)
        .iter()
        .any(|p| p.get("type").and_then(Value::as_str) == Some("oauth"));
    if !has_oauth_param {
        report.error(
            FILE,
            "Please upgrade to our new oauth format. Learn more: https://developer.zendesk.com/apps/docs/developer-guide/manifest#oauth",
        );
    }
}

/// The parameter objects (non-objects are reported by `check_parameters`).
fn parameters(m: &Map<String, Value>) -> Vec<&Map<String, Value>> {
    m.get("parameters")
        .and_then(Value::as_array)
        .map_or_else(Vec::new, |a| {
            a.iter().filter_map(Value::as_object).collect()
        })
}

fn check_parameters(m: &Map<String, Value>, report: &mut Report) {
    let Some(raw) = m.get("parameters").filter(|v| !v.is_null()) else {
        return;
    };
    let Some(list) = raw.as_array() else {
        report.error(FILE, "App parameters must be an array.");
        return;
    };
    let mut names: Vec<&str> = Vec::new();
    for (index, item) in list.iter().enumerate() {
        match item.as_object().and_then(|p| p.get("name")) {
            Some(Value::String(name)) => names.push(name),
            _ => missing(report, &format!("parameters[{index}].name")),
        }
    }
    let params = parameters(m);
    let named = |p: &Map<String, Value>| {
        p.get("name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let type_of = |p: &Map<String, Value>| {
        p.get("type")
            .cloned()
            .unwrap_or_else(|| Value::String("text".into()))
    };

    let mut duplicates: Vec<&str> = Vec::new();
    for name in &names {
        if names.iter().filter(|n| *n == name).count() > 1 && !duplicates.contains(name) {
            duplicates.push(name);
        }
    }
    if !duplicates.is_empty() {
        let listed: Vec<String> = duplicates.iter().map(|d| format!("{d:?}")).collect();
        report.error(
            FILE,
            format!("Duplicate app parameters defined: [{}]", listed.join(", ")),
        );
    }
    for attribute in ["required", "secure"] {
        for p in &params {
            if let Some(v) = p.get(attribute).filter(|v| !v.is_boolean()) {
                report.error(
                    FILE,
                    format!(
                        "parameters[name=\"{}\"].{attribute} must be a boolean value, got \"{}\".",
                        named(p),
                        ruby_str(v)
                    ),
                );
            }
        }
    }
    let hidden_required: Vec<String> = params
        .iter()
        .filter(|p| type_of(p) == "hidden" && p.get("required") == Some(&Value::Bool(true)))
        .map(|p| named(p))
        .collect();
    if !hidden_required.is_empty() {
        let verb = if hidden_required.len() == 1 {
            "is"
        } else {
            "are"
        };
        report.error(
            FILE,
            format!(
                "{} {verb} set to hidden and cannot be required.",
                hidden_required.join(", ")
            ),
        );
    }
    let invalid_types: Vec<String> = params
        .iter()
        .map(|p| type_of(p))
        .filter(|t| !t.as_str().is_some_and(|t| PARAMETER_TYPES.contains(&t)))
        .map(|t| ruby_str(&t))
        .collect();
    if !invalid_types.is_empty() {
        let tail = if invalid_types.len() == 1 {
            "is an invalid parameter type."
        } else {
            "are invalid parameter types."
        };
        report.error(FILE, format!("{} {tail}", invalid_types.join(", ")));
    }
    let oauth: Vec<_> = params.iter().filter(|p| type_of(p) == "oauth").collect();
    if oauth.len() > 1 {
        report.error(FILE, "Too many parameters with type 'oauth': one permitted");
    }
    if oauth
        .iter()
        .any(|p| p.get("secure") == Some(&Value::Bool(true)))
    {
        report.error(FILE, "oauth parameter cannot be set to be secure.");
    }
    if names.contains(&"name") {
        report.error(FILE, "Can't call a parameter 'name'");
    }
    for p in &params {
        check_scopes(p, &named(p), report);
        for key in p
            .keys()
            .filter(|k| !PARAMETER_ATTRIBUTES.contains(&k.as_str()))
        {
            report.warning(
                FILE,
                format!(
                    "parameters[name=\"{}\"] has an unknown attribute \"{key}\".",
                    named(p)
                ),
            );
        }
    }
    parameter_warnings(&params, report);
}

fn check_scopes(p: &Map<String, Value>, name: &str, report: &mut Report) {
    let Some(scopes) = p.get("scopes").filter(|v| !v.is_null()) else {
        return;
    };
    if p.get("secure") != Some(&Value::Bool(true)) {
        report.error(
            FILE,
            format!(
                "parameters[name=\"{name}\"].scopes cannot be defined in a non-secure parameter."
            ),
        );
        return;
    }
    let valid = scopes.as_array().is_some_and(|a| {
        a.iter()
            .all(|s| s.as_str().is_some_and(|s| SCOPES.contains(&s)))
    });
    if !valid {
        report.error(
            FILE,
            format!(
                "parameters[name=\"{name}\"].scopes must be an array of: {}, got {scopes}.",
                SCOPES.join(", ")
            ),
        );
    }
}

/// Zendesk's secure-settings warnings: the upload succeeds but the admin is warned.
fn parameter_warnings(params: &[&Map<String, Value>], report: &mut Report) {
    let is_true = |p: &Map<String, Value>, k: &str| p.get(k) == Some(&Value::Bool(true));
    let type_str = |p: &Map<String, Value>| {
        p.get("type")
            .and_then(Value::as_str)
            .unwrap_or("text")
            .to_string()
    };
    let looks_secret = |name: &str| {
        let lower = name.to_ascii_lowercase();
        ["token", "key", "pwd", "password"]
            .iter()
            .any(|k| lower.contains(k))
    };
    let insecure = params.iter().any(|p| {
        let name = p.get("name").and_then(Value::as_str).unwrap_or("");
        looks_secret(name)
            && matches!(type_str(p).as_str(), "text" | "password")
            && !is_true(p, "secure")
    });
    if insecure {
        report.warning(
            FILE,
            "Make sure to set secure to true when using keys in Settings. Learn more: https://developer.zendesk.com/apps/docs/developer-guide/using_sdk#using-secure-settings",
        );
    }
    if params
        .iter()
        .any(|p| p.contains_key("default") && (is_true(p, "secure") || type_str(p) == "hidden"))
    {
        report.warning(
            FILE,
            "Default values for secure or hidden parameters are not stored securely. Be sure to review them and confirm they do not contain sensitive data",
        );
    }
    let unscoped: Vec<&str> = params
        .iter()
        .filter(|p| {
            is_true(p, "secure")
                && p.get("scopes")
                    .and_then(Value::as_array)
                    .is_none_or(|a| a.is_empty())
        })
        .filter_map(|p| p.get("name")?.as_str())
        .collect();
    if !unscoped.is_empty() {
        report.warning(
            FILE,
            format!(
                "Secure parameters without scopes: {}. Declare scopes to restrict where their values can be sent. Learn more: https://developer.zendesk.com/documentation/apps/getting-started/setting-up-new-apps/#scopes",
                unscoped.join(", ")
            ),
        );
    }
}

fn check_location(m: &Map<String, Value>, package: &Package, report: &mut Report) {
    let location = match m.get("location") {
        None | Some(Value::Null) => return missing(report, "location"),
        Some(Value::Object(hosts)) if hosts.is_empty() => return missing(report, "location"),
        Some(Value::Object(hosts)) => hosts,
        // A location name or a list of names is the framework-v1 form.
        Some(_) => {
            return report.error(
                FILE,
                "App locations need to be URLs for this framework version.",
            )
        }
    };
    // A legacy manifest names Support locations directly, without a host level.
    let legacy_support = location
        .keys()
        .any(|k| SUPPORT_LOCATIONS.contains(&k.as_str()));
    let owned;
    let hosts = if legacy_support {
        owned = Map::from_iter([("support".to_string(), Value::Object(location.clone()))]);
        &owned
    } else {
        location
    };
    for (host, locations) in hosts {
        if !HOSTS.contains(&host.as_str()) {
            report.error(FILE, format!("{host} is an invalid host for apps."));
            continue;
        }
        let Some(locations) = locations.as_object() else {
            report.error(FILE, format!("{host} is an invalid host for apps."));
            continue;
        };
        if host == "support" {
            let unknown: Vec<&str> = locations
                .keys()
                .map(String::as_str)
                .filter(|l| !SUPPORT_LOCATIONS.contains(l))
                .collect();
            if !unknown.is_empty() {
                let tail = if unknown.len() == 1 {
                    "is an invalid location"
                } else {
                    "are invalid locations"
                };
                report.error(FILE, format!("{} {tail} in Support.", unknown.join(", ")));
            }
        }
        for (name, options) in locations {
            check_location_options(name, options, package, report);
        }
    }
}

fn check_location_options(name: &str, options: &Value, package: &Package, report: &mut Report) {
    let (url, auto_load, flexible) = match options {
        Value::String(url) => (Some(url.as_str()), true, None),
        Value::Object(o) => {
            for key in o.keys().filter(|k| !LOCATION_OPTIONS.contains(&k.as_str())) {
                report.warning(
                    FILE,
                    format!("{key} is not a known option of the {name} location."),
                );
            }
            (
                o.get("url").and_then(Value::as_str),
                o.get("autoLoad") != Some(&Value::Bool(false)),
                o.get("flexible"),
            )
        }
        _ => (None, true, None),
    };
    match url {
        Some(url) if !url.is_empty() && !location_url_ok(url, package) => report.error(
            FILE,
            format!("{url} is either an invalid location URI, refers to a missing asset, or does not use HTTPS."),
        ),
        Some(url) if !url.is_empty() => {}
        _ if auto_load => report.error(FILE, format!("{name} location does not specify a URI.")),
        _ => {}
    }
    if let Some(flexible) = flexible.filter(|f| !f.is_boolean() && !f.is_null()) {
        report.error(
            FILE,
            format!(
                "{} is an invalid type for the flexible location parameter.",
                ruby_str(flexible)
            ),
        );
    }
}

/// An `https://` URL, anything on `localhost`, a `{{setting.…}}` template, or `assets/<file>`
/// naming a file that is in the package.
fn location_url_ok(url: &str, package: &Package) -> bool {
    if url == "_legacy" || url.contains("{{setting.") {
        return true;
    }
    if let Some((scheme, rest)) = url.split_once("://") {
        let host = rest.split(['/', '?', '#']).next().unwrap_or("");
        let host = host
            .rsplit('@')
            .next()
            .unwrap_or("")
            .split(':')
            .next()
            .unwrap_or("");
        return scheme.eq_ignore_ascii_case("https") || host == "localhost";
    }
    if url.contains(':') {
        return false;
    }
    let path = url.split(['?', '#']).next().unwrap_or("");
    path.starts_with("assets/") && package.has_file(path)
}

/// A JSON value as Ruby's string interpolation shows it (strings without quotes).
pub fn ruby_str(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// A JSON value's Ruby class name, as Zendesk's messages name types.
fn ruby_class(v: &Value) -> &'static str {
    match v {
        Value::Null => "NilClass",
        Value::Bool(true) => "TrueClass",
        Value::Bool(false) => "FalseClass",
        Value::Number(n) if n.is_f64() => "Float",
        Value::Number(_) => "Integer",
        Value::String(_) => "String",
        Value::Array(_) => "Array",
        Value::Object(_) => "Hash",
    }
}
