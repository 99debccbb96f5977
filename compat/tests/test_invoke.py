"""Invoke through the aws CLI and boto3: real functions on the official runtime clients.

Python (`awslambdaric`), Node (`aws-lambda-ric`), Rust (`lambda_runtime`, shipped as `bootstrap`) and a
POSIX shell `bootstrap` from testdata/functions run unmodified; each test asserts what AWS Lambda does
(reference/lambda-surface.md §2 Invoke, §3 execution environment, §5 errors, timeouts, throttles).

This module runs its own servers (see `functions.start_server`) so that the runtime clients are
installed once into the shared cache; the `lamina` fixture below is the module's main server (the name
matches conftest's, so a failing test gets this server's log tail in its report).
"""

from __future__ import annotations

import base64
import datetime
import json
import math
import re
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache

import pytest
from botocore.exceptions import ClientError

import functions
import support

NAME_RE = r"[0-9a-f]{32}"
RATE_EXCEEDED = "Rate Exceeded."


# ---------------------------------------------------------------------------------------------
# Setup: runtime clients, the Rust bootstrap, servers, clients
# ---------------------------------------------------------------------------------------------


def _node_runtime_name() -> str:
    """nodejsNN.x for the host's Node major (the runtime Lamina can run here)."""
    try:
        out = subprocess.run(["node", "--version"], capture_output=True, text=True, timeout=30).stdout
        major = int(out.strip().lstrip("v").split(".")[0])
    except (OSError, ValueError, subprocess.SubprocessError):
        return "nodejs20.x"
    return f"nodejs{major}.x"


PYTHON = "python3.11"
NODE = _node_runtime_name()
PROVIDED = "provided.al2023"


@pytest.fixture(scope="module")
def runtime_data_dir(tmp_path_factory):
    return functions.prepare_data_dir(tmp_path_factory.mktemp("runtimes") / "data")


@pytest.fixture(scope="module")
def python_runtime(runtime_data_dir):
    """awslambdaric installed once in the shared cache (seconds; a no-op when already there)."""
    try:
        functions.install_runtime(PYTHON, runtime_data_dir)
    except (functions.SetupError, subprocess.TimeoutExpired) as e:
        pytest.fail(f"installing the {PYTHON} runtime client failed:\n{e}", pytrace=False)
    return PYTHON


@pytest.fixture(scope="module")
def node_runtime(runtime_data_dir):
    """aws-lambda-ric installed once in the shared cache (60-100 s cold: it builds a native addon)."""
    try:
        functions.install_runtime(NODE, runtime_data_dir)
    except (functions.SetupError, subprocess.TimeoutExpired) as e:
        pytest.fail(f"installing the {NODE} runtime client failed:\n{e}", pytrace=False)
    return NODE


@pytest.fixture(scope="module")
def rust_bootstrap():
    """testdata/functions/rust built with cargo (~80 s cold, seconds warm)."""
    try:
        return functions.build_rust_bootstrap()
    except (functions.SetupError, subprocess.TimeoutExpired) as e:
        pytest.fail(f"building the Rust test function failed:\n{e}", pytrace=False)


@pytest.fixture(scope="module")
def lamina(tmp_path_factory, python_runtime):
    """This module's server: default invocation options, runtime clients from the shared cache."""
    server = functions.start_server(tmp_path_factory.mktemp("invoke"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def lam(lamina):
    """boto3 client, one attempt (standard mode would retry 429s)."""
    return support.lambda_client(lamina.endpoint)


@pytest.fixture(scope="module")
def aws(lamina):
    def run(*args, cwd=None):
        return support.run_aws(lamina.endpoint, [str(a) for a in args], cwd=cwd)

    return run


@pytest.fixture
def dedicated_server(tmp_path_factory, python_runtime):
    """Starts servers with invocation options (stopped after the test)."""
    started = []

    def start(**options):
        server = functions.start_server(tmp_path_factory.mktemp("invoke-opts"), **options)
        started.append(server)
        return server

    yield start
    for s in started:
        s.stop()


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------


@lru_cache(maxsize=None)
def _zip(kind: str, binary: str | None = None) -> bytes:
    if kind == "python":
        return functions.python_zip()
    if kind == "node":
        return functions.node_zip()
    if kind == "shell":
        return functions.shell_zip()
    if kind == "rust":
        return functions.bootstrap_zip(binary)
    if kind == "empty":
        return functions.no_bootstrap_zip()
    raise ValueError(kind)


def wait_ready(lam, name: str, timeout: float = 30.0) -> dict:
    """Polls until State is Active and no update is in progress (bounded)."""
    deadline = time.monotonic() + timeout
    while True:
        c = lam.get_function_configuration(FunctionName=name)
        if c["State"] == "Failed" or c.get("LastUpdateStatus") == "Failed":
            raise AssertionError(f"{name} failed: {c.get('StateReason')} {c.get('LastUpdateStatusReason')}")
        if c["State"] == "Active" and c.get("LastUpdateStatus", "Successful") == "Successful":
            return c
        if time.monotonic() > deadline:
            raise AssertionError(f"{name} not ready after {timeout}s: {c['State']} {c.get('LastUpdateStatus')}")
        time.sleep(0.1)


def create(lam, kind: str, handler: str, *, runtime: str | None = None, binary=None, prefix: str = "inv",
           timeout: int = 5, memory: int = 128, env: dict | None = None, wait: bool = True) -> str:
    """Creates a function from a testdata package; returns its (unique) name."""
    name = support.unique(prefix)
    runtime = runtime or {"python": PYTHON, "node": NODE}.get(kind, PROVIDED)
    kwargs = dict(
        FunctionName=name, Runtime=runtime, Role=support.ROLE, Handler=handler,
        Code={"ZipFile": _zip(kind, str(binary) if binary else None)},
        Timeout=timeout, MemorySize=memory,
    )
    if env is not None:
        kwargs["Environment"] = {"Variables": env}
    lam.create_function(**kwargs)
    if wait:
        wait_ready(lam, name)
    return name


def update_env(lam, name: str, env: dict) -> None:
    lam.update_function_configuration(FunctionName=name, Environment={"Variables": env})
    wait_ready(lam, name)


def invoke(lam, name: str, payload=None, **kwargs):
    """boto3 Invoke; returns (response without the stream, body bytes). `payload` may be a dict."""
    if payload is not None:
        kwargs["Payload"] = payload if isinstance(payload, (bytes, str)) else json.dumps(payload)
    resp = lam.invoke(FunctionName=name, **kwargs)
    body = resp.pop("Payload").read()
    return resp, body


def request_id(resp) -> str:
    return resp["ResponseMetadata"]["RequestId"]


def tail(resp) -> str:
    assert "LogResult" in resp, f"no LogResult in {support.strip_metadata(resp)}"
    return base64.b64decode(resp["LogResult"]).decode("utf-8")


def report_re(rid: str, memory: int = 128, init: bool | None = None, status: str | None = None) -> re.Pattern:
    """The REPORT line as AWS prints it (§3.6): each field followed by a tab.

    init: True = Init Duration required, False = absent, None = either; status (e.g. "timeout") is
    appended after the fields.
    """
    init_part = {True: r"Init Duration: \d+\.\d\d ms\t", False: "",
                 None: r"(?:Init Duration: \d+\.\d\d ms\t)?"}[init]
    status_part = rf"Status: {status}\t?" if status else ""
    return re.compile(
        rf"^REPORT RequestId: {re.escape(rid)}\tDuration: (?P<duration>\d+\.\d\d) ms\t"
        rf"Billed Duration: (?P<billed>\d+) ms\tMemory Size: {memory} MB\t"
        rf"Max Memory Used: (?P<used>\d+) MB\t{init_part}{status_part}$",
        re.M,
    )


def tolerate_last_tab(text: str) -> str:
    """Adds the final tab to REPORT lines that lack it, to check their fields apart from that detail."""
    return re.sub(r"^(REPORT [^\n]*[^\t\n])$", "\\1\t", text, flags=re.M)


def report_line(text: str) -> str:
    lines = [l for l in text.split("\n") if l.startswith("REPORT ")]
    return lines[-1] if lines else "(no REPORT line)"


def client_error(excinfo) -> tuple[int, str, str, dict]:
    e = excinfo.value
    return (
        e.response["ResponseMetadata"]["HTTPStatusCode"],
        e.response["Error"]["Code"],
        e.response["Error"].get("Message", ""),
        e.response,
    )


def log_stream_re(version: str) -> re.Pattern:
    return re.compile(rf"^(\d{{4}})/(\d{{2}})/(\d{{2}})/\[{re.escape(version)}\]{NAME_RE}$")


def assert_recent_date(stream: str, version: str) -> None:
    m = log_stream_re(version).match(stream or "")
    assert m, f"log stream {stream!r} is not YYYY/MM/DD/[{version}]<32 hex>"
    day = datetime.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    today = datetime.datetime.now(datetime.timezone.utc).date()
    assert abs((today - day).days) <= 1, f"log stream date {day} is not today (UTC {today})"


def run_concurrently(endpoint: str, n: int, **invoke_kwargs) -> list:
    """n invokes released together (one boto3 client each); each result is the response or a ClientError."""
    clients = [support.lambda_client(endpoint) for _ in range(n)]
    barrier = threading.Barrier(n)

    def one(client):
        barrier.wait(timeout=60)
        try:
            resp = client.invoke(**invoke_kwargs)
            resp["Body"] = resp.pop("Payload").read()
            return resp
        except ClientError as e:
            return e

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(one, clients))


# ---------------------------------------------------------------------------------------------
# Shared functions (stateless handlers only, so tests sharing them stay independent)
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def py_echo(lam):
    return create(lam, "python", "app.echo", prefix="py-echo")


@pytest.fixture(scope="module")
def shell_echo(lam):
    return create(lam, "shell", "ignored", prefix="sh-echo")


@pytest.fixture(scope="module")
def py_env(lam):
    """app.env with a user variable; version 1 published with alias `live`."""
    name = create(lam, "python", "app.env", prefix="py-env", env={"MY_VAR": "hello from env"})
    lam.publish_version(FunctionName=name)
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    return name


@pytest.fixture(scope="module")
def py_ctx(lam):
    """app.context, Timeout 5; version 1 published with alias `live`."""
    name = create(lam, "python", "app.context", prefix="py-ctx", timeout=5)
    lam.publish_version(FunctionName=name)
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    return name


@pytest.fixture(scope="module")
def py_log(lam):
    return create(lam, "python", "app.log", prefix="py-log")


# ---------------------------------------------------------------------------------------------
# 1. Round trips
# ---------------------------------------------------------------------------------------------

EVENT = {"greeting": "hello", "n": [1, 2.5, None, True], "nested": {"k": "v", "empty": {}}, "s": "a b\tc"}


@pytest.mark.parametrize("kind", ["python", "node", "rust", "shell"])
def test_cli_round_trip(kind, lam, aws, tmp_path, request):
    """`aws lambda invoke --payload '<json>' out.json` (CLI v1, no --cli-binary-format) per runtime."""
    if kind == "python":
        name = create(lam, "python", "app.echo", prefix="cli-py")
    elif kind == "node":
        request.getfixturevalue("node_runtime")
        name = create(lam, "node", "index.echo", prefix="cli-node")
    elif kind == "rust":
        binary = request.getfixturevalue("rust_bootstrap")
        name = create(lam, "rust", "ignored", binary=binary, prefix="cli-rust", env={"MODE": "echo"})
    else:
        name = create(lam, "shell", "ignored", prefix="cli-sh")
    payload = json.dumps(EVENT, separators=(",", ":"))
    rc, meta, err = aws("invoke", "--function-name", name, "--payload", payload, "out.json", cwd=tmp_path)
    assert rc == 0, err
    assert meta == {"StatusCode": 200, "ExecutedVersion": "$LATEST"}
    out = (tmp_path / "out.json").read_bytes()
    if kind == "shell":
        assert out == payload.encode()
    elif kind == "rust":
        assert json.loads(out) == {"event": EVENT, "count": 1}
    else:
        assert json.loads(out) == EVENT


def test_payload_reaches_custom_runtime_byte_for_byte(lam, shell_echo):
    payload = b'{ "k" :\t"v\xc3\xa9\\u00e9" ,\n "arr": [1 , 2.50, 1e3, -0] }'
    resp, body = invoke(lam, shell_echo, payload)
    assert resp["StatusCode"] == 200
    assert "FunctionError" not in resp
    assert resp["ExecutedVersion"] == "$LATEST"
    assert body == payload


@pytest.mark.parametrize("kind", ["python", "shell"])
def test_empty_payload_is_delivered_as_empty_object(kind, lam, py_echo, shell_echo):
    resp, body = invoke(lam, py_echo if kind == "python" else shell_echo)
    assert resp["StatusCode"] == 200
    assert "FunctionError" not in resp
    if kind == "shell":
        assert body == b"{}"
    else:
        assert json.loads(body) == {}


def test_non_json_payload_is_rejected(lam, py_echo):
    with pytest.raises(ClientError) as ei:
        invoke(lam, py_echo, b"not json at all")
    status, code, message, _ = client_error(ei)
    assert (status, code) == (400, "InvalidRequestContentException")
    assert message.startswith("Could not parse request body into json: Could not parse payload into json: "), message


def test_cli_non_json_payload_is_rejected(aws, py_echo, tmp_path):
    rc, _, err = aws("invoke", "--function-name", py_echo, "--payload", "{not json", "out.json", cwd=tmp_path)
    assert rc == 255
    assert "InvalidRequestContentException" in err
    assert not (tmp_path / "out.json").exists() or (tmp_path / "out.json").read_bytes() == b""


def test_octet_stream_body_is_accepted(lamina, shell_echo):
    status, headers, body = support.signed_request(
        lamina.endpoint, "POST", f"/2015-03-31/functions/{shell_echo}/invocations",
        body=b'{"raw": true}', content_type="application/octet-stream",
    )
    assert status == 200, body
    assert body == b'{"raw": true}'
    assert headers.get("x-amz-executed-version") == "$LATEST"
    assert support.UUID_RE.match(headers.get("x-amzn-requestid", ""))


# ---------------------------------------------------------------------------------------------
# 2. Warm reuse
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["python", "node", "rust"])
def test_warm_environment_is_reused(kind, lam, request):
    if kind == "python":
        name = create(lam, "python", "app.counter", prefix="warm-py")
    elif kind == "node":
        request.getfixturevalue("node_runtime")
        name = create(lam, "node", "index.counter", prefix="warm-node")
    else:
        binary = request.getfixturevalue("rust_bootstrap")
        name = create(lam, "rust", "ignored", binary=binary, prefix="warm-rust")
    bodies = []
    for i in range(3):
        resp, body = invoke(lam, name, {"i": i})
        assert resp["StatusCode"] == 200 and "FunctionError" not in resp, body
        bodies.append(json.loads(body))
    assert [b["count"] for b in bodies] == [1, 2, 3], bodies
    init_key = {"python": "init_at", "node": "initAt"}.get(kind)
    if init_key:
        assert len({b[init_key] for b in bodies}) == 1, f"init ran more than once: {bodies}"
    else:
        assert [b["event"] for b in bodies] == [{"i": 0}, {"i": 1}, {"i": 2}]


def test_configuration_update_starts_a_fresh_environment(lam):
    name = create(lam, "python", "probe.handler", prefix="cfg", env={"MY_VAR": "before"})
    first = [json.loads(invoke(lam, name, {})[1]) for _ in range(2)]
    assert [b["count"] for b in first] == [1, 2]
    assert {b["my_var"] for b in first} == {"before"}
    update_env(lam, name, {"MY_VAR": "after"})
    _, body = invoke(lam, name, {})
    after = json.loads(body)
    assert after["my_var"] == "after"
    assert after["count"] == 1, f"the old environment served the new configuration: {after}"
    assert after["init_at"] != first[0]["init_at"]


# ---------------------------------------------------------------------------------------------
# 3. Environment variables and the context object
# ---------------------------------------------------------------------------------------------


def test_reserved_environment_variables(lam, py_env):
    resp, body = invoke(lam, py_env, {})
    assert "FunctionError" not in resp, body
    env = json.loads(body)
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == py_env
    assert env["AWS_LAMBDA_FUNCTION_VERSION"] == "$LATEST"
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "128"
    assert env["AWS_REGION"] == support.REGION
    assert env["AWS_DEFAULT_REGION"] == support.REGION
    assert env["_HANDLER"] == "app.env"
    assert env["LAMBDA_TASK_ROOT"]
    assert env["AWS_LAMBDA_LOG_GROUP_NAME"] == f"/aws/lambda/{py_env}"
    assert_recent_date(env["AWS_LAMBDA_LOG_STREAM_NAME"], "$LATEST")
    assert env["MY_VAR"] == "hello from env"


def test_runtime_environment_variables(lam, py_env):
    _, body = invoke(lam, py_env, {})
    env = json.loads(body)
    assert env["AWS_EXECUTION_ENV"] == f"AWS_Lambda_{PYTHON}"
    assert env["AWS_LAMBDA_INITIALIZATION_TYPE"] == "on-demand"
    assert re.fullmatch(r"[^\s/:]+:\d+", env["AWS_LAMBDA_RUNTIME_API"] or ""), env["AWS_LAMBDA_RUNTIME_API"]
    assert env["TZ"] == ":UTC"
    assert env["LANG"] == "en_US.UTF-8"
    assert env["PATH"]
    assert env["_cwd"] == env["LAMBDA_TASK_ROOT"], "the runtime's working directory is the task root"


def test_published_version_environment(lam, py_env):
    resp, body = invoke(lam, py_env, {}, Qualifier="live")
    assert resp["ExecutedVersion"] == "1"
    env = json.loads(body)
    assert env["AWS_LAMBDA_FUNCTION_VERSION"] == "1"
    assert env["MY_VAR"] == "hello from env"
    assert_recent_date(env["AWS_LAMBDA_LOG_STREAM_NAME"], "1")


def test_context_object(lam, py_ctx):
    resp, body = invoke(lam, py_ctx, {})
    assert "FunctionError" not in resp, body
    ctx = json.loads(body)
    assert ctx["aws_request_id"] == request_id(resp)
    assert 3000 < ctx["remaining_ms"] <= 5000, ctx["remaining_ms"]
    assert ctx["invoked_function_arn"] == support.fn_arn(py_ctx)
    assert ctx["function_name"] == py_ctx
    assert ctx["function_version"] == "$LATEST"
    assert str(ctx["memory_limit_in_mb"]) == "128"
    assert ctx["log_group_name"] == f"/aws/lambda/{py_ctx}"
    assert_recent_date(ctx["log_stream_name"], "$LATEST")
    assert ctx["client_context_custom"] is None


@pytest.mark.parametrize("form", ["name:alias", "Qualifier=alias", "name:1", "full-arn", "full-arn:alias"])
def test_invoked_function_arn_is_as_addressed(form, lam, py_ctx):
    kwargs, qualifier = {
        "name:alias": ({"FunctionName": f"{py_ctx}:live"}, "live"),
        "Qualifier=alias": ({"FunctionName": py_ctx, "Qualifier": "live"}, "live"),
        "name:1": ({"FunctionName": f"{py_ctx}:1"}, "1"),
        "full-arn": ({"FunctionName": support.fn_arn(py_ctx)}, None),
        "full-arn:alias": ({"FunctionName": support.fn_arn(py_ctx, "live")}, "live"),
    }[form]
    resp = lam.invoke(Payload=b"{}", **kwargs)
    ctx = json.loads(resp["Payload"].read())
    assert ctx["invoked_function_arn"] == support.fn_arn(py_ctx, qualifier)
    expected_version = "$LATEST" if qualifier is None else "1"
    assert ctx["function_version"] == expected_version
    assert resp["ExecutedVersion"] == expected_version


CLIENT_CONTEXT = {
    "client": {"installation_id": "inst-1", "app_title": "compat", "app_version_name": "1.0",
               "app_version_code": "1", "app_package_name": "org.example.compat"},
    "custom": {"tenant": "blue", "n": 7},
    "env": {"platform": "test"},
}


def test_invalid_client_context_is_rejected(lam, py_ctx):
    with pytest.raises(ClientError) as ei:
        invoke(lam, py_ctx, {}, ClientContext="this is not base64 json!")
    status, code, _, _ = client_error(ei)
    assert (status, code) == (400, "InvalidRequestContentException")


def test_trace_id_reaches_the_function(lam, py_ctx):
    _, body = invoke(lam, py_ctx, {})
    trace = json.loads(body)["trace_id"] or ""
    assert re.match(r"Root=1-[0-9a-f]{8}-[0-9a-f]{24}(;|$)", trace), trace
    assert "Sampled=" in trace, trace


def test_client_context_reaches_python(lam, py_ctx):
    cc = base64.b64encode(json.dumps(CLIENT_CONTEXT).encode()).decode()
    resp, body = invoke(lam, py_ctx, {}, ClientContext=cc)
    assert "FunctionError" not in resp, body
    assert json.loads(body)["client_context_custom"] == {"tenant": "blue", "n": 7}


def test_node_context(lam, node_runtime):
    name = create(lam, "node", "index.context", prefix="node-ctx", timeout=4)
    cc = base64.b64encode(json.dumps(CLIENT_CONTEXT).encode()).decode()
    resp, body = invoke(lam, name, {}, ClientContext=cc)
    assert "FunctionError" not in resp, body
    ctx = json.loads(body)
    assert ctx["awsRequestId"] == request_id(resp)
    assert ctx["invokedFunctionArn"] == support.fn_arn(name)
    assert 2000 < ctx["remainingMs"] <= 4000
    assert ctx["functionVersion"] == "$LATEST"
    assert str(ctx["memoryLimitInMB"]) == "128"
    assert_recent_date(ctx["logStreamName"], "$LATEST")
    assert (ctx["clientContext"] or {}).get("custom") == {"tenant": "blue", "n": 7}


# ---------------------------------------------------------------------------------------------
# 4. Errors
# ---------------------------------------------------------------------------------------------


def test_python_handler_exception(lam):
    name = create(lam, "python", "app.error", prefix="err-py")
    resp, body = invoke(lam, name, {})
    assert resp["StatusCode"] == 200
    assert resp["FunctionError"] == "Unhandled"
    assert resp["ExecutedVersion"] == "$LATEST"
    err = json.loads(body)
    assert set(err) == {"errorMessage", "errorType", "requestId", "stackTrace"}, err
    assert err["errorMessage"] == "boom"
    assert err["errorType"] == "ValueError"
    assert err["requestId"] == request_id(resp)
    assert resp["ResponseMetadata"]["HTTPHeaders"]["x-amzn-requestid"] == err["requestId"]
    assert isinstance(err["stackTrace"], list) and err["stackTrace"]
    assert any("app.py" in frame and "error" in frame for frame in err["stackTrace"]), err["stackTrace"]


def test_node_handler_exception(lam, node_runtime):
    name = create(lam, "node", "index.error", prefix="err-node")
    resp, body = invoke(lam, name, {})
    assert resp["StatusCode"] == 200
    assert resp["FunctionError"] == "Unhandled"
    err = json.loads(body)
    assert err["errorType"] == "Error"
    assert err["errorMessage"] == "boom"
    assert isinstance(err.get("trace"), list) and err["trace"], err
    assert err["trace"][0] == "Error: boom"
    assert "stackTrace" not in err


def test_rust_handler_error(lam, rust_bootstrap):
    name = create(lam, "rust", "ignored", binary=rust_bootstrap, prefix="err-rust", env={"MODE": "error"})
    resp, body = invoke(lam, name, {})
    assert resp["StatusCode"] == 200
    assert resp["FunctionError"] == "Unhandled"
    assert json.loads(body) == {"errorType": "BoomError", "errorMessage": "boom"}


def test_cli_function_error(lam, aws, tmp_path):
    name = create(lam, "python", "app.error", prefix="err-cli")
    rc, meta, err = aws("invoke", "--function-name", name, "out.json", cwd=tmp_path)
    assert rc == 0, err
    assert meta == {"StatusCode": 200, "FunctionError": "Unhandled", "ExecutedVersion": "$LATEST"}
    assert json.loads((tmp_path / "out.json").read_bytes())["errorType"] == "ValueError"


def test_timeout_then_environment_is_reset(lam):
    name = create(lam, "python", "probe.handler", prefix="timeout", timeout=1)
    _, body = invoke(lam, name, {})
    first = json.loads(body)
    assert first["count"] == 1
    started = time.monotonic()
    resp, body = invoke(lam, name, {"sleep": 3})
    elapsed = time.monotonic() - started
    assert resp["StatusCode"] == 200
    assert resp["FunctionError"] == "Unhandled"
    rid = request_id(resp)
    assert json.loads(body) == {
        "errorType": "Sandbox.Timedout",
        "errorMessage": f"RequestId: {rid} Error: Task timed out after 1.00 seconds",
    }
    assert elapsed < 2.5, f"the caller waited {elapsed:.2f}s for a 1 s timeout"
    resp, body = invoke(lam, name, {})
    assert "FunctionError" not in resp, body
    after = json.loads(body)
    assert after["count"] == 1, f"the timed-out environment was reused: {after}"
    assert after["init_at"] != first["init_at"]


def test_crash_is_exit_error_then_environment_is_reset(lam):
    name = create(lam, "python", "probe.handler", prefix="crash")
    assert json.loads(invoke(lam, name, {})[1])["count"] == 1
    resp, body = invoke(lam, name, {"exit": 3})
    assert resp["StatusCode"] == 200
    assert resp["FunctionError"] == "Unhandled"
    rid = request_id(resp)
    assert json.loads(body) == {
        "errorType": "Runtime.ExitError",
        "errorMessage": f"RequestId: {rid} Error: Runtime exited with error: exit status 3",
    }
    resp, body = invoke(lam, name, {})
    assert "FunctionError" not in resp, body
    assert json.loads(body)["count"] == 1


def test_testdata_crash_handler(lam):
    name = create(lam, "python", "app.crash", prefix="crash-app")
    resp, body = invoke(lam, name, {})
    assert resp["FunctionError"] == "Unhandled"
    err = json.loads(body)
    assert err["errorType"] == "Runtime.ExitError"
    assert err["errorMessage"] == f"RequestId: {request_id(resp)} Error: Runtime exited with error: exit status 3"


def test_init_error_is_returned_on_every_call(lam):
    """bad_init.py raises at import: awslambdaric posts /runtime/init/error and exits (§3.3, §5.1)."""
    name = create(lam, "python", "bad_init.handler", prefix="init-err")
    for attempt in range(2):
        resp, body = invoke(lam, name, {})
        assert resp["StatusCode"] == 200
        assert resp["FunctionError"] == "Unhandled", (attempt, body)
        err = json.loads(body)
        # The RIC's body verbatim: the exception class, and an empty requestId for init errors.
        assert err["errorType"] == "RuntimeError", (attempt, err)
        assert err["errorMessage"] == "init failed on purpose"
        assert err["requestId"] == ""
        assert any("bad_init.py" in frame for frame in err["stackTrace"]), err["stackTrace"]


@pytest.mark.parametrize("handler,error_type,message", [
    ("nosuchmodule.handler", "Runtime.ImportModuleError",
     "Unable to import module 'nosuchmodule': No module named 'nosuchmodule'"),
    ("app.nosuch", "Runtime.HandlerNotFound", "Handler 'nosuch' missing on module 'app'"),
])
def test_init_error_runtime_types(handler, error_type, message, lam):
    name = create(lam, "python", handler, prefix="init-rt")
    for attempt in range(2):
        resp, body = invoke(lam, name, {})
        assert resp["FunctionError"] == "Unhandled", (attempt, body)
        err = json.loads(body)
        assert err["errorType"] == error_type, (attempt, err)
        assert err["errorMessage"] == message
        assert err["requestId"] == ""


def test_out_of_memory(lam):
    name = create(lam, "python", "app.oom", prefix="oom", memory=128, timeout=30)
    resp, body = invoke(lam, name, {"max_mb": 1024})
    assert resp["StatusCode"] == 200
    assert resp.get("FunctionError") == "Unhandled", f"128 MB function survived: {body[:200]!r}"
    err = json.loads(body)
    assert err["errorType"] in ("Runtime.OutOfMemory", "Runtime.ExitError"), err
    assert err["errorMessage"] == f"RequestId: {request_id(resp)} Error: Runtime exited with error: signal: killed"


def test_custom_runtime_without_bootstrap(lam):
    name = create(lam, "empty", "ignored", prefix="no-boot")
    resp, body = invoke(lam, name, {})
    assert resp["StatusCode"] == 200
    assert resp["FunctionError"] == "Unhandled"
    rid = request_id(resp)
    assert json.loads(body) == {
        "errorType": "Runtime.InvalidEntrypoint",
        "errorMessage": f"RequestId: {rid} Error: Couldn't find valid bootstrap(s): [/var/task/bootstrap /opt/bootstrap]",
    }


# ---------------------------------------------------------------------------------------------
# 5. Payload limits
# ---------------------------------------------------------------------------------------------

REQUEST_LIMIT = 6_291_456
RESPONSE_LIMIT = 6_291_556


def test_request_over_6mb_is_rejected(lam, shell_echo):
    payload = b'"' + b"x" * (REQUEST_LIMIT + 1 - 2) + b'"'
    assert len(payload) == 6_291_457
    with pytest.raises(ClientError) as ei:
        lam.invoke(FunctionName=shell_echo, Payload=payload)
    status, code, message, _ = client_error(ei)
    assert (status, code) == (413, "RequestEntityTooLargeException")
    assert message == "Request must be smaller than 6291456 bytes for the InvokeFunction operation"


def test_response_over_limit_is_function_error(lam):
    name = create(lam, "python", "app.big", prefix="big-over", memory=256, timeout=15)
    resp, body = invoke(lam, name, {"bytes": RESPONSE_LIMIT + 1})
    assert resp["StatusCode"] == 200
    assert resp["FunctionError"] == "Unhandled"
    err = json.loads(body)
    assert list(err) == ["errorMessage", "errorType"], body[:300]
    assert err == {
        "errorMessage": f"Response payload size exceeded maximum allowed payload size ({RESPONSE_LIMIT} bytes).",
        "errorType": "Function.ResponseSizeTooLarge",
    }


def test_invoke_after_an_oversized_response_works(lam):
    """The failed invocation is over; the next one is served (by this environment or a fresh one)."""
    name = create(lam, "python", "app.big", prefix="big-next", memory=256, timeout=15)
    resp, _ = invoke(lam, name, {"bytes": RESPONSE_LIMIT + 1})
    assert resp["FunctionError"] == "Unhandled"
    resp, body = invoke(lam, name, {"bytes": 10})
    assert "FunctionError" not in resp, body[:300]
    assert body == b'"xxxxxxxx"'


def test_response_just_under_limit(lam):
    name = create(lam, "python", "app.big", prefix="big-under", memory=256, timeout=15)
    resp, body = invoke(lam, name, {"bytes": REQUEST_LIMIT})
    assert resp["StatusCode"] == 200
    assert "FunctionError" not in resp, body[:300]
    assert len(body) == REQUEST_LIMIT
    assert body[:3] == b'"xx' and body[-1:] == b'"'


# ---------------------------------------------------------------------------------------------
# 6. Tail logs and `lamina logs`
# ---------------------------------------------------------------------------------------------


def _assert_log_order(text: str, rid: str, printed: list[str]) -> None:
    start = f"START RequestId: {rid} Version: $LATEST\n"
    end = f"END RequestId: {rid}\n"
    assert start in text, text
    assert end in text, text
    positions = [text.index(start)] + [text.index(p + "\n") for p in printed] + [text.index(end)]
    assert positions == sorted(positions), text
    assert text.index(end) < text.index("REPORT RequestId:"), text


def test_tail_on_cold_start(lam):
    name = create(lam, "python", "app.log", prefix="tail-cold")
    resp, _ = invoke(lam, name, {"lines": 3}, LogType="Tail")
    rid = request_id(resp)
    text = tail(resp)
    assert len(text.encode()) <= 4096
    _assert_log_order(text, rid, ["log line 0", "log line 2", "to stderr"])
    assert text.endswith("\n")
    m = report_re(rid, init=True).search(tolerate_last_tab(text))
    assert m, f"REPORT of a cold start needs its fields and Init Duration: {report_line(text)!r}"
    assert int(m["billed"]) >= math.ceil(float(m["duration"]))
    assert 0 < int(m["used"]) < 128, "Max Memory Used is measured, not the memory size"
    # Exactly as AWS prints it, down to the tab that ends the line.
    assert report_re(rid, init=True).search(text), f"REPORT line format: {report_line(text)!r}"


def test_tail_on_warm_invoke(lam, py_log):
    invoke(lam, py_log, {"lines": 1})
    resp, _ = invoke(lam, py_log, {"lines": 2}, LogType="Tail")
    rid = request_id(resp)
    text = tail(resp)
    _assert_log_order(text, rid, ["log line 0", "log line 1", "to stderr"])
    assert "Init Duration" not in text, text
    m = report_re(rid, init=False).search(tolerate_last_tab(text))
    assert m, f"REPORT of a warm invoke needs its fields: {report_line(text)!r}"
    assert int(m["billed"]) == max(1, math.ceil(float(m["duration"])))
    assert 0 < int(m["used"]) < 128
    assert report_re(rid, init=False).search(text), f"REPORT line format: {report_line(text)!r}"


def test_tail_is_the_last_4kb(lam, py_log):
    resp, _ = invoke(lam, py_log, {"lines": 400}, LogType="Tail")
    rid = request_id(resp)
    raw = base64.b64decode(resp["LogResult"])
    assert 3900 <= len(raw) <= 4096, len(raw)
    text = raw.decode("utf-8")
    assert "START RequestId" not in text, "the head of a >4 KB log is cut"
    assert "log line 399\n" in text
    assert f"END RequestId: {rid}\n" in text
    assert report_re(rid, init=None).search(tolerate_last_tab(text)), report_line(text)
    assert text.endswith("\n") and report_line(text) == text.rstrip("\n").rsplit("\n", 1)[-1]


def test_tail_of_a_timeout(lam):
    name = create(lam, "python", "probe.handler", prefix="tail-to", timeout=1)
    resp, _ = invoke(lam, name, {"sleep": 3}, LogType="Tail")
    assert resp["FunctionError"] == "Unhandled"
    rid = request_id(resp)
    text = tail(resp)
    assert f"START RequestId: {rid} Version: $LATEST\n" in text
    m = report_re(rid, init=None, status="timeout").search(text)
    assert m, f"REPORT of a timeout should end with Status: timeout: {report_line(text)!r}"
    assert 990 <= float(m["duration"]) < 2500, m["duration"]


def test_tail_of_a_failed_start(lam):
    """Tail is returned for failed invocations too; REPORT ends with Status: error and the error type."""
    name = create(lam, "empty", "ignored", prefix="tail-noboot")
    resp, _ = invoke(lam, name, {}, LogType="Tail")
    assert resp["FunctionError"] == "Unhandled"
    rid = request_id(resp)
    text = tail(resp)
    assert f"START RequestId: {rid} Version: $LATEST\n" in text, text
    assert f"END RequestId: {rid}\n" in text, text
    assert report_re(rid, init=None, status=r"error\tError Type: Runtime\.InvalidEntrypoint").search(text), \
        report_line(text)


def test_no_tail_without_log_type(lam, py_echo):
    resp, _ = invoke(lam, py_echo, {})
    assert "LogResult" not in resp
    assert "x-amz-log-result" not in resp["ResponseMetadata"]["HTTPHeaders"]


def test_cli_tail(lam, aws, py_log, tmp_path):
    rc, meta, err = aws("invoke", "--function-name", py_log, "--log-type", "Tail", "--payload", '{"lines": 1}',
                        "out.json", cwd=tmp_path)
    assert rc == 0, err
    assert meta["StatusCode"] == 200
    text = base64.b64decode(meta["LogResult"]).decode()
    assert re.search(r"^START RequestId: \S+ Version: \$LATEST$", text, re.M), text
    assert "log line 0\n" in text
    assert re.search(r"^END RequestId: \S+$", text, re.M), text
    assert "\nREPORT RequestId: " in text
    assert json.loads((tmp_path / "out.json").read_bytes()) == {"lines": 1}


LOGS_LINE_RE = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z) (\S+) (.*)$")


def test_lamina_logs_shows_the_same_lines(lam, lamina):
    name = create(lam, "python", "app.log", prefix="logs-cli")
    resp, _ = invoke(lam, name, {"lines": 2}, LogType="Tail")
    rid = request_id(resp)
    tail_lines = [l for l in tail(resp).split("\n") if l]
    deadline = time.monotonic() + 20
    while True:
        rc, out, err = functions.lamina_logs(lamina.data_dir, name)
        assert rc == 0, err
        if f"REPORT RequestId: {rid}" in out or time.monotonic() > deadline:
            break
        time.sleep(0.25)
    parsed = []
    for line in out.split("\n"):
        if not line:
            continue
        m = LOGS_LINE_RE.match(line)
        assert m, f"not `<iso-ts> <stream> <message>`: {line!r}"
        parsed.append(m.groups())
    streams = {p[1] for p in parsed}
    assert len(streams) == 1, streams
    assert_recent_date(streams.pop(), "$LATEST")
    messages = [p[2] for p in parsed]
    for expected in tail_lines:
        assert expected in messages, f"{expected!r} missing from `lamina logs`:\n{out}"


# ---------------------------------------------------------------------------------------------
# 7. Versions and aliases
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def versioned(lam):
    """probe.handler: version 1 (MY_VAR=one), version 2 (MY_VAR=two), $LATEST (two), alias live -> 1."""
    name = create(lam, "python", "probe.handler", prefix="ver", env={"MY_VAR": "one"})
    assert lam.publish_version(FunctionName=name)["Version"] == "1"
    update_env(lam, name, {"MY_VAR": "two"})
    assert lam.publish_version(FunctionName=name)["Version"] == "2"
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    return name


@pytest.mark.parametrize("form,expected", [
    ("name:1", "1"), ("Qualifier=1", "1"), ("name:alias", "1"), ("Qualifier=alias", "1"),
    ("partial-arn:2", "2"), ("full-arn:2", "2"), ("name", "$LATEST"), ("name:$LATEST", "$LATEST"),
])
def test_qualifier_forms(form, expected, lam, versioned):
    n = versioned
    kwargs = {
        "name:1": {"FunctionName": f"{n}:1"},
        "Qualifier=1": {"FunctionName": n, "Qualifier": "1"},
        "name:alias": {"FunctionName": f"{n}:live"},
        "Qualifier=alias": {"FunctionName": n, "Qualifier": "live"},
        "partial-arn:2": {"FunctionName": f"{support.DEV_ACCOUNT}:function:{n}:2"},
        "full-arn:2": {"FunctionName": support.fn_arn(n, "2")},
        "name": {"FunctionName": n},
        "name:$LATEST": {"FunctionName": f"{n}:$LATEST"},
    }[form]
    resp = lam.invoke(Payload=b"{}", **kwargs)
    body = json.loads(resp["Payload"].read())
    assert resp["ExecutedVersion"] == expected
    assert body["version"] == expected
    assert body["my_var"] == ("one" if expected == "1" else "two")


def test_cli_alias_qualifier(aws, versioned, tmp_path):
    rc, meta, err = aws("invoke", "--function-name", versioned, "--qualifier", "live", "out.json", cwd=tmp_path)
    assert rc == 0, err
    assert meta == {"StatusCode": 200, "ExecutedVersion": "1"}
    assert json.loads((tmp_path / "out.json").read_bytes())["version"] == "1"


@pytest.mark.parametrize("qualifier", ["7", "nope"])
def test_unknown_qualifier_is_404(qualifier, lam, versioned):
    with pytest.raises(ClientError) as ei:
        lam.invoke(FunctionName=versioned, Qualifier=qualifier, Payload=b"{}")
    status, code, message, _ = client_error(ei)
    assert (status, code) == (404, "ResourceNotFoundException")
    assert message == f"Function not found: {support.fn_arn(versioned, qualifier)}"


def test_qualifier_mismatch_is_400(lam, versioned):
    with pytest.raises(ClientError) as ei:
        lam.invoke(FunctionName=f"{versioned}:1", Qualifier="live", Payload=b"{}")
    status, code, message, _ = client_error(ei)
    assert (status, code) == (400, "InvalidParameterValueException")
    assert message == "The derived qualifier from the function name does not match the specified qualifier."


def test_other_region_arn_is_404(lam, versioned):
    with pytest.raises(ClientError) as ei:
        lam.invoke(FunctionName=support.fn_arn(versioned, region="us-west-2"), Payload=b"{}")
    status, code, message, _ = client_error(ei)
    assert (status, code) == (404, "ResourceNotFoundException")
    assert message == "Functions from 'us-west-2' are not reachable in this region ('us-east-1')"


def test_missing_function_is_404_with_latest(lam):
    name = support.unique("missing")
    with pytest.raises(ClientError) as ei:
        lam.invoke(FunctionName=name, Payload=b"{}")
    status, code, message, _ = client_error(ei)
    assert (status, code) == (404, "ResourceNotFoundException")
    assert message == f"Function not found: {support.fn_arn(name)}:$LATEST"


def test_weighted_alias_routing(lam, lamina, rust_bootstrap):
    """Alias on version 1 with {"2": 0.1}: 2,000 invokes land on version 2 10% ± 3 points."""
    name = create(lam, "rust", "ignored", binary=rust_bootstrap, prefix="weights", env={"MODE": "noop"})
    assert lam.publish_version(FunctionName=name)["Version"] == "1"
    update_env(lam, name, {"MODE": "echo"})
    assert lam.publish_version(FunctionName=name)["Version"] == "2"
    lam.create_alias(FunctionName=name, Name="canary", FunctionVersion="1",
                     RoutingConfig={"AdditionalVersionWeights": {"2": 0.1}})
    total, workers = 2000, 8
    clients = [support.lambda_client(lamina.endpoint) for _ in range(workers)]
    mismatches: list = []

    def run(client):
        counts = {"1": 0, "2": 0}
        for i in range(total // workers):
            resp = client.invoke(FunctionName=f"{name}:canary", Payload=b'{"i": %d}' % i)
            body = json.loads(resp["Payload"].read())
            version = resp["ExecutedVersion"]
            counts[version] = counts.get(version, 0) + 1
            ok = (body == {"ok": True}) if version == "1" else (version == "2" and body.get("event") == {"i": i})
            if not ok:
                mismatches.append((version, body))
        return counts

    with ThreadPoolExecutor(workers) as pool:
        results = list(pool.map(run, clients))
    v1 = sum(r.get("1", 0) for r in results)
    v2 = sum(r.get("2", 0) for r in results)
    assert v1 + v2 == total, results
    assert not mismatches, f"ExecutedVersion does not match the version that answered: {mismatches[:5]}"
    share = v2 / total
    assert 0.07 <= share <= 0.13, f"version 2 got {share:.1%} of {total} invokes (want 10% ± 3)"


# ---------------------------------------------------------------------------------------------
# 8. Throttling
# ---------------------------------------------------------------------------------------------


def _throttle_reason(err: ClientError):
    return err.response.get("Reason")


def test_reserved_concurrency_zero_throttles(lam):
    name = create(lam, "shell", "ignored", prefix="res0")
    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
    with pytest.raises(ClientError) as ei:
        lam.invoke(FunctionName=name, Payload=b"{}")
    status, code, message, response = client_error(ei)
    assert (status, code) == (429, "TooManyRequestsException")
    assert response.get("Reason") == "ReservedFunctionConcurrentInvocationLimitExceeded", response
    assert message == RATE_EXCEEDED


def test_reserved_concurrency_n_under_n_plus_k(lam, lamina):
    name = create(lam, "python", "app.sleep", prefix="res2", timeout=10)
    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=2)
    results = run_concurrently(lamina.endpoint, 5, FunctionName=name, Payload=b'{"seconds": 1.5}')
    ok = [r for r in results if isinstance(r, dict)]
    throttled = [r for r in results if isinstance(r, ClientError)]
    assert len(ok) == 2, results
    assert all(r["StatusCode"] == 200 and "FunctionError" not in r for r in ok), ok
    assert all(json.loads(r["Body"]) == {"slept": 1.5} for r in ok)
    assert len(throttled) == 3, results
    for e in throttled:
        assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 429
        assert e.response["Error"]["Code"] == "TooManyRequestsException"
        assert _throttle_reason(e) == "ReservedFunctionConcurrentInvocationLimitExceeded", e.response


def test_account_concurrency_pool(dedicated_server):
    server = dedicated_server(account_concurrency=3)
    lam = support.lambda_client(server.endpoint)
    name = create(lam, "python", "app.sleep", prefix="acct", timeout=10)
    results = run_concurrently(server.endpoint, 5, FunctionName=name, Payload=b'{"seconds": 1.5}')
    ok = [r for r in results if isinstance(r, dict)]
    throttled = [r for r in results if isinstance(r, ClientError)]
    assert len(ok) == 3, results
    assert all("FunctionError" not in r for r in ok), ok
    assert len(throttled) == 2, results
    for e in throttled:
        assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 429
        assert e.response["Error"]["Code"] == "TooManyRequestsException"
        assert _throttle_reason(e) == "ConcurrentInvocationLimitExceeded", e.response


# ---------------------------------------------------------------------------------------------
# 9. DryRun and Pending
# ---------------------------------------------------------------------------------------------


def test_dry_run(lam, py_echo):
    resp, body = invoke(lam, py_echo, {}, InvocationType="DryRun")
    assert resp["StatusCode"] == 204
    assert body == b""
    assert "FunctionError" not in resp


def test_cli_dry_run(aws, py_echo, tmp_path):
    rc, meta, err = aws("invoke", "--function-name", py_echo, "--invocation-type", "DryRun", "out.json",
                        cwd=tmp_path)
    assert rc == 0, err
    assert meta["StatusCode"] == 204


def test_dry_run_of_missing_function_is_404(lam):
    name = support.unique("missing")
    with pytest.raises(ClientError) as ei:
        lam.invoke(FunctionName=name, InvocationType="DryRun")
    status, code, _, _ = client_error(ei)
    assert (status, code) == (404, "ResourceNotFoundException")


def test_invoke_while_pending_is_409(dedicated_server):
    server = dedicated_server(update_delay_ms=1500)
    lam = support.lambda_client(server.endpoint)
    name = create(lam, "shell", "ignored", prefix="pending", wait=False)
    with pytest.raises(ClientError) as ei:
        lam.invoke(FunctionName=name, Payload=b"{}")
    status, code, message, _ = client_error(ei)
    assert (status, code) == (409, "ResourceConflictException")
    assert "Pending" in message, message
    wait_ready(lam, name)
    resp, body = invoke(lam, name, b'{"after": "active"}')
    assert resp["StatusCode"] == 200 and body == b'{"after": "active"}'


# ---------------------------------------------------------------------------------------------
# 10. Memory size
# ---------------------------------------------------------------------------------------------


def test_memory_size_in_report_and_environment(lam):
    name = create(lam, "python", "app.env", prefix="mem", memory=256)
    resp, body = invoke(lam, name, {}, LogType="Tail")
    assert json.loads(body)["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "256"
    text = tail(resp)
    assert "\tMemory Size: 256 MB\t" in text, report_line(text)
    m = report_re(request_id(resp), memory=256, init=None).search(tolerate_last_tab(text))
    assert m, report_line(text)
    assert 0 < int(m["used"]) < 256


def test_memory_limit_follows_memory_size(lam):
    """160 MB fits in a 256 MB function (it would not in 128 MB): the limit is MemorySize."""
    name = create(lam, "python", "app.oom", prefix="mem256", memory=256, timeout=30)
    resp, body = invoke(lam, name, {"max_mb": 160}, LogType="Tail")
    assert "FunctionError" not in resp, body
    assert json.loads(body) == {"survived_mb": 160}
    m = report_re(request_id(resp), memory=256, init=None).search(tolerate_last_tab(tail(resp)))
    assert m, report_line(tail(resp))
    assert 160 <= int(m["used"]) <= 256, f"Max Memory Used {m['used']} MB after holding 160 MB"


def test_python_functions_import_the_sdk_the_runtime_ships(lam):
    """AWS's Python runtimes include boto3; a function that imports it (and builds its client at init,
    outside the handler, as the best practices say) runs unmodified, and init runs once."""
    name = create(lam, "python", "sdk_app.handler", prefix="sdk", memory=256, timeout=15)
    resp, body = invoke(lam, name, {})
    assert "FunctionError" not in resp, body[:500]
    first = json.loads(body)
    assert first["client"] == "Lambda" and first["boto3"].startswith("1.")
    _, body = invoke(lam, name, {})
    assert json.loads(body)["inits"] == 1
