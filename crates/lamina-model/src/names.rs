//! Parsing and validating the names callers use for functions, aliases, qualifiers and statement ids (§7.1).

use crate::error::{LambdaError, Violation};
use regex::Regex;
use std::sync::LazyLock;

/// Pattern AWS prints for the `FunctionName` shape (create, update, alias, concurrency, publish).
pub const FUNCTION_NAME_PATTERN: &str = r"(arn:(aws[a-zA-Z-]*)?:lambda:)?((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:)?(\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\$LATEST|[a-zA-Z0-9-_]+))?";
/// Pattern AWS prints for the `NamespacedFunctionName` shape (get, delete, invoke, policy).
pub const NAMESPACED_NAME_PATTERN: &str = r"(arn:(aws[a-zA-Z-]*)?:lambda:)?((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:)?(\d{12}:)?(function:)?([a-zA-Z0-9-_\.]+)(:(\$LATEST(\.PUBLISHED)?|[a-zA-Z0-9-_]+))?";
/// Pattern AWS prints for a `Qualifier` query parameter.
pub const QUALIFIER_PATTERN: &str = r"\$(LATEST(\.PUBLISHED)?)|[a-zA-Z0-9-_$]+";
/// Pattern AWS prints for alias names.
pub const ALIAS_PATTERN: &str = "(?!^[0-9]+$)([a-zA-Z0-9-_]+)";
/// Pattern for AddPermission statement ids.
pub const STATEMENT_ID_PATTERN: &str = "([a-zA-Z0-9-_]+)";
/// Pattern for RemovePermission statement ids (path).
pub const STATEMENT_ID_PATH_PATTERN: &str = "([a-zA-Z0-9-_.]+)";
/// Pattern AWS prints for layer names.
pub const LAYER_NAME_PATTERN: &str =
    r"(arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\d{12}:layer:[a-zA-Z0-9-_]+)|[a-zA-Z0-9-_]+";
/// Pattern AWS prints for roles.
pub const ROLE_PATTERN: &str = r"arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+";

fn anchored(p: &str) -> Regex {
    // The patterns are constants of this module; a failure here is a programming error caught by the tests.
    #[allow(clippy::expect_used)]
    Regex::new(&format!("^(?:{p})$")).expect("valid pattern")
}

static FUNCTION_NAME_RE: LazyLock<Regex> = LazyLock::new(|| anchored(FUNCTION_NAME_PATTERN));
static NAMESPACED_NAME_RE: LazyLock<Regex> = LazyLock::new(|| anchored(NAMESPACED_NAME_PATTERN));
static QUALIFIER_RE: LazyLock<Regex> = LazyLock::new(|| anchored(QUALIFIER_PATTERN));
static ROLE_RE: LazyLock<Regex> = LazyLock::new(|| anchored(ROLE_PATTERN));
static LAYER_NAME_RE: LazyLock<Regex> = LazyLock::new(|| anchored(LAYER_NAME_PATTERN));

/// Which model shape a `FunctionName` member has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameShape {
    /// `FunctionName`: 1–140, no dots.
    Function,
    /// `NamespacedFunctionName`: 1–256, dots allowed.
    Namespaced,
}

/// A function reference as a caller wrote it: name, partial ARN or full ARN, maybe qualified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionRef {
    /// The bare function name.
    pub name: String,
    /// Account id, when given in an ARN.
    pub account: Option<String>,
    /// Region, when given in a full ARN.
    pub region: Option<String>,
    /// Qualifier suffix (`:$LATEST`, `:3`, `:live`), when given.
    pub qualifier: Option<String>,
}

/// Parse and validate a function name input. Errors are AWS's ValidationExceptions at `'functionName'`.
pub fn parse_function_name(input: &str, shape: NameShape) -> Result<FunctionRef, LambdaError> {
    let (re, pattern, max) = match shape {
        NameShape::Function => (&*FUNCTION_NAME_RE, FUNCTION_NAME_PATTERN, 140),
        NameShape::Namespaced => (&*NAMESPACED_NAME_RE, NAMESPACED_NAME_PATTERN, 256),
    };
    let mut violations = Vec::new();
    let len = input.chars().count();
    if len > max {
        violations.push(Violation::new(
            input,
            "functionName",
            format!("Member must have length less than or equal to {max}"),
        ));
    }
    if len < 1 {
        violations.push(Violation::new(
            input,
            "functionName",
            "Member must have length greater than or equal to 1",
        ));
    }
    let caps = re.captures(input);
    if caps.is_none() {
        violations.push(Violation::new(
            input,
            "functionName",
            format!("Member must satisfy regular expression pattern: {pattern}"),
        ));
    }
    let caps = match caps {
        Some(c) if violations.is_empty() => c,
        _ => return Err(LambdaError::Validation(violations)),
    };
    // Groups: 1 arn prefix, 3 region+':', 9 account+':', 10 'function:', 11 name, 12 ':qualifier', 13 qualifier.
    let region = caps
        .get(3)
        .map(|m| m.as_str().trim_end_matches(':').to_string());
    let account = caps
        .get(9)
        .map(|m| m.as_str().trim_end_matches(':').to_string());
    let has_arn = caps.get(1).is_some();
    let has_function_kw = caps.get(10).is_some();
    let name = caps
        .get(11)
        .map(|m| m.as_str().to_string())
        .unwrap_or_default();
    let qualifier = caps.get(13).map(|m| m.as_str().to_string());
    // The pattern admits `arn:aws:lambda:` forms that are not real ARNs (no region or account);
    // AWS rejects those with the same pattern message.
    if has_arn && (region.is_none() || account.is_none() || !has_function_kw) {
        return Err(LambdaError::violation(Violation::new(
            input,
            "functionName",
            format!("Member must satisfy regular expression pattern: {pattern}"),
        )));
    }
    Ok(FunctionRef {
        name,
        account,
        region,
        qualifier,
    })
}

/// Validate a `Qualifier` query parameter (§7.1).
pub fn validate_qualifier(q: &str) -> Result<(), LambdaError> {
    let mut v = Vec::new();
    if q.chars().count() > 128 {
        v.push(Violation::new(
            q,
            "qualifier",
            "Member must have length less than or equal to 128",
        ));
    }
    if q.is_empty() {
        v.push(Violation::new(
            q,
            "qualifier",
            "Member must have length greater than or equal to 1",
        ));
    }
    if !QUALIFIER_RE.is_match(q) {
        v.push(Violation::new(
            q,
            "qualifier",
            format!("Member must satisfy regular expression pattern: {QUALIFIER_PATTERN}"),
        ));
    }
    if v.is_empty() {
        Ok(())
    } else {
        Err(LambdaError::Validation(v))
    }
}

fn is_word(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// True when `s` is a published version number.
pub fn is_version_number(s: &str) -> bool {
    !s.is_empty() && s.len() <= 10 && s.bytes().all(|b| b.is_ascii_digit())
}

/// Validate an alias name (`Name` of Create/Get/Update/DeleteAlias).
pub fn validate_alias_name(name: &str) -> Result<(), LambdaError> {
    let mut v = Vec::new();
    if name.chars().count() > 128 {
        v.push(Violation::new(
            name,
            "name",
            "Member must have length less than or equal to 128",
        ));
    }
    if !is_word(name) || name.bytes().all(|b| b.is_ascii_digit()) {
        v.push(Violation::new(
            name,
            "name",
            format!("Member must satisfy regular expression pattern: {ALIAS_PATTERN}"),
        ));
    }
    if v.is_empty() {
        Ok(())
    } else {
        Err(LambdaError::Validation(v))
    }
}

/// Validate a statement id; `path` selects RemovePermission's laxer pattern (dots allowed).
pub fn validate_statement_id(sid: &str, path: bool) -> Result<(), LambdaError> {
    let ok_chars = sid
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || (path && b == b'.'));
    let mut v = Vec::new();
    if sid.chars().count() > 100 {
        v.push(Violation::new(
            sid,
            "statementId",
            "Member must have length less than or equal to 100",
        ));
    }
    if sid.is_empty() || !ok_chars {
        let p = if path {
            STATEMENT_ID_PATH_PATTERN
        } else {
            STATEMENT_ID_PATTERN
        };
        v.push(Violation::new(
            sid,
            "statementId",
            format!("Member must satisfy regular expression pattern: {p}"),
        ));
    }
    if v.is_empty() {
        Ok(())
    } else {
        Err(LambdaError::Validation(v))
    }
}

/// Validate a role ARN.
pub fn validate_role(role: &str) -> Result<(), LambdaError> {
    if ROLE_RE.is_match(role) {
        Ok(())
    } else {
        Err(LambdaError::violation(Violation::new(
            role,
            "role",
            format!("Member must satisfy regular expression pattern: {ROLE_PATTERN}"),
        )))
    }
}

/// A layer name input: a bare name or a layer ARN. Returns the bare name (and the ARN's region/account if any).
pub fn parse_layer_name(
    input: &str,
) -> Result<(String, Option<String>, Option<String>), LambdaError> {
    let mut v = Vec::new();
    if input.chars().count() > 140 {
        v.push(Violation::new(
            input,
            "layerName",
            "Member must have length less than or equal to 140",
        ));
    }
    if !LAYER_NAME_RE.is_match(input) {
        v.push(Violation::new(
            input,
            "layerName",
            format!("Member must satisfy regular expression pattern: {LAYER_NAME_PATTERN}"),
        ));
    }
    if !v.is_empty() {
        return Err(LambdaError::Validation(v));
    }
    if input.starts_with("arn:") {
        let parts: Vec<&str> = input.split(':').collect();
        // arn:partition:lambda:region:account:layer:name
        if parts.len() == 7 {
            return Ok((
                parts[6].to_string(),
                Some(parts[3].to_string()),
                Some(parts[4].to_string()),
            ));
        }
    }
    Ok((input.to_string(), None, None))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_partial_and_full_forms() {
        let r = parse_function_name("my-fn", NameShape::Function).expect("plain");
        assert_eq!(
            (r.name.as_str(), r.account, r.region, r.qualifier),
            ("my-fn", None, None, None)
        );
        let r = parse_function_name("123456789012:function:my-fn", NameShape::Function)
            .expect("partial");
        assert_eq!(r.account.as_deref(), Some("123456789012"));
        let r = parse_function_name(
            "arn:aws:lambda:us-east-1:123456789012:function:my-fn:$LATEST",
            NameShape::Namespaced,
        )
        .expect("full");
        assert_eq!(r.region.as_deref(), Some("us-east-1"));
        assert_eq!(r.qualifier.as_deref(), Some("$LATEST"));
        let r = parse_function_name("my-fn:live", NameShape::Function).expect("qualified");
        assert_eq!(r.qualifier.as_deref(), Some("live"));
    }

    #[test]
    fn rejects_what_aws_rejects() {
        for bad in [
            "invalid:function:name",
            "function:f:$LATEST:extra",
            "arn:aws:lambda:us-east-1:123456789012:function:f:1:2",
            "arn:aws:lambda::123456789012:function:f",
            "arn:aws:lambda:us-east-1::function:f",
            "arn:aws:lambda:us-east-1:123456789012:function:f:$LATES",
            "arn:aws:s3:::bucket",
            "*",
            "my-function!",
            "",
        ] {
            let e = parse_function_name(bad, NameShape::Namespaced);
            assert!(
                matches!(e, Err(LambdaError::Validation(_))),
                "{bad} should be rejected: {e:?}"
            );
        }
    }

    #[test]
    fn dots_only_in_namespaced_shape() {
        assert!(parse_function_name("a.b", NameShape::Namespaced).is_ok());
        assert!(parse_function_name("a.b", NameShape::Function).is_err());
    }

    #[test]
    fn long_arn_reports_both_violations() {
        let long = format!(
            "arn:aws:lambda:us-east-1:123456789012:function:{}!",
            "a".repeat(140)
        );
        match parse_function_name(&long, NameShape::Function) {
            Err(e @ LambdaError::Validation(_)) => {
                assert!(e.to_string().starts_with("2 validation errors detected"))
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn alias_names() {
        assert!(validate_alias_name("live").is_ok());
        assert!(validate_alias_name("2024-01-02").is_ok());
        assert!(validate_alias_name("2024").is_err());
        assert!(validate_alias_name("a b").is_err());
        assert!(validate_alias_name(&"a".repeat(129)).is_err());
    }

    #[test]
    fn qualifiers_and_roles() {
        assert!(validate_qualifier("$LATEST").is_ok());
        assert!(validate_qualifier("12").is_ok());
        assert!(validate_qualifier("bad qualifier").is_err());
        assert!(validate_role("arn:aws:iam::123456789012:role/lambda-role").is_ok());
        let e = validate_role("r1").expect_err("bad role");
        assert_eq!(
            e.to_string(),
            format!("1 validation error detected: Value 'r1' at 'role' failed to satisfy constraint: Member must satisfy regular expression pattern: {ROLE_PATTERN}")
        );
    }

    #[test]
    fn statement_ids() {
        assert!(validate_statement_id("s3-invoke_1", false).is_ok());
        assert!(validate_statement_id("a.b", false).is_err());
        assert!(validate_statement_id("a.b", true).is_ok());
    }
}
