//! Deterministic zip archives of a folder: sorted entries, fixed timestamps and permissions, so
//! packaging the same inputs twice yields byte-identical zips (and `validate` can predict the
//! size of the zip a folder would become).
use std::fs;
use std::io::{self, Cursor, Write};
use std::path::{Path, PathBuf};

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipWriter};

/// Errors while archiving a folder.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error("reading {path}: {source}")]
    Read { path: PathBuf, source: io::Error },
    #[error("writing the zip: {0}")]
    Zip(#[from] zip::result::ZipError),
    #[error("writing the zip: {0}")]
    Io(#[from] io::Error),
}

/// Every regular file below `dir` as (path relative to `dir` with `/` separators, absolute path),
/// sorted by relative path. Symlinks are not followed (the validator refuses them separately).
pub fn list_files(dir: &Path) -> Result<Vec<(String, PathBuf)>, ArchiveError> {
    let mut out = Vec::new();
    walk(dir, "", &mut out)?;
    out.sort();
    Ok(out)
}

fn walk(dir: &Path, prefix: &str, out: &mut Vec<(String, PathBuf)>) -> Result<(), ArchiveError> {
    let read_err = |source| ArchiveError::Read {
        path: dir.to_path_buf(),
        source,
    };
    for entry in fs::read_dir(dir).map_err(read_err)? {
        let entry = entry.map_err(read_err)?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let rel = if prefix.is_empty() {
            name
        } else {
            format!("{prefix}/{name}")
        };
        let kind = entry.file_type().map_err(read_err)?;
        if kind.is_dir() {
            walk(&entry.path(), &rel, out)?;
        } else if kind.is_file() {
            out.push((rel, entry.path()));
        }
    }
    Ok(())
}

/// Zips every regular file below `dir` (the zip root is `dir` itself) and returns the bytes.
pub fn zip_dir(dir: &Path) -> Result<Vec<u8>, ArchiveError> {
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .compression_level(Some(9))
        .last_modified_time(DateTime::default())
        .unix_permissions(0o644);
    let mut writer = ZipWriter::new(Cursor::new(Vec::new()));
    for (rel, path) in list_files(dir)? {
        let bytes = fs::read(&path).map_err(|source| ArchiveError::Read { path, source })?;
        writer.start_file(rel, options)?;
        writer.write_all(&bytes)?;
    }
    Ok(writer.finish()?.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zipping_twice_gives_identical_bytes_with_sorted_entries() {
        let dir = std::env::temp_dir().join(format!("xtask-archive-{}", std::process::id()));
        fs::create_dir_all(dir.join("b")).unwrap();
        fs::write(dir.join("b/two.txt"), "two").unwrap();
        fs::write(dir.join("a.txt"), "one").unwrap();
        let first = zip_dir(&dir).unwrap();
        let second = zip_dir(&dir).unwrap();
        fs::remove_dir_all(&dir).unwrap();
        assert_eq!(first, second);
        let mut archive = zip::ZipArchive::new(Cursor::new(first)).unwrap();
        let names: Vec<String> = (0..archive.len())
            .map(|i| archive.by_index(i).unwrap().name().to_string())
            .collect();
        assert_eq!(names, ["a.txt", "b/two.txt"]);
    }
}
