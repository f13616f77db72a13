//! The package under validation, read into memory from a folder or a zip, with what the file
//! listing alone can tell (symlinks, the size of the zip).
use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Cursor, Read};
use std::path::{Path, PathBuf};

use crate::archive::{self, ArchiveError};

/// Why a package could not be read at all (as opposed to being read and found invalid).
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("{path} is not a readable zip file: {source}")]
    Zip {
        path: PathBuf,
        source: zip::result::ZipError,
    },
    #[error(transparent)]
    Archive(#[from] ArchiveError),
}

/// The files of an app package keyed by their path inside the package (`assets/logo.png`).
#[derive(Debug, Clone, Default)]
pub struct Package {
    /// How the whole package is named in messages about it (the zip's file name, or the folder).
    pub label: String,
    pub files: BTreeMap<String, Vec<u8>>,
    /// Paths of symbolic links (never followed).
    pub symlinks: Vec<String>,
    /// Size in bytes of the zip (the zip itself, or the zip `cargo xtask package` would make of
    /// the folder).
    pub zip_size: u64,
}

const S_IFMT: u32 = 0o170000;
const S_IFLNK: u32 = 0o120000;

impl Package {
    /// Reads a folder, or a file ending in `.zip`.
    pub fn load(path: &Path) -> Result<Package, LoadError> {
        let meta = fs::metadata(path).map_err(|source| LoadError::Io {
            path: path.into(),
            source,
        })?;
        if meta.is_dir() {
            Package::from_dir(path)
        } else {
            Package::from_zip(path)
        }
    }

    pub fn from_dir(dir: &Path) -> Result<Package, LoadError> {
        let mut package = Package {
            label: dir.display().to_string(),
            ..Package::default()
        };
        collect_dir(dir, "", &mut package)?;
        package.zip_size = archive::zip_dir(dir)?.len() as u64;
        Ok(package)
    }

    pub fn from_zip(path: &Path) -> Result<Package, LoadError> {
        let io_err = |source| LoadError::Io {
            path: path.into(),
            source,
        };
        let zip_err = |source| LoadError::Zip {
            path: path.into(),
            source,
        };
        let bytes = fs::read(path).map_err(io_err)?;
        let label = path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        let mut package = Package {
            label,
            zip_size: bytes.len() as u64,
            ..Package::default()
        };
        let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(zip_err)?;
        for i in 0..zip.len() {
            let mut entry = zip.by_index(i).map_err(zip_err)?;
            if entry.is_dir() {
                continue;
            }
            let name = entry.name().trim_start_matches("./").to_string();
            if entry.unix_mode().is_some_and(|m| m & S_IFMT == S_IFLNK) {
                package.symlinks.push(name);
                continue;
            }
            let mut content = Vec::new();
            entry.read_to_end(&mut content).map_err(io_err)?;
            package.files.insert(name, content);
        }
        Ok(package)
    }

    pub fn has_file(&self, path: &str) -> bool {
        self.files.contains_key(path)
    }

    pub fn file(&self, path: &str) -> Option<&[u8]> {
        self.files.get(path).map(Vec::as_slice)
    }
}

fn collect_dir(dir: &Path, prefix: &str, package: &mut Package) -> Result<(), LoadError> {
    let io_err = |source| LoadError::Io {
        path: dir.into(),
        source,
    };
    let mut entries: Vec<_> = fs::read_dir(dir)
        .map_err(io_err)?
        .collect::<Result<_, _>>()
        .map_err(io_err)?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = entry.file_name().to_string_lossy().into_owned();
        let rel = if prefix.is_empty() {
            name
        } else {
            format!("{prefix}/{name}")
        };
        let kind = entry.file_type().map_err(io_err)?;
        if kind.is_symlink() {
            package.symlinks.push(rel);
        } else if kind.is_dir() {
            collect_dir(&entry.path(), &rel, package)?;
        } else {
            let content = fs::read(entry.path()).map_err(|source| LoadError::Io {
                path: entry.path(),
                source,
            })?;
            package.files.insert(rel, content);
        }
    }
    Ok(())
}
