//! Harness shared by the integration tests: starts the real `lamina` binary on port 0 with a temporary
//! data directory, signs requests as botocore does, and speaks HTTP/1.1 over a plain `TcpStream`, so a
//! test can also send the bytes no client library would (lying Content-Length, raw garbage).
//!
//! Every test file includes this module and uses a different part of it.
#![allow(dead_code)]

use base64::Engine as _;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The region the `--dev` key signs for by default.
pub const REGION: &str = "us-east-1";
/// The account of the `--dev` key.
pub const ACCOUNT: &str = "000000000000";
/// A role ARN that satisfies the Role pattern.
pub const ROLE: &str = "arn:aws:iam::000000000000:role/lambda-role";

/// How long the server may take to print its address.
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// How long one HTTP exchange may take (large uploads included).
const IO_TIMEOUT: Duration = Duration::from_secs(120);

/// Environment variables the binary reads; cleared so the caller's shell cannot change a test.
const LAMINA_ENV: &[&str] = &[
    "LAMINA_DATA_DIR",
    "LAMINA_MASTER_KEY_FILE",
    "LAMINA_MASTER_KEY",
    "LAMINA_LISTEN",
    "LAMINA_DEV",
    "LAMINA_UPDATE_DELAY_MS",
    "LAMINA_ACCOUNT_CONCURRENCY",
];

/// A running `lamina serve`, killed when dropped.
pub struct Server {
    child: std::cell::RefCell<Option<Child>>,
    /// Where it listens.
    pub addr: SocketAddr,
    data: tempfile::TempDir,
    logs: tempfile::TempDir,
    args: Vec<String>,
    starts: u32,
    /// Credentials `call` signs with.
    pub key: String,
    /// Secret for `key`.
    pub secret: String,
    /// Region `call` signs for.
    pub region: String,
}

impl Server {
    /// `lamina serve --dev --listen 127.0.0.1:0 --data-dir <temp> ARGS…`
    pub fn start(args: &[&str]) -> Server {
        Server::start_with_keys(args, &[])
    }

    /// Like `start`, after `lamina keys create` for each `(account, key id, secret)`.
    pub fn start_with_keys(args: &[&str], keys: &[(&str, &str, &str)]) -> Server {
        let data = tempfile::tempdir().expect("temp data dir");
        let logs = tempfile::tempdir().expect("temp log dir");
        for (account, id, secret) in keys {
            let out = Command::new(env!("CARGO_BIN_EXE_lamina"))
                .args(["keys", "create", "--data-dir"])
                .arg(data.path())
                .args([
                    "--account",
                    account,
                    "--access-key-id",
                    id,
                    "--secret-access-key",
                    secret,
                ])
                .envs_removed()
                .stderr(Stdio::null())
                .output()
                .expect("run lamina keys create");
            assert!(out.status.success(), "lamina keys create failed: {out:?}");
        }
        let mut args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        if !args.iter().any(|a| a == "--dev") {
            args.insert(0, "--dev".into());
        }
        let mut s = Server {
            child: std::cell::RefCell::new(None),
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            data,
            logs,
            args,
            starts: 0,
            key: "test".into(),
            secret: "test".into(),
            region: REGION.into(),
        };
        s.spawn();
        s
    }

    fn spawn(&mut self) {
        self.starts += 1;
        let log =
            std::fs::File::create(self.logs.path().join(format!("server-{}.log", self.starts)))
                .expect("server log file");
        let mut child = Command::new(env!("CARGO_BIN_EXE_lamina"))
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(self.data.path())
            .args(&self.args)
            .envs_removed()
            .env("LAMINA_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .spawn()
            .expect("spawn lamina serve");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            // Forward the address line, then keep draining until the process exits.
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(rest) = line.strip_prefix("lamina listening on http://") {
                    let _ = tx.send(rest.trim().to_string());
                }
            }
        });
        let addr = match rx.recv_timeout(START_TIMEOUT) {
            Ok(a) => a,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("lamina did not start; log:\n{}", self.log_text());
            }
        };
        self.addr = addr.parse().expect("address printed by lamina");
        *self.child.borrow_mut() = Some(child);
    }

    /// The data directory.
    pub fn data_dir(&self) -> &Path {
        self.data.path()
    }

    /// Everything the server processes wrote to stderr so far.
    pub fn log_text(&self) -> String {
        let mut out = String::new();
        for n in 1..=self.starts {
            if let Ok(t) = std::fs::read_to_string(self.logs.path().join(format!("server-{n}.log")))
            {
                out.push_str(&t);
            }
        }
        out
    }

    /// The server's log files.
    pub fn log_files(&self) -> Vec<PathBuf> {
        (1..=self.starts)
            .map(|n| self.logs.path().join(format!("server-{n}.log")))
            .collect()
    }

    /// SIGKILL the process (no graceful shutdown) and reap it.
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.borrow_mut().take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Start again on the same data directory with the same arguments (killing a running one first).
    pub fn restart(&mut self) {
        self.kill9();
        self.spawn();
    }

    /// True while the process has not exited.
    pub fn alive(&mut self) -> bool {
        self.exit_status().is_none() && self.child.borrow().is_some()
    }

    /// How the process ended, if it has.
    pub fn exit_status(&self) -> Option<std::process::ExitStatus> {
        self.child
            .borrow_mut()
            .as_mut()
            .and_then(|c| c.try_wait().ok().flatten())
    }

    /// Panics unless the process is running and `GET /_lamina/health` answers 200.
    pub fn assert_healthy(&mut self, after: &str) {
        assert!(
            self.alive(),
            "the server exited after {after}; log:\n{}",
            self.log_text()
        );
        let r = self.send(&Request::new("GET", "/_lamina/health").unsigned());
        assert_eq!(r.status, 200, "health after {after}: {r:?}");
    }

    /// A signed JSON request with the server's default credentials. `query` is raw (already encoded).
    pub fn call(&self, method: &str, path: &str, query: &str, body: Option<&Value>) -> Resp {
        let mut req = Request::new(method, path).query(query);
        if let Some(b) = body {
            req = req.json(b);
        }
        self.send(&req)
    }

    /// Send a request built with [`Request`].
    pub fn send(&self, req: &Request) -> Resp {
        let (head, body) = req.render(self);
        exchange(self.addr, &head, &body).unwrap_or_else(|e| {
            let log = self.log_text();
            let tail: Vec<&str> = log
                .lines()
                .rev()
                .take(40)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            panic!(
                "{} {}: {e}\nserver process: {:?}\nserver log (tail):\n{}",
                req.method,
                req.path,
                self.exit_status()
                    .map_or("running".to_string(), |st| format!("exited: {st}")),
                tail.join("\n")
            )
        })
    }

    /// The `host` header value clients send.
    pub fn host(&self) -> String {
        self.addr.to_string()
    }

    /// CreateFunction with the minimal valid body for `name`; panics unless 201.
    pub fn create_function(&self, name: &str) -> Value {
        let r = self.call(
            "POST",
            "/2015-03-31/functions",
            "",
            Some(&create_body(name)),
        );
        assert_eq!(r.status, 201, "create {name}: {r:?}");
        r.json
    }

    /// GetFunction.
    pub fn get_function(&self, name: &str) -> Resp {
        self.call(
            "GET",
            &format!("/2015-03-31/functions/{}", enc(name)),
            "",
            None,
        )
    }

    /// Poll GetFunction until `State` is Active and `LastUpdateStatus` Successful, or panic at the deadline.
    pub fn wait_settled(&self, name: &str, deadline: Duration) -> Value {
        let until = Instant::now() + deadline;
        loop {
            let r = self.get_function(name);
            assert_eq!(r.status, 200, "GetFunction {name}: {r:?}");
            let c = &r.json["Configuration"];
            if c["State"] == "Active" && c["LastUpdateStatus"] == "Successful" {
                return r.json;
            }
            assert!(
                c["State"] != "Failed" && c["LastUpdateStatus"] != "Failed",
                "{name} failed: {c}"
            );
            assert!(Instant::now() < until, "{name} did not settle: {c}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill9();
    }
}

trait EnvsRemoved {
    fn envs_removed(&mut self) -> &mut Self;
}

impl EnvsRemoved for Command {
    fn envs_removed(&mut self) -> &mut Self {
        for v in LAMINA_ENV {
            self.env_remove(v);
        }
        self
    }
}

/// How a request is authenticated.
#[derive(Debug, Clone)]
pub enum Auth {
    /// The server's `key`/`secret`/`region`.
    Default,
    /// Other credentials or another region.
    Key {
        /// Access key id.
        id: String,
        /// Secret.
        secret: String,
        /// Region of the credential scope.
        region: String,
    },
    /// No signature at all.
    None,
}

/// One HTTP request, rendered and signed by [`Server::send`].
#[derive(Debug, Clone)]
pub struct Request {
    /// Method.
    pub method: String,
    /// Raw path, as on the request line.
    pub path: String,
    /// Raw query without `?`.
    pub query: String,
    /// Body bytes.
    pub body: Vec<u8>,
    /// `Content-Type`, signed when present.
    pub content_type: Option<String>,
    /// Authentication.
    pub auth: Auth,
    /// Headers added after signing (unsigned).
    pub extra: Vec<(String, String)>,
    /// Applied to the headers after signing, to break a signature on purpose.
    pub tamper: Option<fn(&mut http::HeaderMap)>,
    /// Signing time (default: now).
    pub at: Option<chrono::DateTime<chrono::Utc>>,
    /// Service in the credential scope (default `lambda`).
    pub service: String,
}

impl Request {
    /// A signed request with no body.
    pub fn new(method: &str, path: &str) -> Request {
        Request {
            method: method.into(),
            path: path.into(),
            query: String::new(),
            body: Vec::new(),
            content_type: None,
            auth: Auth::Default,
            extra: Vec::new(),
            tamper: None,
            at: None,
            service: "lambda".into(),
        }
    }

    /// Sign as of `t` instead of now.
    pub fn signed_at(mut self, t: chrono::DateTime<chrono::Utc>) -> Request {
        self.at = Some(t);
        self
    }

    /// Sign for another service.
    pub fn for_service(mut self, service: &str) -> Request {
        self.service = service.into();
        self
    }

    /// Add an unsigned header.
    pub fn header(mut self, name: &str, value: &str) -> Request {
        self.extra.push((name.into(), value.into()));
        self
    }

    /// Set the raw query.
    pub fn query(mut self, q: &str) -> Request {
        self.query = q.into();
        self
    }

    /// A compact JSON body with `Content-Type: application/json`.
    pub fn json(self, v: &Value) -> Request {
        self.bytes(serde_json::to_vec(v).expect("serialize body"))
    }

    /// Raw body bytes with `Content-Type: application/json`.
    pub fn bytes(mut self, b: Vec<u8>) -> Request {
        self.body = b;
        self.content_type = Some("application/json".into());
        self
    }

    /// Send without a signature.
    pub fn unsigned(mut self) -> Request {
        self.auth = Auth::None;
        self
    }

    /// Sign with other credentials or for another region.
    pub fn signed_as(mut self, id: &str, secret: &str, region: &str) -> Request {
        self.auth = Auth::Key {
            id: id.into(),
            secret: secret.into(),
            region: region.into(),
        };
        self
    }

    /// Change the signed headers after signing.
    pub fn tampered(mut self, f: fn(&mut http::HeaderMap)) -> Request {
        self.tamper = Some(f);
        self
    }

    /// The request head and body as they go on the wire.
    pub fn render(&self, server: &Server) -> (Vec<u8>, Vec<u8>) {
        let mut headers = http::HeaderMap::new();
        headers.insert(
            http::header::HOST,
            http::HeaderValue::from_str(&server.host()).expect("host header"),
        );
        if let Some(ct) = &self.content_type {
            headers.insert(
                http::header::CONTENT_TYPE,
                http::HeaderValue::from_str(ct).expect("content-type"),
            );
        }
        let creds = match &self.auth {
            Auth::Default => Some((
                server.key.clone(),
                server.secret.clone(),
                server.region.clone(),
            )),
            Auth::Key { id, secret, region } => Some((id.clone(), secret.clone(), region.clone())),
            Auth::None => None,
        };
        if let Some((id, secret, region)) = creds {
            lamina_auth::sign(
                &self.method,
                &self.path,
                &self.query,
                &mut headers,
                &self.body,
                &id,
                &secret,
                &region,
                &self.service,
                self.at.unwrap_or_else(chrono::Utc::now),
            );
        }
        if let Some(f) = self.tamper {
            f(&mut headers);
        }
        let target = if self.query.is_empty() {
            self.path.clone()
        } else {
            format!("{}?{}", self.path, self.query)
        };
        let mut head = format!("{} {} HTTP/1.1\r\n", self.method, target).into_bytes();
        for (name, value) in &headers {
            head.extend_from_slice(name.as_str().as_bytes());
            head.extend_from_slice(b": ");
            head.extend_from_slice(value.as_bytes());
            head.extend_from_slice(b"\r\n");
        }
        for (name, value) in &self.extra {
            head.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
        }
        if !self
            .extra
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        {
            head.extend_from_slice(format!("content-length: {}\r\n", self.body.len()).as_bytes());
        }
        head.extend_from_slice(b"accept-encoding: identity\r\nconnection: close\r\n\r\n");
        (head, self.body.clone())
    }
}

/// A response as read off the wire.
#[derive(Clone)]
pub struct Resp {
    /// Status code.
    pub status: u16,
    /// Headers in order, names as sent.
    pub headers: Vec<(String, String)>,
    /// Body bytes (chunked encoding removed).
    pub body: Vec<u8>,
    /// The body parsed as JSON, or `Null` when empty or not JSON.
    pub json: Value,
}

impl std::fmt::Debug for Resp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let body = String::from_utf8_lossy(&self.body);
        let shown: String = body.chars().take(600).collect();
        write!(
            f,
            "HTTP {} [x-amzn-ErrorType: {:?}] {}",
            self.status,
            self.header("x-amzn-ErrorType"),
            shown
        )
    }
}

impl Resp {
    /// A header value, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Write one request on a new connection and read the response until the server closes it.
pub fn exchange(addr: SocketAddr, head: &[u8], body: &[u8]) -> std::io::Result<Resp> {
    let raw = exchange_raw(addr, head, body, false)?;
    parse_response(&raw).ok_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!(
                "unparseable response: {:?}",
                String::from_utf8_lossy(&raw[..raw.len().min(300)])
            ),
        )
    })
}

/// Write bytes, optionally half-close, and read whatever comes back until EOF. A write that fails
/// because the server already answered and closed is not an error: the answer is still read.
pub fn exchange_raw(
    addr: SocketAddr,
    head: &[u8],
    body: &[u8],
    half_close: bool,
) -> std::io::Result<Vec<u8>> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(10))?;
    s.set_read_timeout(Some(IO_TIMEOUT))?;
    s.set_write_timeout(Some(IO_TIMEOUT))?;
    let wrote = s.write_all(head).and_then(|_| s.write_all(body));
    if half_close {
        let _ = s.shutdown(Shutdown::Write);
    }
    let mut out = Vec::new();
    let read = s.read_to_end(&mut out);
    match (wrote, read) {
        (_, Ok(_)) => Ok(out),
        (_, Err(_)) if !out.is_empty() => Ok(out),
        (Err(w), Err(_)) => Err(w),
        (Ok(()), Err(r)) => Err(r),
    }
}

/// Parse an HTTP/1.1 response (Content-Length, chunked, or read-to-close bodies).
pub fn parse_response(raw: &[u8]) -> Option<Resp> {
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&raw[..end]).ok()?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next()?;
    let status: u16 = status_line.split(' ').nth(1)?.parse().ok()?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        .collect();
    let rest = &raw[end + 4..];
    let find = |n: &str| {
        headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(n))
            .map(|(_, v)| v.clone())
    };
    let body = if find("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        dechunk(rest)?
    } else if let Some(n) = find("content-length").and_then(|v| v.parse::<usize>().ok()) {
        rest.get(..n)?.to_vec()
    } else {
        rest.to_vec()
    };
    let json = serde_json::from_slice(&body).unwrap_or(Value::Null);
    Some(Resp {
        status,
        headers,
        body,
        json,
    })
}

fn dechunk(mut b: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let eol = b.windows(2).position(|w| w == b"\r\n")?;
        let size_text = std::str::from_utf8(&b[..eol]).ok()?;
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        b = &b[eol + 2..];
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(b.get(..size)?);
        b = b.get(size + 2..)?;
    }
}

/// Percent-encode a path label or query value as botocore does (only `A-Za-z0-9-._~` bare).
pub fn enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Standard padded base64.
pub fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The smallest valid CreateFunction body for `name`.
pub fn create_body(name: &str) -> Value {
    json!({
        "FunctionName": name,
        "Role": ROLE,
        "Runtime": "python3.12",
        "Handler": "index.handler",
        "Code": { "ZipFile": b64(&hello_zip()) },
    })
}

/// A small valid deployment package.
pub fn hello_zip() -> Vec<u8> {
    zip_of(&[(
        "index.py",
        b"def handler(event, context):\n    return event\n".as_slice(),
    )])
}

/// A deflated zip with these entries, names written exactly as given.
pub fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, data) in entries {
        w.start_file(*name, opts).expect("start zip entry");
        w.write_all(data).expect("write zip entry");
    }
    w.finish().expect("finish zip").into_inner()
}

/// A zip that inflates to more than `over` bytes while staying tiny: one deflated MiB of zeros, copied
/// raw (still compressed, CRC intact) under as many names as it takes.
pub fn bomb_zip(over: u64) -> Vec<u8> {
    const MIB: usize = 1 << 20;
    let seed = zip_of(&[("zeros", vec![0u8; MIB].as_slice())]);
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(seed)).expect("seed zip");
    let copies = over / MIB as u64 + 1;
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for i in 0..copies {
        let entry = archive.by_index_raw(0).expect("seed entry");
        w.raw_copy_file_rename(entry, format!("zeros-{i:04}"))
            .expect("copy entry");
    }
    w.finish().expect("finish bomb").into_inner()
}

/// A valid zip of exactly `total` bytes: one stored entry of pseudo-random bytes.
pub fn zip_of_exact_size(total: usize) -> Vec<u8> {
    let stored = |n: usize| {
        let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        w.start_file("blob.bin", opts).expect("start entry");
        w.write_all(&Rng::new(n as u64).bytes(n))
            .expect("write entry");
        w.finish().expect("finish zip").into_inner()
    };
    let overhead = stored(16).len() - 16;
    let z = stored(total - overhead);
    assert_eq!(z.len(), total, "zip framing changed with size");
    z
}

/// Remove every `Location` member (presigned URLs that change every second) before comparing reads.
pub fn without_locations(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(k, _)| k.as_str() != "Location")
                .map(|(k, v)| (k.clone(), without_locations(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(without_locations).collect()),
        other => other.clone(),
    }
}

/// Which key carries an error's message, and whether `"Type":"User"` comes with it (§0.3).
pub fn error_framing(error_type: &str) -> (&'static str, bool) {
    match error_type {
        "ResourceNotFoundException" | "ResourceInUseException" => ("Message", true),
        "InvalidParameterValueException"
        | "ResourceConflictException"
        | "PreconditionFailedException"
        | "CodeStorageExceededException"
        | "PolicyLengthExceededException"
        | "TooManyRequestsException" => ("message", true),
        _ => ("message", false),
    }
}

/// Compare an error response with the expected status, `x-amzn-ErrorType` and exact message.
pub fn check_error(r: &Resp, status: u16, error_type: &str, message: &str) -> Result<(), String> {
    check_error_by(r, status, error_type, |m| m == message, message)
}

/// Like `check_error`, but the message need only start with `prefix`.
pub fn check_error_prefix(
    r: &Resp,
    status: u16,
    error_type: &str,
    prefix: &str,
) -> Result<(), String> {
    check_error_by(r, status, error_type, |m| m.starts_with(prefix), prefix)
}

fn check_error_by(
    r: &Resp,
    status: u16,
    error_type: &str,
    ok: impl Fn(&str) -> bool,
    shown: &str,
) -> Result<(), String> {
    let (key, typed) = error_framing(error_type);
    let other = if key == "message" {
        "Message"
    } else {
        "message"
    };
    let mut problems = Vec::new();
    if r.status != status {
        problems.push(format!("status {} (want {status})", r.status));
    }
    if r.header("x-amzn-ErrorType") != Some(error_type) {
        problems.push(format!(
            "x-amzn-ErrorType {:?} (want {error_type})",
            r.header("x-amzn-ErrorType")
        ));
    }
    if r.header("x-amzn-RequestId").is_none_or(str::is_empty) {
        problems.push("no x-amzn-RequestId".into());
    }
    if r.header("content-type") != Some("application/json") {
        problems.push(format!("content-type {:?}", r.header("content-type")));
    }
    match r.json[key].as_str() {
        Some(m) if ok(m) => {}
        Some(m) => problems.push(format!("{key} {m:?}\n      want {shown:?}")),
        None => problems.push(format!("no {key:?} member (want {shown:?})")),
    }
    if !r.json[other].is_null() {
        problems.push(format!("unexpected {other:?} member"));
    }
    match (typed, r.json["Type"].as_str()) {
        (true, Some("User")) | (false, None) => {}
        (true, t) => problems.push(format!("Type {t:?} (want \"User\")")),
        (false, Some(t)) => problems.push(format!("unexpected Type {t:?}")),
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!("{}; got {r:?}", problems.join("; ")))
    }
}

/// Panic unless `r` is the expected error.
#[track_caller]
pub fn expect_error(r: &Resp, status: u16, error_type: &str, message: &str) {
    if let Err(e) = check_error(r, status, error_type, message) {
        panic!("{e}");
    }
}

/// A small deterministic generator (SplitMix64), so random tests replay from their seed.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// Seeded.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// True with probability 1/n.
    pub fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == 0
    }

    /// One element of a non-empty slice.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// `n` random bytes.
    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(n + 8);
        while out.len() < n {
            out.extend_from_slice(&self.next_u64().to_le_bytes());
        }
        out.truncate(n);
        out
    }

    /// A string of `n` characters drawn from `alphabet`.
    pub fn string_from(&mut self, alphabet: &[char], n: usize) -> String {
        (0..n).map(|_| *self.pick(alphabet)).collect()
    }
}
