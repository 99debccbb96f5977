//! The HTTP edge: one handler for every request. It bounds the body, authenticates, routes, runs the
//! operation on the blocking pool and frames the reply (`x-amzn-RequestId` on every response).

use crate::error::{ApiError, ApiResult};
use crate::input::{parse_query, Input};
use crate::routes::{route, Route};
use crate::state::AppState;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, Request, Response, StatusCode};
use lamina_model::LambdaError;
use std::sync::Arc;

/// Who is calling, and where: fixed by the verified signature.
#[derive(Debug, Clone)]
pub struct Ctx {
    /// Account the caller acts in.
    pub account: String,
    /// Region from the credential scope.
    pub region: String,
    /// The caller's principal ARN.
    pub principal: String,
    /// The `Host` the caller used (for URLs Lamina hands back).
    pub host: String,
}

/// A successful operation's reply.
#[derive(Debug)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// JSON body, if any.
    pub body: Option<serde_json::Value>,
    /// A raw body instead (Invoke), sent as `application/json`.
    pub raw: Option<bytes::Bytes>,
    /// Extra response headers.
    pub headers: Vec<(&'static str, String)>,
}

/// What the blocking half of a request produced: a finished reply, or an invocation to run.
#[derive(Debug)]
pub enum Step {
    /// Done.
    Done(Reply),
    /// Run this on the engine, then reply.
    Invoke(Box<crate::ops::invoke::Plan>),
}

impl Reply {
    /// 200 with a JSON body.
    pub fn ok(v: serde_json::Value) -> ApiResult<Reply> {
        Ok(Reply::json(200, Some(v)))
    }
    /// 201 with a JSON body.
    pub fn created(v: serde_json::Value) -> ApiResult<Reply> {
        Ok(Reply::json(201, Some(v)))
    }
    /// 204, no body.
    pub fn no_content() -> ApiResult<Reply> {
        Ok(Reply::json(204, None))
    }
    /// A JSON (or empty) reply.
    pub fn json(status: u16, body: Option<serde_json::Value>) -> Reply {
        Reply {
            status,
            body,
            raw: None,
            headers: Vec::new(),
        }
    }
}

/// Longest time a request body may take to arrive.
const BODY_READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(120);

/// The axum application.
pub fn app(state: Arc<AppState>) -> axum::Router {
    axum::Router::new().fallback(handle).with_state(state)
}

async fn handle(State(state): State<Arc<AppState>>, req: Request<Body>) -> Response<Body> {
    let request_id = uuid::Uuid::new_v4().to_string();
    let (parts, body) = req.into_parts();
    let path = parts.uri.path().to_string();
    let raw_query = parts.uri.query().unwrap_or("").to_string();

    if path == "/_lamina/health" {
        return respond(
            &request_id,
            Ok(Reply::json(200, Some(serde_json::json!({"status": "ok"})))),
        );
    }
    if path == "/_lamina/metrics" {
        // Numbers only (no names): environment counts and cold-start timings, for the benchmark harness.
        let cold = state.engine.cold_starts();
        let body = serde_json::json!({ "idle_environments": state.engine.idle_count(), "cold_starts": cold });
        return respond(&request_id, Ok(Reply::json(200, Some(body))));
    }
    if let Some(rest) = path.strip_prefix("/_lamina/code/") {
        return crate::code::serve(&state, rest, &raw_query).await;
    }

    let query = parse_query(&raw_query);
    let matched = route(&parts.method, &path, &query);
    let limit = matched
        .as_ref()
        .map_or(lamina_model::limits::REQUEST_MAX, |r| r.op.body_limit());
    let reported = matched
        .as_ref()
        .map_or(lamina_model::limits::REQUEST_MAX, |r| r.op.reported_limit());
    let too_large = || {
        let op = matched.as_ref().map_or("the", |r| r.op.name());
        ApiError::Lambda(LambdaError::TooLarge(format!(
            "Request must be smaller than {reported} bytes for the {op} operation"
        )))
    };
    let declared = parts
        .headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return respond(&request_id, Err(too_large()));
    }
    // A client that stops sending mid-body does not hold a connection forever.
    let read = tokio::time::timeout(BODY_READ_TIMEOUT, axum::body::to_bytes(body, limit)).await;
    let read = match read {
        Ok(r) => r,
        Err(_) => {
            let err = ApiError::Lambda(LambdaError::Serialization(
                "Timed out reading the request body.".into(),
            ));
            return respond(&request_id, Err(err));
        }
    };
    let body = match read {
        Ok(b) => b,
        Err(e) => {
            // Over the limit, or the client stopped sending mid-body.
            let over =
                format!("{e:?}").contains("LengthLimit") || e.to_string().contains("length limit");
            let err = if over {
                too_large()
            } else {
                ApiError::Lambda(LambdaError::Serialization(
                    "The request body could not be read completely.".into(),
                ))
            };
            return respond(&request_id, Err(err));
        }
    };

    // Invoke's fast path: a known key and a cached resolution need no blocking work, so the request stays on
    // this worker. Anything else (including every error) takes the ordinary path below, which decides.
    if matched
        .as_ref()
        .is_some_and(|r| r.op == crate::routes::Op::Invoke)
    {
        if let Some(plan) = fast_invoke(
            &state,
            &parts,
            &path,
            &raw_query,
            &query,
            &body,
            matched.as_ref(),
            &request_id,
        ) {
            let result = crate::ops::invoke::execute(&state, plan).await;
            return respond(&request_id, result);
        }
    }

    let span =
        tracing::info_span!("request", id = %request_id, method = %parts.method, path = %path);
    let st = Arc::clone(&state);
    let rid = request_id.clone();
    let step = tokio::task::spawn_blocking(move || {
        let _enter = span.enter();
        run(&st, &parts, &path, &raw_query, query, body, matched, &rid)
    })
    .await
    .unwrap_or_else(|e| {
        tracing::error!(error = %e, "operation panicked");
        Err(ApiError::Lambda(LambdaError::Service(
            "Lamina encountered an internal error. Retry the request.".into(),
        )))
    });
    let result = match step {
        Ok(Step::Done(r)) => Ok(r),
        Ok(Step::Invoke(plan)) => crate::ops::invoke::execute(&state, *plan).await,
        Err(e) => Err(e),
    };
    respond(&request_id, result)
}

/// Verify the request's SigV4 signature against `keys`; the caller's account, region and principal.
fn authenticate(
    keys: &dyn lamina_auth::KeyResolver,
    parts: &http::request::Parts,
    path: &str,
    raw_query: &str,
    body: &[u8],
) -> Result<Ctx, lamina_auth::AuthError> {
    let req = lamina_auth::RequestParts {
        method: parts.method.as_str(),
        raw_path: path,
        raw_query,
        headers: &parts.headers,
        body,
    };
    let verified = lamina_auth::verify(
        &req,
        keys,
        chrono::Utc::now(),
        &lamina_auth::VerifyOptions::default(),
    )?;
    let host = parts
        .headers
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost")
        .to_string();
    Ok(Ctx {
        account: verified.account_id,
        region: verified.region,
        principal: verified.principal_arn,
        host,
    })
}

#[allow(clippy::too_many_arguments)]
fn fast_invoke(
    state: &Arc<AppState>,
    parts: &http::request::Parts,
    path: &str,
    raw_query: &str,
    query: &[(String, String)],
    body: &bytes::Bytes,
    matched: Option<&Route>,
    request_id: &str,
) -> Option<crate::ops::invoke::Plan> {
    let route = matched?;
    let keys = crate::state::CachedKeys(state);
    let ctx = authenticate(&keys, parts, path, raw_query, body).ok()?;
    let input = Input {
        query: query.to_vec(),
        body: body.clone(),
    };
    crate::ops::invoke::plan(
        state,
        true,
        &ctx,
        &route.target,
        &input,
        &parts.headers,
        request_id,
    )
    .ok()
    .flatten()
}

#[allow(clippy::too_many_arguments)]
fn run(
    state: &Arc<AppState>,
    parts: &http::request::Parts,
    path: &str,
    raw_query: &str,
    query: Vec<(String, String)>,
    body: bytes::Bytes,
    matched: Option<Route>,
    request_id: &str,
) -> ApiResult<Step> {
    let ctx = authenticate(&**state, parts, path, raw_query, &body)?;
    let Some(route) = matched else {
        return Err(ApiError::Lambda(LambdaError::UnknownOperation(format!(
            "Lamina does not serve {} {path}",
            parts.method
        ))));
    };
    tracing::debug!(op = ?route.op, account = %ctx.account, region = %ctx.region, "dispatch");
    let input = Input { query, body };
    if route.op == crate::routes::Op::Invoke {
        let plan = crate::ops::invoke::plan(
            state,
            false,
            &ctx,
            &route.target,
            &input,
            &parts.headers,
            request_id,
        )?;
        return plan.map(|p| Step::Invoke(Box::new(p))).ok_or_else(|| {
            ApiError::Lambda(LambdaError::Service("Invoke resolution unavailable".into()))
        });
    }
    let reply = crate::ops::dispatch(state, &ctx, &route, &input);
    if !route.op.is_read_only() {
        // Any write may change what an invocation resolves to.
        state.bump_generation();
    }
    reply.map(Step::Done)
}

fn respond(request_id: &str, result: ApiResult<Reply>) -> Response<Body> {
    let mut extra = Vec::new();
    let mut raw = None;
    let (status, error_type, body) = match result {
        Ok(r) => {
            extra = r.headers;
            raw = r.raw;
            (r.status, None, r.body)
        }
        Err(e) => {
            let (s, t, b) = e.parts();
            if s >= 500 {
                tracing::warn!(status = s, error_type = t, "request failed");
            } else {
                tracing::debug!(status = s, error_type = t, "request rejected");
            }
            (s, Some(t), Some(b))
        }
    };
    let mut resp = match (raw, body) {
        (Some(bytes), _) => {
            let mut r = Response::new(Body::from(bytes));
            r.headers_mut().insert(
                http::header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            r
        }
        (None, Some(v)) => {
            let mut r = Response::new(Body::from(serde_json::to_vec(&v).unwrap_or_default()));
            r.headers_mut().insert(
                http::header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            r
        }
        (None, None) => Response::new(Body::empty()),
    };
    for (k, v) in extra {
        if let Ok(v) = HeaderValue::from_str(&v) {
            resp.headers_mut().insert(k, v);
        }
    }
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if let Ok(v) = HeaderValue::from_str(request_id) {
        resp.headers_mut().insert("x-amzn-RequestId", v);
    }
    if let Some(t) = error_type {
        resp.headers_mut()
            .insert("x-amzn-ErrorType", HeaderValue::from_static(t));
    }
    resp
}
