//! A custom-runtime function (`provided.al2023`), written as for AWS Lambda with the `lambda_runtime`
//! crate and shipped as `bootstrap`. One binary, several behaviours chosen by the `MODE` variable:
//!
//! * unset or `echo`: returns `{"event": <the event>, "count": n}`, where `n` counts the invocations
//!   served by this process (1 on a cold start, 2 on the first warm reuse, ...);
//! * `noop`: returns `{"ok": true}` without looking at the event (benchmarks);
//! * `error`: fails every invocation: `{"errorType": "BoomError", "errorMessage": "boom"}`.

use lambda_runtime::{service_fn, Diagnostic, Error, LambdaEvent};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU64, Ordering};

static COUNT: AtomicU64 = AtomicU64::new(0);

async fn echo(event: LambdaEvent<Value>) -> Result<Value, Error> {
    let n = COUNT.fetch_add(1, Ordering::Relaxed) + 1;
    Ok(json!({ "event": event.payload, "count": n }))
}

async fn noop(_event: LambdaEvent<Value>) -> Result<Value, Error> {
    Ok(json!({ "ok": true }))
}

async fn fail(_event: LambdaEvent<Value>) -> Result<Value, Diagnostic> {
    Err(Diagnostic {
        error_type: "BoomError".to_string(),
        error_message: "boom".to_string(),
    })
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    match std::env::var("MODE").unwrap_or_default().as_str() {
        "noop" => lambda_runtime::run(service_fn(noop)).await,
        "error" => lambda_runtime::run(service_fn(fail)).await,
        _ => lambda_runtime::run(service_fn(echo)).await,
    }
}
