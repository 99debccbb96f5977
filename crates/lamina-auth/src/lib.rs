//! SigV4 authentication for Lamina: verifying AWS Signature Version 4 requests (header and presigned
//! forms) against access keys, a botocore-compatible signer for Lamina's own clients, and
//! access-key generation.
//!
//! The rules follow `reference/lambda-surface.md` §8: the canonical request for non-S3 services
//! (the path is percent-encoded a second time), the credential scope, ±5 minutes of clock skew,
//! and AWS's exact error types, statuses and messages ([`AuthError`]).
//!
//! This crate knows nothing of storage: keys come through [`KeyResolver`].

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod authz;
mod canonical;
mod encode;
mod error;
mod key;
mod keygen;
mod sign;
mod verify;

#[cfg(test)]
mod tests;

pub use error::AuthError;
pub use key::SigningKeyCache;
pub use keygen::{generate_access_key, ACCESS_KEY_ID_LEN, ACCESS_KEY_PREFIX, SECRET_KEY_LEN};
pub use sign::{presign_url, sign};
pub use verify::{
    verify, verify_with_cache, KeyResolver, RequestParts, SecretKey, Verified, VerifyOptions,
};
