//! Field rules of CreateFunction / UpdateFunctionConfiguration and friends (§7.2–§7.7).
//!
//! Each check returns the exact AWS error. Collectors gather ValidationException items so one request
//! reports all model violations at once, as AWS does.

use crate::error::{LambdaError, Violation};
use crate::limits::*;
use std::collections::BTreeMap;

/// Accumulates model-level violations for one request.
#[derive(Debug, Default)]
pub struct Violations(pub Vec<Violation>);

impl Violations {
    /// Add one violation.
    pub fn push(&mut self, v: Violation) {
        self.0.push(v);
    }

    /// A ValidationException if anything was collected.
    pub fn finish(self) -> Result<(), LambdaError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(LambdaError::Validation(self.0))
        }
    }

    /// Range check for an integer member.
    pub fn range(&mut self, value: Option<i64>, path: &str, min: i64, max: i64) {
        if let Some(v) = value {
            if v > max {
                self.push(Violation::new(
                    v,
                    path,
                    format!("Member must have value less than or equal to {max}"),
                ));
            } else if v < min {
                self.push(Violation::new(
                    v,
                    path,
                    format!("Member must have value greater than or equal to {min}"),
                ));
            }
        }
    }

    /// Length check for a string member.
    pub fn length(&mut self, value: Option<&str>, path: &str, min: usize, max: usize) {
        if let Some(s) = value {
            let n = s.chars().count();
            if n > max {
                self.push(Violation::new(
                    s,
                    path,
                    format!("Member must have length less than or equal to {max}"),
                ));
            } else if n < min {
                self.push(Violation::new(
                    s,
                    path,
                    format!("Member must have length greater than or equal to {min}"),
                ));
            }
        }
    }

    /// Enum check for a string member.
    pub fn one_of(&mut self, value: Option<&str>, path: &str, allowed: &[&str]) {
        if let Some(s) = value {
            if !allowed.contains(&s) {
                self.push(Violation::new(
                    s,
                    path,
                    format!(
                        "Member must satisfy enum value set: [{}]",
                        allowed.join(", ")
                    ),
                ));
            }
        }
    }
}

/// MemorySize, Timeout, EphemeralStorage.Size, Description, Handler checks shared by create and update.
pub fn check_sizes(
    v: &mut Violations,
    memory: Option<i64>,
    timeout: Option<i64>,
    ephemeral: Option<i64>,
) {
    v.range(memory, "memorySize", MEMORY_MIN, MEMORY_MAX);
    v.range(timeout, "timeout", TIMEOUT_MIN, TIMEOUT_MAX);
    v.range(
        ephemeral,
        "ephemeralStorage.size",
        EPHEMERAL_MIN,
        EPHEMERAL_MAX,
    );
}

/// Handler: 0–128 characters, no whitespace.
pub fn check_handler(v: &mut Violations, handler: Option<&str>) {
    if let Some(h) = handler {
        v.length(Some(h), "handler", 0, 128);
        if h.chars().any(char::is_whitespace) {
            v.push(Violation::new(
                h,
                "handler",
                r"Member must satisfy regular expression pattern: [^\s]+",
            ));
        }
    }
}

/// Architectures: exactly one of `x86_64`, `arm64`.
pub fn check_architectures(v: &mut Violations, archs: Option<&[String]>) {
    let Some(a) = archs else { return };
    let shown = format!("[{}]", a.join(", "));
    if a.len() > 1 {
        v.push(Violation {
            value: format!("'{shown}'"),
            path: "architectures".into(),
            constraint: "Member must have length less than or equal to 1".into(),
        });
    } else if a.is_empty() {
        v.push(Violation {
            value: format!("'{shown}'"),
            path: "architectures".into(),
            constraint: "Member must have length greater than or equal to 1".into(),
        });
    } else if a.iter().any(|x| x != "x86_64" && x != "arm64") {
        v.push(Violation {
            value: format!("'{shown}'"),
            path: "architectures".into(),
            constraint: "Member must satisfy constraint: [Member must satisfy enum value set: [x86_64, arm64], Member must not be null]".into(),
        });
    }
}

/// Reserved environment variable names (§7.3).
pub const RESERVED_ENV: &[&str] = &[
    "_HANDLER",
    "_X_AMZN_TRACE_ID",
    "AWS_DEFAULT_REGION",
    "AWS_REGION",
    "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE",
    "AWS_LAMBDA_LOG_GROUP_NAME",
    "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_ACCESS_KEY",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_RUNTIME_API",
    "LAMBDA_TASK_ROOT",
    "LAMBDA_RUNTIME_DIR",
    "TZ",
];

/// Validate environment variables: key pattern, reserved names, and the 4 KB limit measured as AWS
/// measures it (the compact JSON of the map, in the order given).
pub fn check_environment(
    vars: &serde_json::Map<String, serde_json::Value>,
) -> Result<BTreeMap<String, String>, LambdaError> {
    let mut out = BTreeMap::new();
    let mut bad_keys = Vec::new();
    for (k, val) in vars {
        let Some(s) = val.as_str() else {
            return Err(LambdaError::Serialization(format!(
                "Environment variable {k} must be a string"
            )));
        };
        let mut chars = k.chars();
        let ok = k.chars().count() >= 2
            && chars.next().is_some_and(|c| c.is_ascii_alphabetic())
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !ok {
            bad_keys.push(k.clone());
        }
        out.insert(k.clone(), s.to_string());
    }
    if !bad_keys.is_empty() {
        let shown: Vec<String> = vars.iter().map(|(k, _)| format!("{k}=****")).collect();
        return Err(LambdaError::violation(Violation {
            value: format!("'{{{}}}'", shown.join(", ")),
            path: "environment.variables".into(),
            constraint: "Map keys must satisfy constraint: [Member must satisfy regular expression pattern: [a-zA-Z]([a-zA-Z0-9_])+]".into(),
        }));
    }
    let reserved: Vec<&str> = vars
        .keys()
        .map(String::as_str)
        .filter(|k| RESERVED_ENV.contains(k))
        .collect();
    if !reserved.is_empty() {
        return Err(LambdaError::InvalidParameter(format!(
            "Lambda was unable to configure your environment variables because the environment variables you have provided contains reserved keys that are currently not supported for modification. Reserved keys used in this request: {}",
            reserved.join(",")
        )));
    }
    let measured = serde_json::to_string(vars).unwrap_or_default();
    if measured.len() > ENV_MAX {
        return Err(LambdaError::InvalidParameter(format!(
            "Lambda was unable to configure your environment variables because the environment variables you have provided exceeded the 4KB limit. String measured: {measured}"
        )));
    }
    Ok(out)
}

/// TracingConfig.Mode.
pub fn check_tracing(v: &mut Violations, mode: Option<&str>) {
    v.one_of(mode, "tracingConfig.mode", &["Active", "PassThrough"]);
}

/// KMSKeyArn pattern `(arn:(aws[a-zA-Z-]*)?:[a-z0-9-.]+:.*)|()`.
pub fn check_kms_arn(v: &mut Violations, arn: Option<&str>) {
    let Some(a) = arn else { return };
    if a.is_empty() {
        return;
    }
    let ok = a
        .strip_prefix("arn:")
        .and_then(|rest| rest.split_once(':'))
        .is_some_and(|(partition, rest)| {
            (partition.is_empty() || partition.starts_with("aws"))
                && rest.split_once(':').is_some_and(|(svc, _)| {
                    !svc.is_empty()
                        && svc.bytes().all(|b| {
                            b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.'
                        })
                })
        });
    if !ok {
        v.push(Violation::new(a, "kMSKeyArn", "Member must satisfy regular expression pattern: (arn:(aws[a-zA-Z-]*)?:[a-z0-9-.]+:.*)|()"));
    }
}

/// DeadLetterConfig.TargetArn: an SQS queue or SNS topic ARN, or `""` to remove.
pub fn check_dead_letter_target(arn: &str) -> Result<(), LambdaError> {
    if arn.is_empty() {
        return Ok(());
    }
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let ok = parts.len() == 6
        && parts[0] == "arn"
        && (parts[2] == "sqs" || parts[2] == "sns")
        && !parts[5].is_empty();
    if ok {
        Ok(())
    } else {
        Err(LambdaError::InvalidParameter(format!(
            "The provided target arn {arn} is invalid. The DeadLetterConfig target must be an SQS queue or an SNS topic."
        )))
    }
}

/// LoggingConfig values and the Text-with-levels rule (§7.7).
pub fn check_logging(
    v: &mut Violations,
    format: Option<&str>,
    app_level: Option<&str>,
    system_level: Option<&str>,
    log_group: Option<&str>,
) {
    v.one_of(format, "loggingConfig.logFormat", &["JSON", "Text"]);
    v.one_of(
        app_level,
        "loggingConfig.applicationLogLevel",
        &["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"],
    );
    v.one_of(
        system_level,
        "loggingConfig.systemLogLevel",
        &["DEBUG", "INFO", "WARN"],
    );
    if let Some(g) = log_group {
        v.length(Some(g), "loggingConfig.logGroup", 1, 512);
        if !g
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-/#".contains(&b))
        {
            v.push(Violation::new(
                g,
                "loggingConfig.logGroup",
                r"Member must satisfy regular expression pattern: [\.\-_/#A-Za-z0-9]+",
            ));
        }
    }
}

/// Message for log levels combined with the Text format.
pub const LOG_LEVEL_WITH_TEXT: &str = "LogLevel is not supported when LogFormat is set to \"Text\". Remove LogLevel from your request or change the LogFormat to \"JSON\" and try again.";

/// The layer-version ARN pattern AWS prints for `Layers` items.
pub const LAYER_VERSION_ARN_PATTERN: &str = r"(arn:(aws[a-zA-Z-]*)?:lambda:(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:\d{12}:layer:[a-zA-Z0-9-_]+:[0-9]+)|(arn:[a-zA-Z0-9-]+:lambda:::awslayer:[a-zA-Z0-9-_]+)";

/// A parsed layer-version ARN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerVersionArn {
    /// Region.
    pub region: String,
    /// Account id.
    pub account: String,
    /// Layer name.
    pub name: String,
    /// Version number.
    pub version: i64,
}

/// Parse `arn:aws:lambda:{r}:{a}:layer:{name}:{n}`.
pub fn parse_layer_version_arn(arn: &str) -> Option<LayerVersionArn> {
    let p = crate::arn::parse(arn)?;
    if p.kind != "layer" || p.account.len() != 12 || !p.account.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    if !p
        .name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return None;
    }
    let q = p.qualifier?;
    if !q.bytes().all(|b| b.is_ascii_digit()) || q.len() > 18 {
        return None;
    }
    Some(LayerVersionArn {
        region: p.region.into(),
        account: p.account.into(),
        name: p.name.into(),
        version: q.parse().ok()?,
    })
}

/// Validate a function's `Layers` list shape (count, ARN form, one version per layer, region).
pub fn check_layer_list(
    layers: &[String],
    region: &str,
) -> Result<Vec<LayerVersionArn>, LambdaError> {
    let mut parsed = Vec::with_capacity(layers.len());
    let mut bad = false;
    for l in layers {
        match parse_layer_version_arn(l) {
            Some(p) if l.len() <= 2048 => parsed.push(p),
            _ => bad = true,
        }
    }
    if bad {
        return Err(LambdaError::violation(Violation {
            value: format!("'[{}]'", layers.join(", ")),
            path: "layers".into(),
            constraint: format!("Member must satisfy constraint: [Member must have length less than or equal to 2048, Member must have length greater than or equal to 1, Member must satisfy regular expression pattern: {LAYER_VERSION_ARN_PATTERN}, Member must not be null]"),
        }));
    }
    if layers.len() > LAYERS_MAX {
        return Err(LambdaError::InvalidParameter(
            "Cannot reference more than 5 layers.".into(),
        ));
    }
    if parsed.iter().any(|p| p.region != region) {
        return Err(LambdaError::InvalidParameter(format!(
            "Layers are not in the same region as the function. Layers are expected to be in region {region}."
        )));
    }
    for (i, a) in parsed.iter().enumerate() {
        if let Some(b) = parsed[..i]
            .iter()
            .find(|b| b.name == a.name && b.account == a.account)
        {
            return Err(LambdaError::InvalidParameter(format!(
                "Two different versions of the same layer are not allowed to be referenced in the same function. {} and {} are versions of the same layer.",
                crate::arn::layer_version(&b.region, &b.account, &b.name, b.version),
                crate::arn::layer_version(&a.region, &a.account, &a.name, a.version)
            )));
        }
    }
    Ok(parsed)
}

/// Tag rules (§7.5): count, key/value lengths, `aws:` prefix.
pub fn check_tags(tags: &BTreeMap<String, String>) -> Result<(), LambdaError> {
    if tags.len() > TAGS_MAX {
        return Err(LambdaError::InvalidParameter(
            "Number of tags exceeds resource tag limit.".into(),
        ));
    }
    for (k, v) in tags {
        if k.is_empty() || k.chars().count() > 128 {
            return Err(LambdaError::InvalidParameter(format!(
                "Tag key {k} must be between 1 and 128 characters long."
            )));
        }
        if v.chars().count() > 256 {
            return Err(LambdaError::InvalidParameter(format!(
                "Tag value for key {k} must be at most 256 characters long."
            )));
        }
        if k.to_ascii_lowercase().starts_with("aws:") {
            return Err(LambdaError::InvalidParameter(
                "Tag keys prefixed with 'aws:' are reserved for AWS use.".into(),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Map, Value};

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn env_limit_is_measured_as_compact_json() {
        // {"K":"<v>"} is 8 bytes of framing plus the value.
        let exact = map(json!({"K1": "x".repeat(4096 - 9)}));
        assert_eq!(
            serde_json::to_string(&exact).map(|s| s.len()).unwrap_or(0),
            4096
        );
        assert!(check_environment(&exact).is_ok());
        let over = map(json!({"K1": "x".repeat(4096 - 8)}));
        let e = check_environment(&over).expect_err("over");
        assert!(e
            .to_string()
            .contains("exceeded the 4KB limit. String measured: {\"K1\":\"xxx"));
    }

    #[test]
    fn env_reserved_and_bad_keys() {
        let e =
            check_environment(&map(json!({"AWS_REGION": "x", "OK_1": "y"}))).expect_err("reserved");
        assert!(e
            .to_string()
            .ends_with("Reserved keys used in this request: AWS_REGION"));
        assert!(matches!(
            check_environment(&map(json!({"A": "x"}))),
            Err(LambdaError::Validation(_))
        ));
        assert!(matches!(
            check_environment(&map(json!({"1AB": "x"}))),
            Err(LambdaError::Validation(_))
        ));
        assert!(check_environment(&map(json!({"LANG": "C", "PATH": "/bin"}))).is_ok());
    }

    #[test]
    fn sizes() {
        let mut v = Violations::default();
        check_sizes(&mut v, Some(10241), Some(901), Some(511));
        let msg = v.finish().expect_err("three").to_string();
        assert!(msg.starts_with("3 validation errors detected: Value '10241' at 'memorySize' failed to satisfy constraint: Member must have value less than or equal to 10240"));
        assert!(msg.contains("Value '901' at 'timeout'"));
        assert!(msg.contains("Value '511' at 'ephemeralStorage.size' failed to satisfy constraint: Member must have value greater than or equal to 512"));
        let mut v = Violations::default();
        check_sizes(&mut v, Some(128), Some(900), Some(10240));
        assert!(v.finish().is_ok());
    }

    #[test]
    fn architectures() {
        let mut v = Violations::default();
        check_architectures(&mut v, Some(&["x86_64".into(), "arm64".into()]));
        assert_eq!(
            v.finish().expect_err("two").to_string(),
            "1 validation error detected: Value '[x86_64, arm64]' at 'architectures' failed to satisfy constraint: Member must have length less than or equal to 1"
        );
        let mut v = Violations::default();
        check_architectures(&mut v, Some(&["X86_64".into()]));
        assert!(v.finish().is_err());
    }

    #[test]
    fn layers() {
        let ok =
            |n: &str, ver: i64| format!("arn:aws:lambda:us-east-1:123456789012:layer:{n}:{ver}");
        assert!(check_layer_list(&[ok("a", 1), ok("b", 2)], "us-east-1").is_ok());
        let six: Vec<String> = (0..6).map(|i| ok(&format!("l{i}"), 1)).collect();
        assert_eq!(
            check_layer_list(&six, "us-east-1")
                .expect_err("six")
                .to_string(),
            "Cannot reference more than 5 layers."
        );
        assert!(matches!(
            check_layer_list(
                &["arn:aws:lambda:us-east-1:123456789012:layer:a".into()],
                "us-east-1"
            ),
            Err(LambdaError::Validation(_))
        ));
        assert!(check_layer_list(&[ok("a", 1), ok("a", 2)], "us-east-1").is_err());
        assert!(check_layer_list(&[ok("a", 1)], "eu-west-1")
            .expect_err("region")
            .to_string()
            .contains("expected to be in region eu-west-1"));
    }

    #[test]
    fn kms_and_dlq() {
        let mut v = Violations::default();
        check_kms_arn(&mut v, Some("arn:aws:kms:us-east-1:123456789012:key/abc"));
        check_kms_arn(&mut v, Some(""));
        assert!(v.finish().is_ok());
        let mut v = Violations::default();
        check_kms_arn(&mut v, Some("not-an-arn"));
        assert!(v.finish().is_err());
        assert!(check_dead_letter_target("arn:aws:sqs:us-east-1:123456789012:dlq").is_ok());
        assert!(check_dead_letter_target("arn:aws:s3:::bucket").is_err());
    }
}
