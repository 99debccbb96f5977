//! Client input never panics the server or earns a 5xx (STYLE.md, issue 2 item 4): malformed and
//! mistyped JSON, huge numbers, deep nesting, bad bytes in paths and bodies, lying framing, bad
//! signatures, and a seeded random mix. After each batch the process is alive and healthy.

mod common;

use common::*;
use serde_json::{json, Value};

const FUNCTIONS: &str = "/2015-03-31/functions";

/// Every operation that takes a JSON body, with a path that reaches it.
fn body_routes() -> Vec<(&'static str, String)> {
    vec![
        ("POST", FUNCTIONS.to_string()),
        ("PUT", format!("{FUNCTIONS}/fx/configuration")),
        ("PUT", format!("{FUNCTIONS}/fx/code")),
        ("POST", format!("{FUNCTIONS}/fx/versions")),
        ("POST", format!("{FUNCTIONS}/fx/aliases")),
        ("PUT", format!("{FUNCTIONS}/fx/aliases/live")),
        ("POST", format!("{FUNCTIONS}/fx/policy")),
        ("PUT", "/2017-10-31/functions/fx/concurrency".to_string()),
        (
            "POST",
            format!(
                "/2017-03-31/tags/{}",
                enc(&format!("arn:aws:lambda:{REGION}:{ACCOUNT}:function:fx"))
            ),
        ),
        ("POST", "/2018-10-31/layers/ly/versions".to_string()),
    ]
}

/// A server with a function `fx` (version 1, alias `live`) and a layer `ly`.
fn fixture() -> Server {
    let s = Server::start(&[]);
    s.create_function("fx");
    let p = s.call(
        "POST",
        &format!("{FUNCTIONS}/fx/versions"),
        "",
        Some(&json!({})),
    );
    assert_eq!(p.status, 201, "{p:?}");
    let a = s.call(
        "POST",
        &format!("{FUNCTIONS}/fx/aliases"),
        "",
        Some(&json!({"Name": "live", "FunctionVersion": "1"})),
    );
    assert_eq!(a.status, 201, "{a:?}");
    let l = s.call(
        "POST",
        "/2018-10-31/layers/ly/versions",
        "",
        Some(&json!({"Content": {"ZipFile": b64(&hello_zip())}})),
    );
    assert_eq!(l.status, 201, "{l:?}");
    s
}

/// Collects requests whose answer was a server error (or no answer at all).
#[derive(Default)]
struct Faults(Vec<String>);

impl Faults {
    fn check(&mut self, label: &str, r: &Resp) {
        if r.status >= 500 {
            self.0.push(format!("{label}: {r:?}"));
        }
    }

    fn expect(&mut self, label: &str, r: &Resp, status: u16) {
        if r.status != status {
            self.0.push(format!("{label}: want {status}, got {r:?}"));
        }
    }

    fn finish(self, s: &mut Server, batch: &str) {
        s.assert_healthy(batch);
        assert!(
            self.0.is_empty(),
            "{batch}: {} bad answers:\n{}",
            self.0.len(),
            self.0.join("\n")
        );
    }
}

fn nested(depth: usize) -> Vec<u8> {
    let mut b = Vec::with_capacity(depth * 2 + 40);
    b.extend_from_slice(b"{\"FunctionName\":\"deep\",\"VpcConfig\":");
    b.extend(std::iter::repeat_n(b'[', depth));
    b.extend(std::iter::repeat_n(b']', depth));
    b.push(b'}');
    b
}

#[test]
fn malformed_json_bodies_are_400() {
    let mut s = fixture();
    let mut bodies: Vec<(&str, Vec<u8>)> = vec![
        ("open brace", b"{".to_vec()),
        ("close brace", b"}".to_vec()),
        ("array", b"[]".to_vec()),
        ("null", b"null".to_vec()),
        ("string", b"\"str\"".to_vec()),
        ("number", b"123".to_vec()),
        ("missing value", b"{\"a\":}".to_vec()),
        ("trailing comma", b"{\"FunctionName\":\"x\",}".to_vec()),
        ("single quotes", b"{'FunctionName':'x'}".to_vec()),
        ("two documents", b"{}{}".to_vec()),
        (
            "invalid UTF-8 in a known string",
            b"{\"Description\":\"\xff\xfe\"}".to_vec(),
        ),
        ("invalid UTF-8 outside strings", b"{\xff}".to_vec()),
        (
            "lone surrogate escape",
            b"{\"Description\":\"\\ud800\"}".to_vec(),
        ),
        ("bad escape", b"{\"Description\":\"\\q\"}".to_vec()),
        ("NUL bytes", b"{\"Description\":\"a\0b\"}".to_vec()),
        (
            "control character",
            b"{\"Description\":\"a\x01b\"}".to_vec(),
        ),
        ("number overflow", b"{\"Timeout\":1e999999}".to_vec()),
        ("BOM", b"\xef\xbb\xbf{}".to_vec()),
        ("nesting 100000", nested(100_000)),
        (
            "truncated",
            br#"{"FunctionName":"x","Code":{"ZipFile":"UEsDB"#.to_vec(),
        ),
    ];
    bodies.push(("binary noise", Rng::new(1).bytes(4096)));
    let mut f = Faults::default();
    for (method, path) in body_routes() {
        for (what, body) in &bodies {
            let r = s.send(&Request::new(method, &path).bytes(body.clone()));
            let label = format!("{method} {path} [{what}]");
            f.check(&label, &r);
            // A number past f64 or a deep value inside a member the operation does not take is skipped
            // unparsed (unknown members are ignored, §0.1); everything else here is malformed.
            let skippable = ["number overflow", "nesting 100000"].contains(what);
            if r.status != 400 && !(skippable && r.status < 300) {
                f.0.push(format!("{label}: want 400, got {r:?}"));
            }
        }
    }
    f.finish(&mut s, "malformed JSON");
    // Nothing was created or changed by any of it.
    let l = s.call("GET", FUNCTIONS, "", None);
    let names: Vec<&str> = l.json["Functions"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|f| f["FunctionName"].as_str())
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(names, ["fx"], "{l:?}");
}

/// Wrong JSON types for every member of CreateFunction: each is a 400 and creates nothing.
#[test]
fn wrong_types_in_create_function_are_400() {
    let mut s = fixture();
    // (member path, wrong values)
    let string_wrong = vec![json!(123), json!(true), json!([]), json!({}), json!(1.5)];
    let number_wrong = vec![
        json!("128"),
        json!(128.5),
        json!(true),
        json!([]),
        json!({}),
        json!(1e40),
        json!(-1e40),
        serde_json::from_str::<Value>("9223372036854775808").unwrap_or(Value::Null),
        serde_json::from_str::<Value>("18446744073709551616").unwrap_or(Value::Null),
    ];
    let bool_wrong = vec![json!("true"), json!(1), json!([]), json!({})];
    let object_wrong = vec![json!("x"), json!([]), json!(1), json!(true)];
    let array_wrong = vec![json!("x"), json!({}), json!(1), json!(true)];
    let members: Vec<(&str, &Vec<Value>)> = vec![
        ("FunctionName", &string_wrong),
        ("Role", &string_wrong),
        ("Runtime", &string_wrong),
        ("Handler", &string_wrong),
        ("Description", &string_wrong),
        ("KMSKeyArn", &string_wrong),
        ("PackageType", &string_wrong),
        ("CodeSigningConfigArn", &string_wrong),
        ("Timeout", &number_wrong),
        ("MemorySize", &number_wrong),
        ("Publish", &bool_wrong),
        ("Code", &object_wrong),
        ("Code.ZipFile", &string_wrong),
        ("Environment", &object_wrong),
        ("Environment.Variables", &object_wrong),
        ("Environment.Variables.KEY", &string_wrong),
        ("Tags", &object_wrong),
        ("Tags.k", &string_wrong),
        ("Layers", &array_wrong),
        ("Layers.0", &string_wrong),
        ("Architectures", &array_wrong),
        ("Architectures.0", &string_wrong),
        ("EphemeralStorage", &object_wrong),
        ("EphemeralStorage.Size", &number_wrong),
        ("TracingConfig", &object_wrong),
        ("TracingConfig.Mode", &string_wrong),
        ("DeadLetterConfig", &object_wrong),
        ("DeadLetterConfig.TargetArn", &string_wrong),
        ("LoggingConfig", &object_wrong),
        ("LoggingConfig.LogFormat", &string_wrong),
        ("LoggingConfig.LogGroup", &string_wrong),
        ("SnapStart", &object_wrong),
        ("SnapStart.ApplyOn", &string_wrong),
        ("ImageConfig", &object_wrong),
    ];
    let mut f = Faults::default();
    let mut n = 0;
    for (member, wrongs) in members {
        for wrong in wrongs {
            n += 1;
            let name = format!("wt-{n}");
            let mut body = create_body(&name);
            body["Environment"] = json!({"Variables": {"KEY": "v"}});
            body["Tags"] = json!({"k": "v"});
            body["Layers"] = json!([format!("arn:aws:lambda:{REGION}:{ACCOUNT}:layer:ly:1")]);
            body["Architectures"] = json!(["x86_64"]);
            body["EphemeralStorage"] = json!({"Size": 512});
            body["TracingConfig"] = json!({"Mode": "PassThrough"});
            body["DeadLetterConfig"] =
                json!({"TargetArn": format!("arn:aws:sqs:{REGION}:{ACCOUNT}:dlq")});
            body["LoggingConfig"] = json!({"LogFormat": "Text", "LogGroup": "/g"});
            body["SnapStart"] = json!({"ApplyOn": "None"});
            set_path(&mut body, member, wrong.clone());
            if member == "FunctionName" {
                // The name is the wrong thing; nothing by any name may appear.
            }
            let r = s.call("POST", FUNCTIONS, "", Some(&body));
            let label = format!("{member} = {wrong}");
            f.check(&label, &r);
            f.expect(&label, &r, 400);
            if r.status == 201 {
                continue;
            }
            let g = s.get_function(&name);
            if g.status != 404 {
                f.0.push(format!("{label}: {name} exists after a refused create"));
            }
        }
    }
    f.finish(&mut s, "wrong JSON types");
}

/// VpcConfig and FileSystemConfigs are typed members too: a string where a list belongs is a 400, and
/// nothing of the wrong type is stored and echoed back (type-strict SDKs cannot read it).
#[test]
fn vpc_config_and_file_system_configs_are_typed() {
    let s = fixture();
    let mut failures = Vec::new();
    for (member, wrong) in [
        ("VpcConfig", json!("x")),
        ("VpcConfig", json!([])),
        (
            "VpcConfig",
            json!({"SubnetIds": "x", "SecurityGroupIds": []}),
        ),
        (
            "VpcConfig",
            json!({"SubnetIds": [], "SecurityGroupIds": {}}),
        ),
        (
            "VpcConfig",
            json!({"SubnetIds": [123], "SecurityGroupIds": []}),
        ),
        ("FileSystemConfigs", json!("x")),
        ("FileSystemConfigs", json!({})),
    ] {
        let mut body = create_body("vpc");
        body[member] = wrong.clone();
        let r = s.call("POST", FUNCTIONS, "", Some(&body));
        if r.status != 400 {
            let shown = s.get_function("vpc").json["Configuration"][member].clone();
            failures.push(format!(
                "{member} = {wrong}: {}, GetFunction shows {member} = {shown}",
                r.status
            ));
            s.call("DELETE", &format!("{FUNCTIONS}/vpc"), "", None);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Set `a.b.0.c` in a JSON value whose parents already exist.
fn set_path(v: &mut Value, path: &str, new: Value) {
    let (parent, last) = match path.rsplit_once('.') {
        Some((p, l)) => (format!("/{}", p.replace('.', "/")), l),
        None => (String::new(), path),
    };
    match v.pointer_mut(&parent) {
        Some(Value::Array(a)) => {
            if let Ok(i) = last.parse::<usize>() {
                a[i] = new;
            }
        }
        Some(Value::Object(m)) => {
            m.insert(last.to_string(), new);
        }
        other => panic!("no parent for {path}: {other:?}"),
    }
}

#[test]
fn huge_numbers_and_markers_are_client_errors() {
    let mut s = fixture();
    let big = "9223372036854775807";
    let small = "-9223372036854775808";
    let mut f = Faults::default();
    let bodies = [
        format!("{{\"MemorySize\":{big}}}"),
        format!("{{\"MemorySize\":{small}}}"),
        format!("{{\"Timeout\":{big}}}"),
        format!("{{\"Timeout\":{small}}}"),
        format!("{{\"EphemeralStorage\":{{\"Size\":{big}}}}}"),
        "{\"MemorySize\":1e308}".to_string(),
    ];
    for b in &bodies {
        let r = s.send(
            &Request::new("PUT", &format!("{FUNCTIONS}/fx/configuration"))
                .bytes(b.clone().into_bytes()),
        );
        f.check(b, &r);
        f.expect(b, &r, 400);
    }
    for n in [big, small, "1e308", "2147483648", "-1"] {
        let b = format!("{{\"ReservedConcurrentExecutions\":{n}}}");
        let r = s.send(
            &Request::new("PUT", "/2017-10-31/functions/fx/concurrency")
                .bytes(b.clone().into_bytes()),
        );
        f.check(&b, &r);
        f.expect(&b, &r, 400);
    }
    for w in ["1e308", "-1e308", "1.0000000000000002", "5e-324"] {
        let b = format!(
            "{{\"Name\":\"w\",\"FunctionVersion\":\"1\",\"RoutingConfig\":{{\"AdditionalVersionWeights\":{{\"{big}\":{w}}}}}}}"
        );
        let r = s.send(
            &Request::new("POST", &format!("{FUNCTIONS}/fx/aliases")).bytes(b.clone().into_bytes()),
        );
        f.check(&b, &r);
    }
    let gets = [
        (FUNCTIONS.to_string(), format!("MaxItems={big}0")),
        (FUNCTIONS.to_string(), "MaxItems=-1".to_string()),
        (FUNCTIONS.to_string(), format!("Marker=fx%0A{small}")),
        (
            FUNCTIONS.to_string(),
            format!("FunctionVersion=ALL&Marker=fx%0A{small}"),
        ),
        (
            FUNCTIONS.to_string(),
            format!("FunctionVersion=ALL&Marker=fx%0A{big}"),
        ),
        (FUNCTIONS.to_string(), "Marker=%FF%FE".to_string()),
        (
            format!("{FUNCTIONS}/fx/versions"),
            format!("Marker={small}"),
        ),
        (format!("{FUNCTIONS}/fx/versions"), format!("Marker={big}")),
        (
            format!("{FUNCTIONS}/fx/versions"),
            "Marker=garbage".to_string(),
        ),
        (format!("{FUNCTIONS}/fx/aliases"), format!("MaxItems={big}")),
        (format!("{FUNCTIONS}/fx"), format!("Qualifier={big}")),
        (
            format!("{FUNCTIONS}/fx"),
            "Qualifier=9999999999".to_string(),
        ),
        (
            format!("/2018-10-31/layers/ly/versions/{big}"),
            String::new(),
        ),
        (
            format!("/2018-10-31/layers/ly/versions/{big}0"),
            String::new(),
        ),
        (
            "/2018-10-31/layers/ly/versions/-1".to_string(),
            String::new(),
        ),
        (
            "/2018-10-31/layers/ly/versions".to_string(),
            format!("Marker={small}"),
        ),
        ("/2018-10-31/layers".to_string(), format!("MaxItems={big}")),
    ];
    for (path, q) in &gets {
        let r = s.call("GET", path, q, None);
        f.check(&format!("GET {path}?{q}"), &r);
    }
    for q in [
        format!("Qualifier={big}"),
        "Qualifier=9999999999".to_string(),
    ] {
        let r = s.call("DELETE", &format!("{FUNCTIONS}/fx"), &q, None);
        f.check(&format!("DELETE fx?{q}"), &r);
    }
    let r = s.call(
        "DELETE",
        &format!("/2018-10-31/layers/ly/versions/{big}"),
        "",
        None,
    );
    f.check("DELETE layer version MAX", &r);
    f.finish(&mut s, "huge numbers");
    assert_eq!(s.get_function("fx").status, 200, "fx survived");
}

#[test]
fn deep_nesting_is_bounded() {
    let mut s = fixture();
    let mut f = Faults::default();
    for depth in [10, 100, 126, 127, 128, 129, 200, 1_000, 50_000] {
        // In a member the server keeps as raw JSON …
        let r = s.send(&Request::new("POST", FUNCTIONS).bytes(nested(depth)));
        f.check(&format!("VpcConfig nested {depth}"), &r);
        // … in a member it does not know …
        let mut b = b"{\"Description\":\"d\",\"Unknown\":".to_vec();
        b.extend(std::iter::repeat_n(b'{', 0));
        for _ in 0..depth {
            b.extend_from_slice(b"{\"a\":");
        }
        b.extend_from_slice(b"1");
        b.extend(std::iter::repeat_n(b'}', depth));
        b.push(b'}');
        let r = s.send(&Request::new("PUT", &format!("{FUNCTIONS}/fx/configuration")).bytes(b));
        f.check(&format!("unknown member nested {depth}"), &r);
        // … and in the environment map.
        let mut b = b"{\"Environment\":{\"Variables\":{\"KEY\":".to_vec();
        b.extend(std::iter::repeat_n(b'[', depth));
        b.extend(std::iter::repeat_n(b']', depth));
        b.extend_from_slice(b"}}}");
        let r = s.send(&Request::new("PUT", &format!("{FUNCTIONS}/fx/configuration")).bytes(b));
        f.check(&format!("env value nested {depth}"), &r);
        if depth > 1 {
            f.expect(&format!("env value nested {depth}"), &r, 400);
        }
    }
    f.finish(&mut s, "deep nesting");
}

/// Percent-encoding garbage, invalid UTF-8 and traversal attempts in every kind of path label.
#[test]
fn garbage_in_path_labels() {
    let mut s = fixture();
    let labels = [
        "%FF%FE",
        "%C3%28",
        "%00",
        "%",
        "%G1",
        "%2",
        "..",
        "%2E%2E",
        "a%2Fb",
        "%2F..%2F..%2Fetc%2Fpasswd",
        "fx%3A%3A%3A",
        "arn%3Aaws%3Alambda%3A%3A%3A",
        "%E2%80%AE",
        "%F0%9F%92%A5",
        "fx%20",
        "%24LATEST",
        "fx%3A%24LATEST%3A1",
    ];
    let mut f = Faults::default();
    for l in labels {
        let arn_l = enc(&format!("arn:aws:lambda:{REGION}:{ACCOUNT}:function:")) + l;
        let routes = [
            ("GET", format!("{FUNCTIONS}/{l}")),
            ("GET", format!("{FUNCTIONS}/{l}/configuration")),
            ("DELETE", format!("{FUNCTIONS}/{l}")),
            ("PUT", format!("{FUNCTIONS}/{l}/configuration")),
            ("POST", format!("{FUNCTIONS}/{l}/versions")),
            ("GET", format!("{FUNCTIONS}/{l}/versions")),
            ("GET", format!("{FUNCTIONS}/{l}/aliases")),
            ("GET", format!("{FUNCTIONS}/fx/aliases/{l}")),
            ("PUT", format!("{FUNCTIONS}/fx/aliases/{l}")),
            ("DELETE", format!("{FUNCTIONS}/fx/aliases/{l}")),
            ("GET", format!("{FUNCTIONS}/{l}/policy")),
            ("DELETE", format!("{FUNCTIONS}/fx/policy/{l}")),
            ("PUT", format!("/2017-10-31/functions/{l}/concurrency")),
            ("GET", format!("/2019-09-30/functions/{l}/concurrency")),
            ("GET", format!("/2017-03-31/tags/{l}")),
            ("GET", format!("/2017-03-31/tags/{arn_l}")),
            ("GET", format!("/2018-10-31/layers/{l}/versions")),
            ("GET", format!("/2018-10-31/layers/ly/versions/{l}")),
            ("DELETE", format!("/2018-10-31/layers/ly/versions/{l}")),
            (
                "GET",
                format!("/2020-06-30/functions/{l}/code-signing-config"),
            ),
        ];
        for (m, p) in routes {
            let req =
                Request::new(m, &p).json(&json!({"Description": "x", "FunctionVersion": "1"}));
            let r = s.send(&req);
            f.check(&format!("{m} {p}"), &r);
        }
        let r = s.call(
            "GET",
            &format!("{FUNCTIONS}/fx"),
            &format!("Qualifier={l}"),
            None,
        );
        f.check(&format!("Qualifier={l}"), &r);
    }
    f.finish(&mut s, "garbage labels");
    assert_eq!(s.get_function("fx").status, 200);
}

/// Raw bytes that are not valid in a request line, sent unsigned: the HTTP layer refuses them.
#[test]
fn invalid_bytes_on_the_request_line() {
    let mut s = fixture();
    let mut f = Faults::default();
    let lines: Vec<Vec<u8>> = vec![
        b"GET /2015-03-31/functions/\xff\xfe HTTP/1.1\r\n".to_vec(),
        b"GET /2015-03-31/functions/a b HTTP/1.1\r\n".to_vec(),
        b"GET /2015-03-31/functions/\x00 HTTP/1.1\r\n".to_vec(),
        b"G\xc3\x89T /2015-03-31/functions HTTP/1.1\r\n".to_vec(),
        b"GET /2015-03-31/functions HTTP/9.9\r\n".to_vec(),
        b"GET\r\n".to_vec(),
        b"\r\n\r\n".to_vec(),
    ];
    for line in lines {
        let mut req = line.clone();
        req.extend_from_slice(
            format!("host: {}\r\nconnection: close\r\n\r\n", s.host()).as_bytes(),
        );
        let raw = exchange_raw(s.addr, &req, b"", false).unwrap_or_default();
        if let Some(r) = parse_response(&raw) {
            f.check(&String::from_utf8_lossy(&line), &r);
        }
    }
    let mut head = b"GET /2015-03-31/functions HTTP/1.1\r\nhost: x\r\nx-bad: \xff\xfe\r\nconnection: close\r\n\r\n".to_vec();
    let raw = exchange_raw(s.addr, &head, b"", false).unwrap_or_default();
    if let Some(r) = parse_response(&raw) {
        f.check("non-UTF-8 header value", &r);
    }
    head.clear();
    f.finish(&mut s, "invalid request-line bytes");
}

#[test]
fn overlong_labels_and_queries() {
    let mut s = fixture();
    let mut f = Faults::default();
    for n in [1_000, 10_000, 30_000] {
        let long = "a".repeat(n);
        for (m, p, q) in [
            ("GET", format!("{FUNCTIONS}/{long}"), String::new()),
            (
                "GET",
                format!("{FUNCTIONS}/fx/aliases/{long}"),
                String::new(),
            ),
            (
                "DELETE",
                format!("{FUNCTIONS}/fx/policy/{long}"),
                String::new(),
            ),
            (
                "GET",
                format!("/2018-10-31/layers/{long}/versions"),
                String::new(),
            ),
            ("GET", format!("/2017-03-31/tags/{long}"), String::new()),
            (
                "GET",
                format!("{FUNCTIONS}/fx"),
                format!("Qualifier={long}"),
            ),
            ("GET", FUNCTIONS.to_string(), format!("Marker={long}")),
            (
                "DELETE",
                format!(
                    "/2017-03-31/tags/{}",
                    enc(&format!("arn:aws:lambda:{REGION}:{ACCOUNT}:function:fx"))
                ),
                format!("tagKeys={long}"),
            ),
        ] {
            let r = s.send(&Request::new(m, &p).query(&q));
            f.check(&format!("{m} {} chars", p.len() + q.len()), &r);
        }
        let body = json!({"Name": long, "FunctionVersion": "1"});
        let r = s.call("POST", &format!("{FUNCTIONS}/fx/aliases"), "", Some(&body));
        f.check(&format!("alias name of {n}"), &r);
        f.expect(&format!("alias name of {n}"), &r, 400);
        let body =
            json!({"StatementId": long, "Action": "lambda:InvokeFunction", "Principal": "*"});
        let r = s.call("POST", &format!("{FUNCTIONS}/fx/policy"), "", Some(&body));
        f.check(&format!("statement id of {n}"), &r);
        f.expect(&format!("statement id of {n}"), &r, 400);
    }
    // Past what the HTTP layer accepts at all (hyper answers 414/431 or closes).
    let huge = "a".repeat(70_000);
    let r = s.send(&Request::new("GET", &format!("{FUNCTIONS}/{huge}")));
    f.check("70000-character path", &r);
    f.finish(&mut s, "overlong labels");
}

#[test]
fn unknown_routes_are_404_after_authentication() {
    let mut s = fixture();
    let mut f = Faults::default();
    for (m, p) in [
        ("GET", "/"),
        ("GET", "/nope"),
        ("PATCH", FUNCTIONS),
        ("POST", "/2015-03-31/functions/fx/bogus"),
        ("GET", "/2015-03-31/functions/fx/configuration/extra"),
        ("GET", "/2099-01-01/functions"),
        ("PUT", "/2019-09-30/functions/fx/concurrency"),
        ("OPTIONS", FUNCTIONS),
        ("GET", "/_lamina/healthz"),
    ] {
        let r = s.send(&Request::new(m, p));
        match check_error_prefix(&r, 404, "UnknownOperationException", "") {
            Ok(()) => {}
            Err(e) => f.0.push(format!("signed {m} {p}: {e}")),
        }
        let r = s.send(&Request::new(m, p).unsigned());
        if let Err(e) = check_error(
            &r,
            403,
            "MissingAuthenticationTokenException",
            "Missing Authentication Token",
        ) {
            f.0.push(format!("unsigned {m} {p}: {e}"));
        }
    }
    f.finish(&mut s, "unknown routes");
}

/// Framing lies: a Content-Length larger or smaller than the body, contradictory headers, broken chunks.
#[test]
fn content_length_lies() {
    let mut s = fixture();
    let mut f = Faults::default();
    let host = s.host();
    let head = |extra: &str| {
        format!("PUT {FUNCTIONS}/fx/configuration HTTP/1.1\r\nhost: {host}\r\ncontent-type: application/json\r\n{extra}connection: close\r\n\r\n")
            .into_bytes()
    };
    // Declared 10, sent 5, then the client stops sending (half-close) and waits for an answer.
    let raw =
        exchange_raw(s.addr, &head("content-length: 10\r\n"), b"{\"a\":", true).unwrap_or_default();
    if let Some(r) = parse_response(&raw) {
        f.check("declared 10, sent 5, half-closed", &r);
    }
    // Declared 10, sent 5, then the client goes away entirely.
    {
        use std::io::Write;
        let mut c = std::net::TcpStream::connect(s.addr).expect("connect");
        let _ = c.write_all(&head("content-length: 10\r\n"));
        let _ = c.write_all(b"{\"a\":");
    }
    // Declared 2, sent more: the rest is a second (garbage) request on a closing connection.
    let raw = exchange_raw(
        s.addr,
        &head("content-length: 2\r\n"),
        b"{}GARBAGE GARBAGE\r\n\r\n",
        false,
    )
    .unwrap_or_default();
    if let Some(r) = parse_response(&raw) {
        f.check("declared 2, sent 20", &r);
    }
    for (label, extra, body) in [
        ("negative length", "content-length: -1\r\n", &b"{}"[..]),
        ("text length", "content-length: abc\r\n", b"{}"),
        (
            "two lengths",
            "content-length: 2\r\ncontent-length: 3\r\n",
            b"{}",
        ),
        (
            "length and chunked",
            "content-length: 2\r\ntransfer-encoding: chunked\r\n",
            b"2\r\n{}\r\n0\r\n\r\n",
        ),
        (
            "bad chunk size",
            "transfer-encoding: chunked\r\n",
            b"zz\r\n{}\r\n0\r\n\r\n",
        ),
        (
            "short chunk",
            "transfer-encoding: chunked\r\n",
            b"10\r\n{}\r\n0\r\n\r\n",
        ),
        (
            "huge chunk size",
            "transfer-encoding: chunked\r\n",
            b"ffffffffffffffff\r\n{}\r\n",
        ),
        ("unknown coding", "transfer-encoding: gzip\r\n", b"{}"),
    ] {
        let raw = exchange_raw(s.addr, &head(extra), body, true).unwrap_or_default();
        if let Some(r) = parse_response(&raw) {
            f.check(label, &r);
        }
    }
    // A CreateFunction that declares a body past the request limit and then sends none.
    let big = format!(
        "POST {FUNCTIONS} HTTP/1.1\r\nhost: {host}\r\ncontent-type: application/json\r\ncontent-length: 70167212\r\nconnection: close\r\n\r\n"
    );
    let raw = exchange_raw(s.addr, big.as_bytes(), b"", true).unwrap_or_default();
    if let Some(r) = parse_response(&raw) {
        f.check("declared 70167212, sent nothing", &r);
    }
    f.finish(&mut s, "Content-Length lies");
    assert_eq!(
        s.get_function("fx").json["Configuration"]["Description"],
        ""
    );
}

/// §7.8: a CreateFunction body past 70167211 bytes is refused with that number, also when the
/// declared length alone gives it away.
#[test]
fn declared_oversize_names_the_request_limit() {
    let s = fixture();
    let head = format!(
        "POST {FUNCTIONS} HTTP/1.1\r\nhost: {}\r\ncontent-type: application/json\r\ncontent-length: 80000001\r\nconnection: close\r\n\r\n",
        s.host()
    );
    let raw = exchange_raw(s.addr, head.as_bytes(), b"", true).expect("exchange");
    let r = parse_response(&raw).expect("a response");
    expect_error(
        &r,
        413,
        "RequestEntityTooLargeException",
        "Request must be smaller than 70167211 bytes for the CreateFunction operation",
    );
}

/// A body shorter than its Content-Length is a broken request, not an oversized one.
#[test]
fn truncated_body_is_not_called_too_large() {
    let s = fixture();
    let head = format!(
        "PUT {FUNCTIONS}/fx/configuration HTTP/1.1\r\nhost: {}\r\ncontent-type: application/json\r\ncontent-length: 10\r\nconnection: close\r\n\r\n",
        s.host()
    );
    let raw = exchange_raw(s.addr, head.as_bytes(), b"{\"a\":", true).expect("exchange");
    let r = parse_response(&raw).expect("a response");
    assert_eq!(r.status, 400, "{r:?}");
}

#[test]
fn authentication_failures_change_nothing() {
    let mut s = fixture();
    let create = |name: &str| Request::new("POST", FUNCTIONS).json(&create_body(name));
    let sig_mismatch = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";
    let now = chrono::Utc::now();
    let cases: Vec<(&str, Request, u16, &str, &str, bool)> = vec![
        (
            "unsigned",
            create("a1").unsigned(),
            403,
            "MissingAuthenticationTokenException",
            "Missing Authentication Token",
            false,
        ),
        (
            "unknown key",
            create("a2").signed_as("AKIDNOPE", "x", REGION),
            403,
            "UnrecognizedClientException",
            "The security token included in the request is invalid.",
            false,
        ),
        (
            "wrong secret",
            create("a3").signed_as("test", "not-test", REGION),
            403,
            "InvalidSignatureException",
            sig_mismatch,
            true,
        ),
        (
            "signature edited",
            create("a4").tampered(|h| {
                let v = h
                    .get("authorization")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_string();
                let flipped = if v.ends_with('0') {
                    format!("{}1", &v[..v.len() - 1])
                } else {
                    format!("{}0", &v[..v.len() - 1])
                };
                h.insert(
                    "authorization",
                    http::HeaderValue::from_str(&flipped).expect("header"),
                );
            }),
            403,
            "InvalidSignatureException",
            sig_mismatch,
            true,
        ),
        (
            "signed header changed",
            create("a5").tampered(|h| {
                h.insert(
                    "x-amz-date",
                    http::HeaderValue::from_static("20200101T000000Z"),
                );
            }),
            403,
            "InvalidSignatureException",
            "",
            true,
        ),
        (
            "malformed region",
            create("a6").signed_as("test", "test", "US_EAST"),
            403,
            "InvalidSignatureException",
            "Credential should be scoped to a valid region, not 'US_EAST'. ",
            false,
        ),
        (
            "other service",
            create("a7").for_service("s3"),
            403,
            "InvalidSignatureException",
            "Credential should be scoped to correct service: 'lambda'. ",
            false,
        ),
        (
            "expired",
            create("a8").signed_at(now - chrono::TimeDelta::minutes(10)),
            403,
            "InvalidSignatureException",
            "Signature expired: ",
            true,
        ),
        (
            "from the future",
            create("a9").signed_at(now + chrono::TimeDelta::minutes(10)),
            403,
            "InvalidSignatureException",
            "Signature not yet current: ",
            true,
        ),
        (
            "garbage authorization",
            create("a10").tampered(|h| {
                h.insert(
                    "authorization",
                    http::HeaderValue::from_static("AWS4-HMAC-SHA256 garbage"),
                );
            }),
            400,
            "IncompleteSignatureException",
            "",
            true,
        ),
        (
            "other scheme",
            create("a11").tampered(|h| {
                h.insert(
                    "authorization",
                    http::HeaderValue::from_static("Basic dGVzdDp0ZXN0"),
                );
            }),
            0,
            "",
            "",
            true,
        ),
        (
            "host not signed",
            create("a12").tampered(|h| {
                let v = h
                    .get("authorization")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .replace("host;", "");
                h.insert(
                    "authorization",
                    http::HeaderValue::from_str(&v).expect("header"),
                );
            }),
            0,
            "",
            "",
            true,
        ),
    ];
    let mut f = Faults::default();
    for (label, req, status, error_type, msg, is_prefix) in cases {
        let name = req.body.clone();
        let r = s.send(&req);
        f.check(label, &r);
        if status == 0 {
            if !(400..500).contains(&r.status) {
                f.0.push(format!("{label}: want a 4xx, got {r:?}"));
            }
        } else {
            let verdict = if is_prefix {
                check_error_prefix(&r, status, error_type, msg)
            } else {
                check_error(&r, status, error_type, msg)
            };
            if let Err(e) = verdict {
                f.0.push(format!("{label}: {e}"));
            }
        }
        let created: Value = serde_json::from_slice(&name).unwrap_or(Value::Null);
        let fname = created["FunctionName"].as_str().unwrap_or("");
        if s.get_function(fname).status != 404 {
            f.0.push(format!(
                "{label}: {fname} was created by a request that failed authentication"
            ));
        }
    }
    // A body changed after signing.
    let mut req =
        Request::new("PUT", &format!("{FUNCTIONS}/fx/configuration")).json(&json!({"Timeout": 5}));
    let (head, _) = req.render(&s);
    let r = exchange(s.addr, &head, br#"{"Timeout":9}"#).expect("exchange");
    if let Err(e) = check_error_prefix(&r, 403, "InvalidSignatureException", sig_mismatch) {
        f.0.push(format!("body changed after signing: {e}"));
    }
    req.body.clear();
    assert_eq!(s.get_function("fx").json["Configuration"]["Timeout"], 3);
    f.finish(&mut s, "authentication failures");
}

/// A valid signature for another region sees that region's (empty) namespace; ARNs naming
/// us-east-1 are not reachable from it.
#[test]
fn regions_are_separate_namespaces() {
    let s = fixture();
    let eu = |req: Request| s.send(&req.signed_as("test", "test", "eu-west-1"));
    let r = eu(Request::new("GET", &format!("{FUNCTIONS}/fx")));
    expect_error(
        &r,
        404,
        "ResourceNotFoundException",
        "Function not found: arn:aws:lambda:eu-west-1:000000000000:function:fx",
    );
    let r = eu(Request::new(
        "GET",
        &format!(
            "{FUNCTIONS}/{}",
            enc(&format!("arn:aws:lambda:{REGION}:{ACCOUNT}:function:fx"))
        ),
    ));
    expect_error(
        &r,
        404,
        "ResourceNotFoundException",
        "Functions from 'us-east-1' are not reachable in this region ('eu-west-1')",
    );
    let r = eu(Request::new("POST", FUNCTIONS).json(&create_body("fx")));
    assert_eq!(
        r.status, 201,
        "the same name is free in another region: {r:?}"
    );
    assert_eq!(
        r.json["FunctionArn"],
        "arn:aws:lambda:eu-west-1:000000000000:function:fx"
    );
    assert_eq!(
        s.get_function("fx").json["Configuration"]["FunctionArn"],
        format!("arn:aws:lambda:{REGION}:{ACCOUNT}:function:fx")
    );
}

/// 2,000 seeded random requests mixing valid routes, garbage bodies and bad signatures: no 5xx, no crash.
#[test]
fn random_requests_never_fail_the_server() {
    let mut s = fixture();
    let mut rng = Rng::new(0x1a31_2a00_5eed);
    let names = [
        "fx",
        "fx:1",
        "fx:live",
        "nope",
        "%FF",
        "a.b",
        "arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000%3Afunction%3Afx",
        "x%3Ay%3Az",
        "",
    ];
    let aliases = ["live", "beta", "2024", "%00", ""];
    let members = [
        "FunctionName",
        "Role",
        "Runtime",
        "Handler",
        "Description",
        "Timeout",
        "MemorySize",
        "Publish",
        "Code",
        "Environment",
        "Tags",
        "Layers",
        "Architectures",
        "EphemeralStorage",
        "TracingConfig",
        "RevisionId",
        "Name",
        "FunctionVersion",
        "RoutingConfig",
        "StatementId",
        "Action",
        "Principal",
        "SourceArn",
        "ReservedConcurrentExecutions",
        "Content",
        "CompatibleRuntimes",
        "CodeSha256",
        "ZipFile",
        "KMSKeyArn",
        "LoggingConfig",
        "DeadLetterConfig",
        "VpcConfig",
        "SnapStart",
        "DryRun",
    ];
    let mut f = Faults::default();
    for i in 0..2000 {
        let name = *rng.pick(&names);
        let alias = *rng.pick(&aliases);
        let (method, path) = match rng.below(16) {
            0 => ("POST", FUNCTIONS.to_string()),
            1 => ("GET", FUNCTIONS.to_string()),
            2 => ("GET", format!("{FUNCTIONS}/{name}")),
            3 => ("PUT", format!("{FUNCTIONS}/{name}/configuration")),
            4 => ("PUT", format!("{FUNCTIONS}/{name}/code")),
            5 => ("POST", format!("{FUNCTIONS}/{name}/versions")),
            6 => ("POST", format!("{FUNCTIONS}/{name}/aliases")),
            7 => (
                *rng.pick(&["GET", "PUT", "DELETE"]),
                format!("{FUNCTIONS}/{name}/aliases/{alias}"),
            ),
            8 => (
                *rng.pick(&["POST", "GET"]),
                format!("{FUNCTIONS}/{name}/policy"),
            ),
            9 => ("DELETE", format!("{FUNCTIONS}/{name}/policy/{alias}")),
            10 => (
                *rng.pick(&["PUT", "DELETE"]),
                format!("/2017-10-31/functions/{name}/concurrency"),
            ),
            11 => (
                *rng.pick(&["GET", "POST", "DELETE"]),
                format!("/2017-03-31/tags/{name}"),
            ),
            12 => (
                *rng.pick(&["POST", "GET"]),
                format!("/2018-10-31/layers/{alias}/versions"),
            ),
            13 => (
                *rng.pick(&["GET", "DELETE"]),
                format!("/2018-10-31/layers/ly/versions/{}", rng.below(4)),
            ),
            14 => ("GET", "/2016-08-19/account-settings".to_string()),
            _ => (
                *rng.pick(&["GET", "POST", "PUT", "DELETE", "PATCH"]),
                format!("/{}", {
                    let n = rng.below(30);
                    rng.string_from(&['a', '/', '%', '2', 'F', '-', '.'], n)
                }),
            ),
        };
        let query = match rng.below(6) {
            0 => format!(
                "Qualifier={}",
                rng.pick(&["1", "live", "%24LATEST", "99", "%FF", ""])
            ),
            1 => format!(
                "MaxItems={}",
                rng.pick(&["0", "1", "-5", "x", "99999999999999999999"])
            ),
            2 => format!("Marker={}", rng.pick(&["fx", "%0A", "1", "fx%0A-1"])),
            3 => format!("tagKeys={}&RevisionId=x", rng.pick(&["k", ""])),
            _ => String::new(),
        };
        let body: Vec<u8> = match rng.below(5) {
            0 => Vec::new(),
            1 => {
                let n = rng.below(200);
                rng.bytes(n)
            }
            2 => {
                let mut m = serde_json::Map::new();
                for _ in 0..rng.below(6) {
                    let v = match rng.below(8) {
                        0 => json!(rng.next_u64() as i64),
                        1 => Value::String({
                            let n = rng.below(20);
                            rng.string_from(&['a', 'Z', '1', ':', '$', ' ', 'é', '\0'], n)
                        }),
                        2 => json!(true),
                        3 => json!(null),
                        4 => json!([rng.below(3), "x"]),
                        5 => json!({"ZipFile": b64(&{ let n = rng.below(64); rng.bytes(n) })}),
                        6 => json!({"2": (rng.below(300) as f64) / 100.0}),
                        _ => json!({"Variables": {"K1": "v", "AWS_REGION": "x"}}),
                    };
                    m.insert((*rng.pick(&members)).to_string(), v);
                }
                serde_json::to_vec(&Value::Object(m)).unwrap_or_default()
            }
            3 => {
                let mut b = create_body(&format!("rnd-{i}"));
                let k = *rng.pick(&members);
                b[k] = json!(rng.next_u64() as i64);
                serde_json::to_vec(&b).unwrap_or_default()
            }
            _ => serde_json::to_vec(&create_body(&format!("rnd-{i}"))).unwrap_or_default(),
        };
        let mut req = Request::new(method, &path).query(&query).bytes(body);
        match rng.below(20) {
            0 => req = req.unsigned(),
            1 => req = req.signed_as("test", "wrong", REGION),
            2 => {
                let region = *rng.pick(&["eu-west-1", "X", "us-east-1"]);
                req = req.signed_as("test", "test", region);
            }
            _ => {}
        }
        let r = s.send(&req);
        f.check(&format!("#{i} {method} {path}?{query}"), &r);
        if i % 500 == 499 {
            s.assert_healthy(&format!("{} random requests", i + 1));
        }
    }
    f.finish(&mut s, "random requests");
}
