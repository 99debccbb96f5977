//! Runtime definitions (being written).
