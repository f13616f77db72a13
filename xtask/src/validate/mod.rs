//! The local Zendesk app validator. Zendesk's `zcli apps:validate` only uploads the zip to a live
//! account, so this checks a package offline against the rules Zendesk's validator
//! (`zendesk_apps_support`) applies, with the same messages, each prefixed by the file it is
//! about: `manifest.json: Missing required field in manifest: author`.
mod assets;
mod finding;
mod manifest;
mod package;
#[cfg(test)]
mod tests;
mod translations;

use std::path::Path;

pub use finding::{Finding, Level, Report};
pub use package::{LoadError, Package};

/// Reads a package folder or zip and validates it.
pub fn validate_path(path: &Path) -> Result<Report, LoadError> {
    Ok(validate(&Package::load(path)?))
}

/// Validates a package already in memory.
pub fn validate(package: &Package) -> Report {
    let mut report = Report::default();
    if !package.has_file("manifest.json") {
        // Like Zendesk, stop here: nothing else can be judged without the manifest.
        let nested = package
            .files
            .keys()
            .find(|p| p.split('/').count() == 2 && p.ends_with("/manifest.json"));
        match nested {
            Some(found) => report.error(
                package.label.as_str(),
                format!(
                    "Could not find manifest.json in the root of the zip file, but {found} was found. Try re-creating the archive from this directory."
                ),
            ),
            None => report.error("manifest.json", "Could not find manifest.json"),
        }
        return report;
    }
    let parsed = manifest::parse(package, &mut report);
    if let Some(m) = &parsed {
        manifest::check(m, package, &mut report);
    }
    translations::check(package, parsed.as_ref(), &mut report);
    assets::check(package, parsed.as_ref(), &mut report);
    report
}
