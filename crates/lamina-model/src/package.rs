//! Deployment package inspection (being written).
