//! One test per validator rule: a known-good package is written to a temp folder, one thing is
//! broken, and the exact message a user would see is asserted.
use std::fs;
use std::io::{Cursor, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::{json, Value};

use super::{validate_path, Level};

static NEXT: AtomicUsize = AtomicUsize::new(0);

/// A package folder in the temp dir, removed on drop.
struct Fixture {
    dir: PathBuf,
}

fn png(width: u32, height: u32) -> Vec<u8> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, width, height);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().unwrap();
    writer
        .write_image_data(&vec![200u8; (width * height) as usize])
        .unwrap();
    writer.finish().unwrap();
    out
}

fn good_manifest() -> Value {
    json!({
        "name": "Test App",
        "author": { "name": "Tester", "email": "t@example.com", "url": "https://example.com" },
        "defaultLocale": "en",
        "private": true,
        "location": { "support": { "ticket_sidebar": { "url": "assets/iframe.html", "flexible": true } } },
        "version": "1.0.0",
        "frameworkVersion": "2.0",
        "domainWhitelist": ["support.example.com"],
        "parameters": [
            { "name": "hostname", "type": "text", "required": true },
            { "name": "api_token", "type": "text", "secure": true, "scopes": ["header"] },
            { "name": "enabled", "type": "checkbox", "default": true }
        ]
    })
}

fn good_translations() -> Value {
    json!({ "app": {
        "name": "Test App",
        "short_description": "Short.",
        "long_description": "Long.",
        "installation_instructions": "Install.",
        "parameters": {
            "hostname": { "label": "Hostname", "helpText": "The host." },
            "api_token": { "label": "API token" },
            "enabled": { "label": "Enabled" }
        }
    }})
}

impl Fixture {
    fn good() -> Fixture {
        let n = NEXT.fetch_add(1, Ordering::SeqCst);
        let dir = std::env::temp_dir().join(format!("xtask-validate-{}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let f = Fixture { dir };
        f.write_json("manifest.json", &good_manifest());
        f.write_json("translations/en.json", &good_translations());
        f.write(
            "assets/iframe.html",
            b"<!doctype html><script type=module src=zendesk_app.js></script>",
        );
        f.write("assets/logo.png", &png(320, 320));
        f.write("assets/logo-small.png", &png(128, 128));
        f
    }

    fn write(&self, rel: &str, bytes: &[u8]) {
        let path = self.dir.join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, bytes).unwrap();
    }

    fn write_json(&self, rel: &str, value: &Value) {
        self.write(rel, serde_json::to_string_pretty(value).unwrap().as_bytes());
    }

    fn remove(&self, rel: &str) {
        fs::remove_file(self.dir.join(rel)).unwrap();
    }

    fn edit_json(&self, rel: &str, edit: impl FnOnce(&mut Value)) {
        let mut value: Value =
            serde_json::from_slice(&fs::read(self.dir.join(rel)).unwrap()).unwrap();
        edit(&mut value);
        self.write_json(rel, &value);
    }

    fn manifest(&self, edit: impl FnOnce(&mut Value)) {
        self.edit_json("manifest.json", edit);
    }

    fn translations(&self, edit: impl FnOnce(&mut Value)) {
        self.edit_json("translations/en.json", edit);
    }

    /// Zips the folder with every entry under `prefix` (empty: the folder is the zip root).
    fn zip(&self, prefix: &str) -> PathBuf {
        let path = self.dir.with_extension("zip");
        let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default();
        for (rel, abs) in crate::archive::list_files(&self.dir).unwrap() {
            writer
                .start_file(format!("{prefix}{rel}"), options)
                .unwrap();
            writer.write_all(&fs::read(abs).unwrap()).unwrap();
        }
        fs::write(&path, writer.finish().unwrap().into_inner()).unwrap();
        path
    }

    fn findings(path: &Path, level: Level) -> Vec<String> {
        let report = validate_path(path).unwrap();
        report
            .findings
            .iter()
            .filter(|f| f.level == level)
            .map(ToString::to_string)
            .collect()
    }

    fn errors(&self) -> Vec<String> {
        Fixture::findings(&self.dir, Level::Error)
    }

    fn warnings(&self) -> Vec<String> {
        Fixture::findings(&self.dir, Level::Warning)
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.dir);
        let _ = fs::remove_file(self.dir.with_extension("zip"));
    }
}

fn obj(v: &mut Value) -> &mut serde_json::Map<String, Value> {
    v.as_object_mut().unwrap()
}

fn param(v: &mut Value, index: usize) -> &mut serde_json::Map<String, Value> {
    v["parameters"][index].as_object_mut().unwrap()
}

fn assert_errors(f: &Fixture, expected: &[&str]) {
    assert_eq!(f.errors(), expected);
}

#[test]
fn the_good_base_passes_as_folder_and_as_zip() {
    let f = Fixture::good();
    assert_eq!(f.errors(), Vec::<String>::new());
    assert_eq!(f.warnings(), Vec::<String>::new());
    let zip = f.zip("");
    assert_eq!(Fixture::findings(&zip, Level::Error), Vec::<String>::new());
}

#[test]
fn missing_author() {
    let f = Fixture::good();
    f.manifest(|m| {
        obj(m).remove("author");
    });
    assert_errors(
        &f,
        &["manifest.json: Missing required field in manifest: author"],
    );
}

#[test]
fn missing_default_locale() {
    let f = Fixture::good();
    f.manifest(|m| {
        obj(m).remove("defaultLocale");
    });
    assert_errors(
        &f,
        &["manifest.json: Missing required field in manifest: defaultLocale"],
    );
}

#[test]
fn missing_location() {
    let f = Fixture::good();
    f.manifest(|m| {
        obj(m).remove("location");
    });
    assert_errors(
        &f,
        &["manifest.json: Missing required field in manifest: location"],
    );
}

#[test]
fn missing_framework_version() {
    let f = Fixture::good();
    f.manifest(|m| {
        obj(m).remove("frameworkVersion");
    });
    assert_errors(
        &f,
        &["manifest.json: Missing required field in manifest: frameworkVersion"],
    );
}

#[test]
fn framework_version_other_than_2_0() {
    let f = Fixture::good();
    f.manifest(|m| m["frameworkVersion"] = json!("3.0"));
    assert_errors(
        &f,
        &["manifest.json: 3.0 is not a valid framework version. Available versions are: 2.0."],
    );
}

#[test]
fn manifest_syntax_error_names_line_and_column() {
    let f = Fixture::good();
    f.write(
        "manifest.json",
        b"{\n  \"name\": \"x\",\n  \"author\": \n}\n",
    );
    assert_errors(
        &f,
        &["manifest.json: manifest is not proper JSON. expected value at line 4 column 1"],
    );
}

#[test]
fn manifest_not_at_the_zip_root() {
    let f = Fixture::good();
    let zip = f.zip("inner/");
    let name = zip.file_name().unwrap().to_string_lossy().into_owned();
    assert_eq!(
        Fixture::findings(&zip, Level::Error),
        [format!(
            "{name}: Could not find manifest.json in the root of the zip file, but inner/manifest.json was found. Try re-creating the archive from this directory."
        )]
    );
}

#[test]
fn no_manifest_at_all() {
    let f = Fixture::good();
    f.remove("manifest.json");
    assert_errors(&f, &["manifest.json: Could not find manifest.json"]);
}

#[test]
fn unknown_location() {
    let f = Fixture::good();
    f.manifest(|m| {
        m["location"] = json!({ "support": { "ticket_sidebarx": "assets/iframe.html" } })
    });
    assert_errors(
        &f,
        &["manifest.json: ticket_sidebarx is an invalid location in Support."],
    );
}

#[test]
fn unknown_host() {
    let f = Fixture::good();
    f.manifest(|m| m["location"]["foo"] = json!({ "ticket_sidebar": "assets/iframe.html" }));
    assert_errors(&f, &["manifest.json: foo is an invalid host for apps."]);
}

#[test]
fn location_url_naming_a_missing_asset() {
    let f = Fixture::good();
    f.manifest(|m| m["location"]["support"]["ticket_sidebar"]["url"] = json!("assets/nope.html"));
    assert_errors(
        &f,
        &["manifest.json: assets/nope.html is either an invalid location URI, refers to a missing asset, or does not use HTTPS."],
    );
}

#[test]
fn location_url_over_plain_http() {
    let f = Fixture::good();
    f.manifest(|m| {
        m["location"]["support"]["ticket_sidebar"]["url"] = json!("http://example.com/app.html")
    });
    assert_errors(
        &f,
        &["manifest.json: http://example.com/app.html is either an invalid location URI, refers to a missing asset, or does not use HTTPS."],
    );
}

#[test]
fn location_urls_zendesk_accepts() {
    for url in [
        "https://example.com/app",
        "http://localhost:4567/app",
        "{{setting.host}}/app",
        "assets/iframe.html?x=1",
    ] {
        let f = Fixture::good();
        f.manifest(|m| m["location"]["support"]["ticket_sidebar"]["url"] = json!(url));
        assert_errors(&f, &[]);
    }
}

#[test]
fn location_without_url() {
    let f = Fixture::good();
    f.manifest(|m| m["location"]["support"]["ticket_sidebar"] = json!({ "flexible": true }));
    assert_errors(
        &f,
        &["manifest.json: ticket_sidebar location does not specify a URI."],
    );
}

#[test]
fn flexible_not_boolean() {
    let f = Fixture::good();
    f.manifest(|m| m["location"]["support"]["ticket_sidebar"]["flexible"] = json!("yes"));
    assert_errors(
        &f,
        &["manifest.json: yes is an invalid type for the flexible location parameter."],
    );
}

#[test]
fn password_parameter_type() {
    let f = Fixture::good();
    f.manifest(|m| {
        param(m, 1).insert("type".into(), json!("password"));
    });
    assert_errors(
        &f,
        &["manifest.json: password is an invalid parameter type."],
    );
}

#[test]
fn parameter_called_name() {
    let f = Fixture::good();
    f.manifest(|m| {
        param(m, 0).insert("name".into(), json!("name"));
    });
    f.translations(|t| t["app"]["parameters"]["name"] = json!({ "label": "Name" }));
    assert_errors(&f, &["manifest.json: Can't call a parameter 'name'"]);
}

#[test]
fn hidden_parameter_that_is_required() {
    let f = Fixture::good();
    f.manifest(|m| m["parameters"] = json!([{ "name": "h", "type": "hidden", "required": true }]));
    f.translations(|t| t["app"]["parameters"]["h"] = json!({ "label": "H" }));
    assert_errors(
        &f,
        &["manifest.json: h is set to hidden and cannot be required."],
    );
}

#[test]
fn duplicate_parameters() {
    let f = Fixture::good();
    f.manifest(|m| {
        m["parameters"] = json!([{ "name": "a", "type": "text" }, { "name": "a", "type": "text" }])
    });
    f.translations(|t| t["app"]["parameters"]["a"] = json!({ "label": "A" }));
    assert_errors(
        &f,
        &["manifest.json: Duplicate app parameters defined: [\"a\"]"],
    );
}

#[test]
fn required_not_boolean() {
    let f = Fixture::good();
    f.manifest(|m| m["parameters"] = json!([{ "name": "x", "type": "text", "required": "yes" }]));
    f.translations(|t| t["app"]["parameters"]["x"] = json!({ "label": "X" }));
    assert_errors(
        &f,
        &["manifest.json: parameters[name=\"x\"].required must be a boolean value, got \"yes\"."],
    );
}

#[test]
fn secure_not_boolean() {
    let f = Fixture::good();
    f.manifest(|m| m["parameters"] = json!([{ "name": "x", "type": "text", "secure": "yes" }]));
    f.translations(|t| t["app"]["parameters"]["x"] = json!({ "label": "X" }));
    assert_errors(
        &f,
        &["manifest.json: parameters[name=\"x\"].secure must be a boolean value, got \"yes\"."],
    );
}

#[test]
fn scopes_on_a_non_secure_parameter() {
    let f = Fixture::good();
    f.manifest(|m| {
        m["parameters"] = json!([{ "name": "x", "type": "text", "scopes": ["header"] }])
    });
    f.translations(|t| t["app"]["parameters"]["x"] = json!({ "label": "X" }));
    assert_errors(&f, &["manifest.json: parameters[name=\"x\"].scopes cannot be defined in a non-secure parameter."]);
}

#[test]
fn private_not_boolean() {
    let f = Fixture::good();
    f.manifest(|m| m["private"] = json!("true"));
    assert_errors(
        &f,
        &["manifest.json: private must be a boolean value, got \"true\"."],
    );
}

#[test]
fn author_url_invalid_or_empty() {
    for url in ["example.com", ""] {
        let f = Fixture::good();
        f.manifest(|m| m["author"]["url"] = json!(url));
        assert_errors(
            &f,
            &[format!("manifest.json: author url must be a valid URL, got \"{url}\".").as_str()],
        );
    }
}

#[test]
fn domain_whitelist_not_an_array() {
    let f = Fixture::good();
    f.manifest(|m| m["domainWhitelist"] = json!("support.example.com"));
    assert_errors(&f, &["manifest.json: The manifest field domainWhitelist need to be an array containing strings"]);
}

#[test]
fn default_locale_without_its_translation_file() {
    let f = Fixture::good();
    f.manifest(|m| m["defaultLocale"] = json!("fr"));
    assert_errors(
        &f,
        &["manifest.json: Missing translation file for locale 'fr'. Learn more: https://developer.zendesk.com/apps/docs/developer-guide/deploying#app-internationalization"],
    );
}

#[test]
fn translation_without_app_name() {
    let f = Fixture::good();
    f.translations(|t| {
        obj(&mut t["app"]).remove("name");
    });
    assert_errors(
        &f,
        &["translations/en.json: Missing required key from translations/en.json: name"],
    );
}

#[test]
fn public_app_without_its_texts() {
    let f = Fixture::good();
    f.manifest(|m| m["private"] = json!(false));
    f.write("assets/screenshot-0.png", &png(8, 8));
    f.translations(|t| {
        let app = obj(&mut t["app"]);
        app.remove("installation_instructions");
        app.remove("long_description");
    });
    assert_errors(
        &f,
        &["translations/en.json: Missing required key from translations/en.json: installation_instructions, long_description"],
    );
}

#[test]
fn parameter_without_a_label() {
    let f = Fixture::good();
    f.translations(|t| {
        obj(&mut t["app"]["parameters"]).remove("api_token");
    });
    assert_errors(&f, &["translations/en.json: Missing required key label on leaf api_token from translations/en.json"]);
}

#[test]
fn translation_file_with_a_bad_locale_name() {
    let f = Fixture::good();
    f.write_json("translations/english.json", &good_translations());
    assert_errors(
        &f,
        &["translations/english.json: translations/english.json is not a valid locale."],
    );
}

#[test]
fn translation_syntax_error_names_line_and_column() {
    let f = Fixture::good();
    f.write("translations/de.json", b"{\"app\": {\"name\": \"x\",}}");
    assert_errors(
        &f,
        &["translations/de.json: translations/de.json is not valid JSON. trailing comma at line 1 column 22"],
    );
}

#[test]
fn refused_file_type_by_extension() {
    let f = Fixture::good();
    f.write("assets/data.bin", b"plain bytes");
    assert_errors(
        &f,
        &["assets/data.bin: Unsupported MIME type detected in assets/data.bin."],
    );
}

#[test]
fn refused_file_type_by_content() {
    let f = Fixture::good();
    f.write("assets/data.js", b"\x1f\x8b\x08\x00 a gzip stream");
    f.write("assets/report.txt", b"%PDF-1.7 a pdf");
    assert_errors(
        &f,
        &[
            "assets/data.js: Unsupported MIME type detected in assets/data.js.",
            "assets/report.txt: Unsupported MIME type detected in assets/report.txt.",
        ],
    );
}

#[test]
fn wasm_is_accepted() {
    let f = Fixture::good();
    f.write("assets/zendesk_app_bg.wasm", b"\0asm\x01\0\0\0");
    assert_errors(&f, &[]);
}

#[test]
fn symlink_in_a_folder() {
    let f = Fixture::good();
    std::os::unix::fs::symlink("logo.png", f.dir.join("assets/link.png")).unwrap();
    assert_errors(
        &f,
        &["assets/link.png: Symlinks are not allowed in the zip file"],
    );
}

#[test]
fn symlink_in_a_zip() {
    let f = Fixture::good();
    let zip = f.zip("");
    let mut writer = zip::ZipWriter::new_append(
        fs::File::options()
            .read(true)
            .write(true)
            .open(&zip)
            .unwrap(),
    )
    .unwrap();
    writer
        .add_symlink(
            "assets/link.png",
            "logo.png",
            zip::write::SimpleFileOptions::default(),
        )
        .unwrap();
    writer.finish().unwrap();
    assert_eq!(
        Fixture::findings(&zip, Level::Error),
        ["assets/link.png: Symlinks are not allowed in the zip file"]
    );
}

#[test]
fn logo_of_the_wrong_size() {
    let f = Fixture::good();
    f.write("assets/logo.png", &png(300, 320));
    assert_errors(
        &f,
        &["assets/logo.png: assets/logo.png must be 320x320 pixels, got 300x320."],
    );
}

#[test]
fn small_logo_that_is_not_a_png() {
    let f = Fixture::good();
    f.write("assets/logo-small.png", b"GIF89a");
    assert_errors(
        &f,
        &["assets/logo-small.png: assets/logo-small.png must be a PNG image of 128x128 pixels."],
    );
}

#[test]
fn missing_logo() {
    let f = Fixture::good();
    f.remove("assets/logo.png");
    assert_errors(
        &f,
        &["assets/logo.png: Missing required file: assets/logo.png (a 320x320 PNG)"],
    );
}

#[test]
fn private_app_zip_over_2_mb() {
    let f = Fixture::good();
    // Incompressible bytes (xorshift), so the zip really exceeds the limit.
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let noise: Vec<u8> = (0..2_100_000)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect();
    f.write("assets/noise.dat", &noise);
    let zip = f.zip("");
    let size = fs::metadata(&zip).unwrap().len();
    let name = zip.file_name().unwrap().to_string_lossy().into_owned();
    assert_eq!(
        Fixture::findings(&zip, Level::Error),
        [format!("{name}: The app package is {size} bytes; a private app's zip must be at most 2 MB (2000000 bytes).")]
    );
    // The folder form predicts the same verdict from the zip it would become.
    assert_eq!(f.errors().len(), 1);
}

#[test]
fn warning_for_a_token_parameter_that_is_not_secure() {
    let f = Fixture::good();
    f.manifest(|m| m["parameters"][1] = json!({ "name": "api_token", "type": "text" }));
    assert_errors(&f, &[]);
    assert_eq!(
        f.warnings(),
        ["manifest.json: Make sure to set secure to true when using keys in Settings. Learn more: https://developer.zendesk.com/apps/docs/developer-guide/using_sdk#using-secure-settings"]
    );
}

#[test]
fn warning_for_a_secure_parameter_without_scopes_and_with_a_default() {
    let f = Fixture::good();
    f.manifest(|m| {
        m["parameters"][1] =
            json!({ "name": "api_token", "type": "text", "secure": true, "default": "x" })
    });
    assert_errors(&f, &[]);
    assert_eq!(
        f.warnings(),
        [
            "manifest.json: Default values for secure or hidden parameters are not stored securely. Be sure to review them and confirm they do not contain sensitive data",
            "manifest.json: Secure parameters without scopes: api_token. Declare scopes to restrict where their values can be sent. Learn more: https://developer.zendesk.com/documentation/apps/getting-started/setting-up-new-apps/#scopes",
        ]
    );
}

#[test]
fn warning_for_plain_http_in_an_asset() {
    let f = Fixture::good();
    f.write(
        "assets/app.js",
        b"fetch('http://api.example.com/x'); fetch('http://localhost:3000/ok');",
    );
    assert_errors(&f, &[]);
    assert_eq!(
        f.warnings(),
        ["assets/app.js: Possible insecure HTTP request to http://api.example.com/x in assets/app.js. Consider using the HTTPS protocol instead."]
    );
}

#[test]
fn warning_for_an_unknown_manifest_field() {
    let f = Fixture::good();
    f.manifest(|m| m["lcoation"] = json!({}));
    assert_errors(&f, &[]);
    assert_eq!(
        f.warnings(),
        ["manifest.json: Unknown field in manifest: lcoation"]
    );
}

#[test]
fn version_not_a_string() {
    let f = Fixture::good();
    f.manifest(|m| m["version"] = json!(1.5));
    assert_errors(
        &f,
        &["manifest.json: version must be a string, got \"1.5\"."],
    );
}

#[test]
fn framework_v1_location_list() {
    let f = Fixture::good();
    f.manifest(|m| m["location"] = json!(["ticket_sidebar"]));
    assert_errors(
        &f,
        &["manifest.json: App locations need to be URLs for this framework version."],
    );
}

#[test]
fn secure_parameter_with_an_unknown_scope() {
    let f = Fixture::good();
    f.manifest(|m| m["parameters"][1]["scopes"] = json!(["header", "cookie"]));
    assert_errors(
        &f,
        &["manifest.json: parameters[name=\"api_token\"].scopes must be an array of: header, body, url, jwt_secret_key, jwt_claim, basic_auth_username, basic_auth_password, got [\"header\",\"cookie\"]."],
    );
}

#[test]
fn parameters_not_an_array() {
    let f = Fixture::good();
    f.manifest(|m| m["parameters"] = json!({ "name": "hostname" }));
    assert_errors(&f, &["manifest.json: App parameters must be an array."]);
}

#[test]
fn oauth_without_its_fields_or_parameter() {
    let f = Fixture::good();
    f.manifest(|m| m["oauth"] = json!({ "client_id": "abc" }));
    assert_errors(
        &f,
        &[
            "manifest.json: Missing required oauth fields in manifest: client_secret, authorize_uri, access_token_uri",
            "manifest.json: Please upgrade to our new oauth format. Learn more: https://developer.zendesk.com/apps/docs/developer-guide/manifest#oauth",
        ],
    );
}

#[test]
fn invalid_default_locale() {
    let f = Fixture::good();
    f.manifest(|m| m["defaultLocale"] = json!("English"));
    assert_errors(
        &f,
        &["manifest.json: English is not a valid default locale."],
    );
}
