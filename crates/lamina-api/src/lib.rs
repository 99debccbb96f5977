//! Lamina's HTTP front door: the Lambda restJson1 API. It authenticates every request (SigV4), routes it,
//! runs the operation against the store off the async workers, and frames every failure as AWS does.
//!
//! This crate knows HTTP and the wire shapes; validation rules live in `lamina-model`, state in `lamina-store`.

mod code;
mod edge;
mod error;
mod input;
mod ops;
mod resolve;
mod routes;
mod state;
mod transitions;
mod wire;

pub use edge::app;
pub use state::{access_key_aad, ApiConfig, AppState};
pub use transitions::complete_pending;
