//! `GET|POST /api/reporting`: `SupportSession`, `SupportSessionListing`,
//! `SupportCustExitSurvey`, `SupportRepExitSurvey`.
//!
//! Bad parameters and searches with no result answer HTTP 200 with an `<error>` root, e.g.
//! `No archives found for the given search criteria.` as captured from a real appliance.

use axum::body::Bytes;
use axum::extract::{OriginalUri, RawQuery, State};
use axum::http::{HeaderMap, Method};
use axum::response::Response;

use super::command::xml_ok;
use super::params::{serve_recorded, ApiRequest, Params};
use super::report_xml;
use super::sessions::Session;
use super::{oauth, unix_now, xml, Appliance};

pub(crate) const NO_ARCHIVES: &str = "No archives found for the given search criteria.";

pub(crate) async fn handle(
    State(appliance): State<Appliance>,
    method: Method,
    uri: OriginalUri,
    query: RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let request = ApiRequest {
        method,
        uri,
        query,
        headers,
        body,
    };
    serve_recorded(&appliance, request, "generate_report", answer)
}

/// The answer to one authenticated-or-refused call.
fn answer(appliance: &Appliance, headers: &HeaderMap, params: &Params) -> Response {
    let ns = appliance.state().namespace.reporting();
    if let Err(denied) = oauth::authenticate(appliance, headers, params, ns) {
        return denied;
    }
    let result = match params.get("generate_report") {
        None => Err("Missing required parameter: generate_report.".to_string()),
        Some("SupportSession") => support_session(appliance, params, ns),
        Some("SupportSessionListing") => listing(appliance, params, ns),
        Some("SupportCustExitSurvey") => {
            surveys(appliance, params, ns, report_xml::Survey::Customer)
        }
        Some("SupportRepExitSurvey") => surveys(appliance, params, ns, report_xml::Survey::Rep),
        Some(other) => Err(format!("Invalid report type: {other}.")),
    };
    xml_ok(result.unwrap_or_else(|message| xml::error_body(ns, &message)))
}

/// Which sessions a report asks for.
enum Selection {
    Lsids(Vec<String>),
    /// Sessions whose start (or end) time lies in `[from, to]`.
    Window {
        by_end: bool,
        from: i64,
        to: i64,
    },
}

fn parse_unix(params: &Params, name: &str) -> Result<Option<i64>, String> {
    match params.get(name) {
        None => Ok(None),
        Some(v) => v
            .trim()
            .parse::<i64>()
            .map(Some)
            .map_err(|_| format!("Invalid {name}. It must be a UNIX timestamp.")),
    }
}

fn selection(params: &Params) -> Result<Selection, String> {
    if let Some(lsid) = params.get("lsid") {
        if lsid.trim().is_empty() {
            return Err("Invalid lsid.".into());
        }
        return Ok(Selection::Lsids(vec![lsid.trim().to_string()]));
    }
    if let Some(lsids) = params.get("lsids") {
        let list: Vec<String> = lsids
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        if list.is_empty() {
            return Err("Invalid lsids.".into());
        }
        return Ok(Selection::Lsids(list));
    }
    let start = parse_unix(params, "start_time")?;
    let end = parse_unix(params, "end_time")?;
    let (by_end, from) = match (start, end) {
        (_, Some(end)) => (true, end),
        (Some(start), None) => (false, start),
        (None, None) => {
            return Err(
                "Missing required parameter: one of lsid, lsids, start_time or end_time.".into(),
            )
        }
    };
    let duration = match params.get("duration") {
        None => return Err("Missing required parameter: duration.".into()),
        Some(d) => d
            .trim()
            .parse::<u64>()
            .map_err(|_| "Invalid duration. It must be a number of seconds.".to_string())?,
    };
    let to = if duration == 0 {
        unix_now().max(from)
    } else {
        from + duration as i64
    };
    Ok(Selection::Window { by_end, from, to })
}

fn matches(session: &Session, selection: &Selection) -> bool {
    match selection {
        Selection::Lsids(lsids) => lsids.contains(&session.lsid),
        Selection::Window { by_end, from, to } => {
            let at = if *by_end {
                match session.end_time {
                    Some(end) => end,
                    None => return false,
                }
            } else {
                session.start_time
            };
            *from <= at && at <= *to
        }
    }
}

fn support_session(appliance: &Appliance, params: &Params, ns: &str) -> Result<String, String> {
    let selection = selection(params)?;
    let base_url = appliance.base_url();
    let mut state = appliance.state();
    let mut chosen: Vec<(Session, bool)> = Vec::new();
    for session in state.sessions.iter_mut().filter(|s| matches(s, &selection)) {
        if !session.archived_for_fetch() {
            continue;
        }
        let shows_end = session.report_shows_end();
        chosen.push((session.clone(), shows_end));
    }
    drop(state);
    if chosen.is_empty() {
        return Err(NO_ARCHIVES.into());
    }
    Ok(report_xml::session_list(ns, &base_url, &chosen))
}

fn listing(appliance: &Appliance, params: &Params, ns: &str) -> Result<String, String> {
    let selection = selection(params)?;
    if matches!(selection, Selection::Lsids(_)) {
        return Err("Missing required parameter: end_time or start_time.".into());
    }
    let state = appliance.state();
    let chosen: Vec<&Session> = state
        .sessions
        .iter()
        .filter(|s| s.end_time.is_some() && matches(s, &selection))
        .collect();
    if chosen.is_empty() {
        return Err(NO_ARCHIVES.into());
    }
    Ok(report_xml::summary_list(ns, &chosen))
}

fn surveys(
    appliance: &Appliance,
    params: &Params,
    ns: &str,
    which: report_xml::Survey,
) -> Result<String, String> {
    match params.get("report_type") {
        None => return Err("Missing required parameter: report_type.".into()),
        Some("rep") | Some("team") => {}
        Some(_) => return Err("Invalid report_type. It must be rep or team.".into()),
    }
    let selection = selection(params)?;
    if !matches!(selection, Selection::Lsids(_)) && params.get("id").is_none() {
        return Err("Missing required parameter: id.".into());
    }
    let state = appliance.state();
    let chosen: Vec<&Session> = state
        .sessions
        .iter()
        .filter(|s| s.end_time.is_some() && matches(s, &selection))
        .filter(|s| !which.questions(&s.spec).is_empty())
        .collect();
    if chosen.is_empty() {
        return Err(NO_ARCHIVES.into());
    }
    Ok(report_xml::exit_survey_list(ns, &chosen, which))
}
