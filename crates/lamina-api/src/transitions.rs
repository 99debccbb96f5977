//! The asynchronous half of create and update: `$LATEST` leaves `Pending` / `InProgress` and gets a new
//! RevisionId, as AWS's does. Until it completes, updates answer 409. Completion is durable state, so a
//! restart finishes whatever a crash interrupted.

use crate::state::AppState;
use lamina_store::records::{self, LATEST};
use lamina_store::StoreError;
use std::sync::Arc;

/// Complete the transition of one function's `$LATEST`, if it is still in one.
pub fn complete(state: &AppState, function_id: i64) -> Result<(), StoreError> {
    state.store.tx(|db| {
        let Some(mut rec) = records::get_version(db, function_id, LATEST)? else {
            return Ok(());
        };
        let pending = rec.state == "Pending";
        let in_progress = rec.last_update_status.as_deref() == Some("InProgress");
        if !pending && !in_progress {
            return Ok(());
        }
        rec.state = "Active".into();
        rec.last_update_status = Some("Successful".into());
        rec.revision_id = uuid::Uuid::new_v4().to_string();
        records::put_version(db, function_id, LATEST, &rec)
    })?;
    // The new RevisionId and state must be what the next invocation resolves.
    state.bump_generation();
    Ok(())
}

/// Schedule completion after a write: at once (before the response goes out) or after the configured delay.
pub fn schedule(state: &Arc<AppState>, function_id: i64) {
    let delay = state.config.update_delay;
    if delay.is_zero() {
        if let Err(e) = complete(state, function_id) {
            tracing::error!(error = ?e, function_id, "completing update failed");
        }
        return;
    }
    let st = Arc::clone(state);
    // Operations run on the blocking pool, which carries the runtime's context.
    let Ok(handle) = tokio::runtime::Handle::try_current() else {
        if let Err(e) = complete(state, function_id) {
            tracing::error!(error = ?e, function_id, "completing update failed");
        }
        return;
    };
    handle.spawn(async move {
        tokio::time::sleep(delay).await;
        let st2 = Arc::clone(&st);
        let r = tokio::task::spawn_blocking(move || complete(&st2, function_id)).await;
        if !matches!(r, Ok(Ok(()))) {
            tracing::error!(function_id, "completing update failed");
        }
    });
}

/// On start-up: finish every transition a previous process left open.
pub fn complete_pending(state: &AppState) -> Result<usize, StoreError> {
    let ids = state.store.tx(records::pending_functions)?;
    for id in &ids {
        complete(state, *id)?;
    }
    Ok(ids.len())
}
