//! Building the ARNs Lambda returns (§0.5).

/// Unqualified function ARN.
pub fn function(region: &str, account: &str, name: &str) -> String {
    format!("arn:aws:lambda:{region}:{account}:function:{name}")
}

/// Qualified function ARN (`…:$LATEST`, `…:3`, `…:live`).
pub fn function_qualified(region: &str, account: &str, name: &str, qualifier: &str) -> String {
    format!("arn:aws:lambda:{region}:{account}:function:{name}:{qualifier}")
}

/// Layer ARN.
pub fn layer(region: &str, account: &str, name: &str) -> String {
    format!("arn:aws:lambda:{region}:{account}:layer:{name}")
}

/// Layer version ARN.
pub fn layer_version(region: &str, account: &str, name: &str, version: i64) -> String {
    format!("arn:aws:lambda:{region}:{account}:layer:{name}:{version}")
}

/// The parts of a Lambda resource ARN (`arn:aws:lambda:{region}:{account}:{kind}:{name}[:{qualifier}]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LambdaArn<'a> {
    /// Region.
    pub region: &'a str,
    /// Account id.
    pub account: &'a str,
    /// `function`, `layer`, `event-source-mapping`, `code-signing-config`…
    pub kind: &'a str,
    /// Resource name.
    pub name: &'a str,
    /// Qualifier or layer version, if present.
    pub qualifier: Option<&'a str>,
}

/// Split a Lambda ARN; `None` if it is not one.
pub fn parse(arn: &str) -> Option<LambdaArn<'_>> {
    let mut it = arn.splitn(8, ':');
    if it.next()? != "arn" {
        return None;
    }
    let partition = it.next()?;
    if !partition.starts_with("aws") || it.next()? != "lambda" {
        return None;
    }
    let region = it.next()?;
    let account = it.next()?;
    let kind = it.next()?;
    let name = it.next()?;
    let qualifier = it.next();
    if region.is_empty()
        || account.is_empty()
        || name.is_empty()
        || qualifier.is_some_and(|q| q.contains(':') || q.is_empty())
    {
        return None;
    }
    Some(LambdaArn {
        region,
        account,
        kind,
        name,
        qualifier,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let a = function_qualified("us-east-1", "123456789012", "f", "$LATEST");
        let p = parse(&a).expect("parses");
        assert_eq!(
            (p.region, p.account, p.kind, p.name, p.qualifier),
            (
                "us-east-1",
                "123456789012",
                "function",
                "f",
                Some("$LATEST")
            )
        );
        assert!(parse("arn:aws:s3:::bucket").is_none());
        assert!(parse("arn:aws:lambda:us-east-1:1:function:f:1:2").is_none());
    }
}
