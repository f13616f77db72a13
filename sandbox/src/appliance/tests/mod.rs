//! Router tests of the simulated appliance (no port): one test per API rule.

mod client_script;
mod command;
mod control;
mod dom;
mod oauth;
mod reporting;

use std::time::Duration;

use axum::Router;

use super::Appliance;
use crate::test_support::{basic, post_form, send, Answer};
use crate::SandboxOptions;

pub(super) fn appliance_with(opts: SandboxOptions) -> (Appliance, Router) {
    let appliance = Appliance::for_tests(&opts);
    let router = appliance.router();
    (appliance, router)
}

pub(super) fn appliance() -> (Appliance, Router) {
    appliance_with(SandboxOptions::default())
}

pub(super) async fn token_answer(appliance: &Appliance, router: &Router) -> Answer {
    let auth = basic(&appliance.client_id(), &appliance.client_secret());
    send(
        router,
        post_form(
            "/oauth2/token",
            Some(&auth),
            "grant_type=client_credentials",
        ),
    )
    .await
}

pub(super) async fn bearer(appliance: &Appliance, router: &Router) -> String {
    let answer = token_answer(appliance, router).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    format!(
        "Bearer {}",
        answer.json()["access_token"].as_str().expect("token")
    )
}

/// GET `uri` with a fresh token.
pub(super) async fn api(appliance: &Appliance, router: &Router, uri: &str) -> Answer {
    let auth = bearer(appliance, router).await;
    send(router, crate::test_support::get(uri, Some(&auth))).await
}

pub(super) fn lifetime(secs: u64) -> SandboxOptions {
    SandboxOptions {
        token_lifetime: Duration::from_secs(secs),
        ..SandboxOptions::default()
    }
}
