//! What an acknowledgement promises (issue 2 item 2): every write answered 2xx survives a `kill -9`
//! delivered right after the answer; start-up finishes transitions a crash interrupted; environment
//! variable plaintext reaches no file; the master key is private.

mod common;

use common::*;
use serde_json::{json, Value};
use std::time::Duration;

const FUNCTIONS: &str = "/2015-03-31/functions";

/// Members that legitimately change when a create or update completes (§0.6, §1.6).
const TRANSITION_FIELDS: &[&str] = &[
    "State",
    "StateReason",
    "StateReasonCode",
    "LastUpdateStatus",
    "LastUpdateStatusReason",
    "LastUpdateStatusReasonCode",
    "RevisionId",
];

fn without(v: &Value, keys: &[&str]) -> Value {
    let mut v = without_locations(v);
    if let Some(m) = v.as_object_mut() {
        for k in keys {
            m.remove(*k);
        }
    }
    v
}

/// A check that one acknowledged write is still visible.
type Proof = Box<dyn Fn(&Server) -> Result<(), String>>;

fn same(what: &str, got: &Value, want: &Value) -> Result<(), String> {
    if got == want {
        Ok(())
    } else {
        Err(format!(
            "{what}:\n    acknowledged {want}\n    after restart {got}"
        ))
    }
}

/// The configuration a write answered, minus what completion changes, must be what GetFunction shows.
fn config_proof(name: &str, qualifier: Option<&str>, acked: &Value) -> Proof {
    let name = name.to_string();
    let q = qualifier
        .map(|q| format!("Qualifier={}", enc(q)))
        .unwrap_or_default();
    let want = without(acked, TRANSITION_FIELDS);
    Box::new(move |s: &Server| {
        let r = s.call("GET", &format!("{FUNCTIONS}/{name}"), &q, None);
        if r.status != 200 {
            return Err(format!("GetFunction {name}?{q}: {r:?}"));
        }
        same(
            &format!("configuration of {name}?{q}"),
            &without(&r.json["Configuration"], TRANSITION_FIELDS),
            &want,
        )
    })
}

/// A read that must answer exactly `want` (after removing presigned URLs).
fn read_proof(path: String, query: String, status: u16, want: Option<Value>) -> Proof {
    Box::new(move |s: &Server| {
        let r = s.call("GET", &path, &query, None);
        if r.status != status {
            return Err(format!("GET {path}?{query}: want {status}, got {r:?}"));
        }
        match &want {
            Some(w) => same(
                &format!("GET {path}?{query}"),
                &without_locations(&r.json),
                w,
            ),
            None => Ok(()),
        }
    })
}

struct Crasher {
    s: Server,
    proofs: Vec<(String, Proof)>,
    writes: usize,
}

impl Crasher {
    /// Send a write; it must be acknowledged with `status`. Then kill -9 at once, restart, and
    /// re-check every write acknowledged so far.
    fn write(&mut self, label: &str, req: Request, status: u16) -> Value {
        let r = self.s.send(&req);
        self.s.kill9();
        assert_eq!(r.status, status, "{label}: {r:?}");
        self.writes += 1;
        self.s.restart();
        r.json
    }

    fn prove(&mut self, label: &str, proof: Proof) {
        self.proofs.push((label.to_string(), proof));
        let failures: Vec<String> = self
            .proofs
            .iter()
            .filter_map(|(l, p)| p(&self.s).err().map(|e| format!("[{l}] {e}")))
            .collect();
        assert!(
            failures.is_empty(),
            "after {} kill -9 restarts, acknowledged writes are missing or changed:\n{}",
            self.writes,
            failures.join("\n")
        );
    }
}

#[test]
fn every_acknowledged_write_survives_kill_9() {
    let mut c = Crasher {
        s: Server::start(&[]),
        proofs: Vec::new(),
        writes: 0,
    };
    let tags_path = |name: &str| {
        format!(
            "/2017-03-31/tags/{}",
            enc(&format!(
                "arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"
            ))
        )
    };

    // Functions.
    let mut body = create_body("d1");
    body["Environment"] = json!({"Variables": {"GREETING": "hello", "COLOR": "blue"}});
    body["MemorySize"] = json!(256);
    body["Tags"] = json!({"team": "core"});
    let created = c.write(
        "create d1",
        Request::new("POST", FUNCTIONS).json(&body),
        201,
    );
    c.prove("create d1", config_proof("d1", None, &created));
    c.prove(
        "create d1 tags",
        read_proof(
            tags_path("d1"),
            String::new(),
            200,
            Some(json!({"Tags": {"team": "core"}})),
        ),
    );
    let created2 = c.write(
        "create d2",
        Request::new("POST", FUNCTIONS).json(&create_body("d2")),
        201,
    );
    c.prove(
        "create d2 (until deleted)",
        config_proof("d2", None, &created2),
    );
    c.proofs.pop();

    let updated = c.write(
        "update d1 configuration",
        Request::new("PUT", &format!("{FUNCTIONS}/d1/configuration")).json(&json!({
            "Description": "second", "Timeout": 30,
            "Environment": {"Variables": {"GREETING": "hi"}},
        })),
        200,
    );
    c.proofs.retain(|(l, _)| l != "create d1");
    c.prove(
        "update d1 configuration",
        config_proof("d1", None, &updated),
    );

    let zip2 = zip_of(&[("index.py", b"def handler(e, c):\n    return 2\n".as_slice())]);
    let coded = c.write(
        "update d1 code",
        Request::new("PUT", &format!("{FUNCTIONS}/d1/code")).json(&json!({"ZipFile": b64(&zip2)})),
        200,
    );
    c.proofs.retain(|(l, _)| l != "update d1 configuration");
    c.prove("update d1 code", config_proof("d1", None, &coded));

    // Versions: a published version is immutable, so every member must come back, RevisionId included.
    let v1 = c.write(
        "publish d1 v1",
        Request::new("POST", &format!("{FUNCTIONS}/d1/versions"))
            .json(&json!({"Description": "first"})),
        201,
    );
    assert_eq!(v1["Version"], "1");
    c.prove(
        "publish d1 v1",
        read_proof(
            format!("{FUNCTIONS}/d1/configuration"),
            "Qualifier=1".into(),
            200,
            Some(without_locations(&v1)),
        ),
    );
    let timeout = c.write(
        "update d1 timeout",
        Request::new("PUT", &format!("{FUNCTIONS}/d1/configuration")).json(&json!({"Timeout": 31})),
        200,
    );
    c.proofs.retain(|(l, _)| l != "update d1 code");
    c.prove("update d1 timeout", config_proof("d1", None, &timeout));
    let v2 = c.write(
        "publish d1 v2",
        Request::new("POST", &format!("{FUNCTIONS}/d1/versions")).json(&json!({})),
        201,
    );
    assert_eq!(v2["Version"], "2");
    c.prove(
        "publish d1 v2",
        read_proof(
            format!("{FUNCTIONS}/d1/configuration"),
            "Qualifier=2".into(),
            200,
            Some(without_locations(&v2)),
        ),
    );

    // Aliases.
    let alias = c.write(
        "create alias",
        Request::new("POST", &format!("{FUNCTIONS}/d1/aliases"))
            .json(&json!({"Name": "live", "FunctionVersion": "1", "Description": "prod"})),
        201,
    );
    c.prove(
        "create alias",
        read_proof(
            format!("{FUNCTIONS}/d1/aliases/live"),
            String::new(),
            200,
            Some(alias),
        ),
    );
    let alias = c.write(
        "update alias weights",
        Request::new("PUT", &format!("{FUNCTIONS}/d1/aliases/live"))
            .json(&json!({"RoutingConfig": {"AdditionalVersionWeights": {"2": 0.25}}})),
        200,
    );
    c.proofs.retain(|(l, _)| l != "create alias");
    c.prove(
        "update alias weights",
        read_proof(
            format!("{FUNCTIONS}/d1/aliases/live"),
            String::new(),
            200,
            Some(alias),
        ),
    );
    let beta = c.write(
        "create alias beta",
        Request::new("POST", &format!("{FUNCTIONS}/d1/aliases"))
            .json(&json!({"Name": "beta", "FunctionVersion": "2"})),
        201,
    );
    c.prove(
        "create alias beta (until deleted)",
        read_proof(
            format!("{FUNCTIONS}/d1/aliases/beta"),
            String::new(),
            200,
            Some(beta),
        ),
    );
    c.proofs.pop();
    c.write(
        "delete alias beta",
        Request::new("DELETE", &format!("{FUNCTIONS}/d1/aliases/beta")),
        204,
    );
    c.prove(
        "delete alias beta",
        read_proof(
            format!("{FUNCTIONS}/d1/aliases/beta"),
            String::new(),
            404,
            None,
        ),
    );

    // Permissions, on the function and on an alias.
    let st = c.write(
        "add permission",
        Request::new("POST", &format!("{FUNCTIONS}/d1/policy")).json(&json!({
            "StatementId": "s3", "Action": "lambda:InvokeFunction", "Principal": "s3.amazonaws.com",
            "SourceArn": "arn:aws:s3:::bucket", "SourceAccount": "123456789012",
        })),
        201,
    );
    let statement: Value =
        serde_json::from_str(st["Statement"].as_str().unwrap_or("null")).expect("statement JSON");
    let policy_has = |query: &'static str, want: Vec<Value>| -> Proof {
        Box::new(move |s: &Server| {
            let r = s.call("GET", &format!("{FUNCTIONS}/d1/policy"), query, None);
            if r.status != 200 {
                return Err(format!("GetPolicy?{query}: {r:?}"));
            }
            let doc: Value = serde_json::from_str(r.json["Policy"].as_str().unwrap_or("null"))
                .unwrap_or(Value::Null);
            same(
                &format!("policy?{query}"),
                &doc["Statement"],
                &Value::Array(want.clone()),
            )
        })
    };
    c.prove("add permission", policy_has("", vec![statement.clone()]));
    let st2 = c.write(
        "add permission on alias",
        Request::new("POST", &format!("{FUNCTIONS}/d1/policy"))
            .query("Qualifier=live")
            .json(&json!({"StatementId": "any", "Action": "lambda:InvokeFunction", "Principal": "123456789012"})),
        201,
    );
    let statement2: Value =
        serde_json::from_str(st2["Statement"].as_str().unwrap_or("null")).expect("statement JSON");
    c.prove(
        "add permission on alias",
        policy_has("Qualifier=live", vec![statement2]),
    );
    let st3 = c.write(
        "add second permission",
        Request::new("POST", &format!("{FUNCTIONS}/d1/policy")).json(
            &json!({"StatementId": "gone", "Action": "lambda:InvokeFunction", "Principal": "*"}),
        ),
        201,
    );
    let statement3: Value =
        serde_json::from_str(st3["Statement"].as_str().unwrap_or("null")).expect("statement JSON");
    c.proofs.retain(|(l, _)| l != "add permission");
    c.prove(
        "add second permission",
        policy_has("", vec![statement.clone(), statement3]),
    );
    c.write(
        "remove permission",
        Request::new("DELETE", &format!("{FUNCTIONS}/d1/policy/gone")),
        204,
    );
    c.proofs.retain(|(l, _)| l != "add second permission");
    c.prove("remove permission", policy_has("", vec![statement]));

    // Tags.
    c.write(
        "tag",
        Request::new("POST", &tags_path("d1")).json(&json!({"Tags": {"env": "prod", "tmp": "x"}})),
        204,
    );
    c.proofs.retain(|(l, _)| l != "create d1 tags");
    c.prove(
        "tag",
        read_proof(
            tags_path("d1"),
            String::new(),
            200,
            Some(json!({"Tags": {"team": "core", "env": "prod", "tmp": "x"}})),
        ),
    );
    c.write(
        "untag",
        Request::new("DELETE", &tags_path("d1")).query("tagKeys=tmp"),
        204,
    );
    c.proofs.retain(|(l, _)| l != "tag");
    c.prove(
        "untag",
        read_proof(
            tags_path("d1"),
            String::new(),
            200,
            Some(json!({"Tags": {"team": "core", "env": "prod"}})),
        ),
    );

    // Reserved concurrency.
    c.write(
        "put concurrency",
        Request::new("PUT", "/2017-10-31/functions/d2/concurrency")
            .json(&json!({"ReservedConcurrentExecutions": 50})),
        200,
    );
    c.prove(
        "put concurrency",
        read_proof(
            "/2019-09-30/functions/d1/concurrency".into(),
            String::new(),
            200,
            Some(json!({})),
        ),
    );
    c.prove(
        "put concurrency d2",
        read_proof(
            "/2019-09-30/functions/d2/concurrency".into(),
            String::new(),
            200,
            Some(json!({"ReservedConcurrentExecutions": 50})),
        ),
    );
    c.write(
        "put concurrency d1",
        Request::new("PUT", "/2017-10-31/functions/d1/concurrency")
            .json(&json!({"ReservedConcurrentExecutions": 7})),
        200,
    );
    c.write(
        "delete concurrency d1",
        Request::new("DELETE", "/2017-10-31/functions/d1/concurrency"),
        204,
    );
    c.prove(
        "delete concurrency d1",
        read_proof(
            "/2019-09-30/functions/d1/concurrency".into(),
            String::new(),
            200,
            Some(json!({})),
        ),
    );

    // Layers: versions are never reused, across restarts too.
    let l1 = c.write(
        "publish layer v1",
        Request::new("POST", "/2018-10-31/layers/lib/versions")
            .json(&json!({"Content": {"ZipFile": b64(&hello_zip())}, "Description": "one", "CompatibleRuntimes": ["python3.12"]})),
        201,
    );
    assert_eq!(l1["Version"], 1);
    c.prove(
        "publish layer v1",
        read_proof(
            "/2018-10-31/layers/lib/versions/1".into(),
            String::new(),
            200,
            Some(without_locations(&l1)),
        ),
    );
    c.write(
        "delete layer v1",
        Request::new("DELETE", "/2018-10-31/layers/lib/versions/1"),
        204,
    );
    c.proofs.retain(|(l, _)| l != "publish layer v1");
    c.prove(
        "delete layer v1",
        read_proof(
            "/2018-10-31/layers/lib/versions/1".into(),
            String::new(),
            404,
            None,
        ),
    );
    let l2 = c.write(
        "publish layer v2",
        Request::new("POST", "/2018-10-31/layers/lib/versions")
            .json(&json!({"Content": {"ZipFile": b64(&zip2)}})),
        201,
    );
    assert_eq!(
        l2["Version"], 2,
        "a deleted layer version number is not reused after a restart"
    );
    c.prove(
        "publish layer v2",
        read_proof(
            "/2018-10-31/layers/lib/versions/2".into(),
            String::new(),
            200,
            Some(without_locations(&l2)),
        ),
    );

    // Deleting a version and a function.
    let v3 = c.write(
        "publish after config change",
        Request::new("PUT", &format!("{FUNCTIONS}/d1/configuration")).json(&json!({"Timeout": 32})),
        200,
    );
    c.proofs.retain(|(l, _)| l != "update d1 timeout");
    c.prove("publish after config change", config_proof("d1", None, &v3));
    let v3 = c.write(
        "publish d1 v3",
        Request::new("POST", &format!("{FUNCTIONS}/d1/versions")).json(&json!({})),
        201,
    );
    assert_eq!(v3["Version"], "3");
    c.write(
        "delete d1 v3",
        Request::new("DELETE", &format!("{FUNCTIONS}/d1")).query("Qualifier=3"),
        204,
    );
    c.prove(
        "delete d1 v3",
        read_proof(format!("{FUNCTIONS}/d1"), "Qualifier=3".into(), 404, None),
    );
    c.write(
        "delete d2",
        Request::new("DELETE", &format!("{FUNCTIONS}/d2")),
        204,
    );
    c.proofs.retain(|(l, _)| l != "put concurrency d2");
    c.prove(
        "delete d2",
        read_proof(format!("{FUNCTIONS}/d2"), String::new(), 404, None),
    );
    c.prove(
        "delete d2 releases its concurrency",
        Box::new(|s: &Server| {
            let r = s.call("GET", "/2016-08-19/account-settings", "", None);
            same(
                "UnreservedConcurrentExecutions",
                &r.json["AccountLimit"]["UnreservedConcurrentExecutions"],
                &json!(1000),
            )
        }),
    );

    // Finally: with everything settled, two more crashes change nothing at all.
    let reads = [
        (format!("{FUNCTIONS}/d1"), String::new()),
        (format!("{FUNCTIONS}/d1"), "Qualifier=1".to_string()),
        (format!("{FUNCTIONS}/d1"), "Qualifier=live".to_string()),
        (FUNCTIONS.to_string(), "FunctionVersion=ALL".to_string()),
        (format!("{FUNCTIONS}/d1/versions"), String::new()),
        (format!("{FUNCTIONS}/d1/aliases"), String::new()),
        (format!("{FUNCTIONS}/d1/policy"), String::new()),
        (
            format!("{FUNCTIONS}/d1/policy"),
            "Qualifier=live".to_string(),
        ),
        (tags_path("d1"), String::new()),
        ("/2018-10-31/layers".to_string(), String::new()),
        ("/2018-10-31/layers/lib/versions".to_string(), String::new()),
        ("/2016-08-19/account-settings".to_string(), String::new()),
    ];
    let snapshot = |s: &Server| -> Vec<(u16, Value)> {
        reads
            .iter()
            .map(|(p, q)| {
                let r = s.call("GET", p, q, None);
                (r.status, without_locations(&r.json))
            })
            .collect()
    };
    let before = snapshot(&c.s);
    c.s.restart();
    c.s.restart();
    let after = snapshot(&c.s);
    for (((p, q), b), a) in reads.iter().zip(&before).zip(&after) {
        assert_eq!(b, a, "GET {p}?{q} changed across restarts");
    }
}

/// A crash while a create is Pending (and while an update is InProgress): start-up completes the
/// transition, so the waiters converge instead of spinning.
#[test]
fn interrupted_transitions_complete_at_start_up() {
    let mut s = Server::start(&["--update-delay-ms", "2000"]);
    let r = s.call("POST", FUNCTIONS, "", Some(&create_body("pend")));
    s.kill9();
    assert_eq!(r.status, 201, "{r:?}");
    assert_eq!(r.json["State"], "Pending");
    s.restart();
    let settled = s.wait_settled("pend", Duration::from_secs(5));
    let c = &settled["Configuration"];
    assert_eq!(c["State"], "Active");
    assert_eq!(c["LastUpdateStatus"], "Successful");
    assert_eq!(c["CodeSha256"], r.json["CodeSha256"]);
    assert_ne!(c["RevisionId"], r.json["RevisionId"]);

    let u = s.call(
        "PUT",
        &format!("{FUNCTIONS}/pend/configuration"),
        "",
        Some(&json!({"MemorySize": 512})),
    );
    s.kill9();
    assert_eq!(u.status, 200, "{u:?}");
    assert_eq!(u.json["LastUpdateStatus"], "InProgress");
    s.restart();
    let settled = s.wait_settled("pend", Duration::from_secs(5));
    assert_eq!(settled["Configuration"]["MemorySize"], 512);
    // And it is writable again at once (no leftover 409).
    let again = s.call(
        "PUT",
        &format!("{FUNCTIONS}/pend/configuration"),
        "",
        Some(&json!({"MemorySize": 256})),
    );
    assert_eq!(again.status, 200, "{again:?}");
}

fn files_under(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        match e.file_type() {
            Ok(t) if t.is_dir() => files_under(&p, out),
            Ok(t) if t.is_file() => out.push(p),
            _ => {}
        }
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn environment_plaintext_reaches_no_file() {
    let mut s = Server::start(&[]);
    let secret = format!("canary-{:016x}", Rng::new(0xc0ffee).next_u64());
    let replaced = format!("replaced-{:016x}", Rng::new(0xbeef).next_u64());
    let mut body = create_body("secretive");
    body["Environment"] = json!({"Variables": {"DB_PASSWORD": secret, "OTHER": replaced}});
    let r = s.call("POST", FUNCTIONS, "", Some(&body));
    assert_eq!(r.status, 201, "{r:?}");
    // A published copy, and an update that replaces one value, must not leave plaintext behind either.
    let p = s.call(
        "POST",
        &format!("{FUNCTIONS}/secretive/versions"),
        "",
        Some(&json!({})),
    );
    assert_eq!(p.status, 201, "{p:?}");
    let u = s.call(
        "PUT",
        &format!("{FUNCTIONS}/secretive/configuration"),
        "",
        Some(&json!({"Environment": {"Variables": {"DB_PASSWORD": secret, "OTHER": "plain"}}})),
    );
    assert_eq!(u.status, 200, "{u:?}");
    let g = s.get_function("secretive");
    assert_eq!(
        g.json["Configuration"]["Environment"]["Variables"]["DB_PASSWORD"],
        secret.as_str()
    );
    // Scan while the WAL is unchecked (after kill -9), and again after a clean restart.
    s.kill9();
    for round in ["after kill -9", "after restart"] {
        let mut files = Vec::new();
        files_under(s.data_dir(), &mut files);
        files.extend(s.log_files());
        assert!(files.len() > 3, "scanned only {files:?}");
        for f in &files {
            let bytes = std::fs::read(f).unwrap_or_default();
            for needle in [&secret, &replaced] {
                assert!(
                    !contains(&bytes, needle.as_bytes()),
                    "{round}: environment plaintext {needle:?} found in {}",
                    f.strip_prefix(s.data_dir()).unwrap_or(f).display()
                );
            }
        }
        if round == "after kill -9" {
            s.restart();
            assert_eq!(s.get_function("secretive").status, 200);
        }
    }
}

#[test]
fn key_files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let s = Server::start(&[]);
    for rel in ["keys/master.key", "admin-credentials"] {
        let path = s.data_dir().join(rel);
        let meta = std::fs::metadata(&path).unwrap_or_else(|e| panic!("{rel}: {e}"));
        assert_eq!(meta.permissions().mode() & 0o777, 0o600, "{rel} mode");
    }
    let keys = std::fs::metadata(s.data_dir().join("keys")).expect("keys dir");
    assert_eq!(
        keys.permissions().mode() & 0o077,
        0,
        "keys/ is not readable by others"
    );
}
