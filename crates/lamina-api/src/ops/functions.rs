//! CreateFunction, GetFunction(Configuration), UpdateFunctionCode/Configuration, DeleteFunction, ListFunctions.

use super::{check_revision, new_revision, now_timestamp, open_env, seal_env};
use crate::code::{self, budget_after_layers, Package};
use crate::edge::{Ctx, Reply};
use crate::error::{conflict, invalid, ApiError, ApiResult};
use crate::input::Input;
use crate::resolve::{self, function_ref, load_function, Target};
use crate::state::AppState;
use crate::transitions;
use crate::wire::{function_configuration, ConfigCtx, View};
use lamina_model::error::Violation;
use lamina_model::limits::{FUNCTION_PAGE_MAX, TOTAL_CODE_SIZE};
use lamina_model::names::{parse_function_name, validate_role, NameShape};
use lamina_model::validate::{self as v, Violations};
use lamina_model::{arn, LambdaError};
use lamina_store::records::{self, FunctionRow, LayerRef, VersionRecord, LATEST};
use lamina_store::Db;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::sync::Arc;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct CodeInput {
    zip_file: Option<String>,
    #[serde(rename = "S3Bucket")]
    s3_bucket: Option<String>,
    #[serde(rename = "S3Key")]
    s3_key: Option<String>,
    image_uri: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct EnvInput {
    variables: Option<Map<String, Value>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TargetArnInput {
    target_arn: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ModeInput {
    mode: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SizeInput {
    size: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SnapStartInput {
    apply_on: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct LoggingInput {
    log_format: Option<String>,
    application_log_level: Option<String>,
    system_log_level: Option<String>,
    log_group: Option<String>,
}

/// The configuration members CreateFunction and UpdateFunctionConfiguration share.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ConfigInput {
    role: Option<String>,
    handler: Option<String>,
    description: Option<String>,
    timeout: Option<i64>,
    memory_size: Option<i64>,
    vpc_config: Option<VpcInput>,
    environment: Option<EnvInput>,
    runtime: Option<String>,
    dead_letter_config: Option<TargetArnInput>,
    #[serde(rename = "KMSKeyArn")]
    kms_key_arn: Option<String>,
    tracing_config: Option<ModeInput>,
    layers: Option<Vec<String>>,
    ephemeral_storage: Option<SizeInput>,
    snap_start: Option<SnapStartInput>,
    logging_config: Option<LoggingInput>,
    image_config: Option<Value>,
    file_system_configs: Option<Vec<FileSystemInput>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct VpcInput {
    subnet_ids: Option<Vec<String>>,
    security_group_ids: Option<Vec<String>>,
    ipv6_allowed_for_dual_stack: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(dead_code)]
struct FileSystemInput {
    arn: String,
    local_mount_path: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CreateInput {
    function_name: Option<String>,
    code: Option<CodeInput>,
    publish: Option<bool>,
    package_type: Option<String>,
    tags: Option<BTreeMap<String, String>>,
    architectures: Option<Vec<String>>,
    code_signing_config_arn: Option<String>,
    #[serde(flatten)]
    config: ConfigInput,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UpdateConfigInput {
    revision_id: Option<String>,
    #[serde(flatten)]
    config: ConfigInput,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UpdateCodeInput {
    #[serde(flatten)]
    code: CodeInput,
    publish: Option<bool>,
    dry_run: Option<bool>,
    revision_id: Option<String>,
    architectures: Option<Vec<String>>,
}

/// Model-level checks of the shared configuration members (all violations at once).
fn validate_config(c: &ConfigInput, v: &mut Violations) {
    if let Some(vpc) = &c.vpc_config {
        check_vpc_ids(
            v,
            vpc.subnet_ids.as_deref(),
            "vpcConfig.subnetIds",
            "subnet-",
            16,
        );
        check_vpc_ids(
            v,
            vpc.security_group_ids.as_deref(),
            "vpcConfig.securityGroupIds",
            "sg-",
            5,
        );
    }
    v::check_sizes(
        v,
        c.memory_size,
        c.timeout,
        c.ephemeral_storage.as_ref().and_then(|e| e.size),
    );
    v::check_handler(v, c.handler.as_deref());
    v.length(c.description.as_deref(), "description", 0, 256);
    v::check_tracing(v, c.tracing_config.as_ref().and_then(|t| t.mode.as_deref()));
    v::check_kms_arn(v, c.kms_key_arn.as_deref());
    v.one_of(
        c.snap_start.as_ref().and_then(|s| s.apply_on.as_deref()),
        "snapStart.applyOn",
        &["PublishedVersions", "None"],
    );
    if let Some(l) = &c.logging_config {
        v::check_logging(
            v,
            l.log_format.as_deref(),
            l.application_log_level.as_deref(),
            l.system_log_level.as_deref(),
            l.log_group.as_deref(),
        );
    }
}

/// VpcConfig id lists: count and `subnet-[0-9a-z]*` / `sg-[0-9a-zA-Z]*` patterns.
fn check_vpc_ids(v: &mut Violations, ids: Option<&[String]>, path: &str, prefix: &str, max: usize) {
    let Some(ids) = ids else { return };
    let shown = format!("'[{}]'", ids.join(", "));
    if ids.len() > max {
        v.push(Violation {
            value: shown,
            path: path.into(),
            constraint: format!("Member must have length less than or equal to {max}"),
        });
        return;
    }
    let ok = ids.iter().all(|id| {
        id.len() <= 1024
            && id
                .strip_prefix(prefix)
                .is_some_and(|r| r.bytes().all(|b| b.is_ascii_alphanumeric()))
    });
    if !ok {
        v.push(Violation {
            value: shown,
            path: path.into(),
            constraint: format!("Member must satisfy constraint: [Member must have length less than or equal to 1024, Member must have length greater than or equal to 0, Member must satisfy regular expression pattern: {prefix}[0-9a-z]*]"),
        });
    }
}

/// Semantic checks that need no state; returns the validated environment map if one was given.
fn check_config_semantics(
    c: &ConfigInput,
    region: &str,
) -> ApiResult<Option<BTreeMap<String, String>>> {
    if let Some(role) = &c.role {
        validate_role(role)?;
    }
    if let Some(rt) = &c.runtime {
        lamina_model::runtimes::check_runtime(rt)?;
    }
    if c.image_config.is_some() {
        return Err(invalid("ImageConfig is supported only for functions with package type Image, which Lamina does not run."));
    }
    if c.file_system_configs
        .as_ref()
        .is_some_and(|f| !f.is_empty())
    {
        return Err(invalid(
            "Lamina does not support FileSystemConfigs (Amazon EFS).",
        ));
    }
    if let Some(d) = c
        .dead_letter_config
        .as_ref()
        .and_then(|d| d.target_arn.as_deref())
    {
        v::check_dead_letter_target(d)?;
    }
    if let Some(layers) = &c.layers {
        v::check_layer_list(layers, region)?;
    }
    let env = match c.environment.as_ref().and_then(|e| e.variables.as_ref()) {
        Some(vars) => Some(v::check_environment(vars)?),
        None if c.environment.is_some() => Some(BTreeMap::new()),
        None => None,
    };
    Ok(env)
}

/// Look the referenced layer versions up; missing → 400 `Layer version {arn} does not exist.`
fn resolve_layers(db: &Db<'_>, layers: &[String]) -> ApiResult<Vec<LayerRef>> {
    let mut out = Vec::with_capacity(layers.len());
    for l in layers {
        let missing = || invalid(format!("Layer version {l} does not exist."));
        let p = v::parse_layer_version_arn(l).ok_or_else(missing)?;
        let (layer_id, _) =
            records::find_layer(db, &p.account, &p.region, &p.name)?.ok_or_else(missing)?;
        let lv = records::get_layer_version(db, layer_id, p.version)?.ok_or_else(missing)?;
        out.push(LayerRef {
            arn: l.clone(),
            code_size: lv.code_size,
            unzipped_size: lv.unzipped_size,
            blob: lv.blob,
        });
    }
    Ok(out)
}

/// Apply LoggingConfig with AWS's merge rules.
fn apply_logging(rec: &mut VersionRecord, l: &LoggingInput) -> ApiResult<()> {
    let format = l
        .log_format
        .clone()
        .unwrap_or_else(|| rec.log_format.clone());
    let levels_given = l.application_log_level.is_some() || l.system_log_level.is_some();
    if format == "Text" && levels_given {
        return Err(invalid(v::LOG_LEVEL_WITH_TEXT));
    }
    if format == "JSON" {
        rec.application_log_level = Some(
            l.application_log_level
                .clone()
                .or_else(|| rec.application_log_level.clone())
                .unwrap_or_else(|| "INFO".into()),
        );
        rec.system_log_level = Some(
            l.system_log_level
                .clone()
                .or_else(|| rec.system_log_level.clone())
                .unwrap_or_else(|| "INFO".into()),
        );
    } else {
        rec.application_log_level = None;
        rec.system_log_level = None;
    }
    rec.log_format = format;
    if let Some(g) = &l.log_group {
        rec.log_group = g.clone();
    }
    Ok(())
}

/// Apply the shared members onto a record (validation already done).
fn apply_config(
    rec: &mut VersionRecord,
    c: &ConfigInput,
    layers: Option<Vec<LayerRef>>,
) -> ApiResult<()> {
    if let Some(x) = &c.role {
        rec.role = x.clone();
    }
    if let Some(x) = &c.handler {
        rec.handler = Some(x.clone());
    }
    if let Some(x) = &c.description {
        rec.description = x.clone();
    }
    if let Some(x) = c.timeout {
        rec.timeout = x;
    }
    if let Some(x) = c.memory_size {
        rec.memory_size = x;
    }
    if let Some(x) = &c.runtime {
        rec.runtime = Some(x.clone());
    }
    if let Some(vpc) = &c.vpc_config {
        rec.vpc_config = Some(json!({
            "SubnetIds": vpc.subnet_ids.clone().unwrap_or_default(),
            "SecurityGroupIds": vpc.security_group_ids.clone().unwrap_or_default(),
            "VpcId": "",
            "Ipv6AllowedForDualStack": vpc.ipv6_allowed_for_dual_stack.unwrap_or(false),
        }));
    }
    if let Some(d) = &c.dead_letter_config {
        rec.dead_letter_target = d.target_arn.clone().filter(|t| !t.is_empty());
    }
    if let Some(t) = c.tracing_config.as_ref().and_then(|t| t.mode.clone()) {
        rec.tracing_mode = t;
    }
    if let Some(l) = layers {
        rec.layers = l;
    }
    if let Some(s) = c.ephemeral_storage.as_ref().and_then(|e| e.size) {
        rec.ephemeral_storage = s;
    }
    if let Some(s) = c.snap_start.as_ref().and_then(|s| s.apply_on.clone()) {
        rec.snap_start_apply_on = s;
    }
    if let Some(l) = &c.logging_config {
        apply_logging(rec, l)?;
    }
    Ok(())
}

fn reject_unsupported_code(c: &CodeInput) -> ApiResult<()> {
    if c.image_uri.is_some() {
        return Err(invalid("Lamina runs Zip deployment packages only; container images (ImageUri) are not supported."));
    }
    if c.s3_bucket.is_some() || c.s3_key.is_some() {
        return Err(invalid(
            "Lamina does not read code from Amazon S3. Upload the deployment package directly with ZipFile (aws lambda ... --zip-file fileb://function.zip).",
        ));
    }
    Ok(())
}

/// Start extracting a version's code and layers into the engine's cache.
fn prefetch(state: &AppState, rec: &VersionRecord) {
    let Some(zip) = state.store.blobs.path(&rec.code_blob) else {
        return;
    };
    let layers = rec
        .layers
        .iter()
        .filter_map(|l| state.store.blobs.path(&l.blob).map(|p| (l.blob.clone(), p)))
        .collect();
    state.engine.prefetch(rec.code_blob.clone(), zip, layers);
}

/// Render `$LATEST` or a version with its decrypted environment.
pub(super) fn render(
    state: &AppState,
    ctx: &Ctx,
    name: &str,
    rec: &VersionRecord,
    arn_qualifier: Option<&str>,
    view: View,
) -> ApiResult<Value> {
    let env = match &rec.environment {
        Some(s) => Some(open_env(&state.store.keyring, ctx, name, &rec.version, s)?),
        None => None,
    };
    Ok(function_configuration(
        rec,
        &ConfigCtx {
            region: &ctx.region,
            account: &ctx.account,
            name,
            arn_qualifier,
            view,
            env: env.as_ref(),
        },
    ))
}

/// Copy `$LATEST` into a new published version: environment resealed under the version's own data key.
pub(super) fn snapshot_version(
    state: &AppState,
    ctx: &Ctx,
    name: &str,
    latest: &VersionRecord,
    number: i64,
    description: Option<&str>,
) -> ApiResult<VersionRecord> {
    let mut rec = latest.clone();
    rec.version = number.to_string();
    if let Some(d) = description {
        rec.description = d.to_string();
    }
    if let Some(s) = &latest.environment {
        let vars = open_env(&state.store.keyring, ctx, name, "$LATEST", s)?;
        rec.environment = Some(seal_env(
            &state.store.keyring,
            ctx,
            name,
            &rec.version,
            latest.kms_key_arn.as_deref(),
            &vars,
        )?);
    }
    rec.revision_id = new_revision();
    rec.last_modified = now_timestamp();
    rec.state = "Active".into();
    rec.last_update_status = Some("Successful".into());
    Ok(rec)
}

fn check_storage(db: &Db<'_>, ctx: &Ctx, adding: u64) -> ApiResult<()> {
    let (used, _) = records::total_code_size(db, &ctx.account, &ctx.region)?;
    if used as u64 + adding > TOTAL_CODE_SIZE {
        return Err(ApiError::Lambda(LambdaError::CodeStorageExceeded(
            "Code storage limit exceeded.".into(),
        )));
    }
    Ok(())
}

/// `POST /2015-03-31/functions`
pub fn create(state: &Arc<AppState>, ctx: &Ctx, input: &Input) -> ApiResult<Reply> {
    let req: CreateInput = input.json()?;
    // Order as AWS checks: name, zipped size, then the other members.
    let Some(raw_name) = req.function_name.as_deref() else {
        return Err(LambdaError::violation(Violation::null("functionName")).into());
    };
    let r = parse_function_name(raw_name, NameShape::Function)?;
    if r.name.chars().count() > 64 {
        return Err(invalid(lamina_model::error::coral_message(&[
            Violation::new(
                &r.name,
                "functionName",
                "Member must have length less than or equal to 64",
            ),
        ])));
    }
    let fref = function_ref(ctx, raw_name, NameShape::Function, None)?;
    if fref.qualifier.is_some() {
        return Err(invalid("Qualified function names are not supported for CreateFunction. Specify an unqualified function name."));
    }
    let name = fref.name;
    let code_in = req.code.unwrap_or_default();
    if let Some(z) = &code_in.zip_file {
        code::check_zipped_size(code::decoded_len(z))?;
    }
    code::check_request_size(input.body.len(), "CreateFunction")?;
    let mut vs = Violations::default();
    if req.config.role.is_none() {
        vs.push(Violation::null("role"));
    }
    validate_config(&req.config, &mut vs);
    v::check_architectures(&mut vs, req.architectures.as_deref());
    vs.one_of(
        req.package_type.as_deref(),
        "packageType",
        &["Zip", "Image"],
    );
    vs.finish()?;
    if req.package_type.as_deref() == Some("Image") {
        return Err(invalid(
            "Lamina runs Zip deployment packages only; PackageType Image is not supported.",
        ));
    }
    reject_unsupported_code(&code_in)?;
    let Some(zip_b64) = code_in.zip_file.as_deref() else {
        return Err(invalid("Please provide a source for function code."));
    };
    if req.config.runtime.is_none() || req.config.handler.is_none() {
        return Err(invalid("Runtime and Handler are mandatory parameters for functions created with deployment packages."));
    }
    let env = check_config_semantics(&req.config, &ctx.region)?;
    let tags = req.tags.clone().unwrap_or_default();
    v::check_tags(&tags)?;
    if let Some(csc) = &req.code_signing_config_arn {
        return Err(ApiError::Lambda(LambdaError::CodeSigningConfigNotFound(format!(
            "The code signing configuration cannot be found. Check that the provided configuration is not deleted: {csc}."
        ))));
    }
    // Layers are read before the zip so its unzipped budget accounts for them.
    let layers = match &req.config.layers {
        Some(l) => state.store.tx(|db| resolve_layers(db, l))?,
        None => Vec::new(),
    };
    let pkg: Package = code::ingest(state, zip_b64, budget_after_layers(&layers))?;
    let kms = req.config.kms_key_arn.clone().filter(|k| !k.is_empty());
    let sealed = match &env {
        Some(vars) => Some(seal_env(
            &state.store.keyring,
            ctx,
            &name,
            "$LATEST",
            kms.as_deref(),
            vars,
        )?),
        None => None,
    };
    let mut rec = VersionRecord {
        version: "$LATEST".into(),
        description: String::new(),
        role: String::new(),
        runtime: None,
        handler: None,
        timeout: 3,
        memory_size: 128,
        ephemeral_storage: 512,
        code_sha256: pkg.blob.base64(),
        code_size: pkg.blob.size,
        unzipped_size: pkg.unzipped,
        code_blob: pkg.blob.hex(),
        environment: sealed,
        kms_key_arn: kms,
        dead_letter_target: None,
        tracing_mode: "PassThrough".into(),
        layers: Vec::new(),
        architectures: req
            .architectures
            .clone()
            .unwrap_or_else(|| vec!["x86_64".into()]),
        log_format: "Text".into(),
        log_group: format!("/aws/lambda/{name}"),
        application_log_level: None,
        system_log_level: None,
        vpc_config: None,
        snap_start_apply_on: "None".into(),
        last_modified: now_timestamp(),
        revision_id: new_revision(),
        state: "Pending".into(),
        last_update_status: None,
    };
    apply_config(&mut rec, &req.config, Some(layers))?;
    let publish = req.publish.unwrap_or(false);
    let (fid, shown) = state.store.tx(|db| {
        if records::find_function(db, &ctx.account, &ctx.region, &name)?.is_some() {
            return Err(conflict(format!("Function already exist: {name}")));
        }
        check_storage(db, ctx, rec.code_size * if publish { 2 } else { 1 })?;
        let fid = records::insert_function(db, &ctx.account, &ctx.region, &name, &tags)?;
        records::put_version(db, fid, LATEST, &rec)?;
        let mut shown = rec.clone();
        if publish {
            let n = records::take_next_version(db, fid)?;
            let ver = snapshot_version(state, ctx, &name, &rec, n, None)?;
            records::put_version(db, fid, n, &ver)?;
            shown.version = n.to_string();
        }
        Ok::<_, ApiError>((fid, shown))
    })?;
    // The response shows the version the caller created, in the creating state, with $LATEST's environment.
    let mut body = render(state, ctx, &name, &rec, None, View::Full)?;
    body["Version"] = json!(shown.version);
    prefetch(state, &rec);
    transitions::schedule(state, fid);
    Reply::created(body)
}

/// GetFunction and GetFunctionConfiguration share resolution.
fn read(
    state: &AppState,
    ctx: &Ctx,
    target: &str,
    input: &Input,
) -> ApiResult<(FunctionRow, Target, VersionRecord, Option<String>)> {
    let r = function_ref(ctx, target, NameShape::Namespaced, input.q("Qualifier"))?;
    state.store.tx(|db| {
        let f = load_function(db, ctx, &r.name)?;
        let t = resolve::target(db, ctx, &f, r.qualifier.as_deref())?;
        let rec = resolve::version_record(db, ctx, &f, &t)?;
        Ok::<_, ApiError>((f, t, rec, r.qualifier.clone()))
    })
}

/// `GET /2015-03-31/functions/{F}`
pub fn get(state: &Arc<AppState>, ctx: &Ctx, target: &str, input: &Input) -> ApiResult<Reply> {
    let (f, _t, rec, q) = read(state, ctx, target, input)?;
    let config = render(state, ctx, &f.name, &rec, q.as_deref(), View::Full)?;
    let mut body = json!({
        "Configuration": config,
        "Code": { "RepositoryType": "S3", "Location": code::location(state, &ctx.host, &rec.code_blob) },
    });
    if !f.tags.is_empty() {
        body["Tags"] = json!(f.tags);
    }
    if let Some(n) = f.reserved_concurrency {
        body["Concurrency"] = json!({ "ReservedConcurrentExecutions": n });
    }
    Reply::ok(body)
}

/// `GET /2015-03-31/functions/{F}/configuration`
pub fn get_configuration(
    state: &Arc<AppState>,
    ctx: &Ctx,
    target: &str,
    input: &Input,
) -> ApiResult<Reply> {
    let (f, _t, rec, q) = read(state, ctx, target, input)?;
    Reply::ok(render(state, ctx, &f.name, &rec, q.as_deref(), View::Full)?)
}

fn update_in_progress(ctx: &Ctx, name: &str) -> ApiError {
    conflict(format!(
        "The operation cannot be performed at this time. An update is in progress for resource: {}",
        arn::function(&ctx.region, &ctx.account, name)
    ))
}

/// True while `$LATEST` is still being created or updated.
pub(super) fn is_busy(rec: &VersionRecord) -> bool {
    rec.state == "Pending" || rec.last_update_status.as_deref() == Some("InProgress")
}

/// Reject a `Qualifier` on operations that act on `$LATEST` only (UpdateFunctionCode/Configuration).
fn latest_only(r: &resolve::FnRef) -> ApiResult<()> {
    match r.qualifier.as_deref() {
        None | Some("$LATEST") => Ok(()),
        Some(_) => Err(invalid("Updating a function version or alias is not supported. Specify an unqualified function name or $LATEST.")),
    }
}

/// `PUT /2015-03-31/functions/{F}/configuration`
pub fn update_configuration(
    state: &Arc<AppState>,
    ctx: &Ctx,
    target: &str,
    input: &Input,
) -> ApiResult<Reply> {
    let r = function_ref(ctx, target, NameShape::Function, None)?;
    latest_only(&r)?;
    let req: UpdateConfigInput = input.json()?;
    let mut vs = Violations::default();
    validate_config(&req.config, &mut vs);
    vs.finish()?;
    let env = check_config_semantics(&req.config, &ctx.region)?;
    let name = r.name;
    let (fid, rec) = state.store.tx(|db| {
        let f = load_function(db, ctx, &name)?;
        let mut rec = records::get_version(db, f.id, LATEST)?
            .ok_or_else(|| resolve::function_not_found(ctx, &name, None))?;
        check_revision(req.revision_id.as_deref(), &rec.revision_id)?;
        if is_busy(&rec) {
            return Err(update_in_progress(ctx, &name));
        }
        let layers = match &req.config.layers {
            Some(l) => {
                let resolved = resolve_layers(db, l)?;
                if rec.unzipped_size > budget_after_layers(&resolved) {
                    return Err(invalid(format!(
                        "Unzipped size must be smaller than {} bytes",
                        budget_after_layers(&resolved)
                    )));
                }
                Some(resolved)
            }
            None => None,
        };
        apply_config(&mut rec, &req.config, layers)?;
        // A new customer key or new variables: reseal (a fresh data key either way).
        if let Some(k) = &req.config.kms_key_arn {
            rec.kms_key_arn = Some(k.clone()).filter(|k| !k.is_empty());
        }
        let vars = match (&env, &rec.environment) {
            (Some(vars), _) => Some(vars.clone()),
            (None, Some(s)) if req.config.kms_key_arn.is_some() => {
                Some(open_env(&state.store.keyring, ctx, &name, "$LATEST", s)?)
            }
            _ => None,
        };
        if let Some(vars) = vars {
            rec.environment = Some(seal_env(
                &state.store.keyring,
                ctx,
                &name,
                "$LATEST",
                rec.kms_key_arn.as_deref(),
                &vars,
            )?);
        }
        rec.last_modified = now_timestamp();
        rec.revision_id = new_revision();
        rec.last_update_status = Some("InProgress".into());
        records::put_version(db, f.id, LATEST, &rec)?;
        Ok::<_, ApiError>((f.id, rec))
    })?;
    let body = render(state, ctx, &name, &rec, None, View::Full)?;
    if req.config.layers.is_some() {
        prefetch(state, &rec);
    }
    transitions::schedule(state, fid);
    Reply::ok(body)
}

/// `PUT /2015-03-31/functions/{F}/code`
pub fn update_code(
    state: &Arc<AppState>,
    ctx: &Ctx,
    target: &str,
    input: &Input,
) -> ApiResult<Reply> {
    let r = function_ref(ctx, target, NameShape::Function, None)?;
    latest_only(&r)?;
    let req: UpdateCodeInput = input.json()?;
    if let Some(z) = &req.code.zip_file {
        code::check_zipped_size(code::decoded_len(z))?;
    }
    code::check_request_size(input.body.len(), "UpdateFunctionCode")?;
    let mut vs = Violations::default();
    v::check_architectures(&mut vs, req.architectures.as_deref());
    vs.finish()?;
    reject_unsupported_code(&req.code)?;
    let Some(zip_b64) = req.code.zip_file.as_deref() else {
        return Err(invalid("Please provide a source for function code."));
    };
    let name = r.name;
    let current = state.store.tx(|db| {
        let f = load_function(db, ctx, &name)?;
        records::get_version(db, f.id, LATEST)?
            .ok_or_else(|| resolve::function_not_found(ctx, &name, None))
    })?;
    let pkg = code::ingest(state, zip_b64, budget_after_layers(&current.layers))?;
    let dry_run = req.dry_run.unwrap_or(false);
    let publish = req.publish.unwrap_or(false) && !dry_run;
    let (fid, rec, published) = state.store.tx(|db| {
        let f = load_function(db, ctx, &name)?;
        let mut rec = records::get_version(db, f.id, LATEST)?
            .ok_or_else(|| resolve::function_not_found(ctx, &name, None))?;
        check_revision(req.revision_id.as_deref(), &rec.revision_id)?;
        if is_busy(&rec) {
            return Err(update_in_progress(ctx, &name));
        }
        if dry_run {
            return Ok((f.id, rec, None));
        }
        check_storage(db, ctx, pkg.blob.size)?;
        rec.code_sha256 = pkg.blob.base64();
        rec.code_size = pkg.blob.size;
        rec.code_blob = pkg.blob.hex();
        rec.unzipped_size = pkg.unzipped;
        if let Some(a) = &req.architectures {
            rec.architectures = a.clone();
        }
        rec.last_modified = now_timestamp();
        rec.revision_id = new_revision();
        rec.last_update_status = Some("InProgress".into());
        records::put_version(db, f.id, LATEST, &rec)?;
        let published = if publish {
            let n = records::take_next_version(db, f.id)?;
            let ver = snapshot_version(state, ctx, &name, &rec, n, None)?;
            records::put_version(db, f.id, n, &ver)?;
            Some(ver)
        } else {
            None
        };
        Ok::<_, ApiError>((f.id, rec, published))
    })?;
    if dry_run {
        return Reply::ok(render(state, ctx, &name, &rec, None, View::Full)?);
    }
    let body = match &published {
        Some(ver) => {
            // AWS answers with the new version, still Pending, without LastUpdateStatus.
            let mut shown = ver.clone();
            shown.state = "Pending".into();
            shown.last_update_status = None;
            render(state, ctx, &name, &shown, Some(&ver.version), View::Full)?
        }
        None => render(state, ctx, &name, &rec, None, View::Full)?,
    };
    prefetch(state, &rec);
    transitions::schedule(state, fid);
    Reply::ok(body)
}

/// `DELETE /2015-03-31/functions/{F}[?Qualifier=]`
pub fn delete(state: &Arc<AppState>, ctx: &Ctx, target: &str, input: &Input) -> ApiResult<Reply> {
    let r = function_ref(ctx, target, NameShape::Namespaced, input.q("Qualifier"))?;
    state.store.tx(|db| {
        let f = records::find_function(db, &ctx.account, &ctx.region, &r.name)?
            .ok_or_else(|| resolve::function_not_found(ctx, &r.name, None))?;
        match r.qualifier.as_deref() {
            None => records::delete_function(db, f.id)?,
            Some("$LATEST") => {
                return Err(invalid(
                    "$LATEST version cannot be deleted without deleting the function.",
                ))
            }
            Some(q) if lamina_model::names::is_version_number(q) => {
                let n: i64 = q.parse().unwrap_or(-1);
                if records::get_version(db, f.id, n)?.is_none() {
                    return Err(resolve::function_not_found(ctx, &r.name, None));
                }
                let used_by: Vec<String> = records::list_aliases(db, f.id)?
                    .into_iter()
                    .filter(|a| a.function_version == q || a.weights.contains_key(q))
                    .map(|a| a.name)
                    .collect();
                if !used_by.is_empty() {
                    return Err(conflict(format!(
                        "Unable to delete version because the following aliases reference it: [{}]",
                        used_by.join(", ")
                    )));
                }
                records::delete_version(db, f.id, n)?;
                records::put_policy(db, f.id, q, None)?;
                records::put_event_invoke_config(db, f.id, q, None)?;
            }
            Some(_) => return Err(invalid("Deletion of aliases is not currently supported.")),
        }
        Ok::<_, ApiError>(())
    })?;
    Reply::no_content()
}

/// `GET /2015-03-31/functions?FunctionVersion=ALL&Marker=&MaxItems=`
pub fn list(state: &Arc<AppState>, ctx: &Ctx, input: &Input) -> ApiResult<Reply> {
    let all = match input.q("FunctionVersion") {
        None => false,
        Some("ALL") => true,
        Some(other) => {
            return Err(LambdaError::violation(Violation::new(
                other,
                "functionVersion",
                "Member must satisfy enum value set: [ALL]",
            ))
            .into())
        }
    };
    if let Some(mr) = input.q("MasterRegion") {
        let ok = mr == "ALL" || mr.split('-').count() >= 3;
        if !ok {
            return Err(LambdaError::violation(Violation::new(
                mr,
                "masterRegion",
                r"Member must satisfy regular expression pattern: ALL|[a-z]{2}(-gov)?-[a-z]+-\d{1}",
            ))
            .into());
        }
        // Lambda@Edge replicas do not exist in Lamina: the filtered list is empty.
        return Reply::ok(json!({ "Functions": [] }));
    }
    let page = input.max_items(10000, FUNCTION_PAGE_MAX)?;
    // Marker: `name` or `name\nversion` (opaque to clients).
    let marker = input.q("Marker").map(str::to_string);
    let (after_name, after_version) = match marker.as_deref().and_then(|m| m.split_once('\n')) {
        Some((n, v)) => (Some(n.to_string()), v.parse::<i64>().ok()),
        None => (marker.clone(), None),
    };
    let (items, next) = state.store.tx(|db| {
        let mut items: Vec<(String, VersionRecord)> = Vec::new();
        let mut next = None;
        // A partly listed function (ALL mode) is continued first.
        if let (Some(n), Some(after)) = (&after_name, after_version) {
            if let Some(f) = records::find_function(db, &ctx.account, &ctx.region, n)? {
                for (ver, rec) in records::list_versions(db, f.id, Some(after), page + 1)? {
                    if items.len() == page {
                        next = Some(format!("{}\n{}", f.name, ver - 1));
                        break;
                    }
                    items.push((f.name.clone(), rec));
                }
            }
        }
        if next.is_none() {
            let start = after_name.as_deref();
            let fns = records::list_functions(db, &ctx.account, &ctx.region, start, page + 1)?;
            'outer: for f in fns {
                if items.len() == page {
                    next = Some(items.last().map(|(n, _)| n.clone()).unwrap_or_default());
                    break;
                }
                if all {
                    for (ver, rec) in records::list_versions(db, f.id, None, page + 1)? {
                        if items.len() == page {
                            next = Some(format!("{}\n{}", f.name, ver - 1));
                            break 'outer;
                        }
                        items.push((f.name.clone(), rec));
                    }
                } else if let Some(rec) = records::get_version(db, f.id, LATEST)? {
                    items.push((f.name.clone(), rec));
                }
            }
        }
        Ok::<_, ApiError>((items, next))
    })?;
    let mut out = Vec::with_capacity(items.len());
    for (name, rec) in &items {
        let q = if all {
            Some(rec.version.as_str())
        } else {
            None
        };
        out.push(render(state, ctx, name, rec, q, View::List)?);
    }
    let mut body = json!({ "Functions": out });
    if let Some(n) = next {
        body["NextMarker"] = json!(n);
    }
    Reply::ok(body)
}
