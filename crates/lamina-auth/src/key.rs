//! SigV4 signing-key derivation (`kDate → kRegion → kService → kSigning`) and a small bounded cache
//! of derived keys, so a warm request costs one HMAC over the string to sign instead of five.

use crate::encode::Sink;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::collections::HashMap;
use std::sync::{LazyLock, Mutex, PoisonError};
use subtle::ConstantTimeEq;

pub(crate) type HmacSha256 = Hmac<Sha256>;

impl Sink for HmacSha256 {
    #[inline]
    fn put(&mut self, bytes: &[u8]) {
        self.update(bytes);
    }
}

/// A fresh HMAC-SHA256 keyed with `key`.
pub(crate) fn mac(key: &[u8]) -> HmacSha256 {
    // HMAC accepts keys of every length, so this never takes the fallback; the fallback exists only
    // to avoid a panic path.
    HmacSha256::new_from_slice(key)
        .unwrap_or_else(|_| <HmacSha256 as hmac::digest::KeyInit>::new(&Default::default()))
}

fn hmac(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut m = mac(key);
    m.update(data);
    m.finalize().into_bytes().into()
}

/// Derives `kSigning` for a secret and a credential scope.
pub(crate) fn derive_signing_key(
    secret: &str,
    date: &str,
    region: &str,
    service: &str,
) -> [u8; 32] {
    let mut k_secret = Vec::with_capacity(4 + secret.len());
    k_secret.extend_from_slice(b"AWS4");
    k_secret.extend_from_slice(secret.as_bytes());
    let k_date = hmac(&k_secret, date.as_bytes());
    let k_region = hmac(&k_date, region.as_bytes());
    let k_service = hmac(&k_region, service.as_bytes());
    hmac(&k_service, b"aws4_request")
}

struct Entry {
    /// The secret the key was derived from: a hit only counts when the resolver still returns it,
    /// so a key whose secret changed is never served from a stale entry.
    secret: String,
    signing_key: [u8; 32],
}

/// A bounded map from credential scope (`AKID/date/region/service`) to its derived signing key.
/// [`crate::verify`] uses one shared process-wide cache; [`crate::verify_with_cache`] takes one.
pub struct SigningKeyCache {
    capacity: usize,
    entries: Mutex<HashMap<String, Entry>>,
}

impl SigningKeyCache {
    /// Entries kept by the process-wide cache: one per access key per day is enough for any
    /// realistic number of live keys, and each entry is under 200 bytes.
    pub const DEFAULT_CAPACITY: usize = 1024;

    /// An empty cache holding at most `capacity` keys (at least one).
    pub fn new(capacity: usize) -> Self {
        SigningKeyCache {
            capacity: capacity.max(1),
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The cache [`crate::verify`] uses.
    pub fn global() -> &'static SigningKeyCache {
        static GLOBAL: LazyLock<SigningKeyCache> =
            LazyLock::new(|| SigningKeyCache::new(SigningKeyCache::DEFAULT_CAPACITY));
        &GLOBAL
    }

    /// Number of cached keys.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// True when nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        // The map holds plain data and no invariant spans a panic, so a poisoned lock is still usable.
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The signing key for `scope_key` (`AKID/date/region/service`), derived and cached on a miss.
    pub(crate) fn signing_key(
        &self,
        scope_key: &str,
        secret: &str,
        date: &str,
        region: &str,
        service: &str,
    ) -> [u8; 32] {
        if let Some(entry) = self.lock().get(scope_key) {
            if bool::from(entry.secret.as_bytes().ct_eq(secret.as_bytes())) {
                return entry.signing_key;
            }
        }
        // Derive outside the lock: four HMACs are the expensive part.
        let signing_key = derive_signing_key(secret, date, region, service);
        let mut entries = self.lock();
        if entries.len() >= self.capacity && !entries.contains_key(scope_key) {
            // Evict an arbitrary entry; the map is a cache, not a record, and hash order is random.
            if let Some(victim) = entries.keys().next().cloned() {
                entries.remove(&victim);
            }
        }
        entries.insert(
            scope_key.to_owned(),
            Entry {
                secret: secret.to_owned(),
                signing_key,
            },
        );
        signing_key
    }
}

impl Default for SigningKeyCache {
    fn default() -> Self {
        SigningKeyCache::new(SigningKeyCache::DEFAULT_CAPACITY)
    }
}

impl std::fmt::Debug for SigningKeyCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print secrets or keys.
        f.debug_struct("SigningKeyCache")
            .field("capacity", &self.capacity)
            .field("len", &self.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_hits_return_the_derived_key() {
        let cache = SigningKeyCache::new(4);
        let direct = derive_signing_key("s", "20250101", "us-east-1", "lambda");
        let first = cache.signing_key(
            "AK/20250101/us-east-1/lambda",
            "s",
            "20250101",
            "us-east-1",
            "lambda",
        );
        let second = cache.signing_key(
            "AK/20250101/us-east-1/lambda",
            "s",
            "20250101",
            "us-east-1",
            "lambda",
        );
        assert_eq!(first, direct);
        assert_eq!(second, direct);
        assert_eq!(cache.len(), 1);
    }

    #[test]
    fn a_changed_secret_is_not_served_from_cache() {
        let cache = SigningKeyCache::new(4);
        let a = cache.signing_key(
            "AK/20250101/us-east-1/lambda",
            "one",
            "20250101",
            "us-east-1",
            "lambda",
        );
        let b = cache.signing_key(
            "AK/20250101/us-east-1/lambda",
            "two",
            "20250101",
            "us-east-1",
            "lambda",
        );
        assert_ne!(a, b);
        assert_eq!(
            b,
            derive_signing_key("two", "20250101", "us-east-1", "lambda")
        );
    }

    #[test]
    fn cache_is_bounded() {
        let cache = SigningKeyCache::new(3);
        for i in 0..10 {
            let scope = format!("AK{i}/20250101/us-east-1/lambda");
            cache.signing_key(&scope, "s", "20250101", "us-east-1", "lambda");
        }
        assert_eq!(cache.len(), 3);
    }
}
