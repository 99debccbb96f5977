//! The control-plane operations, one module per resource family, and what they share.

mod account;
mod functions;
pub mod invoke;
mod invoke_config;
mod layers;
mod policy;
mod statements;
mod versions;

use crate::edge::{Ctx, Reply};
use crate::error::{ApiError, ApiResult};
use crate::input::Input;
use crate::routes::{Op, Route};
use crate::state::AppState;
use lamina_model::LambdaError;
use lamina_store::keyring::{Keyring, KeyringError, Sealed};
use lamina_store::StoreError;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Run one routed operation.
pub fn dispatch(
    state: &Arc<AppState>,
    ctx: &Ctx,
    route: &Route,
    input: &Input,
) -> ApiResult<Reply> {
    let t = route.target.as_str();
    let s = route.sub.as_str();
    match route.op {
        Op::CreateFunction => functions::create(state, ctx, input),
        Op::ListFunctions => functions::list(state, ctx, input),
        Op::GetFunction => functions::get(state, ctx, t, input),
        Op::GetFunctionConfiguration => functions::get_configuration(state, ctx, t, input),
        Op::DeleteFunction => functions::delete(state, ctx, t, input),
        Op::UpdateFunctionConfiguration => functions::update_configuration(state, ctx, t, input),
        Op::UpdateFunctionCode => functions::update_code(state, ctx, t, input),
        Op::PublishVersion => versions::publish(state, ctx, t, input),
        Op::ListVersionsByFunction => versions::list(state, ctx, t, input),
        Op::CreateAlias => versions::create_alias(state, ctx, t, input),
        Op::GetAlias => versions::get_alias(state, ctx, t, s),
        Op::UpdateAlias => versions::update_alias(state, ctx, t, s, input),
        Op::DeleteAlias => versions::delete_alias(state, ctx, t, s),
        Op::ListAliases => versions::list_aliases(state, ctx, t, input),
        Op::AddPermission => policy::add(state, ctx, t, input),
        Op::GetPolicy => policy::get(state, ctx, t, input),
        Op::RemovePermission => policy::remove(state, ctx, t, s, input),
        Op::PutFunctionConcurrency => account::put_concurrency(state, ctx, t, input),
        Op::GetFunctionConcurrency => account::get_concurrency(state, ctx, t),
        Op::DeleteFunctionConcurrency => account::delete_concurrency(state, ctx, t),
        Op::GetAccountSettings => account::settings(state, ctx),
        Op::TagResource => account::tag(state, ctx, t, input),
        Op::UntagResource => account::untag(state, ctx, t, input),
        Op::ListTags => account::list_tags(state, ctx, t),
        Op::GetFunctionCodeSigningConfig => account::code_signing_config(state, ctx, t),
        Op::PublishLayerVersion => layers::publish(state, ctx, t, input),
        Op::ListLayers => layers::list_layers(state, ctx, input),
        Op::ListLayerVersions => layers::list_versions(state, ctx, t, input),
        Op::GetLayerVersion => layers::get(state, ctx, t, s),
        Op::GetLayerVersionByArn => layers::get_by_arn(state, ctx, input),
        Op::DeleteLayerVersion => layers::delete(state, ctx, t, s),
        Op::AddLayerVersionPermission => layers::add_permission(state, ctx, t, s, input),
        Op::GetLayerVersionPolicy => layers::get_policy(state, ctx, t, s),
        Op::RemoveLayerVersionPermission => {
            let (v, sid) = s.split_once('/').unwrap_or((s, ""));
            layers::remove_permission(state, ctx, t, v, sid, input)
        }
        Op::PutFunctionEventInvokeConfig => invoke_config::put(state, ctx, t, input, false),
        Op::UpdateFunctionEventInvokeConfig => invoke_config::put(state, ctx, t, input, true),
        Op::GetFunctionEventInvokeConfig => invoke_config::get(state, ctx, t, input),
        Op::DeleteFunctionEventInvokeConfig => invoke_config::delete(state, ctx, t, input),
        Op::ListFunctionEventInvokeConfigs => invoke_config::list(state, ctx, t, input),
        Op::Invoke => Err(ApiError::Lambda(LambdaError::Service(
            "Invoke is planned, not dispatched".into(),
        ))),
    }
}

/// The additional authenticated data binding sealed environment variables to one function version.
fn env_aad(ctx: &Ctx, name: &str, version: &str) -> String {
    format!("lamina-env:{}:{}:{name}:{version}", ctx.account, ctx.region)
}

/// Seal environment variables for one function version (a fresh data key each time).
pub fn seal_env(
    keyring: &Keyring,
    ctx: &Ctx,
    name: &str,
    version: &str,
    kms: Option<&str>,
    vars: &BTreeMap<String, String>,
) -> ApiResult<Sealed> {
    let plain = serde_json::to_vec(vars).map_err(StoreError::from)?;
    keyring
        .seal(kms, &plain, env_aad(ctx, name, version).as_bytes())
        .map_err(|e| kms_error(e, kms))
}

/// Open sealed environment variables.
pub fn open_env(
    keyring: &Keyring,
    ctx: &Ctx,
    name: &str,
    version: &str,
    sealed: &Sealed,
) -> ApiResult<BTreeMap<String, String>> {
    let plain = keyring
        .open_sealed(sealed, env_aad(ctx, name, version).as_bytes())
        .map_err(StoreError::from)?;
    Ok(serde_json::from_slice(&plain).map_err(StoreError::from)?)
}

/// An unknown customer key is the caller's error, worded as AWS words a KMS failure at configuration time.
fn kms_error(e: KeyringError, kms: Option<&str>) -> ApiError {
    match (e, kms) {
        (KeyringError::KeyNotFound(_), Some(arn)) => ApiError::Lambda(LambdaError::InvalidParameter(format!(
            "Lambda was unable to configure access to your environment variables because the KMS key is invalid for CreateGrant. Please check your KMS key settings. KMS Exception: NotFoundException KMS Message: Key '{arn}' does not exist"
        ))),
        (e, _) => ApiError::Store(StoreError::from(e)),
    }
}

/// Compare an optional RevisionId precondition.
pub fn check_revision(given: Option<&str>, current: &str) -> ApiResult<()> {
    match given {
        Some(g) if g != current => Err(crate::error::revision_mismatch()),
        _ => Ok(()),
    }
}

/// A new RevisionId.
pub fn new_revision() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// `LastModified` for now.
pub fn now_timestamp() -> String {
    lamina_model::time::lambda_timestamp(chrono::Utc::now())
}
