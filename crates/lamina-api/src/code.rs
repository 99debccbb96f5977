//! Deployment packages: taking a base64 zip in (size limits, inspection, content-addressed storage) and
//! handing it back out through short-lived signed URLs (`Code.Location`, layer `Content.Location`).

use crate::error::{invalid, ApiError, ApiResult};
use crate::state::AppState;
use axum::body::Body;
use axum::http::{HeaderValue, Response, StatusCode};
use base64::Engine;
use hmac::{Hmac, Mac};
use lamina_model::limits::{UNZIPPED_MAX, ZIPPED_MAX};
use lamina_model::package::{inspect_zip, ZipError};
use lamina_model::LambdaError;
use lamina_store::blobs::BlobRef;
use lamina_store::{records, Store, StoreError};
use rusqlite::OptionalExtension;
use sha2::Sha256;

/// How long a code URL stays valid.
const URL_TTL_SECS: i64 = 600;
const URL_KEY_SETTING: &str = "code_url_key";
const URL_KEY_AAD: &[u8] = b"lamina-code-url-key";

/// A stored package.
#[derive(Debug, Clone)]
pub struct Package {
    /// The blob.
    pub blob: BlobRef,
    /// Unzipped size.
    pub unzipped: u64,
}

/// Decode, check and store a `ZipFile` blob. `budget` is the unzipped allowance left after layers.
pub fn ingest(state: &AppState, zip_b64: &str, budget: u64) -> ApiResult<Package> {
    // botocore sends standard padded base64; be lenient about a missing pad as AWS is.
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(zip_b64.trim())
        .or_else(|_| {
            base64::engine::general_purpose::STANDARD_NO_PAD
                .decode(zip_b64.trim().trim_end_matches('='))
        })
        .map_err(|_| {
            invalid(
                "Could not unzip uploaded file. Please check your file, then try to upload again.",
            )
        })?;
    check_zipped_size(bytes.len())?;
    let summary = inspect_zip(&bytes, budget).map_err(|e| match e {
        ZipError::TooLarge { limit } => invalid(format!("Unzipped size must be smaller than {limit} bytes")),
        ZipError::UnsafePath(name) => invalid(format!(
            "Could not unzip uploaded file. The deployment package contains an entry whose path leaves the package: {name}"
        )),
        _ => invalid("Could not unzip uploaded file. Please check your file, then try to upload again."),
    })?;
    let blob = state.store.blobs.put(&bytes).map_err(StoreError::from)?;
    Ok(Package {
        blob,
        unzipped: summary.unzipped_size,
    })
}

/// After the zipped-size check: reject a code request body over AWS's request limit.
pub fn check_request_size(body_len: usize, op: &str) -> ApiResult<()> {
    let max = lamina_model::limits::CODE_REQUEST_MAX;
    if body_len > max {
        return Err(ApiError::Lambda(LambdaError::TooLarge(format!(
            "Request must be smaller than {max} bytes for the {op} operation"
        ))));
    }
    Ok(())
}

/// The decoded length of a base64 text (standard alphabet, padding counted off).
pub fn decoded_len(b64: &str) -> usize {
    let t = b64.trim();
    let pad = t.bytes().rev().take_while(|b| *b == b'=').count().min(2);
    (t.len() / 4) * 3
        + match t.len() % 4 {
            2 => 1,
            3 => 2,
            _ => 0,
        }
        - if t.len().is_multiple_of(4) { pad } else { 0 }
}

/// Reject a zip over the direct-upload limit.
pub fn check_zipped_size(len: usize) -> ApiResult<()> {
    if len as u64 > ZIPPED_MAX {
        return Err(ApiError::Lambda(LambdaError::TooLarge(format!(
            "Zipped size must be smaller than {ZIPPED_MAX} bytes"
        ))));
    }
    Ok(())
}

/// The unzipped budget left for function code after its layers.
pub fn budget_after_layers(layers: &[records::LayerRef]) -> u64 {
    UNZIPPED_MAX.saturating_sub(layers.iter().map(|l| l.unzipped_size).sum())
}

/// Load (or create) the key that signs code URLs; stored sealed by the keyring.
pub fn load_url_key(store: &Store) -> Result<[u8; 32], StoreError> {
    let existing: Option<String> = store.tx(|db| {
        Ok::<_, StoreError>(
            db.query_row(
                "SELECT value FROM settings WHERE key = ?1",
                [URL_KEY_SETTING],
                |r| r.get(0),
            )
            .optional()?,
        )
    })?;
    let sealed = match existing {
        Some(s) => serde_json::from_str(&s)?,
        None => {
            let key: [u8; 32] = rand_key();
            let sealed = store.keyring.seal(None, &key, URL_KEY_AAD)?;
            let text = serde_json::to_string(&sealed)?;
            store.tx(|db| {
                Ok::<_, StoreError>(db.execute(
                    "INSERT OR IGNORE INTO settings (key, value) VALUES (?1, ?2)",
                    [URL_KEY_SETTING, &text],
                )?)
            })?;
            // Another process may have won the race; read back whatever is stored.
            return load_url_key(store);
        }
    };
    let plain = store.keyring.open_sealed(&sealed, URL_KEY_AAD)?;
    let mut key = [0u8; 32];
    if plain.len() == 32 {
        key.copy_from_slice(&plain);
    }
    Ok(key)
}

fn rand_key() -> [u8; 32] {
    use rand::RngCore;
    let mut k = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut k);
    k
}

fn url_signature(key: &[u8; 32], blob_hex: &str, expires: i64) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else {
        return String::new();
    };
    mac.update(format!("{blob_hex}\n{expires}").as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// A URL on this server that serves a blob without credentials for ten minutes.
pub fn location(state: &AppState, host: &str, blob_hex: &str) -> String {
    let expires = chrono::Utc::now().timestamp() + URL_TTL_SECS;
    let sig = url_signature(&state.url_key, blob_hex, expires);
    format!("http://{host}/_lamina/code/{blob_hex}?Expires={expires}&Signature={sig}")
}

/// Serve `GET /_lamina/code/{hex}?Expires=&Signature=`.
pub async fn serve(state: &AppState, blob_hex: &str, raw_query: &str) -> Response<Body> {
    let q = crate::input::parse_query(raw_query);
    let get = |k: &str| q.iter().find(|(a, _)| a == k).map(|(_, v)| v.as_str());
    let expires: i64 = get("Expires").and_then(|v| v.parse().ok()).unwrap_or(0);
    let given = get("Signature").unwrap_or("");
    let want = url_signature(&state.url_key, blob_hex, expires);
    let valid_sig = subtle_eq(given.as_bytes(), want.as_bytes());
    if !valid_sig || expires < chrono::Utc::now().timestamp() {
        return plain(
            StatusCode::FORBIDDEN,
            "Request has expired or its signature is invalid",
        );
    }
    let Some(path) = state.store.blobs.path(blob_hex) else {
        return plain(StatusCode::NOT_FOUND, "The specified key does not exist.");
    };
    match tokio::fs::read(path).await {
        Ok(bytes) => {
            let mut r = Response::new(Body::from(bytes));
            r.headers_mut().insert(
                http::header::CONTENT_TYPE,
                HeaderValue::from_static("application/zip"),
            );
            r
        }
        Err(_) => plain(StatusCode::NOT_FOUND, "The specified key does not exist."),
    }
}

fn subtle_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn plain(status: StatusCode, msg: &'static str) -> Response<Body> {
    let mut r = Response::new(Body::from(msg));
    *r.status_mut() = status;
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoded_length_counts_padding() {
        for n in 0..40usize {
            let b64 = base64::engine::general_purpose::STANDARD.encode(vec![7u8; n]);
            assert_eq!(decoded_len(&b64), n, "{b64}");
        }
    }
}
