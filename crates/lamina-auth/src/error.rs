//! `AuthError`: every way authentication can fail, with the status, `x-amzn-ErrorType` and message
//! AWS sends for it (`reference/lambda-surface.md` §8.5).

use chrono::{DateTime, Utc};
use std::time::Duration;

/// Why a request failed authentication. `Display` is the message AWS puts in the body; `status()`
/// and `error_type()` give the HTTP status and the `x-amzn-ErrorType` to send with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// Neither an `Authorization` header nor presigned query parameters.
    #[error("Missing Authentication Token")]
    MissingAuthenticationToken,

    /// The `Authorization` header or the presigned query parameters are malformed; the message
    /// says how, in AWS's wording.
    #[error("{0}")]
    IncompleteSignature(String),

    /// The access key id is not known.
    #[error("The security token included in the request is invalid.")]
    UnrecognizedClient,

    /// The signature does not match; carries the canonical request and string to sign the server
    /// computed, as AWS does, so a client author can compare with their own.
    #[error(
        "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.\n\nThe Canonical String for this request should have been\n'{canonical_request}'\n\nThe String-to-Sign should have been\n'{string_to_sign}'\n"
    )]
    SignatureMismatch {
        /// The canonical request the server computed.
        canonical_request: String,
        /// The string to sign the server computed.
        string_to_sign: String,
    },

    /// The request time is more than the allowed skew in the past.
    #[error(
        "Signature expired: {} is now earlier than {} ({} - {}.)",
        amz(request_time),
        shifted(now, *skew, false),
        amz(now),
        skew_text(*skew)
    )]
    SignatureExpired {
        /// The time the request says it was signed.
        request_time: DateTime<Utc>,
        /// The server's clock, to the second.
        now: DateTime<Utc>,
        /// The allowed skew.
        skew: Duration,
    },

    /// The request time is more than the allowed skew in the future.
    #[error(
        "Signature not yet current: {} is still later than {} ({} + {}.)",
        amz(request_time),
        shifted(now, *skew, true),
        amz(now),
        skew_text(*skew)
    )]
    SignatureNotYetCurrent {
        /// The time the request says it was signed.
        request_time: DateTime<Utc>,
        /// The server's clock, to the second.
        now: DateTime<Utc>,
        /// The allowed skew.
        skew: Duration,
    },

    /// The credential scope names a region this endpoint does not serve (or one that is not a
    /// region name at all).
    #[error("Credential should be scoped to a valid region, not '{region}'. ")]
    WrongRegion {
        /// The region in the credential scope.
        region: String,
    },

    /// The credential scope names another service.
    #[error("Credential should be scoped to correct service: '{expected}'. ")]
    WrongService {
        /// The service this endpoint is (normally `lambda`).
        expected: String,
        /// The service in the credential scope.
        got: String,
    },

    /// The credential scope does not end in `aws4_request`.
    #[error(
        "Credential should be scoped with a valid terminator: 'aws4_request', not '{terminator}'. "
    )]
    WrongTerminator {
        /// The last element of the credential scope.
        terminator: String,
    },

    /// The credential scope date is not the date of the request time.
    #[error(
        "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{scope_date}' != '{request_date}', from '{amz_date}'."
    )]
    ScopeDateMismatch {
        /// The date in the credential scope.
        scope_date: String,
        /// The `YYYYMMDD` part of the request time.
        request_date: String,
        /// The request time as sent.
        amz_date: String,
    },

    /// A presigned URL used after `X-Amz-Date + X-Amz-Expires`. AWS does not document Lambda's
    /// answer; this is S3's (`AccessDenied`, `Request has expired`) under Lambda's naming.
    #[error("Request has expired")]
    PresignedUrlExpired {
        /// When the URL stopped being valid.
        expired_at: DateTime<Utc>,
    },
}

impl AuthError {
    /// The `x-amzn-ErrorType` AWS sends for this failure.
    pub fn error_type(&self) -> &'static str {
        match self {
            AuthError::MissingAuthenticationToken => "MissingAuthenticationTokenException",
            AuthError::IncompleteSignature(_) => "IncompleteSignatureException",
            AuthError::UnrecognizedClient => "UnrecognizedClientException",
            AuthError::SignatureMismatch { .. }
            | AuthError::SignatureExpired { .. }
            | AuthError::SignatureNotYetCurrent { .. }
            | AuthError::WrongRegion { .. }
            | AuthError::WrongService { .. }
            | AuthError::WrongTerminator { .. }
            | AuthError::ScopeDateMismatch { .. } => "InvalidSignatureException",
            AuthError::PresignedUrlExpired { .. } => "AccessDeniedException",
        }
    }

    /// The HTTP status AWS sends for this failure: 400 for a malformed signature, 403 otherwise.
    pub fn status(&self) -> u16 {
        match self {
            AuthError::IncompleteSignature(_) => 400,
            _ => 403,
        }
    }
}

/// `YYYYMMDDTHHMMSSZ`, the form of `X-Amz-Date`.
pub(crate) fn amz(t: &DateTime<Utc>) -> String {
    t.format("%Y%m%dT%H%M%SZ").to_string()
}

/// `now ± skew` in `X-Amz-Date` form; saturates instead of overflowing.
fn shifted(now: &DateTime<Utc>, skew: Duration, forward: bool) -> String {
    let delta = chrono::TimeDelta::from_std(skew).unwrap_or(chrono::TimeDelta::MAX);
    let t = if forward {
        now.checked_add_signed(delta)
    } else {
        now.checked_sub_signed(delta)
    };
    amz(&t.unwrap_or(*now))
}

/// `5 min` for whole minutes (AWS's form), `90 sec` otherwise.
fn skew_text(skew: Duration) -> String {
    let secs = skew.as_secs();
    if secs % 60 == 0 {
        format!("{} min", secs / 60)
    } else {
        format!("{secs} sec")
    }
}
