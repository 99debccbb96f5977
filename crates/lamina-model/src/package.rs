//! Inspection of uploaded deployment packages and layer zips: entry count, real unzipped size, names that would leave the package.
//!
//! Everything here works on bytes in memory and never writes to disk. The unzipped size is measured by
//! decompressing every entry into a counting sink, because the sizes in a zip's headers are whatever the
//! uploader wrote there: a zip bomb can declare a few bytes and expand to gigabytes.

use std::io::{Cursor, Read};

use base64::Engine as _;
use sha2::{Digest, Sha256};

/// What a package inspection found out about a valid, safe zip.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ZipSummary {
    /// Number of entries in the central directory, directories included.
    pub entries: usize,
    /// Sum of the decompressed sizes of all file entries, as counted while decompressing.
    pub unzipped_size: u64,
}

/// Why an uploaded zip was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ZipError {
    /// Not a zip, truncated, a bad checksum, an unsupported compression method or an encrypted entry.
    #[error("Could not unzip uploaded file")]
    Unreadable,
    /// An entry whose name would escape the extraction directory.
    #[error("Unsafe entry name in zip: {0:?}")]
    UnsafePath(String),
    /// The decompressed content exceeds the limit.
    #[error("Unzipped size must be smaller than {limit} bytes")]
    TooLarge {
        /// The limit that was exceeded, in bytes.
        limit: u64,
    },
}

/// Size of the buffer entries are decompressed through; the decompressed data is never kept.
const SINK_CHUNK: usize = 64 * 1024;

/// Checks that `bytes` is a readable zip with safe entry names whose content, decompressed, is at most
/// `max_unzipped` bytes.
///
/// Names are checked for every entry before anything is decompressed, so a name that would leave the package is reported
/// even in an archive that is also too large. Decompression stops as soon as the running total passes
/// the limit, so the work done is bounded by `max_unzipped` whatever the archive claims.
pub fn inspect_zip(bytes: &[u8], max_unzipped: u64) -> Result<ZipSummary, ZipError> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|_| ZipError::Unreadable)?;
    let entries = archive.len();

    for index in 0..entries {
        let entry = archive
            .by_index_raw(index)
            .map_err(|_| ZipError::Unreadable)?;
        // The decoded name may come from a Unicode extra field and differ from the raw bytes; an
        // extractor could use either, so both must be safe.
        let raw = String::from_utf8_lossy(entry.name_raw());
        if !is_safe_name(entry.name()) || !is_safe_name(&raw) {
            return Err(ZipError::UnsafePath(entry.name().to_owned()));
        }
    }

    let mut total: u64 = 0;
    let mut buf = vec![0u8; SINK_CHUNK];
    for index in 0..entries {
        // Encrypted entries and unsupported compression methods fail here.
        let mut entry = archive.by_index(index).map_err(|_| ZipError::Unreadable)?;
        if entry.is_dir() {
            continue;
        }
        loop {
            // The zip reader verifies the CRC when it reaches the end of the entry.
            let n = entry.read(&mut buf).map_err(|_| ZipError::Unreadable)?;
            if n == 0 {
                break;
            }
            total = total.saturating_add(n as u64);
            if total > max_unzipped {
                return Err(ZipError::TooLarge {
                    limit: max_unzipped,
                });
            }
        }
    }

    Ok(ZipSummary {
        entries,
        unzipped_size: total,
    })
}

/// Standard padded base64 of the SHA-256 of `bytes`: the form AWS reports as `CodeSha256`.
pub fn sha256_base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(Sha256::digest(bytes))
}

/// Whether an entry name stays inside the directory it is extracted to, whichever of `/` and `\` an
/// extractor treats as a separator.
fn is_safe_name(name: &str) -> bool {
    if name.is_empty() || name.contains('\0') {
        return false;
    }
    if name.starts_with('/') || name.starts_with('\\') {
        return false;
    }
    let mut chars = name.chars();
    if let (Some(first), Some(':')) = (chars.next(), chars.next()) {
        // `C:\x`, `C:/x` and the drive-relative `C:x`.
        if first.is_ascii_alphabetic() {
            return false;
        }
    }
    !name.split(['/', '\\']).any(|component| component == "..")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use zip::write::SimpleFileOptions;
    use zip::CompressionMethod;

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    fn stored() -> SimpleFileOptions {
        SimpleFileOptions::default().compression_method(CompressionMethod::Stored)
    }

    fn deflated() -> SimpleFileOptions {
        SimpleFileOptions::default().compression_method(CompressionMethod::Deflated)
    }

    fn build(
        entries: &[(&str, &[u8], SimpleFileOptions)],
    ) -> Result<Vec<u8>, zip::result::ZipError> {
        let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for (name, data, options) in entries {
            writer.start_file(*name, *options)?;
            writer.write_all(data)?;
        }
        Ok(writer.finish()?.into_inner())
    }

    fn sample() -> Result<Vec<u8>, zip::result::ZipError> {
        let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
        writer.add_directory("lib/", stored())?;
        writer.start_file("lib/util.py", deflated())?;
        writer.write_all(&b"def f():\n    return 42\n".repeat(50))?;
        writer.start_file("index.py", stored())?;
        writer.write_all(b"def handler(event, context):\n    return event\n")?;
        Ok(writer.finish()?.into_inner())
    }

    #[test]
    fn counts_entries_and_decompressed_size() -> TestResult {
        let bytes = sample()?;
        let summary = inspect_zip(&bytes, 1 << 20)?;
        assert_eq!(summary.entries, 3);
        let expected = 23 * 50 + 46;
        assert_eq!(summary.unzipped_size, expected);
        Ok(())
    }

    #[test]
    fn limit_is_inclusive() -> TestResult {
        let bytes = build(&[("a", &[7u8; 1000], deflated()), ("b", &[9u8; 24], stored())])?;
        assert_eq!(inspect_zip(&bytes, 1024)?.unzipped_size, 1024);
        assert_eq!(
            inspect_zip(&bytes, 1023),
            Err(ZipError::TooLarge { limit: 1023 })
        );
        Ok(())
    }

    #[test]
    fn directories_count_zero() -> TestResult {
        let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
        writer.add_directory("a/", stored())?;
        writer.add_directory("a/b/", stored())?;
        let bytes = writer.finish()?.into_inner();
        assert_eq!(
            inspect_zip(&bytes, 0)?,
            ZipSummary {
                entries: 2,
                unzipped_size: 0
            }
        );
        Ok(())
    }

    #[test]
    fn empty_zip_is_valid() -> TestResult {
        let bytes = zip::ZipWriter::new(Cursor::new(Vec::new()))
            .finish()?
            .into_inner();
        assert_eq!(bytes.len(), 22, "just the end-of-central-directory record");
        assert_eq!(
            inspect_zip(&bytes, 0)?,
            ZipSummary {
                entries: 0,
                unzipped_size: 0
            }
        );
        Ok(())
    }

    #[test]
    fn bomb_is_rejected_by_limit_without_inflating_it() -> TestResult {
        const BOMB: u64 = 300 * 1024 * 1024;
        const LIMIT: u64 = 8 * 1024 * 1024;
        let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
        writer.start_file(
            "zeros.bin",
            deflated().compression_level(Some(1)).large_file(true),
        )?;
        let chunk = vec![0u8; 1024 * 1024];
        let mut written = 0;
        while written < BOMB {
            writer.write_all(&chunk)?;
            written += chunk.len() as u64;
        }
        let bytes = writer.finish()?.into_inner();
        assert!(
            bytes.len() < 2 * 1024 * 1024,
            "bomb compressed to {} bytes",
            bytes.len()
        );

        assert_eq!(
            inspect_zip(&bytes, LIMIT),
            Err(ZipError::TooLarge { limit: LIMIT })
        );
        Ok(())
    }

    #[test]
    fn lying_header_size_does_not_matter() -> TestResult {
        // The central directory claims 1 byte uncompressed; only what decompression yields counts.
        let data = vec![b'x'; 5000];
        let mut bytes = build(&[("big.txt", &data, deflated())])?;
        let cd = find_signature(&bytes, &[0x50, 0x4b, 0x01, 0x02]).ok_or("no central directory")?;
        bytes[cd + 24..cd + 28].copy_from_slice(&1u32.to_le_bytes());
        match inspect_zip(&bytes, 4999) {
            Err(ZipError::TooLarge { .. }) => {}
            other => panic!("header size was trusted: {other:?}"),
        }
        Ok(())
    }

    fn find_signature(bytes: &[u8], signature: &[u8]) -> Option<usize> {
        bytes.windows(signature.len()).position(|w| w == signature)
    }

    #[test]
    fn rejects_parent_components() -> TestResult {
        for name in [
            "../evil",
            "a/../../evil",
            "a/..",
            "..",
            "a\\..\\evil",
            "..\\evil",
        ] {
            let bytes = build(&[(name, b"x", stored())])?;
            assert_eq!(
                inspect_zip(&bytes, 1 << 20),
                Err(ZipError::UnsafePath(name.to_owned())),
                "{name}"
            );
        }
        Ok(())
    }

    #[test]
    fn rejects_absolute_and_drive_names() -> TestResult {
        for name in ["/etc/passwd", "\\evil", "C:\\evil", "c:/evil", "D:evil"] {
            let bytes = build(&[(name, b"x", stored())])?;
            assert_eq!(
                inspect_zip(&bytes, 1 << 20),
                Err(ZipError::UnsafePath(name.to_owned())),
                "{name}"
            );
        }
        Ok(())
    }

    #[test]
    fn unsafe_name_reported_before_size() -> TestResult {
        let bytes = build(&[("big", &[0u8; 4096], deflated()), ("../x", b"x", stored())])?;
        assert_eq!(
            inspect_zip(&bytes, 10),
            Err(ZipError::UnsafePath("../x".into()))
        );
        Ok(())
    }

    #[test]
    fn accepts_names_that_only_look_odd() -> TestResult {
        let bytes = build(&[
            ("..hidden", b"1", stored()),
            ("a..b/c", b"2", stored()),
            ("./index.js", b"3", stored()),
            ("ab:c", b"4", stored()),
        ])?;
        assert_eq!(inspect_zip(&bytes, 1 << 20)?.entries, 4);
        Ok(())
    }

    #[test]
    fn truncated_zip_is_unreadable() -> TestResult {
        let bytes = sample()?;
        for cut in [0, 1, 4, bytes.len() / 2, bytes.len() - 1] {
            assert_eq!(
                inspect_zip(&bytes[..cut], 1 << 20),
                Err(ZipError::Unreadable),
                "cut at {cut}"
            );
        }
        Ok(())
    }

    #[test]
    fn random_bytes_are_unreadable() {
        let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
        let bytes: Vec<u8> = (0..4096).map(|_| rng.next() as u8).collect();
        assert_eq!(inspect_zip(&bytes, 1 << 20), Err(ZipError::Unreadable));
        assert_eq!(
            inspect_zip(b"not a zip at all", 1 << 20),
            Err(ZipError::Unreadable)
        );
    }

    #[test]
    fn bad_crc_is_unreadable() -> TestResult {
        let mut bytes = build(&[("a.txt", b"hello, world", stored())])?;
        let at = find_signature(&bytes, b"hello").ok_or("content not found")?;
        bytes[at] = b'j';
        assert_eq!(inspect_zip(&bytes, 1 << 20), Err(ZipError::Unreadable));
        Ok(())
    }

    #[test]
    fn unsupported_method_is_unreadable() -> TestResult {
        let mut bytes = build(&[("a.txt", b"hello", stored())])?;
        // Compression method 12 (bzip2, not built in) in the local and central headers.
        let local = find_signature(&bytes, &[0x50, 0x4b, 0x03, 0x04]).ok_or("no local header")?;
        bytes[local + 8..local + 10].copy_from_slice(&12u16.to_le_bytes());
        let cd = find_signature(&bytes, &[0x50, 0x4b, 0x01, 0x02]).ok_or("no central directory")?;
        bytes[cd + 10..cd + 12].copy_from_slice(&12u16.to_le_bytes());
        assert_eq!(inspect_zip(&bytes, 1 << 20), Err(ZipError::Unreadable));
        Ok(())
    }

    #[test]
    fn encrypted_entry_is_unreadable() -> TestResult {
        let mut bytes = build(&[("a.txt", b"hello", stored())])?;
        // Set general-purpose bit 0 (encrypted) in both headers.
        let local = find_signature(&bytes, &[0x50, 0x4b, 0x03, 0x04]).ok_or("no local header")?;
        bytes[local + 6] |= 1;
        let cd = find_signature(&bytes, &[0x50, 0x4b, 0x01, 0x02]).ok_or("no central directory")?;
        bytes[cd + 8] |= 1;
        assert_eq!(inspect_zip(&bytes, 1 << 20), Err(ZipError::Unreadable));
        Ok(())
    }

    #[test]
    fn mutated_zips_never_panic() -> TestResult {
        let seeds = [
            sample()?,
            build(&[("a", &[1u8; 300], deflated()), ("b/", b"", stored())])?,
        ];
        let mut rng = XorShift(0xDEAD_BEEF_CAFE_F00D);
        for i in 0..2_000 {
            let mut bytes = seeds[i % seeds.len()].clone();
            let flips = 1 + rng.next() % 8;
            for _ in 0..flips {
                let at = (rng.next() as usize) % bytes.len();
                match rng.next() % 4 {
                    0 => bytes[at] ^= 1 << (rng.next() % 8),
                    1 => bytes[at] = rng.next() as u8,
                    2 => bytes[at] = 0xff,
                    _ => bytes.truncate(at.max(1)),
                }
            }
            // Any outcome is fine as long as it is an outcome.
            let _ = inspect_zip(&bytes, 1 << 20);
        }
        Ok(())
    }

    #[test]
    fn code_sha256_matches_aws_form() {
        // SHA-256 of the empty string.
        assert_eq!(
            sha256_base64(b""),
            "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
        );
        assert_eq!(sha256_base64(b"abc").len(), 44);
    }

    /// A tiny deterministic generator so the fuzz-like loop needs no extra dependency.
    struct XorShift(u64);

    impl XorShift {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
    }
}
