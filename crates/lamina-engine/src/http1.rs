//! A small HTTP/1.1 server side for the Runtime API: exactly what runtime clients send (Content-Length or
//! chunked bodies with trailers, keep-alive, several requests per connection) and responses written with
//! the header casing AWS uses (some shell bootstraps match header names case-sensitively).
//!
//! The peer is function code, so everything here is bounded: header block size, header count, body size.

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Largest header block accepted (the X-Ray cause header alone can be several KB).
const MAX_HEAD: usize = 256 * 1024;
const MAX_HEADERS: usize = 100;

/// A parsed request.
#[derive(Debug)]
pub struct Request {
    /// Method.
    pub method: String,
    /// Path (query stripped).
    pub path: String,
    /// Headers and trailers, names lowercased.
    pub headers: Vec<(String, String)>,
    /// Body (possibly truncated to the limit; see `too_large`).
    pub body: Bytes,
    /// The body exceeded the limit it was read with.
    pub too_large: bool,
}

impl Request {
    /// A header or trailer value by lowercase name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Why reading a request stopped.
#[derive(Debug)]
pub enum ReadError {
    /// The peer closed the connection between requests.
    Closed,
    /// The request was malformed or over a bound; the connection must close.
    Bad(&'static str),
    /// I/O failure.
    Io(#[allow(dead_code)] std::io::Error),
}

impl From<std::io::Error> for ReadError {
    fn from(e: std::io::Error) -> Self {
        ReadError::Io(e)
    }
}

async fn read_line<R: AsyncBufReadExt + Unpin>(
    r: &mut R,
    buf: &mut Vec<u8>,
    budget: &mut usize,
) -> Result<usize, ReadError> {
    buf.clear();
    let n = (&mut *r)
        .take(*budget as u64 + 1)
        .read_until(b'\n', buf)
        .await?;
    if n > *budget {
        return Err(ReadError::Bad("header block too large"));
    }
    *budget -= n;
    Ok(n)
}

fn trim_crlf(b: &[u8]) -> &[u8] {
    let b = b.strip_suffix(b"\n").unwrap_or(b);
    b.strip_suffix(b"\r").unwrap_or(b)
}

fn parse_header(line: &[u8]) -> Result<(String, String), ReadError> {
    let text = std::str::from_utf8(line).map_err(|_| ReadError::Bad("header not UTF-8"))?;
    let (k, v) = text
        .split_once(':')
        .ok_or(ReadError::Bad("malformed header"))?;
    Ok((k.trim().to_ascii_lowercase(), v.trim().to_string()))
}

/// Read one request; bodies beyond `max_body` are drained (up to 4× the limit) and flagged `too_large`.
pub async fn read_request<R: AsyncBufReadExt + Unpin>(
    r: &mut R,
    max_body: usize,
) -> Result<Request, ReadError> {
    let mut budget = MAX_HEAD;
    let mut line = Vec::with_capacity(256);
    // Tolerate stray blank lines between requests.
    loop {
        if read_line(r, &mut line, &mut budget).await? == 0 {
            return Err(ReadError::Closed);
        }
        if !trim_crlf(&line).is_empty() {
            break;
        }
    }
    let start = std::str::from_utf8(trim_crlf(&line))
        .map_err(|_| ReadError::Bad("request line not UTF-8"))?
        .to_string();
    let mut parts = start.split(' ');
    let method = parts.next().unwrap_or_default().to_string();
    let target = parts.next().ok_or(ReadError::Bad("no request target"))?;
    let path = target.split('?').next().unwrap_or_default().to_string();
    let mut headers = Vec::new();
    loop {
        if read_line(r, &mut line, &mut budget).await? == 0 {
            return Err(ReadError::Bad("connection closed inside headers"));
        }
        let l = trim_crlf(&line);
        if l.is_empty() {
            break;
        }
        if headers.len() >= MAX_HEADERS {
            return Err(ReadError::Bad("too many headers"));
        }
        headers.push(parse_header(l)?);
    }
    let find =
        |h: &Vec<(String, String)>, n: &str| h.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
    let chunked = find(&headers, "transfer-encoding")
        .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
    let mut body = BytesMut::new();
    let mut too_large = false;
    let drain_cap = max_body.saturating_mul(4).max(1 << 20);
    if chunked {
        let mut total = 0usize;
        loop {
            if read_line(r, &mut line, &mut budget).await? == 0 {
                return Err(ReadError::Bad("connection closed inside chunked body"));
            }
            budget = MAX_HEAD; // chunk-size lines do not consume the header budget
            let size_text = std::str::from_utf8(trim_crlf(&line))
                .map_err(|_| ReadError::Bad("bad chunk size"))?;
            let size_hex = size_text.split(';').next().unwrap_or("").trim();
            let size = usize::from_str_radix(size_hex, 16)
                .map_err(|_| ReadError::Bad("bad chunk size"))?;
            if size == 0 {
                // Trailers, then the final blank line.
                loop {
                    if read_line(r, &mut line, &mut budget).await? == 0 {
                        break;
                    }
                    let l = trim_crlf(&line);
                    if l.is_empty() {
                        break;
                    }
                    if headers.len() < MAX_HEADERS {
                        headers.push(parse_header(l)?);
                    }
                }
                break;
            }
            total = total.saturating_add(size);
            if total > drain_cap {
                return Err(ReadError::Bad("body far over the limit"));
            }
            let mut chunk = vec![0u8; size];
            r.read_exact(&mut chunk).await?;
            if total > max_body {
                too_large = true;
            } else {
                body.extend_from_slice(&chunk);
            }
            read_line(r, &mut line, &mut budget).await?; // CRLF after the chunk
        }
    } else if let Some(len) = find(&headers, "content-length") {
        let len: usize = len
            .parse()
            .map_err(|_| ReadError::Bad("bad content-length"))?;
        if len > drain_cap {
            return Err(ReadError::Bad("body far over the limit"));
        }
        if len > max_body {
            too_large = true;
            tokio::io::copy(&mut (&mut *r).take(len as u64), &mut tokio::io::sink()).await?;
        } else {
            body.resize(len, 0);
            r.read_exact(&mut body).await?;
        }
    }
    Ok(Request {
        method,
        path,
        headers,
        body: body.freeze(),
        too_large,
    })
}

/// Write a response with the given (case-preserved) headers.
pub async fn write_response<W: AsyncWrite + Unpin>(
    w: &mut W,
    status: u16,
    reason: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> std::io::Result<()> {
    let mut head = String::with_capacity(256);
    head.push_str("HTTP/1.1 ");
    head.push_str(&status.to_string());
    head.push(' ');
    head.push_str(reason);
    head.push_str("\r\n");
    for (k, v) in headers {
        head.push_str(k);
        head.push_str(": ");
        head.push_str(v);
        head.push_str("\r\n");
    }
    head.push_str("Content-Length: ");
    head.push_str(&body.len().to_string());
    head.push_str("\r\n\r\n");
    if body.len() <= 16 * 1024 {
        let mut all = head.into_bytes();
        all.extend_from_slice(body);
        w.write_all(&all).await?;
    } else {
        w.write_all(head.as_bytes()).await?;
        w.write_all(body).await?;
    }
    w.flush().await
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::BufReader;

    async fn parse(raw: &[u8], max: usize) -> Result<Request, ReadError> {
        let mut r = BufReader::new(raw);
        read_request(&mut r, max).await
    }

    #[tokio::test]
    async fn content_length_and_keepalive() {
        let raw = b"POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabcGET /b?x=1 HTTP/1.1\r\n\r\n";
        let mut r = BufReader::new(&raw[..]);
        let a = read_request(&mut r, 10).await.expect("first");
        assert_eq!(
            (a.method.as_str(), a.path.as_str(), &a.body[..]),
            ("POST", "/a", &b"abc"[..])
        );
        let b = read_request(&mut r, 10).await.expect("second");
        assert_eq!((b.method.as_str(), b.path.as_str()), ("GET", "/b"));
        assert!(matches!(
            read_request(&mut r, 10).await,
            Err(ReadError::Closed)
        ));
    }

    #[tokio::test]
    async fn chunked_with_trailers() {
        let raw = b"POST /r HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTrailer: Lambda-Runtime-Function-Error-Type\r\n\r\n3\r\nabc\r\n2;ext=1\r\nde\r\n0\r\nLambda-Runtime-Function-Error-Type: Runtime.X\r\n\r\n";
        let r = parse(raw, 100).await.expect("chunked");
        assert_eq!(&r.body[..], b"abcde");
        assert_eq!(
            r.header("lambda-runtime-function-error-type"),
            Some("Runtime.X")
        );
    }

    #[tokio::test]
    async fn over_limit_is_flagged_and_garbage_is_rejected() {
        let r = parse(
            b"POST / HTTP/1.1\r\nContent-Length: 20\r\n\r\n01234567890123456789",
            10,
        )
        .await
        .expect("drained");
        assert!(r.too_large && r.body.is_empty());
        assert!(matches!(
            parse(b"POST / HTTP/1.1\r\nContent-Length: x\r\n\r\n", 10).await,
            Err(ReadError::Bad(_))
        ));
        assert!(matches!(
            parse(b"GET\r\n\r\n", 10).await,
            Err(ReadError::Bad(_))
        ));
        assert!(matches!(
            parse(
                b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
                10
            )
            .await,
            Err(ReadError::Bad(_))
        ));
        let huge = format!("GET / HTTP/1.1\r\nX: {}\r\n\r\n", "a".repeat(MAX_HEAD + 10));
        assert!(matches!(
            parse(huge.as_bytes(), 10).await,
            Err(ReadError::Bad(_))
        ));
    }
}
