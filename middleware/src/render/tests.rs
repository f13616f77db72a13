use super::*;
use crate::beyondtrust::model::{parse_exit_survey_list, parse_session_list};

const SESSION: &str = include_str!("../../tests/fixtures/rs-SupportSession.reconstructed.xml");
const SURVEY: &str = include_str!("../../tests/fixtures/rs-exit_survey_list.reconstructed.xml");

fn temp_dir(tag: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let d = std::env::temp_dir().join(format!("mw-render-{tag}-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn render_fixture() -> String {
    let s = &parse_session_list(SESSION).unwrap()[0];
    Renderer::builtin()
        .render(Template::Session, &session_view(s, "default"))
        .unwrap()
}

#[test]
fn session_comment_has_every_section() {
    let html = render_fixture();
    for needle in [
        "c69a8e10bea9428f816cfababe9815fe",
        "2023-11-14 22:13:20 UTC",
        "2023-11-14 22:13:20 UTC to 22:28:20",
        "00:15:00",
        "Public site:</strong> Default",
        "Example Corp",
        "203.0.113.10:51000",
        "JANE-PC",
        "Windows 11 Pro",
        "General Support",
        "Printer does not work",
        "John Rep",
        "REP-LAPTOP",
        "Hello, I will take a look now.",
        r"C:\Users\jcustomer\Desktop\driver.zip",
        "1.0 MiB",
        "<th>Operating System</th>",
        "<td>16 GB</td>",
        "Reinstalled printer driver.",
        "Conference Member Added",
        "Session recording",
    ] {
        assert!(html.contains(needle), "missing {needle:?} in\n{html}");
    }
    // Link URLs are escaped in the attribute, and the transcript keeps session order.
    assert!(
        html.contains("dl_action&#x3D;chat&amp;view&#x3D;1"),
        "{html}"
    );
    let chat = html.find("Hello, I will take a look now.").unwrap();
    let upload = html.find("driver.zip").unwrap();
    assert!(chat < upload);
    // Notes live in their own section, not in the transcript.
    assert_eq!(html.matches("Reinstalled printer driver.").count(), 1);
}

#[test]
fn hostile_text_stays_inert() {
    let mut s = parse_session_list(SESSION).unwrap().remove(0);
    let hostile = "<script>alert(1)</script> <img src=x onerror=alert(2)> {{lsid}} {{{lsid}}} \" ' <a href=\"javascript:x\">y</a>";
    s.events[2].body = Some(hostile.into());
    s.events[5].body = Some(hostile.into());
    s.customers[0].name = Some(hostile.into());
    s.customers[0].details = Some(hostile.into());
    s.chat_view_url = Some("javascript:alert(3)".into());
    let html = Renderer::builtin()
        .render(Template::Session, &session_view(&s, "default"))
        .unwrap();
    assert!(!html.contains("<script"), "{html}");
    assert!(!html.contains("<img"), "{html}");
    assert!(
        !html.contains("javascript:alert(3)"),
        "non-http links are dropped"
    );
    assert!(!html.contains("<a href=\"javascript"), "{html}");
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(
        html.contains("{{lsid}}"),
        "data is never re-evaluated as a template"
    );
    assert!(
        !html.contains("c69a8e10bea9428f816cfababe9815fe c69a8e10"),
        "{html}"
    );
}

#[test]
fn multi_line_chat_keeps_line_breaks_escaped() {
    let mut s = parse_session_list(SESSION).unwrap().remove(0);
    s.events[2].body = Some("first <b>\nsecond".into());
    let html = Renderer::builtin()
        .render(Template::Session, &session_view(&s, "d"))
        .unwrap();
    assert!(html.contains("first &lt;b&gt;<br>second"), "{html}");
}

#[test]
fn surveys_render_questions_and_answers() {
    let survey = &parse_exit_survey_list(SURVEY).unwrap()[0];
    let r = Renderer::builtin();
    let html = r
        .render(
            Template::CustomerSurvey,
            &survey_view(survey, "Customer exit survey"),
        )
        .unwrap();
    assert!(html.contains("Customer exit survey"));
    assert!(html.contains("<strong>Rating</strong>: 5 of 5"), "{html}");
    assert!(html.contains("Great help, thanks!"));
    assert!(html.contains("2023-11-14 22:29:10 UTC"));
    let mut hostile = survey.clone();
    hostile.questions[1].answers = vec!["<img src=x onerror=alert(1)>".into()];
    let html = r
        .render(Template::RepSurvey, &survey_view(&hostile, "Rep"))
        .unwrap();
    assert!(!html.contains("<img"));
}

#[test]
fn overrides_replace_one_template_each() {
    let dir = temp_dir("ok");
    std::fs::write(dir.join("customer-survey.hbs"), "CUSTOM {{lsid}}").unwrap();
    let r = Renderer::new(Some(&dir)).unwrap();
    let survey = &parse_exit_survey_list(SURVEY).unwrap()[0];
    let html = r
        .render(Template::CustomerSurvey, &survey_view(survey, "t"))
        .unwrap();
    assert_eq!(html, "CUSTOM c69a8e10bea9428f816cfababe9815fe");
    let rep = r
        .render(Template::RepSurvey, &survey_view(survey, "t"))
        .unwrap();
    assert!(
        rep.contains("<strong>Rating</strong>"),
        "rep survey keeps the built-in"
    );
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn broken_override_is_reported_with_its_file() {
    let dir = temp_dir("broken");
    std::fs::write(dir.join("session.hbs"), "{{#each customers}} unclosed").unwrap();
    let err = Renderer::new(Some(&dir)).unwrap_err().to_string();
    assert!(err.contains("session.hbs"), "{err}");
    std::fs::write(dir.join("session.hbs"), "{{no_such_helper lsid}}").unwrap();
    let err = Renderer::new(Some(&dir)).unwrap_err().to_string();
    assert!(
        err.contains("session.hbs") && err.contains("no_such_helper"),
        "{err}"
    );
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn marker_footer_is_small_visible_text() {
    let m = event_record("default", "abc", "support_conference_end", "");
    let html = with_marker("<p>x</p>", &m.to_line());
    assert!(html.ends_with(
        "<p><small>rsz/1 appliance=default lsid=abc event=support_conference_end</small></p>"
    ));
}

#[test]
fn session_comment_reads_summary_first_with_time_of_day_chat() {
    let html = render_fixture();
    let pos = |needle: &str| {
        html.find(needle)
            .unwrap_or_else(|| panic!("missing {needle:?} in\n{html}"))
    };
    // Outcome (who, when, how long, notes, links) before the chat, then details.
    assert!(pos("Duration:") < pos("Representative's notes"));
    assert!(pos("Reinstalled printer driver.") < pos("<h4>Chat on 2023-11-14 (UTC)</h4>"));
    assert!(pos("Session recording") < pos("<h4>Chat on"));
    assert!(pos("<h4>Chat on") < pos("<h4>Files transferred</h4>"));
    assert!(pos("<h4>Files transferred</h4>") < pos("<h4>Customers</h4>"));
    assert!(pos("<h4>Customers</h4>") < pos("<h4>System information</h4>"));
    // Chat lines carry the time of day only; the date is said once.
    assert!(
        html.contains("<li>22:1") && !html.contains("<li>[2023-11-14"),
        "{html}"
    );
}

#[test]
fn survey_answers_read_in_words() {
    use crate::render::view::answer_text;
    assert_eq!(answer_text(Some("radio"), &["5".into()]), "5 of 5");
    assert_eq!(answer_text(Some("radio"), &["3".into()]), "3 of 5");
    assert_eq!(answer_text(Some("text"), &["5".into()]), "5");
    assert_eq!(
        answer_text(Some("checkbox"), &["Yes".into(), "No".into()]),
        "Yes, No"
    );
}

#[test]
fn survey_scores_already_in_the_report_are_part_of_the_outcome() {
    let mut s = parse_session_list(SESSION).unwrap().remove(0);
    s.customer_survey = vec![crate::beyondtrust::model::Question {
        id: "1".into(),
        kind: Some("radio".into()),
        report_header: Some("Rating".into()),
        answers: vec!["4".into()],
        ..Default::default()
    }];
    let html = Renderer::builtin()
        .render(Template::Session, &session_view(&s, "default"))
        .unwrap();
    let score = html
        .find("Customer survey: Rating:</strong> 4 of 5")
        .expect(&html);
    assert!(score < html.find("<h4>Chat on").unwrap());
    assert_eq!(
        crate::render::view::rating(&s.customer_survey).as_deref(),
        Some("4")
    );
}
