//! Turning a caller's function reference (name, partial or full ARN, qualifier) into stored rows, with
//! AWS's errors for every way that can fail (§0.5, §1).

use crate::edge::Ctx;
use crate::error::{invalid, not_found, ApiError, ApiResult};
use lamina_model::names::{parse_function_name, validate_qualifier, NameShape};
use lamina_model::{arn, LambdaError};
use lamina_store::records::{self, AliasRecord, FunctionRow, VersionRecord, LATEST};
use lamina_store::Db;

/// A validated function reference.
#[derive(Debug, Clone)]
pub struct FnRef {
    /// Bare name.
    pub name: String,
    /// Qualifier from the ARN or the `Qualifier` parameter (they agree).
    pub qualifier: Option<String>,
}

/// Parse the `{FunctionName}` label plus an optional `Qualifier` query value.
pub fn function_ref(
    ctx: &Ctx,
    input: &str,
    shape: NameShape,
    query_qualifier: Option<&str>,
) -> ApiResult<FnRef> {
    let r = parse_function_name(input, shape)?;
    if let Some(region) = &r.region {
        if region != &ctx.region {
            return Err(not_found(format!(
                "Functions from '{region}' are not reachable in this region ('{}')",
                ctx.region
            )));
        }
    }
    if let Some(account) = &r.account {
        if account != &ctx.account {
            return Err(ApiError::Lambda(LambdaError::AccessDenied(format!(
                "User: {} is not authorized to access functions of account {account}",
                ctx.principal
            ))));
        }
    }
    if let Some(q) = query_qualifier {
        validate_qualifier(q)?;
    }
    let qualifier = match (r.qualifier, query_qualifier) {
        (Some(a), Some(b)) if a != b => return Err(invalid(
            "The derived qualifier from the function name does not match the specified qualifier.",
        )),
        (Some(a), _) => Some(a),
        (None, b) => b.map(str::to_string),
    };
    Ok(FnRef {
        name: r.name,
        qualifier,
    })
}

/// `Function not found: {arn}` with the unqualified ARN, or qualified when a qualifier was given.
pub fn function_not_found(ctx: &Ctx, name: &str, qualifier: Option<&str>) -> ApiError {
    let a = match qualifier {
        Some(q) => arn::function_qualified(&ctx.region, &ctx.account, name, q),
        None => arn::function(&ctx.region, &ctx.account, name),
    };
    not_found(format!("Function not found: {a}"))
}

/// Load a function or answer 404 with the unqualified ARN.
pub fn load_function(db: &Db<'_>, ctx: &Ctx, name: &str) -> ApiResult<FunctionRow> {
    records::find_function(db, &ctx.account, &ctx.region, name)?
        .ok_or_else(|| function_not_found(ctx, name, None))
}

/// What a qualifier points at.
#[derive(Debug, Clone)]
pub enum Target {
    /// `$LATEST`.
    Latest,
    /// A published version.
    Version(i64),
    /// An alias.
    Alias(AliasRecord),
}

impl Target {
    /// The stored version number this target reads its configuration from (an alias: its primary version).
    pub fn version_number(&self) -> i64 {
        match self {
            Target::Latest => LATEST,
            Target::Version(n) => *n,
            Target::Alias(a) => parse_version(&a.function_version),
        }
    }
}

/// `$LATEST` → 0, `"7"` → 7.
pub fn parse_version(v: &str) -> i64 {
    if v == "$LATEST" {
        LATEST
    } else {
        v.parse().unwrap_or(-1)
    }
}

/// Resolve a qualifier of an existing function; unknown → 404 `Function not found: …:{q}`.
pub fn target(db: &Db<'_>, ctx: &Ctx, f: &FunctionRow, q: Option<&str>) -> ApiResult<Target> {
    let Some(q) = q else {
        return Ok(Target::Latest);
    };
    if q == "$LATEST" {
        return Ok(Target::Latest);
    }
    if lamina_model::names::is_version_number(q) {
        let n: i64 = q.parse().unwrap_or(-1);
        if records::get_version(db, f.id, n)?.is_some() {
            return Ok(Target::Version(n));
        }
        return Err(function_not_found(ctx, &f.name, Some(q)));
    }
    match records::get_alias(db, f.id, q)? {
        Some(a) => Ok(Target::Alias(a)),
        None => Err(function_not_found(ctx, &f.name, Some(q))),
    }
}

/// Read the configuration record a target points at.
pub fn version_record(
    db: &Db<'_>,
    ctx: &Ctx,
    f: &FunctionRow,
    t: &Target,
) -> ApiResult<VersionRecord> {
    let n = t.version_number();
    records::get_version(db, f.id, n)?
        .ok_or_else(|| function_not_found(ctx, &f.name, Some(&n.to_string())))
}

/// Reject a qualified reference for operations that act on the function only.
pub fn require_unqualified(r: &FnRef) -> ApiResult<()> {
    if r.qualifier.is_some() {
        return Err(invalid(
            "This operation is permitted on Lambda functions only. Aliases and versions do not support this operation. Please specify either a function name or an unqualified function ARN.",
        ));
    }
    Ok(())
}
