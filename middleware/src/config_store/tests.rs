use serde_json::json;

use super::*;
use crate::testing::{remove_sqlite_files, temp_database_url};

fn no_env(_: &str) -> Option<String> {
    None
}

fn doc() -> Value {
    json!({
        "name": "Prod",
        "appliance_id": "prod_1",
        "beyondtrust": {"host": "bt.example.com", "client_id": "cid", "client_secret": "S3CRET-bt"},
        "zendesk": {"url": "https://acme.zendesk.com", "username": "agent@acme.test", "token": "T0KEN-zd"}
    })
}

fn errors(r: Result<Configuration, ConfigStoreError>) -> FieldErrors {
    match r {
        Err(ConfigStoreError::Invalid(e)) => e,
        other => panic!("expected field errors, got {other:?}"),
    }
}

#[test]
fn a_valid_document_gets_the_file_defaults() {
    let c = validate(&doc(), &no_env).unwrap();
    assert_eq!(c.name, "Prod");
    assert_eq!(c.beyondtrust.locale, "en-us");
    assert_eq!(c.beyondtrust.polling_interval_secs, 60);
    assert_eq!(c.zendesk.update_rate_per_minute, 100);
    assert!(matches!(c.beyondtrust.auth, ApplianceAuth::OAuth { .. }));
}

#[test]
fn every_missing_or_unknown_field_is_named_at_once() {
    let e = errors(validate(
        &json!({"appliance_id": "", "beyondtrust": {"hots": "x"}, "zendesk": 3, "extra": 1}),
        &no_env,
    ));
    assert_eq!(e["name"], "is required");
    assert_eq!(e["appliance_id"], "must not be empty");
    assert_eq!(e["beyondtrust.hots"], "unknown field");
    assert_eq!(e["beyondtrust.host"], "is required");
    assert_eq!(e["zendesk"], "must be an object");
    assert_eq!(e["extra"], "unknown field");
}

#[test]
fn the_file_rules_answer_with_the_field_path() {
    let mut d = doc();
    d["beyondtrust"]["host"] = json!("https://bt.example.com/");
    assert!(errors(validate(&d, &no_env))["beyondtrust.host"].contains("without scheme"));
    let mut d = doc();
    d["zendesk"]["url"] = json!("acme");
    assert!(errors(validate(&d, &no_env)).contains_key("zendesk.url"));
    let mut d = doc();
    d["beyondtrust"]["polling_interval_secs"] = json!("often");
    let e = errors(validate(&d, &no_env));
    assert!(
        e["beyondtrust.polling_interval_secs"].contains("invalid type"),
        "{e:?}"
    );
    let mut d = doc();
    d["appliance_id"] = json!("a b");
    assert!(errors(validate(&d, &no_env))["appliance_id"].contains("letters, digits"));
    let mut d = doc();
    d["beyondtrust"]["outbound_event_types"] = json!(["nope"]);
    assert!(
        errors(validate(&d, &no_env))["beyondtrust.outbound_event_types"]
            .contains("unknown event type")
    );
    let mut d = doc();
    d["beyondtrust"]
        .as_object_mut()
        .unwrap()
        .remove("client_secret");
    assert!(errors(validate(&d, &no_env)).contains_key("beyondtrust.client_secret"));
    let mut d = doc();
    d["beyondtrust"]["client_secret_env"] = json!("MW_TEST_UNSET_VARIABLE_13");
    assert!(errors(validate(&d, &no_env))["beyondtrust.client_secret_env"].contains("not set"));
}

#[test]
fn views_and_exports_carry_no_secret() {
    let c = validate(&doc(), &no_env).unwrap();
    let stored = Stored {
        name: c.name.clone(),
        doc: doc(),
        parsed: Ok(c),
    };
    let v = public_doc(&stored);
    assert_eq!(v["beyondtrust"]["client_secret_set"], true);
    assert_eq!(v["zendesk"]["token_set"], true);
    let text = format!("{v} {}", export_toml(&[stored]));
    assert!(
        !text.contains("S3CRET-bt") && !text.contains("T0KEN-zd"),
        "{text}"
    );
    assert!(text.contains("[configuration.beyondtrust]"), "{text}");
    // The export parses back once secrets are added.
    let exported = export_toml(&[Stored {
        name: "Prod".into(),
        doc: doc(),
        parsed: validate(&doc(), &no_env).map_err(|e| e.to_string()),
    }]);
    let with_secrets = exported
        .replace(
            "client_id = \"cid\"",
            "client_id = \"cid\"\nclient_secret = \"x\"",
        )
        .replace(
            "username = \"agent@acme.test\"",
            "username = \"agent@acme.test\"\ntoken = \"y\"",
        );
    let back = config::parse(&with_secrets, "export.toml", &no_env).unwrap();
    assert_eq!(back.configurations[0].appliance_id, "prod_1");
}

#[test]
fn an_empty_secret_on_edit_keeps_the_stored_one() {
    let mut edit = doc();
    edit["beyondtrust"]["client_secret"] = json!("");
    edit["zendesk"].as_object_mut().unwrap().remove("token");
    normalize(&mut edit);
    keep_secrets(&mut edit, &doc());
    assert_eq!(edit["beyondtrust"]["client_secret"], "S3CRET-bt");
    assert_eq!(edit["zendesk"]["token"], "T0KEN-zd");
    // Switching to a legacy account does not inherit the OAuth secret as a password.
    let mut legacy = doc();
    let bt = legacy["beyondtrust"].as_object_mut().unwrap();
    bt.remove("client_id");
    bt.remove("client_secret");
    bt.insert("username".into(), json!("api"));
    keep_secrets(&mut legacy, &doc());
    assert!(legacy["beyondtrust"].get("password").is_none());
    assert!(legacy["beyondtrust"].get("client_secret").is_none());
}

#[tokio::test]
async fn the_file_is_imported_once_and_changes_bump_the_generation() {
    let url = temp_database_url("cfgstore");
    let store = Store::connect(&url).await.unwrap();
    let cs = ConfigStore::new(&store);
    let first = validate(&doc(), &no_env).unwrap();
    assert!(cs.import_once(std::slice::from_ref(&first)).await.unwrap());
    let mut other = first.clone();
    other.name = "Other".into();
    assert!(!cs.import_once(&[other]).await.unwrap(), "second start");
    let (g1, all) = cs.load().await.unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].name, "Prod");

    let mut copy = doc();
    copy["name"] = json!("prod");
    copy["appliance_id"] = json!("prod_2");
    assert!(errors(cs.create(copy.clone(), None).await)["name"].contains("exists"));
    copy["name"] = json!("Copy");
    copy["appliance_id"] = json!("PROD_1");
    assert!(errors(cs.create(copy.clone(), None).await)["appliance_id"].contains("enabled"));
    copy["appliance_id"] = json!("prod_2");
    copy["beyondtrust"]
        .as_object_mut()
        .unwrap()
        .remove("client_secret");
    copy["zendesk"].as_object_mut().unwrap().remove("token");
    assert!(errors(cs.create(copy.clone(), None).await).contains_key("beyondtrust.client_secret"));
    cs.create(copy, Some("Prod")).await.unwrap();
    let (g2, all) = cs.load().await.unwrap();
    assert!(g2 > g1);
    assert_eq!(all[1].doc["beyondtrust"]["client_secret"], "S3CRET-bt");

    let mut edit = public_doc(&all[1]);
    edit["beyondtrust"]["host"] = json!("bt2.example.com");
    let c = cs.update("Copy", edit).await.unwrap();
    assert_eq!(c.beyondtrust.host, "bt2.example.com");
    match &c.beyondtrust.auth {
        ApplianceAuth::OAuth { client_secret, .. } => {
            assert_eq!(client_secret.expose(), "S3CRET-bt")
        }
        other => panic!("{other:?}"),
    }
    let mut rename = doc();
    rename["name"] = json!("Renamed");
    assert!(errors(cs.update("Copy", rename).await)["name"].contains("cannot be changed"));
    assert!(cs.set_disabled("Copy", true).await.unwrap().disabled);
    cs.delete("Copy").await.unwrap();
    assert!(matches!(
        cs.delete("Copy").await,
        Err(ConfigStoreError::NotFound(_))
    ));
    let (g3, all) = cs.load().await.unwrap();
    assert!(g3 > g2);
    assert_eq!(all.len(), 1);
    store.close().await;
    remove_sqlite_files(&url);
}

#[test]
fn every_rule_broken_at_once_is_named_at_once() {
    let mut d = doc();
    d["appliance_id"] = json!("bad id");
    d["beyondtrust"]["host"] = json!("https://bt/");
    d["beyondtrust"]["use_non_tls"] = json!(true);
    d["beyondtrust"]["polling_interval_secs"] = json!(0);
    d["beyondtrust"]["outbound_event_types"] = json!(["nope"]);
    d["zendesk"]["url"] = json!("nope");
    d["zendesk"].as_object_mut().unwrap().remove("token");
    d["zendesk"]["update_rate_per_minute"] = json!(0);
    let e = errors(validate(&d, &no_env));
    for field in [
        "appliance_id",
        "beyondtrust.host",
        "beyondtrust.use_non_tls",
        "beyondtrust.polling_interval_secs",
        "beyondtrust.outbound_event_types",
        "zendesk.url",
        "zendesk.token",
        "zendesk.update_rate_per_minute",
    ] {
        assert!(e.contains_key(field), "{field} not named: {e:?}");
    }
    assert_eq!(e.len(), 8, "{e:?}");
    assert!(!format!("{e:?}").contains("stand-in"), "{e:?}");
}

#[test]
fn a_secret_of_the_wrong_type_is_not_quoted_back() {
    let mut d = doc();
    d["beyondtrust"]["client_secret"] = json!(987654321);
    d["zendesk"]["token"] = json!(["T0KEN-in-a-list"]);
    let e = errors(validate(&d, &no_env));
    let text = format!("{e:?}");
    assert!(
        !text.contains("987654321") && !text.contains("T0KEN-in-a-list"),
        "{text}"
    );
    assert_eq!(e["beyondtrust.client_secret"], "must be text", "{e:?}");
}

#[test]
fn ticket_creation_and_survey_rules_survive_a_stored_round_trip() {
    let mut d = doc();
    let z = &mut d["zendesk"];
    z["unassociated_sessions"] = json!("create_ticket");
    z["default_requester_email"] = json!("rs@acme.test");
    z["requester_email_attribute"] = json!("mail");
    z["new_ticket_group_id"] = json!(42);
    z["new_ticket_brand_id"] = json!(43);
    z["new_ticket_tags"] = json!(["remote_support"]);
    z["survey_rules"] = json!([
        {"question": "Was your issue resolved?", "answer": "Yes", "status": "solved", "tags": ["fixed"]},
        {"question": "q2", "answer": "No", "tags": ["follow_up"]},
    ]);
    let c = validate(&d, &no_env).unwrap();
    let t = &c.zendesk.tickets;
    assert_eq!(
        t.unassociated_sessions,
        crate::config::UnassociatedSessions::CreateTicket
    );
    assert_eq!(t.default_requester_email.as_deref(), Some("rs@acme.test"));
    assert_eq!(
        (t.new_ticket_group_id, t.new_ticket_brand_id),
        (Some(42), Some(43))
    );
    assert_eq!(t.survey_rules.len(), 2);
    assert_eq!(t.survey_rules[0].status.as_deref(), Some("solved"));
    assert_eq!(t.survey_rules[1].status, None);
    // What is stored (and exported) validates to the same configuration.
    let again = validate(&to_doc(&c, true), &no_env).unwrap();
    assert_eq!(again.zendesk.tickets, c.zendesk.tickets);

    // A bad rule is named by its field path, like any other key.
    d["zendesk"]["survey_rules"][0]["status"] = json!("closed");
    let e = errors(validate(&d, &no_env));
    assert!(
        e.keys().any(|k| k.starts_with("zendesk.survey_rules")),
        "{e:?}"
    );
}
