//! Byte-level helpers shared by the signer and the verifier: SigV4 percent-encoding, percent-decoding,
//! lowercase hex, and the `Sink` that lets one canonicalisation routine feed either a hasher or a buffer.

use sha2::{Digest, Sha256};
use std::borrow::Cow;

/// Where canonical bytes go: straight into a SHA-256 on the hot path, or into a buffer when the text
/// itself is wanted (signature-mismatch messages, tests).
pub(crate) trait Sink {
    /// Appends `bytes`.
    fn put(&mut self, bytes: &[u8]);
}

impl Sink for Sha256 {
    #[inline]
    fn put(&mut self, bytes: &[u8]) {
        self.update(bytes);
    }
}

impl Sink for Vec<u8> {
    #[inline]
    fn put(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }
}

const UPPER_HEX: &[u8; 16] = b"0123456789ABCDEF";
const LOWER_HEX: &[u8; 16] = b"0123456789abcdef";

/// True for the RFC 3986 unreserved set, the only bytes SigV4 leaves bare.
#[inline]
pub(crate) fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

/// Percent-encodes `bytes` into `out`, leaving unreserved bytes (and `/` when `keep_slash`) bare.
/// Runs of bare bytes are written in one call so a hasher sink sees few, large updates.
pub(crate) fn encode_into<S: Sink + ?Sized>(out: &mut S, bytes: &[u8], keep_slash: bool) {
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if is_unreserved(b) || (keep_slash && b == b'/') {
            continue;
        }
        if start < i {
            out.put(&bytes[start..i]);
        }
        out.put(&[
            b'%',
            UPPER_HEX[usize::from(b >> 4)],
            UPPER_HEX[usize::from(b & 0x0f)],
        ]);
        start = i + 1;
    }
    if start < bytes.len() {
        out.put(&bytes[start..]);
    }
}

/// Percent-encodes `bytes` (nothing but unreserved bytes bare) into a new string.
pub(crate) fn encode_component(bytes: &[u8]) -> String {
    let mut out = Vec::with_capacity(bytes.len() + 8);
    encode_into(&mut out, bytes, false);
    // Only ASCII was written.
    String::from_utf8_lossy(&out).into_owned()
}

#[inline]
fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Decodes `%XX` escapes. A `%` not followed by two hex digits stays a literal `%`, and `+` stays a
/// literal `+` (botocore never sends `+` for a space, so a raw `+` can only mean a plus sign).
pub(crate) fn percent_decode(bytes: &[u8]) -> Cow<'_, [u8]> {
    if !bytes.contains(&b'%') {
        return Cow::Borrowed(bytes);
    }
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%' {
            if let (Some(hi), Some(lo)) = (
                bytes.get(i + 1).copied().and_then(hex_value),
                bytes.get(i + 2).copied().and_then(hex_value),
            ) {
                out.push(hi << 4 | lo);
                i += 3;
                continue;
            }
        }
        out.push(b);
        i += 1;
    }
    Cow::Owned(out)
}

/// True when decoding and re-encoding `bytes` would give `bytes` back, so the raw slice can be used
/// as its own canonical form without copying (the common case: botocore already sends this form).
pub(crate) fn is_canonically_encoded(bytes: &[u8]) -> bool {
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if is_unreserved(b) {
            i += 1;
            continue;
        }
        if b != b'%' {
            return false;
        }
        let (Some(&hi), Some(&lo)) = (bytes.get(i + 1), bytes.get(i + 2)) else {
            return false;
        };
        let upper = |c: u8| c.is_ascii_digit() || (b'A'..=b'F').contains(&c);
        if !upper(hi) || !upper(lo) {
            return false;
        }
        let decoded = (hex_value(hi).unwrap_or(0) << 4) | hex_value(lo).unwrap_or(0);
        if is_unreserved(decoded) {
            return false;
        }
        i += 3;
    }
    true
}

/// Decodes then re-encodes one query component into its SigV4 canonical form, borrowing when the
/// raw text already is canonical.
pub(crate) fn canonical_component(raw: &[u8]) -> Cow<'_, [u8]> {
    if is_canonically_encoded(raw) {
        return Cow::Borrowed(raw);
    }
    let decoded = percent_decode(raw);
    let mut out = Vec::with_capacity(decoded.len() + 8);
    encode_into(&mut out, &decoded, false);
    Cow::Owned(out)
}

/// Lowercase hex of a 32-byte digest, on the stack.
pub(crate) fn hex32(digest: &[u8; 32]) -> [u8; 64] {
    let mut out = [0u8; 64];
    for (i, b) in digest.iter().enumerate() {
        out[2 * i] = LOWER_HEX[usize::from(b >> 4)];
        out[2 * i + 1] = LOWER_HEX[usize::from(b & 0x0f)];
    }
    out
}

/// Lowercase hex SHA-256 of `bytes`.
pub(crate) fn sha256_hex(bytes: &[u8]) -> [u8; 64] {
    hex32(&Sha256::digest(bytes).into())
}

/// Views ASCII hex produced by [`hex32`] as a `&str`.
pub(crate) fn hex_str(hex: &[u8; 64]) -> &str {
    std::str::from_utf8(hex).unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(bytes: &[u8], keep_slash: bool) -> String {
        let mut v = Vec::new();
        encode_into(&mut v, bytes, keep_slash);
        String::from_utf8(v).unwrap_or_default()
    }

    #[test]
    fn encodes_everything_but_unreserved() {
        assert_eq!(enc(b"aZ09-._~", false), "aZ09-._~");
        assert_eq!(enc(b"a b+c/d:$", false), "a%20b%2Bc%2Fd%3A%24");
        assert_eq!(enc(b"/a b/%3A", true), "/a%20b/%253A");
        assert_eq!(enc("é".as_bytes(), false), "%C3%A9");
    }

    #[test]
    fn decodes_valid_escapes_and_keeps_the_rest() {
        assert_eq!(&*percent_decode(b"a%20b%2fc"), b"a b/c");
        assert_eq!(&*percent_decode(b"100%"), b"100%");
        assert_eq!(&*percent_decode(b"%zz%4"), b"%zz%4");
        assert_eq!(&*percent_decode(b"a+b"), b"a+b");
    }

    #[test]
    fn canonical_component_normalises() {
        assert_eq!(&*canonical_component(b"%24LATEST"), b"%24LATEST");
        assert!(matches!(
            canonical_component(b"%24LATEST"),
            Cow::Borrowed(_)
        ));
        assert_eq!(&*canonical_component(b"%2aa"), b"%2Aa");
        assert_eq!(&*canonical_component(b"%41"), b"A");
        assert_eq!(&*canonical_component(b"a+b"), b"a%2Bb");
        assert_eq!(&*canonical_component(b"a:b"), b"a%3Ab");
        assert_eq!(&*canonical_component(b"50%"), b"50%25");
    }

    #[test]
    fn hex_is_lowercase() {
        let h = sha256_hex(b"");
        assert_eq!(
            hex_str(&h),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
