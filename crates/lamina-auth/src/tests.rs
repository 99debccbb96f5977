//! Behaviour tests of the public API: the §8.3 test vectors, sign→verify round trips, and every
//! authentication failure of §8.5 with its exact type, status and message.

use crate::canonical::{self, CanonicalRequest};
use crate::encode::{hex_str, sha256_hex};
use crate::*;
use chrono::{DateTime, TimeDelta, Utc};
use http::{HeaderMap, HeaderValue};
use proptest::prelude::*;
use std::collections::HashMap;

const AKID: &str = "AKIDEXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const HOST: &str = "lambda.us-east-1.amazonaws.com";
const GET_PATH: &str =
    "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Amy-fn/configuration";

struct Keys(HashMap<String, SecretKey>);

impl KeyResolver for Keys {
    fn resolve(&self, access_key_id: &str) -> Option<SecretKey> {
        self.0.get(access_key_id).cloned()
    }
}

fn keys_with(secret: &str) -> Keys {
    let mut m = HashMap::new();
    m.insert(
        AKID.to_owned(),
        SecretKey {
            secret: secret.to_owned(),
            account_id: "123456789012".to_owned(),
            principal_arn: "arn:aws:iam::123456789012:user/alice".to_owned(),
        },
    );
    Keys(m)
}

fn keys() -> Keys {
    keys_with(SECRET)
}

fn at(text: &str) -> DateTime<Utc> {
    crate::authz::parse_amz_date(text).unwrap_or_default()
}

fn t0() -> DateTime<Utc> {
    at("20250101T000000Z")
}

fn host_headers() -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(http::header::HOST, HeaderValue::from_static(HOST));
    h
}

/// A request signed at `t0()` with the example credentials.
struct Signed {
    method: &'static str,
    path: String,
    query: String,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Signed {
    fn new(
        method: &'static str,
        path: &str,
        query: &str,
        mut headers: HeaderMap,
        body: &[u8],
    ) -> Self {
        sign(
            method,
            path,
            query,
            &mut headers,
            body,
            AKID,
            SECRET,
            "us-east-1",
            "lambda",
            t0(),
        );
        Signed {
            method,
            path: path.to_owned(),
            query: query.to_owned(),
            headers,
            body: body.to_vec(),
        }
    }

    fn parts(&self) -> RequestParts<'_> {
        RequestParts {
            method: self.method,
            raw_path: &self.path,
            raw_query: &self.query,
            headers: &self.headers,
            body: &self.body,
        }
    }

    fn verify_at(&self, now: DateTime<Utc>) -> Result<Verified, AuthError> {
        verify(&self.parts(), &keys(), now, &VerifyOptions::default())
    }

    fn verify(&self) -> Result<Verified, AuthError> {
        self.verify_at(t0())
    }

    fn authorization(&self) -> String {
        self.headers
            .get(http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    }

    fn set_authorization(&mut self, value: &str) {
        match HeaderValue::from_str(value) {
            Ok(v) => {
                self.headers.insert(http::header::AUTHORIZATION, v);
            }
            Err(_) => panic!("test header not valid: {value}"),
        }
    }
}

fn get_vector() -> Signed {
    Signed::new("GET", GET_PATH, "Qualifier=%24LATEST", host_headers(), b"")
}

fn post_vector() -> Signed {
    let mut h = host_headers();
    h.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Signed::new("POST", "/2015-03-31/functions/my-fn/versions", "", h, b"{}")
}

fn canonical_text(s: &Signed, signed_headers: &str, payload_hash: &str) -> String {
    let query = canonical::canonical_query(&s.query, false);
    CanonicalRequest {
        method: s.method,
        raw_path: &s.path,
        query: &query,
        headers: &s.headers,
        signed_headers,
        payload_hash,
    }
    .text()
}

fn expect_err(result: Result<Verified, AuthError>) -> AuthError {
    match result {
        Ok(v) => panic!("expected an authentication failure, got {v:?}"),
        Err(e) => e,
    }
}

fn assert_failure(e: &AuthError, status: u16, error_type: &str, message: &str) {
    assert_eq!(e.status(), status, "{e}");
    assert_eq!(e.error_type(), error_type, "{e}");
    assert_eq!(e.to_string(), message);
}

// --- §8.3 test vectors -------------------------------------------------------------------------

const GET_CANONICAL: &str = "GET
/2015-03-31/functions/arn%253Aaws%253Alambda%253Aus-east-1%253A123456789012%253Afunction%253Amy-fn/configuration
Qualifier=%24LATEST
host:lambda.us-east-1.amazonaws.com
x-amz-date:20250101T000000Z

host;x-amz-date
e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

#[test]
fn get_test_vector_matches_botocore() {
    let s = get_vector();
    let empty = sha256_hex(b"");
    let canonical = canonical_text(&s, "host;x-amz-date", hex_str(&empty));
    assert_eq!(canonical, GET_CANONICAL);
    assert_eq!(
        hex_str(&sha256_hex(canonical.as_bytes())),
        "e3aff930595aca912b6b1287552d754aef24df7a2d38da282a2571d52b6ac2d0"
    );
    assert_eq!(
        s.authorization(),
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20250101/us-east-1/lambda/aws4_request, \
         SignedHeaders=host;x-amz-date, \
         Signature=4cf4cc13d7ca784200978d444f0505afb7454f22b29a5a2ef9437c818585ee90"
    );
    let v = s.verify();
    assert_eq!(
        v,
        Ok(Verified {
            access_key_id: AKID.to_owned(),
            account_id: "123456789012".to_owned(),
            principal_arn: "arn:aws:iam::123456789012:user/alice".to_owned(),
            region: "us-east-1".to_owned(),
            service: "lambda".to_owned(),
        })
    );
}

#[test]
fn post_test_vector_matches_botocore() {
    let s = post_vector();
    let payload = sha256_hex(b"{}");
    assert_eq!(
        hex_str(&payload),
        "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
    );
    let canonical = canonical_text(&s, "content-type;host;x-amz-date", hex_str(&payload));
    assert_eq!(
        canonical,
        "POST\n/2015-03-31/functions/my-fn/versions\n\ncontent-type:application/json\n\
         host:lambda.us-east-1.amazonaws.com\nx-amz-date:20250101T000000Z\n\n\
         content-type;host;x-amz-date\n44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
    );
    assert!(s.authorization().ends_with(
        "SignedHeaders=content-type;host;x-amz-date, \
         Signature=a4fb2199e7a3242dba7a925197fdb56ddaf8a7121930120b313057e58a6a8028"
    ));
    assert!(s.verify().is_ok());
}

// --- round trips ---------------------------------------------------------------------------------

#[test]
fn round_trip_with_unsigned_headers_added_after_signing() {
    let mut s = post_vector();
    s.headers
        .insert("user-agent", HeaderValue::from_static("aws-cli/1.45.11"));
    s.headers
        .insert("content-length", HeaderValue::from_static("2"));
    s.headers
        .insert("amz-sdk-invocation-id", HeaderValue::from_static("x"));
    assert!(s.verify().is_ok());
}

#[test]
fn round_trip_with_security_token_and_lambda_headers() {
    let mut h = host_headers();
    h.insert("x-amz-security-token", HeaderValue::from_static("token=="));
    h.insert("x-amz-invocation-type", HeaderValue::from_static("Event"));
    h.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    let s = Signed::new(
        "POST",
        "/2015-03-31/functions/f/invocations",
        "",
        h,
        b"{\"a\":1}",
    );
    assert!(s.authorization().contains(
        "SignedHeaders=content-type;host;x-amz-date;x-amz-invocation-type;x-amz-security-token,"
    ));
    assert!(s.verify().is_ok());
}

#[test]
fn round_trip_host_with_port() {
    let mut h = HeaderMap::new();
    h.insert(
        http::header::HOST,
        HeaderValue::from_static("127.0.0.1:18080"),
    );
    let s = Signed::new("GET", "/2015-03-31/functions/", "", h, b"");
    assert!(s.verify().is_ok());
}

#[test]
fn raw_paths_with_escapes_and_unreserved_characters_round_trip() {
    for path in [
        "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Amy-fn%3A%24LATEST",
        "/2015-03-31/functions/my-fn:prod/invocations",
        "/2015-03-31/functions/a%2Fb/policy",
        "/2015-03-31/functions/A-Za-z0-9-._~/configuration",
        "/2015-03-31/functions/%24LATEST",
        "/2015-03-31/functions/x%20y/",
        "",
        "/",
    ] {
        let s = Signed::new("GET", path, "", host_headers(), b"");
        assert!(s.verify().is_ok(), "{path}");
    }
}

#[test]
fn raw_colon_and_escaped_colon_sign_differently() {
    let s = Signed::new("GET", "/functions/a:b", "", host_headers(), b"");
    let mut moved = Signed::new("GET", "/functions/a:b", "", host_headers(), b"");
    moved.path = "/functions/a%3Ab".to_owned();
    assert!(s.verify().is_ok());
    let e = expect_err(moved.verify());
    assert_eq!(e.error_type(), "InvalidSignatureException");
    assert!(e.to_string().contains("\n/functions/a%253Ab\n"));
}

#[test]
fn repeated_query_keys_are_sorted_by_value() {
    let s = Signed::new(
        "GET",
        "/2017-03-31/tags/arn",
        "tagKeys=a&tagKeys=b%20c",
        host_headers(),
        b"",
    );
    assert!(s.verify().is_ok());
    let mut reordered = Signed::new(
        "GET",
        "/2017-03-31/tags/arn",
        "tagKeys=a&tagKeys=b%20c",
        host_headers(),
        b"",
    );
    reordered.query = "tagKeys=b%20c&tagKeys=a".to_owned();
    assert!(reordered.verify().is_ok());
    let text = canonical_text(&s, "host;x-amz-date", "x");
    assert!(text.contains("\ntagKeys=a&tagKeys=b%20c\n"));
}

#[test]
fn query_with_plus_means_plus() {
    let mut s = Signed::new("GET", "/p", "Marker=a%2Bb", host_headers(), b"");
    s.query = "Marker=a+b".to_owned();
    assert!(s.verify().is_ok());
    s.query = "Marker=a%20b".to_owned();
    assert!(s.verify().is_err());
}

#[test]
fn dot_segments_and_double_slashes_are_normalised() {
    let mut s = Signed::new("GET", "/a/b/c", "", host_headers(), b"");
    s.path = "/a//b/./x/../c".to_owned();
    assert!(s.verify().is_ok());
}

#[test]
fn date_header_may_replace_x_amz_date() {
    let mut h = host_headers();
    h.insert(
        http::header::DATE,
        HeaderValue::from_static("Wed, 01 Jan 2025 00:00:00 GMT"),
    );
    let empty = sha256_hex(b"");
    let query = canonical::canonical_query("", false);
    let creq = CanonicalRequest {
        method: "GET",
        raw_path: "/p",
        query: &query,
        headers: &h,
        signed_headers: "date;host",
        payload_hash: hex_str(&empty),
    }
    .text();
    let sts = canonical::string_to_sign_text(
        "20250101T000000Z",
        "20250101/us-east-1/lambda/aws4_request",
        hex_str(&sha256_hex(creq.as_bytes())),
    );
    let key = crate::key::derive_signing_key(SECRET, "20250101", "us-east-1", "lambda");
    let mut m = crate::key::mac(&key);
    hmac::Mac::update(&mut m, sts.as_bytes());
    let sig = crate::encode::hex32(&hmac::Mac::finalize(m).into_bytes().into());
    let auth = format!(
        "AWS4-HMAC-SHA256 Credential={AKID}/20250101/us-east-1/lambda/aws4_request, SignedHeaders=date;host, Signature={}",
        hex_str(&sig)
    );
    let mut s = Signed {
        method: "GET",
        path: "/p".into(),
        query: String::new(),
        headers: h,
        body: vec![],
    };
    s.set_authorization(&auth);
    assert!(s.verify().is_ok());
}

#[test]
fn unsigned_payload_is_accepted_and_a_lying_hash_is_not() {
    let mut h = host_headers();
    h.insert(
        "x-amz-content-sha256",
        HeaderValue::from_static("UNSIGNED-PAYLOAD"),
    );
    let mut s = Signed::new("POST", "/p", "", h, b"original");
    s.body = b"anything".to_vec();
    assert!(s.verify().is_ok());

    let mut h = host_headers();
    let hash = sha256_hex(b"original");
    h.insert(
        "x-amz-content-sha256",
        HeaderValue::from_bytes(&hash).unwrap_or(HeaderValue::from_static("")),
    );
    let mut s = Signed::new("POST", "/p", "", h, b"original");
    assert!(s.verify().is_ok());
    s.body = b"tampered".to_vec();
    assert_eq!(
        expect_err(s.verify()).error_type(),
        "InvalidSignatureException"
    );
}

#[test]
fn signing_keys_are_cached() {
    let cache = SigningKeyCache::new(8);
    let s = get_vector();
    for _ in 0..3 {
        assert!(
            verify_with_cache(&s.parts(), &keys(), t0(), &VerifyOptions::default(), &cache).is_ok()
        );
    }
    assert_eq!(cache.len(), 1);
    let e = expect_err(verify_with_cache(
        &s.parts(),
        &keys_with("rotated"),
        t0(),
        &VerifyOptions::default(),
        &cache,
    ));
    assert_eq!(e.error_type(), "InvalidSignatureException");
}

// --- §8.5 failures -----------------------------------------------------------------------------

#[test]
fn no_authentication_at_all() {
    let s = Signed {
        method: "GET",
        path: "/p".into(),
        query: "a=1".into(),
        headers: host_headers(),
        body: vec![],
    };
    assert_failure(
        &expect_err(s.verify()),
        403,
        "MissingAuthenticationTokenException",
        "Missing Authentication Token",
    );
}

#[test]
fn unknown_access_key() {
    let mut s = get_vector();
    let auth = s.authorization().replace(AKID, "AKIDUNKNOWN");
    s.set_authorization(&auth);
    assert_failure(
        &expect_err(s.verify()),
        403,
        "UnrecognizedClientException",
        "The security token included in the request is invalid.",
    );
}

#[test]
fn signature_mismatch_carries_canonical_request_and_string_to_sign() {
    let s = get_vector();
    let e = expect_err(verify(
        &s.parts(),
        &keys_with("wrong secret"),
        t0(),
        &VerifyOptions::default(),
    ));
    let expected = format!(
        "The request signature we calculated does not match the signature you provided. Check your AWS \
         Secret Access Key and signing method. Consult the service documentation for details.\n\n\
         The Canonical String for this request should have been\n'{GET_CANONICAL}'\n\n\
         The String-to-Sign should have been\n'AWS4-HMAC-SHA256\n20250101T000000Z\n\
         20250101/us-east-1/lambda/aws4_request\n\
         e3aff930595aca912b6b1287552d754aef24df7a2d38da282a2571d52b6ac2d0'\n"
    );
    assert_failure(&e, 403, "InvalidSignatureException", &expected);
}

#[test]
fn tampering_is_detected() {
    let mut body = post_vector();
    body.body = b"{\"x\":1}".to_vec();
    let mut header = post_vector();
    header.headers.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain"),
    );
    let mut query = get_vector();
    query.query = "Qualifier=prod".to_owned();
    let mut path = get_vector();
    path.path.push('x');
    let mut method = get_vector();
    method.method = "DELETE";
    let mut host = get_vector();
    host.headers
        .insert(http::header::HOST, HeaderValue::from_static("evil.example"));
    let mut signature = get_vector();
    let auth = signature
        .authorization()
        .replace("Signature=4", "Signature=5");
    signature.set_authorization(&auth);
    let mut upper = get_vector();
    let auth = upper
        .authorization()
        .replace("Signature=4cf4cc", "Signature=4CF4CC");
    upper.set_authorization(&auth);
    for (name, s) in [
        ("body", body),
        ("header", header),
        ("query", query),
        ("path", path),
        ("method", method),
        ("host", host),
        ("signature", signature),
        ("uppercase signature", upper),
    ] {
        let e = expect_err(s.verify());
        assert_eq!(e.error_type(), "InvalidSignatureException", "{name}");
        assert_eq!(e.status(), 403, "{name}");
    }
}

#[test]
fn wrong_secret_is_a_mismatch() {
    let s = get_vector();
    let e = expect_err(verify(
        &s.parts(),
        &keys_with("not-the-secret"),
        t0(),
        &VerifyOptions::default(),
    ));
    assert_eq!(e.error_type(), "InvalidSignatureException");
    assert!(e
        .to_string()
        .starts_with("The request signature we calculated does not match"));
}

#[test]
fn clock_skew_boundaries() {
    let s = get_vector();
    let five = TimeDelta::seconds(300);
    let one = TimeDelta::seconds(1);
    assert!(s.verify_at(t0() + five).is_ok());
    assert!(s.verify_at(t0() - five).is_ok());
    assert!(s
        .verify_at(t0() + five + TimeDelta::milliseconds(999))
        .is_ok());

    let late = expect_err(s.verify_at(t0() + five + one));
    assert_failure(
        &late,
        403,
        "InvalidSignatureException",
        "Signature expired: 20250101T000000Z is now earlier than 20250101T000001Z (20250101T000501Z - 5 min.)",
    );
    let early = expect_err(s.verify_at(t0() - five - one));
    assert_failure(
        &early,
        403,
        "InvalidSignatureException",
        "Signature not yet current: 20250101T000000Z is still later than 20241231T235959Z (20241231T235459Z + 5 min.)",
    );
}

#[test]
fn signature_expired_message_matches_aws_example() {
    let mut s = get_vector();
    s.headers
        .insert("x-amz-date", HeaderValue::from_static("20150806T131223Z"));
    let auth = s.authorization().replace("/20250101/", "/20150806/");
    s.set_authorization(&auth);
    assert_failure(
        &expect_err(s.verify_at(at("20150806T132034Z"))),
        403,
        "InvalidSignatureException",
        "Signature expired: 20150806T131223Z is now earlier than 20150806T131534Z (20150806T132034Z - 5 min.)",
    );
}

#[test]
fn wrong_region_scope() {
    let mut headers = host_headers();
    sign(
        "GET",
        "/p",
        "",
        &mut headers,
        b"",
        AKID,
        SECRET,
        "eu-west-1",
        "lambda",
        t0(),
    );
    let s = Signed {
        method: "GET",
        path: "/p".into(),
        query: String::new(),
        headers,
        body: vec![],
    };
    let opts = VerifyOptions {
        region: Some("us-east-1".into()),
        ..VerifyOptions::default()
    };
    assert_failure(
        &expect_err(verify(&s.parts(), &keys(), t0(), &opts)),
        403,
        "InvalidSignatureException",
        "Credential should be scoped to a valid region, not 'eu-west-1'. ",
    );
    // Without a configured region the scope region is taken as given.
    assert_eq!(s.verify().map(|v| v.region), Ok("eu-west-1".to_owned()));
}

#[test]
fn malformed_region_scope() {
    let mut s = get_vector();
    let auth = s.authorization().replace("/us-east-1/", "/US_EAST:1/");
    s.set_authorization(&auth);
    assert_failure(
        &expect_err(s.verify()),
        403,
        "InvalidSignatureException",
        "Credential should be scoped to a valid region, not 'US_EAST:1'. ",
    );
}

#[test]
fn wrong_service_scope() {
    let mut headers = host_headers();
    sign(
        "GET",
        "/p",
        "",
        &mut headers,
        b"",
        AKID,
        SECRET,
        "us-east-1",
        "s3",
        t0(),
    );
    let s = Signed {
        method: "GET",
        path: "/p".into(),
        query: String::new(),
        headers,
        body: vec![],
    };
    assert_failure(
        &expect_err(s.verify()),
        403,
        "InvalidSignatureException",
        "Credential should be scoped to correct service: 'lambda'. ",
    );
}

#[test]
fn wrong_terminator_and_scope_date() {
    let mut s = get_vector();
    let auth = s.authorization().replace("aws4_request", "aws5_request");
    s.set_authorization(&auth);
    assert_failure(
        &expect_err(s.verify()),
        403,
        "InvalidSignatureException",
        "Credential should be scoped with a valid terminator: 'aws4_request', not 'aws5_request'. ",
    );

    let mut s = get_vector();
    let auth = s.authorization().replace("/20250101/", "/20250102/");
    s.set_authorization(&auth);
    assert_failure(
        &expect_err(s.verify()),
        403,
        "InvalidSignatureException",
        "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: \
         '20250102' != '20250101', from '20250101T000000Z'.",
    );
}

#[test]
fn host_must_be_signed() {
    let mut s = get_vector();
    let auth = s
        .authorization()
        .replace("SignedHeaders=host;x-amz-date", "SignedHeaders=x-amz-date");
    s.set_authorization(&auth);
    assert_failure(
        &expect_err(s.verify()),
        400,
        "IncompleteSignatureException",
        "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
    );
}

#[test]
fn malformed_authorization_headers() {
    let cred = "Credential=AKIDEXAMPLE/20250101/us-east-1/lambda/aws4_request";
    let sh = "SignedHeaders=host;x-amz-date";
    let sig = "Signature=4cf4cc13d7ca784200978d444f0505afb7454f22b29a5a2ef9437c818585ee90";
    let cases: Vec<(String, String)> = vec![
        (
            format!("AWS4-HMAC-SHA256 {sh}, {sig}"),
            format!("Authorization header requires 'Credential' parameter. Authorization=AWS4-HMAC-SHA256 {sh}, {sig}"),
        ),
        (
            format!("AWS4-HMAC-SHA256 {cred}, {sh}"),
            format!("Authorization header requires 'Signature' parameter. Authorization=AWS4-HMAC-SHA256 {cred}, {sh}"),
        ),
        (
            format!("AWS4-HMAC-SHA256 {cred}, {sig}"),
            format!("Authorization header requires 'SignedHeaders' parameter. Authorization=AWS4-HMAC-SHA256 {cred}, {sig}"),
        ),
        (
            "garbage".to_owned(),
            "Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' \
             parameter. Authorization header requires 'SignedHeaders' parameter. Authorization=garbage"
                .to_owned(),
        ),
        (
            "AWS4-HMAC-SHA256 garbage".to_owned(),
            "'garbage' not a valid key=value pair (missing equal-sign) in Authorization header: \
             'AWS4-HMAC-SHA256 garbage'."
                .to_owned(),
        ),
        (
            format!("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20250101/us-east-1, {sh}, {sig}"),
            "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, \
             got 'AKIDEXAMPLE/20250101/us-east-1'"
                .to_owned(),
        ),
        (
            format!("AWS4-HMAC-SHA512 {cred}, {sh}, {sig}"),
            "Unsupported AWS 'algorithm': 'AWS4-HMAC-SHA512'. Only 'AWS4-HMAC-SHA256' is supported.".to_owned(),
        ),
        (
            String::new(),
            "Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' \
             parameter. Authorization header requires 'SignedHeaders' parameter. Authorization="
                .to_owned(),
        ),
    ];
    for (header, message) in cases {
        let mut s = get_vector();
        s.set_authorization(&header);
        assert_failure(
            &expect_err(s.verify()),
            400,
            "IncompleteSignatureException",
            &message,
        );
    }
}

#[test]
fn missing_and_malformed_request_time() {
    let mut s = get_vector();
    s.headers.remove("x-amz-date");
    let auth = s.authorization();
    assert_failure(
        &expect_err(s.verify()),
        400,
        "IncompleteSignatureException",
        &format!(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization={auth}"
        ),
    );
    s.headers.insert(
        "x-amz-date",
        HeaderValue::from_static("2025-01-01T00:00:00Z"),
    );
    assert_failure(
        &expect_err(s.verify()),
        400,
        "IncompleteSignatureException",
        "Date must be in ISO-8601 'basic format'. Got '2025-01-01T00:00:00Z'. See http://en.wikipedia.org/wiki/ISO_8601",
    );
}

#[test]
fn non_ascii_authorization_header_is_incomplete() {
    let mut s = get_vector();
    s.headers.insert(
        http::header::AUTHORIZATION,
        HeaderValue::from_bytes("AWS4-HMAC-SHA256 Credential=é".as_bytes())
            .unwrap_or(HeaderValue::from_static("")),
    );
    let e = expect_err(s.verify());
    assert_eq!(
        (e.status(), e.error_type()),
        (400, "IncompleteSignatureException")
    );
}

// --- presigned URLs ----------------------------------------------------------------------------

fn presigned(expires: u64, query: &str) -> Signed {
    let url = presign_url(
        "GET",
        "https://lambda.us-east-1.amazonaws.com/",
        GET_PATH,
        query,
        AKID,
        SECRET,
        "us-east-1",
        "lambda",
        t0(),
        expires,
    );
    let rest = url
        .strip_prefix("https://lambda.us-east-1.amazonaws.com")
        .unwrap_or_default();
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    Signed {
        method: "GET",
        path: path.to_owned(),
        query: query.to_owned(),
        headers: host_headers(),
        body: vec![],
    }
}

#[test]
fn presigned_url_has_botocore_shape() {
    let s = presigned(3600, "Qualifier=%24LATEST");
    assert_eq!(s.path, GET_PATH);
    assert!(s.query.starts_with(
        "Qualifier=%24LATEST&X-Amz-Algorithm=AWS4-HMAC-SHA256\
         &X-Amz-Credential=AKIDEXAMPLE%2F20250101%2Fus-east-1%2Flambda%2Faws4_request\
         &X-Amz-Date=20250101T000000Z&X-Amz-Expires=3600&X-Amz-SignedHeaders=host&X-Amz-Signature="
    ));
}

#[test]
fn presigned_url_valid_until_expiry() {
    let s = presigned(60, "Qualifier=%24LATEST");
    assert!(s.verify().is_ok());
    assert!(s.verify_at(t0() + TimeDelta::seconds(60)).is_ok());
    assert_failure(
        &expect_err(s.verify_at(t0() + TimeDelta::seconds(61))),
        403,
        "AccessDeniedException",
        "Request has expired",
    );
    // A long-lived URL outlives the header-form skew window.
    let long = presigned(3600, "");
    assert!(long.verify_at(t0() + TimeDelta::seconds(3000)).is_ok());
    // But is not accepted before its time.
    assert_eq!(
        expect_err(long.verify_at(t0() - TimeDelta::seconds(301))).error_type(),
        "InvalidSignatureException"
    );
}

#[test]
fn presigned_url_tampering_is_detected() {
    let mut s = presigned(60, "Qualifier=%24LATEST");
    s.query = s.query.replace("Qualifier=%24LATEST", "Qualifier=prod");
    assert_eq!(
        expect_err(s.verify()).error_type(),
        "InvalidSignatureException"
    );

    let mut s = presigned(60, "");
    s.query = s.query.replace("X-Amz-Expires=60", "X-Amz-Expires=600");
    assert_eq!(
        expect_err(s.verify()).error_type(),
        "InvalidSignatureException"
    );
}

#[test]
fn presigned_url_missing_and_bad_parameters() {
    let s = Signed {
        method: "GET",
        path: "/p".into(),
        query: "X-Amz-Signature=abc&X-Amz-Date=20250101T000000Z".into(),
        headers: host_headers(),
        body: vec![],
    };
    assert_failure(
        &expect_err(s.verify()),
        400,
        "IncompleteSignatureException",
        "AWS query-string parameters must include 'X-Amz-Algorithm'. AWS query-string parameters must include \
         'X-Amz-Credential'. AWS query-string parameters must include 'X-Amz-SignedHeaders'. Re-examine the \
         query-string parameters.",
    );

    let mut s = presigned(60, "");
    s.query = s.query.replace("X-Amz-Expires=60", "X-Amz-Expires=604801");
    assert_failure(
        &expect_err(s.verify()),
        400,
        "IncompleteSignatureException",
        "X-Amz-Expires must be less than a week (in seconds) that is 604800",
    );
}

#[test]
fn presigned_url_scope_checks_apply() {
    let url = presign_url(
        "GET",
        "http://127.0.0.1:9000",
        "/p",
        "",
        AKID,
        SECRET,
        "us-east-1",
        "sqs",
        t0(),
        60,
    );
    let query = url.split_once('?').map(|(_, q)| q).unwrap_or_default();
    let mut h = HeaderMap::new();
    h.insert(
        http::header::HOST,
        HeaderValue::from_static("127.0.0.1:9000"),
    );
    let s = Signed {
        method: "GET",
        path: "/p".into(),
        query: query.into(),
        headers: h,
        body: vec![],
    };
    assert_failure(
        &expect_err(s.verify()),
        403,
        "InvalidSignatureException",
        "Credential should be scoped to correct service: 'lambda'. ",
    );
}

// --- property tests ------------------------------------------------------------------------------

fn header_fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("AWS4-HMAC-SHA256 ".to_owned()),
        Just("Credential=".to_owned()),
        Just("AKIDEXAMPLE/20250101/us-east-1/lambda/aws4_request".to_owned()),
        Just(", ".to_owned()),
        Just("SignedHeaders=host;x-amz-date".to_owned()),
        Just("Signature=".to_owned()),
        Just("=".to_owned()),
        Just("/".to_owned()),
        Just(";".to_owned()),
        "[ -~]{0,12}",
    ]
}

fn authorization_strategy() -> impl Strategy<Value = String> {
    prop_oneof![
        "\\PC{0,80}",
        proptest::collection::vec(header_fragment(), 0..10).prop_map(|v| v.concat()),
    ]
}

fn query_strategy() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("X-Amz-Algorithm=AWS4-HMAC-SHA256".to_owned()),
        Just(
            "X-Amz-Credential=AKIDEXAMPLE%2F20250101%2Fus-east-1%2Flambda%2Faws4_request"
                .to_owned()
        ),
        Just("X-Amz-Date=20250101T000000Z".to_owned()),
        Just("X-Amz-Expires=60".to_owned()),
        Just("X-Amz-SignedHeaders=host".to_owned()),
        Just("X-Amz-Signature=00".to_owned()),
        "[ -~]{0,16}",
        "\\PC{0,8}",
    ];
    proptest::collection::vec(piece, 0..6).prop_map(|v| v.join("&"))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn verify_never_panics(
        authorization in proptest::option::of(authorization_strategy()),
        amz_date in proptest::option::of(prop_oneof![Just("20250101T000000Z".to_owned()), "[ -~]{0,20}"]),
        path in "\\PC{0,40}",
        query in query_strategy(),
        body in proptest::collection::vec(any::<u8>(), 0..32),
        skew_secs in 0u64..u64::MAX,
    ) {
        let mut headers = host_headers();
        if let Some(a) = authorization.and_then(|a| HeaderValue::from_str(&a).ok()) {
            headers.insert(http::header::AUTHORIZATION, a);
        }
        if let Some(d) = amz_date.and_then(|d| HeaderValue::from_str(&d).ok()) {
            headers.insert("x-amz-date", d);
        }
        let parts = RequestParts { method: "GET", raw_path: &path, raw_query: &query, headers: &headers, body: &body };
        let opts = VerifyOptions { max_skew: std::time::Duration::from_secs(skew_secs), ..VerifyOptions::default() };
        if let Err(e) = verify(&parts, &keys(), t0(), &opts) {
            let _ = (e.to_string(), e.status(), e.error_type());
        }
    }

    #[test]
    fn sign_then_verify_round_trips(
        path in "(/[a-zA-Z0-9%:$._~ !@*()+,;=-]{0,12}){0,5}/?",
        query in proptest::collection::vec(("[a-zA-Z0-9%:$._~ -]{1,8}", "[a-zA-Z0-9%:$._~ /+-]{0,8}"), 0..4),
        body in proptest::collection::vec(any::<u8>(), 0..64),
    ) {
        let query: Vec<String> = query.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let query = query.join("&");
        let s = Signed::new("POST", &path, &query, host_headers(), &body);
        prop_assert!(s.verify().is_ok(), "path {path:?} query {query:?}");
    }
}
