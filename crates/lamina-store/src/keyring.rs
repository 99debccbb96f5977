//! Envelope encryption of function environment variables with a master key and named "KMS keys".
//!
//! Every [`Keyring::seal`] draws a fresh 256-bit data key (DEK), encrypts the plaintext with it under
//! AES-256-GCM and the caller's associated data, then wraps the DEK with either the master key or a named
//! key. Named keys live in `<dir>/kms/<key-id>.key`, themselves wrapped by the master key, so the master
//! key is the one secret an operator must keep (and back up). Key material is zeroed when dropped and
//! never appears in `Debug` output or error messages.

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use aes_gcm::aead::{Aead, Payload};
use aes_gcm::{Aes256Gcm, KeyInit, Nonce};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use rand::RngCore;
use serde::{Deserialize, Serialize};

/// The `key_id` of data sealed directly under the master key.
pub const MASTER_KEY_ID: &str = "master";

const KEY_LEN: usize = 32;
const NONCE_LEN: usize = 12;
const MASTER_FILE: &str = "master.key";
const KMS_DIR: &str = "kms";

/// Errors of the keyring. None of them carries key material or plaintext.
#[derive(Debug, thiserror::Error)]
pub enum KeyringError {
    /// The master key supplied or found on disk is not 32 bytes (raw, or base64 for an operator's key).
    #[error("Invalid master key: {0}")]
    InvalidMasterKey(&'static str),
    /// The KMS key ARN (or the key id of sealed data) names no key of this keyring.
    #[error("KMS key not found: {0}")]
    KeyNotFound(String),
    /// A region or account id that cannot appear in a key ARN.
    #[error("Invalid region or account id for a KMS key: {0:?}")]
    InvalidOwner(String),
    /// A named key's file could not be unwrapped: damaged, edited, or wrapped by another master key.
    #[error("KMS key {0} is unreadable: damaged or wrapped by a different master key")]
    CorruptKey(String),
    /// Sealed data did not authenticate: wrong key, wrong associated data, or tampered with.
    #[error("Decryption failed: wrong key, wrong context or tampered data")]
    DecryptFailed,
    /// Encryption failed (the plaintext is beyond AES-GCM's length limit).
    #[error("Encryption failed")]
    EncryptFailed,
    /// The operating system's random number generator failed.
    #[error("Random number generator failed")]
    Random(#[source] rand::Error),
    /// A file-system operation failed.
    #[error("Keyring could not {context}")]
    Io {
        /// What the keyring was doing, e.g. "read the master key".
        context: &'static str,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
}

fn io_err(context: &'static str) -> impl FnOnce(io::Error) -> KeyringError {
    move |source| KeyringError::Io { context, source }
}

/// Where the master key comes from.
pub enum MasterKeySource {
    /// `<dir>/master.key`, created with 32 random bytes (mode 0600) on first open.
    DataDir,
    /// An operator's file holding 32 raw bytes or their base64.
    File(PathBuf),
    /// The base64 of 32 bytes, e.g. read from an environment variable by the caller.
    Base64(String),
}

impl fmt::Debug for MasterKeySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::DataDir => f.write_str("DataDir"),
            Self::File(path) => f.debug_tuple("File").field(path).finish(),
            Self::Base64(_) => f.write_str("Base64(<redacted>)"),
        }
    }
}

impl Drop for MasterKeySource {
    fn drop(&mut self) {
        if let Self::Base64(text) = self {
            wipe(std::mem::take(text).into_bytes());
        }
    }
}

/// Overwrites a buffer that held key material before it is freed.
fn wipe(mut bytes: Vec<u8>) {
    bytes.iter_mut().for_each(|b| *b = 0);
    // Keeps the zeroing from being optimised away as a dead store.
    std::hint::black_box(&bytes);
}

/// 32 bytes of key material, zeroed on drop and redacted in `Debug`.
struct Key([u8; KEY_LEN]);

impl Key {
    fn random() -> Result<Self, KeyringError> {
        let mut key = Self([0; KEY_LEN]);
        rand::rngs::OsRng
            .try_fill_bytes(&mut key.0)
            .map_err(KeyringError::Random)?;
        Ok(key)
    }

    /// Takes the bytes of `buf` if it is exactly a key long; `buf` is wiped either way.
    fn from_vec(buf: Vec<u8>) -> Option<Self> {
        let key = <[u8; KEY_LEN]>::try_from(buf.as_slice()).ok().map(Self);
        wipe(buf);
        key
    }

    fn cipher(&self) -> Aes256Gcm {
        Aes256Gcm::new(aes_gcm::Key::<Aes256Gcm>::from_slice(&self.0))
    }
}

impl Drop for Key {
    fn drop(&mut self) {
        self.0 = [0; KEY_LEN];
        std::hint::black_box(&self.0);
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Key(<redacted>)")
    }
}

/// Data sealed by [`Keyring::seal`]: safe to store and log, useless without the keyring.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Sealed {
    /// [`MASTER_KEY_ID`] or the id of the named key that wrapped the data key.
    pub key_id: String,
    /// The data key encrypted under the wrapping key (base64).
    pub wrapped_dek: String,
    /// Nonce used to wrap the data key (base64 of 12 bytes).
    pub dek_nonce: String,
    /// Nonce used to encrypt the plaintext (base64 of 12 bytes).
    pub nonce: String,
    /// The plaintext encrypted under the data key, with its tag (base64).
    pub ciphertext: String,
}

/// How a named key is stored on disk: its ARN and its material wrapped by the master key.
#[derive(Serialize, Deserialize)]
struct StoredKey {
    arn: String,
    nonce: String,
    wrapped_key: String,
}

/// The master key and the named keys under one directory.
pub struct Keyring {
    dir: PathBuf,
    master: Key,
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keyring")
            .field("dir", &self.dir)
            .field("master", &self.master)
            .finish()
    }
}

impl Keyring {
    /// Opens the keyring in `dir` (created 0700 if missing), loading or creating the master key.
    pub fn open(dir: &Path, source: MasterKeySource) -> Result<Self, KeyringError> {
        create_private_dir(dir)?;
        create_private_dir(&dir.join(KMS_DIR))?;
        let master = match &source {
            MasterKeySource::DataDir => load_or_create_master(&dir.join(MASTER_FILE))?,
            MasterKeySource::File(path) => {
                warn_if_exposed(path);
                let bytes = fs::read(path).map_err(io_err("read the master key file"))?;
                parse_operator_key(bytes)?
            }
            MasterKeySource::Base64(text) => Key::from_vec(decode_b64(text.trim())?).ok_or(
                KeyringError::InvalidMasterKey("base64 must decode to 32 bytes"),
            )?,
        };
        Ok(Self {
            dir: dir.to_path_buf(),
            master,
        })
    }

    fn kms_dir(&self) -> PathBuf {
        self.dir.join(KMS_DIR)
    }

    /// Creates a named key owned by `account_id` in `region` and returns its ARN,
    /// `arn:aws:kms:{region}:{account_id}:key/{uuid}`.
    pub fn create_key(&self, region: &str, account_id: &str) -> Result<String, KeyringError> {
        for part in [region, account_id] {
            let ok = !part.is_empty()
                && part.len() <= 64
                && part.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
            if !ok {
                return Err(KeyringError::InvalidOwner(part.to_owned()));
            }
        }
        let id = uuid::Uuid::new_v4().hyphenated().to_string();
        let arn = format!("arn:aws:kms:{region}:{account_id}:key/{id}");

        let key = Key::random()?;
        let (nonce, wrapped) = encrypt(&self.master, key_file_aad(&arn).as_bytes(), &key.0)?;
        let stored = StoredKey {
            arn: arn.clone(),
            nonce: B64.encode(nonce),
            wrapped_key: B64.encode(wrapped),
        };
        let json = serde_json::to_vec(&stored).map_err(|e| KeyringError::Io {
            context: "encode a key file",
            source: io::Error::other(e),
        })?;
        let kms = self.kms_dir();
        write_private_file(&kms, &format!("{id}.key"), &json, false)?;
        Ok(arn)
    }

    /// The ARNs of all named keys, sorted.
    pub fn list_keys(&self) -> Result<Vec<String>, KeyringError> {
        let mut arns = Vec::new();
        let entries = fs::read_dir(self.kms_dir()).map_err(io_err("list the key directory"))?;
        for entry in entries {
            let entry = entry.map_err(io_err("list the key directory"))?;
            let name = entry.file_name();
            let Some(id) = name.to_str().and_then(|n| n.strip_suffix(".key")) else {
                continue;
            };
            if !is_key_id(id) {
                continue;
            }
            match self.read_stored(id) {
                Ok(stored) => arns.push(stored.arn),
                // Deleted meanwhile, or damaged: one bad file must not hide the other keys.
                Err(KeyringError::KeyNotFound(_)) => {}
                Err(KeyringError::CorruptKey(id)) => {
                    tracing::warn!(key_id = %id, "skipping an unreadable KMS key file");
                }
                Err(other) => return Err(other),
            }
        }
        arns.sort();
        Ok(arns)
    }

    /// The key id named by `kms_key_arn` (`arn:aws:kms:{region}:{account}:key/{id}`). The whole ARN must
    /// match the key's, region and account included; anything else is [`KeyringError::KeyNotFound`].
    pub fn resolve_arn(&self, kms_key_arn: &str) -> Result<String, KeyringError> {
        let not_found = || KeyringError::KeyNotFound(kms_key_arn.to_owned());
        let id = parse_key_arn(kms_key_arn).ok_or_else(not_found)?;
        match self.read_stored(id) {
            Ok(stored) if stored.arn == kms_key_arn => Ok(id.to_owned()),
            Ok(_) | Err(KeyringError::KeyNotFound(_)) => Err(not_found()),
            Err(other) => Err(other),
        }
    }

    /// Encrypts `plaintext` bound to `aad` under a fresh data key, wrapped by the named key
    /// `kms_key_arn` or, when `None`, by the master key. The same `aad` is needed to open it.
    pub fn seal(
        &self,
        kms_key_arn: Option<&str>,
        plaintext: &[u8],
        aad: &[u8],
    ) -> Result<Sealed, KeyringError> {
        let (key_id, named) = match kms_key_arn {
            None => (MASTER_KEY_ID.to_owned(), None),
            Some(arn) => {
                let id = self.resolve_arn(arn)?;
                let key = self.load_named(&id)?;
                (id, Some(key))
            }
        };
        let wrapping = named.as_ref().unwrap_or(&self.master);

        let dek = Key::random()?;
        let (nonce, ciphertext) = encrypt(&dek, aad, plaintext)?;
        let (dek_nonce, wrapped_dek) = encrypt(wrapping, dek_aad(&key_id).as_bytes(), &dek.0)?;
        Ok(Sealed {
            key_id,
            wrapped_dek: B64.encode(wrapped_dek),
            dek_nonce: B64.encode(dek_nonce),
            nonce: B64.encode(nonce),
            ciphertext: B64.encode(ciphertext),
        })
    }

    /// Decrypts what [`Keyring::seal`] produced with the same `aad`.
    pub fn open_sealed(&self, sealed: &Sealed, aad: &[u8]) -> Result<Vec<u8>, KeyringError> {
        let named = if sealed.key_id == MASTER_KEY_ID {
            None
        } else if is_key_id(&sealed.key_id) {
            Some(self.load_named(&sealed.key_id)?)
        } else {
            return Err(KeyringError::KeyNotFound(sealed.key_id.clone()));
        };
        let wrapping = named.as_ref().unwrap_or(&self.master);

        let wrapped_dek = decode_sealed_b64(&sealed.wrapped_dek)?;
        let dek_nonce = decode_sealed_b64(&sealed.dek_nonce)?;
        let dek = decrypt(
            wrapping,
            &dek_nonce,
            dek_aad(&sealed.key_id).as_bytes(),
            &wrapped_dek,
        )
        .and_then(|bytes| Key::from_vec(bytes).ok_or(KeyringError::DecryptFailed))?;

        let nonce = decode_sealed_b64(&sealed.nonce)?;
        let ciphertext = decode_sealed_b64(&sealed.ciphertext)?;
        decrypt(&dek, &nonce, aad, &ciphertext)
    }

    fn read_stored(&self, id: &str) -> Result<StoredKey, KeyringError> {
        let path = self.kms_dir().join(format!("{id}.key"));
        let bytes = match fs::read(&path) {
            Ok(bytes) => bytes,
            Err(err) if err.kind() == io::ErrorKind::NotFound => {
                return Err(KeyringError::KeyNotFound(id.to_owned()))
            }
            Err(source) => {
                return Err(KeyringError::Io {
                    context: "read a key file",
                    source,
                })
            }
        };
        serde_json::from_slice(&bytes).map_err(|_| KeyringError::CorruptKey(id.to_owned()))
    }

    /// Unwraps the named key `id` (already validated as a key id) with the master key.
    fn load_named(&self, id: &str) -> Result<Key, KeyringError> {
        let corrupt = || KeyringError::CorruptKey(id.to_owned());
        let stored = self.read_stored(id)?;
        // The file name and the ARN inside must agree, so a key file copied under another name is refused.
        if parse_key_arn(&stored.arn) != Some(id) {
            return Err(corrupt());
        }
        let nonce = B64.decode(&stored.nonce).map_err(|_| corrupt())?;
        let wrapped = B64.decode(&stored.wrapped_key).map_err(|_| corrupt())?;
        let bytes = decrypt(
            &self.master,
            &nonce,
            key_file_aad(&stored.arn).as_bytes(),
            &wrapped,
        )
        .map_err(|_| corrupt())?;
        Key::from_vec(bytes).ok_or_else(corrupt)
    }
}

/// Associated data binding a wrapped data key to the key that wrapped it.
fn dek_aad(key_id: &str) -> String {
    format!("lamina/dek/{key_id}")
}

/// Associated data binding a named key's material to its ARN (and so to its region and account).
fn key_file_aad(arn: &str) -> String {
    format!("lamina/kms-key/{arn}")
}

fn encrypt(key: &Key, aad: &[u8], msg: &[u8]) -> Result<([u8; NONCE_LEN], Vec<u8>), KeyringError> {
    let mut nonce = [0u8; NONCE_LEN];
    rand::rngs::OsRng
        .try_fill_bytes(&mut nonce)
        .map_err(KeyringError::Random)?;
    let ciphertext = key
        .cipher()
        .encrypt(Nonce::from_slice(&nonce), Payload { msg, aad })
        .map_err(|_| KeyringError::EncryptFailed)?;
    Ok((nonce, ciphertext))
}

fn decrypt(
    key: &Key,
    nonce: &[u8],
    aad: &[u8],
    ciphertext: &[u8],
) -> Result<Vec<u8>, KeyringError> {
    // `Nonce::from_slice` panics on a wrong length, and the nonce comes from stored data.
    if nonce.len() != NONCE_LEN {
        return Err(KeyringError::DecryptFailed);
    }
    key.cipher()
        .decrypt(
            Nonce::from_slice(nonce),
            Payload {
                msg: ciphertext,
                aad,
            },
        )
        .map_err(|_| KeyringError::DecryptFailed)
}

fn decode_sealed_b64(text: &str) -> Result<Vec<u8>, KeyringError> {
    B64.decode(text).map_err(|_| KeyringError::DecryptFailed)
}

fn decode_b64(text: &str) -> Result<Vec<u8>, KeyringError> {
    B64.decode(text)
        .map_err(|_| KeyringError::InvalidMasterKey("not valid base64"))
}

/// A key id as `create_key` makes them: a lowercase hyphenated UUID. Checked before any path is built
/// from an id, so an id can never name a file outside `kms/`.
fn is_key_id(id: &str) -> bool {
    id.len() == 36
        && id.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => matches!(b, b'0'..=b'9' | b'a'..=b'f'),
        })
}

/// The key id of a well-formed `arn:aws…:kms:{region}:{account}:key/{id}`.
fn parse_key_arn(arn: &str) -> Option<&str> {
    let mut parts = arn.splitn(6, ':');
    let (arn_tag, partition, service, region, account, resource) = (
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
    );
    let id = resource.strip_prefix("key/")?;
    let well_formed = arn_tag == "arn"
        && partition.starts_with("aws")
        && service == "kms"
        && !region.is_empty()
        && !account.is_empty()
        && is_key_id(id);
    well_formed.then_some(id)
}

/// An operator's key file: 32 raw bytes, or the base64 of 32 bytes (surrounding whitespace ignored).
fn parse_operator_key(bytes: Vec<u8>) -> Result<Key, KeyringError> {
    if bytes.len() == KEY_LEN {
        return Key::from_vec(bytes).ok_or(KeyringError::InvalidMasterKey("expected 32 bytes"));
    }
    let decoded = match std::str::from_utf8(&bytes) {
        Ok(text) => decode_b64(text.trim()),
        Err(_) => Err(KeyringError::InvalidMasterKey(
            "file must hold 32 raw bytes or their base64",
        )),
    };
    wipe(bytes);
    Key::from_vec(decoded?).ok_or(KeyringError::InvalidMasterKey(
        "file must hold 32 raw bytes or their base64",
    ))
}

/// Reads `<dir>/master.key`, or creates it with fresh random bytes if it does not exist yet.
fn load_or_create_master(path: &Path) -> Result<Key, KeyringError> {
    match read_master_file(path) {
        Err(KeyringError::Io { source, .. }) if source.kind() == io::ErrorKind::NotFound => {}
        other => return other,
    }
    let key = Key::random()?;
    let dir = path.parent().unwrap_or(Path::new("."));
    match write_private_file(dir, MASTER_FILE, &key.0, true) {
        Ok(()) => {
            tracing::info!("created a new master key; back it up, sealed data is lost without it");
            Ok(key)
        }
        // Another process created it first: use theirs, or data it seals would be unreadable to us.
        Err(KeyringError::Io { source, .. }) if source.kind() == io::ErrorKind::AlreadyExists => {
            read_master_file(path)
        }
        Err(other) => Err(other),
    }
}

fn read_master_file(path: &Path) -> Result<Key, KeyringError> {
    let mut file = File::open(path).map_err(io_err("read the master key"))?;
    warn_if_exposed(path);
    let mut buf = Vec::with_capacity(KEY_LEN + 1);
    // One byte more than a key is enough to tell a wrong length; never read a huge file whole.
    let read = (&mut file)
        .take(KEY_LEN as u64 + 1)
        .read_to_end(&mut buf)
        .map_err(io_err("read the master key"));
    match read {
        Ok(_) => Key::from_vec(buf).ok_or(KeyringError::InvalidMasterKey(
            "master.key must hold exactly 32 bytes",
        )),
        Err(err) => {
            wipe(buf);
            Err(err)
        }
    }
}

fn warn_if_exposed(path: &Path) {
    if let Ok(meta) = fs::metadata(path) {
        if meta.permissions().mode() & 0o077 != 0 {
            tracing::warn!(
                path = %path.display(),
                "master key file is readable by group or others; chmod 600 it"
            );
        }
    }
}

fn create_private_dir(dir: &Path) -> Result<(), KeyringError> {
    match fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
    {
        Ok(()) => Ok(()),
        Err(source) => Err(KeyringError::Io {
            context: "create the key directory",
            source,
        }),
    }
}

/// Durably writes `contents` to `dir/name` with mode 0600: a temporary file, fsync, then into place,
/// then fsync of the directory. With `no_clobber` the file is hard-linked into place, which fails with
/// `AlreadyExists` instead of replacing a file another process put there meanwhile.
fn write_private_file(
    dir: &Path,
    name: &str,
    contents: &[u8],
    no_clobber: bool,
) -> Result<(), KeyringError> {
    let tmp = dir.join(format!(".{name}.{}.tmp", uuid::Uuid::new_v4().simple()));
    let target = dir.join(name);
    let result = (|| {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)
            .map_err(io_err("create a key file"))?;
        file.write_all(contents)
            .map_err(io_err("write a key file"))?;
        file.sync_all().map_err(io_err("sync a key file"))?;
        if no_clobber {
            fs::hard_link(&tmp, &target).map_err(io_err("install a key file"))?;
        } else {
            fs::rename(&tmp, &target).map_err(io_err("install a key file"))?;
        }
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(io_err("sync the key directory"))
    })();
    // After a link the temporary name is redundant; after a failure it is garbage.
    if no_clobber || result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    const AAD: &[u8] = b"123456789012/us-east-1/my-fn/$LATEST";
    const SECRET: &[u8] = b"DB_PASSWORD=correct horse battery staple";

    fn fresh() -> Result<(tempfile::TempDir, Keyring), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let keyring = Keyring::open(dir.path(), MasterKeySource::DataDir)?;
        Ok((dir, keyring))
    }

    fn other_key_b64() -> String {
        B64.encode([7u8; 32])
    }

    #[test]
    fn round_trip_with_master_key() -> TestResult {
        let (_dir, keyring) = fresh()?;
        let sealed = keyring.seal(None, SECRET, AAD)?;
        assert_eq!(sealed.key_id, MASTER_KEY_ID);
        assert_eq!(keyring.open_sealed(&sealed, AAD)?, SECRET);
        Ok(())
    }

    #[test]
    fn round_trip_with_named_key() -> TestResult {
        let (_dir, keyring) = fresh()?;
        let arn = keyring.create_key("us-east-1", "123456789012")?;
        let id = arn
            .strip_prefix("arn:aws:kms:us-east-1:123456789012:key/")
            .ok_or("unexpected ARN form")?;
        assert!(is_key_id(id));
        assert_eq!(keyring.resolve_arn(&arn)?, id);
        let sealed = keyring.seal(Some(&arn), SECRET, AAD)?;
        assert_eq!(sealed.key_id, id);
        assert_eq!(keyring.open_sealed(&sealed, AAD)?, SECRET);
        Ok(())
    }

    #[test]
    fn empty_plaintext_round_trips() -> TestResult {
        let (_dir, keyring) = fresh()?;
        let sealed = keyring.seal(None, b"", AAD)?;
        assert_eq!(keyring.open_sealed(&sealed, AAD)?, b"");
        Ok(())
    }

    #[test]
    fn each_seal_uses_fresh_keys_and_nonces() -> TestResult {
        let (_dir, keyring) = fresh()?;
        let a = keyring.seal(None, SECRET, AAD)?;
        let b = keyring.seal(None, SECRET, AAD)?;
        assert_ne!(a.wrapped_dek, b.wrapped_dek);
        assert_ne!(a.nonce, b.nonce);
        assert_ne!(a.ciphertext, b.ciphertext);
        Ok(())
    }

    #[test]
    fn wrong_aad_fails() -> TestResult {
        let (_dir, keyring) = fresh()?;
        let arn = keyring.create_key("us-east-1", "123456789012")?;
        for key in [None, Some(arn.as_str())] {
            let sealed = keyring.seal(key, SECRET, AAD)?;
            let other = b"123456789012/us-east-1/other-fn/$LATEST";
            assert!(matches!(
                keyring.open_sealed(&sealed, other),
                Err(KeyringError::DecryptFailed)
            ));
        }
        Ok(())
    }

    fn flip_first_byte(b64: &str) -> Result<String, base64::DecodeError> {
        let mut bytes = B64.decode(b64)?;
        if let Some(b) = bytes.first_mut() {
            *b ^= 0x01;
        }
        Ok(B64.encode(bytes))
    }

    #[test]
    fn tampering_fails() -> TestResult {
        let (_dir, keyring) = fresh()?;
        let arn = keyring.create_key("us-east-1", "123456789012")?;
        let sealed = keyring.seal(Some(&arn), SECRET, AAD)?;
        let mut variants = Vec::new();
        let mut s = sealed.clone();
        s.ciphertext = flip_first_byte(&s.ciphertext)?;
        variants.push(s);
        let mut s = sealed.clone();
        s.wrapped_dek = flip_first_byte(&s.wrapped_dek)?;
        variants.push(s);
        let mut s = sealed.clone();
        s.nonce = flip_first_byte(&s.nonce)?;
        variants.push(s);
        let mut s = sealed.clone();
        s.dek_nonce = flip_first_byte(&s.dek_nonce)?;
        variants.push(s);
        let mut s = sealed.clone();
        s.key_id = MASTER_KEY_ID.into();
        variants.push(s);
        let mut s = sealed.clone();
        s.nonce = B64.encode([0u8; 5]);
        variants.push(s);
        let mut s = sealed.clone();
        s.ciphertext = "%%% not base64".into();
        variants.push(s);
        let mut s = sealed.clone();
        let truncated = B64.decode(&s.ciphertext)?;
        s.ciphertext = B64.encode(&truncated[..truncated.len() - 1]);
        variants.push(s);
        for (i, bad) in variants.iter().enumerate() {
            assert!(
                matches!(
                    keyring.open_sealed(bad, AAD),
                    Err(KeyringError::DecryptFailed)
                ),
                "variant {i}"
            );
        }
        Ok(())
    }

    #[test]
    fn master_key_file_is_private() -> TestResult {
        let (dir, keyring) = fresh()?;
        let path = dir.path().join(MASTER_FILE);
        let meta = fs::metadata(&path)?;
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        assert_eq!(meta.len(), 32);
        let arn = keyring.create_key("eu-west-1", "123456789012")?;
        let id = keyring.resolve_arn(&arn)?;
        let key_file = dir.path().join(KMS_DIR).join(format!("{id}.key"));
        assert_eq!(fs::metadata(key_file)?.permissions().mode() & 0o777, 0o600);
        // No temporary files are left next to the keys.
        let names: Vec<_> = fs::read_dir(dir.path())?
            .filter_map(|e| e.ok())
            .map(|e| e.file_name())
            .collect();
        assert_eq!(names.len(), 2, "{names:?}");
        Ok(())
    }

    #[test]
    fn named_key_is_stored_wrapped() -> TestResult {
        let (dir, keyring) = fresh()?;
        let arn = keyring.create_key("us-east-1", "123456789012")?;
        let id = keyring.resolve_arn(&arn)?;
        let raw = fs::read(dir.path().join(KMS_DIR).join(format!("{id}.key")))?;
        let stored: StoredKey = serde_json::from_slice(&raw)?;
        // 32 bytes of key plus the 16-byte GCM tag: encrypted, not the bare key.
        assert_eq!(B64.decode(stored.wrapped_key)?.len(), 48);
        Ok(())
    }

    #[test]
    fn reopen_keeps_master_and_named_keys() -> TestResult {
        let dir = tempfile::tempdir()?;
        let (by_master, by_named, arn) = {
            let keyring = Keyring::open(dir.path(), MasterKeySource::DataDir)?;
            let arn = keyring.create_key("us-east-1", "123456789012")?;
            (
                keyring.seal(None, SECRET, AAD)?,
                keyring.seal(Some(&arn), SECRET, AAD)?,
                arn,
            )
        };
        let keyring = Keyring::open(dir.path(), MasterKeySource::DataDir)?;
        assert_eq!(keyring.open_sealed(&by_master, AAD)?, SECRET);
        assert_eq!(keyring.open_sealed(&by_named, AAD)?, SECRET);
        assert_eq!(keyring.list_keys()?, vec![arn]);
        Ok(())
    }

    #[test]
    fn different_master_key_cannot_open() -> TestResult {
        let dir = tempfile::tempdir()?;
        let keyring = Keyring::open(dir.path(), MasterKeySource::DataDir)?;
        let arn = keyring.create_key("us-east-1", "123456789012")?;
        let by_master = keyring.seal(None, SECRET, AAD)?;
        let by_named = keyring.seal(Some(&arn), SECRET, AAD)?;

        let other = Keyring::open(dir.path(), MasterKeySource::Base64(other_key_b64()))?;
        assert!(matches!(
            other.open_sealed(&by_master, AAD),
            Err(KeyringError::DecryptFailed)
        ));
        assert!(matches!(
            other.open_sealed(&by_named, AAD),
            Err(KeyringError::CorruptKey(_))
        ));
        Ok(())
    }

    #[test]
    fn operator_supplied_keys() -> TestResult {
        let dir = tempfile::tempdir()?;
        let raw_file = dir.path().join("raw.key");
        fs::write(&raw_file, [7u8; 32])?;
        let b64_file = dir.path().join("b64.key");
        fs::write(&b64_file, format!("{}\n", other_key_b64()))?;

        let keys = dir.path().join("keys");
        let from_env = Keyring::open(&keys, MasterKeySource::Base64(other_key_b64()))?;
        let sealed = from_env.seal(None, SECRET, AAD)?;
        for source in [
            MasterKeySource::File(raw_file),
            MasterKeySource::File(b64_file),
        ] {
            let keyring = Keyring::open(&keys, source)?;
            assert_eq!(keyring.open_sealed(&sealed, AAD)?, SECRET);
        }
        assert!(
            !keys.join(MASTER_FILE).exists(),
            "an operator's key is not copied to disk"
        );
        Ok(())
    }

    #[test]
    fn malformed_master_keys_are_refused() -> TestResult {
        let dir = tempfile::tempdir()?;
        let short = dir.path().join("short.key");
        fs::write(&short, [1u8; 31])?;
        let cases = [
            MasterKeySource::Base64(B64.encode([1u8; 16])),
            MasterKeySource::Base64("not base64!".into()),
            MasterKeySource::File(short),
        ];
        for source in cases {
            let result = Keyring::open(&dir.path().join("k"), source);
            assert!(matches!(result, Err(KeyringError::InvalidMasterKey(_))));
        }
        let data_dir = dir.path().join("d");
        fs::create_dir(&data_dir)?;
        fs::write(data_dir.join(MASTER_FILE), [1u8; 33])?;
        assert!(matches!(
            Keyring::open(&data_dir, MasterKeySource::DataDir),
            Err(KeyringError::InvalidMasterKey(_))
        ));
        Ok(())
    }

    #[test]
    fn unknown_or_malformed_arn_is_not_found() -> TestResult {
        let (_dir, keyring) = fresh()?;
        let arn = keyring.create_key("us-east-1", "123456789012")?;
        let id = keyring.resolve_arn(&arn)?;
        let unknown = "arn:aws:kms:us-east-1:123456789012:key/00000000-0000-4000-8000-000000000000";
        let cases = [
            unknown.to_owned(),
            format!("arn:aws:kms:us-west-2:123456789012:key/{id}"),
            format!("arn:aws:kms:us-east-1:210987654321:key/{id}"),
            format!("arn:aws:kms:us-east-1:123456789012:alias/{id}"),
            format!("arn:aws:lambda:us-east-1:123456789012:key/{id}"),
            "arn:aws:kms:us-east-1:123456789012:key/../master".to_owned(),
            "arn:aws:kms:us-east-1:123456789012:key/../../etc/passwd".to_owned(),
            "arn:aws:kms:us-east-1:123456789012:key/master".to_owned(),
            id.clone(),
            String::new(),
        ];
        for bad in &cases {
            assert!(
                matches!(keyring.resolve_arn(bad), Err(KeyringError::KeyNotFound(a)) if &a == bad),
                "{bad}"
            );
            assert!(
                matches!(
                    keyring.seal(Some(bad), SECRET, AAD),
                    Err(KeyringError::KeyNotFound(_))
                ),
                "{bad}"
            );
        }
        Ok(())
    }

    #[test]
    fn sealed_key_id_cannot_escape_the_key_directory() -> TestResult {
        let (_dir, keyring) = fresh()?;
        let mut sealed = keyring.seal(None, SECRET, AAD)?;
        sealed.key_id = "../master".into();
        assert!(matches!(
            keyring.open_sealed(&sealed, AAD),
            Err(KeyringError::KeyNotFound(_))
        ));
        Ok(())
    }

    #[test]
    fn key_file_renamed_to_another_id_is_refused() -> TestResult {
        let (dir, keyring) = fresh()?;
        let a = keyring.create_key("us-east-1", "123456789012")?;
        let b = keyring.create_key("us-east-1", "210987654321")?;
        let (id_a, id_b) = (keyring.resolve_arn(&a)?, keyring.resolve_arn(&b)?);
        let sealed = keyring.seal(Some(&b), SECRET, AAD)?;
        let kms = dir.path().join(KMS_DIR);
        fs::copy(
            kms.join(format!("{id_a}.key")),
            kms.join(format!("{id_b}.key")),
        )?;
        assert!(keyring.open_sealed(&sealed, AAD).is_err());
        Ok(())
    }

    #[test]
    fn list_keys_returns_sorted_arns() -> TestResult {
        let (_dir, keyring) = fresh()?;
        assert!(keyring.list_keys()?.is_empty());
        let mut created = vec![
            keyring.create_key("us-east-1", "123456789012")?,
            keyring.create_key("eu-west-1", "123456789012")?,
            keyring.create_key("us-east-1", "210987654321")?,
        ];
        created.sort();
        assert_eq!(keyring.list_keys()?, created);
        assert!(matches!(
            keyring.create_key("us-east-1:x", "123456789012"),
            Err(KeyringError::InvalidOwner(_))
        ));
        assert!(matches!(
            keyring.create_key("us-east-1", ""),
            Err(KeyringError::InvalidOwner(_))
        ));
        Ok(())
    }

    #[test]
    fn plaintext_never_in_sealed_json() -> TestResult {
        let (_dir, keyring) = fresh()?;
        let arn = keyring.create_key("us-east-1", "123456789012")?;
        for key in [None, Some(arn.as_str())] {
            let sealed = keyring.seal(key, SECRET, AAD)?;
            let json = serde_json::to_string(&sealed)?;
            let needle = std::str::from_utf8(SECRET)?;
            assert!(!json.contains(needle));
            assert!(!json.contains("correct horse"));
            assert!(!json.contains(&B64.encode(SECRET)));
            assert!(!format!("{sealed:?}").contains("correct horse"));
            let back: Sealed = serde_json::from_str(&json)?;
            assert_eq!(back, sealed);
        }
        Ok(())
    }

    #[test]
    fn debug_output_has_no_key_material() -> TestResult {
        let dir = tempfile::tempdir()?;
        let secret_b64 = other_key_b64();
        let source = MasterKeySource::Base64(secret_b64.clone());
        assert!(!format!("{source:?}").contains(&secret_b64));
        let keyring = Keyring::open(dir.path(), source)?;
        let shown = format!("{keyring:?}");
        assert!(shown.contains("redacted"));
        assert!(!shown.contains("7, 7, 7"));
        assert!(!shown.contains(&secret_b64));

        let (data_dir, keyring) = fresh()?;
        let master = fs::read(data_dir.path().join(MASTER_FILE))?;
        let shown = format!("{keyring:?}");
        assert!(!shown.contains(&format!("{}, {}, {}", master[0], master[1], master[2])));
        assert!(!shown.contains(&hex::encode(&master)));
        assert!(!shown.contains(&B64.encode(&master)));
        Ok(())
    }

    #[test]
    fn concurrent_first_opens_agree_on_the_master_key() -> TestResult {
        let dir = tempfile::tempdir()?;
        let keyrings: Vec<Keyring> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8)
                .map(|_| s.spawn(|| Keyring::open(dir.path(), MasterKeySource::DataDir)))
                .collect();
            handles
                .into_iter()
                .filter_map(|h| h.join().ok())
                .collect::<Result<Vec<_>, _>>()
        })?;
        assert_eq!(keyrings.len(), 8);
        let sealed = keyrings[0].seal(None, SECRET, AAD)?;
        for keyring in &keyrings {
            assert_eq!(keyring.open_sealed(&sealed, AAD)?, SECRET);
        }
        Ok(())
    }
}
