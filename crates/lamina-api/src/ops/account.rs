//! Reserved concurrency, GetAccountSettings, tags, and the code-signing binding read (§1.3).

use crate::edge::{Ctx, Reply};
use crate::error::{invalid, not_found, ApiError, ApiResult};
use crate::input::Input;
use crate::resolve::{function_not_found, function_ref, require_unqualified};
use crate::state::AppState;
use lamina_model::error::Violation;
use lamina_model::limits::{TOTAL_CODE_SIZE, UNRESERVED_MIN, UNZIPPED_MAX, ZIPPED_MAX};
use lamina_model::names::NameShape;
use lamina_model::validate::check_tags;
use lamina_model::{arn, LambdaError};
use lamina_store::records;
use serde::Deserialize;
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::Arc;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ConcurrencyInput {
    reserved_concurrent_executions: Option<i64>,
}

/// `PUT /2017-10-31/functions/{F}/concurrency`
pub fn put_concurrency(
    state: &Arc<AppState>,
    ctx: &Ctx,
    target: &str,
    input: &Input,
) -> ApiResult<Reply> {
    let r = function_ref(ctx, target, NameShape::Function, None)?;
    require_unqualified(&r)?;
    let req: ConcurrencyInput = input.json()?;
    let Some(n) = req.reserved_concurrent_executions else {
        return Err(LambdaError::violation(Violation::null("reservedConcurrentExecutions")).into());
    };
    if n < 0 {
        return Err(LambdaError::violation(Violation::new(
            n,
            "reservedConcurrentExecutions",
            "Member must have value greater than or equal to 0",
        ))
        .into());
    }
    let limit = state.config.account_concurrency;
    state.store.tx(|db| {
        let f = records::find_function(db, &ctx.account, &ctx.region, &r.name)?
            .ok_or_else(|| function_not_found(ctx, &r.name, Some("$LATEST")))?;
        let others = records::reserved_sum(db, &ctx.account, &ctx.region, Some(f.id))?;
        if limit - others - n < UNRESERVED_MIN {
            return Err(ApiError::Lambda(LambdaError::InvalidParameterUntyped(format!(
                "Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [{UNRESERVED_MIN}]."
            ))));
        }
        records::set_reserved_concurrency(db, f.id, Some(n))?;
        Ok::<_, ApiError>(())
    })?;
    Reply::ok(json!({ "ReservedConcurrentExecutions": n }))
}

/// `GET /2019-09-30/functions/{F}/concurrency`: `{}` when unset.
pub fn get_concurrency(state: &Arc<AppState>, ctx: &Ctx, target: &str) -> ApiResult<Reply> {
    let r = function_ref(ctx, target, NameShape::Function, None)?;
    require_unqualified(&r)?;
    let f = state
        .store
        .tx(|db| crate::resolve::load_function(db, ctx, &r.name))?;
    Reply::ok(match f.reserved_concurrency {
        Some(n) => json!({ "ReservedConcurrentExecutions": n }),
        None => json!({}),
    })
}

/// `DELETE /2017-10-31/functions/{F}/concurrency`
pub fn delete_concurrency(state: &Arc<AppState>, ctx: &Ctx, target: &str) -> ApiResult<Reply> {
    let r = function_ref(ctx, target, NameShape::Function, None)?;
    require_unqualified(&r)?;
    state.store.tx(|db| {
        let f = crate::resolve::load_function(db, ctx, &r.name)?;
        records::set_reserved_concurrency(db, f.id, None)?;
        Ok::<_, ApiError>(())
    })?;
    Reply::no_content()
}

/// `GET /2016-08-19/account-settings`
pub fn settings(state: &Arc<AppState>, ctx: &Ctx) -> ApiResult<Reply> {
    let limit = state.config.account_concurrency;
    let (used, count, reserved) = state.store.tx(|db| {
        let (used, count) = records::total_code_size(db, &ctx.account, &ctx.region)?;
        let reserved = records::reserved_sum(db, &ctx.account, &ctx.region, None)?;
        Ok::<_, ApiError>((used, count, reserved))
    })?;
    Reply::ok(json!({
        "AccountLimit": {
            "TotalCodeSize": TOTAL_CODE_SIZE,
            "CodeSizeUnzipped": UNZIPPED_MAX,
            "CodeSizeZipped": ZIPPED_MAX,
            "ConcurrentExecutions": limit,
            "UnreservedConcurrentExecutions": limit - reserved,
        },
        "AccountUsage": { "TotalCodeSize": used, "FunctionCount": count },
    }))
}

/// The taggable resource pattern AWS prints.
const TAGGABLE_PATTERN: &str = r"arn:(aws[a-zA-Z-]*):lambda:(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:\d{12}:(function:[a-zA-Z0-9-_]+(:(\$LATEST|[a-zA-Z0-9-_]+))?|layer:([a-zA-Z0-9-_]+)|code-signing-config:csc-[a-z0-9]{17}|event-source-mapping:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|capacity-provider:[a-zA-Z0-9-_]+)";

/// Resolve a taggable resource to a function id (the only taggable kind Lamina stores yet).
fn tag_target(state: &AppState, ctx: &Ctx, resource: &str) -> ApiResult<i64> {
    let bad = || {
        ApiError::from(LambdaError::violation(Violation::new(
            resource,
            "resource",
            format!("Member must satisfy regular expression pattern: {TAGGABLE_PATTERN}"),
        )))
    };
    let p = arn::parse(resource).ok_or_else(bad)?;
    if p.account.len() != 12 || !p.account.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    match p.kind {
        "function" => {}
        "event-source-mapping" => {
            return Err(not_found(format!(
                "Event source mapping not found: {resource}"
            )))
        }
        "layer" | "code-signing-config" | "capacity-provider" => {
            return Err(not_found("The resource you requested does not exist."))
        }
        _ => return Err(bad()),
    }
    if !p
        .name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(bad());
    }
    if p.qualifier.is_some() {
        return Err(invalid("Tags on function aliases and versions are not supported. Please specify a function ARN."));
    }
    if p.region != ctx.region {
        return Err(not_found(format!(
            "Functions from '{}' are not reachable in this region ('{}')",
            p.region, ctx.region
        )));
    }
    if p.account != ctx.account {
        return Err(ApiError::Lambda(LambdaError::AccessDenied(format!(
            "User: {} is not authorized to access functions of account {}",
            ctx.principal, p.account
        ))));
    }
    let f = state
        .store
        .tx(|db| {
            Ok::<_, ApiError>(records::find_function(
                db,
                &ctx.account,
                &ctx.region,
                p.name,
            )?)
        })?
        .ok_or_else(|| not_found(format!("Function not found: {resource}")))?;
    Ok(f.id)
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TagInput {
    tags: Option<BTreeMap<String, String>>,
}

/// `POST /2017-03-31/tags/{ARN}` → 204
pub fn tag(state: &Arc<AppState>, ctx: &Ctx, resource: &str, input: &Input) -> ApiResult<Reply> {
    let req: TagInput = input.json()?;
    let fid = tag_target(state, ctx, resource)?;
    let new = req.tags.unwrap_or_default();
    if new.is_empty() {
        return Err(invalid(
            "An error occurred and the request cannot be processed.",
        ));
    }
    state.store.tx(|db| {
        let mut tags = db_tags(db, fid)?;
        tags.extend(new.clone());
        check_tags(&tags)?;
        records::set_tags(db, fid, &tags)?;
        Ok::<_, ApiError>(())
    })?;
    Reply::no_content()
}

fn db_tags(db: &lamina_store::Db<'_>, fid: i64) -> ApiResult<BTreeMap<String, String>> {
    let s: String = db
        .query_row("SELECT tags FROM functions WHERE id = ?1", [fid], |r| {
            r.get(0)
        })
        .map_err(lamina_store::StoreError::from)?;
    Ok(serde_json::from_str(&s).map_err(lamina_store::StoreError::from)?)
}

/// `DELETE /2017-03-31/tags/{ARN}?tagKeys=…` → 204
pub fn untag(state: &Arc<AppState>, ctx: &Ctx, resource: &str, input: &Input) -> ApiResult<Reply> {
    let keys = input.q_all("tagKeys");
    if keys.is_empty() {
        return Err(LambdaError::violation(Violation::null("tagKeys")).into());
    }
    let fid = tag_target(state, ctx, resource)?;
    state.store.tx(|db| {
        let mut tags = db_tags(db, fid)?;
        for k in &keys {
            tags.remove(*k);
        }
        records::set_tags(db, fid, &tags)?;
        Ok::<_, ApiError>(())
    })?;
    Reply::no_content()
}

/// `GET /2017-03-31/tags/{ARN}`
pub fn list_tags(state: &Arc<AppState>, ctx: &Ctx, resource: &str) -> ApiResult<Reply> {
    let fid = tag_target(state, ctx, resource)?;
    let tags = state.store.tx(|db| db_tags(db, fid))?;
    Reply::ok(json!({ "Tags": tags }))
}

/// `GET /2020-06-30/functions/{F}/code-signing-config`: `{}` — Lamina has no code signing configs yet.
pub fn code_signing_config(state: &Arc<AppState>, ctx: &Ctx, target: &str) -> ApiResult<Reply> {
    let r = function_ref(ctx, target, NameShape::Namespaced, None)?;
    state
        .store
        .tx(|db| crate::resolve::load_function(db, ctx, &r.name))?;
    Reply::ok(json!({}))
}
