//! A small HTTP/1.1 client on hyper's connection API: one persistent TCP connection per worker, no
//! pool, no retries. Requests are built and SigV4-signed before the clock starts, so a measured
//! latency is the time from writing the request to holding the whole response body.

use anyhow::Context;
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The dev access key `lamina serve --dev` accepts (account 000000000000).
const ACCESS_KEY: &str = "test";
const SECRET_KEY: &str = "test";
const REGION: &str = "us-east-1";
const SERVICE: &str = "lambda";

/// Where the server listens, and the `Host` header that names it.
#[derive(Debug, Clone)]
pub struct Endpoint {
    addr: SocketAddr,
    host: HeaderValue,
}

/// One keep-alive connection.
pub struct Conn {
    tx: SendRequest<Full<Bytes>>,
    /// How the connection ended, once its driver task has finished.
    ended: Arc<Mutex<Option<String>>>,
}

/// A response: status and the whole body.
pub struct Reply {
    pub status: StatusCode,
    pub body: Bytes,
}

impl Reply {
    /// Fail unless the status is `want`, quoting the start of the body (AWS errors explain themselves there).
    pub fn expect(self, want: StatusCode, what: &str) -> anyhow::Result<Reply> {
        if self.status == want {
            return Ok(self);
        }
        let end = self.body.len().min(400);
        anyhow::bail!(
            "{what}: expected {want}, got {}: {}",
            self.status,
            String::from_utf8_lossy(&self.body[..end])
        )
    }

    /// The body as JSON.
    pub fn json(&self) -> anyhow::Result<serde_json::Value> {
        serde_json::from_slice(&self.body).context("response body is not JSON")
    }
}

impl Endpoint {
    /// The endpoint of a server listening on `addr`.
    pub fn new(addr: SocketAddr) -> anyhow::Result<Endpoint> {
        Ok(Endpoint {
            addr,
            host: HeaderValue::from_str(&addr.to_string())?,
        })
    }

    /// Open a connection (TCP_NODELAY, HTTP/1.1 keep-alive); its driver runs as a task.
    pub async fn connect(&self) -> anyhow::Result<Conn> {
        let stream = tokio::net::TcpStream::connect(self.addr)
            .await
            .with_context(|| format!("connecting to {}", self.addr))?;
        stream.set_nodelay(true)?;
        let (tx, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        let ended = Arc::new(Mutex::new(None));
        let slot = Arc::clone(&ended);
        tokio::spawn(async move {
            // The connection ends when its `SendRequest` is dropped, or when the server closes it;
            // the reason is kept for the error the next request through it reports.
            let why = match conn.await {
                Ok(()) => "closed by the server".to_owned(),
                Err(e) => format!("{e:?}"),
            };
            if let Ok(mut s) = slot.lock() {
                *s = Some(why);
            }
        });
        Ok(Conn { tx, ended })
    }

    /// An unsigned `GET` (the `/_lamina/*` endpoints need no signature).
    pub fn plain_get(&self, path: &str) -> anyhow::Result<Request<Full<Bytes>>> {
        let mut req = Request::builder()
            .method(Method::GET)
            .uri(path)
            .body(Full::new(Bytes::new()))?;
        req.headers_mut()
            .insert(http::header::HOST, self.host.clone());
        Ok(req)
    }

    /// A request signed with the dev key. `raw_query` is already percent-encoded; a non-empty
    /// `body` is sent as JSON.
    pub fn signed(
        &self,
        method: Method,
        path: &str,
        raw_query: &str,
        body: Bytes,
    ) -> anyhow::Result<Request<Full<Bytes>>> {
        let mut headers = HeaderMap::new();
        headers.insert(http::header::HOST, self.host.clone());
        if !body.is_empty() {
            headers.insert(
                http::header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
        }
        lamina_auth::sign(
            method.as_str(),
            path,
            raw_query,
            &mut headers,
            &body,
            ACCESS_KEY,
            SECRET_KEY,
            REGION,
            SERVICE,
            chrono::Utc::now(),
        );
        let uri = if raw_query.is_empty() {
            path.to_owned()
        } else {
            format!("{path}?{raw_query}")
        };
        let mut req = Request::builder()
            .method(method)
            .uri(uri)
            .body(Full::new(body))?;
        *req.headers_mut() = headers;
        Ok(req)
    }
}

impl Conn {
    /// Send one request and read the whole response; returns it with the time it took. Waiting
    /// for the connection to be ready happens before the clock starts.
    pub async fn send(&mut self, req: Request<Full<Bytes>>) -> anyhow::Result<(Reply, Duration)> {
        if let Err(e) = self.tx.ready().await {
            // Give the driver task a moment to record why it ended.
            tokio::task::yield_now().await;
            let why = self.ended.lock().ok().and_then(|s| s.clone());
            anyhow::bail!(
                "the connection to the server closed ({}): {e}. A server closing its connections \
                 mid-run is usually shutting down: check that nothing else on this machine stops \
                 lamina processes (a `pkill lamina`, say)",
                why.as_deref().unwrap_or("reason unknown")
            );
        }
        let start = Instant::now();
        let resp = self.tx.send_request(req).await?;
        let status = resp.status();
        let body = resp.into_body().collect().await?.to_bytes();
        let took = start.elapsed();
        Ok((Reply { status, body }, took))
    }
}
