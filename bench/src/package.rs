//! Deployment packages built in memory: a one-line Python handler plus a block of random bytes,
//! both stored (not deflated), so the zip is as large as asked and incompressible.

use rand::{RngCore, SeedableRng};
use std::io::{Cursor, Write};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

/// The random payload every package of one size shares; each package still differs (its handler
/// file carries a tag), so the server stores every upload as a new blob.
pub struct Payload {
    bytes: Vec<u8>,
}

impl Payload {
    /// `size` random bytes from a fixed seed (the same run-to-run).
    pub fn random(size: usize, seed: u64) -> Payload {
        let mut bytes = vec![0u8; size];
        rand::rngs::StdRng::seed_from_u64(seed).fill_bytes(&mut bytes);
        Payload { bytes }
    }

    /// A zip of `app.py` (naming `tag`) and `payload.bin`.
    pub fn zip(&self, tag: &str) -> anyhow::Result<Vec<u8>> {
        let stored = SimpleFileOptions::default().compression_method(CompressionMethod::Stored);
        let mut w = ZipWriter::new(Cursor::new(Vec::with_capacity(self.bytes.len() + 1024)));
        w.start_file("app.py", stored)?;
        write!(
            w,
            "# {tag}\ndef handler(event, context):\n    return event\n"
        )?;
        if !self.bytes.is_empty() {
            w.start_file("payload.bin", stored)?;
            w.write_all(&self.bytes)?;
        }
        Ok(w.finish()?.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zips_are_stored_distinct_and_readable() -> anyhow::Result<()> {
        let p = Payload::random(64 * 1024, 1);
        let a = p.zip("a")?;
        let b = p.zip("b")?;
        assert_ne!(a, b);
        // Stored: the zip is no smaller than its payload.
        assert!(a.len() > 64 * 1024);
        let mut archive = zip::ZipArchive::new(Cursor::new(a))?;
        assert_eq!(archive.len(), 2);
        assert_eq!(
            archive.by_name("payload.bin")?.compression(),
            CompressionMethod::Stored
        );
        Ok(())
    }
}
