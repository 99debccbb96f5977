//! Response shapes: FunctionConfiguration, aliases and layer versions as AWS renders them (§1.1–§1.3).
//! Absent members are omitted, never `null`.

use lamina_model::arn;
use lamina_store::records::{AliasRecord, LayerVersionRecord, VersionRecord};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// How a FunctionConfiguration is being shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    /// Create/Get/Update responses: every member.
    Full,
    /// ListFunctions / ListVersionsByFunction entries: no State, LastUpdateStatus, RuntimeVersionConfig.
    List,
}

/// Everything needed to render one configuration besides the record.
#[derive(Debug)]
pub struct ConfigCtx<'a> {
    /// Region.
    pub region: &'a str,
    /// Account.
    pub account: &'a str,
    /// Function name.
    pub name: &'a str,
    /// `Some(q)` renders `FunctionArn` as `…:{q}`; `None` unqualified.
    pub arn_qualifier: Option<&'a str>,
    /// Full or list view.
    pub view: View,
    /// Decrypted environment variables, when the record has some.
    pub env: Option<&'a BTreeMap<String, String>>,
}

/// Render a FunctionConfiguration.
pub fn function_configuration(rec: &VersionRecord, c: &ConfigCtx<'_>) -> Value {
    let mut m = Map::new();
    let fn_arn = match c.arn_qualifier {
        Some(q) => arn::function_qualified(c.region, c.account, c.name, q),
        None => arn::function(c.region, c.account, c.name),
    };
    m.insert("FunctionName".into(), json!(c.name));
    m.insert("FunctionArn".into(), json!(fn_arn));
    if let Some(rt) = &rec.runtime {
        m.insert("Runtime".into(), json!(rt));
    }
    m.insert("Role".into(), json!(rec.role));
    if let Some(h) = &rec.handler {
        m.insert("Handler".into(), json!(h));
    }
    m.insert("CodeSize".into(), json!(rec.code_size));
    m.insert("Description".into(), json!(rec.description));
    m.insert("Timeout".into(), json!(rec.timeout));
    m.insert("MemorySize".into(), json!(rec.memory_size));
    m.insert("LastModified".into(), json!(rec.last_modified));
    m.insert("CodeSha256".into(), json!(rec.code_sha256));
    m.insert("Version".into(), json!(rec.version));
    if let Some(env) = c.env {
        m.insert("Environment".into(), json!({ "Variables": env }));
    }
    if let Some(vpc) = &rec.vpc_config {
        m.insert("VpcConfig".into(), vpc.clone());
    }
    if let Some(dlq) = &rec.dead_letter_target {
        m.insert("DeadLetterConfig".into(), json!({ "TargetArn": dlq }));
    }
    if let Some(k) = &rec.kms_key_arn {
        m.insert("KMSKeyArn".into(), json!(k));
    }
    m.insert("TracingConfig".into(), json!({ "Mode": rec.tracing_mode }));
    m.insert("RevisionId".into(), json!(rec.revision_id));
    if !rec.layers.is_empty() {
        let layers: Vec<Value> = rec
            .layers
            .iter()
            .map(|l| json!({ "Arn": l.arn, "CodeSize": l.code_size }))
            .collect();
        m.insert("Layers".into(), Value::Array(layers));
    }
    m.insert("PackageType".into(), json!("Zip"));
    m.insert("Architectures".into(), json!(rec.architectures));
    m.insert(
        "EphemeralStorage".into(),
        json!({ "Size": rec.ephemeral_storage }),
    );
    m.insert(
        "SnapStart".into(),
        json!({ "ApplyOn": rec.snap_start_apply_on, "OptimizationStatus": "Off" }),
    );
    let mut logging = json!({ "LogFormat": rec.log_format, "LogGroup": rec.log_group });
    if let (Some(a), Some(s)) = (&rec.application_log_level, &rec.system_log_level) {
        logging["ApplicationLogLevel"] = json!(a);
        logging["SystemLogLevel"] = json!(s);
    }
    m.insert("LoggingConfig".into(), logging);
    if c.view == View::Full {
        m.insert("State".into(), json!(rec.state));
        if rec.state == "Pending" {
            m.insert(
                "StateReason".into(),
                json!("The function is being created."),
            );
            m.insert("StateReasonCode".into(), json!("Creating"));
        }
        if let Some(s) = &rec.last_update_status {
            m.insert("LastUpdateStatus".into(), json!(s));
            if s == "InProgress" {
                m.insert(
                    "LastUpdateStatusReason".into(),
                    json!("The function is being created."),
                );
                m.insert("LastUpdateStatusReasonCode".into(), json!("Creating"));
            }
        }
        if let Some(rt) = &rec.runtime {
            m.insert(
                "RuntimeVersionConfig".into(),
                json!({ "RuntimeVersionArn": lamina_model::runtimes::runtime_version_arn(c.region, rt) }),
            );
        }
    }
    Value::Object(m)
}

/// Render an alias.
pub fn alias(region: &str, account: &str, function: &str, a: &AliasRecord) -> Value {
    let mut v = json!({
        "AliasArn": arn::function_qualified(region, account, function, &a.name),
        "Name": a.name,
        "FunctionVersion": a.function_version,
        "Description": a.description,
        "RevisionId": a.revision_id,
    });
    if !a.weights.is_empty() {
        v["RoutingConfig"] = json!({ "AdditionalVersionWeights": a.weights });
    }
    v
}

/// Render a layer version; `content` = `Some(location)` for Get/Publish, `None` for list items.
pub fn layer_version(
    region: &str,
    account: &str,
    name: &str,
    l: &LayerVersionRecord,
    content: Option<String>,
) -> Value {
    let mut v = json!({
        "LayerVersionArn": arn::layer_version(region, account, name, l.version),
        "Version": l.version,
        "Description": l.description,
        "CreatedDate": l.created_date,
        "CompatibleRuntimes": l.compatible_runtimes,
        "CompatibleArchitectures": l.compatible_architectures,
    });
    if let Some(lic) = &l.license_info {
        v["LicenseInfo"] = json!(lic);
    }
    if let Some(loc) = content {
        v["Content"] =
            json!({ "Location": loc, "CodeSha256": l.code_sha256, "CodeSize": l.code_size });
        v["LayerArn"] = json!(arn::layer(region, account, name));
    }
    v
}
