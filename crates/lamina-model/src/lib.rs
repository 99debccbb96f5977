//! Lamina's domain: AWS Lambda's names, ARNs, limits, runtimes and validation rules, as pure functions.
//!
//! Nothing here does I/O. The API edge turns [`LambdaError`] into the wire error a client sees.

pub mod arn;
pub mod error;
pub mod limits;
pub mod names;
pub mod package;
pub mod runtimes;
pub mod time;
pub mod validate;

pub use error::LambdaError;
