//! The records Lamina stores and the queries over them. Records are JSON in SQLite rows so that a field
//! added later needs no table rewrite; the columns beside them are what queries select on.

use crate::db::{Db, StoreError};
use crate::keyring::Sealed;
use rusqlite::{params, OptionalExtension};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// `$LATEST` is stored as version 0.
pub const LATEST: i64 = 0;

/// A function's identity row.
#[derive(Debug, Clone)]
pub struct FunctionRow {
    /// Row id.
    pub id: i64,
    /// Account id.
    pub account: String,
    /// Region.
    pub region: String,
    /// Function name.
    pub name: String,
    /// Tags.
    pub tags: BTreeMap<String, String>,
    /// Reserved concurrency, if set.
    pub reserved_concurrency: Option<i64>,
    /// The number the next published version gets (never reused).
    pub next_version: i64,
}

/// One layer version a function references.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LayerRef {
    /// Layer version ARN.
    pub arn: String,
    /// Its zip size.
    pub code_size: u64,
    /// Its unzipped size.
    #[serde(default)]
    pub unzipped_size: u64,
    /// Its blob (hex SHA-256).
    #[serde(default)]
    pub blob: String,
}

/// The configuration and code of `$LATEST` or of one published version.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct VersionRecord {
    /// `$LATEST` or the version number.
    pub version: String,
    /// Description.
    pub description: String,
    /// Execution role ARN.
    pub role: String,
    /// Runtime.
    pub runtime: Option<String>,
    /// Handler.
    pub handler: Option<String>,
    /// Timeout, seconds.
    pub timeout: i64,
    /// Memory, MB.
    pub memory_size: i64,
    /// /tmp size, MB.
    pub ephemeral_storage: i64,
    /// Base64 SHA-256 of the zip.
    pub code_sha256: String,
    /// Zip size in bytes.
    pub code_size: u64,
    /// Unzipped size in bytes.
    pub unzipped_size: u64,
    /// Hex SHA-256: the blob's name.
    pub code_blob: String,
    /// Environment variables (compact JSON of the map), sealed; `None` when never set.
    pub environment: Option<Sealed>,
    /// Customer key that seals the environment.
    pub kms_key_arn: Option<String>,
    /// Dead-letter target.
    pub dead_letter_target: Option<String>,
    /// `PassThrough` or `Active`.
    pub tracing_mode: String,
    /// Layers in order.
    pub layers: Vec<LayerRef>,
    /// `x86_64` or `arm64`.
    pub architectures: Vec<String>,
    /// `Text` or `JSON`.
    pub log_format: String,
    /// Log group.
    pub log_group: String,
    /// JSON-only application log level.
    pub application_log_level: Option<String>,
    /// JSON-only system log level.
    pub system_log_level: Option<String>,
    /// VpcConfig as given (Lamina has no VPCs; kept and echoed).
    pub vpc_config: Option<serde_json::Value>,
    /// SnapStart.ApplyOn.
    pub snap_start_apply_on: String,
    /// LastModified (wire format).
    pub last_modified: String,
    /// RevisionId.
    pub revision_id: String,
    /// `Pending`, `Active`, `Failed`.
    pub state: String,
    /// `Successful`, `InProgress`, `Failed`, or none before creation completes.
    pub last_update_status: Option<String>,
}

/// An alias.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AliasRecord {
    /// Alias name.
    pub name: String,
    /// Primary version.
    pub function_version: String,
    /// Description.
    pub description: String,
    /// Additional version → weight.
    pub weights: BTreeMap<String, f64>,
    /// RevisionId.
    pub revision_id: String,
}

/// A published layer version.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LayerVersionRecord {
    /// Version number.
    pub version: i64,
    /// Description.
    pub description: String,
    /// CreatedDate (wire format).
    pub created_date: String,
    /// Compatible runtimes.
    pub compatible_runtimes: Vec<String>,
    /// Compatible architectures.
    pub compatible_architectures: Vec<String>,
    /// License.
    pub license_info: Option<String>,
    /// Base64 SHA-256 of the zip.
    pub code_sha256: String,
    /// Zip size.
    pub code_size: u64,
    /// Unzipped size.
    pub unzipped_size: u64,
    /// Blob name.
    pub blob: String,
    /// Usage permissions: the policy document (JSON) and its RevisionId.
    #[serde(default)]
    pub policy: Option<(String, String)>,
}

/// A stored access key (secret sealed by the keyring).
#[derive(Debug, Clone)]
pub struct AccessKeyRow {
    /// Access key id.
    pub access_key_id: String,
    /// Sealed secret.
    pub secret_sealed: Sealed,
    /// Account the key acts in.
    pub account_id: String,
    /// Principal ARN.
    pub principal_arn: String,
}

/// A `functions` row as read: id, account, region, name, tags JSON, reserved concurrency, next version.
type RawFunction = (i64, String, String, String, String, Option<i64>, i64);

fn row_to_function(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawFunction> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
    ))
}

fn to_function(t: RawFunction) -> Result<FunctionRow, StoreError> {
    Ok(FunctionRow {
        id: t.0,
        account: t.1,
        region: t.2,
        name: t.3,
        tags: serde_json::from_str(&t.4)?,
        reserved_concurrency: t.5,
        next_version: t.6,
    })
}

const FUNCTION_COLS: &str = "id, account, region, name, tags, reserved_concurrency, next_version";

/// Find a function by name.
pub fn find_function(
    db: &Db<'_>,
    account: &str,
    region: &str,
    name: &str,
) -> Result<Option<FunctionRow>, StoreError> {
    let row = db
        .prepare_cached(&format!("SELECT {FUNCTION_COLS} FROM functions WHERE account = ?1 AND region = ?2 AND name = ?3"))?
        .query_row(params![account, region, name], row_to_function)
        .optional()?;
    row.map(to_function).transpose()
}

/// Adjust an account/region's running totals.
fn usage_add(
    db: &Db<'_>,
    account: &str,
    region: &str,
    code: i64,
    functions: i64,
    reserved: i64,
) -> Result<(), StoreError> {
    db.prepare_cached(
        "INSERT INTO usage (account, region, code_size, functions, reserved) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (account, region) DO UPDATE SET code_size = code_size + excluded.code_size,
             functions = functions + excluded.functions, reserved = reserved + excluded.reserved",
    )?
    .execute(params![account, region, code, functions, reserved])?;
    Ok(())
}

/// The account and region a function belongs to.
fn function_scope(db: &Db<'_>, function_id: i64) -> Result<(String, String), StoreError> {
    Ok(db
        .prepare_cached("SELECT account, region FROM functions WHERE id = ?1")?
        .query_row([function_id], |r| Ok((r.get(0)?, r.get(1)?)))?)
}

/// Insert a new function row; the caller has checked it does not exist.
pub fn insert_function(
    db: &Db<'_>,
    account: &str,
    region: &str,
    name: &str,
    tags: &BTreeMap<String, String>,
) -> Result<i64, StoreError> {
    db.prepare_cached(
        "INSERT INTO functions (account, region, name, tags) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![account, region, name, serde_json::to_string(tags)?])?;
    let id = db.last_insert_rowid();
    usage_add(db, account, region, 0, 1, 0)?;
    Ok(id)
}

/// Delete a function and (by cascade) its versions, aliases and policies.
pub fn delete_function(db: &Db<'_>, id: i64) -> Result<(), StoreError> {
    let (account, region, reserved, code): (String, String, Option<i64>, i64) = db.query_row(
        "SELECT account, region, reserved_concurrency, (SELECT COALESCE(SUM(code_size), 0) FROM versions WHERE function_id = ?1)
         FROM functions WHERE id = ?1",
        [id],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
    )?;
    db.execute("DELETE FROM functions WHERE id = ?1", [id])?;
    usage_add(db, &account, &region, -code, -1, -reserved.unwrap_or(0))
}

/// Functions of an account/region ordered by name, after `after`, at most `limit`.
pub fn list_functions(
    db: &Db<'_>,
    account: &str,
    region: &str,
    after: Option<&str>,
    limit: usize,
) -> Result<Vec<FunctionRow>, StoreError> {
    let mut stmt = db.prepare_cached(&format!(
        "SELECT {FUNCTION_COLS} FROM functions WHERE account = ?1 AND region = ?2 AND name > ?3 ORDER BY name LIMIT ?4"
    ))?;
    let rows = stmt.query_map(
        params![account, region, after.unwrap_or(""), limit as i64],
        row_to_function,
    )?;
    rows.map(|r| to_function(r?)).collect()
}

/// Replace a function's tags.
pub fn set_tags(db: &Db<'_>, id: i64, tags: &BTreeMap<String, String>) -> Result<(), StoreError> {
    db.execute(
        "UPDATE functions SET tags = ?2 WHERE id = ?1",
        params![id, serde_json::to_string(tags)?],
    )?;
    Ok(())
}

/// Set or clear reserved concurrency.
pub fn set_reserved_concurrency(
    db: &Db<'_>,
    id: i64,
    value: Option<i64>,
) -> Result<(), StoreError> {
    let (account, region, old): (String, String, Option<i64>) = db.query_row(
        "SELECT account, region, reserved_concurrency FROM functions WHERE id = ?1",
        [id],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    db.execute(
        "UPDATE functions SET reserved_concurrency = ?2 WHERE id = ?1",
        params![id, value],
    )?;
    usage_add(
        db,
        &account,
        &region,
        0,
        0,
        value.unwrap_or(0) - old.unwrap_or(0),
    )
}

/// Sum of reserved concurrency in an account/region, leaving out one function.
pub fn reserved_sum(
    db: &Db<'_>,
    account: &str,
    region: &str,
    except: Option<i64>,
) -> Result<i64, StoreError> {
    let total: i64 = db
        .prepare_cached("SELECT reserved FROM usage WHERE account = ?1 AND region = ?2")?
        .query_row(params![account, region], |r| r.get(0))
        .optional()?
        .unwrap_or(0);
    let own: i64 = match except {
        Some(id) => db
            .prepare_cached(
                "SELECT COALESCE(reserved_concurrency, 0) FROM functions WHERE id = ?1",
            )?
            .query_row([id], |r| r.get(0))
            .optional()?
            .unwrap_or(0),
        None => 0,
    };
    Ok(total - own)
}

/// Take the next version number of a function.
pub fn take_next_version(db: &Db<'_>, id: i64) -> Result<i64, StoreError> {
    let n: i64 = db.query_row(
        "SELECT next_version FROM functions WHERE id = ?1",
        [id],
        |r| r.get(0),
    )?;
    db.execute(
        "UPDATE functions SET next_version = ?2 WHERE id = ?1",
        params![id, n + 1],
    )?;
    Ok(n)
}

/// Read `$LATEST` (0) or a published version.
pub fn get_version(
    db: &Db<'_>,
    function_id: i64,
    version: i64,
) -> Result<Option<VersionRecord>, StoreError> {
    let s: Option<String> = db
        .prepare_cached("SELECT record FROM versions WHERE function_id = ?1 AND version = ?2")?
        .query_row(params![function_id, version], |r| r.get(0))
        .optional()?;
    Ok(s.map(|s| serde_json::from_str(&s)).transpose()?)
}

/// Write `$LATEST` or a version.
pub fn put_version(
    db: &Db<'_>,
    function_id: i64,
    version: i64,
    rec: &VersionRecord,
) -> Result<(), StoreError> {
    let old: i64 = db
        .prepare_cached("SELECT code_size FROM versions WHERE function_id = ?1 AND version = ?2")?
        .query_row(params![function_id, version], |r| r.get(0))
        .optional()?
        .unwrap_or(0);
    db.prepare_cached("INSERT OR REPLACE INTO versions (function_id, version, code_size, record) VALUES (?1, ?2, ?3, ?4)")?
        .execute(params![function_id, version, rec.code_size as i64, serde_json::to_string(rec)?])?;
    let delta = rec.code_size as i64 - old;
    if delta != 0 {
        let (account, region) = function_scope(db, function_id)?;
        usage_add(db, &account, &region, delta, 0, 0)?;
    }
    Ok(())
}

/// Delete one published version.
pub fn delete_version(db: &Db<'_>, function_id: i64, version: i64) -> Result<(), StoreError> {
    let old: Option<i64> = db
        .query_row(
            "SELECT code_size FROM versions WHERE function_id = ?1 AND version = ?2",
            params![function_id, version],
            |r| r.get(0),
        )
        .optional()?;
    db.execute(
        "DELETE FROM versions WHERE function_id = ?1 AND version = ?2",
        params![function_id, version],
    )?;
    if let Some(size) = old {
        let (account, region) = function_scope(db, function_id)?;
        usage_add(db, &account, &region, -size, 0, 0)?;
    }
    Ok(())
}

/// Versions (`$LATEST` = 0 first) after `after`, at most `limit`.
pub fn list_versions(
    db: &Db<'_>,
    function_id: i64,
    after: Option<i64>,
    limit: usize,
) -> Result<Vec<(i64, VersionRecord)>, StoreError> {
    let mut stmt = db.prepare_cached(
        "SELECT version, record FROM versions WHERE function_id = ?1 AND version > ?2 ORDER BY version LIMIT ?3",
    )?;
    let rows = stmt.query_map(
        params![function_id, after.unwrap_or(-1), limit as i64],
        |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)),
    )?;
    rows.map(|r| {
        let (v, s) = r?;
        Ok((v, serde_json::from_str(&s)?))
    })
    .collect()
}

/// The newest published version, if any.
pub fn newest_version(
    db: &Db<'_>,
    function_id: i64,
) -> Result<Option<(i64, VersionRecord)>, StoreError> {
    let row: Option<(i64, String)> = db
        .query_row(
            "SELECT version, record FROM versions WHERE function_id = ?1 AND version > 0 ORDER BY version DESC LIMIT 1",
            [function_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    row.map(|(v, s)| Ok((v, serde_json::from_str(&s)?)))
        .transpose()
}

/// Functions whose `$LATEST` is still in a transition (Pending or InProgress), for completion after a restart.
pub fn pending_functions(db: &Db<'_>) -> Result<Vec<i64>, StoreError> {
    let mut stmt = db.prepare(
        "SELECT function_id FROM versions WHERE version = 0 AND (json_extract(record, '$.state') = 'Pending' OR json_extract(record, '$.last_update_status') = 'InProgress')",
    )?;
    let rows = stmt.query_map([], |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// An alias by name.
pub fn get_alias(
    db: &Db<'_>,
    function_id: i64,
    name: &str,
) -> Result<Option<AliasRecord>, StoreError> {
    let s: Option<String> = db
        .prepare_cached("SELECT record FROM aliases WHERE function_id = ?1 AND name = ?2")?
        .query_row(params![function_id, name], |r| r.get(0))
        .optional()?;
    Ok(s.map(|s| serde_json::from_str(&s)).transpose()?)
}

/// Create or replace an alias.
pub fn put_alias(db: &Db<'_>, function_id: i64, rec: &AliasRecord) -> Result<(), StoreError> {
    db.execute(
        "INSERT OR REPLACE INTO aliases (function_id, name, record) VALUES (?1, ?2, ?3)",
        params![function_id, rec.name, serde_json::to_string(rec)?],
    )?;
    Ok(())
}

/// Delete an alias (and its policy document).
pub fn delete_alias(db: &Db<'_>, function_id: i64, name: &str) -> Result<(), StoreError> {
    db.execute(
        "DELETE FROM aliases WHERE function_id = ?1 AND name = ?2",
        params![function_id, name],
    )?;
    db.execute(
        "DELETE FROM policies WHERE function_id = ?1 AND qualifier = ?2",
        params![function_id, name],
    )?;
    db.execute(
        "DELETE FROM event_invoke_configs WHERE function_id = ?1 AND qualifier = ?2",
        params![function_id, name],
    )?;
    Ok(())
}

/// All aliases of a function, by name.
pub fn list_aliases(db: &Db<'_>, function_id: i64) -> Result<Vec<AliasRecord>, StoreError> {
    let mut stmt =
        db.prepare_cached("SELECT record FROM aliases WHERE function_id = ?1 ORDER BY name")?;
    let rows = stmt.query_map([function_id], |r| r.get::<_, String>(0))?;
    rows.map(|r| Ok(serde_json::from_str(&r?)?)).collect()
}

/// The policy document of a qualifier (`""` = unqualified) and its revision.
pub fn get_policy(
    db: &Db<'_>,
    function_id: i64,
    qualifier: &str,
) -> Result<Option<(String, String)>, StoreError> {
    Ok(db
        .query_row(
            "SELECT document, revision_id FROM policies WHERE function_id = ?1 AND qualifier = ?2",
            params![function_id, qualifier],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?)
}

/// Write a policy document; `None` deletes it.
pub fn put_policy(
    db: &Db<'_>,
    function_id: i64,
    qualifier: &str,
    doc: Option<(&str, &str)>,
) -> Result<(), StoreError> {
    match doc {
        Some((document, rev)) => db.execute(
            "INSERT OR REPLACE INTO policies (function_id, qualifier, document, revision_id) VALUES (?1, ?2, ?3, ?4)",
            params![function_id, qualifier, document, rev],
        )?,
        None => db.execute("DELETE FROM policies WHERE function_id = ?1 AND qualifier = ?2", params![function_id, qualifier])?,
    };
    Ok(())
}

/// A layer's id and next version number.
pub fn find_layer(
    db: &Db<'_>,
    account: &str,
    region: &str,
    name: &str,
) -> Result<Option<(i64, i64)>, StoreError> {
    Ok(db
        .query_row(
            "SELECT id, next_version FROM layers WHERE account = ?1 AND region = ?2 AND name = ?3",
            params![account, region, name],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?)
}

/// Take the next version number of a layer, creating the layer on first publish. Returns (layer id, version).
pub fn take_layer_version(
    db: &Db<'_>,
    account: &str,
    region: &str,
    name: &str,
) -> Result<(i64, i64), StoreError> {
    let (id, n) = match find_layer(db, account, region, name)? {
        Some(x) => x,
        None => {
            db.execute(
                "INSERT INTO layers (account, region, name) VALUES (?1, ?2, ?3)",
                params![account, region, name],
            )?;
            (db.last_insert_rowid(), 1)
        }
    };
    db.execute(
        "UPDATE layers SET next_version = ?2 WHERE id = ?1",
        params![id, n + 1],
    )?;
    Ok((id, n))
}

/// Store a layer version.
pub fn put_layer_version(
    db: &Db<'_>,
    layer_id: i64,
    rec: &LayerVersionRecord,
) -> Result<(), StoreError> {
    db.execute(
        "INSERT INTO layer_versions (layer_id, version, code_size, record) VALUES (?1, ?2, ?3, ?4)",
        params![
            layer_id,
            rec.version,
            rec.code_size as i64,
            serde_json::to_string(rec)?
        ],
    )?;
    let (account, region) = layer_scope(db, layer_id)?;
    usage_add(db, &account, &region, rec.code_size as i64, 0, 0)
}

fn layer_scope(db: &Db<'_>, layer_id: i64) -> Result<(String, String), StoreError> {
    Ok(db.query_row(
        "SELECT account, region FROM layers WHERE id = ?1",
        [layer_id],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?)
}

/// One layer version.
pub fn get_layer_version(
    db: &Db<'_>,
    layer_id: i64,
    version: i64,
) -> Result<Option<LayerVersionRecord>, StoreError> {
    let s: Option<String> = db
        .query_row(
            "SELECT record FROM layer_versions WHERE layer_id = ?1 AND version = ?2",
            params![layer_id, version],
            |r| r.get(0),
        )
        .optional()?;
    Ok(s.map(|s| serde_json::from_str(&s)).transpose()?)
}

/// Rewrite a layer version's record (its policy); the code and sizes never change.
pub fn update_layer_version(
    db: &Db<'_>,
    layer_id: i64,
    rec: &LayerVersionRecord,
) -> Result<(), StoreError> {
    db.execute(
        "UPDATE layer_versions SET record = ?3 WHERE layer_id = ?1 AND version = ?2",
        params![layer_id, rec.version, serde_json::to_string(rec)?],
    )?;
    Ok(())
}

/// Delete one layer version (the number is never reused).
pub fn delete_layer_version(db: &Db<'_>, layer_id: i64, version: i64) -> Result<(), StoreError> {
    let old: Option<i64> = db
        .query_row(
            "SELECT code_size FROM layer_versions WHERE layer_id = ?1 AND version = ?2",
            params![layer_id, version],
            |r| r.get(0),
        )
        .optional()?;
    db.execute(
        "DELETE FROM layer_versions WHERE layer_id = ?1 AND version = ?2",
        params![layer_id, version],
    )?;
    if let Some(size) = old {
        let (account, region) = layer_scope(db, layer_id)?;
        usage_add(db, &account, &region, -size, 0, 0)?;
    }
    Ok(())
}

/// Layer versions, newest first.
pub fn list_layer_versions(
    db: &Db<'_>,
    layer_id: i64,
) -> Result<Vec<LayerVersionRecord>, StoreError> {
    let mut stmt =
        db.prepare("SELECT record FROM layer_versions WHERE layer_id = ?1 ORDER BY version DESC")?;
    let rows = stmt.query_map([layer_id], |r| r.get::<_, String>(0))?;
    rows.map(|r| Ok(serde_json::from_str(&r?)?)).collect()
}

/// Layers of an account/region by name: (name, layer id).
pub fn list_layers(
    db: &Db<'_>,
    account: &str,
    region: &str,
) -> Result<Vec<(String, i64)>, StoreError> {
    let mut stmt =
        db.prepare("SELECT name, id FROM layers WHERE account = ?1 AND region = ?2 ORDER BY name")?;
    let rows = stmt.query_map(params![account, region], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Code storage used by an account/region (every stored version's zip plus every layer version's zip) and
/// its function count, from the running totals.
pub fn total_code_size(db: &Db<'_>, account: &str, region: &str) -> Result<(i64, i64), StoreError> {
    Ok(db
        .prepare_cached(
            "SELECT code_size, functions FROM usage WHERE account = ?1 AND region = ?2",
        )?
        .query_row(params![account, region], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?
        .unwrap_or((0, 0)))
}

/// A function qualifier's asynchronous-invocation settings.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct EventInvokeConfigRecord {
    /// Retries after a failed attempt (0–2), when set.
    pub maximum_retry_attempts: Option<i64>,
    /// Oldest event kept, seconds (60–21600), when set.
    pub maximum_event_age_in_seconds: Option<i64>,
    /// OnSuccess destination ARN.
    pub on_success: Option<String>,
    /// OnFailure destination ARN.
    pub on_failure: Option<String>,
    /// Epoch seconds with fraction.
    pub last_modified: f64,
}

/// The settings of one qualifier (`""` = unqualified).
pub fn get_event_invoke_config(
    db: &Db<'_>,
    function_id: i64,
    qualifier: &str,
) -> Result<Option<EventInvokeConfigRecord>, StoreError> {
    let s: Option<String> = db
        .query_row(
            "SELECT record FROM event_invoke_configs WHERE function_id = ?1 AND qualifier = ?2",
            params![function_id, qualifier],
            |r| r.get(0),
        )
        .optional()?;
    Ok(s.map(|s| serde_json::from_str(&s)).transpose()?)
}

/// Write (`Some`) or delete (`None`) one qualifier's settings.
pub fn put_event_invoke_config(
    db: &Db<'_>,
    function_id: i64,
    qualifier: &str,
    rec: Option<&EventInvokeConfigRecord>,
) -> Result<(), StoreError> {
    match rec {
        Some(r) => db.execute(
            "INSERT OR REPLACE INTO event_invoke_configs (function_id, qualifier, record) VALUES (?1, ?2, ?3)",
            params![function_id, qualifier, serde_json::to_string(r)?],
        )?,
        None => db.execute("DELETE FROM event_invoke_configs WHERE function_id = ?1 AND qualifier = ?2", params![function_id, qualifier])?,
    };
    Ok(())
}

/// Every qualifier's settings of a function, by qualifier.
pub fn list_event_invoke_configs(
    db: &Db<'_>,
    function_id: i64,
) -> Result<Vec<(String, EventInvokeConfigRecord)>, StoreError> {
    let mut stmt = db.prepare("SELECT qualifier, record FROM event_invoke_configs WHERE function_id = ?1 ORDER BY qualifier")?;
    let rows = stmt.query_map([function_id], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
    })?;
    rows.map(|r| {
        let (q, s) = r?;
        Ok((q, serde_json::from_str(&s)?))
    })
    .collect()
}

/// Store an access key.
pub fn insert_access_key(
    db: &Db<'_>,
    key: &AccessKeyRow,
    created_at: &str,
) -> Result<(), StoreError> {
    db.execute(
        "INSERT OR REPLACE INTO access_keys (access_key_id, secret_sealed, account_id, principal_arn, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![key.access_key_id, serde_json::to_string(&key.secret_sealed)?, key.account_id, key.principal_arn, created_at],
    )?;
    Ok(())
}

/// Look an access key up.
pub fn get_access_key(
    db: &Db<'_>,
    access_key_id: &str,
) -> Result<Option<AccessKeyRow>, StoreError> {
    let row: Option<(String, String, String)> = db
        .query_row(
            "SELECT secret_sealed, account_id, principal_arn FROM access_keys WHERE access_key_id = ?1",
            [access_key_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    row.map(|(s, account_id, principal_arn)| {
        Ok(AccessKeyRow {
            access_key_id: access_key_id.into(),
            secret_sealed: serde_json::from_str(&s)?,
            account_id,
            principal_arn,
        })
    })
    .transpose()
}

/// Number of stored access keys.
pub fn count_access_keys(db: &Db<'_>) -> Result<i64, StoreError> {
    Ok(db.query_row("SELECT COUNT(*) FROM access_keys", [], |r| r.get(0))?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::Store;
    use crate::keyring::MasterKeySource;

    fn record(size: u64) -> VersionRecord {
        VersionRecord {
            version: "$LATEST".into(),
            description: String::new(),
            role: "r".into(),
            runtime: None,
            handler: None,
            timeout: 3,
            memory_size: 128,
            ephemeral_storage: 512,
            code_sha256: String::new(),
            code_size: size,
            unzipped_size: 0,
            code_blob: String::new(),
            environment: None,
            kms_key_arn: None,
            dead_letter_target: None,
            tracing_mode: "PassThrough".into(),
            layers: Vec::new(),
            architectures: Vec::new(),
            log_format: "Text".into(),
            log_group: String::new(),
            application_log_level: None,
            system_log_level: None,
            vpc_config: None,
            snap_start_apply_on: "None".into(),
            last_modified: String::new(),
            revision_id: String::new(),
            state: "Active".into(),
            last_update_status: None,
        }
    }

    /// The running totals always equal a full recount.
    #[test]
    fn usage_totals_track_every_change() -> Result<(), StoreError> {
        let dir = tempfile::tempdir().map_err(|source| StoreError::DataDir {
            path: "tmp".into(),
            source,
        })?;
        let s = Store::open(dir.path(), MasterKeySource::DataDir)?;
        let recount = |db: &Db<'_>| -> Result<(i64, i64, i64), StoreError> {
            let code: i64 =
                db.query_row("SELECT COALESCE(SUM(code_size),0) FROM versions", [], |r| {
                    r.get(0)
                })?;
            let layers: i64 = db.query_row(
                "SELECT COALESCE(SUM(code_size),0) FROM layer_versions",
                [],
                |r| r.get(0),
            )?;
            let n: i64 = db.query_row("SELECT COUNT(*) FROM functions", [], |r| r.get(0))?;
            Ok((code + layers, n, reserved_sum(db, "a", "r", None)?))
        };
        s.tx(|db| {
            let f = insert_function(db, "a", "r", "f", &BTreeMap::new())?;
            let g = insert_function(db, "a", "r", "g", &BTreeMap::new())?;
            put_version(db, f, LATEST, &record(100))?;
            put_version(db, f, LATEST, &record(70))?;
            put_version(db, f, 1, &record(70))?;
            put_version(db, g, LATEST, &record(5))?;
            set_reserved_concurrency(db, g, Some(7))?;
            set_reserved_concurrency(db, f, Some(3))?;
            set_reserved_concurrency(db, f, None)?;
            let (layer, v) = take_layer_version(db, "a", "r", "l")?;
            let lv = LayerVersionRecord {
                version: v,
                description: String::new(),
                created_date: String::new(),
                compatible_runtimes: Vec::new(),
                compatible_architectures: Vec::new(),
                license_info: None,
                code_sha256: String::new(),
                code_size: 11,
                unzipped_size: 0,
                blob: String::new(),
                policy: None,
            };
            put_layer_version(db, layer, &lv)?;
            let (code, n) = total_code_size(db, "a", "r")?;
            assert_eq!((code, n, reserved_sum(db, "a", "r", None)?), recount(db)?);
            assert_eq!((code, n), (70 + 70 + 5 + 11, 2));
            assert_eq!(reserved_sum(db, "a", "r", Some(g))?, 0);
            delete_version(db, f, 1)?;
            delete_layer_version(db, layer, v)?;
            delete_function(db, g)?;
            let (code, n) = total_code_size(db, "a", "r")?;
            assert_eq!((code, n, reserved_sum(db, "a", "r", None)?), recount(db)?);
            assert_eq!((code, n), (70, 1));
            assert_eq!(total_code_size(db, "other", "r")?, (0, 0));
            Ok::<_, StoreError>(())
        })
    }
}
