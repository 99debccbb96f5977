//! Lamina's durable state: SQLite (WAL, versioned migrations) for metadata, a content-addressed blob store
//! for code, and the keyring that seals secrets (envelope encryption).
//!
//! This crate knows Lambda's records but not HTTP; callers run its synchronous calls off the async workers.

pub mod blobs;
pub mod db;
pub mod keyring;
pub mod records;

pub use db::{Db, Store, StoreError};
