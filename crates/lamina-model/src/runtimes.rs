//! Runtime names AWS accepts, blocks and knows (§7.4), as data.

use crate::error::LambdaError;

/// Every runtime AWS accepts for create and update (the list AWS prints in its enum error).
pub const ACCEPTED: &[&str] = &[
    "nodejs16.x",
    "nodejs18.x",
    "nodejs20.x",
    "nodejs22.x",
    "nodejs24.x",
    "python3.8",
    "python3.9",
    "python3.10",
    "python3.11",
    "python3.12",
    "python3.13",
    "python3.14",
    "java8.al2",
    "java11",
    "java17",
    "java21",
    "java25",
    "dotnet6",
    "dotnet8",
    "dotnet10",
    "ruby3.2",
    "ruby3.3",
    "ruby3.4",
    "provided.al2",
    "provided.al2023",
];

/// Runtimes in the model that AWS blocks for create and update.
pub const BLOCKED: &[&str] = &[
    "nodejs",
    "nodejs4.3",
    "nodejs4.3-edge",
    "nodejs6.10",
    "nodejs8.10",
    "nodejs10.x",
    "nodejs12.x",
    "nodejs14.x",
    "python2.7",
    "python3.6",
    "python3.7",
    "java8",
    "go1.x",
    "provided",
    "dotnetcore1.0",
    "dotnetcore2.0",
    "dotnetcore2.1",
    "dotnetcore3.1",
    "ruby2.5",
    "ruby2.7",
];

/// Runtimes in the model not yet accepted (AWS answers as for an unknown value).
pub const NOT_YET: &[&str] = &["ruby4.0"];

/// Check a runtime for CreateFunction / UpdateFunctionConfiguration.
pub fn check_runtime(rt: &str) -> Result<(), LambdaError> {
    if ACCEPTED.contains(&rt) {
        return Ok(());
    }
    if BLOCKED.contains(&rt) {
        return Err(LambdaError::InvalidParameter(format!(
            "The runtime parameter of {rt} is no longer supported for creating or updating AWS Lambda functions. We recommend you use a supported runtime while creating or updating functions."
        )));
    }
    Err(LambdaError::InvalidParameter(format!(
        "Value {rt} at 'runtime' failed to satisfy constraint: Member must satisfy enum value set: [{}] or be a valid ARN",
        ACCEPTED.join(", ")
    )))
}

/// The runtimes a layer may declare compatible (the model's full enum, legacy names included).
pub fn is_layer_compatible_runtime(rt: &str) -> bool {
    ACCEPTED.contains(&rt)
        || BLOCKED.contains(&rt)
        || NOT_YET.contains(&rt)
        || LAYER_ONLY.contains(&rt)
}

/// Names valid only in layer metadata.
const LAYER_ONLY: &[&str] = &["java8", "dotnet6", "dotnetcore3.1"];

/// The fixed runtime-version ARN Lamina reports for a runtime (64 hex digits derived from the name).
pub fn runtime_version_arn(region: &str, runtime: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(format!("lamina-runtime:{runtime}").as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("arn:aws:lambda:{region}::runtime:{hex}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepted_blocked_unknown() {
        assert!(check_runtime("python3.12").is_ok());
        assert!(check_runtime("provided.al2023").is_ok());
        let e = check_runtime("python2.7").expect_err("blocked");
        assert!(e
            .to_string()
            .starts_with("The runtime parameter of python2.7 is no longer supported"));
        let e = check_runtime("PYTHON3.9").expect_err("unknown");
        assert!(e.to_string().starts_with("Value PYTHON3.9 at 'runtime' failed to satisfy constraint: Member must satisfy enum value set: [nodejs16.x, "));
        assert!(e
            .to_string()
            .ends_with("provided.al2, provided.al2023] or be a valid ARN"));
        assert!(matches!(
            check_runtime("ruby4.0"),
            Err(LambdaError::InvalidParameter(_))
        ));
    }

    #[test]
    fn runtime_version_arn_shape() {
        let arn = runtime_version_arn("us-east-1", "python3.12");
        let hex = arn.rsplit(':').next().unwrap_or_default();
        assert_eq!(hex.len(), 64);
        assert!(arn.starts_with("arn:aws:lambda:us-east-1::runtime:"));
    }
}
