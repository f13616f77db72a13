//! `beyondtrust.ca_file`: an appliance with a certificate from an internal CA is trusted by
//! naming that CA, with verification still on.

mod common;

use std::time::Duration;

use common::*;
use middleware::check::check_configuration;
use sandbox::{Sandbox, SandboxOptions};

#[tokio::test]
async fn an_internal_ca_is_trusted_through_ca_file_with_verification_on() {
    let sb = Sandbox::start(SandboxOptions::default()).await.unwrap();
    let pem = sb
        .appliance
        .certificate_pem()
        .expect("the sandbox appliance speaks HTTPS");
    let path = std::env::temp_dir().join(format!(
        "mw-ca-{}-{}.pem",
        std::process::id(),
        rand::random::<u32>()
    ));
    std::fs::write(&path, pem).unwrap();

    // Verification on, no CA: the appliance's certificate is refused.
    let strict = Setup {
        allow_invalid_certificates: false,
        ..Setup::default()
    };
    let report = check_configuration(
        &config(&sb, &strict).configurations[0],
        Duration::from_secs(5),
    )
    .await;
    assert!(
        !report.ok(),
        "an unknown CA must not be trusted: {report:#?}"
    );

    // Verification on, the CA named: trusted.
    let with_ca = Setup {
        allow_invalid_certificates: false,
        beyondtrust: format!("ca_file = \"{}\"", path.display()),
        ..Setup::default()
    };
    let report = check_configuration(
        &config(&sb, &with_ca).configurations[0],
        Duration::from_secs(5),
    )
    .await;
    assert!(report.ok(), "{report:#?}");

    // A CA file that is not PEM is named in the error.
    std::fs::write(&path, "not a certificate").unwrap();
    let cfg = config(&sb, &with_ca);
    let err = middleware::beyondtrust::ApplianceClient::new(
        &cfg.configurations[0].beyondtrust,
        Duration::from_secs(5),
    )
    .expect_err("a bad CA file is an error")
    .to_string();
    assert!(
        err.contains("ca_file") && err.contains(&path.display().to_string()),
        "{err}"
    );
    let _ = std::fs::remove_file(&path);
}
