//! Lamina's execution engine: execution environments that run unmodified Lambda functions through the
//! Runtime API, kept warm and reused, frozen between invocations, reset on timeout or crash.

pub mod runtimes;
