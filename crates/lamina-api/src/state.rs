//! What every request shares: the store, the configuration, and the access-key cache the SigV4 check reads.

use lamina_auth::{KeyResolver, SecretKey};
use lamina_store::{records, Store};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// Operator settings the API honours.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// Accept the well-known key `test`/`test` for account `000000000000`.
    pub dev: bool,
    /// How long a create or update stays `Pending`/`InProgress` before completing (0: completes before the
    /// response is sent, which is still reported in AWS's transitional shape).
    pub update_delay: Duration,
    /// The account concurrency limit.
    pub account_concurrency: i64,
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig {
            dev: false,
            update_delay: Duration::ZERO,
            account_concurrency: lamina_model::limits::ACCOUNT_CONCURRENCY,
        }
    }
}

/// The dev-mode credentials.
pub const DEV_KEY: (&str, &str, &str) = ("test", "test", "000000000000");

/// Cached invoke resolutions: (account, region, function, qualifier) → (generation, resolution).
pub(crate) type InvokeCache =
    HashMap<(String, String, String, String), (u64, Arc<crate::ops::invoke::Resolved>)>;

/// Shared per-server state.
pub struct AppState {
    /// Durable state.
    pub store: Arc<Store>,
    /// Runs functions.
    pub engine: Arc<lamina_engine::Engine>,
    /// Bumped by every control-plane write; cached invoke resolutions older than it are stale.
    generation: std::sync::atomic::AtomicU64,
    /// Invoke resolutions by (account, region, function, qualifier).
    pub(crate) invoke_cache: std::sync::Mutex<InvokeCache>,
    /// Settings.
    pub config: ApiConfig,
    keys: RwLock<HashMap<String, SecretKey>>,
    /// HMAC key for the code download URLs Lamina hands out.
    pub url_key: [u8; 32],
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl AppState {
    /// Build the state; loads (or creates) the URL-signing key.
    pub fn new(
        store: Arc<Store>,
        engine: Arc<lamina_engine::Engine>,
        config: ApiConfig,
    ) -> Result<Arc<AppState>, lamina_store::StoreError> {
        let url_key = crate::code::load_url_key(&store)?;
        let mut keys = HashMap::new();
        if config.dev {
            let (id, secret, account) = DEV_KEY;
            keys.insert(
                id.to_string(),
                SecretKey {
                    secret: secret.into(),
                    account_id: account.into(),
                    principal_arn: format!("arn:aws:iam::{account}:root"),
                },
            );
        }
        Ok(Arc::new(AppState {
            store,
            engine,
            generation: std::sync::atomic::AtomicU64::new(1),
            invoke_cache: std::sync::Mutex::new(HashMap::new()),
            config,
            keys: RwLock::new(keys),
            url_key,
        }))
    }

    /// The current control-plane generation.
    pub fn generation(&self) -> u64 {
        self.generation.load(std::sync::atomic::Ordering::Acquire)
    }

    /// Invalidate cached invoke resolutions after a write.
    pub fn bump_generation(&self) {
        self.generation
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
    }
}

/// The in-memory key cache alone, for the non-blocking fast path (a miss sends the request down the
/// ordinary path, which may read SQLite).
#[derive(Debug)]
pub struct CachedKeys<'a>(pub &'a AppState);

impl KeyResolver for CachedKeys<'_> {
    fn resolve(&self, access_key_id: &str) -> Option<SecretKey> {
        self.0
            .keys
            .read()
            .ok()
            .and_then(|m| m.get(access_key_id).cloned())
    }
}

impl KeyResolver for AppState {
    fn resolve(&self, access_key_id: &str) -> Option<SecretKey> {
        if let Some(k) = self
            .keys
            .read()
            .ok()
            .and_then(|m| m.get(access_key_id).cloned())
        {
            return Some(k);
        }
        // Keys created by `lamina keys create` while the server runs are found on first use.
        let row = self
            .store
            .tx(|db| records::get_access_key(db, access_key_id))
            .ok()??;
        let aad = access_key_aad(access_key_id);
        let secret = self
            .store
            .keyring
            .open_sealed(&row.secret_sealed, aad.as_bytes())
            .ok()?;
        let key = SecretKey {
            secret: String::from_utf8(secret).ok()?,
            account_id: row.account_id,
            principal_arn: row.principal_arn,
        };
        if let Ok(mut m) = self.keys.write() {
            m.insert(access_key_id.to_string(), key.clone());
        }
        Some(key)
    }
}

/// The additional authenticated data that binds a sealed secret key to its id.
pub fn access_key_aad(access_key_id: &str) -> String {
    format!("lamina-access-key:{access_key_id}")
}
