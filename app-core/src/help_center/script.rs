//! The snippet's inline script: progressive enhancement of the no-script form.
//!
//! Without it the form still submits a GET to the appliance (form encoding, `+` for spaces).
//! With it the click opens the exact URL app-core builds: the issue prefix comes from the
//! option's `data-start-url` (written by Rust), the request values from the form's hidden inputs
//! (escaped by Help Center), encoded like [`super::start_url::encode`]; an empty name or subject
//! is left out, as [`super::start_url::start_session_url`] does.
//!
//! Constraints, checked by tests: no `{{` or `}}` (Help Center would compile them as template
//! code), no `</` (would end the script element), no external resource, plain ES5.

/// The id of the generated `<form>`; the script finds its form by it.
pub const FORM_ID: &str = "rsz-get-support";

/// The script body, placed in a `<script>` element right after the form.
pub const SCRIPT: &str = r#"(function () {
  var form = document.getElementById('rsz-get-support');
  if (!form || !form.addEventListener) { return; }
  function enc(value) {
    return encodeURIComponent(value).replace(/[!'()*]/g, function (c) {
      return '%' + c.charCodeAt(0).toString(16).toUpperCase();
    });
  }
  function param(name) {
    var input = form.elements[name];
    var value = input ? String(input.value) : '';
    return value ? '&' + name + '=' + enc(value) : '';
  }
  form.addEventListener('submit', function (event) {
    var select = form.elements.codeName;
    var option = select && select.options[select.selectedIndex];
    var prefix = option && option.getAttribute('data-start-url');
    if (!prefix) { return; }
    event.preventDefault();
    var url = prefix + param('customer.name') + param('customer.details') +
      param('session.custom.external_key');
    var button = form.querySelector('button[type=submit]');
    var status = form.querySelector('.rsz-status');
    var starting = button && button.getAttribute('data-starting');
    if (button && starting) {
      button.disabled = true;
      if (status) { status.textContent = starting; }
      setTimeout(function () {
        button.disabled = false;
        if (status) { status.textContent = ''; }
      }, 5000);
    }
    var opened = window.open(url, '_blank');
    if (opened) { opened.opener = null; } else { window.location.href = url; }
  });
})();"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_is_safe_inside_a_help_center_template() {
        assert!(
            !SCRIPT.contains("{{"),
            "Help Center would compile {{{{ as template code"
        );
        assert!(
            !SCRIPT.contains("}}"),
            "Help Center would see }}}} as a template close"
        );
        assert!(!SCRIPT.contains("</"), "would end the <script> element");
        assert!(!SCRIPT.contains("src="), "no external resource");
        assert!(SCRIPT.contains(&format!("getElementById('{FORM_ID}')")));
    }
}
