//! Where the snippet goes: the admin's step-by-step guide for Copenhagen-based themes.

/// The template the snippet is pasted into.
pub const TEMPLATE: &str = "templates/request_page.hbs";

/// The Copenhagen line the snippet is pasted directly below.
pub const ANCHOR: &str = r#"<h1 class="request-title">{{request.subject}}</h1>"#;

/// The English steps. Each is shown as written (plain text, not markup).
pub fn english_steps() -> Vec<String> {
    [
        "In Zendesk, open Knowledge admin (Guide admin) and click Customize design in the sidebar.",
        "On the theme your Help Center uses, click Customize, then Edit code. Editing theme code needs a Guide plan that allows it: if Edit code is missing or locked, your plan does not include it. Tip: duplicate the theme first and preview the copy before you publish it.",
        "Under Templates, open request_page.hbs.",
        r#"Find the line <h1 class="request-title">{{request.subject}}</h1> and paste the snippet on a new line directly below it. If your theme has no such line, paste the snippet anywhere inside the page's main content."#,
        "Click Save, then publish the theme. Open one of your own open requests in Help Center: it shows the issue picker and the Get Support Now button (only the requester sees them, and not on closed requests).",
        "When you change the appliance hostname or the issues in the app settings, copy the new snippet and replace the old one.",
    ]
    .into_iter()
    .map(String::from)
    .collect()
}
