//! The operations a scenario repeats, and the loop that runs them from concurrent tokio tasks,
//! each over its own connection, bounded by a count and a deadline.

use crate::client::{Conn, Endpoint};
use crate::package::Payload;
use anyhow::Context;
use base64::Engine;
use bytes::Bytes;
use http::{Method, StatusCode};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Characters SigV4 leaves unescaped in a query value; everything else is percent-encoded.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Most pages a paginated listing may take before the harness calls it a loop.
const MAX_PAGES: usize = 10_000;

/// The name of the `i`th function of the bulk-created fleet.
pub fn fleet_name(i: usize) -> String {
    format!("bench-fn-{i:05}")
}

/// One repeatable operation. `i` (a sequence number shared by all workers of a phase) picks the
/// function it acts on or names the one it creates.
pub enum Op {
    /// `GET /_lamina/health`, unsigned: the plain-HTTP floor.
    Health,
    /// GetFunction on fleet function `i % fleet`.
    GetFunction { fleet: usize },
    /// The first page of ListFunctions (`MaxItems=50`).
    ListPage,
    /// Every page of ListFunctions (`MaxItems=50`), checked to total `expect`; the time is the sum
    /// of the page requests (the client's JSON parsing between pages is not counted).
    ListAll { expect: usize },
    /// GetAccountSettings.
    AccountSettings,
    /// UpdateFunctionConfiguration (untimed) so that `$LATEST` differs from its newest version,
    /// then PublishVersion (timed), which must create a new version. Fleet function `i % fleet`.
    Publish { fleet: usize },
    /// PublishVersion with nothing changed since the last publish (AWS returns the existing
    /// version). Fleet function `i % fleet`.
    PublishUnchanged { fleet: usize },
    /// CreateFunction named `{prefix}{i:05}` with a package of `payload` (tagged with the name).
    Create {
        prefix: &'static str,
        payload: Arc<Payload>,
    },
    /// Invoke (RequestResponse) function `name` with the event `{}`; the response body must be
    /// `expect` exactly (a function error or a platform error would differ).
    Invoke { name: String, expect: Bytes },
}

impl Op {
    /// Perform operation `i` over `conn`; returns the measured time.
    async fn perform(&self, ep: &Endpoint, conn: &mut Conn, i: usize) -> anyhow::Result<Duration> {
        match self {
            Op::Health => {
                let (reply, took) = conn.send(ep.plain_get("/_lamina/health")?).await?;
                reply.expect(StatusCode::OK, "health")?;
                Ok(took)
            }
            Op::GetFunction { fleet } => {
                let path = format!("/2015-03-31/functions/{}", fleet_name(i % fleet));
                let req = ep.signed(Method::GET, &path, "", Bytes::new())?;
                let (reply, took) = conn.send(req).await?;
                reply.expect(StatusCode::OK, "GetFunction")?;
                Ok(took)
            }
            Op::ListPage => {
                let req = ep.signed(
                    Method::GET,
                    "/2015-03-31/functions",
                    "MaxItems=50",
                    Bytes::new(),
                )?;
                let (reply, took) = conn.send(req).await?;
                let reply = reply.expect(StatusCode::OK, "ListFunctions")?;
                let n = page_len(&reply.json()?)?;
                anyhow::ensure!(n == 50, "ListFunctions returned {n} functions, not 50");
                Ok(took)
            }
            Op::ListAll { expect } => {
                let mut total = Duration::ZERO;
                let mut seen = 0;
                let mut marker: Option<String> = None;
                for _ in 0..MAX_PAGES {
                    let query = match &marker {
                        None => "MaxItems=50".to_owned(),
                        Some(m) => {
                            format!("Marker={}&MaxItems=50", utf8_percent_encode(m, QUERY_VALUE))
                        }
                    };
                    let req =
                        ep.signed(Method::GET, "/2015-03-31/functions", &query, Bytes::new())?;
                    let (reply, took) = conn.send(req).await?;
                    total += took;
                    let page = reply.expect(StatusCode::OK, "ListFunctions")?.json()?;
                    seen += page_len(&page)?;
                    match page.get("NextMarker").and_then(|m| m.as_str()) {
                        Some(m) => marker = Some(m.to_owned()),
                        None => {
                            anyhow::ensure!(
                                seen == *expect,
                                "a full listing returned {seen} functions, expected {expect}"
                            );
                            return Ok(total);
                        }
                    }
                }
                anyhow::bail!("ListFunctions did not finish within {MAX_PAGES} pages")
            }
            Op::AccountSettings => {
                let req = ep.signed(
                    Method::GET,
                    "/2016-08-19/account-settings/",
                    "",
                    Bytes::new(),
                )?;
                let (reply, took) = conn.send(req).await?;
                reply.expect(StatusCode::OK, "GetAccountSettings")?;
                Ok(took)
            }
            Op::Publish { fleet } => {
                let name = fleet_name(i % fleet);
                let round = i / fleet;
                // Timeout differs from every earlier round's, so the publish has something to snapshot.
                let update = serde_json::json!({ "Timeout": 10 + (round % 800) });
                let req = ep.signed(
                    Method::PUT,
                    &format!("/2015-03-31/functions/{name}/configuration"),
                    "",
                    Bytes::from(serde_json::to_vec(&update)?),
                )?;
                conn.send(req)
                    .await?
                    .0
                    .expect(StatusCode::OK, "UpdateFunctionConfiguration")?;
                let before = newest_version(ep, conn, &name).await?;
                let (reply, took) = publish(ep, conn, &name).await?;
                let version = version_of(&reply)?;
                anyhow::ensure!(
                    version != before,
                    "PublishVersion after a configuration change returned the existing version {version}"
                );
                Ok(took)
            }
            Op::PublishUnchanged { fleet } => {
                let name = fleet_name(i % fleet);
                let before = newest_version(ep, conn, &name).await?;
                let (reply, took) = publish(ep, conn, &name).await?;
                let version = version_of(&reply)?;
                anyhow::ensure!(
                    version == before,
                    "PublishVersion with nothing changed created version {version} (newest was {before})"
                );
                Ok(took)
            }
            Op::Create { prefix, payload } => {
                let name = format!("{prefix}{i:05}");
                let zip = payload.zip(&name)?;
                let body = serde_json::json!({
                    "FunctionName": name,
                    "Runtime": "python3.12",
                    "Handler": "app.handler",
                    "Role": "arn:aws:iam::000000000000:role/r",
                    "Code": { "ZipFile": base64::engine::general_purpose::STANDARD.encode(&zip) },
                });
                drop(zip);
                let body = Bytes::from(serde_json::to_vec(&body)?);
                let req = ep.signed(Method::POST, "/2015-03-31/functions", "", body)?;
                let (reply, took) = conn.send(req).await?;
                reply.expect(StatusCode::CREATED, "CreateFunction")?;
                Ok(took)
            }
            Op::Invoke { name, expect } => {
                let req = ep.signed(
                    Method::POST,
                    &format!("/2015-03-31/functions/{name}/invocations"),
                    "",
                    Bytes::from_static(b"{}"),
                )?;
                let (reply, took) = conn.send(req).await?;
                let reply = reply.expect(StatusCode::OK, "Invoke")?;
                anyhow::ensure!(
                    reply.body == *expect,
                    "Invoke of {name} returned {:?}, expected {:?}",
                    String::from_utf8_lossy(&reply.body[..reply.body.len().min(400)]),
                    String::from_utf8_lossy(expect)
                );
                Ok(took)
            }
        }
    }
}

fn page_len(page: &serde_json::Value) -> anyhow::Result<usize> {
    page.get("Functions")
        .and_then(|f| f.as_array())
        .map(Vec::len)
        .context("ListFunctions reply has no Functions array")
}

fn version_of(reply: &crate::client::Reply) -> anyhow::Result<String> {
    reply
        .json()?
        .get("Version")
        .and_then(|v| v.as_str())
        .map(str::to_owned)
        .context("PublishVersion reply has no Version")
}

async fn publish(
    ep: &Endpoint,
    conn: &mut Conn,
    name: &str,
) -> anyhow::Result<(crate::client::Reply, Duration)> {
    let req = ep.signed(
        Method::POST,
        &format!("/2015-03-31/functions/{name}/versions"),
        "",
        Bytes::from_static(b"{}"),
    )?;
    let (reply, took) = conn.send(req).await?;
    Ok((reply.expect(StatusCode::CREATED, "PublishVersion")?, took))
}

/// The highest published version of `name` ("$LATEST" when none), untimed.
async fn newest_version(ep: &Endpoint, conn: &mut Conn, name: &str) -> anyhow::Result<String> {
    let req = ep.signed(
        Method::GET,
        &format!("/2015-03-31/functions/{name}/versions"),
        "MaxItems=50",
        Bytes::new(),
    )?;
    let reply = conn
        .send(req)
        .await?
        .0
        .expect(StatusCode::OK, "ListVersionsByFunction")?;
    let page = reply.json()?;
    let newest = page
        .get("Versions")
        .and_then(|v| v.as_array())
        .into_iter()
        .flatten()
        .filter_map(|v| v.get("Version").and_then(|s| s.as_str()))
        .filter_map(|s| s.parse::<u64>().ok())
        .max();
    Ok(newest.map_or_else(|| "$LATEST".to_owned(), |n| n.to_string()))
}

/// What a phase measured.
pub struct Measured {
    /// One latency per completed operation.
    pub samples: Vec<Duration>,
    /// Wall-clock time of the whole phase, client-side preparation included.
    pub wall: Duration,
    /// Operations asked for; fewer completed when the deadline passed first.
    pub asked: usize,
}

impl Measured {
    /// Did the deadline cut the phase short?
    pub fn truncated(&self) -> bool {
        self.samples.len() < self.asked
    }
}

/// Run operations `range` of `op` from `conns.len()` concurrent tasks, each with its own
/// connection; no new operation starts after `limit` has passed. A phase bounded by time alone
/// passes an open-ended range (`0..usize::MAX`) and ignores [`Measured::truncated`]. Returns the connections for
/// the next phase. The first failed operation fails the phase.
pub async fn drive(
    ep: &Endpoint,
    op: &Arc<Op>,
    conns: Vec<Conn>,
    range: std::ops::Range<usize>,
    limit: Duration,
) -> anyhow::Result<(Vec<Conn>, Measured)> {
    let asked = range.len();
    let next = Arc::new(AtomicUsize::new(range.start));
    let start = Instant::now();
    let deadline = start + limit;
    let mut tasks = Vec::with_capacity(conns.len());
    for mut conn in conns {
        let (ep, op, next) = (ep.clone(), Arc::clone(op), Arc::clone(&next));
        let end = range.end;
        tasks.push(tokio::spawn(async move {
            let mut samples = Vec::new();
            loop {
                if Instant::now() >= deadline {
                    break;
                }
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= end {
                    break;
                }
                let took = op.perform(&ep, &mut conn, i).await.with_context(|| {
                    format!("operation {i}, {:?} into the phase", start.elapsed())
                })?;
                samples.push(took);
            }
            anyhow::Ok((conn, samples))
        }));
    }
    let mut conns = Vec::with_capacity(tasks.len());
    let mut samples = Vec::with_capacity(asked.min(1 << 16));
    let mut failure = None;
    for task in tasks {
        match task.await.context("a load task panicked")? {
            Ok((conn, s)) => {
                conns.push(conn);
                samples.extend(s);
            }
            Err(e) => failure = failure.or(Some(e)),
        }
    }
    if let Some(e) = failure {
        return Err(e);
    }
    Ok((
        conns,
        Measured {
            samples,
            wall: start.elapsed(),
            asked,
        },
    ))
}
