//! Layer operations: publish, get (by name+version or by ARN), list layers and versions, delete (§1.3).

use super::now_timestamp;
use crate::code;
use crate::edge::{Ctx, Reply};
use crate::error::{invalid, not_found, ApiError, ApiResult};
use crate::input::Input;
use crate::state::AppState;
use crate::wire;
use lamina_model::error::Violation;
use lamina_model::limits::UNZIPPED_MAX;
use lamina_model::names::parse_layer_name;
use lamina_model::runtimes::is_layer_compatible_runtime;
use lamina_model::validate::{parse_layer_version_arn, Violations, LAYER_VERSION_ARN_PATTERN};
use lamina_model::LambdaError;
use lamina_store::records::{self, LayerVersionRecord};
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ContentInput {
    zip_file: Option<String>,
    #[serde(rename = "S3Bucket")]
    s3_bucket: Option<String>,
    #[serde(rename = "S3Key")]
    s3_key: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PublishInput {
    content: Option<ContentInput>,
    description: Option<String>,
    compatible_runtimes: Option<Vec<String>>,
    license_info: Option<String>,
    compatible_architectures: Option<Vec<String>>,
}

/// The runtime list AWS prints in layer validation errors, in AWS's order (recorded).
const LAYER_RUNTIME_ENUM: &[&str] = &[
    "nodejs20.x",
    "python3.14",
    "provided.al2023",
    "python3.12",
    "python3.13",
    "nodejs24.x",
    "nodejs22.x",
    "java25",
    "python3.10",
    "python3.11",
    "java21",
    "ruby3.3",
    "ruby3.4",
    "ruby3.2",
    "python3.8",
    "python3.9",
    "java17",
    "nodejs16.x",
    "dotnet10",
    "dotnet8",
    "java11",
    "dotnet6",
    "nodejs18.x",
    "provided.al2",
    "java8.al2",
];

const ARCH_CONSTRAINT: &str = "Member must satisfy constraint: [Member must satisfy enum value set: [x86_64, arm64], Member must not be null]";

fn check_filters(runtimes: &[String], archs: &[String], vs: &mut Violations, plural: bool) {
    let (rp, ap) = if plural {
        ("compatibleRuntimes", "compatibleArchitectures")
    } else {
        ("compatibleRuntime", "compatibleArchitecture")
    };
    if runtimes.iter().any(|r| !is_layer_compatible_runtime(r)) {
        vs.push(Violation {
            value: if plural {
                format!("'[{}]'", runtimes.join(", "))
            } else {
                format!("'{}'", runtimes.join(", "))
            },
            path: rp.into(),
            constraint: format!(
                "Member must satisfy enum value set: [{}]",
                LAYER_RUNTIME_ENUM.join(", ")
            ),
        });
    }
    if archs.iter().any(|a| a != "x86_64" && a != "arm64") {
        vs.push(Violation {
            value: if plural {
                format!("'[{}]'", archs.join(", "))
            } else {
                format!("'{}'", archs.join(", "))
            },
            path: ap.into(),
            constraint: if plural {
                ARCH_CONSTRAINT.into()
            } else {
                "Member must satisfy enum value set: [x86_64, arm64]".into()
            },
        });
    }
}

/// A `{LayerName}` label: bare name or layer ARN of the caller's account and region.
fn layer_name(ctx: &Ctx, raw: &str) -> ApiResult<String> {
    let (name, region, account) = parse_layer_name(raw)?;
    if region.is_some_and(|r| r != ctx.region) || account.is_some_and(|a| a != ctx.account) {
        return Err(not_found("The resource you requested does not exist."));
    }
    Ok(name)
}

fn version_number(raw: &str) -> ApiResult<i64> {
    let n: i64 = raw
        .parse()
        .map_err(|_| invalid("Layer Version Cannot be less than 1"))?;
    if n < 1 {
        return Err(invalid("Layer Version Cannot be less than 1"));
    }
    Ok(n)
}

/// `POST /2018-10-31/layers/{LayerName}/versions`
pub fn publish(state: &Arc<AppState>, ctx: &Ctx, target: &str, input: &Input) -> ApiResult<Reply> {
    let name = layer_name(ctx, target)?;
    let req: PublishInput = input.json()?;
    if let Some(z) = req.content.as_ref().and_then(|c| c.zip_file.as_ref()) {
        code::check_zipped_size(code::decoded_len(z))?;
    }
    code::check_request_size(input.body.len(), "PublishLayerVersion")?;
    let runtimes = req.compatible_runtimes.clone().unwrap_or_default();
    let archs = req.compatible_architectures.clone().unwrap_or_default();
    let mut vs = Violations::default();
    if req.content.is_none() {
        vs.push(Violation::null("content"));
    }
    vs.length(req.description.as_deref(), "description", 0, 256);
    vs.length(req.license_info.as_deref(), "licenseInfo", 0, 512);
    check_filters(&runtimes, &archs, &mut vs, true);
    if runtimes.len() > 15 {
        vs.push(Violation {
            value: format!("'[{}]'", runtimes.join(", ")),
            path: "compatibleRuntimes".into(),
            constraint: "Member must have length less than or equal to 15".into(),
        });
    }
    if archs.len() > 2 {
        vs.push(Violation {
            value: format!("'[{}]'", archs.join(", ")),
            path: "compatibleArchitectures".into(),
            constraint: "Member must have length less than or equal to 2".into(),
        });
    }
    vs.finish()?;
    let content = req.content.unwrap_or_default();
    if content.s3_bucket.is_some() || content.s3_key.is_some() {
        return Err(invalid("Lamina does not read layer content from Amazon S3. Upload the layer archive directly with Content.ZipFile."));
    }
    let Some(zip) = content.zip_file.as_deref() else {
        return Err(invalid("Missing Content"));
    };
    let pkg = code::ingest(state, zip, UNZIPPED_MAX)?;
    let rec = state.store.tx(|db| {
        let (layer_id, version) =
            records::take_layer_version(db, &ctx.account, &ctx.region, &name)?;
        let rec = LayerVersionRecord {
            version,
            description: req.description.clone().unwrap_or_default(),
            created_date: now_timestamp(),
            compatible_runtimes: runtimes.clone(),
            compatible_architectures: archs.clone(),
            license_info: req.license_info.clone(),
            code_sha256: pkg.blob.base64(),
            code_size: pkg.blob.size,
            unzipped_size: pkg.unzipped,
            blob: pkg.blob.hex(),
            policy: None,
        };
        records::put_layer_version(db, layer_id, &rec)?;
        Ok::<_, ApiError>(rec)
    })?;
    let loc = code::location(state, &ctx.host, &rec.blob);
    Reply::created(wire::layer_version(
        &ctx.region,
        &ctx.account,
        &name,
        &rec,
        Some(loc),
    ))
}

fn lookup(state: &AppState, ctx: &Ctx, name: &str, version: i64) -> ApiResult<LayerVersionRecord> {
    let nothing = || not_found("The resource you requested does not exist.");
    state.store.tx(|db| {
        let (id, _) =
            records::find_layer(db, &ctx.account, &ctx.region, name)?.ok_or_else(nothing)?;
        records::get_layer_version(db, id, version)?.ok_or_else(nothing)
    })
}

/// `GET /2018-10-31/layers/{LayerName}/versions/{VersionNumber}`
pub fn get(state: &Arc<AppState>, ctx: &Ctx, target: &str, version: &str) -> ApiResult<Reply> {
    let name = layer_name(ctx, target)?;
    let n = version_number(version)?;
    let rec = lookup(state, ctx, &name, n)?;
    let loc = code::location(state, &ctx.host, &rec.blob);
    Reply::ok(wire::layer_version(
        &ctx.region,
        &ctx.account,
        &name,
        &rec,
        Some(loc),
    ))
}

/// `GET /2018-10-31/layers?find=LayerVersion&Arn=…`
pub fn get_by_arn(state: &Arc<AppState>, ctx: &Ctx, input: &Input) -> ApiResult<Reply> {
    let raw = input.q("Arn").unwrap_or("");
    let p = parse_layer_version_arn(raw).ok_or_else(|| {
        ApiError::from(LambdaError::violation(Violation::new(
            raw,
            "arn",
            format!("Member must satisfy regular expression pattern: {LAYER_VERSION_ARN_PATTERN}"),
        )))
    })?;
    if p.region != ctx.region || p.account != ctx.account {
        return Err(not_found("The resource you requested does not exist."));
    }
    let rec = lookup(state, ctx, &p.name, p.version)?;
    let loc = code::location(state, &ctx.host, &rec.blob);
    Reply::ok(wire::layer_version(
        &ctx.region,
        &ctx.account,
        &p.name,
        &rec,
        Some(loc),
    ))
}

fn filters(input: &Input) -> ApiResult<(Option<String>, Option<String>)> {
    let rt = input.q("CompatibleRuntime").map(str::to_string);
    let arch = input.q("CompatibleArchitecture").map(str::to_string);
    let mut vs = Violations::default();
    check_filters(rt.as_slice(), arch.as_slice(), &mut vs, false);
    vs.finish()?;
    Ok((rt, arch))
}

fn matches(rec: &LayerVersionRecord, rt: &Option<String>, arch: &Option<String>) -> bool {
    rt.as_ref()
        .is_none_or(|r| rec.compatible_runtimes.contains(r))
        && arch
            .as_ref()
            .is_none_or(|a| rec.compatible_architectures.contains(a))
}

/// `GET /2018-10-31/layers/{LayerName}/versions`: newest first; unknown layer → empty list.
pub fn list_versions(
    state: &Arc<AppState>,
    ctx: &Ctx,
    target: &str,
    input: &Input,
) -> ApiResult<Reply> {
    let name = layer_name(ctx, target)?;
    let (rt, arch) = filters(input)?;
    let page = input.max_items(50, 50)?;
    let marker: Option<i64> = input.q("Marker").and_then(|m| m.parse().ok());
    let all =
        state.store.tx(
            |db| match records::find_layer(db, &ctx.account, &ctx.region, &name)? {
                Some((id, _)) => Ok::<_, ApiError>(records::list_layer_versions(db, id)?),
                None => Ok(Vec::new()),
            },
        )?;
    let rows: Vec<&LayerVersionRecord> = all
        .iter()
        .filter(|r| matches(r, &rt, &arch))
        .filter(|r| marker.is_none_or(|m| r.version < m))
        .collect();
    let shown: Vec<Value> = rows
        .iter()
        .take(page)
        .map(|r| wire::layer_version(&ctx.region, &ctx.account, &name, r, None))
        .collect();
    let mut body = json!({ "LayerVersions": shown });
    if rows.len() > page {
        body["NextMarker"] = json!(rows[page - 1].version.to_string());
    }
    Reply::ok(body)
}

/// `GET /2018-10-31/layers`: each layer with its newest matching version.
pub fn list_layers(state: &Arc<AppState>, ctx: &Ctx, input: &Input) -> ApiResult<Reply> {
    let (rt, arch) = filters(input)?;
    let page = input.max_items(50, 50)?;
    let marker = input.q("Marker").unwrap_or("").to_string();
    let layers = state.store.tx(|db| {
        let mut out = Vec::new();
        for (name, id) in records::list_layers(db, &ctx.account, &ctx.region)? {
            if name <= marker {
                continue;
            }
            if let Some(latest) = records::list_layer_versions(db, id)?
                .into_iter()
                .find(|r| matches(r, &rt, &arch))
            {
                out.push((name, latest));
            }
        }
        Ok::<_, ApiError>(out)
    })?;
    let shown: Vec<Value> = layers
        .iter()
        .take(page)
        .map(|(name, rec)| {
            json!({
                "LayerName": name,
                "LayerArn": lamina_model::arn::layer(&ctx.region, &ctx.account, name),
                "LatestMatchingVersion": wire::layer_version(&ctx.region, &ctx.account, name, rec, None),
            })
        })
        .collect();
    let mut body = json!({ "Layers": shown });
    if layers.len() > page {
        body["NextMarker"] = json!(layers[page - 1].0);
    }
    Reply::ok(body)
}

/// `DELETE /2018-10-31/layers/{LayerName}/versions/{VersionNumber}`: 204 even when missing.
pub fn delete(state: &Arc<AppState>, ctx: &Ctx, target: &str, version: &str) -> ApiResult<Reply> {
    let name = layer_name(ctx, target)?;
    let n = version_number(version)?;
    state.store.tx(|db| {
        if let Some((id, _)) = records::find_layer(db, &ctx.account, &ctx.region, &name)? {
            records::delete_layer_version(db, id, n)?;
        }
        Ok::<_, ApiError>(())
    })?;
    Reply::no_content()
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct LayerPermissionInput {
    statement_id: Option<String>,
    action: Option<String>,
    principal: Option<String>,
    organization_id: Option<String>,
    revision_id: Option<String>,
}

const LAYER_REVISION_MISMATCH: &str =
    "The Revision Id provided does not match the latest Revision Id. Call the GetLayerPolicy API to retrieve the latest Revision Id";

/// Load a layer version for a policy operation; missing → 404 `Layer version {arn} does not exist.`
fn policy_target(
    db: &lamina_store::Db<'_>,
    ctx: &Ctx,
    name: &str,
    version: i64,
) -> ApiResult<(i64, LayerVersionRecord)> {
    let missing = || {
        not_found(format!(
            "Layer version {} does not exist.",
            lamina_model::arn::layer_version(&ctx.region, &ctx.account, name, version)
        ))
    };
    let (id, _) = records::find_layer(db, &ctx.account, &ctx.region, name)?.ok_or_else(missing)?;
    let rec = records::get_layer_version(db, id, version)?.ok_or_else(missing)?;
    Ok((id, rec))
}

/// `POST /2018-10-31/layers/{L}/versions/{N}/policy` (AddLayerVersionPermission).
pub fn add_permission(
    state: &Arc<AppState>,
    ctx: &Ctx,
    target: &str,
    version: &str,
    input: &Input,
) -> ApiResult<Reply> {
    let name = layer_name(ctx, target)?;
    let n = version_number(version)?;
    let req: LayerPermissionInput = input.json()?;
    let (sid, action, principal) =
        super::statements::required(&req.statement_id, &req.action, &req.principal)?;
    lamina_model::names::validate_statement_id(sid, false)?;
    let mut vs = Violations::default();
    if action != "lambda:GetLayerVersion" {
        vs.push(Violation::new(
            action,
            "action",
            "Member must satisfy regular expression pattern: lambda:GetLayerVersion",
        ));
    }
    let account_principal = principal.len() == 12 && principal.bytes().all(|b| b.is_ascii_digit());
    if principal != "*" && !account_principal && !principal.starts_with("arn:aws:iam::") {
        vs.push(Violation::new(principal, "principal", r"Member must satisfy regular expression pattern: \d{12}|\*|arn:(aws[a-zA-Z-]*):iam::\d{12}:root"));
    }
    super::statements::check_org_id(&mut vs, req.organization_id.as_deref(), "organizationId");
    vs.finish()?;
    let (statement, rev) = state.store.tx(|db| {
        let (id, mut rec) = policy_target(db, ctx, &name, n)?;
        // botocore sends this operation's RevisionId in the query string.
        let given = input
            .q("RevisionId")
            .map(str::to_string)
            .or_else(|| req.revision_id.clone());
        if let (Some(given), Some((_, current))) = (&given, &rec.policy) {
            if given != current {
                return Err(ApiError::Lambda(LambdaError::PreconditionFailed(
                    LAYER_REVISION_MISMATCH.into(),
                )));
            }
        }
        let who = if account_principal {
            json!({ "AWS": format!("arn:aws:iam::{principal}:root") })
        } else if principal == "*" {
            json!("*")
        } else {
            json!({ "AWS": principal })
        };
        let mut st = json!({
            "Sid": sid,
            "Effect": "Allow",
            "Principal": who,
            "Action": action,
            "Resource": lamina_model::arn::layer_version(&ctx.region, &ctx.account, &name, n),
        });
        if let Some(o) = &req.organization_id {
            st["Condition"] = json!({ "StringEquals": { "aws:PrincipalOrgID": o } });
        }
        let text =
            super::statements::add(rec.policy.as_ref().map(|(d, _)| d.as_str()), st.clone())?;
        let rev = uuid::Uuid::new_v4().to_string();
        rec.policy = Some((text, rev.clone()));
        records::update_layer_version(db, id, &rec)?;
        Ok::<_, ApiError>((st, rev))
    })?;
    Reply::created(json!({ "Statement": statement.to_string(), "RevisionId": rev }))
}

/// `GET /2018-10-31/layers/{L}/versions/{N}/policy` (GetLayerVersionPolicy).
pub fn get_policy(
    state: &Arc<AppState>,
    ctx: &Ctx,
    target: &str,
    version: &str,
) -> ApiResult<Reply> {
    let name = layer_name(ctx, target)?;
    let n = version_number(version)?;
    let rec = state
        .store
        .tx(|db| policy_target(db, ctx, &name, n).map(|(_, r)| r))?;
    let (doc, rev) = rec
        .policy
        .ok_or_else(|| not_found("No policy is associated with the given resource."))?;
    Reply::ok(json!({ "Policy": doc, "RevisionId": rev }))
}

/// `DELETE /2018-10-31/layers/{L}/versions/{N}/policy/{Sid}` (RemoveLayerVersionPermission).
pub fn remove_permission(
    state: &Arc<AppState>,
    ctx: &Ctx,
    target: &str,
    version: &str,
    sid: &str,
    input: &Input,
) -> ApiResult<Reply> {
    let name = layer_name(ctx, target)?;
    let n = version_number(version)?;
    lamina_model::names::validate_statement_id(sid, true)?;
    state.store.tx(|db| {
        let (id, mut rec) = policy_target(db, ctx, &name, n)?;
        let Some((doc, current)) = rec.policy.clone() else {
            return Err(not_found(
                "No policy is associated with the given resource.",
            ));
        };
        if input.q("RevisionId").is_some_and(|g| g != current) {
            return Err(ApiError::Lambda(LambdaError::PreconditionFailed(
                LAYER_REVISION_MISMATCH.into(),
            )));
        }
        rec.policy = super::statements::remove(&doc, sid)?
            .map(|text| (text, uuid::Uuid::new_v4().to_string()));
        records::update_layer_version(db, id, &rec)?;
        Ok::<_, ApiError>(())
    })?;
    Reply::no_content()
}
