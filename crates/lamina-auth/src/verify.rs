//! `verify`: authenticates one request by its SigV4 signature (header or presigned form) against the
//! access keys a `KeyResolver` knows, enforcing credential scope and clock skew.

use crate::authz::{self, parse_credential};
use crate::canonical::{self, CanonicalRequest, TERMINATOR, UNSIGNED_PAYLOAD};
use crate::encode::{hex32, hex_str, sha256_hex};
use crate::error::AuthError;
use crate::key::{mac, SigningKeyCache};
use chrono::{DateTime, SubsecRound, TimeDelta, Utc};
use hmac::Mac;
use sha2::{Digest, Sha256};
use std::time::Duration;
use subtle::ConstantTimeEq;

/// What the key store knows about one access key.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretKey {
    /// The secret access key the client signs with.
    pub secret: String,
    /// The account the key belongs to; every ARN in the response uses it.
    pub account_id: String,
    /// The principal the key authenticates, e.g. `arn:aws:iam::123456789012:user/alice`.
    pub principal_arn: String,
}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The secret never reaches logs.
        f.debug_struct("SecretKey")
            .field("secret", &"<redacted>")
            .field("account_id", &self.account_id)
            .field("principal_arn", &self.principal_arn)
            .finish()
    }
}

/// Looks access keys up; implemented by the key store.
pub trait KeyResolver {
    /// The secret and owner of `access_key_id`, or `None` when the key is unknown (or disabled).
    fn resolve(&self, access_key_id: &str) -> Option<SecretKey>;
}

/// The parts of an HTTP request that a signature covers.
#[derive(Debug, Clone, Copy)]
pub struct RequestParts<'a> {
    /// The method, e.g. `GET`.
    pub method: &'a str,
    /// The path exactly as on the request line, still percent-encoded.
    pub raw_path: &'a str,
    /// The query string without `?`; empty when there is none.
    pub raw_query: &'a str,
    /// All request headers.
    pub headers: &'a http::HeaderMap,
    /// The whole body.
    pub body: &'a [u8],
}

/// What `verify` enforces beyond the signature itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyOptions {
    /// The service the credential scope must name: `lambda`.
    pub service: String,
    /// How far the request time may be from the server's clock, either way (default 5 minutes).
    pub max_skew: Duration,
    /// When set, the region the credential scope must name; when `None`, any well-formed region is
    /// accepted and returned in [`Verified::region`].
    pub region: Option<String>,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        VerifyOptions {
            service: "lambda".to_owned(),
            max_skew: Duration::from_secs(300),
            region: None,
        }
    }
}

/// Who sent an authenticated request, and for which region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The access key id the request was signed with.
    pub access_key_id: String,
    /// The account that owns the key.
    pub account_id: String,
    /// The principal the key authenticates.
    pub principal_arn: String,
    /// The region of the credential scope.
    pub region: String,
    /// The service of the credential scope.
    pub service: String,
}

/// Verifies a request's SigV4 signature, using the process-wide signing-key cache.
///
/// Checks, in order: that a signature is present and well-formed, the credential scope (region,
/// service, terminator, date), that `host` is signed, the request time against `now` (or the
/// presigned URL's expiry), that the access key is known, and finally the signature itself.
pub fn verify(
    req: &RequestParts,
    keys: &dyn KeyResolver,
    now: DateTime<Utc>,
    opts: &VerifyOptions,
) -> Result<Verified, AuthError> {
    verify_with_cache(req, keys, now, opts, SigningKeyCache::global())
}

/// [`verify`] with a caller-owned signing-key cache.
pub fn verify_with_cache(
    req: &RequestParts,
    keys: &dyn KeyResolver,
    now: DateTime<Utc>,
    opts: &VerifyOptions,
    cache: &SigningKeyCache,
) -> Result<Verified, AuthError> {
    let params = authz::extract(req)?;
    let credential = parse_credential(&params.credential)?;

    let region_ok = match &opts.region {
        Some(expected) => credential.region == expected,
        None => is_region_name(credential.region),
    };
    if !region_ok {
        return Err(AuthError::WrongRegion {
            region: credential.region.to_owned(),
        });
    }
    if credential.service != opts.service {
        return Err(AuthError::WrongService {
            expected: opts.service.clone(),
            got: credential.service.to_owned(),
        });
    }
    if credential.terminator != TERMINATOR {
        return Err(AuthError::WrongTerminator {
            terminator: credential.terminator.to_owned(),
        });
    }
    let request_date = params.time.text.get(..8).unwrap_or_default();
    if credential.date != request_date {
        return Err(AuthError::ScopeDateMismatch {
            scope_date: credential.date.to_owned(),
            request_date: request_date.to_owned(),
            amz_date: params.time.text.into_owned(),
        });
    }
    if !params
        .signed_headers
        .split(';')
        .any(|h| h.eq_ignore_ascii_case("host"))
    {
        return Err(AuthError::IncompleteSignature(
            "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.".to_owned(),
        ));
    }
    check_time(params.time.at, now, opts.max_skew, params.expires)?;

    let key = keys
        .resolve(credential.access_key_id)
        .ok_or(AuthError::UnrecognizedClient)?;
    let signing_key = cache.signing_key(
        credential.scope_key,
        &key.secret,
        credential.date,
        credential.region,
        credential.service,
    );

    // UNSIGNED-PAYLOAD is honoured; any other X-Amz-Content-Sha256 value is ignored in favour of the
    // real body hash, so a header that lies about the body can never make a tampered body verify.
    let body_hash;
    let payload_hash = match req.headers.get("x-amz-content-sha256") {
        Some(v) if v.as_bytes() == UNSIGNED_PAYLOAD.as_bytes() => UNSIGNED_PAYLOAD,
        _ => {
            body_hash = sha256_hex(req.body);
            hex_str(&body_hash)
        }
    };
    let query = canonical::canonical_query(req.raw_query, params.presigned);
    let canonical_request = CanonicalRequest {
        method: req.method,
        raw_path: req.raw_path,
        query: &query,
        headers: req.headers,
        signed_headers: &params.signed_headers,
        payload_hash,
    };
    let mut hasher = Sha256::new();
    canonical_request.write(&mut hasher);
    let request_hash = hex32(&hasher.finalize().into());

    let mut m = mac(&signing_key);
    canonical::write_string_to_sign(
        &mut m,
        &params.time.text,
        credential.scope,
        hex_str(&request_hash),
    );
    let expected = hex32(&m.finalize().into_bytes().into());

    if !bool::from(expected[..].ct_eq(params.signature.as_bytes())) {
        return Err(AuthError::SignatureMismatch {
            canonical_request: canonical_request.text(),
            string_to_sign: canonical::string_to_sign_text(
                &params.time.text,
                credential.scope,
                hex_str(&request_hash),
            ),
        });
    }

    Ok(Verified {
        access_key_id: credential.access_key_id.to_owned(),
        account_id: key.account_id,
        principal_arn: key.principal_arn,
        region: credential.region.to_owned(),
        service: credential.service.to_owned(),
    })
}

/// A region name as AWS spells them (`us-east-1`, `eu-central-2`, or a local name like `local`):
/// lowercase letters, digits and `-`. Anything else would end up inside ARNs.
fn is_region_name(region: &str) -> bool {
    !region.is_empty()
        && region.len() <= 64
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// Header form: the request time must be within `skew` of `now` either way. Presigned form with
/// `X-Amz-Expires`: the URL is good from its time (less the skew, for clients whose clock runs
/// ahead) until its time plus `X-Amz-Expires`; without it, the header-form rule applies.
fn check_time(
    at: DateTime<Utc>,
    now: DateTime<Utc>,
    skew: Duration,
    expires: Option<u64>,
) -> Result<(), AuthError> {
    // X-Amz-Date has whole seconds, so compare against whole seconds: exactly `skew` away passes.
    let now = now.trunc_subsecs(0);
    let delta = TimeDelta::from_std(skew).unwrap_or(TimeDelta::MAX);
    if let Some(latest) = now.checked_add_signed(delta) {
        if at > latest {
            return Err(AuthError::SignatureNotYetCurrent {
                request_time: at,
                now,
                skew,
            });
        }
    }
    match expires {
        Some(secs) => {
            let valid_for = TimeDelta::try_seconds(i64::try_from(secs).unwrap_or(i64::MAX))
                .unwrap_or(TimeDelta::MAX);
            if let Some(end) = at.checked_add_signed(valid_for) {
                if now > end {
                    return Err(AuthError::PresignedUrlExpired { expired_at: end });
                }
            }
        }
        None => {
            if let Some(earliest) = now.checked_sub_signed(delta) {
                if at < earliest {
                    return Err(AuthError::SignatureExpired {
                        request_time: at,
                        now,
                        skew,
                    });
                }
            }
        }
    }
    Ok(())
}
