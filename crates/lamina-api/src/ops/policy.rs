//! AddPermission, GetPolicy, RemovePermission: per-qualifier resource policies (§1.3).

use super::check_revision;
use super::statements;
use crate::edge::{Ctx, Reply};
use crate::error::{invalid, not_found, ApiError, ApiResult};
use crate::input::Input;
use crate::resolve::{self, function_ref, FnRef, Target};
use crate::state::AppState;
use lamina_model::error::Violation;
use lamina_model::limits::POLICY_MAX;
use lamina_model::names::{validate_statement_id, NameShape};
use lamina_model::validate::Violations;
use lamina_model::{arn, LambdaError};
use lamina_store::records::{self, FunctionRow};
use lamina_store::Db;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::sync::Arc;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AddInput {
    statement_id: Option<String>,
    action: Option<String>,
    principal: Option<String>,
    source_arn: Option<String>,
    source_account: Option<String>,
    event_source_token: Option<String>,
    revision_id: Option<String>,
    #[serde(rename = "PrincipalOrgID")]
    principal_org_id: Option<String>,
    function_url_auth_type: Option<String>,
    invoked_via_function_url: Option<bool>,
}

fn validate_add(req: &AddInput) -> ApiResult<(String, String, String)> {
    let mut vs = Violations::default();
    let (sid, action, principal) =
        statements::required(&req.statement_id, &req.action, &req.principal)?;
    validate_statement_id(sid, false)?;
    let action_ok = action == "*"
        || action == "lambda:*"
        || action
            .strip_prefix("lambda:")
            .is_some_and(|a| !a.is_empty() && a.bytes().all(|b| b.is_ascii_alphabetic()));
    if !action_ok {
        vs.push(Violation::new(
            action,
            "action",
            r"Member must satisfy regular expression pattern: (lambda:[*]|lambda:[a-zA-Z]+|[*])",
        ));
    }
    if principal.is_empty() || principal.chars().any(char::is_whitespace) {
        vs.push(Violation::new(
            principal,
            "principal",
            r"Member must satisfy regular expression pattern: [^\s]+",
        ));
    }
    if let Some(a) = &req.source_account {
        if a.len() != 12 || !a.bytes().all(|b| b.is_ascii_digit()) {
            vs.push(Violation::new(
                a,
                "sourceAccount",
                r"Member must satisfy regular expression pattern: \d{12}",
            ));
        }
    }
    statements::check_org_id(&mut vs, req.principal_org_id.as_deref(), "principalOrgID");
    if let Some(t) = &req.event_source_token {
        vs.length(Some(t), "eventSourceToken", 0, 256);
    }
    if let Some(s) = &req.source_arn {
        let parts: Vec<&str> = s.splitn(6, ':').collect();
        if parts.len() != 6
            || parts[0] != "arn"
            || !parts[1].starts_with("aws")
            || parts[2].is_empty()
        {
            vs.push(Violation::new(
                s,
                "sourceArn",
                r"Member must satisfy regular expression pattern: arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9\-])+:([a-z]{2}(-gov)?-[a-z]+-\d{1})?:(\d{12})?:(.*)",
            ));
        }
    }
    vs.one_of(
        req.function_url_auth_type.as_deref(),
        "functionUrlAuthType",
        &["NONE", "AWS_IAM"],
    );
    vs.finish()?;
    Ok((sid.to_string(), action.to_string(), principal.to_string()))
}

fn principal_json(p: &str) -> ApiResult<Value> {
    if p == "*" {
        return Ok(json!("*"));
    }
    if p.ends_with(".amazonaws.com") || p.ends_with(".amazonaws.com.cn") {
        return Ok(json!({ "Service": p }));
    }
    if p.len() == 12 && p.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(json!({ "AWS": format!("arn:aws:iam::{p}:root") }));
    }
    if p.starts_with("arn:aws") && p.contains(":iam::") {
        return Ok(json!({ "AWS": p }));
    }
    Err(invalid(
        "The provided principal was invalid. Please check the principal and try again.",
    ))
}

/// The policy document key (`""` unqualified) and the revision it is checked against.
fn policy_scope(
    db: &Db<'_>,
    ctx: &Ctx,
    f: &FunctionRow,
    r: &FnRef,
    adding: bool,
) -> ApiResult<(String, String)> {
    match r.qualifier.as_deref() {
        None => {
            let rec = resolve::version_record(db, ctx, f, &Target::Latest)?;
            Ok((String::new(), rec.revision_id))
        }
        Some("$LATEST") if adding => Err(invalid(
            "We currently do not support adding policies for $LATEST.",
        )),
        Some("$LATEST") => Ok((
            String::new(),
            resolve::version_record(db, ctx, f, &Target::Latest)?.revision_id,
        )),
        Some(q) => {
            let t = resolve::target(db, ctx, f, Some(q)).map_err(|e| {
                match (&e, lamina_model::names::is_version_number(q)) {
                    (ApiError::Lambda(LambdaError::NotFound(_)), false) => not_found(format!(
                        "Cannot find alias arn: {}",
                        arn::function_qualified(&ctx.region, &ctx.account, &f.name, q)
                    )),
                    _ => e,
                }
            })?;
            let rev = match &t {
                Target::Alias(a) => a.revision_id.clone(),
                other => resolve::version_record(db, ctx, f, other)?.revision_id,
            };
            Ok((q.to_string(), rev))
        }
    }
}

/// `POST /2015-03-31/functions/{F}/policy`
pub fn add(state: &Arc<AppState>, ctx: &Ctx, target: &str, input: &Input) -> ApiResult<Reply> {
    let r = function_ref(ctx, target, NameShape::Namespaced, input.q("Qualifier"))?;
    let req: AddInput = input.json()?;
    let (sid, action, principal) = validate_add(&req)?;
    let principal = principal_json(&principal)?;
    let statement = state.store.tx(|db| {
        let f = resolve::load_function(db, ctx, &r.name)?;
        let (key, rev) = policy_scope(db, ctx, &f, &r, true)?;
        check_revision(req.revision_id.as_deref(), &rev)?;
        let resource = match r.qualifier.as_deref() {
            Some(q) => arn::function_qualified(&ctx.region, &ctx.account, &f.name, q),
            None => arn::function(&ctx.region, &ctx.account, &f.name),
        };
        let mut st = Map::new();
        st.insert("Sid".into(), json!(sid));
        st.insert("Effect".into(), json!("Allow"));
        st.insert("Principal".into(), principal.clone());
        st.insert("Action".into(), json!(action));
        st.insert("Resource".into(), json!(resource));
        let mut cond = Map::new();
        let mut eq = Map::new();
        if let Some(a) = &req.source_account {
            eq.insert("AWS:SourceAccount".into(), json!(a));
        }
        if let Some(a) = &req.function_url_auth_type {
            eq.insert("lambda:FunctionUrlAuthType".into(), json!(a));
        }
        if let Some(a) = &req.principal_org_id {
            eq.insert("aws:PrincipalOrgID".into(), json!(a));
        }
        if let Some(a) = &req.event_source_token {
            eq.insert("lambda:EventSourceToken".into(), json!(a));
        }
        if !eq.is_empty() {
            cond.insert("StringEquals".into(), Value::Object(eq));
        }
        if let Some(a) = &req.source_arn {
            cond.insert("ArnLike".into(), json!({ "AWS:SourceArn": a }));
        }
        if req.invoked_via_function_url == Some(true) {
            cond.insert(
                "Bool".into(),
                json!({ "lambda:InvokedViaFunctionUrl": "true" }),
            );
        }
        if !cond.is_empty() {
            st.insert("Condition".into(), Value::Object(cond));
        }
        let st = Value::Object(st);
        let current = records::get_policy(db, f.id, &key)?.map(|(d, _)| d);
        let text = statements::add(current.as_deref(), st.clone())?;
        if text.len() > POLICY_MAX {
            return Err(ApiError::Lambda(LambdaError::PolicyLengthExceeded(
                format!(
                    "The final policy size ({}) is bigger than the limit ({POLICY_MAX}).",
                    text.len()
                ),
            )));
        }
        records::put_policy(db, f.id, &key, Some((&text, &super::new_revision())))?;
        Ok::<_, ApiError>(st)
    })?;
    Reply::created(json!({ "Statement": serde_json::to_string(&statement).unwrap_or_default() }))
}

/// `GET /2015-03-31/functions/{F}/policy`
pub fn get(state: &Arc<AppState>, ctx: &Ctx, target: &str, input: &Input) -> ApiResult<Reply> {
    let r = function_ref(ctx, target, NameShape::Namespaced, input.q("Qualifier"))?;
    let nothing = || not_found("The resource you requested does not exist.");
    let (doc, rev) = state.store.tx(|db| {
        let f =
            records::find_function(db, &ctx.account, &ctx.region, &r.name)?.ok_or_else(nothing)?;
        let (key, rev) = policy_scope(db, ctx, &f, &r, false).map_err(|_| nothing())?;
        let (doc, _) = records::get_policy(db, f.id, &key)?.ok_or_else(nothing)?;
        Ok::<_, ApiError>((doc, rev))
    })?;
    Reply::ok(json!({ "Policy": doc, "RevisionId": rev }))
}

/// `DELETE /2015-03-31/functions/{F}/policy/{Sid}[?Qualifier=&RevisionId=]`
pub fn remove(
    state: &Arc<AppState>,
    ctx: &Ctx,
    target: &str,
    sid: &str,
    input: &Input,
) -> ApiResult<Reply> {
    let r = function_ref(ctx, target, NameShape::Namespaced, input.q("Qualifier"))?;
    validate_statement_id(sid, true)?;
    state.store.tx(|db| {
        let f =
            records::find_function(db, &ctx.account, &ctx.region, &r.name)?.ok_or_else(|| {
                not_found(format!(
                    "No policy found for: {}",
                    arn::function(&ctx.region, &ctx.account, &r.name)
                ))
            })?;
        let (key, rev) = policy_scope(db, ctx, &f, &r, false)?;
        check_revision(input.q("RevisionId"), &rev)?;
        let (doc, _) = records::get_policy(db, f.id, &key)?
            .ok_or_else(|| not_found("No policy is associated with the given resource."))?;
        match statements::remove(&doc, sid)? {
            None => records::put_policy(db, f.id, &key, None)?,
            Some(text) => {
                records::put_policy(db, f.id, &key, Some((&text, &super::new_revision())))?
            }
        }
        Ok::<_, ApiError>(())
    })?;
    Reply::no_content()
}
