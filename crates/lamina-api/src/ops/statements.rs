//! Resource-policy documents, shared by function policies and layer version policies: the members every
//! permission needs, and adding or removing one statement by its Sid (AWS's messages for both).

use crate::error::{conflict, not_found, ApiError, ApiResult};
use lamina_model::error::Violation;
use lamina_model::validate::Violations;
use lamina_model::LambdaError;
use lamina_store::StoreError;
use serde_json::{json, Value};

/// StatementId, Action and Principal are required; all missing ones are reported together.
pub fn required<'a>(
    statement_id: &'a Option<String>,
    action: &'a Option<String>,
    principal: &'a Option<String>,
) -> ApiResult<(&'a str, &'a str, &'a str)> {
    match (statement_id, action, principal) {
        (Some(s), Some(a), Some(p)) => Ok((s, a, p)),
        _ => {
            let nulls = [
                (action, "action"),
                (principal, "principal"),
                (statement_id, "statementId"),
            ]
            .into_iter()
            .filter(|(v, _)| v.is_none())
            .map(|(_, path)| Violation::null(path))
            .collect();
            Err(LambdaError::Validation(nulls).into())
        }
    }
}

/// An AWS Organizations id: `o-[a-z0-9]{10,32}`.
pub fn check_org_id(vs: &mut Violations, value: Option<&str>, path: &str) {
    let Some(o) = value else { return };
    let ok = o.strip_prefix("o-").is_some_and(|r| {
        (10..=32).contains(&r.len())
            && r.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    });
    if !ok {
        vs.push(Violation::new(
            o,
            path,
            "Member must satisfy regular expression pattern: o-[a-z0-9]{10,32}",
        ));
    }
}

fn parse(doc: &str) -> ApiResult<Value> {
    Ok(serde_json::from_str(doc).map_err(StoreError::from)?)
}

fn statements(doc: &mut Value) -> ApiResult<&mut Vec<Value>> {
    doc["Statement"].as_array_mut().ok_or_else(|| {
        ApiError::Lambda(LambdaError::Service(
            "Stored policy document is malformed".into(),
        ))
    })
}

/// Append `statement` to `doc` (a new document when `None`); a Sid already present → 409. The new document.
pub fn add(doc: Option<&str>, statement: Value) -> ApiResult<String> {
    let mut doc = match doc {
        Some(d) => parse(d)?,
        None => json!({ "Version": "2012-10-17", "Id": "default", "Statement": [] }),
    };
    let sid = statement["Sid"].as_str().unwrap_or_default().to_string();
    let list = statements(&mut doc)?;
    if list.iter().any(|s| s["Sid"] == json!(sid)) {
        return Err(conflict(format!(
            "The statement id ({sid}) provided already exists. Please provide a new statement id, or remove the existing statement."
        )));
    }
    list.push(statement);
    Ok(serde_json::to_string(&doc).map_err(StoreError::from)?)
}

/// Remove the statement `sid` from `doc`; unknown → 404. The remaining document, `None` when it is empty.
pub fn remove(doc: &str, sid: &str) -> ApiResult<Option<String>> {
    let mut doc = parse(doc)?;
    let list = statements(&mut doc)?;
    let before = list.len();
    list.retain(|s| s["Sid"] != json!(sid));
    if list.len() == before {
        return Err(not_found(format!(
            "Statement {sid} is not found in resource policy."
        )));
    }
    if list.is_empty() {
        return Ok(None);
    }
    Ok(Some(serde_json::to_string(&doc).map_err(StoreError::from)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_and_remove_keep_order_and_refuse_duplicates() {
        let one = add(None, json!({"Sid": "a", "Effect": "Allow"})).expect("first");
        assert_eq!(
            one,
            r#"{"Version":"2012-10-17","Id":"default","Statement":[{"Sid":"a","Effect":"Allow"}]}"#
        );
        let two = add(Some(&one), json!({"Sid": "b"})).expect("second");
        assert!(matches!(
            add(Some(&two), json!({"Sid": "a"})),
            Err(ApiError::Lambda(LambdaError::Conflict(_)))
        ));
        let left = remove(&two, "a").expect("remove").expect("not empty");
        assert!(left.contains(r#""Sid":"b""#) && !left.contains(r#""Sid":"a""#));
        assert!(matches!(
            remove(&left, "zz"),
            Err(ApiError::Lambda(LambdaError::NotFound(_)))
        ));
        assert_eq!(remove(&left, "b").expect("last"), None);
    }

    #[test]
    fn required_members_are_reported_together() {
        let none = None;
        let some = Some("x".to_string());
        let e = required(&none, &some, &none).expect_err("two missing");
        assert_eq!(
            e.to_string(),
            "2 validation errors detected: Value null at 'principal' failed to satisfy constraint: Member must not be null; Value null at 'statementId' failed to satisfy constraint: Member must not be null"
        );
    }
}
