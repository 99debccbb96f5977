//! The state machine the SDK waiters poll (§1.6): with `--update-delay-ms`, creates stay `Pending` and
//! updates `InProgress` for a while; writes in that window get AWS's 409; polling converges.

mod common;

use common::*;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const DEADLINE: Duration = Duration::from_secs(5);

fn in_progress_message(name: &str) -> String {
    format!(
        "The operation cannot be performed at this time. An update is in progress for resource: arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"
    )
}

/// Poll GetFunction until `done` holds, recording every `(State, LastUpdateStatus)` seen.
fn poll_until(
    s: &Server,
    name: &str,
    done: impl Fn(&Value) -> bool,
) -> (Value, Vec<(String, String)>) {
    let until = Instant::now() + DEADLINE;
    let mut seen = Vec::new();
    loop {
        let r = s.get_function(name);
        assert_eq!(r.status, 200, "GetFunction: {r:?}");
        let c = r.json["Configuration"].clone();
        let pair = (
            c["State"].as_str().unwrap_or("<none>").to_string(),
            c["LastUpdateStatus"]
                .as_str()
                .unwrap_or("<none>")
                .to_string(),
        );
        if seen.last() != Some(&pair) {
            seen.push(pair);
        }
        if done(&c) {
            return (c, seen);
        }
        assert!(
            Instant::now() < until,
            "{name} did not converge in {DEADLINE:?}; states seen: {seen:?}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn create_is_pending_then_active_and_blocks_updates_meanwhile() {
    let s = Server::start(&["--update-delay-ms", "300"]);
    let name = "waiter-create";
    let r = s.call(
        "POST",
        "/2015-03-31/functions",
        "",
        Some(&create_body(name)),
    );
    assert_eq!(r.status, 201, "{r:?}");
    let created = r.json;
    assert_eq!(created["State"], "Pending");
    assert_eq!(created["StateReason"], "The function is being created.");
    assert_eq!(created["StateReasonCode"], "Creating");
    assert!(
        created.get("LastUpdateStatus").is_none(),
        "CreateFunction's response has no LastUpdateStatus: {created}"
    );

    let path = format!("/2015-03-31/functions/{name}");
    let u = s.call(
        "PUT",
        &format!("{path}/configuration"),
        "",
        Some(&json!({"MemorySize": 256})),
    );
    expect_error(
        &u,
        409,
        "ResourceConflictException",
        &in_progress_message(name),
    );
    let c = s.call(
        "PUT",
        &format!("{path}/code"),
        "",
        Some(&json!({"ZipFile": b64(&hello_zip())})),
    );
    expect_error(
        &c,
        409,
        "ResourceConflictException",
        &in_progress_message(name),
    );
    let p = s.call("POST", &format!("{path}/versions"), "", Some(&json!({})));
    expect_error(
        &p,
        409,
        "ResourceConflictException",
        &in_progress_message(name),
    );

    // function-active-v2: retry on Pending, succeed on Active.
    let (active, seen) = poll_until(&s, name, |c| c["State"] != "Pending");
    assert_eq!(active["State"], "Active", "states seen: {seen:?}");
    assert_eq!(active["LastUpdateStatus"], "Successful");
    assert!(active.get("StateReason").is_none(), "{active}");
    assert!(active.get("StateReasonCode").is_none(), "{active}");
    assert_ne!(
        active["RevisionId"], created["RevisionId"],
        "completing the create mints a new RevisionId"
    );
    assert_eq!(
        active["MemorySize"], 128,
        "the refused update changed nothing"
    );
    assert_eq!(active["CodeSha256"], created["CodeSha256"]);
    for (state, _) in &seen {
        assert!(
            state == "Pending" || state == "Active",
            "unexpected state in {seen:?}"
        );
    }

    // GetFunctionConfiguration (the v1 waiters) agrees.
    let gc = s.call("GET", &format!("{path}/configuration"), "", None);
    assert_eq!(gc.status, 200);
    assert_eq!(gc.json["State"], "Active");
    assert_eq!(gc.json["LastUpdateStatus"], "Successful");
    assert_eq!(gc.json["RevisionId"], active["RevisionId"]);
}

#[test]
fn update_configuration_is_in_progress_then_successful() {
    let s = Server::start(&["--update-delay-ms", "300"]);
    let name = "waiter-update";
    s.create_function(name);
    let settled = s.wait_settled(name, DEADLINE);
    let path = format!("/2015-03-31/functions/{name}");

    let u = s.call(
        "PUT",
        &format!("{path}/configuration"),
        "",
        Some(&json!({"MemorySize": 256, "Description": "bigger"})),
    );
    assert_eq!(u.status, 200, "{u:?}");
    let updated = u.json;
    assert_eq!(updated["State"], "Active");
    assert_eq!(updated["LastUpdateStatus"], "InProgress");
    assert_eq!(
        updated["LastUpdateStatusReason"],
        "The function is being created."
    );
    assert_eq!(updated["LastUpdateStatusReasonCode"], "Creating");
    assert_eq!(updated["MemorySize"], 256);
    assert_ne!(
        updated["RevisionId"], settled["Configuration"]["RevisionId"],
        "an update mints a RevisionId"
    );

    // A second write inside the window is refused and changes nothing.
    let again = s.call(
        "PUT",
        &format!("{path}/configuration"),
        "",
        Some(&json!({"MemorySize": 512})),
    );
    expect_error(
        &again,
        409,
        "ResourceConflictException",
        &in_progress_message(name),
    );

    // function-updated-v2: retry on InProgress, succeed on Successful.
    let (done, seen) = poll_until(&s, name, |c| c["LastUpdateStatus"] != "InProgress");
    assert_eq!(
        done["LastUpdateStatus"], "Successful",
        "states seen: {seen:?}"
    );
    assert_eq!(done["State"], "Active");
    assert!(done.get("LastUpdateStatusReason").is_none(), "{done}");
    assert!(done.get("LastUpdateStatusReasonCode").is_none(), "{done}");
    assert_eq!(done["MemorySize"], 256);
    assert_eq!(done["Description"], "bigger");
    assert_ne!(done["RevisionId"], updated["RevisionId"]);

    // Once settled, writes are accepted again, and publishing snapshots an Active version.
    let p = s.call("POST", &format!("{path}/versions"), "", Some(&json!({})));
    assert_eq!(p.status, 201, "{p:?}");
    assert_eq!(p.json["Version"], "1");
    assert_eq!(p.json["State"], "Active");
    assert_eq!(p.json["LastUpdateStatus"], "Successful");
}

#[test]
fn update_code_is_in_progress_then_successful() {
    let s = Server::start(&["--update-delay-ms", "300"]);
    let name = "waiter-code";
    s.create_function(name);
    s.wait_settled(name, DEADLINE);
    let zip = zip_of(&[("index.py", b"def handler(e, c):\n    return 2\n".as_slice())]);
    let u = s.call(
        "PUT",
        &format!("/2015-03-31/functions/{name}/code"),
        "",
        Some(&json!({"ZipFile": b64(&zip)})),
    );
    assert_eq!(u.status, 200, "{u:?}");
    assert_eq!(u.json["LastUpdateStatus"], "InProgress");
    let (done, seen) = poll_until(&s, name, |c| c["LastUpdateStatus"] != "InProgress");
    assert_eq!(
        done["LastUpdateStatus"], "Successful",
        "states seen: {seen:?}"
    );
    assert_eq!(done["CodeSha256"], u.json["CodeSha256"]);
    assert_eq!(done["CodeSize"], zip.len());
}

#[test]
fn without_a_delay_reads_are_settled_at_once() {
    let s = Server::start(&[]);
    let name = "waiter-instant";
    s.create_function(name);
    let r = s.get_function(name);
    assert_eq!(r.json["Configuration"]["State"], "Active", "{r:?}");
    assert_eq!(r.json["Configuration"]["LastUpdateStatus"], "Successful");
    let u = s.call(
        "PUT",
        &format!("/2015-03-31/functions/{name}/configuration"),
        "",
        Some(&json!({"Timeout": 30})),
    );
    assert_eq!(u.status, 200, "{u:?}");
    // The next write is not refused: the update completed before the response went out.
    let again = s.call(
        "PUT",
        &format!("/2015-03-31/functions/{name}/configuration"),
        "",
        Some(&json!({"Timeout": 31})),
    );
    assert_eq!(again.status, 200, "{again:?}");
}
