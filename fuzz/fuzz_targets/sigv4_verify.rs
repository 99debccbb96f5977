//! `lamina_auth::verify` over arbitrary method, path, query, header and body bytes.
//!
//! Input layout: one flag byte, then NUL-separated method, raw path, raw query, header lines
//! (`name: value`, newline-separated) and body. With flag bit 0 the request is first signed with the
//! known key, so the fuzzer reaches the signature comparison; bit 1 then flips one signature digit.
//! Properties: no panic; a request this crate signed verifies unless it was tampered with; a tampered
//! one never does.
#![no_main]

use chrono::{TimeZone, Utc};
use http::{HeaderMap, HeaderName, HeaderValue};
use lamina_auth::{KeyResolver, RequestParts, SecretKey, VerifyOptions};
use libfuzzer_sys::fuzz_target;

struct Keys;

impl KeyResolver for Keys {
    fn resolve(&self, id: &str) -> Option<SecretKey> {
        (id == "AKIDFUZZ").then(|| SecretKey {
            secret: "fuzz-secret".into(),
            account_id: "123456789012".into(),
            principal_arn: "arn:aws:iam::123456789012:root".into(),
        })
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let mut parts = rest.splitn(5, |b| *b == 0);
    let method = String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
    let raw_path = String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
    let raw_query = String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
    let header_block = parts.next().unwrap_or_default();
    let body = parts.next().unwrap_or_default();

    let mut headers = HeaderMap::new();
    for line in header_block.split(|b| *b == b'\n') {
        let Some(colon) = line.iter().position(|b| *b == b':') else {
            continue;
        };
        let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(&line[..colon]),
            HeaderValue::from_bytes(line[colon + 1..].trim_ascii()),
        ) else {
            continue;
        };
        headers.append(name, value);
    }

    let now = Utc
        .with_ymd_and_hms(2025, 1, 1, 0, 0, 0)
        .single()
        .unwrap_or_else(Utc::now);
    let signed = flags & 1 == 1 && headers.contains_key(http::header::HOST);
    if signed {
        lamina_auth::sign(
            &method,
            &raw_path,
            &raw_query,
            &mut headers,
            body,
            "AKIDFUZZ",
            "fuzz-secret",
            "us-east-1",
            "lambda",
            now,
        );
    }
    let tampered = signed && flags & 2 == 2 && flip_signature(&mut headers);

    let req = RequestParts {
        method: &method,
        raw_path: &raw_path,
        raw_query: &raw_query,
        headers: &headers,
        body,
    };
    let result = lamina_auth::verify(&req, &Keys, now, &VerifyOptions::default());
    if let Err(e) = &result {
        // What a client is told must render, and map to a status and type.
        let _ = (e.to_string(), e.status(), e.error_type());
    }
    if tampered {
        assert!(result.is_err(), "a flipped signature verified");
    } else if signed && headers.contains_key(http::header::AUTHORIZATION) {
        assert!(
            result.is_ok(),
            "a request the signer signed did not verify: {result:?}"
        );
    }
});

/// Change the last hex digit of the signature; false if there is no signature to change.
fn flip_signature(headers: &mut HeaderMap) -> bool {
    let Some(v) = headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let mut s = v.to_string();
    let Some(last) = s.pop() else { return false };
    s.push(if last == '0' { '1' } else { '0' });
    match HeaderValue::from_str(&s) {
        Ok(v) => {
            headers.insert(http::header::AUTHORIZATION, v);
            true
        }
        Err(_) => false,
    }
}
