//! Raw and gzip sizes, the numbers the wasm size budget is stated in.
use std::io::Write;

use flate2::write::GzEncoder;
use flate2::Compression;

/// Raw and gzip (best compression) byte counts of one artefact.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sizes {
    pub raw: u64,
    pub gzip: u64,
}

impl Sizes {
    pub fn of(bytes: &[u8]) -> Sizes {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
        // Writing into a Vec cannot fail.
        let gzip = encoder
            .write_all(bytes)
            .and_then(|_| encoder.finish())
            .map(|v| v.len() as u64)
            .unwrap_or(0);
        Sizes {
            raw: bytes.len() as u64,
            gzip,
        }
    }
}

/// `12.3 KB` style (1 KB = 1000 bytes, as in the budget).
pub fn human(bytes: u64) -> String {
    if bytes < 1000 {
        format!("{bytes} B")
    } else if bytes < 1_000_000 {
        format!("{:.1} KB", bytes as f64 / 1000.0)
    } else {
        format!("{:.2} MB", bytes as f64 / 1_000_000.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gzip_of_repetitive_data_is_smaller_than_raw() {
        let sizes = Sizes::of(&[b'a'; 10_000]);
        assert_eq!(sizes.raw, 10_000);
        assert!(sizes.gzip > 0 && sizes.gzip < 200, "{sizes:?}");
    }

    #[test]
    fn human_uses_decimal_units() {
        assert_eq!(human(999), "999 B");
        assert_eq!(human(150_000), "150.0 KB");
        assert_eq!(human(2_500_000), "2.50 MB");
    }
}
