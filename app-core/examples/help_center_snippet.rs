//! Prints the Help Center snippet for given settings as JSON, for the browser tests and for
//! admins who want it without opening Zendesk.
//!
//! Input (stdin, JSON): `{"hostname": "...", "issues": [["code", "Name"], ...],
//! "request": {"id": 123, "subject": "...", "requester_name": "..."}}` (`request` optional).
//! Output: the snippet (`markup`, `template`, `anchor`, `instructions`) plus, when `request` is
//! given, `expected_urls`: for each issue, the URL the snippet's script should open for that
//! request. Invalid settings print `{"error": ..., "key": ...}` and exit with status 2.
//!
//! `cargo run -q -p app-core --example help_center_snippet < settings.json`

use std::io::Read;
use std::process::ExitCode;

use app_core::help_center::{
    normalize_hostname, snippet, start_url::start_session_url, SnippetTexts,
};
use serde::Deserialize;
use serde_json::json;

#[derive(Deserialize)]
struct Input {
    hostname: String,
    issues: Vec<(String, String)>,
    request: Option<Request>,
}

#[derive(Deserialize)]
struct Request {
    id: u64,
    subject: String,
    /// The requester's name (the snippet's `customer.name`).
    #[serde(alias = "user_name")]
    requester_name: String,
}

fn main() -> ExitCode {
    let mut raw = String::new();
    if let Err(error) = std::io::stdin().read_to_string(&mut raw) {
        eprintln!("help_center_snippet: cannot read stdin: {error}");
        return ExitCode::FAILURE;
    }
    let input: Input = match serde_json::from_str(&raw) {
        Ok(input) => input,
        Err(error) => {
            eprintln!("help_center_snippet: bad input JSON: {error}");
            return ExitCode::FAILURE;
        }
    };
    let generated = match snippet(&input.hostname, &input.issues, &SnippetTexts::default()) {
        Ok(generated) => generated,
        Err(error) => {
            println!(
                "{}",
                json!({ "error": error.to_string(), "key": error.key() })
            );
            return ExitCode::from(2);
        }
    };
    let mut output = serde_json::to_value(&generated).unwrap_or_default();
    if let (Some(request), Ok(host)) = (&input.request, normalize_hostname(&input.hostname)) {
        let urls: Vec<String> = input
            .issues
            .iter()
            .map(|(code, _)| {
                start_session_url(
                    &host,
                    code.trim(),
                    &request.requester_name,
                    &request.subject,
                    request.id,
                )
            })
            .collect();
        output["expected_urls"] = json!(urls);
    }
    println!("{output}");
    ExitCode::SUCCESS
}
