//! A SigV4 signer that signs the way botocore does, for Lamina's own tests and benchmark harness:
//! the `Authorization` header form (`sign`) and the presigned query form (`presign_url`).

use crate::canonical::{self, CanonicalRequest, ALGORITHM, TERMINATOR};
use crate::encode::{encode_component, hex32, hex_str, sha256_hex};
use crate::error::amz;
use crate::key::{derive_signing_key, mac};
use chrono::{DateTime, Utc};
use hmac::Mac;
use http::{HeaderMap, HeaderValue};
use sha2::{Digest, Sha256};

/// Signs a request in place: sets `x-amz-date` and `authorization` (replacing any already there).
///
/// `raw_path` and `raw_query` must be exactly what will go on the request line. `headers` should
/// contain `host` as it will be sent (with a non-default port). Signed headers are `host`,
/// `content-type` when present, and every `x-amz-*` header present (`x-amz-date` included), which
/// is what botocore signs for Lambda's operations. When `x-amz-content-sha256` is present its value
/// is the payload hash, as in botocore; otherwise the SHA-256 of `body`.
///
/// An access key id or region that cannot appear in a header value leaves `authorization` unset
/// (the request will then fail authentication rather than this function panicking).
#[allow(clippy::too_many_arguments)]
pub fn sign(
    method: &str,
    raw_path: &str,
    raw_query: &str,
    headers: &mut HeaderMap,
    body: &[u8],
    access_key_id: &str,
    secret: &str,
    region: &str,
    service: &str,
    now: DateTime<Utc>,
) {
    let amz_date = amz(&now);
    headers.remove(http::header::AUTHORIZATION);
    if let Ok(v) = HeaderValue::from_str(&amz_date) {
        headers.insert("x-amz-date", v);
    }

    let mut names: Vec<&str> = headers
        .keys()
        .map(|k| k.as_str())
        .filter(|n| *n == "host" || *n == "content-type" || n.starts_with("x-amz-"))
        .collect();
    if !names.contains(&"host") {
        names.push("host");
    }
    names.sort_unstable();
    let signed_headers = names.join(";");

    let body_hash;
    let payload_hash = match headers.get("x-amz-content-sha256").map(|v| v.to_str()) {
        Some(Ok(v)) => v.to_owned(),
        _ => {
            body_hash = sha256_hex(body);
            hex_str(&body_hash).to_owned()
        }
    };

    let scope = format!("{}/{region}/{service}/{TERMINATOR}", &amz_date[..8]);
    let query = canonical::canonical_query(raw_query, false);
    let signature = signature_for(
        &CanonicalRequest {
            method,
            raw_path,
            query: &query,
            headers,
            signed_headers: &signed_headers,
            payload_hash: &payload_hash,
        },
        &amz_date,
        &scope,
        secret,
        region,
        service,
    );
    let authorization = format!(
        "{ALGORITHM} Credential={access_key_id}/{scope}, SignedHeaders={signed_headers}, Signature={signature}"
    );
    if let Ok(v) = HeaderValue::from_str(&authorization) {
        headers.insert(http::header::AUTHORIZATION, v);
    }
}

/// Builds a presigned URL (`X-Amz-Algorithm`, `-Credential`, `-Date`, `-Expires`, `-SignedHeaders`,
/// `-Signature` in the query), as boto3's `generate_presigned_url` does for Lambda: only `host` is
/// signed and the payload hash is that of an empty body.
///
/// `endpoint` is `scheme://host[:port]` (a trailing `/` is ignored); `raw_path` and `raw_query` are
/// as they will be sent. The returned URL's query is in canonical form (sorted, re-encoded), with
/// `X-Amz-Signature` last. `expires_secs` is not clamped: values past 604800 produce a URL the
/// verifier rejects, which is what a test of that limit wants.
#[allow(clippy::too_many_arguments)]
pub fn presign_url(
    method: &str,
    endpoint: &str,
    raw_path: &str,
    raw_query: &str,
    access_key_id: &str,
    secret: &str,
    region: &str,
    service: &str,
    now: DateTime<Utc>,
    expires_secs: u64,
) -> String {
    let endpoint = endpoint.trim_end_matches('/');
    let authority = endpoint
        .split_once("://")
        .map_or(endpoint, |(_, rest)| rest);
    let host = authority.split('/').next().unwrap_or(authority);
    let mut headers = HeaderMap::new();
    if let Ok(v) = HeaderValue::from_str(host) {
        headers.insert(http::header::HOST, v);
    }

    let amz_date = amz(&now);
    let scope = format!("{}/{region}/{service}/{TERMINATOR}", &amz_date[..8]);
    let mut full_query = String::with_capacity(raw_query.len() + 256);
    full_query.push_str(raw_query);
    for (key, value) in [
        ("X-Amz-Algorithm", ALGORITHM.to_owned()),
        ("X-Amz-Credential", format!("{access_key_id}/{scope}")),
        ("X-Amz-Date", amz_date.clone()),
        ("X-Amz-Expires", expires_secs.to_string()),
        ("X-Amz-SignedHeaders", "host".to_owned()),
    ] {
        if !full_query.is_empty() {
            full_query.push('&');
        }
        full_query.push_str(key);
        full_query.push('=');
        full_query.push_str(&encode_component(value.as_bytes()));
    }

    let query = canonical::canonical_query(&full_query, true);
    let empty_hash = sha256_hex(b"");
    let signature = signature_for(
        &CanonicalRequest {
            method,
            raw_path,
            query: &query,
            headers: &headers,
            signed_headers: "host",
            payload_hash: hex_str(&empty_hash),
        },
        &amz_date,
        &scope,
        secret,
        region,
        service,
    );
    let mut canonical_query = Vec::with_capacity(full_query.len());
    canonical::write_canonical_query(&mut canonical_query, &query);
    format!(
        "{endpoint}{raw_path}?{}&X-Amz-Signature={signature}",
        String::from_utf8_lossy(&canonical_query)
    )
}

/// Hex signature of a canonical request.
fn signature_for(
    request: &CanonicalRequest<'_>,
    amz_date: &str,
    scope: &str,
    secret: &str,
    region: &str,
    service: &str,
) -> String {
    let mut hasher = Sha256::new();
    request.write(&mut hasher);
    let request_hash = hex32(&hasher.finalize().into());
    let signing_key = derive_signing_key(secret, &amz_date[..8], region, service);
    let mut m = mac(&signing_key);
    canonical::write_string_to_sign(&mut m, amz_date, scope, hex_str(&request_hash));
    hex_str(&hex32(&m.finalize().into_bytes().into())).to_owned()
}
