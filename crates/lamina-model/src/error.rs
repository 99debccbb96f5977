//! The Lambda API's error families, named as AWS names them on the wire.

use std::fmt;

/// One violated model constraint, printed in AWS's Coral validation format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The rendered value: `'x'`, `null`, `'[a, b]'` or `'{k=v}'`, already quoted as AWS prints it.
    pub value: String,
    /// Member path with a lowercase first letter, dotted for nesting (`memorySize`, `routingConfig.additionalVersionWeights`).
    pub path: String,
    /// The constraint text after `failed to satisfy constraint: `.
    pub constraint: String,
}

impl Violation {
    /// A violation of a string value (quoted as `'v'`).
    pub fn new(value: impl fmt::Display, path: &str, constraint: impl Into<String>) -> Self {
        Violation {
            value: format!("'{value}'"),
            path: path.to_string(),
            constraint: constraint.into(),
        }
    }

    /// A null (missing) required member.
    pub fn null(path: &str) -> Self {
        Violation {
            value: "null".into(),
            path: path.into(),
            constraint: "Member must not be null".into(),
        }
    }
}

/// Render violations the way AWS's Coral framework does.
pub fn coral_message(violations: &[Violation]) -> String {
    let n = violations.len();
    let items: Vec<String> = violations
        .iter()
        .map(|v| {
            format!(
                "Value {} at '{}' failed to satisfy constraint: {}",
                v.value, v.path, v.constraint
            )
        })
        .collect();
    let noun = if n == 1 {
        "validation error"
    } else {
        "validation errors"
    };
    format!("{n} {noun} detected: {}", items.join("; "))
}

/// An error the Lambda API reports to its caller. Each variant is one `x-amzn-ErrorType`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LambdaError {
    /// 400 ValidationException: model constraints (pattern, length, range, enum, null).
    #[error("{}", coral_message(.0))]
    Validation(Vec<Violation>),
    /// 400 InvalidParameterValueException: semantic rules.
    #[error("{0}")]
    InvalidParameter(String),
    /// 400 InvalidParameterValueException framed as AWS frames a few of them: `{"message":…}` with no `Type`.
    #[error("{0}")]
    InvalidParameterUntyped(String),
    /// 404 CodeSigningConfigNotFoundException.
    #[error("{0}")]
    CodeSigningConfigNotFound(String),
    /// 404 ResourceNotFoundException.
    #[error("{0}")]
    NotFound(String),
    /// 409 ResourceConflictException.
    #[error("{0}")]
    Conflict(String),
    /// 412 PreconditionFailedException (RevisionId mismatch).
    #[error("{0}")]
    PreconditionFailed(String),
    /// 413 RequestEntityTooLargeException.
    #[error("{0}")]
    TooLarge(String),
    /// 400 CodeStorageExceededException.
    #[error("{0}")]
    CodeStorageExceeded(String),
    /// 400 PolicyLengthExceededException.
    #[error("{0}")]
    PolicyLengthExceeded(String),
    /// 403 AccessDeniedException.
    #[error("{0}")]
    AccessDenied(String),
    /// 400 SerializationException: the body is not the JSON the operation takes.
    #[error("{0}")]
    Serialization(String),
    /// 404 UnknownOperationException: no such route.
    #[error("{0}")]
    UnknownOperation(String),
    /// 415 UnsupportedMediaTypeException.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// 500 ServiceException: a fault of Lamina's, never of the caller.
    #[error("{0}")]
    Service(String),
    /// 400 InvalidRequestContentException: an Invoke payload or header that is not what Lambda takes.
    #[error("{0}")]
    InvalidRequestContent(String),
    /// 429 TooManyRequestsException with its `Reason`.
    #[error("Rate Exceeded.")]
    TooManyRequests(&'static str),
    /// 502 InvalidRuntimeException: the function's runtime cannot run here.
    #[error("{0}")]
    InvalidRuntime(String),
}

/// How the error is framed on the wire: which JSON key carries the message and whether `Type` is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageKey {
    /// `{"Type":"User","message":…}`
    LowerTyped,
    /// `{"Type":"User","Message":…}`
    UpperTyped,
    /// `{"message":…}` only (unmodeled errors).
    LowerOnly,
    /// `{"Type":"Service","Message":…}`
    ServiceUpper,
}

impl LambdaError {
    /// The `x-amzn-ErrorType` value.
    pub fn error_type(&self) -> &'static str {
        match self {
            LambdaError::Validation(_) => "ValidationException",
            LambdaError::InvalidParameter(_) | LambdaError::InvalidParameterUntyped(_) => {
                "InvalidParameterValueException"
            }
            LambdaError::CodeSigningConfigNotFound(_) => "CodeSigningConfigNotFoundException",
            LambdaError::NotFound(_) => "ResourceNotFoundException",
            LambdaError::Conflict(_) => "ResourceConflictException",
            LambdaError::PreconditionFailed(_) => "PreconditionFailedException",
            LambdaError::TooLarge(_) => "RequestEntityTooLargeException",
            LambdaError::CodeStorageExceeded(_) => "CodeStorageExceededException",
            LambdaError::PolicyLengthExceeded(_) => "PolicyLengthExceededException",
            LambdaError::AccessDenied(_) => "AccessDeniedException",
            LambdaError::Serialization(_) => "SerializationException",
            LambdaError::UnknownOperation(_) => "UnknownOperationException",
            LambdaError::UnsupportedMediaType(_) => "UnsupportedMediaTypeException",
            LambdaError::Service(_) => "ServiceException",
            LambdaError::InvalidRequestContent(_) => "InvalidRequestContentException",
            LambdaError::TooManyRequests(_) => "TooManyRequestsException",
            LambdaError::InvalidRuntime(_) => "InvalidRuntimeException",
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> u16 {
        match self {
            LambdaError::Validation(_)
            | LambdaError::InvalidParameter(_)
            | LambdaError::InvalidParameterUntyped(_)
            | LambdaError::CodeStorageExceeded(_)
            | LambdaError::PolicyLengthExceeded(_)
            | LambdaError::Serialization(_)
            | LambdaError::InvalidRequestContent(_) => 400,
            LambdaError::AccessDenied(_) => 403,
            LambdaError::NotFound(_)
            | LambdaError::UnknownOperation(_)
            | LambdaError::CodeSigningConfigNotFound(_) => 404,
            LambdaError::Conflict(_) => 409,
            LambdaError::PreconditionFailed(_) => 412,
            LambdaError::TooLarge(_) => 413,
            LambdaError::UnsupportedMediaType(_) => 415,
            LambdaError::TooManyRequests(_) => 429,
            LambdaError::Service(_) => 500,
            LambdaError::InvalidRuntime(_) => 502,
        }
    }

    /// Body framing per §0.3's table.
    pub fn message_key(&self) -> MessageKey {
        match self {
            LambdaError::Validation(_)
            | LambdaError::TooLarge(_)
            | LambdaError::AccessDenied(_)
            | LambdaError::Serialization(_)
            | LambdaError::UnknownOperation(_) => MessageKey::LowerOnly,
            LambdaError::NotFound(_)
            | LambdaError::InvalidRuntime(_)
            | LambdaError::CodeSigningConfigNotFound(_) => MessageKey::UpperTyped,
            LambdaError::InvalidParameterUntyped(_) => MessageKey::LowerOnly,
            LambdaError::Service(_) => MessageKey::ServiceUpper,
            _ => MessageKey::LowerTyped,
        }
    }

    /// Shorthand for a single-violation ValidationException.
    pub fn violation(v: Violation) -> Self {
        LambdaError::Validation(vec![v])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coral_singular_and_plural() {
        let one = coral_message(&[Violation::new(
            3000,
            "timeout",
            "Member must have value less than or equal to 900",
        )]);
        assert_eq!(
            one,
            "1 validation error detected: Value '3000' at 'timeout' failed to satisfy constraint: Member must have value less than or equal to 900"
        );
        let two = coral_message(&[Violation::null("a"), Violation::null("b")]);
        assert!(two.starts_with("2 validation errors detected: Value null at 'a'"));
        assert!(two.contains("; Value null at 'b'"));
    }
}
