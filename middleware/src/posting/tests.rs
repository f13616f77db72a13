use super::*;
use crate::render::view::{SysInfoView, TranscriptEntry};
use crate::render::{Renderer, Template};

fn record() -> Marker {
    Marker {
        start: Some("2026-11-24T16:27:03Z".into()),
        duration_secs: Some(754),
        rep: Some("John Rep".into()),
        ..Marker::new("prod", "lsid1", "support_conference_end")
    }
}

fn big_view(chat_lines: usize) -> SessionView {
    let mut v = SessionView {
        lsid: "lsid1".into(),
        primary_rep: Some("John Rep".into()),
        primary_customer: Some("Jane <Customer>".into()),
        date: Some("2026-11-24".into()),
        ..Default::default()
    };
    for i in 0..chat_lines {
        v.transcript.push(TranscriptEntry {
            clock: "16:30:00".into(),
            is_chat: true,
            from: Some("Jane".into()),
            lines: vec![format!("chat line {i:04} & more <text>")],
            ..Default::default()
        });
    }
    v.transcript_total = chat_lines;
    for name in ["Overview", "Memory", "Processes", "Services", "Drivers"] {
        v.system_information.push(SysInfoView {
            name: name.into(),
            headers: vec!["Name".into(), "Value".into()],
            rows: (0..300)
                .map(|r| vec![format!("{name} row {r}"), "x".repeat(40)])
                .collect(),
        });
    }
    v
}

fn cats() -> Vec<String> {
    crate::config::DEFAULT_SYSINFO_CATEGORIES
        .iter()
        .map(|c| c.to_string())
        .collect()
}

fn plan(view: &SessionView, max: usize) -> Plan {
    let r = Renderer::builtin();
    plan_session(view, &record(), &cats(), max, |v| {
        r.render(Template::Session, v)
    })
    .unwrap()
}

fn text_of(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

#[test]
fn a_small_report_is_one_comment_with_the_limited_categories() {
    let mut v = big_view(3);
    for c in &mut v.system_information {
        c.rows.truncate(2);
    }
    let Plan::Single(c) = plan(&v, 60_000) else {
        panic!("expected one comment")
    };
    assert!(c.html.contains("Overview row 0") && c.html.contains("Memory row 1"));
    assert!(!c.html.contains("Processes row"), "not a default category");
    assert!(
        c.html.contains("Processes, Services, Drivers"),
        "omitted ones are named"
    );
    assert_eq!(app_core::marker::find_all(&c.html), vec![record()]);
}

#[test]
fn an_oversized_report_is_attached_whole_and_the_comment_keeps_the_latest_lines() {
    let v = big_view(1500);
    let Plan::Attached {
        file,
        comment,
        fallback,
    } = plan(&v, 60_000)
    else {
        panic!("expected an attachment")
    };
    let size = comment.html.chars().count();
    assert!(size <= 60_000 && size > 50_000, "{size}");
    assert_eq!(file.name, "beyondtrust-session-lsid1.html");
    for i in 0..1500 {
        assert!(file
            .html
            .contains(&format!("chat line {i:04} &amp; more &lt;text&gt;")));
    }
    assert!(file.html.contains("Drivers row 299"));
    assert!(comment.html.contains("chat line 1499"), "latest line kept");
    assert!(
        !comment.html.contains("chat line 0000"),
        "earliest left to the file"
    );
    assert!(comment
        .html
        .contains("earlier entries are in the attached full report"));
    assert!(comment
        .html
        .contains("Full report attached:</strong> beyondtrust-session-lsid1.html"));
    assert!(
        comment.html.find("John Rep").unwrap() < comment.html.find("chat line").unwrap(),
        "summary first"
    );
    assert_eq!(app_core::marker::find_all(&comment.html), vec![record()]);
    // The fallback parts: each within budget, numbered, together the whole report.
    assert!(fallback.len() >= 3, "{}", fallback.len());
    let mut all = String::new();
    for (i, p) in fallback.iter().enumerate() {
        assert!(p.html.chars().count() <= 60_000);
        assert_eq!(p.record.part, Some((i as u32 + 1, fallback.len() as u32)));
        assert_eq!(app_core::marker::find_all(&p.html), vec![p.record.clone()]);
        all.push_str(&p.html);
    }
    let text = text_of(&all);
    for i in 0..1500 {
        assert!(
            text.contains(&format!("chat line {i:04} &amp; more &lt;text&gt;")),
            "line {i}"
        );
    }
    for r in 0..300 {
        assert!(text.contains(&format!("Services row {r}")));
    }
}

#[test]
fn split_parts_are_well_formed_and_lose_nothing() {
    let html = format!(
        "<h3>T</h3>\n<ul>\n{}</ul>\n<table>\n{}</table>\n<p>{}</p>\n",
        (0..400)
            .map(|i| format!("<li>item {i}</li>\n"))
            .collect::<String>(),
        (0..400)
            .map(|i| format!("<tr><td>cell {i}</td></tr>\n"))
            .collect::<String>(),
        "word ".repeat(3000)
    );
    let parts = split_html(&html, 4000);
    assert!(parts.len() > 5);
    for p in &parts {
        assert!(p.chars().count() <= 4000 + CLOSE_MARGIN, "{}", p.len());
        let mut stack = Vec::new();
        track(&mut stack, p);
        assert!(stack.is_empty(), "unclosed {stack:?} in {p}");
    }
    let joined = text_of(&parts.concat());
    assert_eq!(joined.matches("item ").count(), 400);
    assert_eq!(joined.matches("cell ").count(), 400);
    assert_eq!(joined.matches("word").count(), 3000);
}

#[test]
fn an_oversized_survey_is_split() {
    let html = format!("<ul>{}</ul>", "<li>answer</li>\n".repeat(5000));
    let Plan::Split(parts) = plan_html(&html, &record(), 20_000) else {
        panic!("expected parts")
    };
    assert!(parts.len() >= 4);
    assert!(parts.iter().all(|p| p.html.chars().count() <= 20_000));
    assert_eq!(plan_html("<p>x</p>", &record(), 20_000).comments().len(), 1);
}
