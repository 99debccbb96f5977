//! PublishVersion, ListVersionsByFunction and the alias operations (§1.2).

use super::functions::{is_busy, render, snapshot_version};
use super::{check_revision, new_revision, open_env};
use crate::edge::{Ctx, Reply};
use crate::error::{conflict, invalid, not_found, ApiError, ApiResult};
use crate::input::Input;
use crate::resolve::{function_ref, load_function, require_unqualified};
use crate::state::AppState;
use crate::wire::{self, View};
use lamina_model::error::Violation;
use lamina_model::limits::FUNCTION_PAGE_MAX;
use lamina_model::names::{is_version_number, validate_alias_name, NameShape};
use lamina_model::validate::Violations;
use lamina_model::{arn, LambdaError};
use lamina_store::records::{self, AliasRecord, FunctionRow, VersionRecord, LATEST};
use lamina_store::Db;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::sync::Arc;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PublishInput {
    code_sha256: Option<String>,
    description: Option<String>,
    revision_id: Option<String>,
}

/// True when `$LATEST` equals a published version in code and configuration (environment compared in plaintext).
fn same_as(
    state: &AppState,
    ctx: &Ctx,
    name: &str,
    latest: &VersionRecord,
    ver: &VersionRecord,
) -> ApiResult<bool> {
    let strip = |r: &VersionRecord| {
        let mut r = r.clone();
        r.version = String::new();
        r.description = String::new();
        r.environment = None;
        r.last_modified = String::new();
        r.revision_id = String::new();
        r.state = String::new();
        r.last_update_status = None;
        r
    };
    if strip(latest) != strip(ver) {
        return Ok(false);
    }
    let env = |r: &VersionRecord| -> ApiResult<Option<BTreeMap<String, String>>> {
        r.environment
            .as_ref()
            .map(|s| open_env(&state.store.keyring, ctx, name, &r.version, s))
            .transpose()
    };
    Ok(env(latest)? == env(ver)?)
}

/// `POST /2015-03-31/functions/{F}/versions`
pub fn publish(state: &Arc<AppState>, ctx: &Ctx, target: &str, input: &Input) -> ApiResult<Reply> {
    let r = function_ref(ctx, target, NameShape::Function, None)?;
    let req: PublishInput = input.json()?;
    let mut vs = Violations::default();
    vs.length(req.description.as_deref(), "description", 0, 256);
    vs.finish()?;
    let name = r.name;
    let rec = state.store.tx(|db| {
        let f = load_function(db, ctx, &name)?;
        let latest = records::get_version(db, f.id, LATEST)?.ok_or_else(|| crate::resolve::function_not_found(ctx, &name, None))?;
        if let Some(sha) = &req.code_sha256 {
            if sha != &latest.code_sha256 {
                return Err(invalid(format!(
                    "CodeSHA256 ({sha}) is different from current CodeSHA256 in $LATEST ({}). Please try again with the CodeSHA256 in $LATEST.",
                    latest.code_sha256
                )));
            }
        }
        check_revision(req.revision_id.as_deref(), &latest.revision_id)?;
        if is_busy(&latest) {
            return Err(conflict(format!(
                "The operation cannot be performed at this time. An update is in progress for resource: {}",
                arn::function(&ctx.region, &ctx.account, &name)
            )));
        }
        if let Some((_, newest)) = records::newest_version(db, f.id)? {
            if same_as(state, ctx, &name, &latest, &newest)? {
                return Ok(newest);
            }
        }
        let n = records::take_next_version(db, f.id)?;
        let ver = snapshot_version(state, ctx, &name, &latest, n, req.description.as_deref())?;
        records::put_version(db, f.id, n, &ver)?;
        Ok::<_, ApiError>(ver)
    })?;
    Reply::created(render(
        state,
        ctx,
        &name,
        &rec,
        Some(&rec.version),
        View::Full,
    )?)
}

/// `GET /2015-03-31/functions/{F}/versions`
pub fn list(state: &Arc<AppState>, ctx: &Ctx, target: &str, input: &Input) -> ApiResult<Reply> {
    let r = function_ref(ctx, target, NameShape::Namespaced, None)?;
    let page = input.max_items(10000, FUNCTION_PAGE_MAX)?;
    let after = match input.q("Marker") {
        Some(m) => Some(
            m.parse::<i64>()
                .map_err(|_| invalid("Invalid pagination marker."))?,
        ),
        None => None,
    };
    let (rows, more) = state.store.tx(|db| {
        let f = load_function(db, ctx, &r.name)?;
        let mut rows = records::list_versions(db, f.id, after, page + 1)?;
        let more = rows.len() > page;
        rows.truncate(page);
        Ok::<_, ApiError>((rows, more))
    })?;
    let mut out = Vec::with_capacity(rows.len());
    for (_, rec) in &rows {
        out.push(render(
            state,
            ctx,
            &r.name,
            rec,
            Some(&rec.version),
            View::List,
        )?);
    }
    let mut body = json!({ "Versions": out });
    if more {
        if let Some((n, _)) = rows.last() {
            body["NextMarker"] = json!(n.to_string());
        }
    }
    Reply::ok(body)
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RoutingInput {
    additional_version_weights: Option<Map<String, Value>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AliasInput {
    name: Option<String>,
    function_version: Option<String>,
    description: Option<String>,
    routing_config: Option<RoutingInput>,
    revision_id: Option<String>,
}

fn render_map(m: &Map<String, Value>) -> String {
    let items: Vec<String> = m
        .iter()
        .map(|(k, v)| {
            format!(
                "{k}={}",
                v.as_f64()
                    .map_or_else(|| v.to_string(), |f| format!("{f:?}"))
            )
        })
        .collect();
    format!("'{{{}}}'", items.join(", "))
}

/// Validate RoutingConfig's shape (model constraints), returning the weights.
fn parse_weights(r: &RoutingInput) -> ApiResult<BTreeMap<String, f64>> {
    let Some(m) = &r.additional_version_weights else {
        return Ok(BTreeMap::new());
    };
    let path = "routingConfig.additionalVersionWeights";
    if m.keys()
        .any(|k| k.is_empty() || k.len() > 1024 || !k.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(LambdaError::violation(Violation {
            value: render_map(m),
            path: path.into(),
            constraint: "Map keys must satisfy constraint: [Member must have length less than or equal to 1024, Member must have length greater than or equal to 1, Member must satisfy regular expression pattern: [0-9]+]".into(),
        })
        .into());
    }
    let mut out = BTreeMap::new();
    for (k, v) in m {
        match v.as_f64() {
            Some(w) if (0.0..=1.0).contains(&w) => {
                out.insert(k.clone(), w);
            }
            _ => {
                return Err(LambdaError::violation(Violation {
                    value: render_map(m),
                    path: path.into(),
                    constraint: "Map value must satisfy constraint: [Member must have value less than or equal to 1.0, Member must have value greater than or equal to 0.0, Member must not be null]".into(),
                })
                .into())
            }
        }
    }
    Ok(out)
}

/// Semantic checks of an alias's target against the function's versions.
fn check_alias_targets(
    db: &Db<'_>,
    ctx: &Ctx,
    f: &FunctionRow,
    primary: &str,
    weights: &BTreeMap<String, f64>,
) -> ApiResult<()> {
    let missing = |v: &str| {
        not_found(format!(
            "Function not found: {}",
            arn::function_qualified(&ctx.region, &ctx.account, &f.name, v)
        ))
    };
    if primary != "$LATEST" {
        let n: i64 = primary.parse().unwrap_or(-1);
        if records::get_version(db, f.id, n)?.is_none() {
            return Err(missing(primary));
        }
    }
    if weights.len() > 1 {
        return Err(invalid(
            "Number of items in AdditionalVersionWeights cannot be greater than 1",
        ));
    }
    if let Some(extra) = weights.keys().next() {
        if primary == "$LATEST" {
            return Err(ApiError::Lambda(LambdaError::InvalidParameterUntyped(
                "$LATEST is not supported for an alias pointing to more than 1 version".into(),
            )));
        }
        if extra == primary {
            return Err(invalid(format!(
                "Invalid function version {extra}. Function version {extra} is already included in routing configuration."
            )));
        }
        let n: i64 = extra.parse().unwrap_or(-1);
        if records::get_version(db, f.id, n)?.is_none() {
            return Err(missing(extra));
        }
    }
    Ok(())
}

fn check_function_version(v: &str) -> ApiResult<()> {
    let ok = v == "$LATEST" || is_version_number(v);
    if !ok || v.len() > 1024 {
        return Err(LambdaError::violation(Violation::new(
            v,
            "functionVersion",
            r"Member must satisfy regular expression pattern: (\$LATEST|[0-9]+)",
        ))
        .into());
    }
    Ok(())
}

fn alias_arn(ctx: &Ctx, f: &str, a: &str) -> String {
    arn::function_qualified(&ctx.region, &ctx.account, f, a)
}

/// `POST /2015-03-31/functions/{F}/aliases`
pub fn create_alias(
    state: &Arc<AppState>,
    ctx: &Ctx,
    target: &str,
    input: &Input,
) -> ApiResult<Reply> {
    let r = function_ref(ctx, target, NameShape::Function, None)?;
    require_unqualified(&r)?;
    let req: AliasInput = input.json()?;
    let name = req
        .name
        .clone()
        .ok_or_else(|| ApiError::from(LambdaError::violation(Violation::null("name"))))?;
    let version = req.function_version.clone().ok_or_else(|| {
        ApiError::from(LambdaError::violation(Violation::null("functionVersion")))
    })?;
    validate_alias_name(&name)?;
    check_function_version(&version)?;
    let mut vs = Violations::default();
    vs.length(req.description.as_deref(), "description", 0, 256);
    vs.finish()?;
    let weights = req
        .routing_config
        .as_ref()
        .map(parse_weights)
        .transpose()?
        .unwrap_or_default();
    let rec = state.store.tx(|db| {
        let f = records::find_function(db, &ctx.account, &ctx.region, &r.name)?
            .ok_or_else(|| crate::resolve::function_not_found(ctx, &r.name, Some(&version)))?;
        if records::get_alias(db, f.id, &name)?.is_some() {
            return Err(conflict(format!(
                "Alias already exists: {}",
                alias_arn(ctx, &f.name, &name)
            )));
        }
        check_alias_targets(db, ctx, &f, &version, &weights)?;
        let rec = AliasRecord {
            name: name.clone(),
            function_version: version.clone(),
            description: req.description.clone().unwrap_or_default(),
            weights: weights.clone(),
            revision_id: new_revision(),
        };
        records::put_alias(db, f.id, &rec)?;
        Ok::<_, ApiError>(rec)
    })?;
    Reply::created(wire::alias(&ctx.region, &ctx.account, &r.name, &rec))
}

/// `GET /2015-03-31/functions/{F}/aliases/{Name}`
pub fn get_alias(state: &Arc<AppState>, ctx: &Ctx, target: &str, alias: &str) -> ApiResult<Reply> {
    let r = function_ref(ctx, target, NameShape::Namespaced, None)?;
    validate_alias_name(alias)?;
    let rec = state.store.tx(|db| {
        let f = load_function(db, ctx, &r.name)?;
        records::get_alias(db, f.id, alias)?.ok_or_else(|| {
            not_found(format!(
                "Cannot find alias arn: {}",
                alias_arn(ctx, &r.name, alias)
            ))
        })
    })?;
    Reply::ok(wire::alias(&ctx.region, &ctx.account, &r.name, &rec))
}

/// `PUT /2015-03-31/functions/{F}/aliases/{Name}`
pub fn update_alias(
    state: &Arc<AppState>,
    ctx: &Ctx,
    target: &str,
    alias: &str,
    input: &Input,
) -> ApiResult<Reply> {
    let r = function_ref(ctx, target, NameShape::Function, None)?;
    validate_alias_name(alias)?;
    let req: AliasInput = input.json()?;
    if let Some(v) = &req.function_version {
        check_function_version(v)?;
    }
    let mut vs = Violations::default();
    vs.length(req.description.as_deref(), "description", 0, 256);
    vs.finish()?;
    let weights = req.routing_config.as_ref().map(parse_weights).transpose()?;
    let rec = state.store.tx(|db| {
        let f = load_function(db, ctx, &r.name)?;
        let mut rec = records::get_alias(db, f.id, alias)?.ok_or_else(|| {
            not_found(format!(
                "Alias not found: {}",
                alias_arn(ctx, &r.name, alias)
            ))
        })?;
        check_revision(req.revision_id.as_deref(), &rec.revision_id)?;
        if let Some(v) = &req.function_version {
            rec.function_version = v.clone();
        }
        if let Some(d) = &req.description {
            rec.description = d.clone();
        }
        if let Some(w) = &weights {
            rec.weights = w.clone();
        }
        check_alias_targets(db, ctx, &f, &rec.function_version, &rec.weights)?;
        rec.revision_id = new_revision();
        records::put_alias(db, f.id, &rec)?;
        Ok::<_, ApiError>(rec)
    })?;
    Reply::ok(wire::alias(&ctx.region, &ctx.account, &r.name, &rec))
}

/// `DELETE /2015-03-31/functions/{F}/aliases/{Name}`: 204 even when the alias does not exist.
pub fn delete_alias(
    state: &Arc<AppState>,
    ctx: &Ctx,
    target: &str,
    alias: &str,
) -> ApiResult<Reply> {
    let r = function_ref(ctx, target, NameShape::Function, None)?;
    validate_alias_name(alias)?;
    state.store.tx(|db| {
        let f = load_function(db, ctx, &r.name)?;
        records::delete_alias(db, f.id, alias)?;
        Ok::<_, ApiError>(())
    })?;
    Reply::no_content()
}

/// `GET /2015-03-31/functions/{F}/aliases?FunctionVersion=&Marker=&MaxItems=`
pub fn list_aliases(
    state: &Arc<AppState>,
    ctx: &Ctx,
    target: &str,
    input: &Input,
) -> ApiResult<Reply> {
    let r = function_ref(ctx, target, NameShape::Namespaced, None)?;
    if let Some(v) = input.q("FunctionVersion") {
        check_function_version(v)?;
    }
    let page = input.max_items(10000, 10000)?;
    let marker = input.q("Marker").unwrap_or("");
    let all = state.store.tx(|db| {
        let f = load_function(db, ctx, &r.name)?;
        Ok::<_, ApiError>(records::list_aliases(db, f.id)?)
    })?;
    let matching: Vec<&AliasRecord> = all
        .iter()
        .filter(|a| {
            input
                .q("FunctionVersion")
                .is_none_or(|v| a.function_version == v)
        })
        .filter(|a| a.name.as_str() > marker)
        .collect();
    let shown: Vec<Value> = matching
        .iter()
        .take(page)
        .map(|a| wire::alias(&ctx.region, &ctx.account, &r.name, a))
        .collect();
    let mut body = json!({ "Aliases": shown });
    if matching.len() > page {
        body["NextMarker"] = json!(matching[page - 1].name);
    }
    Reply::ok(body)
}
