//! Process isolation and limits (being written).
