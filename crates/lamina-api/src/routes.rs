//! The route table: method and path → operation. Path labels arrive percent-encoded once and are decoded
//! once after splitting on `/` (§0.1), so an ARN label keeps its `:` and `/`.

/// Every operation Lamina serves on the control plane.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    CreateFunction,
    ListFunctions,
    GetFunction,
    DeleteFunction,
    GetFunctionConfiguration,
    UpdateFunctionConfiguration,
    UpdateFunctionCode,
    PublishVersion,
    ListVersionsByFunction,
    CreateAlias,
    ListAliases,
    GetAlias,
    UpdateAlias,
    DeleteAlias,
    AddPermission,
    GetPolicy,
    RemovePermission,
    PutFunctionConcurrency,
    GetFunctionConcurrency,
    DeleteFunctionConcurrency,
    GetAccountSettings,
    TagResource,
    UntagResource,
    ListTags,
    PublishLayerVersion,
    ListLayers,
    GetLayerVersionByArn,
    ListLayerVersions,
    GetLayerVersion,
    DeleteLayerVersion,
    GetFunctionCodeSigningConfig,
    AddLayerVersionPermission,
    GetLayerVersionPolicy,
    RemoveLayerVersionPermission,
    PutFunctionEventInvokeConfig,
    UpdateFunctionEventInvokeConfig,
    GetFunctionEventInvokeConfig,
    DeleteFunctionEventInvokeConfig,
    ListFunctionEventInvokeConfigs,
    Invoke,
}

impl Op {
    /// The operation's AWS name, for messages.
    pub fn name(self) -> &'static str {
        match self {
            Op::CreateFunction => "CreateFunction",
            Op::ListFunctions => "ListFunctions",
            Op::GetFunction => "GetFunction",
            Op::DeleteFunction => "DeleteFunction",
            Op::GetFunctionConfiguration => "GetFunctionConfiguration",
            Op::UpdateFunctionConfiguration => "UpdateFunctionConfiguration",
            Op::UpdateFunctionCode => "UpdateFunctionCode",
            Op::PublishVersion => "PublishVersion",
            Op::ListVersionsByFunction => "ListVersionsByFunction",
            Op::CreateAlias => "CreateAlias",
            Op::ListAliases => "ListAliases",
            Op::GetAlias => "GetAlias",
            Op::UpdateAlias => "UpdateAlias",
            Op::DeleteAlias => "DeleteAlias",
            Op::AddPermission => "AddPermission",
            Op::GetPolicy => "GetPolicy",
            Op::RemovePermission => "RemovePermission",
            Op::PutFunctionConcurrency => "PutFunctionConcurrency",
            Op::GetFunctionConcurrency => "GetFunctionConcurrency",
            Op::DeleteFunctionConcurrency => "DeleteFunctionConcurrency",
            Op::GetAccountSettings => "GetAccountSettings",
            Op::TagResource => "TagResource",
            Op::UntagResource => "UntagResource",
            Op::ListTags => "ListTags",
            Op::PublishLayerVersion => "PublishLayerVersion",
            Op::ListLayers => "ListLayers",
            Op::GetLayerVersionByArn => "GetLayerVersionByArn",
            Op::ListLayerVersions => "ListLayerVersions",
            Op::GetLayerVersion => "GetLayerVersion",
            Op::DeleteLayerVersion => "DeleteLayerVersion",
            Op::GetFunctionCodeSigningConfig => "GetFunctionCodeSigningConfig",
            Op::AddLayerVersionPermission => "AddLayerVersionPermission",
            Op::GetLayerVersionPolicy => "GetLayerVersionPolicy",
            Op::RemoveLayerVersionPermission => "RemoveLayerVersionPermission",
            Op::PutFunctionEventInvokeConfig => "PutFunctionEventInvokeConfig",
            Op::UpdateFunctionEventInvokeConfig => "UpdateFunctionEventInvokeConfig",
            Op::GetFunctionEventInvokeConfig => "GetFunctionEventInvokeConfig",
            Op::DeleteFunctionEventInvokeConfig => "DeleteFunctionEventInvokeConfig",
            Op::ListFunctionEventInvokeConfigs => "ListFunctionEventInvokeConfigs",
            Op::Invoke => "InvokeFunction",
        }
    }

    /// The request-size limit AWS reports for the operation (code operations are read a little further, see
    /// `body_limit`, so an oversized zip is reported as such).
    pub fn reported_limit(self) -> usize {
        match self {
            Op::CreateFunction | Op::UpdateFunctionCode | Op::PublishLayerVersion => {
                lamina_model::limits::CODE_REQUEST_MAX
            }
            _ => lamina_model::limits::REQUEST_MAX,
        }
    }

    /// True for operations that change nothing.
    pub fn is_read_only(self) -> bool {
        matches!(
            self,
            Op::ListFunctions
                | Op::GetFunction
                | Op::GetFunctionConfiguration
                | Op::ListVersionsByFunction
                | Op::ListAliases
                | Op::GetAlias
                | Op::GetPolicy
                | Op::GetFunctionConcurrency
                | Op::GetAccountSettings
                | Op::ListTags
                | Op::ListLayers
                | Op::GetLayerVersionByArn
                | Op::ListLayerVersions
                | Op::GetLayerVersion
                | Op::GetFunctionCodeSigningConfig
                | Op::GetFunctionEventInvokeConfig
                | Op::GetLayerVersionPolicy
                | Op::ListFunctionEventInvokeConfigs
                | Op::Invoke
        )
    }

    /// Largest request body the operation takes.
    pub fn body_limit(self) -> usize {
        match self {
            Op::CreateFunction | Op::UpdateFunctionCode | Op::PublishLayerVersion => {
                lamina_model::limits::CODE_READ_CAP
            }
            _ => lamina_model::limits::REQUEST_MAX,
        }
    }
}

/// A matched route with its decoded path labels.
#[derive(Debug, Clone)]
pub struct Route {
    /// The operation.
    pub op: Op,
    /// `{FunctionName}`, `{LayerName}` or `{Resource}`.
    pub target: String,
    /// `{Name}`, `{StatementId}` or `{VersionNumber}`.
    pub sub: String,
}

/// Decode one path label.
fn decode(seg: &str) -> String {
    percent_encoding::percent_decode_str(seg)
        .decode_utf8_lossy()
        .into_owned()
}

/// Match a request. `None` = no such operation.
pub fn route(method: &http::Method, raw_path: &str, query: &[(String, String)]) -> Option<Route> {
    use http::Method as M;
    let segs: Vec<&str> = raw_path.trim_start_matches('/').split('/').collect();
    let mk = |op: Op, target: &str, sub: &str| {
        Some(Route {
            op,
            target: decode(target),
            sub: decode(sub),
        })
    };
    let has = |k: &str, v: &str| query.iter().any(|(a, b)| a == k && b == v);
    match (method, segs.as_slice()) {
        (&M::POST, ["2015-03-31", "functions"]) | (&M::POST, ["2015-03-31", "functions", ""]) => {
            mk(Op::CreateFunction, "", "")
        }
        (&M::GET, ["2015-03-31", "functions"]) | (&M::GET, ["2015-03-31", "functions", ""]) => {
            mk(Op::ListFunctions, "", "")
        }
        (&M::GET, ["2015-03-31", "functions", f]) => mk(Op::GetFunction, f, ""),
        (&M::DELETE, ["2015-03-31", "functions", f]) => mk(Op::DeleteFunction, f, ""),
        (&M::GET, ["2015-03-31", "functions", f, "configuration"]) => {
            mk(Op::GetFunctionConfiguration, f, "")
        }
        (&M::PUT, ["2015-03-31", "functions", f, "configuration"]) => {
            mk(Op::UpdateFunctionConfiguration, f, "")
        }
        (&M::PUT, ["2015-03-31", "functions", f, "code"]) => mk(Op::UpdateFunctionCode, f, ""),
        (&M::POST, ["2015-03-31", "functions", f, "versions"]) => mk(Op::PublishVersion, f, ""),
        (&M::GET, ["2015-03-31", "functions", f, "versions"]) => {
            mk(Op::ListVersionsByFunction, f, "")
        }
        (&M::POST, ["2015-03-31", "functions", f, "aliases"]) => mk(Op::CreateAlias, f, ""),
        (&M::GET, ["2015-03-31", "functions", f, "aliases"]) => mk(Op::ListAliases, f, ""),
        (&M::GET, ["2015-03-31", "functions", f, "aliases", n]) => mk(Op::GetAlias, f, n),
        (&M::PUT, ["2015-03-31", "functions", f, "aliases", n]) => mk(Op::UpdateAlias, f, n),
        (&M::DELETE, ["2015-03-31", "functions", f, "aliases", n]) => mk(Op::DeleteAlias, f, n),
        (&M::POST, ["2015-03-31", "functions", f, "invocations"]) => mk(Op::Invoke, f, ""),
        (&M::POST, ["2015-03-31", "functions", f, "policy"]) => mk(Op::AddPermission, f, ""),
        (&M::GET, ["2015-03-31", "functions", f, "policy"]) => mk(Op::GetPolicy, f, ""),
        (&M::DELETE, ["2015-03-31", "functions", f, "policy", s]) => mk(Op::RemovePermission, f, s),
        (&M::PUT, ["2017-10-31", "functions", f, "concurrency"]) => {
            mk(Op::PutFunctionConcurrency, f, "")
        }
        (&M::DELETE, ["2017-10-31", "functions", f, "concurrency"]) => {
            mk(Op::DeleteFunctionConcurrency, f, "")
        }
        (&M::GET, ["2019-09-30", "functions", f, "concurrency"]) => {
            mk(Op::GetFunctionConcurrency, f, "")
        }
        (&M::GET, ["2016-08-19", "account-settings"])
        | (&M::GET, ["2016-08-19", "account-settings", ""]) => mk(Op::GetAccountSettings, "", ""),
        (&M::POST, ["2017-03-31", "tags", r]) => mk(Op::TagResource, r, ""),
        (&M::DELETE, ["2017-03-31", "tags", r]) => mk(Op::UntagResource, r, ""),
        (&M::GET, ["2017-03-31", "tags", r]) => mk(Op::ListTags, r, ""),
        (&M::GET, ["2018-10-31", "layers"]) | (&M::GET, ["2018-10-31", "layers", ""]) => {
            if has("find", "LayerVersion") {
                mk(Op::GetLayerVersionByArn, "", "")
            } else {
                mk(Op::ListLayers, "", "")
            }
        }
        (&M::POST, ["2018-10-31", "layers", l, "versions"]) => mk(Op::PublishLayerVersion, l, ""),
        (&M::GET, ["2018-10-31", "layers", l, "versions"]) => mk(Op::ListLayerVersions, l, ""),
        (&M::GET, ["2018-10-31", "layers", l, "versions", v]) => mk(Op::GetLayerVersion, l, v),
        (&M::DELETE, ["2018-10-31", "layers", l, "versions", v]) => {
            mk(Op::DeleteLayerVersion, l, v)
        }
        (&M::POST, ["2018-10-31", "layers", l, "versions", v, "policy"]) => {
            mk(Op::AddLayerVersionPermission, l, v)
        }
        (&M::GET, ["2018-10-31", "layers", l, "versions", v, "policy"]) => {
            mk(Op::GetLayerVersionPolicy, l, v)
        }
        (&M::DELETE, ["2018-10-31", "layers", l, "versions", v, "policy", sid]) => Some(Route {
            op: Op::RemoveLayerVersionPermission,
            target: decode(l),
            sub: format!("{}/{}", decode(v), decode(sid)),
        }),
        (&M::PUT, ["2019-09-25", "functions", f, "event-invoke-config"]) => {
            mk(Op::PutFunctionEventInvokeConfig, f, "")
        }
        (&M::POST, ["2019-09-25", "functions", f, "event-invoke-config"]) => {
            mk(Op::UpdateFunctionEventInvokeConfig, f, "")
        }
        (&M::GET, ["2019-09-25", "functions", f, "event-invoke-config"]) => {
            mk(Op::GetFunctionEventInvokeConfig, f, "")
        }
        (&M::DELETE, ["2019-09-25", "functions", f, "event-invoke-config"]) => {
            mk(Op::DeleteFunctionEventInvokeConfig, f, "")
        }
        (&M::GET, ["2019-09-25", "functions", f, "event-invoke-config", "list"]) => {
            mk(Op::ListFunctionEventInvokeConfigs, f, "")
        }
        (&M::GET, ["2020-06-30", "functions", f, "code-signing-config"]) => {
            mk(Op::GetFunctionCodeSigningConfig, f, "")
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::Method;

    #[test]
    fn decodes_labels_once() {
        let r = route(&Method::GET, "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Af%3A%24LATEST", &[])
            .expect("route");
        assert_eq!(r.op, Op::GetFunction);
        assert_eq!(
            r.target,
            "arn:aws:lambda:us-east-1:123456789012:function:f:$LATEST"
        );
    }

    #[test]
    fn versions_of_the_api_matter() {
        assert_eq!(
            route(&Method::PUT, "/2017-10-31/functions/f/concurrency", &[]).map(|r| r.op),
            Some(Op::PutFunctionConcurrency)
        );
        assert_eq!(
            route(&Method::GET, "/2019-09-30/functions/f/concurrency", &[]).map(|r| r.op),
            Some(Op::GetFunctionConcurrency)
        );
        assert!(route(&Method::GET, "/2017-10-31/functions/f/concurrency", &[]).is_none());
        let q = vec![("find".to_string(), "LayerVersion".to_string())];
        assert_eq!(
            route(&Method::GET, "/2018-10-31/layers", &q).map(|r| r.op),
            Some(Op::GetLayerVersionByArn)
        );
    }
}
