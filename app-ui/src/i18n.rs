//! The sidebar's text, from `translations/*.json` embedded at build time (see `build.rs`).
//!
//! The agent's Zendesk locale picks the catalog: an exact match (`pt-br`), then the language
//! (`de` for `de-CH`), then English. A key missing from a catalog falls back to English, so a
//! partial translation never shows a raw key.

include!(concat!(env!("OUT_DIR"), "/catalogs.rs"));

/// The default locale (the manifest's `defaultLocale`).
pub const DEFAULT_LOCALE: &str = "en";

/// A chosen catalog. Cheap to copy and compare, so components take it as a prop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct I18n {
    locale: &'static str,
    table: &'static [(&'static str, &'static str)],
    fallback: &'static [(&'static str, &'static str)],
}

fn catalog(locale: &str) -> Option<(&'static str, &'static [(&'static str, &'static str)])> {
    CATALOGS.iter().find(|(name, _)| *name == locale).copied()
}

impl I18n {
    /// The catalog for a Zendesk locale such as `en-US`, `de`, `pt-BR`.
    pub fn for_locale(requested: &str) -> I18n {
        let requested = requested.trim().to_ascii_lowercase().replace('_', "-");
        let language = requested.split('-').next().unwrap_or_default();
        let fallback = catalog(DEFAULT_LOCALE).map(|(_, t)| t).unwrap_or(&[]);
        let (locale, table) = catalog(&requested)
            .or_else(|| catalog(language))
            .unwrap_or((DEFAULT_LOCALE, fallback));
        I18n {
            locale,
            table,
            fallback,
        }
    }

    /// The locale actually used (for `lang` attributes and tests).
    pub fn locale(&self) -> &'static str {
        self.locale
    }

    /// The text of `key`, or `""` if no catalog has it (a test checks every key the UI uses).
    pub fn t(&self, key: &str) -> &'static str {
        lookup(self.table, key)
            .or_else(|| lookup(self.fallback, key))
            .unwrap_or("")
    }

    /// The text of `key` with `{{name}}` placeholders replaced.
    /// Single pass: a value that itself contains `{{...}}` is never substituted again; an
    /// unknown placeholder stays as written.
    pub fn format(&self, key: &str, args: &[(&str, String)]) -> String {
        let mut rest = self.t(key);
        let mut out = String::with_capacity(rest.len());
        while let Some(start) = rest.find("{{") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let Some(end) = after.find("}}") else {
                out.push_str(&rest[start..]);
                return out;
            };
            let name = &after[..end];
            match args.iter().find(|(n, _)| *n == name) {
                Some((_, value)) => out.push_str(value),
                None => out.push_str(&rest[start..start + 2 + end + 2]),
            }
            rest = &after[end + 2..];
        }
        out.push_str(rest);
        out
    }

    /// Every locale with a catalog.
    pub fn locales() -> impl Iterator<Item = &'static str> {
        CATALOGS.iter().map(|(name, _)| *name)
    }

    /// A settings problem in the agent's language; a setting is named by its translated label
    /// (what the admin sees on the settings page), not by its parameter name.
    pub fn settings_error(&self, error: &app_core::settings::SettingsError) -> String {
        let args: Vec<(&str, String)> = error
            .args()
            .into_iter()
            .map(|(name, value)| {
                if name == "toggle" || name == "setting" {
                    let label = self.t(&format!("app.parameters.{value}.label"));
                    (
                        name,
                        if label.is_empty() {
                            value
                        } else {
                            label.to_string()
                        },
                    )
                } else {
                    (name, value)
                }
            })
            .collect();
        self.format(error.key(), &args)
    }
}

fn lookup(table: &'static [(&'static str, &'static str)], key: &str) -> Option<&'static str> {
    table
        .binary_search_by(|(k, _)| (*k).cmp(key))
        .ok()
        .map(|i| table[i].1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use app_core::jump_type::JumpType;
    use app_core::settings::SettingsError;

    #[test]
    fn picks_exact_language_then_english() {
        assert_eq!(I18n::for_locale("de").locale(), "de");
        assert_eq!(I18n::for_locale("de-CH").locale(), "de");
        assert_eq!(I18n::for_locale("en-US").locale(), "en");
        assert_eq!(I18n::for_locale("xx").locale(), "en");
        assert_eq!(I18n::for_locale("").locale(), "en");
        assert_eq!(
            I18n::for_locale("de").t("ui.session_key.button"),
            "Sitzungsschlüssel erzeugen"
        );
        assert_eq!(
            I18n::for_locale("fr").t("ui.session_key.button"),
            "Generate Session Key"
        );
    }

    #[test]
    fn every_locale_has_every_english_key() {
        let en = catalog("en").expect("en catalog").1;
        assert!(en.len() > 40, "en has the ui strings");
        for locale in I18n::locales() {
            let table = catalog(locale).expect("listed").1;
            let missing: Vec<_> = en
                .iter()
                .filter(|(k, _)| lookup(table, k).is_none())
                .map(|(k, _)| *k)
                .collect();
            assert!(missing.is_empty(), "{locale} lacks {missing:?}");
        }
    }

    #[test]
    fn every_error_key_exists() {
        let i = I18n::for_locale("en");
        let errors = [
            SettingsError::HostnameMissing,
            SettingsError::HostnameHasScheme {
                suggestion: "s".into(),
            },
            SettingsError::HostnameHasPath {
                suggestion: "s".into(),
            },
            SettingsError::HostnameHasSpaces,
            SettingsError::HostnameBadCharacter { character: '!' },
            SettingsError::HostnameBadPort { port: "0".into() },
            SettingsError::HostnameTooLong { length: 300 },
            SettingsError::HostnameBadLabel { label: "-a".into() },
            SettingsError::HostnameBadAddress {
                host: "10.0.0.300".into(),
            },
            SettingsError::IssueLineMalformed { line: 1 },
            SettingsError::IssueCodeDuplicate {
                line: 2,
                code: "c".into(),
                first_line: 1,
            },
            SettingsError::JumpointRequired {
                toggle: JumpType::Rdp,
            },
            SettingsError::NotABoolean {
                setting: "allow_rdp",
                value: "x".into(),
            },
        ];
        for e in &errors {
            let text = i.settings_error(e);
            assert!(!i.t(e.key()).is_empty(), "{}", e.key());
            assert!(!text.contains("{{"), "unreplaced placeholder in {text}");
        }
        use app_core::jump::JumpProblem::*;
        for p in [
            TypeNotEnabled,
            SearchRequired,
            TargetRequired,
            TargetHasSpaces,
            JumpointRequired,
            PortInvalid,
        ] {
            assert!(!i.t(p.key()).is_empty(), "{}", p.key());
        }
        for t in JumpType::ALL {
            assert!(!i.t(&format!("ui.jump.types.{}", t.id())).is_empty());
        }
        for key in [
            "sent",
            "link_session_key",
            "link_jump",
            "didnt_open",
            "check_console",
            "check_certificate",
            "check_popups",
            "blocked",
            "copy_label",
        ] {
            assert!(!i.t(&format!("ui.launch.{key}")).is_empty(), "{key}");
        }
    }

    #[test]
    fn placeholders_and_toggle_labels() {
        let de = I18n::for_locale("de");
        assert_eq!(
            de.settings_error(&SettingsError::IssueLineMalformed { line: 4 }),
            "Anliegen, Zeile 4: Schreiben Sie sie als issue_code=Name des Anliegens."
        );
        let en = I18n::for_locale("en");
        let text = en.settings_error(&SettingsError::JumpointRequired {
            toggle: JumpType::ShellJump,
        });
        assert!(
            text.starts_with("“Allow Remote Console Session” is on"),
            "{text}"
        );
        assert_eq!(
            de.settings_error(&SettingsError::NotABoolean {
                setting: "allow_rdp",
                value: "vielleicht".into()
            }),
            "„Remotedesktop-Sitzungen (RDP) erlauben“ sollte ein- oder ausgeschaltet sein, nicht „vielleicht“."
        );
        assert_eq!(en.t("no.such.key"), "");
        // Values are inserted once, never re-expanded.
        let text = en.format(
            "ui.settings_error.issue_code_duplicate",
            &[("line", "{{code}}".into()), ("code", "c".into())],
        );
        assert_eq!(
            text,
            "Issues, line {{code}}: the code “c” is already used on line {{first_line}}."
        );
    }
}
