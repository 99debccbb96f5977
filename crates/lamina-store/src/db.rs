//! The SQLite database: opening, migrations, and the transaction wrapper every operation runs in.

use crate::blobs::{BlobError, BlobStore};
use crate::keyring::{Keyring, KeyringError, MasterKeySource};
use rusqlite::{Connection, OptionalExtension, Transaction};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// What can go wrong below the API.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite failed.
    #[error("Database error")]
    Sqlite(#[from] rusqlite::Error),
    /// A stored record did not parse (corruption or a newer schema).
    #[error("Stored record is unreadable")]
    Record(#[from] serde_json::Error),
    /// The blob store failed.
    #[error("Blob store error")]
    Blob(#[from] BlobError),
    /// The keyring failed.
    #[error("Keyring error")]
    Keyring(#[from] KeyringError),
    /// The data directory could not be prepared.
    #[error("Cannot prepare data directory {path}")]
    DataDir {
        /// The path.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The database was written by a newer Lamina.
    #[error(
        "Database schema version {0} is newer than this Lamina supports ({1}); upgrade Lamina"
    )]
    SchemaTooNew(i64, i64),
}

/// Ordered schema migrations; index + 1 is the `user_version` after applying it. Never edit a shipped one.
const MIGRATIONS: &[&str] = &[
    // 1: the control plane.
    r#"
    CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE access_keys (
        access_key_id TEXT PRIMARY KEY,
        secret_sealed TEXT NOT NULL,
        account_id TEXT NOT NULL,
        principal_arn TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE TABLE functions (
        id INTEGER PRIMARY KEY,
        account TEXT NOT NULL,
        region TEXT NOT NULL,
        name TEXT NOT NULL,
        tags TEXT NOT NULL DEFAULT '{}',
        reserved_concurrency INTEGER,
        next_version INTEGER NOT NULL DEFAULT 1,
        UNIQUE (account, region, name)
    );
    CREATE TABLE versions (
        function_id INTEGER NOT NULL REFERENCES functions(id) ON DELETE CASCADE,
        version INTEGER NOT NULL,
        code_size INTEGER NOT NULL,
        record TEXT NOT NULL,
        PRIMARY KEY (function_id, version)
    );
    CREATE TABLE aliases (
        function_id INTEGER NOT NULL REFERENCES functions(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        record TEXT NOT NULL,
        PRIMARY KEY (function_id, name)
    );
    CREATE TABLE policies (
        function_id INTEGER NOT NULL REFERENCES functions(id) ON DELETE CASCADE,
        qualifier TEXT NOT NULL,
        document TEXT NOT NULL,
        revision_id TEXT NOT NULL,
        PRIMARY KEY (function_id, qualifier)
    );
    CREATE TABLE layers (
        id INTEGER PRIMARY KEY,
        account TEXT NOT NULL,
        region TEXT NOT NULL,
        name TEXT NOT NULL,
        next_version INTEGER NOT NULL DEFAULT 1,
        UNIQUE (account, region, name)
    );
    CREATE TABLE layer_versions (
        layer_id INTEGER NOT NULL REFERENCES layers(id),
        version INTEGER NOT NULL,
        code_size INTEGER NOT NULL,
        record TEXT NOT NULL,
        PRIMARY KEY (layer_id, version)
    );
    "#,
    // 2: running per-account/region totals, so account settings and the code-storage check do not scan
    // every version (kept by `records` in the same transactions as the rows they count).
    r#"
    CREATE TABLE usage (
        account TEXT NOT NULL,
        region TEXT NOT NULL,
        code_size INTEGER NOT NULL DEFAULT 0,
        functions INTEGER NOT NULL DEFAULT 0,
        reserved INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (account, region)
    );
    INSERT INTO usage (account, region, code_size, functions, reserved)
        SELECT account, region, 0, COUNT(*), COALESCE(SUM(reserved_concurrency), 0) FROM functions GROUP BY account, region;
    INSERT INTO usage (account, region) SELECT DISTINCT account, region FROM layers WHERE true
        ON CONFLICT (account, region) DO NOTHING;
    UPDATE usage SET code_size =
        (SELECT COALESCE(SUM(v.code_size), 0) FROM versions v JOIN functions f ON f.id = v.function_id
            WHERE f.account = usage.account AND f.region = usage.region)
      + (SELECT COALESCE(SUM(v.code_size), 0) FROM layer_versions v JOIN layers l ON l.id = v.layer_id
            WHERE l.account = usage.account AND l.region = usage.region);
    "#,
    // 3: asynchronous-invocation settings per function qualifier (`""` = unqualified/$LATEST).
    r#"
    CREATE TABLE event_invoke_configs (
        function_id INTEGER NOT NULL REFERENCES functions(id) ON DELETE CASCADE,
        qualifier TEXT NOT NULL,
        record TEXT NOT NULL,
        PRIMARY KEY (function_id, qualifier)
    );
    "#,
];

/// The database handle operations receive: a transaction on the one connection.
pub type Db<'a> = Transaction<'a>;

/// Everything durable, opened from one data directory.
pub struct Store {
    conn: Mutex<Connection>,
    /// Content-addressed code blobs.
    pub blobs: BlobStore,
    /// Envelope encryption keys.
    pub keyring: Keyring,
    data_dir: PathBuf,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("data_dir", &self.data_dir)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Open (creating if needed) the store under `data_dir`, applying pending migrations.
    pub fn open(data_dir: &Path, master: MasterKeySource) -> Result<Store, StoreError> {
        std::fs::create_dir_all(data_dir).map_err(|source| StoreError::DataDir {
            path: data_dir.into(),
            source,
        })?;
        let blobs = BlobStore::open(&data_dir.join("blobs"))?;
        blobs.clean_tmp()?;
        let keyring = Keyring::open(&data_dir.join("keys"), master)?;
        let mut conn = Connection::open(data_dir.join("lamina.db"))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        // FULL: a commit that was acknowledged survives power loss, not just a process crash.
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        migrate(&mut conn)?;
        Ok(Store {
            conn: Mutex::new(conn),
            blobs,
            keyring,
            data_dir: data_dir.into(),
        })
    }

    /// The data directory.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// Run `f` in one transaction, committed if it returns `Ok`. Blocking: call off the async workers.
    pub fn tx<T, E>(&self, f: impl FnOnce(&Db<'_>) -> Result<T, E>) -> Result<T, E>
    where
        E: From<StoreError>,
    {
        let mut conn = match self.conn.lock() {
            Ok(c) => c,
            // A panic mid-transaction rolled that transaction back when it dropped; the connection is sound.
            Err(poisoned) => poisoned.into_inner(),
        };
        let tx = conn.transaction().map_err(StoreError::from)?;
        let out = f(&tx)?;
        tx.commit().map_err(StoreError::from)?;
        Ok(out)
    }

    /// A setting, created with `init` on first use (e.g. a random secret).
    pub fn setting_or_init(
        &self,
        key: &str,
        init: impl FnOnce() -> String,
    ) -> Result<String, StoreError> {
        self.tx(|db| {
            if let Some(v) = db
                .query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| {
                    r.get::<_, String>(0)
                })
                .optional()?
            {
                return Ok(v);
            }
            let v = init();
            db.execute(
                "INSERT INTO settings (key, value) VALUES (?1, ?2)",
                [key, v.as_str()],
            )?;
            Ok(v)
        })
    }
}

fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let current: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let latest = MIGRATIONS.len() as i64;
    if current > latest {
        return Err(StoreError::SchemaTooNew(current, latest));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        tx.commit()?;
        tracing::info!(version = i + 1, "applied schema migration");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrates_once_and_reopens() -> Result<(), StoreError> {
        let dir = tempfile::tempdir().map_err(|source| StoreError::DataDir {
            path: "tmp".into(),
            source,
        })?;
        let s = Store::open(dir.path(), MasterKeySource::DataDir)?;
        let v = s.setting_or_init("k", || "first".into())?;
        drop(s);
        let s = Store::open(dir.path(), MasterKeySource::DataDir)?;
        assert_eq!(s.setting_or_init("k", || "second".into())?, v);
        let uv: i64 =
            s.tx(|db| Ok::<_, StoreError>(db.query_row("PRAGMA user_version", [], |r| r.get(0))?))?;
        assert_eq!(uv, MIGRATIONS.len() as i64);
        Ok(())
    }

    #[test]
    fn refuses_newer_schema() -> Result<(), StoreError> {
        let dir = tempfile::tempdir().map_err(|source| StoreError::DataDir {
            path: "tmp".into(),
            source,
        })?;
        drop(Store::open(dir.path(), MasterKeySource::DataDir)?);
        let c = Connection::open(dir.path().join("lamina.db"))?;
        c.pragma_update(None, "user_version", 99)?;
        drop(c);
        assert!(matches!(
            Store::open(dir.path(), MasterKeySource::DataDir),
            Err(StoreError::SchemaTooNew(99, _))
        ));
        Ok(())
    }
}
