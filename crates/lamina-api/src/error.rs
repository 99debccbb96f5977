//! The one place a typed failure becomes the AWS error a client sees (status, `x-amzn-ErrorType`, body).

use lamina_model::error::MessageKey;
use lamina_model::LambdaError;
use lamina_store::StoreError;

/// Every way an operation can fail.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A Lambda API error for the caller.
    #[error(transparent)]
    Lambda(#[from] LambdaError),
    /// Authentication failed.
    #[error(transparent)]
    Auth(#[from] lamina_auth::AuthError),
    /// Lamina's own fault.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Shorthand for operation results.
pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    /// Status, error type and JSON body.
    pub fn parts(&self) -> (u16, &'static str, serde_json::Value) {
        use serde_json::json;
        match self {
            ApiError::Lambda(e) => {
                let msg = e.to_string();
                let mut body = match e.message_key() {
                    MessageKey::LowerTyped => json!({"Type": "User", "message": msg}),
                    MessageKey::UpperTyped => json!({"Type": "User", "Message": msg}),
                    MessageKey::LowerOnly => json!({"message": msg}),
                    MessageKey::ServiceUpper => json!({"Type": "Service", "Message": msg}),
                };
                if let LambdaError::TooManyRequests(reason) = e {
                    body["Reason"] = json!(reason);
                }
                (e.status(), e.error_type(), body)
            }
            ApiError::Auth(e) => (
                e.status(),
                e.error_type(),
                json!({"message": e.to_string()}),
            ),
            ApiError::Store(e) => {
                // The cause stays in the server log; the caller learns only that it was not their fault.
                tracing::error!(error = ?e, "store failure");
                (
                    500,
                    "ServiceException",
                    json!({"Type": "Service", "Message": "Lamina encountered an internal error. Retry the request."}),
                )
            }
        }
    }
}

/// Shorthand constructors for the frequent errors.
pub fn not_found(msg: impl Into<String>) -> ApiError {
    ApiError::Lambda(LambdaError::NotFound(msg.into()))
}

/// 400 InvalidParameterValueException.
pub fn invalid(msg: impl Into<String>) -> ApiError {
    ApiError::Lambda(LambdaError::InvalidParameter(msg.into()))
}

/// 409 ResourceConflictException.
pub fn conflict(msg: impl Into<String>) -> ApiError {
    ApiError::Lambda(LambdaError::Conflict(msg.into()))
}

/// 412 on a RevisionId mismatch.
pub fn revision_mismatch() -> ApiError {
    ApiError::Lambda(LambdaError::PreconditionFailed(
        "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id".into(),
    ))
}
