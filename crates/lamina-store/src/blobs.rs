//! Content-addressed blob store for deployment packages and layer zips, named by SHA-256.
//!
//! Layout under the root: `sha256/<first 2 hex>/<64 hex>` for blobs (read-only files) and `tmp/` for writes
//! in progress. A blob appears under its name only after its bytes are fsync'd, by an atomic rename from
//! `tmp/`, so a name that exists always holds the complete content.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use base64::Engine as _;
use sha2::{Digest, Sha256};

/// Mode of a stored blob: nobody writes a blob once it has its name.
const BLOB_MODE: u32 = 0o444;

/// Errors of the blob store.
#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    /// The name given is not 64 lowercase hex digits.
    #[error("Invalid blob name {0:?}: expected 64 lowercase hex digits")]
    InvalidHash(String),
    /// No blob with this name is stored.
    #[error("Blob {0} not found")]
    NotFound(String),
    /// A file-system operation failed.
    #[error("Blob store could not {context}")]
    Io {
        /// What the store was doing, e.g. "write a temporary file".
        context: &'static str,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
}

fn io_err(context: &'static str) -> impl FnOnce(io::Error) -> BlobError {
    move |source| BlobError::Io { context, source }
}

/// The name and size of a stored blob.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct BlobRef {
    /// SHA-256 of the content.
    pub sha256: [u8; 32],
    /// Length of the content in bytes.
    pub size: u64,
}

impl BlobRef {
    /// The lowercase hex form of the hash: the blob's name in the store.
    pub fn hex(&self) -> String {
        hex::encode(self.sha256)
    }

    /// Standard padded base64 of the hash: what AWS reports as `CodeSha256`.
    pub fn base64(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(self.sha256)
    }
}

/// A directory of immutable blobs named by their SHA-256.
#[derive(Debug, Clone)]
pub struct BlobStore {
    root: PathBuf,
}

impl BlobStore {
    /// Opens the store at `root`, creating `root/sha256/` and `root/tmp/` if needed.
    pub fn open(root: &Path) -> Result<Self, BlobError> {
        let store = Self {
            root: root.to_path_buf(),
        };
        fs::create_dir_all(store.blobs_dir()).map_err(io_err("create the blob directory"))?;
        fs::create_dir_all(store.tmp_dir()).map_err(io_err("create the temporary directory"))?;
        Ok(store)
    }

    fn blobs_dir(&self) -> PathBuf {
        self.root.join("sha256")
    }

    fn tmp_dir(&self) -> PathBuf {
        self.root.join("tmp")
    }

    /// Stores `bytes` and returns its reference. Storing content that is already present rewrites nothing.
    ///
    /// Safe to call concurrently, from threads or processes, with the same content: each writer uses its
    /// own temporary file and the rename that publishes a blob is atomic, so readers see either no file or
    /// the whole content.
    pub fn put(&self, bytes: &[u8]) -> Result<BlobRef, BlobError> {
        let blob = BlobRef {
            sha256: Sha256::digest(bytes).into(),
            size: bytes.len() as u64,
        };
        let name = blob.hex();
        let prefix_dir = self.blobs_dir().join(&name[..2]);
        let final_path = prefix_dir.join(&name);

        // A file under the name was fsync'd before it was renamed there, so the right size means it is
        // complete; anything else (damage from outside) is replaced below.
        if let Ok(meta) = fs::metadata(&final_path) {
            if meta.is_file() && meta.len() == blob.size {
                return Ok(blob);
            }
        }

        if !prefix_dir.is_dir() {
            fs::create_dir_all(&prefix_dir).map_err(io_err("create a blob prefix directory"))?;
            sync_dir(&self.blobs_dir())?;
        }

        let tmp_path = self
            .tmp_dir()
            .join(format!("{name}.{}.tmp", uuid::Uuid::new_v4().simple()));
        let written = write_tmp(&tmp_path, bytes)
            .and_then(|()| fs::rename(&tmp_path, &final_path).map_err(io_err("publish a blob")));
        if let Err(err) = written {
            // Best effort: clean_tmp removes whatever is left at the next start.
            let _ = fs::remove_file(&tmp_path);
            return Err(err);
        }
        sync_dir(&prefix_dir)?;
        Ok(blob)
    }

    /// The path of the blob named `sha256_hex`, or `None` if the name is not 64 lowercase hex digits.
    /// The blob need not exist; see [`BlobStore::exists`].
    pub fn path(&self, sha256_hex: &str) -> Option<PathBuf> {
        if !is_blob_name(sha256_hex) {
            return None;
        }
        Some(self.blobs_dir().join(&sha256_hex[..2]).join(sha256_hex))
    }

    fn checked_path(&self, sha256_hex: &str) -> Result<PathBuf, BlobError> {
        self.path(sha256_hex)
            .ok_or_else(|| BlobError::InvalidHash(sha256_hex.to_owned()))
    }

    /// Opens the blob named `sha256_hex` for reading.
    pub fn open_read(&self, sha256_hex: &str) -> Result<File, BlobError> {
        let path = self.checked_path(sha256_hex)?;
        File::open(path).map_err(|source| match source.kind() {
            io::ErrorKind::NotFound => BlobError::NotFound(sha256_hex.to_owned()),
            _ => BlobError::Io {
                context: "open a blob",
                source,
            },
        })
    }

    /// Whether a blob named `sha256_hex` is stored; `false` for an invalid name.
    pub fn exists(&self, sha256_hex: &str) -> bool {
        self.path(sha256_hex).is_some_and(|path| path.is_file())
    }

    /// Deletes the blob named `sha256_hex`. Deleting a blob that is not there succeeds, so a garbage
    /// collector can retry.
    pub fn remove(&self, sha256_hex: &str) -> Result<(), BlobError> {
        let path = self.checked_path(sha256_hex)?;
        match fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(source) => Err(BlobError::Io {
                context: "remove a blob",
                source,
            }),
        }
    }

    /// Removes everything in `tmp/`: writes a crash interrupted. Call at start-up, before any `put`, since
    /// it would also remove the files of writes in progress.
    pub fn clean_tmp(&self) -> Result<(), BlobError> {
        let entries =
            fs::read_dir(self.tmp_dir()).map_err(io_err("list the temporary directory"))?;
        for entry in entries {
            let entry = entry.map_err(io_err("list the temporary directory"))?;
            let path = entry.path();
            let is_dir = entry
                .file_type()
                .map_err(io_err("inspect a temporary file"))?
                .is_dir();
            let removed = if is_dir {
                fs::remove_dir_all(&path)
            } else {
                fs::remove_file(&path)
            };
            match removed {
                Ok(()) => {}
                Err(err) if err.kind() == io::ErrorKind::NotFound => {}
                Err(source) => {
                    return Err(BlobError::Io {
                        context: "remove a temporary file",
                        source,
                    })
                }
            }
        }
        Ok(())
    }
}

/// Writes `bytes` to a new file at `path`, makes it read-only and fsyncs it.
fn write_tmp(path: &Path, bytes: &[u8]) -> Result<(), BlobError> {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(io_err("create a temporary file"))?;
    file.write_all(bytes)
        .map_err(io_err("write a temporary file"))?;
    file.set_permissions(fs::Permissions::from_mode(BLOB_MODE))
        .map_err(io_err("make a blob read-only"))?;
    file.sync_all().map_err(io_err("sync a temporary file"))
}

/// Makes a directory's entries (a rename into it, a new subdirectory) durable.
fn sync_dir(dir: &Path) -> Result<(), BlobError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_err("sync a directory"))
}

fn is_blob_name(name: &str) -> bool {
    name.len() == 64 && name.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::os::unix::fs::MetadataExt;

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    fn read_all(store: &BlobStore, hex: &str) -> Result<Vec<u8>, Box<dyn std::error::Error>> {
        let mut out = Vec::new();
        store.open_read(hex)?.read_to_end(&mut out)?;
        Ok(out)
    }

    #[test]
    fn put_then_read_round_trip() -> TestResult {
        let dir = tempfile::tempdir()?;
        let store = BlobStore::open(dir.path())?;
        let content = b"PK\x05\x06 not really a zip".repeat(100);
        let blob = store.put(&content)?;
        assert_eq!(blob.size, content.len() as u64);
        assert!(store.exists(&blob.hex()));
        assert_eq!(read_all(&store, &blob.hex())?, content);
        Ok(())
    }

    #[test]
    fn layout_and_names() -> TestResult {
        let dir = tempfile::tempdir()?;
        let store = BlobStore::open(dir.path())?;
        let blob = store.put(b"abc")?;
        // SHA-256("abc"), a published test vector.
        let hex = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        assert_eq!(blob.hex(), hex);
        assert_eq!(
            blob.base64(),
            "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0="
        );
        let expected = dir.path().join("sha256").join("ba").join(hex);
        assert_eq!(store.path(hex), Some(expected.clone()));
        assert!(expected.is_file());
        Ok(())
    }

    #[test]
    fn stored_content_matches_its_name() -> TestResult {
        let dir = tempfile::tempdir()?;
        let store = BlobStore::open(dir.path())?;
        for content in [&b""[..], b"x", &[0xAB; 70_000]] {
            let blob = store.put(content)?;
            let on_disk = read_all(&store, &blob.hex())?;
            assert_eq!(hex::encode(Sha256::digest(&on_disk)), blob.hex());
            assert_eq!(on_disk.len() as u64, blob.size);
        }
        Ok(())
    }

    #[test]
    fn blobs_are_read_only() -> TestResult {
        let dir = tempfile::tempdir()?;
        let store = BlobStore::open(dir.path())?;
        let blob = store.put(b"immutable")?;
        let path = store.path(&blob.hex()).ok_or("valid name")?;
        assert_eq!(fs::metadata(path)?.permissions().mode() & 0o777, 0o444);
        Ok(())
    }

    #[test]
    fn put_is_idempotent_and_does_not_rewrite() -> TestResult {
        let dir = tempfile::tempdir()?;
        let store = BlobStore::open(dir.path())?;
        let first = store.put(b"same bytes")?;
        let path = store.path(&first.hex()).ok_or("valid name")?;
        let before = fs::metadata(&path)?;
        let second = store.put(b"same bytes")?;
        let after = fs::metadata(&path)?;
        assert_eq!(first, second);
        assert_eq!(
            before.ino(),
            after.ino(),
            "a rewrite would have renamed a new inode in"
        );
        assert_eq!(fs::read_dir(dir.path().join("tmp"))?.count(), 0);
        Ok(())
    }

    #[test]
    fn damaged_blob_is_replaced() -> TestResult {
        let dir = tempfile::tempdir()?;
        let store = BlobStore::open(dir.path())?;
        let blob = store.put(b"0123456789")?;
        let path = store.path(&blob.hex()).ok_or("valid name")?;
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644))?;
        fs::write(&path, b"0123")?;
        store.put(b"0123456789")?;
        assert_eq!(read_all(&store, &blob.hex())?, b"0123456789");
        Ok(())
    }

    #[test]
    fn concurrent_puts_of_same_content() -> TestResult {
        let dir = tempfile::tempdir()?;
        let store = BlobStore::open(dir.path())?;
        let content: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let results: Vec<Result<BlobRef, BlobError>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8).map(|_| s.spawn(|| store.put(&content))).collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join()
                        .unwrap_or_else(|_| Err(BlobError::NotFound("panic".into())))
                })
                .collect()
        });
        let refs = results.into_iter().collect::<Result<Vec<_>, _>>()?;
        assert!(refs.windows(2).all(|w| w[0] == w[1]));
        assert_eq!(read_all(&store, &refs[0].hex())?, content);
        assert_eq!(fs::read_dir(dir.path().join("tmp"))?.count(), 0);
        Ok(())
    }

    #[test]
    fn names_are_validated() -> TestResult {
        let dir = tempfile::tempdir()?;
        let store = BlobStore::open(dir.path())?;
        let upper = "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD";
        let dotted = format!("../{}", &"a".repeat(61));
        for bad in [
            "../x",
            "",
            "ab",
            upper,
            &"a".repeat(63),
            &"a".repeat(65),
            &dotted,
            &"g".repeat(64),
        ] {
            assert_eq!(store.path(bad), None, "{bad}");
            assert!(!store.exists(bad));
            assert!(
                matches!(store.open_read(bad), Err(BlobError::InvalidHash(_))),
                "{bad}"
            );
            assert!(
                matches!(store.remove(bad), Err(BlobError::InvalidHash(_))),
                "{bad}"
            );
        }
        Ok(())
    }

    #[test]
    fn missing_blob_is_not_found() -> TestResult {
        let dir = tempfile::tempdir()?;
        let store = BlobStore::open(dir.path())?;
        let hex = "0".repeat(64);
        assert!(!store.exists(&hex));
        assert!(matches!(store.open_read(&hex), Err(BlobError::NotFound(h)) if h == hex));
        Ok(())
    }

    #[test]
    fn remove_deletes_and_is_repeatable() -> TestResult {
        let dir = tempfile::tempdir()?;
        let store = BlobStore::open(dir.path())?;
        let keep = store.put(b"keep")?;
        let gone = store.put(b"gone")?;
        store.remove(&gone.hex())?;
        assert!(!store.exists(&gone.hex()));
        store.remove(&gone.hex())?;
        assert!(store.exists(&keep.hex()));
        Ok(())
    }

    #[test]
    fn crash_leftovers_are_cleaned() -> TestResult {
        let dir = tempfile::tempdir()?;
        let blob = {
            let store = BlobStore::open(dir.path())?;
            store.put(b"survivor")?
        };
        // What a crash between create and rename leaves behind, including a read-only file.
        let tmp = dir.path().join("tmp");
        fs::write(tmp.join("half-written.tmp"), b"partial")?;
        let read_only = tmp.join("read-only.tmp");
        fs::write(&read_only, b"partial")?;
        fs::set_permissions(&read_only, fs::Permissions::from_mode(0o444))?;
        fs::create_dir(tmp.join("stray-dir"))?;
        fs::write(tmp.join("stray-dir").join("f"), b"x")?;

        let store = BlobStore::open(dir.path())?;
        store.clean_tmp()?;
        assert_eq!(fs::read_dir(&tmp)?.count(), 0);
        assert_eq!(read_all(&store, &blob.hex())?, b"survivor");
        Ok(())
    }

    #[test]
    fn open_creates_layout() -> TestResult {
        let dir = tempfile::tempdir()?;
        let root = dir.path().join("nested").join("blobs");
        BlobStore::open(&root)?;
        assert!(root.join("sha256").is_dir());
        assert!(root.join("tmp").is_dir());
        Ok(())
    }
}
