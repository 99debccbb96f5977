//! Materialising code: each deployment package is extracted once per CodeSha256 into a read-only directory
//! (`DATA_DIR/code/<sha256>`), and each ordered list of layers once into an `/opt` directory
//! (`DATA_DIR/opt/<hash of the list>`), later layers overwriting earlier ones. Extraction goes to a temporary
//! directory renamed into place, so a crash never leaves a half-written tree that looks complete.

use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::fs;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Extract-once cache of code and layer trees.
#[derive(Debug)]
pub struct CodeCache {
    root: PathBuf,
    locks: Mutex<HashMap<String, Arc<Mutex<()>>>>,
}

/// A layer to place under `/opt`: its blob (zip) path and hex SHA-256.
#[derive(Debug, Clone)]
pub struct LayerBlob {
    /// Hex SHA-256 of the zip.
    pub sha256: String,
    /// Path of the zip.
    pub zip: PathBuf,
}

impl CodeCache {
    /// A cache rooted at `root` (created on demand).
    pub fn new(root: PathBuf) -> CodeCache {
        CodeCache {
            root,
            locks: Mutex::new(HashMap::new()),
        }
    }

    fn lock_for(&self, key: &str) -> Arc<Mutex<()>> {
        let mut m = match self.locks.lock() {
            Ok(m) => m,
            Err(p) => p.into_inner(),
        };
        Arc::clone(m.entry(key.to_string()).or_default())
    }

    /// The task root for a package, extracting it on first use. Blocking.
    pub fn code_dir(&self, sha256_hex: &str, zip: &Path) -> io::Result<PathBuf> {
        let dest = self.root.join("code").join(sha256_hex);
        self.ensure(&dest, |tmp| extract(zip, tmp))?;
        Ok(dest)
    }

    /// The `/opt` tree for an ordered list of layers (an empty directory for none). Blocking.
    pub fn opt_dir(&self, layers: &[LayerBlob]) -> io::Result<PathBuf> {
        let mut h = Sha256::new();
        for l in layers {
            h.update(l.sha256.as_bytes());
            h.update(b"\n");
        }
        let dest = self.root.join("opt").join(hex::encode(h.finalize()));
        self.ensure(&dest, |tmp| {
            for l in layers {
                extract(&l.zip, tmp)?;
            }
            Ok(())
        })?;
        Ok(dest)
    }

    fn ensure(&self, dest: &Path, fill: impl FnOnce(&Path) -> io::Result<()>) -> io::Result<()> {
        if dest.is_dir() {
            return Ok(());
        }
        let key = dest.to_string_lossy().into_owned();
        let lock = self.lock_for(&key);
        let _guard = match lock.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        if dest.is_dir() {
            return Ok(());
        }
        let parent = dest
            .parent()
            .ok_or_else(|| io::Error::other("cache path has no parent"))?;
        fs::create_dir_all(parent)?;
        let tmp = parent.join(format!(".tmp-{}", uuid::Uuid::new_v4().simple()));
        fs::create_dir_all(&tmp)?;
        let result = fill(&tmp).and_then(|()| {
            make_read_only(&tmp)?;
            fs::rename(&tmp, dest)
        });
        if result.is_err() {
            let _ = make_writable(&tmp);
            let _ = fs::remove_dir_all(&tmp);
        }
        result
    }
}

/// Extract `zip` into `dir`, keeping the Unix mode bits stored in the archive (a `bootstrap` must stay
/// executable). Entries that would land outside `dir` are refused.
fn extract(zip: &Path, dir: &Path) -> io::Result<()> {
    let file = fs::File::open(zip)?;
    let mut archive = zip::ZipArchive::new(io::BufReader::new(file)).map_err(io::Error::other)?;
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).map_err(io::Error::other)?;
        let Some(rel) = entry.enclosed_name() else {
            return Err(io::Error::other(format!(
                "path leaves the archive: {}",
                entry.name()
            )));
        };
        let out = dir.join(rel);
        if entry.is_dir() {
            fs::create_dir_all(&out)?;
            continue;
        }
        if let Some(p) = out.parent() {
            fs::create_dir_all(p)?;
        }
        if out.exists() {
            // A later layer overrides an earlier one's file.
            let _ = fs::set_permissions(&out, fs::Permissions::from_mode(0o644));
            fs::remove_file(&out)?;
        }
        let mut f = fs::File::create(&out)?;
        io::copy(&mut entry, &mut f)?;
        // Zips from Windows tools carry no Unix mode: world-readable, not executable (as Lambda does).
        let mode = entry.unix_mode().map_or(0o644, |m| m & 0o777) | 0o444;
        fs::set_permissions(&out, fs::Permissions::from_mode(mode & !0o222))?;
    }
    Ok(())
}

fn walk(dir: &Path, f: &mut dyn FnMut(&Path, bool) -> io::Result<()>) -> io::Result<()> {
    for e in fs::read_dir(dir)? {
        let e = e?;
        let p = e.path();
        let is_dir = e.file_type()?.is_dir();
        if is_dir {
            walk(&p, f)?;
        }
        f(&p, is_dir)?;
    }
    Ok(())
}

fn make_read_only(dir: &Path) -> io::Result<()> {
    walk(dir, &mut |p, is_dir| {
        if is_dir {
            fs::set_permissions(p, fs::Permissions::from_mode(0o555))
        } else {
            Ok(())
        }
    })?;
    fs::set_permissions(dir, fs::Permissions::from_mode(0o555))
}

fn make_writable(dir: &Path) -> io::Result<()> {
    fs::set_permissions(dir, fs::Permissions::from_mode(0o755))?;
    walk(dir, &mut |p, is_dir| {
        fs::set_permissions(
            p,
            fs::Permissions::from_mode(if is_dir { 0o755 } else { 0o644 }),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use zip::write::SimpleFileOptions;

    fn make_zip(path: &Path, files: &[(&str, &str, u32)]) -> io::Result<()> {
        let mut w = zip::ZipWriter::new(fs::File::create(path)?);
        for (name, body, mode) in files {
            w.start_file(*name, SimpleFileOptions::default().unix_permissions(*mode))
                .map_err(io::Error::other)?;
            w.write_all(body.as_bytes())?;
        }
        w.finish().map_err(io::Error::other)?;
        Ok(())
    }

    #[test]
    fn extracts_once_keeps_modes_and_layers_override_in_order() -> io::Result<()> {
        let dir = tempfile::tempdir()?;
        let code = dir.path().join("code.zip");
        make_zip(
            &code,
            &[
                ("bootstrap", "#!/bin/sh\n", 0o755),
                ("lib/a.txt", "a", 0o644),
            ],
        )?;
        let cache = CodeCache::new(dir.path().join("cache"));
        let root = cache.code_dir("abc", &code)?;
        let mode = fs::metadata(root.join("bootstrap"))?.permissions().mode();
        assert_eq!(mode & 0o111, 0o111, "bootstrap stays executable");
        assert_eq!(mode & 0o222, 0, "code is read-only");
        assert_eq!(fs::read_to_string(root.join("lib/a.txt"))?, "a");
        // Second call reuses the tree.
        assert_eq!(cache.code_dir("abc", &code)?, root);

        let l1 = dir.path().join("l1.zip");
        let l2 = dir.path().join("l2.zip");
        make_zip(&l1, &[("python/x.py", "one", 0o644), ("bin/t", "t", 0o755)])?;
        make_zip(&l2, &[("python/x.py", "two", 0o644)])?;
        let opt = cache.opt_dir(&[
            LayerBlob {
                sha256: "1".into(),
                zip: l1.clone(),
            },
            LayerBlob {
                sha256: "2".into(),
                zip: l2.clone(),
            },
        ])?;
        assert_eq!(fs::read_to_string(opt.join("python/x.py"))?, "two");
        assert!(opt.join("bin/t").exists());
        let empty = cache.opt_dir(&[])?;
        assert_eq!(fs::read_dir(empty)?.count(), 0);
        Ok(())
    }
}
