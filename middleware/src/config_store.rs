//! Plugin configurations kept in the database, managed from the admin (issue 13).
//!
//! The TOML file's `[[configuration]]` sections are imported once, at the first start on a
//! database; from then on the database is authoritative and the admin (UI or JSON API) adds,
//! edits, disables and deletes them. A stored configuration is the JSON form of a TOML
//! `[[configuration]]` table (same keys, nested `beyondtrust` and `zendesk` objects), so it is
//! validated by the very same rules as the file: the document is turned into TOML text and run
//! through [`crate::config::parse`], and the failing key becomes the JSON field path.
//!
//! Every change bumps a generation counter in the same transaction; each process compares it
//! every [`CHECK_EVERY`] and reloads its clients when it moved, so on Postgres every instance
//! follows a change made through any of them within seconds.
//!
//! Secrets (`client_secret`, `password`, `token`) are stored with the configuration (the
//! database is as private as the file was) but never leave the server: views carry
//! `*_set: true` instead, and a save without a secret keeps the stored one.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{json, Map, Value};
use sqlx::{AnyPool, Row};

use crate::config::{self, ApplianceAuth, ConfigError, Configuration, DurationUnit};
use crate::store::{now_ms, Store, StoreError};

/// How often a running process looks for changes made by another instance.
pub const CHECK_EVERY: Duration = Duration::from_secs(2);

/// Secret keys: (section, key, the `*_env` sibling, the key that must accompany it).
const SECRETS: [(&str, &str, &str, &str); 3] = [
    (
        "beyondtrust",
        "client_secret",
        "client_secret_env",
        "client_id",
    ),
    ("beyondtrust", "password", "password_env", "username"),
    ("zendesk", "token", "token_env", "username"),
];

const TOP_KEYS: [&str; 5] = ["name", "appliance_id", "disabled", "beyondtrust", "zendesk"];
const BT_KEYS: [&str; 18] = [
    "host",
    "client_id",
    "client_secret",
    "client_secret_env",
    "username",
    "password",
    "password_env",
    "locale",
    "allow_invalid_certificates",
    "use_non_tls",
    "ca_file",
    "outbound_event_types",
    "polling_event_types",
    "polling_interval_secs",
    "retry_attempt_limit",
    "retry_for_hours",
    "retry_outbound_event_types",
    "retry_polling_event_types",
];
/// Shown by views, ignored on input so a fetched document can be sent back as is.
const BT_IGNORED: [&str; 2] = ["client_secret_set", "password_set"];
const ZD_KEYS: [&str; 18] = [
    "url",
    "username",
    "token",
    "token_env",
    "tags",
    "duration_field_id",
    "duration_field_unit",
    "update_rate_per_minute",
    "system_information_categories",
    "comment_max_chars",
    "unassociated_sessions",
    "default_requester_email",
    "requester_email_attribute",
    "new_ticket_group_id",
    "new_ticket_brand_id",
    "new_ticket_tags",
    "survey_rules",
    "token_set",
];

/// Field path (`beyondtrust.host`) -> message, as the API answers them (422).
pub type FieldErrors = BTreeMap<String, String>;

#[derive(Debug, thiserror::Error)]
pub enum ConfigStoreError {
    #[error("invalid configuration: {}", describe(.0))]
    Invalid(FieldErrors),
    #[error("no configuration named {0:?}")]
    NotFound(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn describe(e: &FieldErrors) -> String {
    e.iter()
        .map(|(k, v)| format!("{k}: {v}"))
        .collect::<Vec<_>>()
        .join("; ")
}

fn invalid(path: &str, message: impl Into<String>) -> ConfigStoreError {
    ConfigStoreError::Invalid(FieldErrors::from([(path.to_string(), message.into())]))
}

impl From<sqlx::Error> for ConfigStoreError {
    fn from(e: sqlx::Error) -> Self {
        Self::Store(e.into())
    }
}

/// A stored configuration: its document (with secrets) and, when it still validates, the
/// parsed form. A document that stopped validating (an `*_env` variable gone) stays listed
/// with its reason instead of silently vanishing.
#[derive(Debug, Clone)]
pub struct Stored {
    pub name: String,
    pub doc: Value,
    pub parsed: Result<Configuration, String>,
}

// ---------------------------------------------------------------------------------------------
// Documents.

/// The document of a configuration, every key spelled out; secrets only when `with_secrets`.
pub fn to_doc(c: &Configuration, with_secrets: bool) -> Value {
    let b = &c.beyondtrust;
    let mut bt = json!({
        "host": b.host,
        "locale": b.locale,
        "allow_invalid_certificates": b.allow_invalid_certificates,
        "use_non_tls": b.use_non_tls,
        "outbound_event_types": b.outbound_event_types,
        "polling_event_types": b.polling_event_types,
        "polling_interval_secs": b.polling_interval_secs,
        "retry_for_hours": b.retry_for_hours,
        "retry_outbound_event_types": b.retry_outbound_event_types,
        "retry_polling_event_types": b.retry_polling_event_types,
    });
    // Optional keys are left out when unset: TOML has no null.
    if let Some(limit) = b.retry_attempt_limit {
        bt["retry_attempt_limit"] = json!(limit);
    }
    if let Some(ca) = &b.ca_file {
        bt["ca_file"] = json!(ca.display().to_string());
    }
    match &b.auth {
        ApplianceAuth::OAuth {
            client_id,
            client_secret,
        } => {
            bt["client_id"] = json!(client_id);
            if with_secrets {
                bt["client_secret"] = json!(client_secret.expose());
            }
        }
        ApplianceAuth::Legacy { username, password } => {
            bt["username"] = json!(username);
            if with_secrets {
                bt["password"] = json!(password.expose());
            }
        }
    }
    let z = &c.zendesk;
    let mut zd = json!({
        "url": z.url,
        "username": z.username,
        "tags": z.tags,
        "duration_field_unit": match z.duration_field_unit {
            DurationUnit::Seconds => "seconds",
            DurationUnit::Minutes => "minutes",
        },
        "update_rate_per_minute": z.update_rate_per_minute,
        "system_information_categories": z.system_information_categories,
        "comment_max_chars": z.comment_max_chars,
    });
    if let Some(id) = z.duration_field_id {
        zd["duration_field_id"] = json!(id);
    }
    let t = &z.tickets;
    zd["unassociated_sessions"] = json!(match t.unassociated_sessions {
        config::UnassociatedSessions::Record => "record",
        config::UnassociatedSessions::CreateTicket => "create_ticket",
    });
    zd["requester_email_attribute"] = json!(t.requester_email_attribute);
    zd["new_ticket_tags"] = json!(t.new_ticket_tags);
    zd["survey_rules"] = t
        .survey_rules
        .iter()
        .map(|r| {
            let mut rule = json!({ "question": r.question, "answer": r.answer, "tags": r.tags });
            if let Some(status) = &r.status {
                rule["status"] = json!(status);
            }
            rule
        })
        .collect();
    if let Some(email) = &t.default_requester_email {
        zd["default_requester_email"] = json!(email);
    }
    if let Some(id) = t.new_ticket_group_id {
        zd["new_ticket_group_id"] = json!(id);
    }
    if let Some(id) = t.new_ticket_brand_id {
        zd["new_ticket_brand_id"] = json!(id);
    }
    if with_secrets {
        zd["token"] = json!(z.token.expose());
    }
    json!({
        "name": c.name,
        "appliance_id": c.appliance_id,
        "disabled": c.disabled,
        "beyondtrust": bt,
        "zendesk": zd,
    })
}

/// What the admin shows and `config export` writes: every key, no secret, the `*_env` names the
/// stored document uses, and `*_set: true` where a secret value is stored.
pub fn public_doc(s: &Stored) -> Value {
    let mut out = match &s.parsed {
        Ok(c) => to_doc(c, false),
        Err(_) => strip_secrets(&s.doc),
    };
    for (section, key, env_key, _) in SECRETS {
        let stored = s.doc.get(section);
        if let Some(var) = stored.and_then(|t| t.get(env_key)).and_then(Value::as_str) {
            out[section][env_key] = json!(var);
        } else if stored
            .and_then(|t| t.get(key))
            .and_then(Value::as_str)
            .is_some_and(|v| !v.is_empty())
        {
            out[section][format!("{key}_set")] = json!(true);
        }
    }
    out
}

fn strip_secrets(doc: &Value) -> Value {
    let mut d = doc.clone();
    for (section, key, _, _) in SECRETS {
        if let Some(t) = d.get_mut(section).and_then(Value::as_object_mut) {
            t.remove(key);
        }
    }
    d
}

/// Removes `null`s (TOML has none: absent means default) and the view-only `*_set` keys.
fn normalize(doc: &mut Value) {
    if let Some(m) = doc.as_object_mut() {
        m.retain(|_, v| !v.is_null());
        for section in ["beyondtrust", "zendesk"] {
            if let Some(t) = m.get_mut(section).and_then(Value::as_object_mut) {
                t.retain(|k, v| !v.is_null() && !k.ends_with("_set"));
                for (s, key, _, _) in SECRETS {
                    if s == section && t.get(key).and_then(Value::as_str) == Some("") {
                        t.remove(key);
                    }
                }
            }
        }
    }
}

/// Keeps the stored secret where the new document gives neither it nor its `*_env` (an edit
/// that leaves a secret field empty), as long as the credential it belongs to is still used.
pub fn keep_secrets(new: &mut Value, old: &Value) {
    for (section, key, env_key, partner) in SECRETS {
        let Some(t) = new.get_mut(section).and_then(Value::as_object_mut) else {
            continue;
        };
        if t.contains_key(key) || t.contains_key(env_key) || !t.contains_key(partner) {
            continue;
        }
        let Some(o) = old.get(section) else { continue };
        if let Some(v) = o.get(key).cloned() {
            t.insert(key.into(), v);
        } else if let Some(v) = o.get(env_key).cloned() {
            t.insert(env_key.into(), v);
        }
    }
}

/// Checks shape and required keys (all problems at once), then the file's own rules.
pub fn validate(
    doc: &Value,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Configuration, ConfigStoreError> {
    let mut errors = FieldErrors::new();
    let Some(top) = doc.as_object() else {
        return Err(invalid("", "expected a JSON object"));
    };
    unknown_keys(top, "", &TOP_KEYS, &[], &mut errors);
    for key in ["name", "appliance_id"] {
        match top.get(key) {
            None => {
                errors.insert(key.into(), "is required".into());
            }
            Some(Value::String(s)) if s.trim().is_empty() => {
                errors.insert(key.into(), "must not be empty".into());
            }
            Some(Value::String(_)) => {}
            Some(_) => {
                errors.insert(key.into(), "must be a string".into());
            }
        }
    }
    for (section, keys, ignored, required) in [
        ("beyondtrust", &BT_KEYS[..], &BT_IGNORED[..], &["host"][..]),
        ("zendesk", &ZD_KEYS[..], &[][..], &["url", "username"][..]),
    ] {
        match top.get(section) {
            None => {
                errors.insert(section.into(), "is required".into());
            }
            Some(Value::Object(t)) => {
                unknown_keys(t, section, keys, ignored, &mut errors);
                for r in required {
                    match t.get(*r) {
                        None => {
                            errors.insert(format!("{section}.{r}"), "is required".into());
                        }
                        Some(Value::String(s)) if s.trim().is_empty() => {
                            errors.insert(format!("{section}.{r}"), "must not be empty".into());
                        }
                        _ => {}
                    }
                }
            }
            Some(_) => {
                errors.insert(section.into(), "must be an object".into());
            }
        }
    }
    if !errors.is_empty() {
        return Err(ConfigStoreError::Invalid(errors));
    }
    let mut clean = doc.clone();
    normalize(&mut clean);
    // The file's rules stop at the first problem; to name every bad field at once, a field
    // found bad is replaced by a harmless stand-in and the document checked again. A stand-in
    // never reaches the result: any error means no configuration.
    let mut errors = FieldErrors::new();
    for _ in 0..24 {
        match parse_one(&clean, env) {
            Ok(c) if errors.is_empty() => return Ok(c),
            Ok(_) => break,
            Err((path, message)) => {
                let known = errors.contains_key(&path);
                errors.entry(path.clone()).or_insert(message);
                if known || !stand_in(&mut clean, &path) {
                    break;
                }
            }
        }
    }
    Err(ConfigStoreError::Invalid(redact(errors, doc)))
}

/// Messages quote bad values; a secret's value (whatever its type) is never quoted back.
fn redact(mut errors: FieldErrors, doc: &Value) -> FieldErrors {
    let secrets: Vec<String> = SECRETS
        .iter()
        .filter_map(|(section, key, _, _)| doc.get(*section)?.get(*key))
        .map(|v| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .filter(|s| s.len() >= 3)
        .collect();
    for (path, message) in errors.iter_mut() {
        if SECRETS
            .iter()
            .any(|(section, key, _, _)| *path == format!("{section}.{key}"))
            && message.starts_with("invalid type")
        {
            *message = "must be text".into();
        }
        for s in &secrets {
            *message = message.replace(s.as_str(), "***");
        }
    }
    errors
}

/// Runs one document through the file's parser; the error as (field path, message).
fn parse_one(
    doc: &Value,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Configuration, (String, String)> {
    let text = toml::to_string(&json!({ "configuration": [doc] }))
        .map_err(|e| (String::new(), format!("cannot be expressed as TOML: {e}")))?;
    match config::parse(&text, "configuration", env) {
        Ok(mut c) => c
            .configurations
            .pop()
            .ok_or_else(|| (String::new(), "no configuration given".to_string())),
        Err(ConfigError::Invalid {
            line, key, message, ..
        }) => Err((field_path(&text, line, &key, &message), message)),
        Err(e) => Err((String::new(), e.to_string())),
    }
}

/// Replaces the field at `path` by a value the rules accept; false when there is none.
fn stand_in(doc: &mut Value, path: &str) -> bool {
    let text = |v: &str| json!(v);
    let (section, key) = match path.split_once('.') {
        Some((s, k)) => (s, k),
        None => ("", path),
    };
    match (section, key) {
        ("", "name") => doc["name"] = text("stand-in"),
        ("", "appliance_id") => doc["appliance_id"] = text("stand_in"),
        ("", "beyondtrust") => {
            doc["beyondtrust"]["client_id"] = text("stand-in");
            doc["beyondtrust"]["client_secret"] = text("stand-in");
        }
        ("beyondtrust", "host") => doc[section][key] = text("stand-in.invalid"),
        ("zendesk", "url") => doc[section][key] = text("https://stand-in.zendesk.com"),
        ("zendesk", "username") => doc[section][key] = text("stand-in"),
        ("beyondtrust", "client_id") => {
            // Both kinds of account given: keep OAuth for the rest of the check.
            if let Some(t) = doc[section].as_object_mut() {
                for k in ["username", "password", "password_env"] {
                    t.remove(k);
                }
            }
        }
        (_, k)
            if SECRETS
                .iter()
                .any(|(s, name, env_key, _)| *s == section && (k == *name || k == *env_key)) =>
        {
            let name = k.trim_end_matches("_env");
            if let Some(t) = doc[section].as_object_mut() {
                t.remove(&format!("{name}_env"));
                t.insert(name.to_string(), text("stand-in"));
            }
        }
        ("beyondtrust" | "zendesk", k) => {
            match doc[section].as_object_mut().and_then(|t| t.remove(k)) {
                Some(_) => {}
                None => return false,
            }
        }
        _ => return false,
    }
    true
}

fn unknown_keys(
    m: &Map<String, Value>,
    prefix: &str,
    allowed: &[&str],
    ignored: &[&str],
    errors: &mut FieldErrors,
) {
    for k in m.keys() {
        if !allowed.contains(&k.as_str()) && !ignored.contains(&k.as_str()) {
            let path = if prefix.is_empty() {
                k.clone()
            } else {
                format!("{prefix}.{k}")
            };
            errors.insert(path, "unknown field".into());
        }
    }
}

/// The JSON path of a key the TOML parser named: validator keys are paths already; serde's are
/// local to the table the line is in.
fn field_path(text: &str, line: usize, key: &str, message: &str) -> String {
    let key = match message.strip_prefix("missing field `") {
        Some(rest) => rest.split('`').next().unwrap_or(key),
        None => key,
    };
    if key.contains('.') || TOP_KEYS.contains(&key) {
        return key.to_string();
    }
    let section = text
        .lines()
        .take(line)
        .filter_map(|l| l.trim().strip_prefix("[configuration."))
        .filter_map(|l| l.strip_suffix(']'))
        .last();
    match section {
        Some(s) if !key.starts_with('[') => format!("{s}.{key}"),
        Some(s) => s.to_string(),
        None => key.to_string(),
    }
}

/// Names are unique (case-insensitively) and an appliance id feeds one enabled configuration.
fn check_unique(c: &Configuration, others: &[Stored]) -> Result<(), ConfigStoreError> {
    let mut errors = FieldErrors::new();
    for o in others {
        if o.name.eq_ignore_ascii_case(&c.name) {
            errors.insert(
                "name".into(),
                format!("a configuration named {:?} exists", o.name),
            );
        }
        if let Ok(oc) = &o.parsed {
            if !c.disabled && !oc.disabled && oc.appliance_id.eq_ignore_ascii_case(&c.appliance_id)
            {
                errors.insert(
                    "appliance_id".into(),
                    format!(
                        "appliance id {:?} is used by the enabled configuration {:?}",
                        c.appliance_id, oc.name
                    ),
                );
            }
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ConfigStoreError::Invalid(errors))
    }
}

// ---------------------------------------------------------------------------------------------
// Database.

/// The configurations table of a [`Store`].
#[derive(Clone)]
pub struct ConfigStore {
    pool: AnyPool,
}

fn env_lookup(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

impl ConfigStore {
    pub fn new(store: &Store) -> Self {
        Self {
            pool: store.pool().clone(),
        }
    }

    /// At the first start on this database, stores the file's configurations and marks the
    /// database as the authority; later starts leave the stored set alone. Returns whether the
    /// import happened.
    pub async fn import_once(&self, file: &[Configuration]) -> Result<bool, ConfigStoreError> {
        let mut tx = self.pool.begin().await?;
        let now = now_ms();
        let first = sqlx::query(
            "INSERT INTO configuration_state (id, generation, imported_at) VALUES (1, 1, $1) \
             ON CONFLICT DO NOTHING RETURNING id",
        )
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?
        .is_some();
        if first {
            for (i, c) in file.iter().enumerate() {
                sqlx::query(
                    "INSERT INTO configurations (name, position, body, updated_at) VALUES ($1, $2, $3, $4)",
                )
                .bind(&c.name)
                .bind(i as i64)
                .bind(to_doc(c, true).to_string())
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
        }
        tx.commit().await?;
        Ok(first)
    }

    /// The counter every change bumps.
    pub async fn generation(&self) -> Result<i64, ConfigStoreError> {
        let row = sqlx::query("SELECT generation FROM configuration_state WHERE id = 1")
            .fetch_optional(&self.pool)
            .await?;
        Ok(match row {
            Some(r) => r.try_get("generation")?,
            None => 0,
        })
    }

    /// Every stored configuration in the order they were added, with its generation.
    pub async fn load(&self) -> Result<(i64, Vec<Stored>), ConfigStoreError> {
        let mut tx = self.pool.begin().await?;
        let rows = sqlx::query("SELECT name, body FROM configurations ORDER BY position, name")
            .fetch_all(&mut *tx)
            .await?;
        let generation =
            match sqlx::query("SELECT generation FROM configuration_state WHERE id = 1")
                .fetch_optional(&mut *tx)
                .await?
            {
                Some(r) => r.try_get("generation")?,
                None => 0,
            };
        tx.commit().await?;
        let mut out = Vec::new();
        for r in rows {
            let name: String = r.try_get("name")?;
            let body: String = r.try_get("body")?;
            let doc: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
            let parsed = validate(&doc, &env_lookup).map_err(|e| match e {
                ConfigStoreError::Invalid(f) => describe(&f),
                other => other.to_string(),
            });
            out.push(Stored { name, doc, parsed });
        }
        Ok((generation, out))
    }

    pub async fn get(&self, name: &str) -> Result<Stored, ConfigStoreError> {
        self.load()
            .await?
            .1
            .into_iter()
            .find(|s| s.name == name)
            .ok_or_else(|| ConfigStoreError::NotFound(name.to_string()))
    }

    /// Adds a configuration. `copy_from` names a stored one whose secrets fill the ones `doc`
    /// leaves out (the admin's Copy).
    pub async fn create(
        &self,
        mut doc: Value,
        copy_from: Option<&str>,
    ) -> Result<Configuration, ConfigStoreError> {
        normalize(&mut doc);
        let (_, all) = self.load().await?;
        if let Some(source) = copy_from {
            let old = all.iter().find(|s| s.name == source).ok_or_else(|| {
                invalid("copy_from", format!("no configuration named {source:?}"))
            })?;
            keep_secrets(&mut doc, &old.doc);
        }
        let c = validate(&doc, &env_lookup)?;
        check_unique(&c, &all)?;
        let mut tx = self.pool.begin().await?;
        let now = now_ms();
        sqlx::query(
            "INSERT INTO configurations (name, position, body, updated_at) \
             VALUES ($1, (SELECT COALESCE(MAX(position), -1) + 1 FROM configurations), $2, $3)",
        )
        .bind(&c.name)
        .bind(doc.to_string())
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(|e| match e {
            sqlx::Error::Database(d) if d.is_unique_violation() => {
                invalid("name", format!("a configuration named {:?} exists", c.name))
            }
            e => e.into(),
        })?;
        bump(&mut tx).await?;
        tx.commit().await?;
        Ok(c)
    }

    /// Replaces a configuration; secrets left out are kept. The name cannot change (events
    /// refer to it).
    pub async fn update(
        &self,
        name: &str,
        mut doc: Value,
    ) -> Result<Configuration, ConfigStoreError> {
        normalize(&mut doc);
        let (_, all) = self.load().await?;
        let old = all
            .iter()
            .find(|s| s.name == name)
            .ok_or_else(|| ConfigStoreError::NotFound(name.to_string()))?;
        if let Some(m) = doc.as_object_mut() {
            match m.get("name") {
                None => {
                    m.insert("name".into(), json!(name));
                }
                Some(Value::String(n)) if n == name => {}
                Some(_) => return Err(invalid(
                    "name",
                    "cannot be changed (stored events refer to it); copy the configuration instead",
                )),
            }
        }
        keep_secrets(&mut doc, &old.doc);
        let c = validate(&doc, &env_lookup)?;
        let others: Vec<Stored> = all.iter().filter(|s| s.name != name).cloned().collect();
        check_unique(&c, &others)?;
        let mut tx = self.pool.begin().await?;
        let n = sqlx::query("UPDATE configurations SET body = $2, updated_at = $3 WHERE name = $1")
            .bind(name)
            .bind(doc.to_string())
            .bind(now_ms())
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if n == 0 {
            return Err(ConfigStoreError::NotFound(name.to_string()));
        }
        bump(&mut tx).await?;
        tx.commit().await?;
        Ok(c)
    }

    /// Enables or disables a configuration (the stored document's `disabled`).
    pub async fn set_disabled(
        &self,
        name: &str,
        disabled: bool,
    ) -> Result<Configuration, ConfigStoreError> {
        let old = self.get(name).await?;
        let mut doc = old.doc.clone();
        doc["disabled"] = json!(disabled);
        self.update(name, doc).await
    }

    pub async fn delete(&self, name: &str) -> Result<(), ConfigStoreError> {
        let mut tx = self.pool.begin().await?;
        let n = sqlx::query("DELETE FROM configurations WHERE name = $1")
            .bind(name)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if n == 0 {
            return Err(ConfigStoreError::NotFound(name.to_string()));
        }
        bump(&mut tx).await?;
        tx.commit().await?;
        Ok(())
    }
}

async fn bump(tx: &mut sqlx::Transaction<'_, sqlx::Any>) -> Result<(), sqlx::Error> {
    let n = sqlx::query("UPDATE configuration_state SET generation = generation + 1 WHERE id = 1")
        .execute(&mut **tx)
        .await?
        .rows_affected();
    if n == 0 {
        sqlx::query(
            "INSERT INTO configuration_state (id, generation, imported_at) VALUES (1, 2, $1) ON CONFLICT DO NOTHING",
        )
        .bind(now_ms())
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// The stored set as a TOML file (`middleware config export`): every key, secrets omitted.
pub fn export_toml(stored: &[Stored]) -> String {
    let docs: Vec<Value> = stored
        .iter()
        .map(|s| {
            let mut d = public_doc(s);
            for section in ["beyondtrust", "zendesk"] {
                if let Some(t) = d.get_mut(section).and_then(Value::as_object_mut) {
                    t.retain(|k, _| !k.ends_with("_set"));
                }
            }
            d
        })
        .collect();
    let mut out = String::from(
        "# Configurations exported from the middleware database. Secrets are omitted: add\n\
         # client_secret / password / token (or their *_env variables) before using this file.\n\n",
    );
    if docs.is_empty() {
        return out;
    }
    out.push_str(&toml::to_string(&json!({ "configuration": docs })).unwrap_or_default());
    out
}

#[cfg(test)]
mod tests;
