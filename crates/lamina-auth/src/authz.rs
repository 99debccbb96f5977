//! Parsing what a client sends to authenticate: the `Authorization: AWS4-HMAC-SHA256 …` header or
//! the `X-Amz-*` query parameters of a presigned URL, the request time, and the credential scope.
//! Every malformed input becomes an `AuthError` worded as AWS words it; nothing here panics.

use crate::canonical::ALGORITHM;
use crate::encode::percent_decode;
use crate::error::AuthError;
use crate::RequestParts;
use chrono::{DateTime, NaiveDate, Utc};
use std::borrow::Cow;

/// The signature parameters of one request, in either form.
#[derive(Debug)]
pub(crate) struct SigParams<'a> {
    /// `Credential` / `X-Amz-Credential`: `AKID/date/region/service/aws4_request`.
    pub credential: Cow<'a, str>,
    /// `SignedHeaders` / `X-Amz-SignedHeaders`, verbatim.
    pub signed_headers: Cow<'a, str>,
    /// `Signature` / `X-Amz-Signature`.
    pub signature: Cow<'a, str>,
    /// The request time.
    pub time: RequestTime<'a>,
    /// `X-Amz-Expires` in seconds, presigned form only (and optional there).
    pub expires: Option<u64>,
    /// True for the query-string form.
    pub presigned: bool,
}

/// The request time as sent (`YYYYMMDDTHHMMSSZ`, the text that goes into the string to sign) and
/// parsed.
#[derive(Debug)]
pub(crate) struct RequestTime<'a> {
    pub text: Cow<'a, str>,
    pub at: DateTime<Utc>,
}

/// The five elements of a credential, borrowed from it.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Credential<'c> {
    pub access_key_id: &'c str,
    pub date: &'c str,
    pub region: &'c str,
    pub service: &'c str,
    pub terminator: &'c str,
    /// `AKID/date/region/service`: the signing-key cache key.
    pub scope_key: &'c str,
    /// `date/region/service/aws4_request`: the scope in the string to sign.
    pub scope: &'c str,
}

/// Finds and parses the signature parameters: the `Authorization` header if present, otherwise the
/// presigned query parameters, otherwise `MissingAuthenticationToken`.
pub(crate) fn extract<'a>(req: &RequestParts<'a>) -> Result<SigParams<'a>, AuthError> {
    if let Some(value) = req.headers.get(http::header::AUTHORIZATION) {
        return from_header(value, req.headers);
    }
    if let Some(params) = from_query(req.raw_query)? {
        return Ok(params);
    }
    Err(AuthError::MissingAuthenticationToken)
}

fn from_header<'a>(
    value: &'a http::HeaderValue,
    headers: &'a http::HeaderMap,
) -> Result<SigParams<'a>, AuthError> {
    let Ok(header) = value.to_str() else {
        return Err(AuthError::IncompleteSignature(format!(
            "Authorization header contains characters that are not printable ASCII: '{}'.",
            String::from_utf8_lossy(value.as_bytes())
        )));
    };
    let trimmed = header.trim_start();
    let (algorithm, rest) = match trimmed.find([' ', '\t']) {
        Some(i) => (&trimmed[..i], &trimmed[i..]),
        None => (trimmed, ""),
    };

    let mut credential = None;
    let mut signed_headers = None;
    let mut signature = None;
    for part in rest.split(',') {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        let Some((key, val)) = part.split_once('=') else {
            return Err(AuthError::IncompleteSignature(format!(
                "'{part}' not a valid key=value pair (missing equal-sign) in Authorization header: '{header}'."
            )));
        };
        let slot = match key.trim() {
            "Credential" => &mut credential,
            "SignedHeaders" => &mut signed_headers,
            "Signature" => &mut signature,
            _ => continue,
        };
        if slot.is_none() {
            *slot = Some(val.trim());
        }
    }

    let time = header_time(headers);
    let mut missing = String::new();
    for (present, name) in [
        (credential.is_some(), "Credential"),
        (signature.is_some(), "Signature"),
        (signed_headers.is_some(), "SignedHeaders"),
    ] {
        if !present {
            missing.push_str("Authorization header requires '");
            missing.push_str(name);
            missing.push_str("' parameter. ");
        }
    }
    if matches!(time, Err(HeaderTimeError::Missing)) {
        missing.push_str(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. ",
        );
    }
    if !missing.is_empty() {
        missing.push_str("Authorization=");
        missing.push_str(header);
        return Err(AuthError::IncompleteSignature(missing));
    }
    if algorithm != ALGORITHM {
        return Err(AuthError::IncompleteSignature(format!(
            "Unsupported AWS 'algorithm': '{algorithm}'. Only '{ALGORITHM}' is supported."
        )));
    }
    let time = match time {
        Ok(t) => t,
        Err(HeaderTimeError::Invalid(text)) => return Err(bad_date(&text)),
        // Already reported with the missing parameters above; kept total rather than unreachable!().
        Err(HeaderTimeError::Missing) => return Err(AuthError::MissingAuthenticationToken),
    };
    Ok(SigParams {
        credential: Cow::Borrowed(credential.unwrap_or_default()),
        signed_headers: Cow::Borrowed(signed_headers.unwrap_or_default()),
        signature: Cow::Borrowed(signature.unwrap_or_default()),
        time,
        expires: None,
        presigned: false,
    })
}

enum HeaderTimeError {
    Missing,
    Invalid(String),
}

/// `X-Amz-Date` if present, else the HTTP `Date` header (SigV4 allows either).
fn header_time(headers: &http::HeaderMap) -> Result<RequestTime<'_>, HeaderTimeError> {
    if let Some(value) = headers.get("x-amz-date") {
        let text = value.to_str().map_err(|_| {
            HeaderTimeError::Invalid(String::from_utf8_lossy(value.as_bytes()).into_owned())
        })?;
        return match parse_amz_date(text) {
            Some(at) => Ok(RequestTime {
                text: Cow::Borrowed(text),
                at,
            }),
            None => Err(HeaderTimeError::Invalid(text.to_owned())),
        };
    }
    if let Some(value) = headers.get(http::header::DATE) {
        let lossy = String::from_utf8_lossy(value.as_bytes());
        return match DateTime::parse_from_rfc2822(lossy.trim()) {
            Ok(t) => {
                let at = t.with_timezone(&Utc);
                Ok(RequestTime {
                    text: Cow::Owned(crate::error::amz(&at)),
                    at,
                })
            }
            Err(_) => Err(HeaderTimeError::Invalid(lossy.into_owned())),
        };
    }
    Err(HeaderTimeError::Missing)
}

fn bad_date(text: &str) -> AuthError {
    AuthError::IncompleteSignature(format!(
        "Date must be in ISO-8601 'basic format'. Got '{text}'. See http://en.wikipedia.org/wiki/ISO_8601"
    ))
}

/// Parses `YYYYMMDDTHHMMSSZ` exactly.
pub(crate) fn parse_amz_date(text: &str) -> Option<DateTime<Utc>> {
    let b = text.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    let num = |range: std::ops::Range<usize>| -> Option<u32> {
        let digits = b.get(range)?;
        digits.iter().try_fold(0u32, |acc, &d| {
            d.is_ascii_digit().then(|| acc * 10 + u32::from(d - b'0'))
        })
    };
    let year = i32::try_from(num(0..4)?).ok()?;
    let date = NaiveDate::from_ymd_opt(year, num(4..6)?, num(6..8)?)?;
    let time = date.and_hms_opt(num(9..11)?, num(11..13)?, num(13..15)?)?;
    Some(time.and_utc())
}

/// The presigned form, if the query carries any of its parameters.
fn from_query(raw_query: &str) -> Result<Option<SigParams<'_>>, AuthError> {
    if raw_query.is_empty() || (!raw_query.contains("X-Amz-") && !raw_query.contains('%')) {
        return Ok(None);
    }
    let mut algorithm = None;
    let mut credential = None;
    let mut date = None;
    let mut expires = None;
    let mut signed_headers = None;
    let mut signature = None;
    for piece in raw_query.split('&') {
        let (key, value) = piece.split_once('=').unwrap_or((piece, ""));
        let key = percent_decode(key.as_bytes());
        let slot = match &*key {
            b"X-Amz-Algorithm" => &mut algorithm,
            b"X-Amz-Credential" => &mut credential,
            b"X-Amz-Date" => &mut date,
            b"X-Amz-Expires" => &mut expires,
            b"X-Amz-SignedHeaders" => &mut signed_headers,
            b"X-Amz-Signature" => &mut signature,
            _ => continue,
        };
        if slot.is_none() {
            *slot = Some(decoded_str(value));
        }
    }
    if algorithm.is_none() && credential.is_none() && signature.is_none() {
        return Ok(None);
    }

    let mut missing = String::new();
    for (present, name) in [
        (algorithm.is_some(), "X-Amz-Algorithm"),
        (credential.is_some(), "X-Amz-Credential"),
        (signature.is_some(), "X-Amz-Signature"),
        (signed_headers.is_some(), "X-Amz-SignedHeaders"),
        (date.is_some(), "X-Amz-Date"),
    ] {
        if !present {
            missing.push_str("AWS query-string parameters must include '");
            missing.push_str(name);
            missing.push_str("'. ");
        }
    }
    if !missing.is_empty() {
        missing.push_str("Re-examine the query-string parameters.");
        return Err(AuthError::IncompleteSignature(missing));
    }
    let algorithm = algorithm.unwrap_or_default();
    if algorithm != ALGORITHM {
        return Err(AuthError::IncompleteSignature(format!(
            "Unsupported AWS 'algorithm': '{algorithm}'. Only '{ALGORITHM}' is supported."
        )));
    }
    let date = date.unwrap_or_default();
    let Some(at) = parse_amz_date(&date) else {
        return Err(bad_date(&date));
    };
    let expires = match expires {
        None => None,
        Some(text) => Some(parse_expires(&text)?),
    };
    Ok(Some(SigParams {
        credential: credential.unwrap_or_default(),
        signed_headers: signed_headers.unwrap_or_default(),
        signature: signature.unwrap_or_default(),
        time: RequestTime { text: date, at },
        expires,
        presigned: true,
    }))
}

/// The longest validity a presigned URL may ask for: seven days, as in SigV4.
pub(crate) const MAX_EXPIRES_SECS: u64 = 604_800;

fn parse_expires(text: &str) -> Result<u64, AuthError> {
    if let Some(rest) = text.strip_prefix('-') {
        if !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_digit()) {
            return Err(AuthError::IncompleteSignature(
                "X-Amz-Expires must be non-negative".to_owned(),
            ));
        }
    }
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(AuthError::IncompleteSignature(
            "X-Amz-Expires should be a number".to_owned(),
        ));
    }
    match text.parse::<u64>() {
        Ok(n) if n <= MAX_EXPIRES_SECS => Ok(n),
        _ => Err(AuthError::IncompleteSignature(format!(
            "X-Amz-Expires must be less than a week (in seconds) that is {MAX_EXPIRES_SECS}"
        ))),
    }
}

fn decoded_str(raw: &str) -> Cow<'_, str> {
    match percent_decode(raw.as_bytes()) {
        Cow::Borrowed(_) => Cow::Borrowed(raw),
        Cow::Owned(bytes) => match String::from_utf8(bytes) {
            Ok(s) => Cow::Owned(s),
            Err(e) => Cow::Owned(String::from_utf8_lossy(e.as_bytes()).into_owned()),
        },
    }
}

/// Splits `AKID/date/region/service/aws4_request` into its five elements.
pub(crate) fn parse_credential(credential: &str) -> Result<Credential<'_>, AuthError> {
    let mut parts = credential.splitn(6, '/');
    let (Some(access_key_id), Some(date), Some(region), Some(service), Some(terminator), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return Err(AuthError::IncompleteSignature(format!(
            "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '{credential}'"
        )));
    };
    let scope_key_len = credential.len() - terminator.len() - 1;
    Ok(Credential {
        access_key_id,
        date,
        region,
        service,
        terminator,
        scope_key: &credential[..scope_key_len],
        scope: &credential[access_key_id.len() + 1..],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credential_splits_into_five() {
        let c = parse_credential("AKID/20250101/us-east-1/lambda/aws4_request");
        assert_eq!(
            c,
            Ok(Credential {
                access_key_id: "AKID",
                date: "20250101",
                region: "us-east-1",
                service: "lambda",
                terminator: "aws4_request",
                scope_key: "AKID/20250101/us-east-1/lambda",
                scope: "20250101/us-east-1/lambda/aws4_request",
            })
        );
        for bad in ["", "AKID", "a/b/c/d", "a/b/c/d/e/f"] {
            let err = parse_credential(bad).err();
            assert_eq!(
                err.map(|e| e.to_string()),
                Some(format!("Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '{bad}'"))
            );
        }
    }

    #[test]
    fn amz_date_is_strict() {
        assert!(parse_amz_date("20250101T000000Z").is_some());
        assert!(parse_amz_date("20251231T235959Z").is_some());
        for bad in [
            "",
            "2025-01-01T00:00:00Z",
            "20250101T000000",
            "20251301T000000Z",
            "20250101T250000Z",
            "2025010AT000000Z",
            "+0250101T000000Z",
            "20250101T00000éZ",
        ] {
            assert!(parse_amz_date(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn expires_must_be_a_bounded_number() {
        assert_eq!(parse_expires("3600"), Ok(3600));
        assert_eq!(parse_expires("604800"), Ok(604_800));
        assert!(parse_expires("604801").is_err());
        assert!(parse_expires("99999999999999999999999").is_err());
        assert_eq!(
            parse_expires("-5").err().map(|e| e.to_string()),
            Some("X-Amz-Expires must be non-negative".to_owned())
        );
        assert_eq!(
            parse_expires("abc").err().map(|e| e.to_string()),
            Some("X-Amz-Expires should be a number".to_owned())
        );
    }
}
