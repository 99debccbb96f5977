//! Execution behaviours the client suites do not reach: the Extensions API with a real external extension,
//! freezing of idle environments, and a runtime whose interpreter is missing.
//!
//! Functions are POSIX sh + curl custom runtimes (`testdata/functions/shell/bootstrap`), so these tests need
//! `sh` and `curl` on the host. Freezing is enforced with the cgroup freezer (root, as in CI) or SIGSTOP.

mod common;

use common::{b64, Server};
use serde_json::{json, Value};
use std::io::Write;
use std::time::{Duration, Instant};

const ECHO_BOOTSTRAP: &str = include_str!("../../../testdata/functions/shell/bootstrap");

/// A zip whose entries keep the given Unix modes (a `bootstrap` must be executable).
fn zip_with_modes(entries: &[(&str, &str, u32)]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, body, mode) in entries {
        let opts = zip::write::SimpleFileOptions::default().unix_permissions(*mode);
        w.start_file(*name, opts).expect("zip entry");
        w.write_all(body.as_bytes()).expect("zip write");
    }
    w.finish().expect("zip finish").into_inner()
}

fn create(s: &Server, name: &str, zip: &[u8], extra: Value) -> Value {
    let mut body = json!({
        "FunctionName": name,
        "Runtime": "provided.al2023",
        "Handler": "x",
        "Role": "arn:aws:iam::000000000000:role/r",
        "Code": {"ZipFile": b64(zip)},
    });
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            b.insert(k.clone(), v.clone());
        }
    }
    let r = s.call("POST", "/2015-03-31/functions", "", Some(&body));
    assert_eq!(r.status, 201, "create {name}: {r:?}");
    s.wait_settled(name, Duration::from_secs(10))
}

fn invoke(s: &Server, name: &str, payload: &Value) -> common::Resp {
    s.call(
        "POST",
        &format!("/2015-03-31/functions/{name}/invocations"),
        "",
        Some(payload),
    )
}

/// `lamina logs NAME` output.
fn logs(s: &Server, name: &str) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_lamina"))
        .args(["logs", name, "--data-dir"])
        .arg(s.data_dir())
        .output()
        .expect("run lamina logs");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn wait_for(what: &str, deadline: Duration, mut f: impl FnMut() -> bool) {
    let until = Instant::now() + deadline;
    while !f() {
        assert!(Instant::now() < until, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

const EXTENSION: &str = r#"#!/bin/sh
# An external extension: registers for INVOKE and SHUTDOWN and logs every event it receives.
set -eu
API="http://${AWS_LAMBDA_RUNTIME_API}/2020-01-01/extension"
H="$(mktemp)"
curl -sS --fail -D "$H" -o /dev/null -X POST -H 'Lambda-Extension-Name: recorder' \
  -d '{"events":["INVOKE","SHUTDOWN"]}' "$API/register"
ID="$(sed -n 's/^[Ll]ambda-[Ee]xtension-[Ii]dentifier:[[:space:]]*\([^[:space:]]*\).*/\1/p' "$H" | tr -d '\r')"
echo "recorder registered"
i=0
while [ $i -lt 1000 ]; do
  EV="$(curl -sS --fail -H "Lambda-Extension-Identifier: $ID" "$API/event/next")"
  echo "recorder event $EV"
  case "$EV" in *SHUTDOWN*) exit 0 ;; esac
  i=$((i+1))
done
"#;

#[test]
fn an_external_extension_gets_invoke_and_shutdown() {
    let s = Server::start(&["--idle-timeout-secs", "1"]);
    let layer = zip_with_modes(&[("extensions/recorder", EXTENSION, 0o755)]);
    let r = s.call(
        "POST",
        "/2018-10-31/layers/recorder/versions",
        "",
        Some(&json!({"Content": {"ZipFile": b64(&layer)}})),
    );
    assert_eq!(r.status, 201, "{r:?}");
    let layer_arn = r.json["LayerVersionArn"]
        .as_str()
        .expect("layer arn")
        .to_string();
    let code = zip_with_modes(&[("bootstrap", ECHO_BOOTSTRAP, 0o755)]);
    create(&s, "with-ext", &code, json!({"Layers": [layer_arn]}));

    let r = invoke(&s, "with-ext", &json!({"n": 1}));
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.json, json!({"n": 1}));
    let request_id = r
        .header("x-amzn-RequestId")
        .expect("request id")
        .to_string();

    // The extension saw this invocation, then (idle timeout 1 s) the environment's SHUTDOWN.
    let until = Instant::now() + Duration::from_secs(15);
    while !logs(&s, "with-ext").contains("\"eventType\":\"SHUTDOWN\"") {
        assert!(
            Instant::now() < until,
            "no SHUTDOWN event in the logs:\n{}\nserver log:\n{}",
            logs(&s, "with-ext"),
            s.log_text()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let text = logs(&s, "with-ext");
    assert!(text.contains("recorder registered"), "{text}");
    let invoke_line = text
        .lines()
        .find(|l| l.contains("\"eventType\":\"INVOKE\""))
        .unwrap_or_else(|| panic!("no INVOKE event:\n{text}"));
    assert!(
        invoke_line.contains(&format!("\"requestId\":\"{request_id}\"")),
        "{invoke_line}"
    );
    assert!(
        invoke_line.contains(
            "\"invokedFunctionArn\":\"arn:aws:lambda:us-east-1:000000000000:function:with-ext\""
        ),
        "{invoke_line}"
    );
    assert!(text.contains("\"shutdownReason\":\"spindown\""), "{text}");
    let start = text
        .find(&format!("START RequestId: {request_id}"))
        .expect("START");
    let registered = text.find("recorder registered").expect("registered");
    assert!(
        registered < start,
        "the extension registered during init, before the first START:\n{text}"
    );
}

#[test]
fn an_idle_environment_is_frozen_and_thawed() {
    let s = Server::start(&["--freeze-after-ms", "0"]);
    let ticks = s.data_dir().join("ticks");
    // Background work started by the runtime: it must stop while the environment waits for an event.
    let bootstrap = "#!/bin/sh\n( i=0; while [ $i -lt 100000 ]; do echo tick >> \"$TICKS\"; i=$((i+1)); sleep 0.01; done ) &\nexec /bin/sh \"$LAMBDA_TASK_ROOT/echo.sh\"\n";
    let code = zip_with_modes(&[
        ("bootstrap", bootstrap, 0o755),
        ("echo.sh", ECHO_BOOTSTRAP, 0o755),
    ]);
    create(
        &s,
        "ticker",
        &code,
        json!({"Environment": {"Variables": {"TICKS": ticks.display().to_string()}}}),
    );
    assert_eq!(invoke(&s, "ticker", &json!({})).status, 200);
    let count = || {
        std::fs::read_to_string(&ticks)
            .map(|t| t.lines().count())
            .unwrap_or(0)
    };
    // Frozen right after the runtime asked for its next event: the count settles.
    let mut last = count();
    let mut stable_since = Instant::now();
    wait_for(
        "the background loop to stop",
        Duration::from_secs(10),
        || {
            let now = count();
            if now != last {
                last = now;
                stable_since = Instant::now();
            }
            stable_since.elapsed() > Duration::from_millis(400)
        },
    );
    let frozen_at = count();
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(count(), frozen_at, "no progress while frozen");
    // Thawed for the next event: the loop resumes.
    assert_eq!(invoke(&s, "ticker", &json!({})).status, 200);
    wait_for(
        "the loop to resume after thaw",
        Duration::from_secs(5),
        || count() > frozen_at,
    );
}

#[test]
fn a_missing_interpreter_names_what_to_install() {
    let s = Server::start(&["--interpreter", "python3.13=/nonexistent/python3.13"]);
    let code = common::hello_zip();
    let body = json!({
        "FunctionName": "py313",
        "Runtime": "python3.13",
        "Handler": "index.handler",
        "Role": "arn:aws:iam::000000000000:role/r",
        "Code": {"ZipFile": b64(&code)},
    });
    assert_eq!(
        s.call("POST", "/2015-03-31/functions", "", Some(&body))
            .status,
        201
    );
    s.wait_settled("py313", Duration::from_secs(10));
    let r = invoke(&s, "py313", &json!({}));
    assert_eq!(r.status, 502, "{r:?}");
    assert_eq!(
        r.header("x-amzn-ErrorType"),
        Some("InvalidRuntimeException")
    );
    let msg = r.json["Message"].as_str().unwrap_or_default();
    assert!(
        msg.contains("python3.13") && msg.contains("/nonexistent/python3.13"),
        "{msg}"
    );

    let out = std::process::Command::new(env!("CARGO_BIN_EXE_lamina"))
        .args([
            "runtimes",
            "list",
            "--interpreter",
            "python3.13=/nonexistent/python3.13",
            "--data-dir",
        ])
        .arg(s.data_dir())
        .output()
        .expect("runtimes list");
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .find(|l| l.starts_with("python3.13 "))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(line.contains("not ready"), "{line}");
    assert!(
        text.lines()
            .any(|l| l.starts_with("provided.al2023 ") && l.contains(" ready")),
        "{text}"
    );
}

/// A custom runtime that probes the Runtime API's error answers and reports what it saw in its response.
const PROBING_BOOTSTRAP: &str = r#"#!/bin/sh
set -eu
BASE="http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime"
H="$(mktemp)"; E="$(mktemp)"
PREV=""
i=0
while [ $i -lt 100 ]; do
  curl -sS --fail -D "$H" -o "$E" "$BASE/invocation/next"
  ID="$(sed -n 's/^Lambda-Runtime-Aws-Request-Id: *\([^[:space:]]*\).*/\1/p' "$H" | tr -d '\r')"
  DEADLINE="$(sed -n 's/^Lambda-Runtime-Deadline-Ms: *\([0-9]*\).*/\1/p' "$H" | tr -d '\r')"
  UNKNOWN="$(curl -sS -o /dev/null -w '%{http_code}' -X POST -d '{}' "$BASE/invocation/not-this-one/response")"
  AGAIN="none"
  if [ -n "$PREV" ]; then
    AGAIN="$(curl -sS -o /dev/null -w '%{http_code}' -X POST -d '{}' "$BASE/invocation/$PREV/response")"
  fi
  LATE_INIT="$(curl -sS -o /dev/null -w '%{http_code}' -X POST -d '{}' "$BASE/init/error")"
  curl -sS --fail -o /dev/null -X POST \
    -d "{\"id\":\"$ID\",\"deadline\":\"$DEADLINE\",\"unknown\":\"$UNKNOWN\",\"again\":\"$AGAIN\",\"late_init\":\"$LATE_INIT\"}" \
    "$BASE/invocation/$ID/response"
  PREV="$ID"
  i=$((i+1))
done
"#;

#[test]
fn runtime_api_answers_misuse_as_aws_does() {
    let s = Server::start(&[]);
    let code = zip_with_modes(&[("bootstrap", PROBING_BOOTSTRAP, 0o755)]);
    create(&s, "prober", &code, json!({"Timeout": 10}));
    let before = chrono::Utc::now().timestamp_millis();
    let r1 = invoke(&s, "prober", &json!({}));
    assert_eq!(r1.status, 200, "{r1:?}");
    assert_eq!(
        r1.json["id"].as_str(),
        r1.header("x-amzn-RequestId"),
        "the runtime sees the API request id"
    );
    assert_eq!(
        r1.json["unknown"], "400",
        "a response for an unknown request id"
    );
    assert_eq!(r1.json["again"], "none");
    assert_eq!(r1.json["late_init"], "403", "init/error after init");
    let deadline: i64 = r1.json["deadline"]
        .as_str()
        .and_then(|d| d.parse().ok())
        .expect("deadline header");
    assert!(
        deadline >= before + 9_000 && deadline <= chrono::Utc::now().timestamp_millis() + 10_000,
        "deadline {deadline}"
    );
    let r2 = invoke(&s, "prober", &json!({}));
    assert_eq!(r2.status, 200, "{r2:?}");
    assert_eq!(
        r2.json["again"], "403",
        "a second response for an answered request"
    );
}
