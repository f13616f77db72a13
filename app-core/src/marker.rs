//! The session record every middleware comment carries: a versioned, one-line plain-text record.
//!
//! Format, version 1 (`rsz/1`), one line of space-separated `key=value` fields after the prefix:
//!
//! ```text
//! rsz/1 appliance=prod lsid=abc123 event=support_conference_end start=2026-11-24T16:27:03Z duration=754 rep=John%20Rep survey=5
//! ```
//!
//! - `appliance`, `lsid`, `event` (required) identify the session event; `ts` (the outbound
//!   event's timestamp) is added for events that may happen more than once per session (surveys);
//!   `part=N/M` marks one comment of a report split over M comments.
//! - `start` (ISO 8601, UTC), `duration` (seconds), `rep` (primary representative) and `survey`
//!   (the survey's rating, when known) describe the session for readers such as the sidebar app.
//! - Values are percent-encoded UTF-8: only `A-Z a-z 0-9 - . _ ~ : / +` appear literally, so a
//!   value never contains a space, `<`, `&` or a quote and the line survives Zendesk's HTML
//!   sanitiser (which drops comments and data attributes but keeps text) both in `html_body` and
//!   in the plain `body`.
//! - Unknown keys are ignored by the parser (newer writers may add fields); a new, incompatible
//!   layout gets a new prefix (`rsz/2`).
//!
//! The identity ([`Marker::same_comment`]) is appliance + lsid + event + ts + part: the exactly
//! once lookup compares identities, never the descriptive fields.

use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// Prefix of version 1 records.
pub const PREFIX: &str = "rsz/1";

/// Characters written literally; everything else is `%XX`.
const ENCODE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b':')
    .remove(b'/')
    .remove(b'+');

/// One session record.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Marker {
    pub appliance: String,
    pub lsid: String,
    pub event: String,
    /// Outbound event timestamp, for events that can occur more than once per session.
    pub ts: Option<String>,
    /// `(n, of)`: this comment is part n (1-based) of a report split over `of` comments.
    pub part: Option<(u32, u32)>,
    /// Session start, ISO 8601 UTC (`2026-11-24T16:27:03Z`).
    pub start: Option<String>,
    pub duration_secs: Option<u64>,
    pub rep: Option<String>,
    /// The survey's rating as answered (e.g. `5`), when known.
    pub survey: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MarkerError {
    #[error("not a session record (expected it to start with {PREFIX})")]
    NotARecord,
    #[error("session record lacks {0}")]
    Missing(&'static str),
    #[error("session record field {0} is malformed")]
    Malformed(String),
}

fn enc(v: &str) -> String {
    utf8_percent_encode(v, ENCODE).to_string()
}

impl Marker {
    pub fn new(appliance: &str, lsid: &str, event: &str) -> Self {
        Self {
            appliance: appliance.into(),
            lsid: lsid.into(),
            event: event.into(),
            ..Self::default()
        }
    }

    /// The record as one line of text.
    pub fn to_line(&self) -> String {
        let mut out = format!(
            "{PREFIX} appliance={} lsid={} event={}",
            enc(&self.appliance),
            enc(&self.lsid),
            enc(&self.event)
        );
        let mut push = |k: &str, v: Option<String>| {
            if let Some(v) = v.filter(|v| !v.is_empty()) {
                out.push(' ');
                out.push_str(k);
                out.push('=');
                out.push_str(&enc(&v));
            }
        };
        push("ts", self.ts.clone());
        push("part", self.part.map(|(n, of)| format!("{n}/{of}")));
        push("start", self.start.clone());
        push("duration", self.duration_secs.map(|d| d.to_string()));
        push("rep", self.rep.clone());
        push("survey", self.survey.clone());
        out
    }

    /// Whether `other` records the same comment (identity fields only).
    pub fn same_comment(&self, other: &Marker) -> bool {
        self.appliance == other.appliance
            && self.lsid == other.lsid
            && self.event == other.event
            && self.ts == other.ts
            && self.part == other.part
    }

    /// Whether `other` records the same event (any part).
    pub fn same_event(&self, other: &Marker) -> bool {
        self.appliance == other.appliance
            && self.lsid == other.lsid
            && self.event == other.event
            && self.ts == other.ts
    }

    /// The identity as a short key (`appliance:lsid:event[:ts][#n/m]`), e.g. for storage.
    pub fn key(&self) -> String {
        let mut k = format!("{}:{}:{}", self.appliance, self.lsid, self.event);
        if let Some(ts) = &self.ts {
            k.push(':');
            k.push_str(ts);
        }
        if let Some((n, of)) = self.part {
            k.push_str(&format!("#{n}/{of}"));
        }
        k
    }
}

/// Parses one record (the text from the prefix to the end of the record).
pub fn parse(line: &str) -> Result<Marker, MarkerError> {
    let mut tokens = line.split_whitespace();
    if tokens.next() != Some(PREFIX) {
        return Err(MarkerError::NotARecord);
    }
    let mut m = Marker::default();
    let (mut has_a, mut has_l, mut has_e) = (false, false, false);
    for token in tokens {
        let Some((k, v)) = token.split_once('=') else {
            return Err(MarkerError::Malformed(token.chars().take(40).collect()));
        };
        let v = percent_decode_str(v)
            .decode_utf8()
            .map_err(|_| MarkerError::Malformed(k.to_string()))?
            .into_owned();
        match k {
            "appliance" => (m.appliance, has_a) = (v, true),
            "lsid" => (m.lsid, has_l) = (v, true),
            "event" => (m.event, has_e) = (v, true),
            "ts" => m.ts = Some(v),
            "part" => {
                let parsed = v
                    .split_once('/')
                    .and_then(|(n, of)| Some((n.parse().ok()?, of.parse().ok()?)))
                    .filter(|(n, of): &(u32, u32)| *n >= 1 && n <= of);
                m.part = Some(parsed.ok_or_else(|| MarkerError::Malformed("part".into()))?);
            }
            "start" => m.start = Some(v),
            "duration" => {
                m.duration_secs = Some(
                    v.parse()
                        .map_err(|_| MarkerError::Malformed("duration".into()))?,
                )
            }
            "rep" => m.rep = Some(v),
            "survey" => m.survey = Some(v),
            _ => {} // newer writers may add fields
        }
    }
    for (ok, name) in [(has_a, "appliance"), (has_l, "lsid"), (has_e, "event")] {
        if !ok {
            return Err(MarkerError::Missing(name));
        }
    }
    if m.lsid.is_empty() || m.event.is_empty() {
        return Err(MarkerError::Missing("lsid/event value"));
    }
    Ok(m)
}

/// Every well-formed record in a comment, from its plain `body` or its `html_body` (a record
/// ends at a line break, `<` or the end of the text; malformed ones are skipped).
pub fn find_all(text: &str) -> Vec<Marker> {
    text.match_indices(PREFIX)
        .filter(|(at, _)| {
            // A record starts a word: not glued to preceding text.
            text[..*at]
                .chars()
                .next_back()
                .is_none_or(|c| c.is_whitespace() || c == '>')
        })
        .filter_map(|(at, _)| {
            let rest = &text[at..];
            let end = rest.find(['\n', '\r', '<']).unwrap_or(rest.len());
            parse(&rest[..end]).ok()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full() -> Marker {
        Marker {
            appliance: "prod eu".into(),
            lsid: "a1b2c3".into(),
            event: "support_conference_end".into(),
            ts: None,
            part: Some((2, 3)),
            start: Some("2026-11-24T16:27:03Z".into()),
            duration_secs: Some(754),
            rep: Some("Jöhn <Rep> & \"Co\"".into()),
            survey: Some("5".into()),
        }
    }

    #[test]
    fn round_trips_every_field() {
        let m = full();
        let line = m.to_line();
        assert!(line.starts_with("rsz/1 appliance=prod%20eu lsid=a1b2c3 event="));
        for bad in ['<', '>', '&', '"', '\'', '\n'] {
            assert!(!line.contains(bad), "{line}");
        }
        assert_eq!(line.split(' ').count(), 9, "{line}");
        assert_eq!(parse(&line), Ok(m));
    }

    #[test]
    fn minimal_record_parses_and_unknown_fields_are_ignored() {
        let m = parse("rsz/1 appliance=a lsid=l event=e future=x").unwrap();
        assert_eq!(m, Marker::new("a", "l", "e"));
        assert_eq!(
            parse("rsz/1 lsid=l event=e"),
            Err(MarkerError::Missing("appliance"))
        );
        assert_eq!(
            parse("rsz/2 appliance=a lsid=l event=e"),
            Err(MarkerError::NotARecord)
        );
        assert!(parse("rsz/1 appliance=a lsid=l event=e part=4/3").is_err());
        assert!(parse("rsz/1 appliance=a lsid=l event=e duration=soon").is_err());
    }

    #[test]
    fn found_in_html_and_plain_bodies_after_sanitising() {
        let m = full();
        let html = format!(
            "<p>report</p>\n<p style=\"color:#999\"><small>{}</small></p>",
            m.to_line()
        );
        assert_eq!(find_all(&html), vec![m.clone()]);
        let plain = format!("report\n{}\n", m.to_line());
        assert_eq!(find_all(&plain), vec![m.clone()]);
        // Glued to other text, it is not a record.
        assert!(find_all(&format!("x{}", m.to_line())).is_empty());
    }

    #[test]
    fn identity_ignores_descriptive_fields() {
        let a = full();
        let mut b = a.clone();
        b.duration_secs = Some(1);
        b.rep = None;
        assert!(a.same_comment(&b));
        b.part = Some((3, 3));
        assert!(!a.same_comment(&b));
        assert!(a.same_event(&b));
        b.ts = Some("17".into());
        assert!(!a.same_event(&b));
        assert_eq!(a.key(), "prod eu:a1b2c3:support_conference_end#2/3");
    }
}
