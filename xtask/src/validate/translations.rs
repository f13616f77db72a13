//! translations/<locale>.json: file names, JSON syntax, the default locale's file, the app texts
//! Zendesk requires and a label for every parameter.
use regex::Regex;
use serde_json::Value;

use super::manifest::Manifest;
use super::{Package, Report};

const LOCALE: &str = r"^[a-z]{2,3}(-\w{2,3})?$";
const PUBLIC_APP_KEYS: &[&str] = &[
    "name",
    "short_description",
    "installation_instructions",
    "long_description",
];

/// Runs every translation rule. Without a readable manifest only the per-file rules run.
pub fn check(package: &Package, manifest: Option<&Manifest>, report: &mut Report) {
    let locale_re = Regex::new(LOCALE).expect("valid regex");
    for (path, bytes) in &package.files {
        let Some(locale) = path
            .strip_prefix("translations/")
            .and_then(|p| p.strip_suffix(".json"))
        else {
            continue;
        };
        if !locale_re.is_match(locale) {
            report.error(path.as_str(), format!("{path} is not a valid locale."));
            continue;
        }
        match serde_json::from_slice::<Value>(bytes) {
            Ok(Value::Object(_)) => {}
            Ok(_) => report.error(path.as_str(), format!("{path} is not a JSON object.")),
            Err(e) => report.error(path.as_str(), format!("{path} is not valid JSON. {e}")),
        }
    }
    let Some(manifest) = manifest else { return };
    let Some(locale) = manifest.default_locale() else {
        return;
    };
    if !locale_re.is_match(locale) {
        report.error(
            "manifest.json",
            format!("{locale} is not a valid default locale."),
        );
        return;
    }
    let path = format!("translations/{locale}.json");
    let Some(bytes) = package.file(&path) else {
        report.error(
            "manifest.json",
            format!(
                "Missing translation file for locale '{locale}'. Learn more: https://developer.zendesk.com/apps/docs/developer-guide/deploying#app-internationalization"
            ),
        );
        return;
    };
    // Syntax errors were reported above.
    let Ok(Value::Object(root)) = serde_json::from_slice::<Value>(bytes) else {
        return;
    };
    let app = root.get("app").and_then(Value::as_object);
    let has = |key: &str| {
        app.is_some_and(|a| {
            a.contains_key(key) || (key == "short_description" && a.contains_key("description"))
        })
    };
    let required = if manifest.is_private() {
        &PUBLIC_APP_KEYS[..1]
    } else {
        PUBLIC_APP_KEYS
    };
    let absent: Vec<&str> = required.iter().copied().filter(|k| !has(k)).collect();
    if !absent.is_empty() {
        report.error(
            path.as_str(),
            format!("Missing required key from {path}: {}", absent.join(", ")),
        );
    }
    let labels = app
        .and_then(|a| a.get("parameters"))
        .and_then(Value::as_object);
    for name in manifest.parameter_names() {
        let labelled = labels
            .and_then(|l| l.get(name))
            .and_then(|p| p.get("label"))
            .and_then(Value::as_str)
            .is_some_and(|l| !l.trim().is_empty());
        if !labelled {
            report.error(
                path.as_str(),
                format!("Missing required key label on leaf {name} from {path}"),
            );
        }
    }
}
