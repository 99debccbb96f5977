//! Invoke (`POST /2015-03-31/functions/{F}/invocations`): resolve the function, qualifier and alias routing,
//! validate the payload and headers, then run it on the engine and frame AWS's response (§2).

use super::open_env;
use crate::edge::{Ctx, Reply};
use crate::error::{conflict, ApiError, ApiResult};
use crate::input::Input;
use crate::resolve::{self, function_ref, Target};
use crate::state::AppState;
use base64::Engine as _;
use bytes::Bytes;
use lamina_engine::{EngineError, FunctionSpec, InvokeRequest};
use lamina_model::names::NameShape;
use lamina_model::{arn, LambdaError};
use lamina_store::records::{self, VersionRecord};
use std::sync::Arc;

/// What a function reference resolves to for invocation (cached until the next control-plane write).
#[derive(Debug)]
pub struct Resolved {
    /// The primary version's spec.
    pub primary: Arc<FunctionSpec>,
    /// An alias's additional version and its weight.
    pub weighted: Option<(Arc<FunctionSpec>, f64)>,
}

/// An invocation ready to run.
#[derive(Debug)]
pub struct Plan {
    req: InvokeRequest,
    dry_run: bool,
}

/// The blocking half: authentication is done; resolve and validate.
pub fn plan(
    state: &Arc<AppState>,
    cache_only: bool,
    ctx: &Ctx,
    target: &str,
    input: &Input,
    headers: &http::HeaderMap,
    request_id: &str,
) -> ApiResult<Option<Plan>> {
    let header = |n: &str| headers.get(n).and_then(|v| v.to_str().ok());
    let invocation_type = header("x-amz-invocation-type").unwrap_or("RequestResponse");
    let dry_run = match invocation_type {
        "RequestResponse" => false,
        "DryRun" => true,
        "Event" => {
            return Err(ApiError::Lambda(LambdaError::InvalidParameter(
                "Lamina does not run asynchronous (Event) invocations yet; invoke with InvocationType RequestResponse.".into(),
            )))
        }
        other => {
            return Err(LambdaError::violation(lamina_model::error::Violation::new(
                other,
                "invocationType",
                "Member must satisfy enum value set: [Event, RequestResponse, DryRun]",
            ))
            .into())
        }
    };
    let tail = match header("x-amz-log-type") {
        None | Some("None") => false,
        Some("Tail") => true,
        Some(other) => {
            return Err(LambdaError::violation(lamina_model::error::Violation::new(
                other,
                "logType",
                "Member must satisfy enum value set: [None, Tail]",
            ))
            .into())
        }
    };
    let client_context = match header("x-amz-client-context") {
        None => None,
        Some(b64) => Some(decode_client_context(b64)?),
    };
    let r = function_ref(ctx, target, NameShape::Namespaced, input.q("Qualifier"))?;
    let qualifier = r.qualifier.clone().unwrap_or_default();
    let Some(resolved) = resolve_cached(state, ctx, &r.name, &qualifier, cache_only)? else {
        return Ok(None);
    };
    let spec = match &resolved.weighted {
        Some((extra, w)) if rand::random::<f64>() < *w => Arc::clone(extra),
        _ => Arc::clone(&resolved.primary),
    };
    if !dry_run
        && !input.body.is_empty()
        && serde_json::from_slice::<serde::de::IgnoredAny>(&input.body).is_err()
    {
        let detail = serde_json::from_slice::<serde::de::IgnoredAny>(&input.body)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        return Err(ApiError::Lambda(LambdaError::InvalidRequestContent(
            format!(
            "Could not parse request body into json: Could not parse payload into json: {detail}"
        ),
        )));
    }
    let invoked_arn = match &r.qualifier {
        Some(q) => arn::function_qualified(&ctx.region, &ctx.account, &r.name, q),
        None => arn::function(&ctx.region, &ctx.account, &r.name),
    };
    Ok(Some(Plan {
        req: InvokeRequest {
            spec,
            payload: input.body.clone(),
            invoked_arn,
            client_context,
            tail,
            request_id: request_id.to_string(),
        },
        dry_run,
    }))
}

fn decode_client_context(b64: &str) -> ApiResult<String> {
    let bad = || {
        ApiError::Lambda(LambdaError::InvalidRequestContent(
            "Client context must be a valid Base64-encoded JSON object.".into(),
        ))
    };
    if b64.len() > 3583 {
        return Err(ApiError::Lambda(LambdaError::InvalidRequestContent(
            "Client context must be smaller than 3583 bytes.".into(),
        )));
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .map_err(|_| bad())?;
    let v: serde_json::Value = serde_json::from_slice(&bytes).map_err(|_| bad())?;
    if !v.is_object() {
        return Err(bad());
    }
    Ok(v.to_string())
}

fn resolve_cached(
    state: &AppState,
    ctx: &Ctx,
    name: &str,
    qualifier: &str,
    cache_only: bool,
) -> ApiResult<Option<Arc<Resolved>>> {
    let key = (
        ctx.account.clone(),
        ctx.region.clone(),
        name.to_string(),
        qualifier.to_string(),
    );
    let gen = state.generation();
    if let Some((g, r)) = state
        .invoke_cache
        .lock()
        .ok()
        .and_then(|m| m.get(&key).cloned())
    {
        if g == gen {
            return Ok(Some(r));
        }
    }
    if cache_only {
        return Ok(None);
    }
    let resolved = Arc::new(resolve_fresh(state, ctx, name, qualifier)?);
    if let Ok(mut m) = state.invoke_cache.lock() {
        if m.len() > 10_000 {
            m.clear();
        }
        m.insert(key, (gen, Arc::clone(&resolved)));
    }
    Ok(Some(resolved))
}

fn resolve_fresh(state: &AppState, ctx: &Ctx, name: &str, qualifier: &str) -> ApiResult<Resolved> {
    let q = (!qualifier.is_empty()).then_some(qualifier);
    state.store.tx(|db| {
        let f = records::find_function(db, &ctx.account, &ctx.region, name)?
            .ok_or_else(|| resolve::function_not_found(ctx, name, Some(q.unwrap_or("$LATEST"))))?;
        let t = resolve::target(db, ctx, &f, q)?;
        let account_reserved = records::reserved_sum(db, &ctx.account, &ctx.region, None)?;
        let spec_for = |version: i64| -> ApiResult<Arc<FunctionSpec>> {
            let rec = records::get_version(db, f.id, version)?
                .ok_or_else(|| resolve::function_not_found(ctx, name, Some(&version.to_string())))?;
            if rec.state == "Pending" {
                return Err(conflict("The operation cannot be performed at this time. The function is currently in the following state: Pending"));
            }
            Ok(Arc::new(spec(state, ctx, &f.name, &rec, f.reserved_concurrency, account_reserved)?))
        };
        let primary = spec_for(t.version_number())?;
        let weighted = match &t {
            Target::Alias(a) => match a.weights.iter().next() {
                Some((v, w)) => Some((spec_for(resolve::parse_version(v))?, *w)),
                None => None,
            },
            _ => None,
        };
        Ok::<_, ApiError>(Resolved { primary, weighted })
    })
}

fn spec(
    state: &AppState,
    ctx: &Ctx,
    name: &str,
    rec: &VersionRecord,
    reserved: Option<i64>,
    account_reserved: i64,
) -> ApiResult<FunctionSpec> {
    let environment = match &rec.environment {
        Some(s) => open_env(&state.store.keyring, ctx, name, &rec.version, s)?
            .into_iter()
            .collect(),
        None => Vec::new(),
    };
    let blob_path = |hex: &str| {
        state.store.blobs.path(hex).ok_or_else(|| {
            ApiError::Lambda(LambdaError::Service(format!("code blob {hex} is missing")))
        })
    };
    let layers = rec
        .layers
        .iter()
        .map(|l| Ok((l.blob.clone(), blob_path(&l.blob)?)))
        .collect::<ApiResult<Vec<_>>>()?;
    Ok(FunctionSpec {
        account: ctx.account.clone(),
        region: ctx.region.clone(),
        name: name.to_string(),
        version: rec.version.clone(),
        revision_id: rec.revision_id.clone(),
        runtime: rec
            .runtime
            .clone()
            .unwrap_or_else(|| "provided.al2023".into()),
        handler: rec.handler.clone().unwrap_or_default(),
        memory_mb: rec.memory_size as u32,
        timeout_s: rec.timeout as u32,
        environment,
        code_sha256: rec.code_blob.clone(),
        code_zip: blob_path(&rec.code_blob)?,
        layers,
        log_group: rec.log_group.clone(),
        log_format: rec.log_format.clone(),
        reserved_concurrency: reserved,
        account_reserved,
    })
}

/// The async half: run on the engine and frame the reply.
pub async fn execute(state: &AppState, plan: Plan) -> ApiResult<Reply> {
    let version = plan.req.spec.version.clone();
    if plan.dry_run {
        let mut r = Reply::json(204, None);
        r.headers.push(("X-Amz-Executed-Version", version));
        return Ok(r);
    }
    let out = state.engine.invoke(plan.req).await.map_err(|e| match e {
        EngineError::Throttled(reason) => ApiError::Lambda(LambdaError::TooManyRequests(reason)),
        EngineError::RuntimeUnavailable(m) => ApiError::Lambda(LambdaError::InvalidRuntime(m)),
        EngineError::InvalidEntrypoint(m) | EngineError::Internal(m) => {
            tracing::error!(error = %m, "invocation failed inside Lamina");
            ApiError::Lambda(LambdaError::Service(
                "Lamina could not start the execution environment. Retry the request.".into(),
            ))
        }
    })?;
    let mut r = Reply::json(200, None);
    r.raw = Some(if out.body.is_empty() {
        Bytes::from_static(b"null")
    } else {
        out.body
    });
    r.headers.push(("X-Amz-Executed-Version", version));
    r.headers
        .push(("x-amzn-Remapped-Content-Length", "0".into()));
    if out.function_error {
        r.headers.push(("X-Amz-Function-Error", "Unhandled".into()));
    }
    if let Some(l) = out.log_result {
        r.headers.push(("X-Amz-Log-Result", l));
    }
    Ok(r)
}
