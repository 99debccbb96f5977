//! Every validation rule of `reference/lambda-surface.md` §7 (with §1's per-operation errors), driven
//! through the real server: each case sends one bad request, checks the exact status,
//! `x-amzn-ErrorType`, message and message key (§0.3), and then checks that nothing changed by
//! re-reading the resources the request aimed at.
//!
//! Expected texts are written out here from the reference, not imported from the server's crates, so
//! a change of wording on either side shows up as a failure.

mod common;

use common::*;
use serde_json::{json, Value};

// ---------------------------------------------------------------------------------------------------
// Expected texts (§7)
// ---------------------------------------------------------------------------------------------------

const FN_PATTERN: &str = r"(arn:(aws[a-zA-Z-]*)?:lambda:)?((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:)?(\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\$LATEST|[a-zA-Z0-9-_]+))?";
const NS_PATTERN: &str = r"(arn:(aws[a-zA-Z-]*)?:lambda:)?((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:)?(\d{12}:)?(function:)?([a-zA-Z0-9-_\.]+)(:(\$LATEST(\.PUBLISHED)?|[a-zA-Z0-9-_]+))?";
const QUALIFIER_PATTERN: &str = r"\$(LATEST(\.PUBLISHED)?)|[a-zA-Z0-9-_$]+";
const ALIAS_PATTERN: &str = "(?!^[0-9]+$)([a-zA-Z0-9-_]+)";
const ROLE_PATTERN: &str = r"arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+";
const TAGGABLE_PATTERN: &str = r"arn:(aws[a-zA-Z-]*):lambda:(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:\d{12}:(function:[a-zA-Z0-9-_]+(:(\$LATEST|[a-zA-Z0-9-_]+))?|layer:([a-zA-Z0-9-_]+)|code-signing-config:csc-[a-z0-9]{17}|event-source-mapping:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|capacity-provider:[a-zA-Z0-9-_]+)";

const ACCEPTED_RUNTIMES: &[&str] = &[
    "nodejs16.x",
    "nodejs18.x",
    "nodejs20.x",
    "nodejs22.x",
    "nodejs24.x",
    "python3.8",
    "python3.9",
    "python3.10",
    "python3.11",
    "python3.12",
    "python3.13",
    "python3.14",
    "java8.al2",
    "java11",
    "java17",
    "java21",
    "java25",
    "dotnet6",
    "dotnet8",
    "dotnet10",
    "ruby3.2",
    "ruby3.3",
    "ruby3.4",
    "provided.al2",
    "provided.al2023",
];

const BLOCKED_RUNTIMES: &[&str] = &[
    "nodejs",
    "nodejs4.3",
    "nodejs4.3-edge",
    "nodejs6.10",
    "nodejs8.10",
    "nodejs10.x",
    "nodejs12.x",
    "nodejs14.x",
    "python2.7",
    "python3.6",
    "python3.7",
    "java8",
    "go1.x",
    "provided",
    "dotnetcore1.0",
    "dotnetcore2.0",
    "dotnetcore2.1",
    "dotnetcore3.1",
    "ruby2.5",
    "ruby2.7",
];

const RESERVED_ENV: &[&str] = &[
    "_HANDLER",
    "_X_AMZN_TRACE_ID",
    "AWS_DEFAULT_REGION",
    "AWS_REGION",
    "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE",
    "AWS_LAMBDA_LOG_GROUP_NAME",
    "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_ACCESS_KEY",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_RUNTIME_API",
    "LAMBDA_TASK_ROOT",
    "LAMBDA_RUNTIME_DIR",
    "TZ",
];

const UNZIP_FAILED: &str =
    "Could not unzip uploaded file. Please check your file, then try to upload again.";
const REVISION_MISMATCH: &str = "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id";
const UNRESERVED_MINIMUM: &str = "Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [100].";
const QUALIFIED_NOT_PERMITTED: &str = "This operation is permitted on Lambda functions only. Aliases and versions do not support this operation. Please specify either a function name or an unqualified function ARN.";
const NOTHING_HERE: &str = "The resource you requested does not exist.";

/// `N validation error(s) detected: …` from `(rendered value, path, constraint)` items.
fn coral(items: &[(&str, &str, &str)]) -> String {
    let n = items.len();
    let body: Vec<String> = items
        .iter()
        .map(|(v, p, c)| format!("Value {v} at '{p}' failed to satisfy constraint: {c}"))
        .collect();
    let noun = if n == 1 { "error" } else { "errors" };
    format!("{n} validation {noun} detected: {}", body.join("; "))
}

fn quoted(v: &str) -> String {
    format!("'{v}'")
}

fn pattern(p: &str) -> String {
    format!("Member must satisfy regular expression pattern: {p}")
}

fn fn_arn(name: &str) -> String {
    format!("arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}")
}

fn not_found(name: &str) -> String {
    format!("Function not found: {}", fn_arn(name))
}

fn layer_arn(name: &str, v: u32) -> String {
    format!("arn:aws:lambda:{REGION}:{ACCOUNT}:layer:{name}:{v}")
}

fn env_too_big(measured: &str) -> String {
    format!("Lambda was unable to configure your environment variables because the environment variables you have provided exceeded the 4KB limit. String measured: {measured}")
}

fn reserved(keys: &str) -> String {
    format!("Lambda was unable to configure your environment variables because the environment variables you have provided contains reserved keys that are currently not supported for modification. Reserved keys used in this request: {keys}")
}

fn blocked_runtime(rt: &str) -> String {
    format!("The runtime parameter of {rt} is no longer supported for creating or updating AWS Lambda functions. We recommend you use a supported runtime while creating or updating functions.")
}

fn unknown_runtime(rt: &str) -> String {
    format!(
        "Value {rt} at 'runtime' failed to satisfy constraint: Member must satisfy enum value set: [{}] or be a valid ARN",
        ACCEPTED_RUNTIMES.join(", ")
    )
}

fn in_progress(name: &str) -> String {
    format!(
        "The operation cannot be performed at this time. An update is in progress for resource: {}",
        fn_arn(name)
    )
}

// ---------------------------------------------------------------------------------------------------
// The case runner
// ---------------------------------------------------------------------------------------------------

enum Msg {
    Exact(String),
    Prefix(String),
}

impl From<&str> for Msg {
    fn from(s: &str) -> Msg {
        Msg::Exact(s.into())
    }
}

impl From<String> for Msg {
    fn from(s: String) -> Msg {
        Msg::Exact(s)
    }
}

fn prefix(s: &str) -> Msg {
    Msg::Prefix(s.into())
}

/// One bad request, the error it must get, and the reads (`PATH` or `PATH?QUERY`) that must answer
/// exactly as before it.
struct Case {
    label: String,
    req: Request,
    status: u16,
    error_type: &'static str,
    msg: Msg,
    unchanged: Vec<String>,
}

fn bad(
    label: impl Into<String>,
    req: Request,
    status: u16,
    error_type: &'static str,
    msg: impl Into<Msg>,
    unchanged: &[String],
) -> Case {
    Case {
        label: label.into(),
        req,
        status,
        error_type,
        msg: msg.into(),
        unchanged: unchanged.to_vec(),
    }
}

fn read(s: &Server, target: &str) -> (u16, Value) {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let r = s.call("GET", path, query, None);
    (r.status, without_locations(&r.json))
}

/// Run every case, then fail once listing every case that went wrong.
fn run(s: &Server, cases: Vec<Case>) {
    let total = cases.len();
    let mut failures = Vec::new();
    for c in cases {
        let before: Vec<(u16, Value)> = c.unchanged.iter().map(|t| read(s, t)).collect();
        let r = s.send(&c.req);
        let verdict = match &c.msg {
            Msg::Exact(m) => check_error(&r, c.status, c.error_type, m),
            Msg::Prefix(p) => check_error_prefix(&r, c.status, c.error_type, p),
        };
        if let Err(e) = verdict {
            failures.push(format!(
                "[{}] {} {}: {e}",
                c.label, c.req.method, c.req.path
            ));
        }
        for (target, was) in c.unchanged.iter().zip(before) {
            let now = read(s, target);
            if now != was {
                failures.push(format!(
                    "[{}] changed {target}:\n    before {} {}\n    after  {} {}",
                    c.label, was.0, was.1, now.0, now.1
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} problem(s) in {total} cases:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

fn post(path: &str, body: Value) -> Request {
    Request::new("POST", path).json(&body)
}

fn put(path: &str, body: Value) -> Request {
    Request::new("PUT", path).json(&body)
}

fn get(path: &str) -> Request {
    Request::new("GET", path)
}

fn fpath(name: &str) -> String {
    format!("/2015-03-31/functions/{}", enc(name))
}

const FUNCTIONS: &str = "/2015-03-31/functions";

/// Reads that show any function or code the account has: a failed create must leave both alone.
fn account_state() -> Vec<String> {
    vec![
        format!("{FUNCTIONS}?FunctionVersion=ALL"),
        "/2016-08-19/account-settings".into(),
    ]
}

/// A CreateFunction body for `name` changed by `f`.
fn create_with(name: &str, f: impl FnOnce(&mut Value)) -> Request {
    let mut body = create_body(name);
    f(&mut body);
    post(FUNCTIONS, body)
}

fn create_case(
    label: impl Into<String>,
    name: &str,
    f: impl FnOnce(&mut Value),
    status: u16,
    error_type: &'static str,
    msg: impl Into<Msg>,
) -> Case {
    let mut unchanged = account_state();
    unchanged.push(fpath(name));
    bad(
        label,
        create_with(name, f),
        status,
        error_type,
        msg,
        &unchanged,
    )
}

fn publish_layer(s: &Server, name: &str) -> Value {
    let r = s.call(
        "POST",
        &format!("/2018-10-31/layers/{name}/versions"),
        "",
        Some(&json!({"Content": {"ZipFile": b64(&zip_of(&[("python/lib.py", b"X = 1\n".as_slice())]))}})),
    );
    assert_eq!(r.status, 201, "publish layer {name}: {r:?}");
    r.json
}

fn publish_version(s: &Server, name: &str, description: &str) -> Value {
    // A configuration change first (a new Timeout each time), so the publish is never the no-op one.
    let versions = format!("{}/versions", fpath(name));
    let count = s.call("GET", &versions, "", None).json["Versions"]
        .as_array()
        .map_or(0, Vec::len);
    let u = s.call(
        "PUT",
        &format!("{}/configuration", fpath(name)),
        "",
        Some(&json!({"Description": description, "Timeout": 10 + count})),
    );
    assert_eq!(u.status, 200, "{u:?}");
    let r = s.call("POST", &versions, "", Some(&json!({})));
    assert_eq!(r.status, 201, "publish {name}: {r:?}");
    r.json
}

/// The expected error for a reserved key: keys starting with `_` already fail the key pattern
/// `[a-zA-Z]([a-zA-Z0-9_])+` (ValidationException, wording unverified), the others get the
/// reserved-keys message.
fn reserved_expectation(key: &str) -> (&'static str, Msg) {
    if key.starts_with('_') {
        (
            "ValidationException",
            prefix("1 validation error detected: Value '{"),
        )
    } else {
        ("InvalidParameterValueException", reserved(key).into())
    }
}

// ---------------------------------------------------------------------------------------------------
// §7.1 names, ARNs, qualifiers
// ---------------------------------------------------------------------------------------------------

#[test]
fn function_names_and_arns_on_create() {
    let s = Server::start(&[]);
    let fn_pattern = pattern(FN_PATTERN);
    let mut cases = Vec::new();
    for bad_name in [
        "invalid:function:name",
        "function:f:$LATEST:extra",
        "arn:aws:lambda:us-east-1:000000000000:function:f:1:2",
        "arn:aws:lambda::000000000000:function:f",
        "arn:aws:lambda:us-east-1::function:f",
        "arn:aws:lambda:us-east-1:000000000000:function:f:$LATES",
        "arn:aws:s3:::bucket",
        "*",
        "my-function!",
        "a.b",
        "sp ace",
        "tab\tname",
        "ünïcode",
    ] {
        cases.push(bad(
            format!("pattern {bad_name:?}"),
            create_with("x", |b| b["FunctionName"] = json!(bad_name)),
            400,
            "ValidationException",
            coral(&[(&quoted(bad_name), "functionName", &fn_pattern)]),
            &account_state(),
        ));
    }
    cases.push(bad(
        "empty name",
        create_with("x", |b| b["FunctionName"] = json!("")),
        400,
        "ValidationException",
        prefix("2 validation errors detected: Value '' at 'functionName' failed to satisfy constraint: "),
        &account_state(),
    ));
    cases.push(bad(
        "missing name",
        create_with("x", |b| {
            b.as_object_mut().map(|m| m.remove("FunctionName"));
        }),
        400,
        "ValidationException",
        coral(&[("null", "functionName", "Member must not be null")]),
        &account_state(),
    ));
    let n65 = "a".repeat(65);
    cases.push(create_case(
        "plain name of 65",
        &n65,
        |_| {},
        400,
        "InvalidParameterValueException",
        coral(&[(
            &quoted(&n65),
            "functionName",
            "Member must have length less than or equal to 64",
        )]),
    ));
    // 47 characters of prefix + 94 of name = 141.
    let arn141 = fn_arn(&"b".repeat(94));
    assert_eq!(arn141.len(), 141);
    cases.push(bad(
        "ARN of 141",
        create_with("x", |b| b["FunctionName"] = json!(arn141)),
        400,
        "ValidationException",
        coral(&[(
            &quoted(&arn141),
            "functionName",
            "Member must have length less than or equal to 140",
        )]),
        &account_state(),
    ));
    let long_bad = fn_arn(&format!("{}!", "c".repeat(100)));
    cases.push(bad(
        "ARN too long and malformed",
        create_with("x", |b| b["FunctionName"] = json!(long_bad)),
        400,
        "ValidationException",
        coral(&[
            (
                &quoted(&long_bad),
                "functionName",
                "Member must have length less than or equal to 140",
            ),
            (&quoted(&long_bad), "functionName", &fn_pattern),
        ]),
        &account_state(),
    ));
    cases.push(bad(
        "ARN of another region",
        create_with("x", |b| {
            b["FunctionName"] = json!("arn:aws:lambda:eu-west-1:000000000000:function:elsewhere")
        }),
        404,
        "ResourceNotFoundException",
        "Functions from 'eu-west-1' are not reachable in this region ('us-east-1')",
        &account_state(),
    ));
    cases.push(bad(
        "ARN of another account",
        create_with("x", |b| {
            b["FunctionName"] = json!("arn:aws:lambda:us-east-1:111111111111:function:theirs")
        }),
        403,
        "AccessDeniedException",
        prefix(""),
        &account_state(),
    ));
    run(&s, cases);
}

#[test]
fn function_names_qualifiers_on_reads() {
    let s = Server::start(&[]);
    s.create_function("fx");
    publish_version(&s, "fx", "one");
    let ns_pattern = pattern(NS_PATTERN);
    let q_pattern = pattern(QUALIFIER_PATTERN);
    let mut cases = vec![
        bad(
            "dots are fine on reads: just not found",
            get(&fpath("a.b")),
            404,
            "ResourceNotFoundException",
            not_found("a.b"),
            &[],
        ),
        bad(
            "no 64-check on reads",
            get(&fpath(&"l".repeat(200))),
            404,
            "ResourceNotFoundException",
            not_found(&"l".repeat(200)),
            &[],
        ),
        bad(
            "257 on reads",
            get(&fpath(&"l".repeat(257))),
            400,
            "ValidationException",
            coral(&[(
                &quoted(&"l".repeat(257)),
                "functionName",
                "Member must have length less than or equal to 256",
            )]),
            &[],
        ),
        bad(
            "bang on reads",
            get(&fpath("my-function!")),
            400,
            "ValidationException",
            coral(&[("'my-function!'", "functionName", &ns_pattern)]),
            &[],
        ),
        bad(
            "derived qualifier mismatch",
            get(&fpath("fx:1")).query("Qualifier=2"),
            400,
            "InvalidParameterValueException",
            "The derived qualifier from the function name does not match the specified qualifier.",
            &[],
        ),
        bad(
            "bad qualifier",
            get(&fpath("fx")).query("Qualifier=a%20b"),
            400,
            "ValidationException",
            coral(&[("'a b'", "qualifier", &q_pattern)]),
            &[],
        ),
        bad(
            "qualifier of 129",
            get(&fpath("fx")).query(&format!("Qualifier={}", "q".repeat(129))),
            400,
            "ValidationException",
            coral(&[(
                &quoted(&"q".repeat(129)),
                "qualifier",
                "Member must have length less than or equal to 128",
            )]),
            &[],
        ),
        bad(
            "lowercase $latest is an unknown alias",
            get(&fpath("fx")).query("Qualifier=%24latest"),
            404,
            "ResourceNotFoundException",
            format!("Function not found: {}:$latest", fn_arn("fx")),
            &[],
        ),
        bad(
            "unknown version",
            get(&fpath("fx")).query("Qualifier=99"),
            404,
            "ResourceNotFoundException",
            format!("Function not found: {}:99", fn_arn("fx")),
            &[],
        ),
        bad(
            "unknown alias in the ARN",
            get(&fpath(&format!("{}:nope", fn_arn("fx")))),
            404,
            "ResourceNotFoundException",
            format!("Function not found: {}:nope", fn_arn("fx")),
            &[],
        ),
        bad(
            "missing function",
            get(&fpath("nope")),
            404,
            "ResourceNotFoundException",
            not_found("nope"),
            &[],
        ),
        bad(
            "configuration of missing function",
            get(&format!("{}/configuration", fpath("nope"))),
            404,
            "ResourceNotFoundException",
            not_found("nope"),
            &[],
        ),
        bad(
            "another region",
            get(&fpath("arn:aws:lambda:eu-west-1:000000000000:function:fx")),
            404,
            "ResourceNotFoundException",
            "Functions from 'eu-west-1' are not reachable in this region ('us-east-1')",
            &[],
        ),
        bad(
            "another account, partial ARN",
            get(&fpath("111111111111:function:fx")),
            403,
            "AccessDeniedException",
            prefix(""),
            &[],
        ),
        bad(
            "list: bad FunctionVersion",
            get(FUNCTIONS).query("FunctionVersion=invalid"),
            400,
            "ValidationException",
            coral(&[(
                "'invalid'",
                "functionVersion",
                "Member must satisfy enum value set: [ALL]",
            )]),
            &[],
        ),
        bad(
            "list: MaxItems 0",
            get(FUNCTIONS).query("MaxItems=0"),
            400,
            "ValidationException",
            coral(&[(
                "'0'",
                "maxItems",
                "Member must have value greater than or equal to 1",
            )]),
            &[],
        ),
    ];
    // Deletes that must not delete.
    let everything = vec![
        format!("{FUNCTIONS}?FunctionVersion=ALL"),
        format!("{}/versions", fpath("fx")),
    ];
    cases.push(bad(
        "delete $LATEST",
        Request::new("DELETE", &fpath("fx")).query("Qualifier=%24LATEST"),
        400,
        "InvalidParameterValueException",
        "$LATEST version cannot be deleted without deleting the function.",
        &everything,
    ));
    cases.push(bad(
        "delete an alias qualifier",
        Request::new("DELETE", &fpath("fx")).query("Qualifier=live"),
        400,
        "InvalidParameterValueException",
        "Deletion of aliases is not currently supported.",
        &everything,
    ));
    cases.push(bad(
        "delete missing function",
        Request::new("DELETE", &fpath("nope")),
        404,
        "ResourceNotFoundException",
        not_found("nope"),
        &everything,
    ));
    cases.push(bad(
        "delete missing function with qualifier",
        Request::new("DELETE", &fpath("nope")).query("Qualifier=1"),
        404,
        "ResourceNotFoundException",
        not_found("nope"),
        &everything,
    ));
    run(&s, cases);
}

// ---------------------------------------------------------------------------------------------------
// §7.2–§7.7 CreateFunction field rules
// ---------------------------------------------------------------------------------------------------

#[test]
fn create_function_field_rules() {
    let s = Server::start(&[]);
    publish_layer(&s, "lay");
    publish_layer(&s, "lay");
    let le = "Member must have value less than or equal to";
    let ge = "Member must have value greater than or equal to";
    let mut cases = Vec::new();
    let mut n = 0;
    let mut name = || {
        n += 1;
        format!("cf-{n}")
    };
    for (member, path, value, constraint) in [
        ("MemorySize", "memorySize", 10241, format!("{le} 10240")),
        ("MemorySize", "memorySize", 127, format!("{ge} 128")),
        ("MemorySize", "memorySize", 0, format!("{ge} 128")),
        ("Timeout", "timeout", 901, format!("{le} 900")),
        ("Timeout", "timeout", 0, format!("{ge} 1")),
        ("Timeout", "timeout", -5, format!("{ge} 1")),
    ] {
        cases.push(create_case(
            format!("{member}={value}"),
            &name(),
            |b| b[member] = json!(value),
            400,
            "ValidationException",
            coral(&[(&quoted(&value.to_string()), path, &constraint)]),
        ));
    }
    for (value, constraint) in [(511, format!("{ge} 512")), (10241, format!("{le} 10240"))] {
        cases.push(create_case(
            format!("EphemeralStorage={value}"),
            &name(),
            |b| b["EphemeralStorage"] = json!({"Size": value}),
            400,
            "ValidationException",
            coral(&[(
                &quoted(&value.to_string()),
                "ephemeralStorage.size",
                &constraint,
            )]),
        ));
    }
    cases.push(create_case(
        "memory and timeout both out of range",
        &name(),
        |b| {
            b["MemorySize"] = json!(10241);
            b["Timeout"] = json!(901);
        },
        400,
        "ValidationException",
        coral(&[
            ("'10241'", "memorySize", &format!("{le} 10240")),
            ("'901'", "timeout", &format!("{le} 900")),
        ]),
    ));
    let d257 = "d".repeat(257);
    cases.push(create_case(
        "description of 257",
        &name(),
        |b| b["Description"] = json!(d257),
        400,
        "ValidationException",
        coral(&[(
            &quoted(&d257),
            "description",
            "Member must have length less than or equal to 256",
        )]),
    ));
    cases.push(create_case(
        "handler with a space",
        &name(),
        |b| b["Handler"] = json!("index handler"),
        400,
        "ValidationException",
        coral(&[(
            "'index handler'",
            "handler",
            r"Member must satisfy regular expression pattern: [^\s]+",
        )]),
    ));
    let h129 = "h".repeat(129);
    cases.push(create_case(
        "handler of 129",
        &name(),
        |b| b["Handler"] = json!(h129),
        400,
        "ValidationException",
        coral(&[(
            &quoted(&h129),
            "handler",
            "Member must have length less than or equal to 128",
        )]),
    ));
    cases.push(create_case(
        "role r1",
        &name(),
        |b| b["Role"] = json!("r1"),
        400,
        "ValidationException",
        coral(&[("'r1'", "role", &pattern(ROLE_PATTERN))]),
    ));
    cases.push(create_case(
        "no role",
        &name(),
        |b| {
            b.as_object_mut().map(|m| m.remove("Role"));
        },
        400,
        "ValidationException",
        coral(&[("null", "role", "Member must not be null")]),
    ));
    for rt in BLOCKED_RUNTIMES {
        cases.push(create_case(
            format!("blocked runtime {rt}"),
            &name(),
            |b| b["Runtime"] = json!(rt),
            400,
            "InvalidParameterValueException",
            blocked_runtime(rt),
        ));
    }
    for rt in ["PYTHON3.9", "python9.9", "ruby4.0", "", "python3.12 "] {
        cases.push(create_case(
            format!("unknown runtime {rt:?}"),
            &name(),
            |b| b["Runtime"] = json!(rt),
            400,
            "InvalidParameterValueException",
            unknown_runtime(rt),
        ));
    }
    for missing in ["Runtime", "Handler"] {
        cases.push(create_case(
            format!("no {missing}"),
            &name(),
            |b| {
                b.as_object_mut().map(|m| m.remove(missing));
            },
            400,
            "InvalidParameterValueException",
            "Runtime and Handler are mandatory parameters for functions created with deployment packages.",
        ));
    }
    cases.push(create_case(
        "two architectures",
        &name(),
        |b| b["Architectures"] = json!(["x86_64", "arm64"]),
        400,
        "ValidationException",
        coral(&[(
            "'[x86_64, arm64]'",
            "architectures",
            "Member must have length less than or equal to 1",
        )]),
    ));
    cases.push(create_case(
        "architecture X86_64",
        &name(),
        |b| b["Architectures"] = json!(["X86_64"]),
        400,
        "ValidationException",
        coral(&[(
            "'[X86_64]'",
            "architectures",
            "Member must satisfy constraint: [Member must satisfy enum value set: [x86_64, arm64], Member must not be null]",
        )]),
    ));
    // §7.3: the compact JSON of the map, 4097 bytes.
    let v4088 = "x".repeat(4088);
    cases.push(create_case(
        "environment of 4097 bytes",
        &name(),
        |b| b["Environment"] = json!({"Variables": {"K1": v4088}}),
        400,
        "InvalidParameterValueException",
        env_too_big(&format!("{{\"K1\":\"{v4088}\"}}")),
    ));
    let utf8_over = format!("{}{}", "é".repeat(2000), "x".repeat(88));
    cases.push(create_case(
        "environment of 4097 bytes in 2097 characters",
        &name(),
        |b| b["Environment"] = json!({"Variables": {"K1": utf8_over}}),
        400,
        "InvalidParameterValueException",
        env_too_big(&format!("{{\"K1\":\"{utf8_over}\"}}")),
    ));
    let (a, bb, c) = ("a".repeat(1357), "b".repeat(1357), "c".repeat(1358));
    cases.push(create_case(
        "environment of three keys, 4097 bytes",
        &name(),
        |b| b["Environment"] = json!({"Variables": {"AA": a, "BB": bb, "CC": c}}),
        400,
        "InvalidParameterValueException",
        env_too_big(&format!(
            "{{\"AA\":\"{a}\",\"BB\":\"{bb}\",\"CC\":\"{c}\"}}"
        )),
    ));
    for key in RESERVED_ENV {
        cases.push(create_case(
            format!("reserved {key}"),
            &name(),
            |b| b["Environment"] = json!({"Variables": {*key: "v", "OK_KEY": "v"}}),
            400,
            reserved_expectation(key).0,
            reserved_expectation(key).1,
        ));
    }
    for key in ["A", "1AB", "_AB", "A-B"] {
        cases.push(create_case(
            format!("environment key {key:?}"),
            &name(),
            |b| b["Environment"] = json!({"Variables": {key: "v"}}),
            400,
            "ValidationException",
            prefix("1 validation error detected: Value '{"),
        ));
    }
    let six: Vec<String> = (1..=6).map(|i| layer_arn(&format!("l{i}"), 1)).collect();
    cases.push(create_case(
        "six layers",
        &name(),
        |b| b["Layers"] = json!(six),
        400,
        "InvalidParameterValueException",
        "Cannot reference more than 5 layers.",
    ));
    let unversioned = format!("arn:aws:lambda:{REGION}:{ACCOUNT}:layer:lay");
    cases.push(create_case(
        "unversioned layer",
        &name(),
        |b| b["Layers"] = json!([unversioned]),
        400,
        "ValidationException",
        prefix(&format!(
            "1 validation error detected: Value '[{unversioned}]' at 'layers' failed to satisfy constraint: "
        )),
    ));
    cases.push(create_case(
        "missing layer version",
        &name(),
        |b| b["Layers"] = json!([layer_arn("lay", 99)]),
        400,
        "InvalidParameterValueException",
        format!("Layer version {} does not exist.", layer_arn("lay", 99)),
    ));
    cases.push(create_case(
        "missing layer",
        &name(),
        |b| b["Layers"] = json!([layer_arn("nolayer", 1)]),
        400,
        "InvalidParameterValueException",
        format!("Layer version {} does not exist.", layer_arn("nolayer", 1)),
    ));
    cases.push(create_case(
        "layer in another region",
        &name(),
        |b| b["Layers"] = json!([format!("arn:aws:lambda:eu-west-1:{ACCOUNT}:layer:lay:1")]),
        400,
        "InvalidParameterValueException",
        "Layers are not in the same region as the function. Layers are expected to be in region us-east-1.",
    ));
    cases.push(create_case(
        "two versions of one layer",
        &name(),
        |b| b["Layers"] = json!([layer_arn("lay", 1), layer_arn("lay", 2)]),
        400,
        "InvalidParameterValueException",
        format!(
            "Two different versions of the same layer are not allowed to be referenced in the same function. {} and {} are versions of the same layer.",
            layer_arn("lay", 1),
            layer_arn("lay", 2)
        ),
    ));
    let tags51: serde_json::Map<String, Value> =
        (0..51).map(|i| (format!("k{i}"), json!("v"))).collect();
    cases.push(create_case(
        "51 tags",
        &name(),
        |b| b["Tags"] = Value::Object(tags51),
        400,
        "InvalidParameterValueException",
        "Number of tags exceeds resource tag limit.",
    ));
    cases.push(create_case(
        "aws: tag prefix",
        &name(),
        |b| b["Tags"] = json!({"aws:owner": "me"}),
        400,
        "InvalidParameterValueException",
        prefix(""),
    ));
    cases.push(create_case(
        "TracingConfig mode",
        &name(),
        |b| b["TracingConfig"] = json!({"Mode": "Bogus"}),
        400,
        "ValidationException",
        coral(&[(
            "'Bogus'",
            "tracingConfig.mode",
            "Member must satisfy enum value set: [Active, PassThrough]",
        )]),
    ));
    cases.push(create_case(
        "KMSKeyArn pattern",
        &name(),
        |b| b["KMSKeyArn"] = json!("not-an-arn"),
        400,
        "ValidationException",
        coral(&[(
            "'not-an-arn'",
            "kMSKeyArn",
            "Member must satisfy regular expression pattern: (arn:(aws[a-zA-Z-]*)?:[a-z0-9-.]+:.*)|()",
        )]),
    ));
    cases.push(create_case(
        "LoggingConfig levels with Text",
        &name(),
        |b| b["LoggingConfig"] = json!({"LogFormat": "Text", "ApplicationLogLevel": "DEBUG"}),
        400,
        "InvalidParameterValueException",
        "LogLevel is not supported when LogFormat is set to \"Text\". Remove LogLevel from your request or change the LogFormat to \"JSON\" and try again.",
    ));
    cases.push(create_case(
        "S3 code source",
        &name(),
        |b| b["Code"] = json!({"S3Bucket": "b", "S3Key": "k.zip"}),
        400,
        "InvalidParameterValueException",
        prefix(""),
    ));
    run(&s, cases);
}

/// The 4096-byte boundary and the other limits, from the accepting side.
#[test]
fn create_function_accepts_the_boundaries() {
    let s = Server::start(&[]);
    for i in 1..=5 {
        publish_layer(&s, &format!("ok{i}"));
    }
    let mut bodies: Vec<(String, Value)> = Vec::new();
    let mut add = |label: &str, f: &dyn Fn(&mut Value)| {
        let name = format!("ok-{}", bodies.len());
        let mut b = create_body(&name);
        f(&mut b);
        bodies.push((label.to_string(), b));
    };
    add("MemorySize 128", &|b| b["MemorySize"] = json!(128));
    add("MemorySize 10240", &|b| b["MemorySize"] = json!(10240));
    add("Timeout 1", &|b| b["Timeout"] = json!(1));
    add("Timeout 900", &|b| b["Timeout"] = json!(900));
    add("EphemeralStorage 512", &|b| {
        b["EphemeralStorage"] = json!({"Size": 512})
    });
    add("EphemeralStorage 10240", &|b| {
        b["EphemeralStorage"] = json!({"Size": 10240})
    });
    add("env of exactly 4096 bytes", &|b| {
        b["Environment"] = json!({"Variables": {"K1": "x".repeat(4087)}})
    });
    add(
        "env of three keys, 4096 bytes",
        &|b| b["Environment"] = json!({"Variables": {"AA": "a".repeat(1357), "BB": "b".repeat(1357), "CC": "c".repeat(1357)}}),
    );
    add("env of 4096 bytes in 2087 characters", &|b| {
        b["Environment"] =
            json!({"Variables": {"K1": format!("{}{}", "é".repeat(2000), "x".repeat(87))}})
    });
    add("env keys that are not reserved", &|b| {
        b["Environment"] = json!({"Variables": {
            "LANG": "C.UTF-8", "PATH": "/bin", "LD_LIBRARY_PATH": "/lib", "NODE_PATH": "/n",
            "PYTHONPATH": "/p", "GEM_PATH": "/g", "AWS_LAMBDA_EXEC_WRAPPER": "/w", "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR"
        }})
    });
    add("arm64", &|b| b["Architectures"] = json!(["arm64"]));
    add("five layers", &|b| {
        b["Layers"] = json!((1..=5)
            .map(|i| layer_arn(&format!("ok{i}"), 1))
            .collect::<Vec<_>>())
    });
    add("50 tags", &|b| {
        b["Tags"] = Value::Object((0..50).map(|i| (format!("k{i}"), json!("v"))).collect())
    });
    add("description of 256", &|b| {
        b["Description"] = json!("d".repeat(256))
    });
    add("handler of 128", &|b| b["Handler"] = json!("h".repeat(128)));
    for rt in ACCEPTED_RUNTIMES {
        add(&format!("runtime {rt}"), &|b| b["Runtime"] = json!(rt));
    }
    let mut failures = Vec::new();
    for (label, body) in &bodies {
        let r = s.call("POST", FUNCTIONS, "", Some(body));
        if r.status != 201 {
            failures.push(format!("[{label}] {r:?}"));
            continue;
        }
        let name = body["FunctionName"].as_str().unwrap_or_default();
        let g = s.get_function(name);
        if g.status != 200 {
            failures.push(format!("[{label}] not readable after create: {g:?}"));
        }
    }
    // Name shapes that create.
    for (label, given, stored) in [
        ("plain name of 64", "n".repeat(64), "n".repeat(64)),
        (
            "partial ARN",
            format!("{ACCOUNT}:function:partial"),
            "partial".to_string(),
        ),
        ("full ARN", fn_arn("full"), "full".to_string()),
    ] {
        let r = s.call(
            "POST",
            FUNCTIONS,
            "",
            Some(&{
                let mut b = create_body("x");
                b["FunctionName"] = json!(given);
                b
            }),
        );
        if r.status != 201 || r.json["FunctionName"] != stored.as_str() {
            failures.push(format!("[{label}] {r:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn duplicate_create_is_a_conflict_and_keeps_the_first() {
    let s = Server::start(&[]);
    s.create_function("dup");
    let mut unchanged = account_state();
    unchanged.push(fpath("dup"));
    run(
        &s,
        vec![
            bad(
                "same name",
                create_with("dup", |b| b["Description"] = json!("second")),
                409,
                "ResourceConflictException",
                "Function already exist: dup",
                &unchanged,
            ),
            bad(
                "same name as full ARN",
                create_with("x", |b| b["FunctionName"] = json!(fn_arn("dup"))),
                409,
                "ResourceConflictException",
                "Function already exist: dup",
                &unchanged,
            ),
        ],
    );
}

// ---------------------------------------------------------------------------------------------------
// Deployment packages (§7.8, issue 2 item 4)
// ---------------------------------------------------------------------------------------------------

#[test]
fn zip_packages_are_inspected() {
    let s = Server::start(&[]);
    s.create_function("zfn");
    let ok = hello_zip();
    let mut truncated = ok.clone();
    truncated.truncate(ok.len() - 10);
    let mut corrupt = zip_of(&[("index.py", vec![b'a'; 4000].as_slice())]);
    // Flip a byte of the compressed data (after the 30-byte header and the 8-byte name).
    corrupt[40] ^= 0xff;
    let bomb = bomb_zip(262_144_000);
    assert!(bomb.len() < 2 << 20, "bomb is {} bytes", bomb.len());
    let packages: Vec<(&str, String, Msg)> = vec![
        (
            "not a zip",
            b64(b"hello, not a zip at all"),
            UNZIP_FAILED.into(),
        ),
        (
            "not base64",
            "!!!not base64!!!".to_string(),
            UNZIP_FAILED.into(),
        ),
        ("truncated zip", b64(&truncated), UNZIP_FAILED.into()),
        ("corrupt deflate data", b64(&corrupt), UNZIP_FAILED.into()),
        (
            "../evil entry",
            b64(&zip_of(&[("../evil", b"x".as_slice())])),
            prefix("Could not unzip uploaded file."),
        ),
        (
            "nested ../ entry",
            b64(&zip_of(&[("a/../../evil", b"x".as_slice())])),
            prefix("Could not unzip uploaded file."),
        ),
        (
            "backslash ..\\ entry",
            b64(&zip_of(&[("..\\evil", b"x".as_slice())])),
            prefix("Could not unzip uploaded file."),
        ),
        (
            "absolute entry",
            b64(&zip_of(&[("/etc/evil", b"x".as_slice())])),
            prefix("Could not unzip uploaded file."),
        ),
        (
            "drive-letter entry",
            b64(&zip_of(&[("C:\\evil", b"x".as_slice())])),
            prefix("Could not unzip uploaded file."),
        ),
        (
            "deflate bomb over 250 MB",
            b64(&bomb),
            "Unzipped size must be smaller than 262144000 bytes".into(),
        ),
    ];
    let mut cases = Vec::new();
    for (i, (label, zip, msg)) in packages.into_iter().enumerate() {
        let msg2 = match &msg {
            Msg::Exact(m) => Msg::Exact(m.clone()),
            Msg::Prefix(p) => Msg::Prefix(p.clone()),
        };
        cases.push(create_case(
            format!("create: {label}"),
            &format!("z-{i}"),
            |b| b["Code"] = json!({"ZipFile": zip}),
            400,
            "InvalidParameterValueException",
            msg,
        ));
        let mut unchanged = account_state();
        unchanged.push(fpath("zfn"));
        cases.push(bad(
            format!("update code: {label}"),
            put(&format!("{}/code", fpath("zfn")), json!({"ZipFile": zip})),
            400,
            "InvalidParameterValueException",
            msg2,
            &unchanged,
        ));
    }
    cases.push(create_case(
        "no code",
        "z-nocode",
        |b| b["Code"] = json!({}),
        400,
        "InvalidParameterValueException",
        prefix(""),
    ));
    run(&s, cases);
}

/// §7.8: a zip over 50 MB and a body over 70167211 bytes are refused with 413 before anything is stored.
#[test]
fn oversized_uploads_are_413() {
    let s = Server::start(&[]);
    s.create_function("big");
    let over = Rng::new(7).bytes(52_428_801);
    let zipped_msg = "Zipped size must be smaller than 52428800 bytes";
    let mut unchanged = account_state();
    unchanged.push(fpath("big-new"));
    unchanged.push(fpath("big"));
    let body = json!({
        "FunctionName": "big-new", "Role": ROLE, "Runtime": "python3.12", "Handler": "index.handler",
        "Code": {"ZipFile": b64(&over)},
    });
    let code = json!({"ZipFile": b64(&over)});
    drop(over);
    // 70167212 bytes of body: a JSON document padded with spaces.
    let mut huge = serde_json::to_vec(&create_body("big-huge")).expect("json");
    huge.resize(70_167_212, b' ');
    run(
        &s,
        vec![
            bad(
                "create with 50 MB + 1 zip",
                post(FUNCTIONS, body),
                413,
                "RequestEntityTooLargeException",
                zipped_msg,
                &unchanged,
            ),
            bad(
                "update code with 50 MB + 1 zip",
                put(&format!("{}/code", fpath("big")), code),
                413,
                "RequestEntityTooLargeException",
                zipped_msg,
                &unchanged,
            ),
            bad(
                "create with a body of 70167212 bytes",
                Request::new("POST", FUNCTIONS).bytes(huge),
                413,
                "RequestEntityTooLargeException",
                "Request must be smaller than 70167211 bytes for the CreateFunction operation",
                &unchanged,
            ),
        ],
    );
    s.assert_healthy_ref();
}

trait HealthyRef {
    fn assert_healthy_ref(&self);
}

impl HealthyRef for Server {
    fn assert_healthy_ref(&self) {
        let r = self.send(&Request::new("GET", "/_lamina/health").unsigned());
        assert_eq!(r.status, 200, "{r:?}");
    }
}

/// §7.8: the 413 names the operation ("operation name varies"); a body over the limit of an operation
/// without code reads e.g. `… for the UpdateFunctionConfiguration operation`.
#[test]
fn oversized_body_names_its_operation() {
    let s = Server::start(&[]);
    s.create_function("named");
    let mut body = br#"{"Description":"x"}"#.to_vec();
    body.resize(6_291_457, b' ');
    let r = s.send(&Request::new("PUT", &format!("{}/configuration", fpath("named"))).bytes(body));
    expect_error(
        &r,
        413,
        "RequestEntityTooLargeException",
        "Request must be smaller than 6291456 bytes for the UpdateFunctionConfiguration operation",
    );
}

/// A valid zip one byte under the limit is stored.
#[test]
fn zip_just_under_the_limit_is_accepted() {
    let s = Server::start(&[]);
    let zip = zip_of_exact_size(52_428_799);
    let r = s.call(
        "POST",
        FUNCTIONS,
        "",
        Some(&json!({
            "FunctionName": "just-under", "Role": ROLE, "Runtime": "python3.12", "Handler": "index.handler",
            "Code": {"ZipFile": b64(&zip)},
        })),
    );
    assert_eq!(r.status, 201, "{r:?}");
    assert_eq!(r.json["CodeSize"], 52_428_799);
}

// ---------------------------------------------------------------------------------------------------
// UpdateFunctionConfiguration / UpdateFunctionCode / PublishVersion
// ---------------------------------------------------------------------------------------------------

#[test]
fn update_configuration_rules_change_nothing() {
    let s = Server::start(&[]);
    publish_layer(&s, "lay");
    publish_layer(&s, "lay");
    let mut body = create_body("up");
    body["Environment"] = json!({"Variables": {"KEEP": "me"}});
    body["Description"] = json!("original");
    let r = s.call("POST", FUNCTIONS, "", Some(&body));
    assert_eq!(r.status, 201, "{r:?}");
    publish_version(&s, "up", "v1");
    let cfg = format!("{}/configuration", fpath("up"));
    let unchanged = vec![
        fpath("up"),
        cfg.clone(),
        format!("{}/versions", fpath("up")),
    ];
    let le = "Member must have value less than or equal to";
    let ge = "Member must have value greater than or equal to";
    let upd = |b: Value| put(&cfg, b);
    let mut cases = vec![
        bad("MemorySize 10241", upd(json!({"MemorySize": 10241})), 400, "ValidationException",
            coral(&[("'10241'", "memorySize", &format!("{le} 10240"))]), &unchanged),
        bad("MemorySize 127", upd(json!({"MemorySize": 127})), 400, "ValidationException",
            coral(&[("'127'", "memorySize", &format!("{ge} 128"))]), &unchanged),
        bad("Timeout 901", upd(json!({"Timeout": 901})), 400, "ValidationException",
            coral(&[("'901'", "timeout", &format!("{le} 900"))]), &unchanged),
        bad("Timeout 0", upd(json!({"Timeout": 0})), 400, "ValidationException",
            coral(&[("'0'", "timeout", &format!("{ge} 1"))]), &unchanged),
        bad("Ephemeral 10241", upd(json!({"EphemeralStorage": {"Size": 10241}})), 400, "ValidationException",
            coral(&[("'10241'", "ephemeralStorage.size", &format!("{le} 10240"))]), &unchanged),
        bad("Ephemeral 511", upd(json!({"EphemeralStorage": {"Size": 511}})), 400, "ValidationException",
            coral(&[("'511'", "ephemeralStorage.size", &format!("{ge} 512"))]), &unchanged),
        bad("role", upd(json!({"Role": "r1"})), 400, "ValidationException",
            coral(&[("'r1'", "role", &pattern(ROLE_PATTERN))]), &unchanged),
        bad("handler", upd(json!({"Handler": "a b"})), 400, "ValidationException",
            coral(&[("'a b'", "handler", r"Member must satisfy regular expression pattern: [^\s]+")]), &unchanged),
        bad("description", upd(json!({"Description": "d".repeat(257)})), 400, "ValidationException",
            coral(&[(&quoted(&"d".repeat(257)), "description", "Member must have length less than or equal to 256")]), &unchanged),
        bad("env 4097", upd(json!({"Environment": {"Variables": {"K1": "x".repeat(4088)}}})), 400,
            "InvalidParameterValueException", env_too_big(&format!("{{\"K1\":\"{}\"}}", "x".repeat(4088))), &unchanged),
        bad("unknown runtime", upd(json!({"Runtime": "cobol85"})), 400, "InvalidParameterValueException",
            unknown_runtime("cobol85"), &unchanged),
        bad("six layers", upd(json!({"Layers": (1..=6).map(|i| layer_arn(&format!("l{i}"), 1)).collect::<Vec<_>>()})),
            400, "InvalidParameterValueException", "Cannot reference more than 5 layers.", &unchanged),
        bad("missing layer", upd(json!({"Layers": [layer_arn("lay", 9)]})), 400, "InvalidParameterValueException",
            format!("Layer version {} does not exist.", layer_arn("lay", 9)), &unchanged),
        bad("two versions of a layer", upd(json!({"Layers": [layer_arn("lay", 2), layer_arn("lay", 1)]})), 400,
            "InvalidParameterValueException",
            format!("Two different versions of the same layer are not allowed to be referenced in the same function. {} and {} are versions of the same layer.", layer_arn("lay", 2), layer_arn("lay", 1)),
            &unchanged),
        bad("layer in another region", upd(json!({"Layers": [format!("arn:aws:lambda:eu-west-1:{ACCOUNT}:layer:lay:1")]})),
            400, "InvalidParameterValueException",
            "Layers are not in the same region as the function. Layers are expected to be in region us-east-1.", &unchanged),
        bad("tracing", upd(json!({"TracingConfig": {"Mode": "On"}})), 400, "ValidationException",
            coral(&[("'On'", "tracingConfig.mode", "Member must satisfy enum value set: [Active, PassThrough]")]), &unchanged),
        bad("logging levels with Text", upd(json!({"LoggingConfig": {"SystemLogLevel": "WARN"}})), 400,
            "InvalidParameterValueException",
            "LogLevel is not supported when LogFormat is set to \"Text\". Remove LogLevel from your request or change the LogFormat to \"JSON\" and try again.",
            &unchanged),
        bad("RevisionId mismatch", upd(json!({"Description": "new", "RevisionId": "00000000-0000-0000-0000-000000000000"})),
            412, "PreconditionFailedException", REVISION_MISMATCH, &unchanged),
        bad("missing function", put(&format!("{}/configuration", fpath("nope")), json!({"Timeout": 5})), 404,
            "ResourceNotFoundException", not_found("nope"), &unchanged),
        bad("bad name", put(&format!("{}/configuration", fpath("bad!")), json!({"Timeout": 5})), 400,
            "ValidationException", coral(&[("'bad!'", "functionName", &pattern(FN_PATTERN))]), &unchanged),
    ];
    for rt in BLOCKED_RUNTIMES {
        cases.push(bad(
            format!("blocked runtime {rt}"),
            upd(json!({"Runtime": rt})),
            400,
            "InvalidParameterValueException",
            blocked_runtime(rt),
            &unchanged,
        ));
    }
    for key in RESERVED_ENV {
        let (error_type, msg) = reserved_expectation(key);
        cases.push(bad(
            format!("reserved {key}"),
            upd(json!({"Environment": {"Variables": {*key: "x"}}})),
            400,
            error_type,
            msg,
            &unchanged,
        ));
    }
    // UpdateFunctionCode and PublishVersion preconditions.
    let code = format!("{}/code", fpath("up"));
    cases.push(bad("code: RevisionId mismatch",
        put(&code, json!({"ZipFile": b64(&zip_of(&[("index.py", b"# v2\n".as_slice())])), "RevisionId": "nope"})),
        412, "PreconditionFailedException", REVISION_MISMATCH, &unchanged));
    cases.push(bad(
        "code: two architectures",
        put(
            &code,
            json!({"ZipFile": b64(&hello_zip()), "Architectures": ["x86_64", "arm64"]}),
        ),
        400,
        "ValidationException",
        coral(&[(
            "'[x86_64, arm64]'",
            "architectures",
            "Member must have length less than or equal to 1",
        )]),
        &unchanged,
    ));
    cases.push(bad(
        "code: missing function",
        put(
            &format!("{}/code", fpath("nope")),
            json!({"ZipFile": b64(&hello_zip())}),
        ),
        404,
        "ResourceNotFoundException",
        not_found("nope"),
        &unchanged,
    ));
    let versions = format!("{}/versions", fpath("up"));
    cases.push(bad(
        "publish: RevisionId mismatch",
        post(&versions, json!({"RevisionId": "nope"})),
        412,
        "PreconditionFailedException",
        REVISION_MISMATCH,
        &unchanged,
    ));
    let sha = r.json["CodeSha256"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    cases.push(bad("publish: CodeSha256 mismatch", post(&versions, json!({"CodeSha256": "abc"})),
        400, "InvalidParameterValueException",
        format!("CodeSHA256 (abc) is different from current CodeSHA256 in $LATEST ({sha}). Please try again with the CodeSHA256 in $LATEST."),
        &unchanged));
    cases.push(bad(
        "publish: missing function",
        post(&format!("{}/versions", fpath("nope")), json!({})),
        404,
        "ResourceNotFoundException",
        not_found("nope"),
        &unchanged,
    ));
    run(&s, cases);

    // The environment survived every refused update.
    let g = s.get_function("up");
    assert_eq!(
        g.json["Configuration"]["Environment"],
        json!({"Variables": {"KEEP": "me"}})
    );
}

// ---------------------------------------------------------------------------------------------------
// Aliases and routing (§1.2)
// ---------------------------------------------------------------------------------------------------

#[test]
fn alias_rules() {
    let s = Server::start(&[]);
    s.create_function("af");
    publish_version(&s, "af", "one");
    publish_version(&s, "af", "two");
    let aliases = format!("{}/aliases", fpath("af"));
    let r = s.call(
        "POST",
        &aliases,
        "",
        Some(&json!({"Name": "live", "FunctionVersion": "1"})),
    );
    assert_eq!(r.status, 201, "{r:?}");
    let unchanged = vec![aliases.clone(), format!("{aliases}/live")];
    let live_arn = format!("{}:live", fn_arn("af"));
    let mk = |b: Value| post(&aliases, b);
    let upd = |b: Value| put(&format!("{aliases}/live"), b);
    let weights_path = "routingConfig.additionalVersionWeights";
    let value_constraint = "Map value must satisfy constraint: [Member must have value less than or equal to 1.0, Member must have value greater than or equal to 0.0, Member must not be null]";
    let cases = vec![
        bad("numeric name", mk(json!({"Name": "2024", "FunctionVersion": "1"})), 400, "ValidationException",
            coral(&[("'2024'", "name", &pattern(ALIAS_PATTERN))]), &unchanged),
        bad("name with a space", mk(json!({"Name": "a b", "FunctionVersion": "1"})), 400, "ValidationException",
            coral(&[("'a b'", "name", &pattern(ALIAS_PATTERN))]), &unchanged),
        bad("name of 129", mk(json!({"Name": "n".repeat(129), "FunctionVersion": "1"})), 400, "ValidationException",
            coral(&[(&quoted(&"n".repeat(129)), "name", "Member must have length less than or equal to 128")]), &unchanged),
        bad("no name", mk(json!({"FunctionVersion": "1"})), 400, "ValidationException",
            coral(&[("null", "name", "Member must not be null")]), &unchanged),
        bad("no version", mk(json!({"Name": "x"})), 400, "ValidationException",
            coral(&[("null", "functionVersion", "Member must not be null")]), &unchanged),
        bad("duplicate", mk(json!({"Name": "live", "FunctionVersion": "2"})), 409, "ResourceConflictException",
            format!("Alias already exists: {live_arn}"), &unchanged),
        bad("missing version", mk(json!({"Name": "x", "FunctionVersion": "99"})), 404, "ResourceNotFoundException",
            format!("Function not found: {}:99", fn_arn("af")), &unchanged),
        bad("missing function", post(&format!("{}/aliases", fpath("nope")), json!({"Name": "x", "FunctionVersion": "1"})),
            404, "ResourceNotFoundException", format!("Function not found: {}:1", fn_arn("nope")), &unchanged),
        bad("two weights", mk(json!({"Name": "x", "FunctionVersion": "1", "RoutingConfig": {"AdditionalVersionWeights": {"2": 0.1, "3": 0.1}}})),
            400, "InvalidParameterValueException", "Number of items in AdditionalVersionWeights cannot be greater than 1", &unchanged),
        bad("weight 2.0", mk(json!({"Name": "x", "FunctionVersion": "1", "RoutingConfig": {"AdditionalVersionWeights": {"2": 2.0}}})),
            400, "ValidationException", coral(&[("'{2=2.0}'", weights_path, value_constraint)]), &unchanged),
        bad("weight -0.5", mk(json!({"Name": "x", "FunctionVersion": "1", "RoutingConfig": {"AdditionalVersionWeights": {"2": -0.5}}})),
            400, "ValidationException", coral(&[("'{2=-0.5}'", weights_path, value_constraint)]), &unchanged),
        bad("weight key $LATEST", mk(json!({"Name": "x", "FunctionVersion": "1", "RoutingConfig": {"AdditionalVersionWeights": {"$LATEST": 0.5}}})),
            400, "ValidationException", coral(&[("'{$LATEST=0.5}'", weights_path,
                "Map keys must satisfy constraint: [Member must have length less than or equal to 1024, Member must have length greater than or equal to 1, Member must satisfy regular expression pattern: [0-9]+]")]),
            &unchanged),
        bad("weight on the primary", mk(json!({"Name": "x", "FunctionVersion": "1", "RoutingConfig": {"AdditionalVersionWeights": {"1": 0.5}}})),
            400, "InvalidParameterValueException",
            "Invalid function version 1. Function version 1 is already included in routing configuration.", &unchanged),
        bad("weighted version missing", mk(json!({"Name": "x", "FunctionVersion": "1", "RoutingConfig": {"AdditionalVersionWeights": {"99": 0.5}}})),
            404, "ResourceNotFoundException", format!("Function not found: {}:99", fn_arn("af")), &unchanged),
        bad("update: missing alias", put(&format!("{aliases}/nope"), json!({"FunctionVersion": "2"})), 404,
            "ResourceNotFoundException", format!("Alias not found: {}:nope", fn_arn("af")), &unchanged),
        bad("update: RevisionId", upd(json!({"FunctionVersion": "2", "RevisionId": "nope"})), 412,
            "PreconditionFailedException", REVISION_MISMATCH, &unchanged),
        bad("update: missing version", upd(json!({"FunctionVersion": "99"})), 404, "ResourceNotFoundException",
            format!("Function not found: {}:99", fn_arn("af")), &unchanged),
        bad("update: weight on the primary", upd(json!({"RoutingConfig": {"AdditionalVersionWeights": {"1": 0.5}}})), 400,
            "InvalidParameterValueException",
            "Invalid function version 1. Function version 1 is already included in routing configuration.", &unchanged),
        bad("update: weight 1.5", upd(json!({"RoutingConfig": {"AdditionalVersionWeights": {"2": 1.5}}})), 400,
            "ValidationException", coral(&[("'{2=1.5}'", weights_path, value_constraint)]), &unchanged),
        bad("get: missing alias", get(&format!("{aliases}/nope")), 404, "ResourceNotFoundException",
            format!("Cannot find alias arn: {}:nope", fn_arn("af")), &unchanged),
        bad("delete version an alias uses", Request::new("DELETE", &fpath("af")).query("Qualifier=1"), 409,
            "ResourceConflictException", prefix(""),
            &[unchanged.clone(), vec![format!("{}/versions", fpath("af"))]].concat()),
    ];
    run(&s, cases);

    // Accepted shapes: weight bounds, an empty map, a date-like name, $LATEST without routing.
    for (name, body) in [
        (
            "w0",
            json!({"FunctionVersion": "1", "RoutingConfig": {"AdditionalVersionWeights": {"2": 0.0}}}),
        ),
        (
            "w1",
            json!({"FunctionVersion": "1", "RoutingConfig": {"AdditionalVersionWeights": {"2": 1.0}}}),
        ),
        (
            "empty",
            json!({"FunctionVersion": "1", "RoutingConfig": {"AdditionalVersionWeights": {}}}),
        ),
        ("2024-01-02", json!({"FunctionVersion": "2"})),
        ("latest", json!({"FunctionVersion": "$LATEST"})),
    ] {
        let mut b = body.clone();
        b["Name"] = json!(name);
        let r = s.call("POST", &aliases, "", Some(&b));
        assert_eq!(r.status, 201, "{name}: {r:?}");
        if name == "empty" || name == "latest" {
            assert!(r.json.get("RoutingConfig").is_none(), "{name}: {r:?}");
        }
    }
    let d = s.call("DELETE", &format!("{aliases}/never-was"), "", None);
    assert_eq!(d.status, 204, "DeleteAlias of a missing alias: {d:?}");
}

/// §1.2: `$LATEST is not supported for an alias pointing to more than 1 version` carries no `Type`.
#[test]
fn latest_with_weights_has_no_type() {
    let s = Server::start(&[]);
    s.create_function("lw");
    publish_version(&s, "lw", "one");
    let r = s.call(
        "POST",
        &format!("{}/aliases", fpath("lw")),
        "",
        Some(&json!({"Name": "x", "FunctionVersion": "$LATEST", "RoutingConfig": {"AdditionalVersionWeights": {"1": 0.5}}})),
    );
    assert_eq!(r.status, 400, "{r:?}");
    assert_eq!(
        r.header("x-amzn-ErrorType"),
        Some("InvalidParameterValueException")
    );
    assert_eq!(
        r.json,
        json!({"message": "$LATEST is not supported for an alias pointing to more than 1 version"})
    );
}

// ---------------------------------------------------------------------------------------------------
// Reserved concurrency (§1.3)
// ---------------------------------------------------------------------------------------------------

#[test]
fn concurrency_rules() {
    let s = Server::start(&[]);
    s.create_function("ca");
    s.create_function("cb");
    publish_version(&s, "ca", "one");
    let conc = |n: &str| format!("/2017-10-31/functions/{}/concurrency", enc(n));
    let r = s.call(
        "PUT",
        &conc("ca"),
        "",
        Some(&json!({"ReservedConcurrentExecutions": 900})),
    );
    assert_eq!(r.status, 200, "{r:?}");
    let unchanged = vec![
        "/2019-09-30/functions/ca/concurrency".to_string(),
        "/2019-09-30/functions/cb/concurrency".to_string(),
        "/2016-08-19/account-settings".to_string(),
    ];
    let cases = vec![
        bad(
            "negative",
            put(&conc("cb"), json!({"ReservedConcurrentExecutions": -1})),
            400,
            "ValidationException",
            coral(&[(
                "'-1'",
                "reservedConcurrentExecutions",
                "Member must have value greater than or equal to 0",
            )]),
            &unchanged,
        ),
        bad(
            "missing member",
            put(&conc("cb"), json!({})),
            400,
            "ValidationException",
            coral(&[(
                "null",
                "reservedConcurrentExecutions",
                "Member must not be null",
            )]),
            &unchanged,
        ),
        bad(
            "qualified name",
            put(&conc("ca:1"), json!({"ReservedConcurrentExecutions": 1})),
            400,
            "InvalidParameterValueException",
            QUALIFIED_NOT_PERMITTED,
            &unchanged,
        ),
        bad(
            "qualified ARN",
            put(
                &conc(&format!("{}:1", fn_arn("ca"))),
                json!({"ReservedConcurrentExecutions": 1}),
            ),
            400,
            "InvalidParameterValueException",
            QUALIFIED_NOT_PERMITTED,
            &unchanged,
        ),
        bad(
            "put on missing function",
            put(&conc("nope"), json!({"ReservedConcurrentExecutions": 1})),
            404,
            "ResourceNotFoundException",
            format!("Function not found: {}:$LATEST", fn_arn("nope")),
            &unchanged,
        ),
        bad(
            "get on missing function",
            get("/2019-09-30/functions/nope/concurrency"),
            404,
            "ResourceNotFoundException",
            not_found("nope"),
            &unchanged,
        ),
    ];
    run(&s, cases);
    // Releasing ca's reservation makes room again; 0 is a valid reservation.
    let d = s.call("DELETE", &conc("ca"), "", None);
    assert_eq!(d.status, 204, "{d:?}");
    let r = s.call(
        "PUT",
        &conc("cb"),
        "",
        Some(&json!({"ReservedConcurrentExecutions": 900})),
    );
    assert_eq!(r.status, 200, "{r:?}");
    let r = s.call(
        "PUT",
        &conc("ca"),
        "",
        Some(&json!({"ReservedConcurrentExecutions": 0})),
    );
    assert_eq!(r.status, 200, "{r:?}");
    let a = s.call("GET", "/2016-08-19/account-settings", "", None);
    assert_eq!(
        a.json["AccountLimit"]["UnreservedConcurrentExecutions"], 100,
        "{a:?}"
    );
}

/// §1.3: the unreserved-minimum error is `{"message": …}` only.
#[test]
fn unreserved_minimum_has_no_type() {
    let s = Server::start(&[]);
    s.create_function("cm");
    let r = s.call(
        "PUT",
        "/2017-10-31/functions/cm/concurrency",
        "",
        Some(&json!({"ReservedConcurrentExecutions": 901})),
    );
    assert_eq!(r.status, 400, "{r:?}");
    assert_eq!(r.json, json!({"message": UNRESERVED_MINIMUM}));
}

// ---------------------------------------------------------------------------------------------------
// Tags (§1.3, §7.5)
// ---------------------------------------------------------------------------------------------------

#[test]
fn tag_rules() {
    let s = Server::start(&[]);
    let mut body = create_body("tf");
    body["Tags"] = Value::Object((0..49).map(|i| (format!("k{i}"), json!("v"))).collect());
    let r = s.call("POST", FUNCTIONS, "", Some(&body));
    assert_eq!(r.status, 201, "{r:?}");
    publish_version(&s, "tf", "one");
    let tags = |arn: &str| format!("/2017-03-31/tags/{}", enc(arn));
    let arn = fn_arn("tf");
    let unchanged = vec![tags(&arn), fpath("tf")];
    let tag = |t: Value| post(&tags(&arn), json!({"Tags": t}));
    let cases = vec![
        bad("past 50", tag(json!({"n1": "v", "n2": "v"})), 400, "InvalidParameterValueException",
            "Number of tags exceeds resource tag limit.", &unchanged),
        bad("empty tags", tag(json!({})), 400, "InvalidParameterValueException",
            "An error occurred and the request cannot be processed.", &unchanged),
        bad("aws: prefix", tag(json!({"aws:x": "v"})), 400, "InvalidParameterValueException", prefix(""), &unchanged),
        bad("key of 129", tag(json!({"k".repeat(129): "v"})), 400, "InvalidParameterValueException", prefix(""), &unchanged),
        bad("value of 257", tag(json!({"k0": "v".repeat(257)})), 400, "InvalidParameterValueException", prefix(""), &unchanged),
        bad("version ARN", post(&tags(&format!("{arn}:1")), json!({"Tags": {"a": "b"}})), 400,
            "InvalidParameterValueException",
            "Tags on function aliases and versions are not supported. Please specify a function ARN.", &unchanged),
        bad("$LATEST ARN", post(&tags(&format!("{arn}:$LATEST")), json!({"Tags": {"a": "b"}})), 400,
            "InvalidParameterValueException",
            "Tags on function aliases and versions are not supported. Please specify a function ARN.", &unchanged),
        bad("missing function", post(&tags(&fn_arn("nope")), json!({"Tags": {"a": "b"}})), 404,
            "ResourceNotFoundException", not_found("nope"), &unchanged),
        bad("not an ARN", post(&tags("notanarn"), json!({"Tags": {"a": "b"}})), 400, "ValidationException",
            coral(&[("'notanarn'", "resource", &pattern(TAGGABLE_PATTERN))]), &unchanged),
        bad("untag without keys", Request::new("DELETE", &tags(&arn)), 400, "ValidationException",
            coral(&[("null", "tagKeys", "Member must not be null")]), &unchanged),
        bad("list tags of missing function", get(&tags(&fn_arn("nope"))), 404,
            "ResourceNotFoundException", not_found("nope"), &unchanged),
    ];
    run(&s, cases);
    // One more fits; untagging an absent key is fine.
    let r = s.send(&tag(json!({"k49": "v"})));
    assert_eq!(r.status, 204, "{r:?}");
    let r = s.call("DELETE", &tags(&arn), "tagKeys=absent&tagKeys=k0", None);
    assert_eq!(r.status, 204, "{r:?}");
    let l = s.call("GET", &tags(&arn), "", None);
    assert_eq!(
        l.json["Tags"].as_object().map(|m| m.len()),
        Some(49),
        "{l:?}"
    );
}

// ---------------------------------------------------------------------------------------------------
// Function policy (§1.3)
// ---------------------------------------------------------------------------------------------------

#[test]
fn permission_rules() {
    let s = Server::start(&[]);
    s.create_function("pf");
    publish_version(&s, "pf", "one");
    let r = s.call(
        "POST",
        &format!("{}/aliases", fpath("pf")),
        "",
        Some(&json!({"Name": "live", "FunctionVersion": "1"})),
    );
    assert_eq!(r.status, 201, "{r:?}");
    let policy = format!("{}/policy", fpath("pf"));
    let first = json!({"StatementId": "s1", "Action": "lambda:InvokeFunction", "Principal": "s3.amazonaws.com"});
    let r = s.call("POST", &policy, "", Some(&first));
    assert_eq!(r.status, 201, "{r:?}");
    let unchanged = vec![
        policy.clone(),
        format!("{policy}?Qualifier=live"),
        format!("{policy}?Qualifier=1"),
    ];
    let add = |b: Value| post(&policy, b);
    let with = |sid: &str, principal: &str| json!({"StatementId": sid, "Action": "lambda:InvokeFunction", "Principal": principal});
    let cases = vec![
        bad("invalid principal", add(with("s2", "not-a-principal")), 400, "InvalidParameterValueException",
            "The provided principal was invalid. Please check the principal and try again.", &unchanged),
        bad("principal with a space", add(with("s2", "a b")), 400, "ValidationException",
            coral(&[("'a b'", "principal", r"Member must satisfy regular expression pattern: [^\s]+")]), &unchanged),
        bad("statement id with a dot", add(with("s.2", "*")), 400, "ValidationException",
            coral(&[("'s.2'", "statementId", "Member must satisfy regular expression pattern: ([a-zA-Z0-9-_]+)")]), &unchanged),
        bad("statement id of 101", add(with(&"s".repeat(101), "*")), 400, "ValidationException",
            coral(&[(&quoted(&"s".repeat(101)), "statementId", "Member must have length less than or equal to 100")]), &unchanged),
        bad("duplicate statement id", add(with("s1", "*")), 409, "ResourceConflictException",
            "The statement id (s1) provided already exists. Please provide a new statement id, or remove the existing statement.", &unchanged),
        bad("action pattern", add(json!({"StatementId": "s2", "Action": "lambda:Invoke*", "Principal": "*"})), 400,
            "ValidationException",
            coral(&[("'lambda:Invoke*'", "action", r"Member must satisfy regular expression pattern: (lambda:[*]|lambda:[a-zA-Z]+|[*])")]), &unchanged),
        bad("source account", add(json!({"StatementId": "s2", "Action": "lambda:InvokeFunction", "Principal": "*", "SourceAccount": "123"})), 400,
            "ValidationException", coral(&[("'123'", "sourceAccount", r"Member must satisfy regular expression pattern: \d{12}")]), &unchanged),
        bad("no action", add(json!({"StatementId": "s2", "Principal": "*"})), 400, "ValidationException",
            coral(&[("null", "action", "Member must not be null")]), &unchanged),
        bad("$LATEST", add(with("s2", "*")).query("Qualifier=%24LATEST"), 400, "InvalidParameterValueException",
            "We currently do not support adding policies for $LATEST.", &unchanged),
        bad("missing alias", add(with("s2", "*")).query("Qualifier=nope"), 404, "ResourceNotFoundException",
            format!("Cannot find alias arn: {}:nope", fn_arn("pf")), &unchanged),
        bad("missing version", add(with("s2", "*")).query("Qualifier=99"), 404, "ResourceNotFoundException",
            format!("Function not found: {}:99", fn_arn("pf")), &unchanged),
        bad("missing function", post(&format!("{}/policy", fpath("nope")), with("s2", "*")), 404,
            "ResourceNotFoundException", not_found("nope"), &unchanged),
        bad("RevisionId", add(json!({"StatementId": "s2", "Action": "lambda:InvokeFunction", "Principal": "*", "RevisionId": "nope"})),
            412, "PreconditionFailedException", REVISION_MISMATCH, &unchanged),
        bad("remove unknown sid", Request::new("DELETE", &format!("{policy}/nope")), 404, "ResourceNotFoundException",
            "Statement nope is not found in resource policy.", &unchanged),
        bad("remove with RevisionId", Request::new("DELETE", &format!("{policy}/s1")).query("RevisionId=nope"), 412,
            "PreconditionFailedException", REVISION_MISMATCH, &unchanged),
        bad("remove from alias without policy", Request::new("DELETE", &format!("{policy}/s1")).query("Qualifier=live"), 404,
            "ResourceNotFoundException", "No policy is associated with the given resource.", &unchanged),
        bad("remove on missing function", Request::new("DELETE", &format!("{}/policy/s1", fpath("nope"))), 404,
            "ResourceNotFoundException", format!("No policy found for: {}", fn_arn("nope")), &unchanged),
        bad("get policy of alias without one", get(&policy).query("Qualifier=live"), 404,
            "ResourceNotFoundException", NOTHING_HERE, &unchanged),
        bad("get policy of missing function", get(&format!("{}/policy", fpath("nope"))), 404,
            "ResourceNotFoundException", NOTHING_HERE, &unchanged),
    ];
    run(&s, cases);

    // Principal forms (§1.3).
    for (sid, principal, shown) in [
        ("p-star", "*", json!("*")),
        (
            "p-service",
            "events.amazonaws.com",
            json!({"Service": "events.amazonaws.com"}),
        ),
        (
            "p-account",
            "123456789012",
            json!({"AWS": "arn:aws:iam::123456789012:root"}),
        ),
        (
            "p-arn",
            "arn:aws:iam::123456789012:user/alice",
            json!({"AWS": "arn:aws:iam::123456789012:user/alice"}),
        ),
    ] {
        let r = s.send(&add(with(sid, principal)));
        assert_eq!(r.status, 201, "{sid}: {r:?}");
        let st: Value = serde_json::from_str(r.json["Statement"].as_str().unwrap_or("null"))
            .unwrap_or(Value::Null);
        assert_eq!(st["Principal"], shown, "{sid}: {st}");
    }
}

// ---------------------------------------------------------------------------------------------------
// Layers (§1.3)
// ---------------------------------------------------------------------------------------------------

#[test]
fn layer_rules() {
    let s = Server::start(&[]);
    publish_layer(&s, "ly");
    let versions = "/2018-10-31/layers/ly/versions";
    let unchanged = vec![
        versions.to_string(),
        "/2018-10-31/layers".to_string(),
        "/2016-08-19/account-settings".to_string(),
    ];
    let content = json!({"ZipFile": b64(&hello_zip())});
    let cases = vec![
        bad("not a zip", post(versions, json!({"Content": {"ZipFile": b64(b"nope")}})), 400,
            "InvalidParameterValueException", UNZIP_FAILED, &unchanged),
        bad("evil entry", post(versions, json!({"Content": {"ZipFile": b64(&zip_of(&[("../x", b"x".as_slice())]))}})), 400,
            "InvalidParameterValueException", prefix("Could not unzip uploaded file."), &unchanged),
        bad("no content", post(versions, json!({})), 400, "ValidationException",
            coral(&[("null", "content", "Member must not be null")]), &unchanged),
        bad("bad runtime and architecture", post(versions, json!({"Content": content, "CompatibleRuntimes": ["invalidruntime"], "CompatibleArchitectures": ["invalidarch"]})),
            400, "ValidationException",
            prefix("2 validation errors detected: Value '[invalidruntime]' at 'compatibleRuntimes' failed to satisfy constraint: "), &unchanged),
        bad("description of 257", post(versions, json!({"Content": content, "Description": "d".repeat(257)})), 400,
            "ValidationException", coral(&[(&quoted(&"d".repeat(257)), "description", "Member must have length less than or equal to 256")]), &unchanged),
        bad("bad layer name", post("/2018-10-31/layers/bad%20name/versions", json!({"Content": content})), 400,
            "ValidationException", prefix("1 validation error detected: Value 'bad name' at 'layerName'"), &unchanged),
        bad("version 0", get(&format!("{versions}/0")), 400, "InvalidParameterValueException",
            "Layer Version Cannot be less than 1", &unchanged),
        bad("missing version", get(&format!("{versions}/9")), 404, "ResourceNotFoundException", NOTHING_HERE, &unchanged),
        bad("missing layer", get("/2018-10-31/layers/none/versions/1"), 404, "ResourceNotFoundException", NOTHING_HERE, &unchanged),
        bad("by ARN, unversioned", get("/2018-10-31/layers").query(&format!("find=LayerVersion&Arn={}", enc(&format!("arn:aws:lambda:{REGION}:{ACCOUNT}:layer:ly")))),
            400, "ValidationException", prefix(&format!("1 validation error detected: Value 'arn:aws:lambda:{REGION}:{ACCOUNT}:layer:ly' at 'arn' failed to satisfy constraint: ")), &unchanged),
        bad("by ARN, missing", get("/2018-10-31/layers").query(&format!("find=LayerVersion&Arn={}", enc(&layer_arn("ly", 7)))),
            404, "ResourceNotFoundException", NOTHING_HERE, &unchanged),
    ];
    run(&s, cases);
    // Unknown layer lists empty; deleting a missing version is 204; numbers are never reused.
    let l = s.call("GET", "/2018-10-31/layers/none/versions", "", None);
    assert_eq!(
        (l.status, l.json.clone()),
        (200, json!({"LayerVersions": []})),
        "{l:?}"
    );
    let d = s.call("DELETE", &format!("{versions}/5"), "", None);
    assert_eq!(d.status, 204, "{d:?}");
    let d = s.call("DELETE", &format!("{versions}/1"), "", None);
    assert_eq!(d.status, 204, "{d:?}");
    let again = publish_layer(&s, "ly");
    assert_eq!(
        again["Version"], 2,
        "layer version numbers are never reused: {again}"
    );
}

// ---------------------------------------------------------------------------------------------------
// Findings that do not match the reference
// ---------------------------------------------------------------------------------------------------

/// §1.1: an unknown CodeSigningConfigArn on CreateFunction is 404 CodeSigningConfigNotFoundException.
#[test]
fn unknown_code_signing_config_error_type() {
    let s = Server::start(&[]);
    let csc =
        format!("arn:aws:lambda:{REGION}:{ACCOUNT}:code-signing-config:csc-0123456789abcdefg");
    let r = s.send(&create_with("csc", |b| {
        b["CodeSigningConfigArn"] = json!(csc)
    }));
    assert_eq!(r.status, 404, "{r:?}");
    assert_eq!(
        r.header("x-amzn-ErrorType"),
        Some("CodeSigningConfigNotFoundException"),
        "{r:?}"
    );
    assert_eq!(
        r.json["Message"],
        format!("The code signing configuration cannot be found. Check that the provided configuration is not deleted: {csc}.")
    );
}

/// The 409 during an update also covers PublishVersion (§1.2) — exercised fully in waiters.rs; here the
/// message text is pinned against the helper the other tests use.
#[test]
fn in_progress_message_shape() {
    assert_eq!(
        in_progress("f"),
        "The operation cannot be performed at this time. An update is in progress for resource: arn:aws:lambda:us-east-1:000000000000:function:f"
    );
}
