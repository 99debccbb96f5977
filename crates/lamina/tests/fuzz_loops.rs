//! The three cargo-fuzz targets of `fuzz/` as bounded, seeded loops that plain `cargo test` runs (CI has
//! no nightly toolchain or libFuzzer): 20,000 inputs each to SigV4 verification, zip inspection and
//! function-name parsing, mostly mutations of valid inputs so the checks get past the first byte.
//! Properties are the fuzz targets': no panic, and the invariants each target asserts.

mod common;

use chrono::{TimeZone, Utc};
use common::{zip_of, Rng};
use lamina_auth::{KeyResolver, RequestParts, SecretKey, VerifyOptions};
use lamina_model::names::{parse_function_name, NameShape};
use lamina_model::package::inspect_zip;

const ROUNDS: usize = 20_000;

/// Byte-level mutations: flip, insert, delete, duplicate a run, truncate.
fn mutate(rng: &mut Rng, input: &[u8]) -> Vec<u8> {
    let mut v = input.to_vec();
    for _ in 0..=rng.below(4) {
        let len = v.len();
        match rng.below(6) {
            0 if len > 0 => {
                let i = rng.below(len);
                v[i] ^= 1 << rng.below(8);
            }
            1 => {
                let i = rng.below(len + 1);
                let b = rng.next_u64() as u8;
                v.insert(i, b);
            }
            2 if len > 0 => {
                v.remove(rng.below(len));
            }
            3 if len > 1 => {
                let a = rng.below(len);
                let n = rng.below((len - a).min(64)) + 1;
                let run: Vec<u8> = v[a..a + n].to_vec();
                let at = rng.below(len + 1);
                v.splice(at..at, run);
            }
            4 if len > 0 => v.truncate(rng.below(len)),
            _ => {
                let i = rng.below(len + 1);
                let choices: [&[u8]; 8] =
                    [b":", b"$", b"%", b"..", b"/", b"\0", b"\xff", b"PK\x03\x04"];
                let interesting = *rng.pick(&choices);
                v.splice(i..i, interesting.iter().copied());
            }
        }
    }
    v
}

#[test]
fn function_names_20k() {
    let mut rng = Rng::new(0xf00d);
    let seeds = [
        "my-fn",
        "my-fn:live",
        "my-fn:$LATEST",
        "123456789012:function:my-fn",
        "arn:aws:lambda:us-east-1:123456789012:function:my-fn:7",
        "arn:aws-us-gov:lambda:us-gov-west-1:123456789012:function:f.b:$LATEST.PUBLISHED",
        "arn:aws:lambda:eusc-de-east-1:123456789012:function:f",
    ];
    let alphabet: Vec<char> = "aZ09-_.:$/% ñ\u{0}\u{202e}".chars().collect();
    for _ in 0..ROUNDS {
        let input = if rng.one_in(3) {
            let n = rng.below(300);
            rng.string_from(&alphabet, n)
        } else {
            let seed = rng.pick(&seeds).as_bytes().to_vec();
            String::from_utf8_lossy(&mutate(&mut rng, &seed)).into_owned()
        };
        for (shape, max) in [(NameShape::Function, 140), (NameShape::Namespaced, 256)] {
            match parse_function_name(&input, shape) {
                Ok(r) => {
                    assert!(input.chars().count() <= max, "{input:?}");
                    assert!(
                        !r.name.is_empty() && input.contains(&r.name),
                        "{input:?} → {r:?}"
                    );
                    let dots = shape == NameShape::Namespaced;
                    assert!(
                        r.name.bytes().all(|b| b.is_ascii_alphanumeric()
                            || b == b'-'
                            || b == b'_'
                            || (dots && b == b'.')),
                        "{input:?} → {r:?}"
                    );
                    if let Some(q) = &r.qualifier {
                        assert!(
                            !q.is_empty() && input.ends_with(q.as_str()),
                            "{input:?} → {r:?}"
                        );
                    }
                    if let Some(a) = &r.account {
                        assert!(
                            a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit()),
                            "{input:?} → {r:?}"
                        );
                    }
                }
                Err(e) => assert!(!e.to_string().is_empty()),
            }
        }
    }
}

#[test]
fn zip_inspection_20k() {
    const LIMIT: u64 = 1 << 20;
    let mut rng = Rng::new(0x21f);
    let seeds = [
        zip_of(&[("index.py", b"def handler(e, c):\n    return e\n".as_slice())]),
        zip_of(&[
            ("a/b.txt", vec![b'x'; 3000].as_slice()),
            ("c", b"".as_slice()),
        ]),
        zip_of(&[("big", vec![0u8; 900_000].as_slice())]),
    ];
    for _ in 0..ROUNDS {
        let input = if rng.one_in(4) {
            let n = rng.below(512);
            rng.bytes(n)
        } else {
            let seed = rng.pick(&seeds).clone();
            mutate(&mut rng, &seed)
        };
        if let Ok(summary) = inspect_zip(&input, LIMIT) {
            assert!(summary.unzipped_size <= LIMIT);
        }
    }
}

struct Keys;

impl KeyResolver for Keys {
    fn resolve(&self, id: &str) -> Option<SecretKey> {
        (id == "AKIDLOOP").then(|| SecretKey {
            secret: "loop-secret".into(),
            account_id: "123456789012".into(),
            principal_arn: "arn:aws:iam::123456789012:root".into(),
        })
    }
}

#[test]
fn sigv4_verification_20k() {
    let mut rng = Rng::new(0x51_6e);
    let now = Utc
        .with_ymd_and_hms(2025, 1, 1, 0, 0, 0)
        .single()
        .expect("a valid time");
    let methods = ["GET", "POST", "PUT", "DELETE", "PATCH", "get", ""];
    let paths = [
        "/2015-03-31/functions",
        "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Af%3A%24LATEST",
        "/a/../b//c/./d",
        "/%",
        "/%FF%fe",
        "",
        "/ü",
    ];
    let queries = [
        "",
        "Qualifier=%24LATEST",
        "b=2&a=1&a=0",
        "tagKeys=a&tagKeys=b%20c",
        "x",
        "=&&=",
        "%zz=%",
    ];
    let mut signed_ok = 0;
    for _ in 0..ROUNDS {
        let method = *rng.pick(&methods);
        let base = *rng.pick(&paths);
        let path = if rng.one_in(2) {
            base.to_string()
        } else {
            String::from_utf8_lossy(&mutate(&mut rng, base.as_bytes())).into_owned()
        };
        let query = rng.pick(&queries).to_string();
        let body_len = rng.below(64);
        let body = rng.bytes(body_len);
        let mut headers = http::HeaderMap::new();
        headers.insert(
            http::header::HOST,
            http::HeaderValue::from_static("127.0.0.1:9000"),
        );
        if rng.one_in(2) {
            headers.insert(
                http::header::CONTENT_TYPE,
                http::HeaderValue::from_static("application/json"),
            );
        }
        let sign = !rng.one_in(5);
        if sign {
            lamina_auth::sign(
                method,
                &path,
                &query,
                &mut headers,
                &body,
                "AKIDLOOP",
                "loop-secret",
                "us-east-1",
                "lambda",
                now,
            );
        }
        // Sometimes damage the authorization header, the date, or the body after signing. An
        // arbitrary mutation of the header may be harmless (a space dropped after a comma), so only
        // the deliberate ones — a different signature digit, a changed body — must fail.
        let mut tampered = false;
        let mut unknown = false;
        let mut body_sent = body.clone();
        match rng.below(7) {
            0 => {
                if let Some(v) = headers.get(http::header::AUTHORIZATION) {
                    let mutated = mutate(&mut rng, v.as_bytes());
                    unknown = true;
                    match http::HeaderValue::from_bytes(&mutated) {
                        Ok(v) => {
                            headers.insert(http::header::AUTHORIZATION, v);
                        }
                        Err(_) => {
                            headers.remove(http::header::AUTHORIZATION);
                        }
                    }
                }
            }
            1 if sign && !body.is_empty() => {
                body_sent[0] ^= 0x20;
                tampered = true;
            }
            2 => {
                if let Some(v) = headers.get("x-amz-date") {
                    let mutated = mutate(&mut rng, v.as_bytes());
                    unknown = true;
                    if let Ok(v) = http::HeaderValue::from_bytes(&mutated) {
                        headers.insert("x-amz-date", v);
                    } else {
                        headers.remove("x-amz-date");
                    }
                }
            }
            3 => {
                if let Some(v) = headers
                    .get(http::header::AUTHORIZATION)
                    .and_then(|v| v.to_str().ok())
                {
                    let mut s = v.to_string();
                    let i = s.len() - 1 - rng.below(64);
                    let old = s.as_bytes()[i];
                    let new = if old == b'a' { "b" } else { "a" };
                    s.replace_range(i..=i, new);
                    headers.insert(
                        http::header::AUTHORIZATION,
                        http::HeaderValue::from_str(&s).expect("ASCII header"),
                    );
                    tampered = true;
                }
            }
            _ => {}
        }
        let req = RequestParts {
            method,
            raw_path: &path,
            raw_query: &query,
            headers: &headers,
            body: &body_sent,
        };
        let result = lamina_auth::verify(&req, &Keys, now, &VerifyOptions::default());
        match &result {
            Ok(v) => {
                assert!(
                    sign && !tampered,
                    "verified without a valid signature: {method:?} {path:?} {query:?} {headers:?}"
                );
                assert_eq!(v.account_id, "123456789012");
                signed_ok += 1;
            }
            Err(e) => {
                let _ = (e.to_string(), e.status(), e.error_type());
                assert!(
                    !sign || tampered || unknown,
                    "signed by lamina_auth::sign but refused: {method:?} {path:?} {query:?}: {e}"
                );
            }
        }
    }
    assert!(signed_ok > ROUNDS / 4, "only {signed_ok} requests verified");
}
