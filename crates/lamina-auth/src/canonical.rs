//! The SigV4 canonical request for non-S3 services: canonical URI (double-encoded, dot segments and
//! empty segments removed), canonical query, canonical headers, and the string to sign. One writer
//! serves the verifier (hashing as it goes) and the signer.

use crate::encode::{canonical_component, encode_into, Sink};
use std::borrow::Cow;

/// The only SigV4 algorithm Lamina speaks.
pub(crate) const ALGORITHM: &str = "AWS4-HMAC-SHA256";
/// Last element of every credential scope.
pub(crate) const TERMINATOR: &str = "aws4_request";
/// Payload-hash placeholder a client may send in `X-Amz-Content-Sha256`.
pub(crate) const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";

/// Writes the canonical URI for `raw_path` (the path exactly as on the request line, still
/// percent-encoded): `.`/`..`/empty segments removed the way botocore does, then every byte outside
/// `A-Za-z0-9-._~/` percent-encoded again, so `%3A` becomes `%253A`.
pub(crate) fn write_canonical_uri<S: Sink + ?Sized>(out: &mut S, raw_path: &str) {
    let path = raw_path.as_bytes();
    if path.is_empty() {
        out.put(b"/");
        return;
    }
    if !needs_normalisation(path) {
        encode_into(out, path, true);
        return;
    }
    let mut segments: Vec<&[u8]> = Vec::with_capacity(8);
    for segment in path.split(|&b| b == b'/') {
        match segment {
            b"" | b"." => {}
            b".." => {
                segments.pop();
            }
            s => segments.push(s),
        }
    }
    if path.first() == Some(&b'/') {
        out.put(b"/");
    }
    for (i, segment) in segments.iter().enumerate() {
        if i > 0 {
            out.put(b"/");
        }
        encode_into(out, segment, true);
    }
    if path.last() == Some(&b'/') && !segments.is_empty() {
        out.put(b"/");
    }
}

/// False when the path already is in normal form: it starts with `/` and has no `.`, `..` or empty
/// segment (a trailing `/` is allowed). Lets the common case skip building a segment list.
fn needs_normalisation(path: &[u8]) -> bool {
    let Some(rest) = path.strip_prefix(b"/") else {
        return true;
    };
    let mut segments = rest.split(|&b| b == b'/').peekable();
    while let Some(segment) = segments.next() {
        let last = segments.peek().is_none();
        match segment {
            b"" if last => {}
            b"" | b"." | b".." => return true,
            _ => {}
        }
    }
    false
}

/// One `key=value` pair of the canonical query, both sides in canonical encoding.
pub(crate) type QueryPair<'a> = (Cow<'a, [u8]>, Cow<'a, [u8]>);

/// Splits a raw query string (without `?`) into canonical pairs sorted by key then value. Empty
/// `&&` pieces are skipped; a valueless key gets an empty value. With `skip_signature`, the
/// `X-Amz-Signature` parameter of a presigned URL is left out, as SigV4 requires.
pub(crate) fn canonical_query(raw_query: &str, skip_signature: bool) -> Vec<QueryPair<'_>> {
    if raw_query.is_empty() {
        return Vec::new();
    }
    let mut pairs: Vec<QueryPair<'_>> = Vec::with_capacity(4);
    for piece in raw_query.as_bytes().split(|&b| b == b'&') {
        if piece.is_empty() {
            continue;
        }
        let (key, value) = match piece.iter().position(|&b| b == b'=') {
            Some(eq) => (&piece[..eq], &piece[eq + 1..]),
            None => (piece, &b""[..]),
        };
        let key = canonical_component(key);
        if skip_signature && &*key == b"X-Amz-Signature" {
            continue;
        }
        pairs.push((key, canonical_component(value)));
    }
    pairs.sort_unstable();
    pairs
}

/// Writes sorted canonical pairs as `k=v&k=v`.
pub(crate) fn write_canonical_query<S: Sink + ?Sized>(out: &mut S, pairs: &[QueryPair<'_>]) {
    for (i, (key, value)) in pairs.iter().enumerate() {
        if i > 0 {
            out.put(b"&");
        }
        out.put(key);
        out.put(b"=");
        out.put(value);
    }
}

/// Writes a header value trimmed, with inner runs of spaces and tabs collapsed to one space.
fn write_trimmed<S: Sink + ?Sized>(out: &mut S, value: &[u8]) {
    let is_ws = |b: &u8| *b == b' ' || *b == b'\t';
    let Some(start) = value.iter().position(|b| !is_ws(b)) else {
        return;
    };
    let end = value
        .iter()
        .rposition(|b| !is_ws(b))
        .map_or(start, |e| e + 1);
    let value = &value[start..end];
    let mut run_start = 0;
    let mut i = 0;
    while i < value.len() {
        if is_ws(&value[i]) {
            out.put(&value[run_start..i]);
            out.put(b" ");
            while i < value.len() && is_ws(&value[i]) {
                i += 1;
            }
            run_start = i;
        } else {
            i += 1;
        }
    }
    out.put(&value[run_start..]);
}

/// Writes one `name:value\n` line per name in `signed_headers` (`;`-separated, in the order given):
/// the lowercased name, then every value of that header trimmed and joined with `,`. A signed header
/// the request does not carry gets an empty value (and so, in practice, a signature mismatch).
pub(crate) fn write_canonical_headers<S: Sink + ?Sized>(
    out: &mut S,
    headers: &http::HeaderMap,
    signed_headers: &str,
) {
    for name in signed_headers.split(';') {
        if name.bytes().any(|b| b.is_ascii_uppercase()) {
            for b in name.bytes() {
                out.put(&[b.to_ascii_lowercase()]);
            }
        } else {
            out.put(name.as_bytes());
        }
        out.put(b":");
        for (i, value) in headers.get_all(name).iter().enumerate() {
            if i > 0 {
                out.put(b",");
            }
            write_trimmed(out, value.as_bytes());
        }
        out.put(b"\n");
    }
}

/// Everything that goes into a canonical request.
pub(crate) struct CanonicalRequest<'a> {
    pub method: &'a str,
    pub raw_path: &'a str,
    pub query: &'a [QueryPair<'a>],
    pub headers: &'a http::HeaderMap,
    pub signed_headers: &'a str,
    pub payload_hash: &'a str,
}

impl CanonicalRequest<'_> {
    /// Writes `METHOD\nURI\nQUERY\nHEADERS\n\nSIGNED\nPAYLOAD`.
    pub(crate) fn write<S: Sink + ?Sized>(&self, out: &mut S) {
        out.put(self.method.as_bytes());
        out.put(b"\n");
        write_canonical_uri(out, self.raw_path);
        out.put(b"\n");
        write_canonical_query(out, self.query);
        out.put(b"\n");
        write_canonical_headers(out, self.headers, self.signed_headers);
        out.put(b"\n");
        out.put(self.signed_headers.as_bytes());
        out.put(b"\n");
        out.put(self.payload_hash.as_bytes());
    }

    /// The canonical request as text (for error messages and tests).
    pub(crate) fn text(&self) -> String {
        let mut buf = Vec::with_capacity(512);
        self.write(&mut buf);
        String::from_utf8_lossy(&buf).into_owned()
    }
}

/// Writes the string to sign: algorithm, request time, scope, hex hash of the canonical request.
pub(crate) fn write_string_to_sign<S: Sink + ?Sized>(
    out: &mut S,
    amz_date: &str,
    scope: &str,
    canonical_request_hash: &str,
) {
    out.put(ALGORITHM.as_bytes());
    out.put(b"\n");
    out.put(amz_date.as_bytes());
    out.put(b"\n");
    out.put(scope.as_bytes());
    out.put(b"\n");
    out.put(canonical_request_hash.as_bytes());
}

/// The string to sign as text.
pub(crate) fn string_to_sign_text(
    amz_date: &str,
    scope: &str,
    canonical_request_hash: &str,
) -> String {
    let mut buf = Vec::with_capacity(128);
    write_string_to_sign(&mut buf, amz_date, scope, canonical_request_hash);
    String::from_utf8_lossy(&buf).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uri(raw: &str) -> String {
        let mut v = Vec::new();
        write_canonical_uri(&mut v, raw);
        String::from_utf8(v).unwrap_or_default()
    }

    fn query(raw: &str, skip: bool) -> String {
        let mut v = Vec::new();
        write_canonical_query(&mut v, &canonical_query(raw, skip));
        String::from_utf8(v).unwrap_or_default()
    }

    #[test]
    fn uri_is_double_encoded() {
        assert_eq!(
            uri("/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Amy-fn%3A%24LATEST"),
            "/2015-03-31/functions/arn%253Aaws%253Alambda%253Aus-east-1%253A123456789012%253Afunction%253Amy-fn%253A%2524LATEST"
        );
        assert_eq!(uri("/a/b%2Fc"), "/a/b%252Fc");
        assert_eq!(uri("/fn:prod"), "/fn%3Aprod");
        assert_eq!(uri("/A-z_0.9~"), "/A-z_0.9~");
        assert_eq!(uri("/a b"), "/a%20b");
    }

    #[test]
    fn uri_is_normalised_like_botocore() {
        assert_eq!(uri(""), "/");
        assert_eq!(uri("/"), "/");
        assert_eq!(uri("//"), "/");
        assert_eq!(uri("/a//b"), "/a/b");
        assert_eq!(uri("/a/./b"), "/a/b");
        assert_eq!(uri("/a/../b"), "/b");
        assert_eq!(uri("/../../a"), "/a");
        assert_eq!(uri("/a/b/"), "/a/b/");
        assert_eq!(uri("/a/.."), "/");
        assert_eq!(uri("/a/%2E%2E/b"), "/a/%252E%252E/b");
        assert_eq!(uri("/a/.hidden/"), "/a/.hidden/");
    }

    #[test]
    fn query_is_sorted_and_reencoded() {
        assert_eq!(query("Qualifier=%24LATEST", false), "Qualifier=%24LATEST");
        assert_eq!(
            query("tagKeys=b%20c&tagKeys=a", false),
            "tagKeys=a&tagKeys=b%20c"
        );
        assert_eq!(query("MaxItems=5&List=ALL", false), "List=ALL&MaxItems=5");
        assert_eq!(query("b&a=", false), "a=&b=");
        assert_eq!(query("a=x+y", false), "a=x%2By");
        assert_eq!(query("a=x%2by&&", false), "a=x%2By");
        assert_eq!(query("a=b:c/d", false), "a=b%3Ac%2Fd");
        assert_eq!(query("b=1&B=2&a=3", false), "B=2&a=3&b=1");
        assert_eq!(query("X-Amz-Signature=abc&x=1", true), "x=1");
        assert_eq!(
            query("X-Amz-Signature=abc&x=1", false),
            "X-Amz-Signature=abc&x=1"
        );
    }

    #[test]
    fn headers_are_trimmed_joined_and_lowercased() {
        let mut h = http::HeaderMap::new();
        h.insert("host", http::HeaderValue::from_static("example.com:8080"));
        h.append(
            "x-amz-meta",
            http::HeaderValue::from_static("  a   b \t c  "),
        );
        h.append("x-amz-meta", http::HeaderValue::from_static("d"));
        h.insert("x-empty", http::HeaderValue::from_static("   "));
        let mut v = Vec::new();
        write_canonical_headers(&mut v, &h, "Host;x-amz-meta;x-empty;x-absent");
        assert_eq!(
            String::from_utf8(v).unwrap_or_default(),
            "host:example.com:8080\nx-amz-meta:a b c,d\nx-empty:\nx-absent:\n"
        );
    }
}
