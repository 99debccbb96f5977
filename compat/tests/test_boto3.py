"""boto3 1.44.8 against a real Lamina server: status codes, field presence, waiters, paginators,
preconditions, validation messages, SigV4, regions, accounts, restarts and encryption at rest.

Every expectation comes from the wire contract (reference/lambda-surface.md, cited as §n.n);
AWS's exact wording is asserted wherever the reference records it.
"""

from __future__ import annotations

import base64
import json
import re

import pytest
from botocore.exceptions import ClientError

import support
from support import (
    DEV_ACCOUNT,
    LAST_MODIFIED_RE,
    REGION,
    ROLE,
    UUID_RE,
    b64sha256,
    fetch,
    fn_arn,
    layer_arn,
    make_zip,
    strip_metadata,
    unique,
)

FAST = {"Delay": 0.25, "MaxAttempts": 120}

# §1.1: members every FunctionConfiguration of a Zip function carries.
ALWAYS = {
    "FunctionName", "FunctionArn", "Runtime", "Role", "Handler", "CodeSize", "Description", "Timeout",
    "MemorySize", "LastModified", "CodeSha256", "Version", "RevisionId", "PackageType", "Architectures",
    "EphemeralStorage", "TracingConfig", "SnapStart", "LoggingConfig",
}
# §1.1: what ListFunctions / ListVersionsByFunction entries leave out.
LIST_OMITS = {
    "State", "StateReason", "StateReasonCode", "LastUpdateStatus", "LastUpdateStatusReason",
    "LastUpdateStatusReasonCode", "RuntimeVersionConfig",
}
RUNTIME_VERSION_ARN_RE = re.compile(r"^arn:aws:lambda:us-east-1::runtime:[0-9a-f]{64}$")

PRECONDITION_MSG = (
    "The Revision Id provided does not match the latest Revision Id. "
    "Call the GetFunction/GetAlias API to retrieve the latest Revision Id"
)


# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------


def status(resp) -> int:
    return resp["ResponseMetadata"]["HTTPStatusCode"]


def create(lam, name=None, zip_bytes=None, **kw):
    params = dict(
        FunctionName=name or unique(), Runtime="python3.12", Role=ROLE, Handler="app.handler",
        Code={"ZipFile": zip_bytes if zip_bytes is not None else make_zip()},
    )
    params.update(kw)
    return lam.create_function(**params)


def create_active(lam, name=None, **kw):
    """CreateFunction, then the function_active_v2 waiter, as a client would; returns (name, create response)."""
    name = name or unique()
    resp = create(lam, name, **kw)
    lam.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig=FAST)
    return name, resp


def wait_updated(lam, name):
    lam.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig=FAST)


def expect_error(call, *args, status_code: int, code: str, message: str | None = None,
                 message_prefix: str | None = None, **kwargs) -> dict:
    """Calls `call`, asserts it fails with exactly this status, error code and message; returns the response."""
    with pytest.raises(ClientError) as ei:
        call(*args, **kwargs)
    resp = ei.value.response
    got = (resp["ResponseMetadata"]["HTTPStatusCode"], resp["Error"]["Code"])
    assert got == (status_code, code), f"expected {(status_code, code)}, got {got}: {resp['Error'].get('Message')!r}"
    if message is not None:
        assert resp["Error"]["Message"] == message
    if message_prefix is not None:
        assert resp["Error"]["Message"].startswith(message_prefix), resp["Error"]["Message"]
    return resp


def not_found_msg(name, qualifier=None):
    return f"Function not found: {fn_arn(name, qualifier)}"


def assert_absent(lam, name):
    """The function does not exist (after a rejected create)."""
    expect_error(lam.get_function, FunctionName=name, status_code=404, code="ResourceNotFoundException",
                 message=not_found_msg(name))


def check_common(cfg: dict, name: str):
    missing = ALWAYS - cfg.keys()
    assert not missing, f"missing members {sorted(missing)} in {sorted(cfg)}"
    assert cfg["FunctionName"] == name
    assert LAST_MODIFIED_RE.match(cfg["LastModified"]), cfg["LastModified"]
    assert UUID_RE.match(cfg["RevisionId"]), cfg["RevisionId"]
    assert len(cfg["CodeSha256"]) == 44 and cfg["CodeSha256"].endswith("=")
    assert cfg["PackageType"] == "Zip"
    assert cfg["LoggingConfig"] == {"LogFormat": "Text", "LogGroup": f"/aws/lambda/{name}"}
    assert cfg["SnapStart"] == {"ApplyOn": "None", "OptimizationStatus": "Off"}
    assert cfg["TracingConfig"] == {"Mode": "PassThrough"}


def check_list_entry(entry: dict, name: str):
    check_common(entry, name)
    present = LIST_OMITS & entry.keys()
    assert not present, f"list entries must omit {sorted(present)}"


def no_nulls(obj, path="$"):
    """AWS never sends JSON null (§0.1): walk a decoded body and fail on the first None."""
    if obj is None:
        raise AssertionError(f"null at {path}")
    if isinstance(obj, dict):
        for k, v in obj.items():
            no_nulls(v, f"{path}.{k}")
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            no_nulls(v, f"{path}[{i}]")


def config_snapshot(lam, name, qualifier=None):
    kw = {"FunctionName": name}
    if qualifier:
        kw["Qualifier"] = qualifier
    return strip_metadata(lam.get_function_configuration(**kw))


# ---------------------------------------------------------------------------------------------
# CreateFunction / GetFunction / GetFunctionConfiguration (§1.1)
# ---------------------------------------------------------------------------------------------


def test_create_function_response(lam):
    name = unique()
    code = make_zip()
    resp = create(lam, name, code)
    assert status(resp) == 201
    check_common(resp, name)
    assert resp["FunctionArn"] == fn_arn(name)
    assert resp["Version"] == "$LATEST"
    assert resp["State"] == "Pending"
    assert resp["StateReason"] == "The function is being created."
    assert resp["StateReasonCode"] == "Creating"
    assert "LastUpdateStatus" not in resp
    assert resp["CodeSha256"] == b64sha256(code)
    assert resp["CodeSize"] == len(code)
    assert resp["Role"] == ROLE and resp["Runtime"] == "python3.12" and resp["Handler"] == "app.handler"
    assert resp["Description"] == "" and resp["Timeout"] == 3 and resp["MemorySize"] == 128
    assert resp["Architectures"] == ["x86_64"] and resp["EphemeralStorage"] == {"Size": 512}
    assert RUNTIME_VERSION_ARN_RE.match(resp["RuntimeVersionConfig"]["RuntimeVersionArn"])
    for absent in ("Environment", "VpcConfig", "Layers", "DeadLetterConfig", "KMSKeyArn", "MasterArn"):
        assert absent not in resp, f"{absent} must be absent when never set"


def test_get_function_after_active(lam, endpoint):
    code = make_zip({"app.py": support.HANDLER_PY, "lib/data.txt": "payload " * 100})
    name, created = create_active(lam, zip_bytes=code)
    resp = lam.get_function(FunctionName=name)
    assert status(resp) == 200
    cfg = resp["Configuration"]
    check_common(cfg, name)
    assert cfg["State"] == "Active"
    assert cfg["LastUpdateStatus"] == "Successful"
    for gone in ("StateReason", "StateReasonCode", "LastUpdateStatusReason", "LastUpdateStatusReasonCode"):
        assert gone not in cfg
    assert cfg["FunctionArn"] == fn_arn(name) and cfg["Version"] == "$LATEST"
    assert cfg["CodeSha256"] == b64sha256(code) == created["CodeSha256"]
    assert resp["Code"]["RepositoryType"] == "S3"
    location = resp["Code"]["Location"]
    assert location.startswith(endpoint + "/"), f"Code.Location {location!r} is not served by Lamina"
    got_status, body = fetch(location)
    assert got_status == 200 and body == code
    assert b64sha256(body) == cfg["CodeSha256"]
    assert "Tags" not in resp, "Tags only when the function has at least one"
    assert "Concurrency" not in resp, "Concurrency only when reserved concurrency is set"


def test_code_location_cannot_be_forged(lam):
    """Code.Location needs no credentials, so it must not work once altered (nor for another function)."""
    code = make_zip({"app.py": "SECRET_CODE = 1\n"})
    name, _ = create_active(lam, zip_bytes=code)
    location = lam.get_function(FunctionName=name)["Code"]["Location"]
    assert fetch(location) == (200, code)
    last = location[-1]
    forged = location[:-1] + ("0" if last != "0" else "1")
    status_code, body = fetch(forged)
    assert status_code != 200 and body != code
    if "?" in location:
        status_code, body = fetch(location.split("?", 1)[0])
        assert status_code != 200 and body != code


def test_get_function_configuration_matches_get_function(lam):
    name, _ = create_active(lam)
    full = lam.get_function(FunctionName=name)["Configuration"]
    cfg = lam.get_function_configuration(FunctionName=name)
    assert status(cfg) == 200
    assert strip_metadata(cfg) == full


def test_function_name_forms_and_latest_qualifier(lam):
    name, _ = create_active(lam)
    for form in (name, f"{DEV_ACCOUNT}:function:{name}", fn_arn(name)):
        cfg = lam.get_function(FunctionName=form)["Configuration"]
        assert cfg["FunctionArn"] == fn_arn(name), form
    q = lam.get_function(FunctionName=name, Qualifier="$LATEST")["Configuration"]
    assert q["FunctionArn"] == fn_arn(name, "$LATEST") and q["Version"] == "$LATEST"
    q = lam.get_function_configuration(FunctionName=fn_arn(name, "$LATEST"))
    assert q["FunctionArn"] == fn_arn(name, "$LATEST")


def test_unknown_qualifier_and_lowercase_latest(lam):
    name, _ = create_active(lam)
    for q in ("nope", "$latest", "42"):
        expect_error(lam.get_function, FunctionName=name, Qualifier=q, status_code=404,
                     code="ResourceNotFoundException", message=not_found_msg(name, q))


def test_qualifier_mismatch(lam):
    name, _ = create_active(lam)
    lam.publish_version(FunctionName=name)
    expect_error(lam.get_function, FunctionName=fn_arn(name, "1"), Qualifier="$LATEST", status_code=400,
                 code="InvalidParameterValueException",
                 message="The derived qualifier from the function name does not match the specified qualifier.")


def test_missing_function_errors(lam):
    name = unique("missing")
    msg = not_found_msg(name)
    for call, kw in (
        (lam.get_function, {}),
        (lam.get_function_configuration, {}),
        (lam.delete_function, {}),
        (lam.update_function_configuration, {"MemorySize": 256}),
        (lam.update_function_code, {"ZipFile": make_zip()}),
        (lam.publish_version, {}),
        (lam.list_versions_by_function, {}),
        (lam.delete_function, {"Qualifier": "1"}),
    ):
        resp = expect_error(call, FunctionName=name, status_code=404, code="ResourceNotFoundException", **kw)
        assert resp["Error"]["Message"] == msg, call
        assert resp.get("Type") == "User"


def test_error_wire_shape(endpoint):
    """§0.3: status, x-amzn-ErrorType, JSON content type, request id and the Type/Message body."""
    name = unique("missing")
    st, headers, body = support.signed_request(endpoint, "GET", f"/2015-03-31/functions/{name}")
    assert st == 404
    assert headers.get("x-amzn-errortype", "").split(":")[0] == "ResourceNotFoundException"
    assert headers.get("content-type", "").startswith("application/json")
    assert UUID_RE.match(headers.get("x-amzn-requestid", "")), headers
    doc = json.loads(body)
    assert doc == {"Type": "User", "Message": not_found_msg(name)}


def test_success_wire_shape_has_no_nulls(lam, endpoint):
    name, _ = create_active(lam)
    st, headers, body = support.signed_request(endpoint, "GET", f"/2015-03-31/functions/{name}")
    assert st == 200
    assert headers.get("content-type", "").startswith("application/json")
    assert UUID_RE.match(headers.get("x-amzn-requestid", ""))
    no_nulls(json.loads(body))
    st, _, body = support.signed_request(endpoint, "GET", "/2015-03-31/functions?MaxItems=5")
    assert st == 200
    no_nulls(json.loads(body))


def test_bodies_the_clients_send(lam, endpoint):
    """§0.1: an empty body without Content-Type equals `{}`; unknown JSON members are ignored."""
    name, _ = create_active(lam)
    st, _, body = support.signed_request(endpoint, "POST", f"/2015-03-31/functions/{name}/versions", b"")
    assert st == 201 and json.loads(body)["Version"] == "1"
    st, _, body = support.signed_request(endpoint, "POST", f"/2015-03-31/functions/{name}/versions", b"{}")
    assert st == 201 and json.loads(body)["Version"] == "1"
    other = unique()
    doc = {"FunctionName": other, "Runtime": "python3.12", "Role": ROLE, "Handler": "app.handler",
           "Code": {"ZipFile": base64.b64encode(make_zip()).decode()}, "PublishTo": "LATEST_PUBLISHED",
           "SomeFutureMember": {"x": 1}}
    st, _, body = support.signed_request(endpoint, "POST", "/2015-03-31/functions", json.dumps(doc).encode())
    assert st == 201, body
    assert json.loads(body)["FunctionName"] == other


def test_oversized_zip_and_request(lam_raw, lam):
    """§7.8 [R]: the zipped-size limit (checked first), then the whole-request limit; both 413."""
    name = unique("big")
    blob = bytes(52_428_801)  # one byte over 50 MB; not even a zip: the size check comes first
    expect_error(lam_raw.create_function, FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="app.handler",
                 Code={"ZipFile": blob}, status_code=413, code="RequestEntityTooLargeException",
                 message="Zipped size must be smaller than 52428800 bytes")
    assert_absent(lam, name)
    victim, _ = create_active(lam)
    before = config_snapshot(lam, victim)
    expect_error(lam_raw.update_function_code, FunctionName=victim, ZipFile=blob, status_code=413,
                 code="RequestEntityTooLargeException", message="Zipped size must be smaller than 52428800 bytes")
    assert config_snapshot(lam, victim) == before


def test_oversized_request_body(lam, lam_raw):
    name = unique("big")
    expect_error(lam_raw.create_function, FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="app.handler",
                 Code={"ZipFile": make_zip()}, Description="d" * 70_167_300, status_code=413,
                 code="RequestEntityTooLargeException",
                 message="Request must be smaller than 70167211 bytes for the CreateFunction operation")
    assert_absent(lam, name)


def test_zipped_size_is_checked_before_request_size(lam, lam_raw):
    """§7 [R]: a 53 MB zip makes the body exceed 70167211 bytes too, but AWS names the zipped-size limit."""
    name = unique("big")
    expect_error(lam_raw.create_function, FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="app.handler",
                 Code={"ZipFile": bytes(53_000_000)}, status_code=413, code="RequestEntityTooLargeException",
                 message="Zipped size must be smaller than 52428800 bytes")
    assert_absent(lam, name)


def test_duplicate_create(lam):
    name, _ = create_active(lam)
    before = config_snapshot(lam, name)
    expect_error(create, lam, name, status_code=409, code="ResourceConflictException",
                 message=f"Function already exist: {name}")
    assert config_snapshot(lam, name) == before


def test_create_with_publish(lam):
    name = unique()
    resp = create(lam, name, Publish=True)
    assert status(resp) == 201
    assert resp["Version"] == "1" and resp["FunctionArn"] == fn_arn(name)
    lam.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig=FAST)
    versions = [v["Version"] for v in lam.list_versions_by_function(FunctionName=name)["Versions"]]
    assert versions == ["$LATEST", "1"]


def test_create_with_every_common_option(lam):
    name = unique()
    resp = create(
        lam, name, Description="full options", Timeout=30, MemorySize=512, Architectures=["arm64"],
        EphemeralStorage={"Size": 1024}, Environment={"Variables": {"A_KEY": "a", "B_KEY": "b"}},
        TracingConfig={"Mode": "Active"}, Tags={"team": "compat"},
    )
    assert status(resp) == 201
    assert resp["Description"] == "full options" and resp["Timeout"] == 30 and resp["MemorySize"] == 512
    assert resp["Architectures"] == ["arm64"] and resp["EphemeralStorage"] == {"Size": 1024}
    assert resp["Environment"] == {"Variables": {"A_KEY": "a", "B_KEY": "b"}}
    assert resp["TracingConfig"] == {"Mode": "Active"}
    lam.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig=FAST)
    got = lam.get_function(FunctionName=name)
    assert got["Tags"] == {"team": "compat"}
    assert got["Configuration"]["Environment"] == {"Variables": {"A_KEY": "a", "B_KEY": "b"}}


def test_empty_environment_is_kept(lam):
    name, resp = create_active(lam, Environment={"Variables": {}})
    assert resp["Environment"] == {"Variables": {}}
    assert lam.get_function_configuration(FunctionName=name)["Environment"] == {"Variables": {}}


def test_accepted_but_unusual_env_keys(lam):
    """§7.3: LANG, PATH, LD_LIBRARY_PATH, AWS_LAMBDA_EXEC_WRAPPER, AWS_XRAY_* are not reserved."""
    env = {"LANG": "C.UTF-8", "PATH": "/usr/bin", "LD_LIBRARY_PATH": "/opt/lib",
           "AWS_LAMBDA_EXEC_WRAPPER": "/opt/wrap", "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR"}
    name, resp = create_active(lam, Environment={"Variables": env})
    assert resp["Environment"]["Variables"] == env


# ---------------------------------------------------------------------------------------------
# UpdateFunctionConfiguration / UpdateFunctionCode / DeleteFunction
# ---------------------------------------------------------------------------------------------


def check_update_response(resp, before_revision):
    assert status(resp) == 200
    assert resp["RevisionId"] != before_revision
    assert resp["State"] == "Active"
    # §1.6: InProgress (with the "created" reason, as AWS words it) or Successful at once.
    if resp["LastUpdateStatus"] == "InProgress":
        assert resp["LastUpdateStatusReason"] == "The function is being created."
        assert resp["LastUpdateStatusReasonCode"] == "Creating"
    else:
        assert resp["LastUpdateStatus"] == "Successful"


def test_update_function_configuration(lam):
    name, created = create_active(lam, Environment={"Variables": {"OLD_KEY": "1"}})
    rev = lam.get_function_configuration(FunctionName=name)["RevisionId"]
    resp = lam.update_function_configuration(
        FunctionName=name, MemorySize=256, Timeout=60, Description="updated", Handler="app.other",
        Environment={"Variables": {"NEW_KEY": "2", "OTHER": "x"}},
    )
    check_update_response(resp, rev)
    assert resp["MemorySize"] == 256 and resp["Timeout"] == 60 and resp["Description"] == "updated"
    wait_updated(lam, name)
    cfg = lam.get_function_configuration(FunctionName=name)
    assert cfg["LastUpdateStatus"] == "Successful"
    assert "LastUpdateStatusReason" not in cfg
    assert cfg["MemorySize"] == 256 and cfg["Timeout"] == 60 and cfg["Handler"] == "app.other"
    # §1.1: Environment replaces the whole map.
    assert cfg["Environment"] == {"Variables": {"NEW_KEY": "2", "OTHER": "x"}}
    assert cfg["CodeSha256"] == created["CodeSha256"], "a configuration update keeps the code"
    assert LAST_MODIFIED_RE.match(cfg["LastModified"])


def test_update_configuration_omitted_members_unchanged(lam):
    name, _ = create_active(lam, MemorySize=384, Timeout=20, Environment={"Variables": {"KEEP": "me"}})
    lam.update_function_configuration(FunctionName=name, Description="only this")
    wait_updated(lam, name)
    cfg = lam.get_function_configuration(FunctionName=name)
    assert cfg["MemorySize"] == 384 and cfg["Timeout"] == 20
    assert cfg["Environment"] == {"Variables": {"KEEP": "me"}}
    assert cfg["Description"] == "only this"


def test_redundant_update_changes_revision(lam):
    name, _ = create_active(lam)
    rev = lam.get_function_configuration(FunctionName=name)["RevisionId"]
    resp = lam.update_function_configuration(FunctionName=name, MemorySize=128)
    check_update_response(resp, rev)


def test_logging_config_merge(lam, lam_raw):
    """§1.1 [R]: LoggingConfig updates merge; JSON brings INFO levels, Text drops them."""
    name, created = create_active(lam)
    default_group = f"/aws/lambda/{name}"
    assert created["LoggingConfig"] == {"LogFormat": "Text", "LogGroup": default_group}

    def update(cfg):
        lam.update_function_configuration(FunctionName=name, LoggingConfig=cfg)
        wait_updated(lam, name)
        return lam.get_function_configuration(FunctionName=name)["LoggingConfig"]

    assert update({"LogFormat": "JSON"}) == {"LogFormat": "JSON", "LogGroup": default_group,
                                             "ApplicationLogLevel": "INFO", "SystemLogLevel": "INFO"}
    assert update({"LogGroup": "cool_lambda"}) == {"LogFormat": "JSON", "LogGroup": "cool_lambda",
                                                   "ApplicationLogLevel": "INFO", "SystemLogLevel": "INFO"}
    assert update({"ApplicationLogLevel": "DEBUG"}) == {"LogFormat": "JSON", "LogGroup": "cool_lambda",
                                                        "ApplicationLogLevel": "DEBUG", "SystemLogLevel": "INFO"}
    assert update({"LogFormat": "Text"}) == {"LogFormat": "Text", "LogGroup": "cool_lambda"}
    before = config_snapshot(lam, name)
    expect_error(lam_raw.update_function_configuration, FunctionName=name,
                 LoggingConfig={"LogFormat": "Text", "ApplicationLogLevel": "DEBUG"}, status_code=400,
                 code="InvalidParameterValueException")
    assert config_snapshot(lam, name) == before

    other, resp = create_active(lam, LoggingConfig={"LogFormat": "JSON", "SystemLogLevel": "WARN"})
    assert resp["LoggingConfig"] == {"LogFormat": "JSON", "LogGroup": f"/aws/lambda/{other}",
                                     "ApplicationLogLevel": "INFO", "SystemLogLevel": "WARN"}


def test_update_function_code(lam, endpoint):
    name, created = create_active(lam)
    new_code = make_zip({"app.py": "def handler(e, c):\n    return 'v2'\n"})
    rev = lam.get_function_configuration(FunctionName=name)["RevisionId"]
    resp = lam.update_function_code(FunctionName=name, ZipFile=new_code)
    check_update_response(resp, rev)
    assert resp["CodeSha256"] == b64sha256(new_code) != created["CodeSha256"]
    assert resp["CodeSize"] == len(new_code)
    assert resp["FunctionArn"] == fn_arn(name) and resp["Version"] == "$LATEST"
    wait_updated(lam, name)
    got = lam.get_function(FunctionName=name)
    assert got["Configuration"]["CodeSha256"] == b64sha256(new_code)
    assert fetch(got["Code"]["Location"]) == (200, new_code)


def test_update_function_code_publish(lam):
    name, _ = create_active(lam)
    new_code = make_zip({"app.py": "def handler(e, c):\n    return 'published'\n"})
    resp = lam.update_function_code(FunctionName=name, ZipFile=new_code, Publish=True)
    assert status(resp) == 200
    assert resp["Version"] == "1" and resp["FunctionArn"] == fn_arn(name, "1")
    assert resp["CodeSha256"] == b64sha256(new_code)
    # §1.1 [R]: the new version's configuration, still Pending, without LastUpdateStatus.
    assert resp["State"] == "Pending" and resp["StateReason"] == "The function is being created."
    assert "LastUpdateStatus" not in resp
    lam.get_waiter("published_version_active").wait(FunctionName=name, Qualifier="1", WaiterConfig=FAST)
    v1 = lam.get_function_configuration(FunctionName=name, Qualifier="1")
    assert v1["CodeSha256"] == b64sha256(new_code) and v1["State"] == "Active"


def test_update_code_switches_architecture(lam):
    name, _ = create_active(lam)
    resp = lam.update_function_code(FunctionName=name, ZipFile=make_zip(), Architectures=["arm64"])
    assert resp["Architectures"] == ["arm64"]
    wait_updated(lam, name)
    assert lam.get_function_configuration(FunctionName=name)["Architectures"] == ["arm64"]


def test_update_runtime(lam):
    name, _ = create_active(lam)
    lam.update_function_configuration(FunctionName=name, Runtime="python3.13")
    wait_updated(lam, name)
    assert lam.get_function_configuration(FunctionName=name)["Runtime"] == "python3.13"


def test_update_code_dry_run_changes_nothing(lam):
    name, created = create_active(lam)
    before = config_snapshot(lam, name)
    resp = lam.update_function_code(FunctionName=name, ZipFile=make_zip({"x.py": "x = 1\n"}), DryRun=True)
    assert status(resp) == 200
    assert config_snapshot(lam, name) == before


def test_delete_function(lam):
    name, _ = create_active(lam)
    lam.publish_version(FunctionName=name)
    resp = lam.delete_function(FunctionName=name)
    assert status(resp) == 204
    assert_absent(lam, name)
    expect_error(lam.get_function, FunctionName=name, Qualifier="1", status_code=404,
                 code="ResourceNotFoundException")
    expect_error(lam.delete_function, FunctionName=name, status_code=404, code="ResourceNotFoundException",
                 message=not_found_msg(name))
    # The name is free again.
    assert status(create(lam, name)) == 201


def test_delete_function_qualifiers(lam):
    name, _ = create_active(lam)
    lam.publish_version(FunctionName=name)
    lam.update_function_configuration(FunctionName=name, MemorySize=256)
    wait_updated(lam, name)
    lam.publish_version(FunctionName=name)
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="2")
    expect_error(lam.delete_function, FunctionName=name, Qualifier="$LATEST", status_code=400,
                 code="InvalidParameterValueException",
                 message="$LATEST version cannot be deleted without deleting the function.")
    expect_error(lam.delete_function, FunctionName=name, Qualifier="live", status_code=400,
                 code="InvalidParameterValueException", message="Deletion of aliases is not currently supported.")
    assert status(lam.delete_function(FunctionName=name, Qualifier="1")) == 204
    versions = [v["Version"] for v in lam.list_versions_by_function(FunctionName=name)["Versions"]]
    assert versions == ["$LATEST", "2"]
    assert lam.get_function(FunctionName=name)["Configuration"]["MemorySize"] == 256


def test_version_keeps_its_code(lam):
    old = make_zip({"app.py": "def handler(e, c):\n    return 'old'\n"})
    name, _ = create_active(lam, zip_bytes=old)
    lam.publish_version(FunctionName=name)
    new = make_zip({"app.py": "def handler(e, c):\n    return 'new'\n"})
    lam.update_function_code(FunctionName=name, ZipFile=new)
    wait_updated(lam, name)
    v1 = lam.get_function(FunctionName=name, Qualifier="1")
    assert v1["Configuration"]["CodeSha256"] == b64sha256(old)
    assert fetch(v1["Code"]["Location"]) == (200, old)
    latest = lam.get_function(FunctionName=name)
    assert fetch(latest["Code"]["Location"]) == (200, new)


def test_delete_function_removes_everything_attached(lam):
    name, _ = create_active(lam, Tags={"gone": "soon"})
    lam.publish_version(FunctionName=name)
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    lam.add_permission(FunctionName=name, StatementId="s", Action="lambda:InvokeFunction", Principal="*")
    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=3)
    count = lam.get_account_settings()["AccountUsage"]["FunctionCount"]
    assert status(lam.delete_function(FunctionName=name)) == 204
    assert lam.get_account_settings()["AccountUsage"]["FunctionCount"] == count - 1
    # A new function under the same name starts clean.
    create_active(lam, name)
    assert lam.list_aliases(FunctionName=name)["Aliases"] == []
    assert [v["Version"] for v in lam.list_versions_by_function(FunctionName=name)["Versions"]] == ["$LATEST"]
    assert lam.list_tags(Resource=fn_arn(name))["Tags"] == {}
    assert strip_metadata(lam.get_function_concurrency(FunctionName=name)) == {}
    expect_error(lam.get_policy, FunctionName=name, status_code=404, code="ResourceNotFoundException",
                 message="The resource you requested does not exist.")
    assert lam.publish_version(FunctionName=name)["Version"] == "1", "version numbers restart with the function"


def test_health_endpoint_needs_no_signature(endpoint):
    st, _, _ = support.http_request("GET", f"{endpoint}/_lamina/health")
    assert st == 200


def test_error_body_casing(lam, endpoint):
    """§0.3: each exception carries its own message key, and `Type` only where AWS sends it."""
    name, _ = create_active(lam)
    body = json.dumps({"FunctionName": name, "Runtime": "python3.12", "Role": ROLE, "Handler": "app.handler",
                       "Code": {"ZipFile": base64.b64encode(make_zip()).decode()}}).encode()
    st, headers, raw = support.signed_request(endpoint, "POST", "/2015-03-31/functions", body)
    assert st == 409 and headers["x-amzn-errortype"].split(":")[0] == "ResourceConflictException"
    assert json.loads(raw) == {"Type": "User", "message": f"Function already exist: {name}"}

    body = json.dumps({"MemorySize": 10241}).encode()
    st, headers, raw = support.signed_request(endpoint, "PUT", f"/2015-03-31/functions/{name}/configuration", body)
    assert st == 400 and headers["x-amzn-errortype"].split(":")[0] == "ValidationException"
    assert json.loads(raw) == {"message": coral("10241", "memorySize",
                                                "Member must have value less than or equal to 10240")}

    body = json.dumps({"Environment": {"Variables": {"AWS_REGION": "x"}}}).encode()
    st, headers, raw = support.signed_request(endpoint, "PUT", f"/2015-03-31/functions/{name}/configuration", body)
    assert st == 400 and headers["x-amzn-errortype"].split(":")[0] == "InvalidParameterValueException"
    assert json.loads(raw) == {"Type": "User", "message": RESERVED_MSG + "AWS_REGION"}

    body = json.dumps({"RevisionId": "00000000-0000-4000-8000-000000000000"}).encode()
    st, headers, raw = support.signed_request(endpoint, "POST", f"/2015-03-31/functions/{name}/versions", body)
    assert st == 412 and headers["x-amzn-errortype"].split(":")[0] == "PreconditionFailedException"
    assert json.loads(raw) == {"Type": "User", "message": PRECONDITION_MSG}


def test_list_functions_page_is_capped_at_50(server_factory):
    """§1.1: at most 50 per page even when MaxItems asks for more."""
    server = server_factory()
    lam = support.lambda_client(server.endpoint)
    for i in range(55):
        create(lam, f"cap-{i:02d}")
    page = lam.list_functions(MaxItems=100)
    assert len(page["Functions"]) == 50 and "NextMarker" in page
    rest = lam.list_functions(MaxItems=100, Marker=page["NextMarker"])
    assert len(rest["Functions"]) == 5 and "NextMarker" not in rest
    names = [f["FunctionName"] for f in page["Functions"] + rest["Functions"]]
    assert sorted(names) == [f"cap-{i:02d}" for i in range(55)]


def test_max_items_out_of_range(lam_raw):
    for call in (lam_raw.list_functions, lam_raw.list_layers):
        expect_error(call, MaxItems=0, status_code=400, code="ValidationException")


# ---------------------------------------------------------------------------------------------
# ListFunctions (§1.1) and paginators
# ---------------------------------------------------------------------------------------------


def test_list_functions_entries(lam):
    name, _ = create_active(lam, Environment={"Variables": {"LISTED": "yes"}})
    lam.publish_version(FunctionName=name)
    resp = lam.list_functions()
    assert status(resp) == 200
    entries = [f for f in resp["Functions"] if f["FunctionName"] == name]
    if not entries and "NextMarker" in resp:
        entries = [f for p in lam.get_paginator("list_functions").paginate() for f in p["Functions"]
                   if f["FunctionName"] == name]
    assert len(entries) == 1, "default listing has one entry per function ($LATEST)"
    entry = entries[0]
    check_list_entry(entry, name)
    assert entry["FunctionArn"] == fn_arn(name) and entry["Version"] == "$LATEST"
    assert entry["Environment"] == {"Variables": {"LISTED": "yes"}}

    every = [f for p in lam.get_paginator("list_functions").paginate(FunctionVersion="ALL")
             for f in p["Functions"] if f["FunctionName"] == name]
    assert sorted(f["FunctionArn"] for f in every) == sorted([fn_arn(name, "$LATEST"), fn_arn(name, "1")])
    for f in every:
        check_list_entry(f, name)


def test_list_functions_invalid_function_version(lam_raw):
    expect_error(lam_raw.list_functions, FunctionVersion="invalid", status_code=400, code="ValidationException",
                 message="1 validation error detected: Value 'invalid' at 'functionVersion' failed to satisfy "
                         "constraint: Member must satisfy enum value set: [ALL]")


def test_list_functions_paginator(lam):
    prefix = unique("page")
    names = {f"{prefix}-{i}" for i in range(5)}
    for n in names:
        create(lam, n)
    pages = list(lam.get_paginator("list_functions").paginate(PaginationConfig={"PageSize": 2}))
    seen = [f["FunctionName"] for p in pages for f in p["Functions"]]
    assert len(seen) == len(set(seen)), "no function listed twice across pages"
    assert names <= set(seen)
    assert all(len(p["Functions"]) <= 2 for p in pages)
    assert "NextMarker" not in pages[-1], "the last page has no NextMarker"
    assert all("NextMarker" in p for p in pages[:-1])
    # MaxItems caps the total and hands back a resume token.
    capped = lam.get_paginator("list_functions").paginate(PaginationConfig={"MaxItems": 3, "PageSize": 2})
    result = capped.build_full_result()
    assert len(result["Functions"]) == 3 and "NextToken" in result


def test_list_functions_marker_round_trip(lam):
    for _ in range(3):
        create(lam)
    first = lam.list_functions(MaxItems=1)
    assert len(first["Functions"]) == 1 and "NextMarker" in first
    second = lam.list_functions(MaxItems=1, Marker=first["NextMarker"])
    assert len(second["Functions"]) == 1
    assert second["Functions"][0]["FunctionName"] != first["Functions"][0]["FunctionName"]


# ---------------------------------------------------------------------------------------------
# Waiters (§1.5 / §1.6)
# ---------------------------------------------------------------------------------------------


def test_waiters(lam):
    name = unique()
    create(lam, name)
    lam.get_waiter("function_exists").wait(FunctionName=name, WaiterConfig=FAST)
    lam.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig=FAST)
    lam.get_waiter("function_active").wait(FunctionName=name, WaiterConfig=FAST)
    lam.update_function_configuration(FunctionName=name, Timeout=9)
    lam.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig=FAST)
    lam.get_waiter("function_updated").wait(FunctionName=name, WaiterConfig=FAST)
    v = lam.publish_version(FunctionName=name)["Version"]
    lam.get_waiter("published_version_active").wait(FunctionName=name, Qualifier=v, WaiterConfig=FAST)


def test_function_exists_waiter_times_out_for_missing(lam):
    from botocore.exceptions import WaiterError

    with pytest.raises(WaiterError):
        lam.get_waiter("function_exists").wait(FunctionName=unique("never"),
                                               WaiterConfig={"Delay": 0.1, "MaxAttempts": 3})


# ---------------------------------------------------------------------------------------------
# Versions (§1.2)
# ---------------------------------------------------------------------------------------------


def test_publish_version(lam):
    name, created = create_active(lam, Description="fn description")
    resp = lam.publish_version(FunctionName=name)
    assert status(resp) == 201
    check_common(resp, name)
    assert resp["Version"] == "1" and resp["FunctionArn"] == fn_arn(name, "1")
    assert resp["State"] in ("Active", "Pending")
    assert resp["Description"] == "fn description", "Description is copied from $LATEST when not given"
    assert resp["CodeSha256"] == created["CodeSha256"]
    lam.get_waiter("published_version_active").wait(FunctionName=name, Qualifier="1", WaiterConfig=FAST)
    v1 = lam.get_function_configuration(FunctionName=name, Qualifier="1")
    assert v1["State"] == "Active" and v1["FunctionArn"] == fn_arn(name, "1")
    full = lam.get_function(FunctionName=fn_arn(name, "1"))
    assert full["Configuration"]["Version"] == "1"
    assert fetch(full["Code"]["Location"])[0] == 200


def test_publish_noop_returns_same_version(lam):
    name, _ = create_active(lam)
    first = lam.publish_version(FunctionName=name)
    again = lam.publish_version(FunctionName=name)
    assert status(again) == 201
    assert again["Version"] == first["Version"] == "1"
    assert again["RevisionId"] == first["RevisionId"]
    versions = [v["Version"] for v in lam.list_versions_by_function(FunctionName=name)["Versions"]]
    assert versions == ["$LATEST", "1"]


def test_publish_after_change_and_version_is_frozen(lam):
    name, _ = create_active(lam, MemorySize=128)
    lam.publish_version(FunctionName=name)
    lam.update_function_configuration(FunctionName=name, MemorySize=1024)
    wait_updated(lam, name)
    v2 = lam.publish_version(FunctionName=name, Description="second")
    assert v2["Version"] == "2" and v2["Description"] == "second" and v2["MemorySize"] == 1024
    assert lam.get_function_configuration(FunctionName=name, Qualifier="1")["MemorySize"] == 128
    lam.update_function_configuration(FunctionName=name, MemorySize=2048)
    wait_updated(lam, name)
    assert lam.get_function_configuration(FunctionName=name, Qualifier="2")["MemorySize"] == 1024


def test_publish_code_sha256_precondition(lam):
    name, created = create_active(lam)
    before = config_snapshot(lam, name)
    expect_error(lam.publish_version, FunctionName=name, CodeSha256="somenonexistentsha256", status_code=400,
                 code="InvalidParameterValueException",
                 message=f"CodeSHA256 (somenonexistentsha256) is different from current CodeSHA256 in $LATEST "
                         f"({created['CodeSha256']}). Please try again with the CodeSHA256 in $LATEST.")
    assert [v["Version"] for v in lam.list_versions_by_function(FunctionName=name)["Versions"]] == ["$LATEST"]
    assert config_snapshot(lam, name) == before
    ok = lam.publish_version(FunctionName=name, CodeSha256=created["CodeSha256"])
    assert status(ok) == 201 and ok["Version"] == "1"


def test_revision_id_preconditions(lam):
    name, _ = create_active(lam)
    before = config_snapshot(lam, name)
    wrong = "00000000-0000-4000-8000-000000000000"
    for call, kw in (
        (lam.update_function_configuration, {"MemorySize": 512}),
        (lam.update_function_code, {"ZipFile": make_zip({"b.py": "b = 2\n"})}),
        (lam.publish_version, {}),
    ):
        expect_error(call, FunctionName=name, RevisionId=wrong, status_code=412,
                     code="PreconditionFailedException", message=PRECONDITION_MSG, **kw)
    assert config_snapshot(lam, name) == before
    assert lam.list_versions_by_function(FunctionName=name)["Versions"][-1]["Version"] == "$LATEST"
    # The current RevisionId is accepted.
    resp = lam.update_function_configuration(FunctionName=name, MemorySize=512, RevisionId=before["RevisionId"])
    assert status(resp) == 200
    wait_updated(lam, name)
    rev = lam.get_function_configuration(FunctionName=name)["RevisionId"]
    assert status(lam.publish_version(FunctionName=name, RevisionId=rev)) == 201


def test_list_versions_by_function(lam):
    name, _ = create_active(lam)
    for mem in (256, 512, 768):
        lam.update_function_configuration(FunctionName=name, MemorySize=mem)
        wait_updated(lam, name)
        lam.publish_version(FunctionName=name)
    resp = lam.list_versions_by_function(FunctionName=name)
    assert status(resp) == 200
    versions = resp["Versions"]
    assert [v["Version"] for v in versions] == ["$LATEST", "1", "2", "3"]
    assert [v["FunctionArn"] for v in versions] == [fn_arn(name, q) for q in ("$LATEST", "1", "2", "3")]
    for v in versions:
        check_list_entry(v, name)
    assert [v["MemorySize"] for v in versions] == [768, 256, 512, 768]
    pages = list(lam.get_paginator("list_versions_by_function").paginate(
        FunctionName=name, PaginationConfig={"PageSize": 2}))
    assert [[v["Version"] for v in p["Versions"]] for p in pages] == [["$LATEST", "1"], ["2", "3"]]
    assert "NextMarker" not in pages[-1]


# ---------------------------------------------------------------------------------------------
# Aliases (§1.2)
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def two_versions(lam):
    name, _ = create_active(lam)
    lam.publish_version(FunctionName=name)
    lam.update_function_configuration(FunctionName=name, Timeout=7)
    wait_updated(lam, name)
    assert lam.publish_version(FunctionName=name)["Version"] == "2"
    return name


def test_alias_lifecycle(lam, two_versions):
    name = two_versions
    created = lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    assert status(created) == 201
    assert strip_metadata(created).keys() == {"AliasArn", "Name", "FunctionVersion", "Description", "RevisionId"}
    assert created["AliasArn"] == fn_arn(name, "live") and created["Description"] == ""
    assert UUID_RE.match(created["RevisionId"])
    got = lam.get_alias(FunctionName=name, Name="live")
    assert status(got) == 200 and strip_metadata(got) == strip_metadata(created)

    updated = lam.update_alias(FunctionName=name, Name="live", Description="canary",
                               RoutingConfig={"AdditionalVersionWeights": {"2": 0.1}})
    assert status(updated) == 200
    assert updated["RevisionId"] != created["RevisionId"]
    assert updated["RoutingConfig"] == {"AdditionalVersionWeights": {"2": 0.1}}
    assert updated["Description"] == "canary" and updated["FunctionVersion"] == "1"
    assert strip_metadata(lam.get_alias(FunctionName=name, Name="live")) == strip_metadata(updated)

    # GetFunction through the alias: qualified ARN, resolved version.
    cfg = lam.get_function(FunctionName=name, Qualifier="live")["Configuration"]
    assert cfg["FunctionArn"] == fn_arn(name, "live") and cfg["Version"] == "1"

    # Empty routing map clears RoutingConfig.
    cleared = lam.update_alias(FunctionName=name, Name="live", FunctionVersion="2",
                               RoutingConfig={"AdditionalVersionWeights": {}})
    assert "RoutingConfig" not in cleared and cleared["FunctionVersion"] == "2"

    assert status(lam.delete_alias(FunctionName=name, Name="live")) == 204
    expect_error(lam.get_alias, FunctionName=name, Name="live", status_code=404, code="ResourceNotFoundException",
                 message=f"Cannot find alias arn: {fn_arn(name, 'live')}")
    # DeleteAlias of a missing alias is still 204.
    assert status(lam.delete_alias(FunctionName=name, Name="live")) == 204


def test_alias_more_errors(lam, lam_raw, two_versions):
    name = two_versions
    missing = unique("missing")
    expect_error(lam.list_aliases, FunctionName=missing, status_code=404, code="ResourceNotFoundException",
                 message=not_found_msg(missing))
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    expect_error(lam.update_alias, FunctionName=name, Name="live", FunctionVersion="9", status_code=404,
                 code="ResourceNotFoundException", message=not_found_msg(name, "9"))
    assert lam.get_alias(FunctionName=name, Name="live")["FunctionVersion"] == "1"
    # A version an alias points to cannot be deleted (§1.1).
    expect_error(lam.delete_function, FunctionName=name, Qualifier="1", status_code=409,
                 code="ResourceConflictException")
    assert [v["Version"] for v in lam.list_versions_by_function(FunctionName=name)["Versions"]] == ["$LATEST", "1", "2"]
    # The alias ARN works wherever a function name is accepted.
    cfg = lam.get_function_configuration(FunctionName=fn_arn(name, "live"))
    assert cfg["FunctionArn"] == fn_arn(name, "live") and cfg["Version"] == "1"
    expect_error(lam_raw.put_function_concurrency, FunctionName=name, ReservedConcurrentExecutions=-1,
                 status_code=400, code="ValidationException")


def test_alias_to_latest_and_numeric_like_names(lam, two_versions):
    name = two_versions
    assert lam.create_alias(FunctionName=name, Name="head", FunctionVersion="$LATEST")["FunctionVersion"] == "$LATEST"
    assert status(lam.create_alias(FunctionName=name, Name="2024-01-02", FunctionVersion="1")) == 201


def test_list_aliases(lam, two_versions):
    name = two_versions
    for alias, version in (("zeta", "1"), ("alpha", "2"), ("mid", "1")):
        lam.create_alias(FunctionName=name, Name=alias, FunctionVersion=version)
    resp = lam.list_aliases(FunctionName=name)
    assert status(resp) == 200
    assert [a["Name"] for a in resp["Aliases"]] == ["alpha", "mid", "zeta"]
    only_1 = lam.list_aliases(FunctionName=name, FunctionVersion="1")["Aliases"]
    assert [a["Name"] for a in only_1] == ["mid", "zeta"]
    pages = list(lam.get_paginator("list_aliases").paginate(FunctionName=name, PaginationConfig={"PageSize": 2}))
    assert [[a["Name"] for a in p["Aliases"]] for p in pages] == [["alpha", "mid"], ["zeta"]]


def test_alias_errors(lam, lam_raw, two_versions):
    name = two_versions
    lam.create_alias(FunctionName=name, Name="custom", FunctionVersion="1")
    before = strip_metadata(lam.get_alias(FunctionName=name, Name="custom"))
    cases = [
        (dict(Name="custom", FunctionVersion="1"), 409, "ResourceConflictException",
         f"Alias already exists: {fn_arn(name, 'custom')}"),
        (dict(Name="a1", FunctionVersion="10"), 404, "ResourceNotFoundException", not_found_msg(name, "10")),
        (dict(Name="a2", FunctionVersion="1", RoutingConfig={"AdditionalVersionWeights": {"10": 0.5}}),
         404, "ResourceNotFoundException", not_found_msg(name, "10")),
        (dict(Name="a3", FunctionVersion="1", RoutingConfig={"AdditionalVersionWeights": {"2": 0.2, "3": 0.1}}),
         400, "InvalidParameterValueException", "Number of items in AdditionalVersionWeights cannot be greater than 1"),
        (dict(Name="a4", FunctionVersion="1", RoutingConfig={"AdditionalVersionWeights": {"2": 2.0}}),
         400, "ValidationException",
         "1 validation error detected: Value '{2=2.0}' at 'routingConfig.additionalVersionWeights' failed to "
         "satisfy constraint: Map value must satisfy constraint: [Member must have value less than or equal to "
         "1.0, Member must have value greater than or equal to 0.0, Member must not be null]"),
        (dict(Name="a5", FunctionVersion="1", RoutingConfig={"AdditionalVersionWeights": {"2": -1.0}}),
         400, "ValidationException",
         "1 validation error detected: Value '{2=-1.0}' at 'routingConfig.additionalVersionWeights' failed to "
         "satisfy constraint: Map value must satisfy constraint: [Member must have value less than or equal to "
         "1.0, Member must have value greater than or equal to 0.0, Member must not be null]"),
        (dict(Name="a6", FunctionVersion="1", RoutingConfig={"AdditionalVersionWeights": {"1": 0.5}}),
         400, "InvalidParameterValueException",
         "Invalid function version 1. Function version 1 is already included in routing configuration."),
        (dict(Name="a7", FunctionVersion="$LATEST", RoutingConfig={"AdditionalVersionWeights": {"1": 0.5}}),
         400, "InvalidParameterValueException", "$LATEST is not supported for an alias pointing to more than 1 version"),
        (dict(Name="a8", FunctionVersion="1", RoutingConfig={"AdditionalVersionWeights": {"$LATEST": 0.5}}),
         400, "ValidationException",
         "1 validation error detected: Value '{$LATEST=0.5}' at 'routingConfig.additionalVersionWeights' failed "
         "to satisfy constraint: Map keys must satisfy constraint: [Member must have length less than or equal "
         "to 1024, Member must have length greater than or equal to 1, Member must satisfy regular expression "
         "pattern: [0-9]+]"),
        (dict(Name="2024", FunctionVersion="1"), 400, "ValidationException",
         "1 validation error detected: Value '2024' at 'name' failed to satisfy constraint: Member must satisfy "
         "regular expression pattern: (?!^[0-9]+$)([a-zA-Z0-9-_]+)"),
    ]
    for kw, st, code, msg in cases:
        expect_error(lam_raw.create_alias, FunctionName=name, status_code=st, code=code, message=msg, **kw)
    expect_error(lam.update_alias, FunctionName=name, Name="nope", FunctionVersion="1", status_code=404,
                 code="ResourceNotFoundException", message=f"Alias not found: {fn_arn(name, 'nope')}")
    expect_error(lam.update_alias, FunctionName=name, Name="custom", FunctionVersion="2",
                 RevisionId="00000000-0000-4000-8000-000000000000", status_code=412,
                 code="PreconditionFailedException", message=PRECONDITION_MSG)
    # Nothing above changed the existing alias, nor created any other.
    assert strip_metadata(lam.get_alias(FunctionName=name, Name="custom")) == before
    assert [a["Name"] for a in lam.list_aliases(FunctionName=name)["Aliases"]] == ["custom"]
    ok = lam.update_alias(FunctionName=name, Name="custom", FunctionVersion="2", RevisionId=before["RevisionId"])
    assert status(ok) == 200 and ok["FunctionVersion"] == "2"
    # A missing function is reported with the requested version appended.
    expect_error(lam.create_alias, FunctionName=f"{name}-unknown", Name="x", FunctionVersion="1", status_code=404,
                 code="ResourceNotFoundException", message=not_found_msg(f"{name}-unknown", "1"))


# ---------------------------------------------------------------------------------------------
# Reserved concurrency and account settings (§1.3)
# ---------------------------------------------------------------------------------------------


def test_function_concurrency(lam):
    name, _ = create_active(lam)
    before = lam.get_account_settings()["AccountLimit"]["UnreservedConcurrentExecutions"]
    put = lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=10)
    try:
        assert status(put) == 200 and strip_metadata(put) == {"ReservedConcurrentExecutions": 10}
        got = lam.get_function_concurrency(FunctionName=name)
        assert status(got) == 200 and strip_metadata(got) == {"ReservedConcurrentExecutions": 10}
        assert lam.get_function(FunctionName=name)["Concurrency"] == {"ReservedConcurrentExecutions": 10}
        after = lam.get_account_settings()["AccountLimit"]["UnreservedConcurrentExecutions"]
        assert after == before - 10
        zero = lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
        assert zero["ReservedConcurrentExecutions"] == 0
    finally:
        deleted = lam.delete_function_concurrency(FunctionName=name)
    assert status(deleted) == 204
    empty = lam.get_function_concurrency(FunctionName=name)
    assert status(empty) == 200 and strip_metadata(empty) == {}
    assert "Concurrency" not in lam.get_function(FunctionName=name)
    assert lam.get_account_settings()["AccountLimit"]["UnreservedConcurrentExecutions"] == before


def test_concurrency_minimum_unreserved(lam):
    name, _ = create_active(lam)
    unreserved = lam.get_account_settings()["AccountLimit"]["UnreservedConcurrentExecutions"]
    expect_error(lam.put_function_concurrency, FunctionName=name, ReservedConcurrentExecutions=unreserved - 99,
                 status_code=400, code="InvalidParameterValueException",
                 message="Specified ReservedConcurrentExecutions for function decreases account's "
                         "UnreservedConcurrentExecution below its minimum value of [100].")
    assert strip_metadata(lam.get_function_concurrency(FunctionName=name)) == {}
    try:
        ok = lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=unreserved - 100)
        assert status(ok) == 200
        assert lam.get_account_settings()["AccountLimit"]["UnreservedConcurrentExecutions"] == 100
    finally:
        lam.delete_function_concurrency(FunctionName=name)


def test_concurrency_errors(lam):
    name, _ = create_active(lam)
    lam.publish_version(FunctionName=name)
    expect_error(lam.put_function_concurrency, FunctionName=fn_arn(name, "1"), ReservedConcurrentExecutions=1,
                 status_code=400, code="InvalidParameterValueException",
                 message="This operation is permitted on Lambda functions only. Aliases and versions do not support "
                         "this operation. Please specify either a function name or an unqualified function ARN.")
    missing = unique("missing")
    expect_error(lam.put_function_concurrency, FunctionName=missing, ReservedConcurrentExecutions=1,
                 status_code=404, code="ResourceNotFoundException", message=not_found_msg(missing, "$LATEST"))
    expect_error(lam.get_function_concurrency, FunctionName=missing, status_code=404,
                 code="ResourceNotFoundException", message=not_found_msg(missing))


def test_account_settings(lam):
    before = lam.get_account_settings()
    assert status(before) == 200
    limit = before["AccountLimit"]
    assert set(limit) == {"TotalCodeSize", "CodeSizeUnzipped", "CodeSizeZipped", "ConcurrentExecutions",
                          "UnreservedConcurrentExecutions"}
    assert limit["TotalCodeSize"] == 80530636800 and limit["CodeSizeUnzipped"] == 262144000
    assert limit["CodeSizeZipped"] == 52428800 and limit["ConcurrentExecutions"] == 1000
    assert set(before["AccountUsage"]) == {"TotalCodeSize", "FunctionCount"}
    code = make_zip({"app.py": support.HANDLER_PY, "pad.txt": "z" * 1000})
    create(lam, zip_bytes=code)
    after = lam.get_account_settings()["AccountUsage"]
    assert after["FunctionCount"] == before["AccountUsage"]["FunctionCount"] + 1
    assert after["TotalCodeSize"] == before["AccountUsage"]["TotalCodeSize"] + len(code)


# ---------------------------------------------------------------------------------------------
# Tags (§1.3, §7.5)
# ---------------------------------------------------------------------------------------------


def test_tag_lifecycle(lam):
    name, _ = create_active(lam, Tags={"key_a": "value_a"})
    arn = fn_arn(name)
    assert lam.list_tags(Resource=arn)["Tags"] == {"key_a": "value_a"}
    resp = lam.tag_resource(Resource=arn, Tags={"key_b": "value_b", "key_c": "value_c"})
    assert status(resp) == 204
    lt = lam.list_tags(Resource=arn)
    assert status(lt) == 200 and lt["Tags"] == {"key_a": "value_a", "key_b": "value_b", "key_c": "value_c"}
    lam.tag_resource(Resource=arn, Tags={"key_c": "value_x"})
    assert lam.list_tags(Resource=arn)["Tags"]["key_c"] == "value_x"
    assert lam.get_function(FunctionName=name)["Tags"] == {"key_a": "value_a", "key_b": "value_b", "key_c": "value_x"}
    resp = lam.untag_resource(Resource=arn, TagKeys=["key_a", "key_c", "not_there"])
    assert status(resp) == 204
    assert lam.list_tags(Resource=arn)["Tags"] == {"key_b": "value_b"}
    lam.untag_resource(Resource=arn, TagKeys=["key_b"])
    assert lam.list_tags(Resource=arn)["Tags"] == {}
    assert "Tags" not in lam.get_function(FunctionName=name)


def test_tags_with_spaces_and_unicode(lam):
    """Repeated, percent-encoded query keys (?tagKeys=a&tagKeys=b%20c) must survive signing and parsing."""
    name, _ = create_active(lam)
    arn = fn_arn(name)
    tags = {"b c": "with space", "ключ": "значение", "k/with/slash": "v=1&x", "plain": "é"}
    lam.tag_resource(Resource=arn, Tags=tags)
    assert lam.list_tags(Resource=arn)["Tags"] == tags
    lam.untag_resource(Resource=arn, TagKeys=["b c", "ключ", "k/with/slash"])
    assert lam.list_tags(Resource=arn)["Tags"] == {"plain": "é"}


def test_tag_errors(lam, lam_raw):
    name, _ = create_active(lam, Tags={"keep": "me"})
    lam.publish_version(FunctionName=name)
    arn = fn_arn(name)
    expect_error(lam.tag_resource, Resource=fn_arn(name, "1"), Tags={"a": "b"}, status_code=400,
                 code="InvalidParameterValueException",
                 message="Tags on function aliases and versions are not supported. Please specify a function ARN.")
    missing = fn_arn(unique("missing"))
    expect_error(lam.tag_resource, Resource=missing, Tags={"a": "b"}, status_code=404,
                 code="ResourceNotFoundException", message=f"Function not found: {missing}")
    expect_error(lam.list_tags, Resource=missing, status_code=404, code="ResourceNotFoundException",
                 message=f"Function not found: {missing}")
    expect_error(lam_raw.tag_resource, Resource=arn, Tags={}, status_code=400, code="InvalidParameterValueException",
                 message="An error occurred and the request cannot be processed.")
    expect_error(lam_raw.untag_resource, Resource=arn, status_code=400, code="ValidationException",
                 message="1 validation error detected: Value null at 'tagKeys' failed to satisfy constraint: "
                         "Member must not be null")
    too_many = {f"k{i}": "v" for i in range(50)}
    expect_error(lam.tag_resource, Resource=arn, Tags=too_many, status_code=400,
                 code="InvalidParameterValueException", message="Number of tags exceeds resource tag limit.")
    expect_error(lam_raw.tag_resource, Resource="arn:aws:something", Tags={"a": "b"}, status_code=400,
                 code="ValidationException",
                 message="1 validation error detected: Value 'arn:aws:something' at 'resource' failed to satisfy "
                         "constraint: Member must satisfy regular expression pattern: arn:(aws[a-zA-Z-]*):lambda:"
                         "(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:\\d{12}:(function:[a-zA-Z0-9-_]+"
                         "(:(\\$LATEST|[a-zA-Z0-9-_]+))?|layer:([a-zA-Z0-9-_]+)|code-signing-config:csc-[a-z0-9]{17}|"
                         "event-source-mapping:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
                         "[0-9a-fA-F]{12}|capacity-provider:[a-zA-Z0-9-_]+)")
    # None of the failures touched the tags.
    assert lam.list_tags(Resource=arn)["Tags"] == {"keep": "me"}
    # 50 in total is the limit: 49 more fit, one more does not.
    lam.tag_resource(Resource=arn, Tags={f"k{i}": "v" for i in range(49)})
    assert len(lam.list_tags(Resource=arn)["Tags"]) == 50
    expect_error(lam.tag_resource, Resource=arn, Tags={"one_more": "v"}, status_code=400,
                 code="InvalidParameterValueException", message="Number of tags exceeds resource tag limit.")


def test_create_with_too_many_tags(lam):
    name = unique()
    expect_error(create, lam, name, Tags={f"k{i}": "v" for i in range(51)}, status_code=400,
                 code="InvalidParameterValueException", message="Number of tags exceeds resource tag limit.")
    assert_absent(lam, name)


# ---------------------------------------------------------------------------------------------
# Function policy (§1.3)
# ---------------------------------------------------------------------------------------------


def ordered(doc: str):
    """Decodes JSON keeping key order, as a list of (key, value) pairs at every level."""
    return json.loads(doc, object_pairs_hook=lambda pairs: pairs)


def test_add_permission_statement_shape(lam):
    name, _ = create_active(lam)
    resp = lam.add_permission(FunctionName=name, StatementId="s3", Action="lambda:InvokeFunction",
                              Principal="s3.amazonaws.com", SourceArn="arn:aws:s3:::my-bucket",
                              SourceAccount="123456789012")
    assert status(resp) == 201
    assert isinstance(resp["Statement"], str)
    stmt = json.loads(resp["Statement"])
    assert stmt == {
        "Sid": "s3", "Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"},
        "Action": "lambda:InvokeFunction", "Resource": fn_arn(name),
        "Condition": {"StringEquals": {"AWS:SourceAccount": "123456789012"},
                      "ArnLike": {"AWS:SourceArn": "arn:aws:s3:::my-bucket"}},
    }
    policy = lam.get_policy(FunctionName=name)
    assert status(policy) == 200 and UUID_RE.match(policy["RevisionId"])
    doc = json.loads(policy["Policy"])
    assert doc == {"Version": "2012-10-17", "Id": "default", "Statement": [stmt]}

    # Key order as AWS emits it (Terraform and policy diffing tools compare the text).
    keys = [k for k, _ in ordered(resp["Statement"])]
    assert keys == ["Sid", "Effect", "Principal", "Action", "Resource", "Condition"]
    cond = dict(ordered(resp["Statement"]))["Condition"]
    assert [k for k, _ in cond] == ["StringEquals", "ArnLike"]
    assert [k for k, _ in ordered(policy["Policy"])] == ["Version", "Id", "Statement"]


def test_permission_principals(lam):
    name, _ = create_active(lam)
    cases = [
        ("acct", "111122223333", {"AWS": "arn:aws:iam::111122223333:root"}),
        ("star", "*", "*"),
        ("role", "arn:aws:iam::111122223333:role/caller", {"AWS": "arn:aws:iam::111122223333:role/caller"}),
        ("svc", "sns.amazonaws.com", {"Service": "sns.amazonaws.com"}),
    ]
    for sid, principal, expected in cases:
        stmt = json.loads(lam.add_permission(FunctionName=name, StatementId=sid, Action="lambda:InvokeFunction",
                                             Principal=principal)["Statement"])
        assert stmt["Principal"] == expected, sid
        assert "Condition" not in stmt
    doc = json.loads(lam.get_policy(FunctionName=name)["Policy"])
    assert [s["Sid"] for s in doc["Statement"]] == [c[0] for c in cases], "insertion order"


def test_permission_conditions(lam):
    """§1.3: every supplied condition key lands in its block; nothing else is added."""
    name, _ = create_active(lam)
    stmt = json.loads(lam.add_permission(
        FunctionName=name, StatementId="all", Action="lambda:InvokeFunctionUrl", Principal="*",
        SourceArn="arn:aws:execute-api:us-east-1:123456789012:api/*", SourceAccount="123456789012",
        FunctionUrlAuthType="NONE", PrincipalOrgID="o-abcdefghij", EventSourceToken="token-1")["Statement"])
    assert stmt["Condition"] == {
        "StringEquals": {"AWS:SourceAccount": "123456789012", "lambda:FunctionUrlAuthType": "NONE",
                         "aws:PrincipalOrgID": "o-abcdefghij", "lambda:EventSourceToken": "token-1"},
        "ArnLike": {"AWS:SourceArn": "arn:aws:execute-api:us-east-1:123456789012:api/*"},
    }
    assert stmt["Action"] == "lambda:InvokeFunctionUrl" and stmt["Principal"] == "*"
    lam.publish_version(FunctionName=name)
    version_stmt = json.loads(lam.add_permission(FunctionName=name, StatementId="v", Qualifier="1",
                                                 Action="lambda:InvokeFunction", Principal="*")["Statement"])
    assert version_stmt["Resource"] == fn_arn(name, "1")


def test_permission_lifecycle_and_errors(lam, lam_raw):
    name, _ = create_active(lam)
    lam.publish_version(FunctionName=name)
    lam.create_alias(FunctionName=name, Name="prod", FunctionVersion="1")
    expect_error(lam.get_policy, FunctionName=name, status_code=404, code="ResourceNotFoundException",
                 message="The resource you requested does not exist.")
    expect_error(lam.remove_permission, FunctionName=name, StatementId="x", status_code=404,
                 code="ResourceNotFoundException", message="No policy is associated with the given resource.")
    lam.add_permission(FunctionName=name, StatementId="s3", Action="lambda:InvokeFunction",
                       Principal="s3.amazonaws.com")
    rev = lam.get_policy(FunctionName=name)["RevisionId"]
    expect_error(lam.add_permission, FunctionName=name, StatementId="s3", Action="lambda:InvokeFunction",
                 Principal="s3.amazonaws.com", status_code=409, code="ResourceConflictException",
                 message="The statement id (s3) provided already exists. Please provide a new statement id, "
                         "or remove the existing statement.")
    expect_error(lam.add_permission, FunctionName=name, StatementId="l", Action="lambda:InvokeFunction",
                 Principal="s3.amazonaws.com", Qualifier="$LATEST", status_code=400,
                 code="InvalidParameterValueException", message="We currently do not support adding policies for $LATEST.")
    expect_error(lam.add_permission, FunctionName=name, StatementId="example.com", Action="lambda:InvokeFunction",
                 Principal="s3.amazonaws.com", status_code=400, code="ValidationException",
                 message="1 validation error detected: Value 'example.com' at 'statementId' failed to satisfy "
                         "constraint: Member must satisfy regular expression pattern: ([a-zA-Z0-9-_]+)")
    expect_error(lam.add_permission, FunctionName=name, StatementId="p", Action="lambda:InvokeFunction",
                 Principal="not-a-principal", status_code=400, code="InvalidParameterValueException",
                 message="The provided principal was invalid. Please check the principal and try again.")
    expect_error(lam.add_permission, FunctionName=name, StatementId="a", Action="lambda:InvokeFunction",
                 Principal="s3.amazonaws.com", Qualifier="alias-doesnotexist", status_code=404,
                 code="ResourceNotFoundException",
                 message=f"Cannot find alias arn: {fn_arn(name, 'alias-doesnotexist')}")
    expect_error(lam.add_permission, FunctionName=name, StatementId="v", Action="lambda:InvokeFunction",
                 Principal="s3.amazonaws.com", Qualifier="42", status_code=404, code="ResourceNotFoundException",
                 message=not_found_msg(name, "42"))
    expect_error(lam.add_permission, FunctionName=name, StatementId="r", Action="lambda:InvokeFunction",
                 Principal="s3.amazonaws.com", RevisionId="00000000-0000-4000-8000-000000000000",
                 status_code=412, code="PreconditionFailedException",
                 message_prefix="The Revision Id provided does not match the latest Revision Id.")
    missing = unique("missing")
    expect_error(lam.add_permission, FunctionName=missing, StatementId="m", Action="lambda:InvokeFunction",
                 Principal="s3.amazonaws.com", status_code=404, code="ResourceNotFoundException",
                 message=not_found_msg(missing))
    expect_error(lam.get_policy, FunctionName=missing, status_code=404, code="ResourceNotFoundException",
                 message="The resource you requested does not exist.")
    expect_error(lam.remove_permission, FunctionName=missing, StatementId="m", status_code=404,
                 code="ResourceNotFoundException", message=f"No policy found for: {fn_arn(missing)}")
    # None of the failures changed the document.
    policy = lam.get_policy(FunctionName=name)
    assert policy["RevisionId"] == rev
    assert [s["Sid"] for s in json.loads(policy["Policy"])["Statement"]] == ["s3"]

    # Per-qualifier documents: the alias has its own, the function's is untouched.
    alias_stmt = json.loads(lam.add_permission(FunctionName=name, StatementId="alias", Qualifier="prod",
                                               Action="lambda:InvokeFunction", Principal="*")["Statement"])
    assert alias_stmt["Resource"] == fn_arn(name, "prod")
    assert [s["Sid"] for s in json.loads(lam.get_policy(FunctionName=name, Qualifier="prod")["Policy"])["Statement"]] == ["alias"]
    assert [s["Sid"] for s in json.loads(lam.get_policy(FunctionName=name)["Policy"])["Statement"]] == ["s3"]
    expect_error(lam.get_policy, FunctionName=name, Qualifier="1", status_code=404,
                 code="ResourceNotFoundException", message="The resource you requested does not exist.")

    expect_error(lam.remove_permission, FunctionName=name, StatementId="s3",
                 RevisionId="00000000-0000-4000-8000-000000000000", status_code=412,
                 code="PreconditionFailedException",
                 message_prefix="The Revision Id provided does not match the latest Revision Id.")
    expect_error(lam.remove_permission, FunctionName=name, StatementId="non-existent", status_code=404,
                 code="ResourceNotFoundException", message="Statement non-existent is not found in resource policy.")
    resp = lam.remove_permission(FunctionName=name, StatementId="s3", RevisionId=rev)
    assert status(resp) == 204
    # Removing the last statement deletes the document.
    expect_error(lam.get_policy, FunctionName=name, status_code=404, code="ResourceNotFoundException",
                 message="The resource you requested does not exist.")


# ---------------------------------------------------------------------------------------------
# Layers (§1.3, §7.5)
# ---------------------------------------------------------------------------------------------

LAYER_ZIP = make_zip({"python/helper.py": "VALUE = 42\n"})


def publish_layer(lam, name, zip_bytes=LAYER_ZIP, **kw):
    params = dict(LayerName=name, Content={"ZipFile": zip_bytes}, CompatibleRuntimes=["python3.12"],
                  CompatibleArchitectures=["x86_64"])
    params.update(kw)
    return lam.publish_layer_version(**params)


def test_layer_lifecycle(lam, endpoint):
    name = unique("layer")
    v1 = publish_layer(lam, name, Description="first", LicenseInfo="MIT")
    assert status(v1) == 201
    assert strip_metadata(v1).keys() == {"Content", "LayerArn", "LayerVersionArn", "Description", "CreatedDate",
                                         "Version", "CompatibleRuntimes", "CompatibleArchitectures", "LicenseInfo"}
    assert v1["LayerArn"] == layer_arn(name) and v1["LayerVersionArn"] == layer_arn(name, 1)
    assert v1["Version"] == 1 and v1["Description"] == "first" and v1["LicenseInfo"] == "MIT"
    assert LAST_MODIFIED_RE.match(v1["CreatedDate"]), v1["CreatedDate"]
    assert v1["CompatibleRuntimes"] == ["python3.12"] and v1["CompatibleArchitectures"] == ["x86_64"]
    content = v1["Content"]
    assert content["CodeSha256"] == b64sha256(LAYER_ZIP) and content["CodeSize"] == len(LAYER_ZIP)
    assert content["Location"].startswith(endpoint + "/")
    assert fetch(content["Location"]) == (200, LAYER_ZIP)

    v2 = publish_layer(lam, name, CompatibleRuntimes=[], CompatibleArchitectures=[])
    assert v2["Version"] == 2 and v2["Description"] == "" and "LicenseInfo" not in v2
    assert v2["CompatibleRuntimes"] == [] and v2["CompatibleArchitectures"] == []

    got = lam.get_layer_version(LayerName=name, VersionNumber=1)
    assert status(got) == 200
    assert {k: v for k, v in strip_metadata(got).items() if k != "Content"} == \
           {k: v for k, v in strip_metadata(v1).items() if k != "Content"}
    by_arn = lam.get_layer_version_by_arn(Arn=layer_arn(name, 1))
    assert status(by_arn) == 200 and by_arn["LayerVersionArn"] == layer_arn(name, 1)

    versions = lam.list_layer_versions(LayerName=name)
    assert status(versions) == 200
    assert [v["Version"] for v in versions["LayerVersions"]] == [2, 1], "newest first"
    for v in versions["LayerVersions"]:
        assert "Content" not in v and "LayerArn" not in v

    layers = [entry for p in lam.get_paginator("list_layers").paginate() for entry in p["Layers"]
              if entry["LayerName"] == name]
    assert len(layers) == 1
    assert layers[0]["LayerArn"] == layer_arn(name)
    assert layers[0]["LatestMatchingVersion"]["Version"] == 2

    assert status(lam.delete_layer_version(LayerName=name, VersionNumber=2)) == 204
    assert status(lam.delete_layer_version(LayerName=name, VersionNumber=2)) == 204, "deleting again is 204"
    expect_error(lam.get_layer_version, LayerName=name, VersionNumber=2, status_code=404,
                 code="ResourceNotFoundException", message="The resource you requested does not exist.")
    v3 = publish_layer(lam, name)
    assert v3["Version"] == 3, "layer version numbers are never reused"


def test_layer_filters_and_paginators(lam):
    prefix = unique("lyr")
    for i in range(3):
        publish_layer(lam, f"{prefix}-{i}", CompatibleRuntimes=["nodejs20.x"] if i == 1 else ["python3.12"])
    mine = lambda layers: [l["LayerName"] for l in layers if l["LayerName"].startswith(prefix)]  # noqa: E731
    pages = list(lam.get_paginator("list_layers").paginate(PaginationConfig={"PageSize": 2}))
    assert all(len(p["Layers"]) <= 2 for p in pages)
    assert sorted(mine([l for p in pages for l in p["Layers"]])) == [f"{prefix}-{i}" for i in range(3)]
    node = [l for p in lam.get_paginator("list_layers").paginate(CompatibleRuntime="nodejs20.x") for l in p["Layers"]]
    assert mine(node) == [f"{prefix}-1"]

    arm = [l for p in lam.get_paginator("list_layers").paginate(CompatibleArchitecture="arm64") for l in p["Layers"]]
    assert mine(arm) == [], "all three were published for x86_64 only"
    name = f"{prefix}-0"
    publish_layer(lam, name)
    publish_layer(lam, name)
    pages = list(lam.get_paginator("list_layer_versions").paginate(LayerName=name, PaginationConfig={"PageSize": 2}))
    assert [[v["Version"] for v in p["LayerVersions"]] for p in pages] == [[3, 2], [1]]
    assert lam.list_layer_versions(LayerName=unique("nolayer"))["LayerVersions"] == []


def test_layer_errors(lam, lam_raw):
    name = unique("layer")
    publish_layer(lam, name)
    for version in (0, -1):
        expect_error(lam_raw.get_layer_version, LayerName=name, VersionNumber=version, status_code=400,
                     code="InvalidParameterValueException", message="Layer Version Cannot be less than 1")
    expect_error(lam.get_layer_version, LayerName=unique("nolayer"), VersionNumber=1, status_code=404,
                 code="ResourceNotFoundException", message="The resource you requested does not exist.")
    expect_error(lam.get_layer_version_by_arn, Arn=layer_arn(name, 9), status_code=404,
                 code="ResourceNotFoundException", message="The resource you requested does not exist.")
    expect_error(lam_raw.get_layer_version_by_arn, Arn=layer_arn(name), status_code=400, code="ValidationException",
                 message_prefix=f"1 validation error detected: Value '{layer_arn(name)}' at 'arn' failed to satisfy "
                                "constraint: Member must satisfy regular expression pattern: ")
    expect_error(lam_raw.list_layers, CompatibleArchitecture="archdoesnotexist", status_code=400,
                 code="ValidationException",
                 message="1 validation error detected: Value 'archdoesnotexist' at 'compatibleArchitecture' failed "
                         "to satisfy constraint: Member must satisfy enum value set: [x86_64, arm64]")
    expect_error(publish_layer, lam, name, zip_bytes=b"definitely not a zip", status_code=400,
                 code="InvalidParameterValueException")
    assert [v["Version"] for v in lam.list_layer_versions(LayerName=name)["LayerVersions"]] == [1]
    expect_error(lam_raw.publish_layer_version, LayerName=name, Content={"ZipFile": LAYER_ZIP},
                 CompatibleRuntimes=["invalidruntime"], CompatibleArchitectures=["invalidarch"],
                 status_code=400, code="ValidationException",
                 message_prefix="2 validation errors detected: Value '[invalidruntime]' at 'compatibleRuntimes' "
                                "failed to satisfy constraint: Member must satisfy enum value set: [")


def test_function_with_layers(lam):
    a, b = unique("layer"), unique("layer")
    publish_layer(lam, a)
    publish_layer(lam, a)
    publish_layer(lam, b)
    name, resp = create_active(lam, Layers=[layer_arn(a, 2), layer_arn(b, 1)])
    assert resp["Layers"] == [{"Arn": layer_arn(a, 2), "CodeSize": len(LAYER_ZIP)},
                              {"Arn": layer_arn(b, 1), "CodeSize": len(LAYER_ZIP)}]
    lam.update_function_configuration(FunctionName=name, Layers=[layer_arn(b, 1)])
    wait_updated(lam, name)
    assert [l["Arn"] for l in lam.get_function_configuration(FunctionName=name)["Layers"]] == [layer_arn(b, 1)]
    # A function keeps listing a deleted layer version.
    lam.delete_layer_version(LayerName=b, VersionNumber=1)
    assert [l["Arn"] for l in lam.get_function_configuration(FunctionName=name)["Layers"]] == [layer_arn(b, 1)]
    lam.update_function_configuration(FunctionName=name, Layers=[])
    wait_updated(lam, name)
    assert "Layers" not in lam.get_function_configuration(FunctionName=name)


def test_five_layers_are_accepted(lam, six_layers):
    name, resp = create_active(lam, Layers=six_layers[:5])
    assert [entry["Arn"] for entry in resp["Layers"]] == six_layers[:5]


def test_function_layer_errors(lam, lam_raw):
    name = unique("layer")
    publish_layer(lam, name)
    publish_layer(lam, name)
    fn = unique()
    expect_error(create, lam, fn, Layers=[layer_arn(name, 1), layer_arn(name, 2)], status_code=400,
                 code="InvalidParameterValueException",
                 message=f"Two different versions of the same layer are not allowed to be referenced in the same "
                         f"function. {layer_arn(name, 1)} and {layer_arn(name, 2)} are versions of the same layer.")
    expect_error(create, lam, fn, Layers=[layer_arn(name, 9)], status_code=400,
                 code="InvalidParameterValueException", message=f"Layer version {layer_arn(name, 9)} does not exist.")
    other_region = f"arn:aws:lambda:us-west-2:{DEV_ACCOUNT}:layer:{name}:1"
    expect_error(create, lam, fn, Layers=[other_region], status_code=400, code="InvalidParameterValueException",
                 message="Layers are not in the same region as the function. Layers are expected to be in region "
                         "us-east-1.")
    assert_absent(lam, fn)


# ---------------------------------------------------------------------------------------------
# Code signing binding (§1.3)
# ---------------------------------------------------------------------------------------------


def test_get_function_code_signing_config(lam):
    name, _ = create_active(lam)
    resp = lam.get_function_code_signing_config(FunctionName=name)
    assert status(resp) == 200 and strip_metadata(resp) == {}
    missing = unique("missing")
    expect_error(lam.get_function_code_signing_config, FunctionName=missing, status_code=404,
                 code="ResourceNotFoundException", message=not_found_msg(missing))


# ---------------------------------------------------------------------------------------------
# Validation table (§7): exact error, and nothing changed afterwards
# ---------------------------------------------------------------------------------------------

FN_PATTERN = ("(arn:(aws[a-zA-Z-]*)?:lambda:)?((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:)?"
              "(\\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?")
NS_FN_PATTERN = ("(arn:(aws[a-zA-Z-]*)?:lambda:)?((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:)?"
                 "(\\d{12}:)?(function:)?([a-zA-Z0-9-_\\.]+)(:(\\$LATEST(\\.PUBLISHED)?|[a-zA-Z0-9-_]+))?")
ENV_4KB = ("Lambda was unable to configure your environment variables because the environment variables you have "
           "provided exceeded the 4KB limit. String measured: ")
RESERVED_MSG = ("Lambda was unable to configure your environment variables because the environment variables you "
                "have provided contains reserved keys that are currently not supported for modification. Reserved "
                "keys used in this request: ")
RESERVED_KEYS = [
    "_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME", "AWS_ACCESS_KEY",
    "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT",
    "LAMBDA_RUNTIME_DIR", "TZ",
]
# §7.4: the set AWS printed in its enum error (ruby4.0 may be added; see runtime_enum_message).
ACCEPTED_RUNTIMES = {
    "nodejs16.x", "nodejs18.x", "nodejs20.x", "nodejs22.x", "nodejs24.x", "python3.8", "python3.9", "python3.10",
    "python3.11", "python3.12", "python3.13", "python3.14", "java8.al2", "java11", "java17", "java21", "java25",
    "dotnet6", "dotnet8", "dotnet10", "ruby3.2", "ruby3.3", "ruby3.4", "provided.al2", "provided.al2023",
}


def coral(value: str, path: str, constraint: str) -> str:
    return f"1 validation error detected: Value '{value}' at '{path}' failed to satisfy constraint: {constraint}"


def env_json(variables: dict) -> str:
    return json.dumps(variables, separators=(",", ":"), ensure_ascii=False)


def big_env(total_len: int) -> dict:
    """{"LARGE_VAR":"xxx…"} whose compact JSON is exactly total_len bytes."""
    overhead = len(env_json({"LARGE_VAR": ""}))
    return {"LARGE_VAR": "x" * (total_len - overhead)}


def deprecated_msg(rt: str) -> str:
    return (f"The runtime parameter of {rt} is no longer supported for creating or updating AWS Lambda functions. "
            "We recommend you use a supported runtime while creating or updating functions.")


def check_env_key_pattern_message(msg: str):
    assert msg.startswith("1 validation error detected: Value '{"), msg
    assert msg.endswith("}' at 'environment.variables' failed to satisfy constraint: Map keys must satisfy "
                        "constraint: [Member must satisfy regular expression pattern: [a-zA-Z]([a-zA-Z0-9_])+]"), msg


def check_unsafe_zip_message(msg: str):
    """The reference gives no wording for a path-escaping entry; AWS's unzip error prefix is required."""
    assert msg.startswith("Could not unzip uploaded file."), msg


def check_runtime_enum_message(msg: str, value: str):
    prefix = f"Value {value} at 'runtime' failed to satisfy constraint: Member must satisfy enum value set: ["
    suffix = "] or be a valid ARN"
    assert msg.startswith(prefix) and msg.endswith(suffix), msg
    listed = set(msg[len(prefix):-len(suffix)].split(", "))
    assert ACCEPTED_RUNTIMES <= listed <= ACCEPTED_RUNTIMES | {"ruby4.0"}, sorted(listed ^ ACCEPTED_RUNTIMES)


@pytest.fixture(scope="module")
def six_layers(lam):
    names = [unique("six") for _ in range(6)]
    for n in names:
        publish_layer(lam, n)
    return [layer_arn(n, 1) for n in names]


def evil_zip() -> bytes:
    return make_zip({"app.py": support.HANDLER_PY, "../evil": "escaped\n"})


# (id, create overrides, status, code, message or a callable checking the message)
CREATE_CASES = [
    ("name-colons", {"FunctionName": "invalid:function:name"}, 400, "ValidationException",
     coral("invalid:function:name", "functionName", f"Member must satisfy regular expression pattern: {FN_PATTERN}")),
    ("name-bang", {"FunctionName": "my-function!"}, 400, "ValidationException",
     coral("my-function!", "functionName", f"Member must satisfy regular expression pattern: {FN_PATTERN}")),
    ("name-65", {"FunctionName": "a" * 65}, 400, "InvalidParameterValueException",
     coral("a" * 65, "functionName", "Member must have length less than or equal to 64")),
    ("arn-141", {"FunctionName": fn_arn("b" * 94)}, 400, "ValidationException",
     coral(fn_arn("b" * 94), "functionName", "Member must have length less than or equal to 140")),
    ("role", {"Role": "r1"}, 400, "ValidationException",
     coral("r1", "role", "Member must satisfy regular expression pattern: "
                         "arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+")),
    ("description-257", {"Description": "d" * 257}, 400, "ValidationException",
     coral("d" * 257, "description", "Member must have length less than or equal to 256")),
    ("memory-127", {"MemorySize": 127}, 400, "ValidationException",
     coral("127", "memorySize", "Member must have value greater than or equal to 128")),
    ("memory-10241", {"MemorySize": 10241}, 400, "ValidationException",
     coral("10241", "memorySize", "Member must have value less than or equal to 10240")),
    ("timeout-0", {"Timeout": 0}, 400, "ValidationException",
     coral("0", "timeout", "Member must have value greater than or equal to 1")),
    ("timeout-901", {"Timeout": 901}, 400, "ValidationException",
     coral("901", "timeout", "Member must have value less than or equal to 900")),
    ("ephemeral-511", {"EphemeralStorage": {"Size": 511}}, 400, "ValidationException",
     coral("511", "ephemeralStorage.size", "Member must have value greater than or equal to 512")),
    ("ephemeral-10241", {"EphemeralStorage": {"Size": 10241}}, 400, "ValidationException",
     coral("10241", "ephemeralStorage.size", "Member must have value less than or equal to 10240")),
    ("env-4097", {"Environment": {"Variables": big_env(4097)}}, 400, "InvalidParameterValueException",
     ENV_4KB + env_json(big_env(4097))),
    ("env-4097-two-keys", {"Environment": {"Variables": {"SMALL_VAR": "ok", **big_env(4097 - len('"SMALL_VAR":"ok",'))}}},
     400, "InvalidParameterValueException",
     ENV_4KB + env_json({"SMALL_VAR": "ok", **big_env(4097 - len('"SMALL_VAR":"ok",'))})),
    *[(f"reserved-{k}", {"Environment": {"Variables": {k: "x"}}}, 400, "InvalidParameterValueException",
       RESERVED_MSG + k) for k in RESERVED_KEYS if not k.startswith("_")],
    # `_HANDLER` and `_X_AMZN_TRACE_ID` are reserved too, but the model's key pattern [a-zA-Z]([a-zA-Z0-9_])+
    # rejects them first (a ValidationException; whether the value is echoed is left open).
    *[(f"reserved-{k}", {"Environment": {"Variables": {k: "x"}}}, 400, "ValidationException",
       lambda m: check_env_key_pattern_message(m)) for k in RESERVED_KEYS if k.startswith("_")],
    ("env-key-one-char", {"Environment": {"Variables": {"A": "x"}}}, 400, "ValidationException",
     lambda m: check_env_key_pattern_message(m)),
    ("env-key-digit-first", {"Environment": {"Variables": {"1ABC": "x"}}}, 400, "ValidationException",
     lambda m: check_env_key_pattern_message(m)),
    ("runtime-unknown", {"Runtime": "python9.9"}, 400, "InvalidParameterValueException",
     lambda m: check_runtime_enum_message(m, "python9.9")),
    ("runtime-wrong-case", {"Runtime": "PYTHON3.12"}, 400, "InvalidParameterValueException",
     lambda m: check_runtime_enum_message(m, "PYTHON3.12")),
    *[(f"runtime-{rt}", {"Runtime": rt}, 400, "InvalidParameterValueException", deprecated_msg(rt))
      for rt in ("python2.7", "nodejs12.x", "go1.x", "provided")],
    ("zip-unreadable", {"Code": {"ZipFile": b"this is not a zip file"}}, 400, "InvalidParameterValueException",
     "Could not unzip uploaded file. Please check your file, then try to upload again."),
    ("zip-dotdot-entry", {"Code": {"ZipFile": "EVIL"}}, 400, "InvalidParameterValueException",
     lambda m: check_unsafe_zip_message(m)),
    ("zip-bomb", {"Code": {"ZipFile": "BOMB"}}, 400, "InvalidParameterValueException",
     "Unzipped size must be smaller than 262144000 bytes"),
    ("handler-space", {"Handler": "app handler"}, 400, "ValidationException",
     coral("app handler", "handler", "Member must satisfy regular expression pattern: [^\\s]+")),
    ("handler-missing", {"Handler": None}, 400, "InvalidParameterValueException", None),
    ("runtime-missing", {"Runtime": None}, 400, "InvalidParameterValueException", None),
    ("snapstart-enum", {"SnapStart": {"ApplyOn": "invalidOption"}}, 400, "ValidationException",
     coral("invalidOption", "snapStart.applyOn", "Member must satisfy enum value set: [PublishedVersions, None]")),
    ("tracing-enum", {"TracingConfig": {"Mode": "Sometimes"}}, 400, "ValidationException", None),
    ("architectures-two", {"Architectures": ["x86_64", "arm64"]}, 400, "ValidationException",
     coral("[x86_64, arm64]", "architectures", "Member must have length less than or equal to 1")),
    ("architectures-case", {"Architectures": ["X86_64"]}, 400, "ValidationException",
     coral("[X86_64]", "architectures", "Member must satisfy constraint: [Member must satisfy enum value set: "
                                        "[x86_64, arm64], Member must not be null]")),
    ("layers-six", {"Layers": "SIX"}, 400, "InvalidParameterValueException", "Cannot reference more than 5 layers."),
    ("layer-unversioned", {"Layers": [layer_arn("some-layer")]}, 400, "ValidationException",
     coral(f"[{layer_arn('some-layer')}]", "layers",
           "Member must satisfy constraint: [Member must have length less than or equal to 2048, Member must have "
           "length greater than or equal to 1, Member must satisfy regular expression pattern: "
           "(arn:(aws[a-zA-Z-]*)?:lambda:(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:\\d{12}:layer:"
           "[a-zA-Z0-9-_]+:[0-9]+)|(arn:[a-zA-Z0-9-]+:lambda:::awslayer:[a-zA-Z0-9-_]+), Member must not be null]")),
    ("layer-missing", {"Layers": [layer_arn("doesnotexist", 1)]}, 400, "InvalidParameterValueException",
     f"Layer version {layer_arn('doesnotexist', 1)} does not exist."),
    ("code-s3", {"Code": {"S3Bucket": "bucket", "S3Key": "key.zip"}}, 400, "InvalidParameterValueException", None),
]


@pytest.mark.parametrize("case_id,overrides,st,code,message", CREATE_CASES, ids=[c[0] for c in CREATE_CASES])
def test_create_validation(lam, lam_raw, bomb_zip, six_layers, case_id, overrides, st, code, message):
    name = unique("bad")
    params = dict(FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="app.handler",
                  Code={"ZipFile": make_zip()})
    params.update(overrides)
    params = {k: v for k, v in params.items() if v is not None}
    if params["Code"].get("ZipFile") == "EVIL":
        params["Code"] = {"ZipFile": evil_zip()}
    if params["Code"].get("ZipFile") == "BOMB":
        params["Code"] = {"ZipFile": bomb_zip}
    if params.get("Layers") == "SIX":
        params["Layers"] = six_layers
    resp = expect_error(lam_raw.create_function, status_code=st, code=code,
                        message=message if isinstance(message, str) else None, **params)
    if callable(message):
        message(resp["Error"]["Message"])
    # Nothing was created, under the requested name or under the name inside an ARN.
    assert_absent(lam, name)
    plain = params["FunctionName"].split(":function:")[-1]
    if plain != name and re.fullmatch(r"[a-zA-Z0-9_-]+", plain):
        assert_absent(lam, plain)


@pytest.fixture(scope="module")
def victim(lam):
    """One function that rejected updates must leave exactly as it was."""
    name, _ = create_active(lam, Environment={"Variables": {"ORIGINAL": "yes"}}, MemorySize=256, Timeout=10)
    return name


UPDATE_CONFIG_CASES = [
    ("memory-10241", {"MemorySize": 10241}, 400, "ValidationException",
     coral("10241", "memorySize", "Member must have value less than or equal to 10240")),
    ("memory-127", {"MemorySize": 127}, 400, "ValidationException",
     coral("127", "memorySize", "Member must have value greater than or equal to 128")),
    ("timeout-901", {"Timeout": 901}, 400, "ValidationException",
     coral("901", "timeout", "Member must have value less than or equal to 900")),
    ("timeout-0", {"Timeout": 0}, 400, "ValidationException",
     coral("0", "timeout", "Member must have value greater than or equal to 1")),
    ("ephemeral-10241", {"EphemeralStorage": {"Size": 10241}}, 400, "ValidationException",
     coral("10241", "ephemeralStorage.size", "Member must have value less than or equal to 10240")),
    ("env-4097", {"Environment": {"Variables": big_env(4097)}}, 400, "InvalidParameterValueException",
     ENV_4KB + env_json(big_env(4097))),
    ("reserved-AWS_REGION", {"Environment": {"Variables": {"AWS_REGION": "x"}}}, 400,
     "InvalidParameterValueException", RESERVED_MSG + "AWS_REGION"),
    ("runtime-python2.7", {"Runtime": "python2.7"}, 400, "InvalidParameterValueException", deprecated_msg("python2.7")),
    ("runtime-unknown", {"Runtime": "cobol85"}, 400, "InvalidParameterValueException",
     lambda m: check_runtime_enum_message(m, "cobol85")),
    ("layers-six", {"Layers": "SIX"}, 400, "InvalidParameterValueException", "Cannot reference more than 5 layers."),
    ("role", {"Role": "r1"}, 400, "ValidationException",
     coral("r1", "role", "Member must satisfy regular expression pattern: "
                         "arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+")),
]


@pytest.mark.parametrize("case_id,overrides,st,code,message", UPDATE_CONFIG_CASES,
                         ids=[c[0] for c in UPDATE_CONFIG_CASES])
def test_update_configuration_validation(lam, lam_raw, victim, six_layers, case_id, overrides, st, code, message):
    before = lam.get_function(FunctionName=victim)
    params = dict(overrides)
    if params.get("Layers") == "SIX":
        params["Layers"] = six_layers
    resp = expect_error(lam_raw.update_function_configuration, FunctionName=victim, status_code=st, code=code,
                        message=message if isinstance(message, str) else None, **params)
    if callable(message):
        message(resp["Error"]["Message"])
    after = lam.get_function(FunctionName=victim)
    assert after["Configuration"] == before["Configuration"], "a rejected update changed the function"


@pytest.mark.parametrize("case_id", ["zip-unreadable", "zip-dotdot-entry", "zip-bomb"])
def test_update_code_validation(lam, lam_raw, victim, bomb_zip, case_id):
    payload, message = {
        "zip-unreadable": (b"PK\x03\x04 truncated",
                           "Could not unzip uploaded file. Please check your file, then try to upload again."),
        "zip-dotdot-entry": (evil_zip(), None),
        "zip-bomb": (bomb_zip, "Unzipped size must be smaller than 262144000 bytes"),
    }[case_id]
    before = lam.get_function(FunctionName=victim)
    resp = expect_error(lam_raw.update_function_code, FunctionName=victim, ZipFile=payload, status_code=400,
                        code="InvalidParameterValueException", message=message)
    if message is None:
        check_unsafe_zip_message(resp["Error"]["Message"])
    after = lam.get_function(FunctionName=victim)
    assert after["Configuration"] == before["Configuration"]
    assert fetch(after["Code"]["Location"])[1] == fetch(before["Code"]["Location"])[1]


def test_env_exactly_4kb_is_accepted(lam):
    variables = big_env(4096)
    assert len(env_json(variables).encode()) == 4096
    name, resp = create_active(lam, Environment={"Variables": variables})
    assert resp["Environment"] == {"Variables": variables}
    # And the same boundary on update.
    name2, _ = create_active(lam)
    lam.update_function_configuration(FunctionName=name2, Environment={"Variables": variables})
    wait_updated(lam, name2)
    assert lam.get_function_configuration(FunctionName=name2)["Environment"] == {"Variables": variables}


def test_env_4kb_counts_utf8_bytes(lam):
    """The 4 KB limit is on the UTF-8 bytes of the compact JSON, not on characters."""
    overhead = len(env_json({"LARGE_VAR": ""}))
    variables = {"LARGE_VAR": "é" * ((4097 - overhead) // 2 + 1)}  # > 4096 bytes, < 4096 characters
    assert len(env_json(variables)) < 4096 < len(env_json(variables).encode())
    name = unique("bad")
    expect_error(create, lam, name, Environment={"Variables": variables}, status_code=400,
                 code="InvalidParameterValueException", message=ENV_4KB + env_json(variables))
    assert_absent(lam, name)


@pytest.mark.parametrize("runtime", ["python3.12", "nodejs20.x", "provided.al2023"])
def test_accepted_runtimes(lam, runtime):
    handler = "bootstrap" if runtime.startswith("provided") else "app.handler"
    name, resp = create_active(lam, Runtime=runtime, Handler=handler)
    assert status(resp) == 201 and resp["Runtime"] == runtime
    assert lam.get_function_configuration(FunctionName=name)["Runtime"] == runtime


def test_get_with_invalid_names(lam_raw):
    expect_error(lam_raw.get_function, FunctionName="invalid:function:name", status_code=400,
                 code="ValidationException",
                 message=coral("invalid:function:name", "functionName",
                               f"Member must satisfy regular expression pattern: {NS_FN_PATTERN}"))
    expect_error(lam_raw.get_function, FunctionName=f"arn:aws:lambda:ap-southeast-1:{DEV_ACCOUNT}:function:x",
                 status_code=404, code="ResourceNotFoundException",
                 message="Functions from 'ap-southeast-1' are not reachable in this region ('us-east-1')")
    expect_error(lam_raw.get_function, FunctionName="fn", Qualifier="bad?qualifier", status_code=400,
                 code="ValidationException",
                 message=coral("bad?qualifier", "qualifier", "Member must satisfy regular expression pattern: "
                                                             "\\$(LATEST(\\.PUBLISHED)?)|[a-zA-Z0-9-_$]+"))
    # Overlong names on Get are just not found.
    long_name = "c" * 100
    expect_error(lam_raw.get_function, FunctionName=long_name, status_code=404, code="ResourceNotFoundException",
                 message=not_found_msg(long_name))


# ---------------------------------------------------------------------------------------------
# SigV4 (§8.5), regions and accounts (§8.6)
# ---------------------------------------------------------------------------------------------


def test_unsigned_request_is_rejected(endpoint):
    st, headers, body = support.http_request("GET", f"{endpoint}/2015-03-31/functions")
    assert st == 403
    assert headers.get("x-amzn-errortype", "").split(":")[0] == "MissingAuthenticationTokenException"
    assert json.loads(body) == {"message": "Missing Authentication Token"}


def test_wrong_secret_is_rejected(endpoint):
    bad = support.lambda_client(endpoint, secret="not-the-secret")
    expect_error(bad.list_functions, status_code=403, code="InvalidSignatureException",
                 message_prefix="The request signature we calculated does not match the signature you provided. "
                                "Check your AWS Secret Access Key and signing method.")
    name = unique()
    expect_error(bad.create_function, FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="app.handler",
                 Code={"ZipFile": make_zip()}, status_code=403, code="InvalidSignatureException")
    assert_absent(support.lambda_client(endpoint), name)


def test_unknown_key_is_rejected(endpoint):
    bad = support.lambda_client(endpoint, key="AKIAUNKNOWNKEY000000", secret="whatever")
    expect_error(bad.list_functions, status_code=403, code="UnrecognizedClientException",
                 message="The security token included in the request is invalid.")


def test_signed_raw_request_is_accepted(endpoint):
    st, _, body = support.signed_request(endpoint, "GET", "/2015-03-31/functions?MaxItems=1")
    assert st == 200 and "Functions" in json.loads(body)


def test_tampered_body_is_rejected(endpoint):
    """The payload hash is part of the signature: changing the body after signing must fail."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    name = unique()
    body = json.dumps({"FunctionName": name, "Runtime": "python3.12", "Role": ROLE, "Handler": "app.handler",
                       "Code": {"ZipFile": base64.b64encode(make_zip()).decode()}}).encode()
    req = AWSRequest(method="POST", url=f"{endpoint}/2015-03-31/functions", data=body,
                     headers={"Content-Type": "application/json"})
    SigV4Auth(Credentials("test", "test"), "lambda", REGION).add_auth(req)
    headers = dict(req.prepare().headers.items())
    st, h, _ = support.http_request("POST", f"{endpoint}/2015-03-31/functions", body.replace(b"3.12", b"3.13"),
                                    headers)
    assert st == 403 and h.get("x-amzn-errortype", "").split(":")[0] == "InvalidSignatureException"


def _sign_at(monkeypatch, when, fn):
    """Runs fn() with botocore's signing clock set to `when` (naive UTC)."""
    import botocore.auth

    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda *a, **k: when)
    try:
        return fn()
    finally:
        monkeypatch.undo()


def _utcnow():
    import datetime

    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


def test_clock_skew_window(endpoint, monkeypatch):
    """§8.5: X-Amz-Date more than 5 minutes off is refused; a few minutes of skew is fine."""
    import datetime

    path = "/2015-03-31/functions?MaxItems=1"
    old = _utcnow() - datetime.timedelta(minutes=10)
    st, headers, body = _sign_at(monkeypatch, old, lambda: support.signed_request(endpoint, "GET", path))
    assert st == 403 and headers["x-amzn-errortype"].split(":")[0] == "InvalidSignatureException"
    assert json.loads(body)["message"].startswith(f"Signature expired: {old.strftime('%Y%m%dT%H%M%SZ')} is now "
                                                  "earlier than ")
    future = _utcnow() + datetime.timedelta(minutes=10)
    st, headers, _ = _sign_at(monkeypatch, future, lambda: support.signed_request(endpoint, "GET", path))
    assert st == 403 and headers["x-amzn-errortype"].split(":")[0] == "InvalidSignatureException"
    for minutes in (-3, 3):
        skewed = _utcnow() + datetime.timedelta(minutes=minutes)
        st, _, _ = _sign_at(monkeypatch, skewed, lambda: support.signed_request(endpoint, "GET", path))
        assert st == 200, f"{minutes} minutes of skew must be accepted"


def test_presigned_url(lam, endpoint, monkeypatch):
    """§8.4: the query-string form that boto3's generate_presigned_url produces."""
    import datetime

    name, _ = create_active(lam)
    url = lam.generate_presigned_url("get_function", Params={"FunctionName": name}, ExpiresIn=300)
    st, _, body = support.http_request("GET", url)
    assert st == 200 and json.loads(body)["Configuration"]["FunctionName"] == name
    st, _, _ = support.http_request("GET", url.replace(name, name + "x"))
    assert st == 403, "changing a signed path must break the signature"
    two_hours_ago = _utcnow() - datetime.timedelta(hours=2)
    expired = _sign_at(monkeypatch, two_hours_ago, lambda: lam.generate_presigned_url(
        "get_function", Params={"FunctionName": name}, ExpiresIn=3600))
    st, headers, _ = support.http_request("GET", expired)
    assert st == 403


def test_regions_are_separate(endpoint):
    east = support.lambda_client(endpoint, region="us-east-1")
    west = support.lambda_client(endpoint, region="us-west-2")
    name = unique("west")
    resp = create(west, name)
    assert resp["FunctionArn"] == fn_arn(name, region="us-west-2")
    west.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig=FAST)
    assert west.get_function(FunctionName=name)["Configuration"]["FunctionArn"] == fn_arn(name, region="us-west-2")
    expect_error(east.get_function, FunctionName=name, status_code=404, code="ResourceNotFoundException",
                 message=not_found_msg(name))
    east_names = {f["FunctionName"] for p in east.get_paginator("list_functions").paginate() for f in p["Functions"]}
    west_names = {f["FunctionName"] for p in west.get_paginator("list_functions").paginate() for f in p["Functions"]}
    assert name in west_names and name not in east_names
    expect_error(east.get_function, FunctionName=fn_arn(name, region="us-west-2"), status_code=404,
                 code="ResourceNotFoundException",
                 message="Functions from 'us-west-2' are not reachable in this region ('us-east-1')")
    # The same name can exist in both regions independently.
    assert create(east, name)["FunctionArn"] == fn_arn(name)
    layer = unique("layer")
    assert publish_layer(west, layer)["LayerVersionArn"] == layer_arn(layer, 1, region="us-west-2")
    assert layer not in [entry["LayerName"] for entry in east.list_layers()["Layers"]]
    expect_error(east.get_layer_version, LayerName=layer, VersionNumber=1, status_code=404,
                 code="ResourceNotFoundException")


OTHER_ACCOUNT = "111111111111"
OTHER_KEY = "AKIAOTHERACCOUNT0001"
OTHER_SECRET = "other-account-secret-key"


@pytest.fixture(scope="module")
def two_accounts(server_factory):
    return server_factory(keys=[(OTHER_ACCOUNT, OTHER_KEY, OTHER_SECRET)])


def test_accounts_are_separate(two_accounts):
    ep = two_accounts.endpoint
    a = support.lambda_client(ep)
    b = support.lambda_client(ep, key=OTHER_KEY, secret=OTHER_SECRET)
    mine = unique("acct-a")
    create_active(a, mine)
    theirs = unique("acct-b")
    resp = create(b, theirs, Role=f"arn:aws:iam::{OTHER_ACCOUNT}:role/lambda-role")
    assert resp["FunctionArn"] == fn_arn(theirs, account=OTHER_ACCOUNT)
    b_names = {f["FunctionName"] for f in b.list_functions()["Functions"]}
    a_names = {f["FunctionName"] for f in a.list_functions()["Functions"]}
    assert theirs in b_names and mine not in b_names
    assert mine in a_names and theirs not in a_names
    expect_error(b.get_function, FunctionName=mine, status_code=404, code="ResourceNotFoundException",
                 message=f"Function not found: {fn_arn(mine, account=OTHER_ACCOUNT)}")
    # Naming the other account's function by ARN is refused (§0.5), and does not leak it.
    expect_error(b.get_function, FunctionName=fn_arn(mine), status_code=403, code="AccessDeniedException")
    with pytest.raises(ClientError):
        b.delete_function(FunctionName=fn_arn(mine))
    assert a.get_function(FunctionName=mine)["Configuration"]["FunctionName"] == mine
    # Usage is per account.
    assert b.get_account_settings()["AccountUsage"]["FunctionCount"] == 1
    # Layers too.
    layer = unique("layer")
    publish_layer(a, layer)
    assert layer not in [entry["LayerName"] for entry in b.list_layers()["Layers"]]
    expect_error(b.get_layer_version, LayerName=layer, VersionNumber=1, status_code=404,
                 code="ResourceNotFoundException")
    assert publish_layer(b, layer)["LayerVersionArn"] == layer_arn(layer, 1, account=OTHER_ACCOUNT)


# ---------------------------------------------------------------------------------------------
# Durability: restart, kill -9, encryption at rest
# ---------------------------------------------------------------------------------------------


def without_locations(obj):
    """Drops presigned download URLs (they legitimately change) from a response."""
    if isinstance(obj, dict):
        return {k: without_locations(v) for k, v in obj.items() if k not in ("Location", "ResponseMetadata")}
    if isinstance(obj, list):
        return [without_locations(v) for v in obj]
    return obj


def read_everything(lam, fn: str, layer: str) -> dict:
    state = {
        "get_function": lam.get_function(FunctionName=fn),
        "latest": lam.get_function_configuration(FunctionName=fn),
        "v1": lam.get_function_configuration(FunctionName=fn, Qualifier="1"),
        "v2": lam.get_function_configuration(FunctionName=fn, Qualifier="2"),
        "via_alias": lam.get_function(FunctionName=fn, Qualifier="live"),
        "versions": lam.list_versions_by_function(FunctionName=fn),
        "aliases": lam.list_aliases(FunctionName=fn),
        "alias": lam.get_alias(FunctionName=fn, Name="live"),
        "policy": lam.get_policy(FunctionName=fn),
        "tags": lam.list_tags(Resource=fn_arn(fn)),
        "concurrency": lam.get_function_concurrency(FunctionName=fn),
        "layer_versions": lam.list_layer_versions(LayerName=layer),
        "layer_v1": lam.get_layer_version(LayerName=layer, VersionNumber=1),
        "functions": lam.list_functions(FunctionVersion="ALL"),
        "layers": lam.list_layers(),
        "account": lam.get_account_settings(),
    }
    return without_locations(state)


def test_restart_preserves_everything(server_factory):
    server = server_factory()
    lam = support.lambda_client(server.endpoint)
    layer = unique("layer")
    publish_layer(lam, layer, Description="persisted", LicenseInfo="Apache-2.0")
    code = make_zip({"app.py": support.HANDLER_PY, "data/blob.bin": bytes(range(256)) * 40})
    fn, _ = create_active(lam, zip_bytes=code, MemorySize=512, Timeout=42, Description="durable",
                          Environment={"Variables": {"DB_HOST": "db.internal", "FLAG": "1"}},
                          Layers=[layer_arn(layer, 1)], Tags={"owner": "compat"})
    lam.publish_version(FunctionName=fn)
    lam.update_function_configuration(FunctionName=fn, Environment={"Variables": {"DB_HOST": "db2", "FLAG": "2"}})
    wait_updated(lam, fn)
    lam.publish_version(FunctionName=fn)
    lam.create_alias(FunctionName=fn, Name="live", FunctionVersion="1",
                     RoutingConfig={"AdditionalVersionWeights": {"2": 0.25}})
    lam.add_permission(FunctionName=fn, StatementId="s3", Action="lambda:InvokeFunction",
                       Principal="s3.amazonaws.com", SourceArn="arn:aws:s3:::bucket")
    lam.put_function_concurrency(FunctionName=fn, ReservedConcurrentExecutions=7)
    before = read_everything(lam, fn, layer)

    server.restart()
    lam = support.lambda_client(server.endpoint)
    after = read_everything(lam, fn, layer)
    for key in before:
        assert after[key] == before[key], f"{key} changed across a restart"
    got = lam.get_function(FunctionName=fn)
    assert fetch(got["Code"]["Location"]) == (200, code)
    assert fetch(lam.get_layer_version(LayerName=layer, VersionNumber=1)["Content"]["Location"]) == (200, LAYER_ZIP)
    # And it keeps working: new writes after the restart.
    assert lam.publish_version(FunctionName=fn)["Version"] == "2", "no-op publish after restart"
    assert publish_layer(lam, layer)["Version"] == 2


def test_kill_9_after_create_keeps_function(server_factory):
    server = server_factory()
    lam = support.lambda_client(server.endpoint)
    name = unique("crash")
    code = make_zip({"app.py": "def handler(e, c):\n    return 'durable'\n"})
    resp = create(lam, name, zip_bytes=code, Environment={"Variables": {"AFTER_CRASH": "still-here"}})
    assert status(resp) == 201
    server.kill9()
    server.start()
    lam = support.lambda_client(server.endpoint)
    lam.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig=FAST)
    got = lam.get_function(FunctionName=name)
    assert got["Configuration"]["CodeSha256"] == b64sha256(code)
    assert got["Configuration"]["Environment"] == {"Variables": {"AFTER_CRASH": "still-here"}}
    assert fetch(got["Code"]["Location"]) == (200, code)


def test_kill_9_after_publish_and_update(server_factory):
    server = server_factory()
    lam = support.lambda_client(server.endpoint)
    name, _ = create_active(lam)
    v = lam.publish_version(FunctionName=name)
    assert status(v) == 201
    upd = lam.update_function_configuration(FunctionName=name, MemorySize=640)
    assert status(upd) == 200
    layer = unique("layer")
    assert status(publish_layer(lam, layer)) == 201
    server.kill9()
    server.start()
    lam = support.lambda_client(server.endpoint)
    wait_updated(lam, name)
    assert lam.get_function_configuration(FunctionName=name)["MemorySize"] == 640
    assert [x["Version"] for x in lam.list_versions_by_function(FunctionName=name)["Versions"]] == ["$LATEST", "1"]
    assert lam.get_layer_version(LayerName=layer, VersionNumber=1)["Version"] == 1


def files_containing(root, needle: bytes) -> list[str]:
    hits = []
    for path in sorted(root.rglob("*")):
        if path.is_file():
            try:
                data = path.read_bytes()
            except OSError:
                continue
            if needle in data:
                hits.append(str(path.relative_to(root)))
    return hits


def plaintext_forms(value: str) -> list[bytes]:
    """The value as stored plainly or merely encoded: UTF-8, UTF-16, hex, and base64 at any alignment."""
    raw = value.encode()
    forms = [raw, value.encode("utf-16-le"), raw.hex().encode(), raw.hex().upper().encode()]
    for shift in range(3):
        encoded = base64.b64encode(b"\0" * shift + raw)
        # Drop the characters that depend on neighbouring bytes; the middle is fixed by the value alone.
        forms.append(encoded[4:-4])
        forms.append(base64.urlsafe_b64encode(b"\0" * shift + raw)[4:-4])
    return forms


def test_env_values_encrypted_at_rest(lam, lamina):
    canary = f"canary-{unique('secret')}-plaintext"
    name, _ = create_active(lam, Environment={"Variables": {"API_TOKEN": canary}})
    assert lam.get_function_configuration(FunctionName=name)["Environment"]["Variables"]["API_TOKEN"] == canary
    second = f"rotated-{unique('secret')}-plaintext"
    lam.update_function_configuration(FunctionName=name, Environment={"Variables": {"API_TOKEN": second}})
    wait_updated(lam, name)
    lam.publish_version(FunctionName=name)
    assert lam.get_function_configuration(FunctionName=name, Qualifier="1")["Environment"]["Variables"] == \
           {"API_TOKEN": second}
    files = [p for p in lamina.data_dir.rglob("*") if p.is_file()]
    assert files, "the data dir is empty: is the server writing somewhere else?"
    for value in (canary, second):
        for form in plaintext_forms(value):
            hits = files_containing(lamina.data_dir, form)
            assert not hits, f"environment value found unencrypted ({form[:16]!r}…) in {hits}"


def test_env_values_not_in_server_log(lam, lamina):
    canary = f"logcanary-{unique('secret')}"
    name, _ = create_active(lam, Environment={"Variables": {"PASSWORD": canary}})
    lam.get_function(FunctionName=name)
    lam.update_function_configuration(FunctionName=name, Environment={"Variables": {"PASSWORD": canary + "2"}})
    assert canary not in lamina.log_path.read_text("utf-8", "replace"), "an environment value reached the log"


def test_layer_version_permissions_as_aws_records_them(lam):
    """AddLayerVersionPermission / GetLayerVersionPolicy / RemoveLayerVersionPermission (recorded shapes)."""
    import json as _json
    name = support.unique("lp")
    arn = lam.publish_layer_version(LayerName=name, Content={"ZipFile": support.make_zip()})["LayerVersionArn"]
    with pytest.raises(ClientError) as e:
        lam.get_layer_version_policy(LayerName=name, VersionNumber=1)
    assert e.value.response["Error"]["Message"] == "No policy is associated with the given resource."
    r = lam.add_layer_version_permission(LayerName=name, VersionNumber=1, StatementId="s1",
                                         Action="lambda:GetLayerVersion", Principal="*")
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert _json.loads(r["Statement"]) == {"Sid": "s1", "Effect": "Allow", "Principal": "*",
                                            "Action": "lambda:GetLayerVersion", "Resource": arn}
    with pytest.raises(ClientError) as e:
        lam.add_layer_version_permission(LayerName=name, VersionNumber=1, StatementId="s2", Action="*", Principal="*")
    assert e.value.response["Error"]["Code"] == "ValidationException"
    assert e.value.response["Error"]["Message"] == ("1 validation error detected: Value '*' at 'action' failed to satisfy "
                                                    "constraint: Member must satisfy regular expression pattern: lambda:GetLayerVersion")
    with pytest.raises(ClientError) as e:
        lam.add_layer_version_permission(LayerName=name, VersionNumber=1, StatementId="s1",
                                         Action="lambda:GetLayerVersion", Principal="*")
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409
    with pytest.raises(ClientError) as e:
        lam.add_layer_version_permission(LayerName=name, VersionNumber=1, StatementId="s3", Action="lambda:GetLayerVersion",
                                         Principal="123456789012", RevisionId="wrong")
    assert e.value.response["Error"]["Code"] == "PreconditionFailedException"
    with pytest.raises(ClientError) as e:
        lam.add_layer_version_permission(LayerName=name, VersionNumber=2, StatementId="s3", Action="lambda:GetLayerVersion",
                                         Principal="*")
    assert e.value.response["Error"]["Message"] == f"Layer version {arn[:-1]}2 does not exist."
    policy = lam.get_layer_version_policy(LayerName=name, VersionNumber=1)
    assert [s["Sid"] for s in _json.loads(policy["Policy"])["Statement"]] == ["s1"]
    with pytest.raises(ClientError) as e:
        lam.remove_layer_version_permission(LayerName=name, VersionNumber=1, StatementId="nope")
    assert e.value.response["Error"]["Message"] == "Statement nope is not found in resource policy."
    d = lam.remove_layer_version_permission(LayerName=name, VersionNumber=1, StatementId="s1",
                                            RevisionId=policy["RevisionId"])
    assert d["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(ClientError) as e:
        lam.get_layer_version_policy(LayerName=name, VersionNumber=1)
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
