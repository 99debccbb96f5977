//! Event invoke configs (`/2019-09-25/functions/{F}/event-invoke-config`): the retry, event-age and
//! destination settings of asynchronous invocation, per function qualifier (§1.4).

use crate::edge::{Ctx, Reply};
use crate::error::{invalid, not_found, ApiError, ApiResult};
use crate::input::Input;
use crate::resolve::function_ref;
use crate::state::AppState;
use lamina_model::arn;
use lamina_model::error::Violation;
use lamina_model::names::NameShape;
use lamina_model::validate::Violations;
use lamina_store::records::{self, EventInvokeConfigRecord, FunctionRow};
use lamina_store::Db;
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DestinationInput {
    destination: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DestinationConfigInput {
    on_success: Option<DestinationInput>,
    on_failure: Option<DestinationInput>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ConfigInput {
    maximum_retry_attempts: Option<i64>,
    maximum_event_age_in_seconds: Option<i64>,
    destination_config: Option<DestinationConfigInput>,
}

const DESTINATION_PATTERN: &str = r"$|kafka://([^.]([a-zA-Z0-9\-_.]{0,248}))|arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9\-])+:((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1})?:(\d{12})?:(.*)";

/// The stored key of a qualifier: `""` for unqualified and `$LATEST`.
fn key(q: Option<&str>) -> String {
    match q {
        None | Some("$LATEST") => String::new(),
        Some(q) => q.to_string(),
    }
}

fn qualified_arn(ctx: &Ctx, name: &str, q: Option<&str>) -> String {
    arn::function_qualified(&ctx.region, &ctx.account, name, q.unwrap_or("$LATEST"))
}

fn no_config(ctx: &Ctx, name: &str, q: Option<&str>) -> ApiError {
    not_found(format!(
        "The function {} doesn't have an EventInvokeConfig",
        qualified_arn(ctx, name, q)
    ))
}

/// The function and qualifier must exist (Put/Update/List answer "The function doesn't exist.").
fn existing(db: &Db<'_>, ctx: &Ctx, name: &str, q: Option<&str>) -> ApiResult<FunctionRow> {
    let gone = || not_found("The function doesn't exist.");
    let f = records::find_function(db, &ctx.account, &ctx.region, name)?.ok_or_else(gone)?;
    crate::resolve::target(db, ctx, &f, q).map_err(|_| gone())?;
    Ok(f)
}

fn render(ctx: &Ctx, name: &str, q: &str, r: &EventInvokeConfigRecord) -> Value {
    let q = (!q.is_empty()).then_some(q);
    let dest = |d: &Option<String>| {
        d.as_ref()
            .map_or_else(|| json!({}), |a| json!({ "Destination": a }))
    };
    let mut v =
        json!({ "LastModified": r.last_modified, "FunctionArn": qualified_arn(ctx, name, q) });
    if let Some(n) = r.maximum_retry_attempts {
        v["MaximumRetryAttempts"] = json!(n);
    }
    if let Some(n) = r.maximum_event_age_in_seconds {
        v["MaximumEventAgeInSeconds"] = json!(n);
    }
    v["DestinationConfig"] =
        json!({ "OnSuccess": dest(&r.on_success), "OnFailure": dest(&r.on_failure) });
    v
}

fn validate(req: &ConfigInput) -> ApiResult<()> {
    let mut vs = Violations::default();
    vs.range(req.maximum_retry_attempts, "maximumRetryAttempts", 0, 2);
    vs.range(
        req.maximum_event_age_in_seconds,
        "maximumEventAgeInSeconds",
        60,
        21600,
    );
    if let Some(dc) = &req.destination_config {
        for (d, path) in [
            (&dc.on_success, "destinationConfig.onSuccess.destination"),
            (&dc.on_failure, "destinationConfig.onFailure.destination"),
        ] {
            if let Some(a) = d.as_ref().and_then(|d| d.destination.as_deref()) {
                let ok = a.is_empty()
                    || a.starts_with("kafka://")
                    || a.splitn(6, ':').collect::<Vec<_>>().as_slice().len() == 6
                        && a.starts_with("arn:aws");
                if !ok || a.len() > 350 {
                    vs.push(Violation::new(
                        a,
                        path,
                        format!(
                            "Member must satisfy regular expression pattern: {DESTINATION_PATTERN}"
                        ),
                    ));
                }
            }
        }
    }
    vs.finish()?;
    Ok(())
}

/// Semantic destination checks: supported service, an existing function that is not this one.
fn check_destinations(
    db: &Db<'_>,
    ctx: &Ctx,
    own: &str,
    on_success: Option<&str>,
    on_failure: Option<&str>,
) -> ApiResult<()> {
    for (a, success) in [(on_success, true), (on_failure, false)] {
        let Some(a) = a.filter(|a| !a.is_empty()) else {
            continue;
        };
        let service = a.split(':').nth(2).unwrap_or("");
        let ok_service =
            matches!(service, "sqs" | "sns" | "events" | "lambda") || (service == "s3" && !success);
        if !ok_service {
            let shown = if success {
                format!("DestinationConfig(onSuccess=OnSuccess(destination={a}), onFailure=null)")
            } else {
                format!("DestinationConfig(onSuccess=null, onFailure=OnFailure(destination={a}))")
            };
            return Err(invalid(format!(
                "The provided destination config {shown} is invalid."
            )));
        }
        if service == "lambda" {
            let target = arn::parse(a).filter(|p| p.kind == "function");
            let Some(p) = target else {
                return Err(invalid(format!("The destination ARN {a} is invalid.")));
            };
            if p.name == own && p.account == ctx.account && p.region == ctx.region {
                return Err(invalid(
                    "You can't specify the function as a destination for itself.",
                ));
            }
            if records::find_function(db, p.account, p.region, p.name)?.is_none() {
                return Err(invalid(format!("The destination ARN {a} is invalid.")));
            }
        }
    }
    Ok(())
}

fn destination(d: &Option<DestinationInput>) -> Option<String> {
    d.as_ref()
        .and_then(|d| d.destination.clone())
        .filter(|a| !a.is_empty())
}

fn now_epoch() -> f64 {
    let t = chrono::Utc::now();
    (t.timestamp_millis() as f64) / 1000.0
}

/// PUT (replace) and POST (merge into an existing one).
pub fn put(
    state: &Arc<AppState>,
    ctx: &Ctx,
    target: &str,
    input: &Input,
    merge: bool,
) -> ApiResult<Reply> {
    let r = function_ref(ctx, target, NameShape::Namespaced, input.q("Qualifier"))?;
    let req: ConfigInput = input.json()?;
    validate(&req)?;
    let given_destinations = req.destination_config.as_ref().is_some_and(|d| {
        destination(&d.on_success).is_some() || destination(&d.on_failure).is_some()
    });
    if !merge
        && req.maximum_retry_attempts.is_none()
        && req.maximum_event_age_in_seconds.is_none()
        && !given_destinations
    {
        return Err(invalid(
            "You must specify at least one of error handling or destination setting.",
        ));
    }
    let q = r.qualifier.as_deref();
    let rec = state.store.tx(|db| {
        let f = existing(db, ctx, &r.name, q)?;
        let k = key(q);
        let mut rec = match (merge, records::get_event_invoke_config(db, f.id, &k)?) {
            (true, Some(old)) => old,
            (true, None) => return Err(no_config(ctx, &r.name, q)),
            (false, _) => EventInvokeConfigRecord {
                maximum_retry_attempts: None,
                maximum_event_age_in_seconds: None,
                on_success: None,
                on_failure: None,
                last_modified: 0.0,
            },
        };
        if req.maximum_retry_attempts.is_some() || !merge {
            rec.maximum_retry_attempts = req.maximum_retry_attempts.or(if merge {
                rec.maximum_retry_attempts
            } else {
                None
            });
        }
        if req.maximum_event_age_in_seconds.is_some() || !merge {
            rec.maximum_event_age_in_seconds = req.maximum_event_age_in_seconds.or(if merge {
                rec.maximum_event_age_in_seconds
            } else {
                None
            });
        }
        if let Some(dc) = &req.destination_config {
            if dc.on_success.is_some() || !merge {
                rec.on_success = destination(&dc.on_success);
            }
            if dc.on_failure.is_some() || !merge {
                rec.on_failure = destination(&dc.on_failure);
            }
        } else if !merge {
            rec.on_success = None;
            rec.on_failure = None;
        }
        check_destinations(
            db,
            ctx,
            &f.name,
            rec.on_success.as_deref(),
            rec.on_failure.as_deref(),
        )?;
        rec.last_modified = now_epoch();
        records::put_event_invoke_config(db, f.id, &k, Some(&rec))?;
        Ok::<_, ApiError>(rec)
    })?;
    Reply::ok(render(ctx, &r.name, &key(q), &rec))
}

/// GET one config.
pub fn get(state: &Arc<AppState>, ctx: &Ctx, target: &str, input: &Input) -> ApiResult<Reply> {
    let r = function_ref(ctx, target, NameShape::Namespaced, input.q("Qualifier"))?;
    let q = r.qualifier.as_deref();
    let rec = state.store.tx(|db| {
        let f = records::find_function(db, &ctx.account, &ctx.region, &r.name)?
            .ok_or_else(|| no_config(ctx, &r.name, q))?;
        records::get_event_invoke_config(db, f.id, &key(q))?
            .ok_or_else(|| no_config(ctx, &r.name, q))
    })?;
    Reply::ok(render(ctx, &r.name, &key(q), &rec))
}

/// DELETE one config.
pub fn delete(state: &Arc<AppState>, ctx: &Ctx, target: &str, input: &Input) -> ApiResult<Reply> {
    let r = function_ref(ctx, target, NameShape::Namespaced, input.q("Qualifier"))?;
    let q = r.qualifier.as_deref();
    state.store.tx(|db| {
        let f = records::find_function(db, &ctx.account, &ctx.region, &r.name)?
            .ok_or_else(|| no_config(ctx, &r.name, q))?;
        let k = key(q);
        if records::get_event_invoke_config(db, f.id, &k)?.is_none() {
            return Err(no_config(ctx, &r.name, q));
        }
        records::put_event_invoke_config(db, f.id, &k, None)?;
        Ok::<_, ApiError>(())
    })?;
    Reply::no_content()
}

/// GET `/event-invoke-config/list`.
pub fn list(state: &Arc<AppState>, ctx: &Ctx, target: &str, input: &Input) -> ApiResult<Reply> {
    let r = function_ref(ctx, target, NameShape::Namespaced, None)?;
    let page = input.max_items(50, 50)?;
    let marker = input.q("Marker").unwrap_or("");
    let all = state.store.tx(|db| {
        let f = existing(db, ctx, &r.name, None)?;
        Ok::<_, ApiError>(records::list_event_invoke_configs(db, f.id)?)
    })?;
    let rest: Vec<&(String, EventInvokeConfigRecord)> = all
        .iter()
        .filter(|(q, _)| marker.is_empty() || q.as_str() > marker)
        .collect();
    let shown: Vec<Value> = rest
        .iter()
        .take(page)
        .map(|(q, rec)| render(ctx, &r.name, q, rec))
        .collect();
    let mut body = json!({ "FunctionEventInvokeConfigs": shown });
    if rest.len() > page {
        body["NextMarker"] = json!(rest[page - 1].0);
    }
    Reply::ok(body)
}
