//! Files of the package as files: symlinks, refused file types, the logos' pixel sizes, the zip
//! size limit, and plain-http URLs in text assets.
use std::collections::BTreeSet;

use regex::Regex;

use super::manifest::Manifest;
use super::{Package, Report};

/// Extensions Zendesk refuses (it also refuses these types when detected by content).
const REFUSED_EXTENSIONS: &[&str] = &[
    "rar", "zip", "gzip", "gz", "pdf", "doc", "docx", "avi", "bin", "bz", "bz2", "csh", "sh",
    "jar", "mp3", "mpeg", "odt", "pptx", "ppt", "xls", "xlsx", "7z",
];
/// Leading bytes of refused types (zip also covers docx, xlsx, pptx, odt and jar; the OLE header
/// covers doc, xls and ppt).
const REFUSED_MAGIC: &[&[u8]] = &[
    b"PK\x03\x04",
    b"PK\x05\x06",
    b"\x1f\x8b",
    b"%PDF-",
    b"Rar!\x1a\x07",
    b"7z\xbc\xaf\x27\x1c",
    b"BZh",
    b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
    b"ID3",
    b"\x00\x00\x01\xba",
    b"\x00\x00\x01\xb3",
    b"#!/bin/sh",
    b"#!/bin/bash",
    b"#!/bin/csh",
    b"#!/usr/bin/env sh",
    b"#!/usr/bin/env bash",
];
/// A private app's zip may be at most 2 MB.
pub const PRIVATE_ZIP_LIMIT: u64 = 2_000_000;
/// Required logos and their pixel sizes.
const LOGOS: &[(&str, u32, u32)] = &[
    ("assets/logo.png", 320, 320),
    ("assets/logo-small.png", 128, 128),
];
const TEXT_EXTENSIONS: &[&str] = &["html", "htm", "js", "mjs", "css", "json", "svg", "txt"];

/// Runs every file rule.
pub fn check(package: &Package, manifest: Option<&Manifest>, report: &mut Report) {
    for link in &package.symlinks {
        report.error(link.as_str(), "Symlinks are not allowed in the zip file");
    }
    for (path, bytes) in &package.files {
        if is_refused(path, bytes) {
            report.error(
                path.as_str(),
                format!("Unsupported MIME type detected in {path}."),
            );
        }
    }
    for (path, width, height) in LOGOS {
        match package.file(path) {
            None => report.error(
                *path,
                format!("Missing required file: {path} (a {width}x{height} PNG)"),
            ),
            Some(bytes) => match png_size(bytes) {
                Some((w, h)) if (w, h) == (*width, *height) => {}
                Some((w, h)) => report.error(
                    *path,
                    format!("{path} must be {width}x{height} pixels, got {w}x{h}."),
                ),
                None => report.error(
                    *path,
                    format!("{path} must be a PNG image of {width}x{height} pixels."),
                ),
            },
        }
    }
    let private = manifest.is_none_or(Manifest::is_private);
    if private && package.zip_size > PRIVATE_ZIP_LIMIT {
        report.error(
            package.label.as_str(),
            format!("The app package is {} bytes; a private app's zip must be at most 2 MB ({PRIVATE_ZIP_LIMIT} bytes).", package.zip_size),
        );
    }
    if !private && !package.has_file("assets/screenshot-0.png") {
        report.warning(
            "assets/screenshot-0.png",
            "Marketplace listings need screenshots: assets/screenshot-0.png is missing.",
        );
    }
    insecure_urls(package, report);
}

fn is_refused(path: &str, bytes: &[u8]) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    let extension = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    extension.is_some_and(|e| REFUSED_EXTENSIONS.contains(&e.as_str()))
        || REFUSED_MAGIC.iter().any(|magic| bytes.starts_with(magic))
        || (bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"AVI ")
}

/// Width and height from a PNG's header, or None if it is not a PNG.
fn png_size(bytes: &[u8]) -> Option<(u32, u32)> {
    let reader = png::Decoder::new(bytes).read_info().ok()?;
    let info = reader.info();
    Some((info.width, info.height))
}

/// Zendesk warns about plain-http URLs in the app's code; loopback and XML namespace URLs are
/// not requests and are skipped.
fn insecure_urls(package: &Package, report: &mut Report) {
    let re = Regex::new(r#"http://[^\s"'`<>()\\]+"#).expect("valid regex");
    for (path, bytes) in &package.files {
        let extension = path
            .rsplit_once('.')
            .map(|(_, e)| e.to_ascii_lowercase())
            .unwrap_or_default();
        if !TEXT_EXTENSIONS.contains(&extension.as_str()) {
            continue;
        }
        let text = String::from_utf8_lossy(bytes);
        let urls: BTreeSet<&str> = re
            .find_iter(&text)
            .map(|m| m.as_str())
            .filter(|u| {
                let host = u["http://".len()..]
                    .split(['/', ':', '?', '#'])
                    .next()
                    .unwrap_or("");
                !matches!(host, "localhost" | "127.0.0.1" | "www.w3.org")
            })
            .collect();
        for url in urls {
            report.warning(
                path.as_str(),
                format!("Possible insecure HTTP request to {url} in {path}. Consider using the HTTPS protocol instead."),
            );
        }
    }
}
