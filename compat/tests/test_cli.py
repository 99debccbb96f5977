"""The aws CLI v1 (awscli 1.46.3) against a real Lamina server.

Each test drives `aws lambda ...` exactly as a user would (`--zip-file fileb://`, shorthand syntax,
waiters, automatic pagination) and checks the JSON it prints and its exit code.
"""

from __future__ import annotations

import json

import support
from support import ROLE, b64sha256, fetch, fn_arn, layer_arn, make_zip, unique

# aws CLI v1 exits 255 when the service answers with an error (clients.md §1.1).
SERVICE_ERROR_EXIT = 255


def ok(result):
    rc, out, err = result
    assert rc == 0, f"aws exited {rc}: {err}"
    return out


def write_zip(tmp_path, name: str, files=None) -> tuple[str, bytes]:
    data = make_zip(files)
    path = tmp_path / name
    path.write_bytes(data)
    return f"fileb://{path}", data


def create_fn(aws, tmp_path, name, *extra, files=None):
    uri, data = write_zip(tmp_path, f"{name}.zip", files)
    out = ok(aws("create-function", "--function-name", name, "--runtime", "python3.12", "--role", ROLE,
                 "--handler", "app.handler", "--zip-file", uri, *extra))
    return out, data


def test_cli_version_is_pinned():
    import subprocess

    proc = subprocess.run([str(support.aws_cli_path()), "--version"], capture_output=True, text=True)
    assert proc.returncode == 0
    assert (proc.stdout + proc.stderr).startswith("aws-cli/1.46.3 ")


def test_create_wait_get(aws, tmp_path, endpoint):
    name = unique("cli")
    created, code = create_fn(aws, tmp_path, name)
    assert created["FunctionName"] == name and created["FunctionArn"] == fn_arn(name)
    assert created["State"] == "Pending" and "LastUpdateStatus" not in created
    assert created["CodeSha256"] == b64sha256(code) and created["CodeSize"] == len(code)

    rc, out, err = aws("wait", "function-exists", "--function-name", name)
    assert rc == 0 and out is None, err
    rc, out, err = aws("wait", "function-active-v2", "--function-name", name)
    assert rc == 0, err
    assert out is None, "waiters print nothing on success"

    got = ok(aws("get-function", "--function-name", name))
    cfg = got["Configuration"]
    assert cfg["State"] == "Active" and cfg["LastUpdateStatus"] == "Successful"
    assert got["Code"]["RepositoryType"] == "S3"
    location = got["Code"]["Location"]
    assert location.startswith(endpoint + "/")
    status, body = fetch(location)
    assert status == 200 and body == code
    assert b64sha256(body) == cfg["CodeSha256"]

    conf = ok(aws("get-function-configuration", "--function-name", name))
    assert conf == cfg
    by_arn = ok(aws("get-function-configuration", "--function-name", fn_arn(name), "--qualifier", "$LATEST"))
    assert by_arn["FunctionArn"] == fn_arn(name, "$LATEST")


def test_list_functions_pagination(aws, tmp_path):
    prefix = unique("clipage")
    names = {f"{prefix}-{i}" for i in range(5)}
    for n in sorted(names):
        create_fn(aws, tmp_path, n)

    paged = ok(aws("list-functions", "--page-size", "2"))
    listed = [f["FunctionName"] for f in paged["Functions"]]
    assert names <= set(listed), "the CLI follows NextMarker to the end"
    assert len(listed) == len(set(listed)), "no function is listed twice"
    assert "NextToken" not in paged and "NextMarker" not in paged
    for f in paged["Functions"]:
        assert "State" not in f and "LastUpdateStatus" not in f

    # --max-items caps the output and prints a CLI resume token; --starting-token continues.
    collected: list[str] = []
    token = None
    for _ in range(1000):
        args = ["list-functions", "--max-items", "2", "--page-size", "2"]
        if token:
            args += ["--starting-token", token]
        page = ok(aws(*args))
        assert len(page["Functions"]) <= 2
        collected += [f["FunctionName"] for f in page["Functions"]]
        token = page.get("NextToken")
        if not token:
            break
    assert names <= set(collected)
    assert len(collected) == len(set(collected))

    first3 = ok(aws("list-functions", "--max-items", "3"))
    assert len(first3["Functions"]) == 3 and "NextToken" in first3


def test_update_configuration_and_code(aws, tmp_path):
    name = unique("cli")
    created, _ = create_fn(aws, tmp_path, name)
    ok(aws("wait", "function-active-v2", "--function-name", name))

    upd = ok(aws("update-function-configuration", "--function-name", name,
                 "--environment", "Variables={STAGE=prod,DB_HOST=db.internal}",
                 "--memory-size", "256", "--timeout", "30"))
    assert upd["MemorySize"] == 256 and upd["Timeout"] == 30
    assert upd["RevisionId"] != created["RevisionId"]
    assert upd["LastUpdateStatus"] in ("InProgress", "Successful")
    ok(aws("wait", "function-updated-v2", "--function-name", name))
    conf = ok(aws("get-function-configuration", "--function-name", name))
    assert conf["Environment"] == {"Variables": {"STAGE": "prod", "DB_HOST": "db.internal"}}
    assert conf["MemorySize"] == 256 and conf["Timeout"] == 30 and conf["LastUpdateStatus"] == "Successful"

    uri, code2 = write_zip(tmp_path, "v2.zip", {"app.py": "def handler(e, c):\n    return 2\n"})
    pub = ok(aws("update-function-code", "--function-name", name, "--zip-file", uri, "--publish"))
    assert pub["Version"] == "1" and pub["FunctionArn"] == fn_arn(name, "1")
    assert pub["CodeSha256"] == b64sha256(code2)
    ok(aws("wait", "function-updated-v2", "--function-name", name))
    ok(aws("wait", "published-version-active", "--function-name", name, "--qualifier", "1"))
    got = ok(aws("get-function", "--function-name", name))
    assert fetch(got["Code"]["Location"]) == (200, code2)


def test_publish_versions(aws, tmp_path):
    name = unique("cli")
    create_fn(aws, tmp_path, name)
    ok(aws("wait", "function-active-v2", "--function-name", name))
    v1 = ok(aws("publish-version", "--function-name", name, "--description", "first"))
    assert v1["Version"] == "1" and v1["Description"] == "first"
    again = ok(aws("publish-version", "--function-name", name))
    assert again["Version"] == "1" and again["RevisionId"] == v1["RevisionId"], "no-op publish returns version 1"
    ok(aws("update-function-configuration", "--function-name", name, "--timeout", "11"))
    ok(aws("wait", "function-updated-v2", "--function-name", name))
    v2 = ok(aws("publish-version", "--function-name", name))
    assert v2["Version"] == "2"
    versions = ok(aws("list-versions-by-function", "--function-name", name))["Versions"]
    assert [v["Version"] for v in versions] == ["$LATEST", "1", "2"]
    assert [v["FunctionArn"] for v in versions] == [fn_arn(name, q) for q in ("$LATEST", "1", "2")]
    paged = ok(aws("list-versions-by-function", "--function-name", name, "--page-size", "1"))["Versions"]
    assert [v["Version"] for v in paged] == ["$LATEST", "1", "2"]


def test_aliases(aws, tmp_path):
    name = unique("cli")
    create_fn(aws, tmp_path, name)
    ok(aws("wait", "function-active-v2", "--function-name", name))
    ok(aws("publish-version", "--function-name", name))
    ok(aws("update-function-configuration", "--function-name", name, "--timeout", "9"))
    ok(aws("wait", "function-updated-v2", "--function-name", name))
    ok(aws("publish-version", "--function-name", name))

    alias = ok(aws("create-alias", "--function-name", name, "--name", "live", "--function-version", "1",
                   "--description", "production"))
    assert alias["AliasArn"] == fn_arn(name, "live") and alias["FunctionVersion"] == "1"
    assert "RoutingConfig" not in alias
    upd = ok(aws("update-alias", "--function-name", name, "--name", "live",
                 # What the shell passes for AWS's documented `AdditionalVersionWeights={"2"=0.1}`.
                 "--routing-config", "AdditionalVersionWeights={2=0.1}"))
    assert upd["RoutingConfig"] == {"AdditionalVersionWeights": {"2": 0.1}}
    assert upd["RevisionId"] != alias["RevisionId"]
    got = ok(aws("get-alias", "--function-name", name, "--name", "live"))
    assert got == upd
    ok(aws("create-alias", "--function-name", name, "--name", "beta", "--function-version", "2"))
    listed = ok(aws("list-aliases", "--function-name", name))["Aliases"]
    assert [a["Name"] for a in listed] == ["beta", "live"]
    rc, out, err = aws("delete-alias", "--function-name", name, "--name", "beta")
    assert rc == 0 and out is None, err
    assert [a["Name"] for a in ok(aws("list-aliases", "--function-name", name))["Aliases"]] == ["live"]


def test_concurrency_and_account_settings(aws, tmp_path):
    name = unique("cli")
    create_fn(aws, tmp_path, name)
    settings = ok(aws("get-account-settings"))
    assert settings["AccountLimit"]["ConcurrentExecutions"] == 1000
    unreserved = settings["AccountLimit"]["UnreservedConcurrentExecutions"]

    put = ok(aws("put-function-concurrency", "--function-name", name, "--reserved-concurrent-executions", "5"))
    assert put == {"ReservedConcurrentExecutions": 5}
    try:
        assert ok(aws("get-function-concurrency", "--function-name", name)) == {"ReservedConcurrentExecutions": 5}
        after = ok(aws("get-account-settings"))["AccountLimit"]["UnreservedConcurrentExecutions"]
        assert after == unreserved - 5
    finally:
        rc, out, err = aws("delete-function-concurrency", "--function-name", name)
    assert rc == 0 and out is None, err
    assert ok(aws("get-function-concurrency", "--function-name", name)) in (None, {})
    assert ok(aws("get-function-code-signing-config", "--function-name", name)) in (None, {})


def test_tags(aws, tmp_path):
    name = unique("cli")
    create_fn(aws, tmp_path, name, "--tags", "team=compat")
    arn = fn_arn(name)
    rc, out, err = aws("tag-resource", "--resource", arn, "--tags", "env=test,cost=none")
    assert rc == 0 and out is None, err
    assert ok(aws("list-tags", "--resource", arn))["Tags"] == {"team": "compat", "env": "test", "cost": "none"}
    rc, out, err = aws("untag-resource", "--resource", arn, "--tag-keys", "env", "cost")
    assert rc == 0 and out is None, err
    assert ok(aws("list-tags", "--resource", arn))["Tags"] == {"team": "compat"}


def test_permissions(aws, tmp_path):
    name = unique("cli")
    create_fn(aws, tmp_path, name)
    added = ok(aws("add-permission", "--function-name", name, "--statement-id", "s3-invoke",
                   "--action", "lambda:InvokeFunction", "--principal", "s3.amazonaws.com",
                   "--source-arn", "arn:aws:s3:::my-bucket", "--source-account", "123456789012"))
    stmt = json.loads(added["Statement"])
    assert stmt["Sid"] == "s3-invoke" and stmt["Resource"] == fn_arn(name)
    assert stmt["Principal"] == {"Service": "s3.amazonaws.com"}
    policy = ok(aws("get-policy", "--function-name", name))
    doc = json.loads(policy["Policy"])
    assert doc["Version"] == "2012-10-17" and doc["Statement"] == [stmt]
    assert policy["RevisionId"]
    rc, out, err = aws("remove-permission", "--function-name", name, "--statement-id", "s3-invoke")
    assert rc == 0 and out is None, err
    rc, _, err = aws("get-policy", "--function-name", name)
    assert rc == SERVICE_ERROR_EXIT and "(ResourceNotFoundException)" in err


def test_layers(aws, tmp_path, endpoint):
    layer = unique("clilayer")
    uri, layer_zip = write_zip(tmp_path, "layer.zip", {"python/util.py": "X = 1\n"})
    v1 = ok(aws("publish-layer-version", "--layer-name", layer, "--zip-file", uri,
                "--compatible-runtimes", "python3.12", "--description", "util layer"))
    assert v1["Version"] == 1 and v1["LayerVersionArn"] == layer_arn(layer, 1)
    assert v1["Content"]["CodeSha256"] == b64sha256(layer_zip)
    assert fetch(v1["Content"]["Location"]) == (200, layer_zip)
    v2 = ok(aws("publish-layer-version", "--layer-name", layer, "--zip-file", uri))
    assert v2["Version"] == 2

    layers = ok(aws("list-layers"))["Layers"]
    mine = [entry for entry in layers if entry["LayerName"] == layer]
    assert len(mine) == 1 and mine[0]["LatestMatchingVersion"]["Version"] == 2
    versions = ok(aws("list-layer-versions", "--layer-name", layer))["LayerVersions"]
    assert [v["Version"] for v in versions] == [2, 1]
    got = ok(aws("get-layer-version", "--layer-name", layer, "--version-number", "1"))
    assert got["Description"] == "util layer" and got["CompatibleRuntimes"] == ["python3.12"]

    name = unique("cli")
    created, _ = create_fn(aws, tmp_path, name, "--layers", layer_arn(layer, 1))
    assert [entry["Arn"] for entry in created["Layers"]] == [layer_arn(layer, 1)]
    conf = ok(aws("get-function-configuration", "--function-name", name))
    assert conf["Layers"] == [{"Arn": layer_arn(layer, 1), "CodeSize": len(layer_zip)}]

    rc, out, err = aws("delete-layer-version", "--layer-name", layer, "--version-number", "2")
    assert rc == 0 and out is None, err
    versions = ok(aws("list-layer-versions", "--layer-name", layer))["LayerVersions"]
    assert [v["Version"] for v in versions] == [1]


def test_delete_function(aws, tmp_path):
    name = unique("cli")
    create_fn(aws, tmp_path, name)
    rc, out, err = aws("delete-function", "--function-name", name)
    # DeleteFunction's output member StatusCode is bound to the HTTP status (204 from AWS).
    assert rc == 0 and out == {"StatusCode": 204}, err
    rc, _, err = aws("get-function", "--function-name", name)
    assert rc == SERVICE_ERROR_EXIT
    assert f"An error occurred (ResourceNotFoundException) when calling the GetFunction operation: " \
           f"Function not found: {fn_arn(name)}" in err


def test_error_exit_codes(aws, tmp_path):
    missing = unique("missing")
    rc, out, err = aws("get-function", "--function-name", missing)
    assert rc == SERVICE_ERROR_EXIT and out is None
    assert "An error occurred (ResourceNotFoundException) when calling the GetFunction operation: " \
           f"Function not found: {fn_arn(missing)}" in err

    name = unique("cli")
    create_fn(aws, tmp_path, name)
    uri, _ = write_zip(tmp_path, "dup.zip")
    rc, out, err = aws("create-function", "--function-name", name, "--runtime", "python3.12", "--role", ROLE,
                       "--handler", "app.handler", "--zip-file", uri)
    assert rc == SERVICE_ERROR_EXIT and out is None
    assert "An error occurred (ResourceConflictException) when calling the CreateFunction operation: " \
           f"Function already exist: {name}" in err

    rc, out, err = aws("update-function-configuration", "--function-name", name, "--memory-size", "10241")
    assert rc == SERVICE_ERROR_EXIT and out is None
    assert "An error occurred (ValidationException) when calling the UpdateFunctionConfiguration operation: " \
           "1 validation error detected: Value '10241' at 'memorySize' failed to satisfy constraint: " \
           "Member must have value less than or equal to 10240" in err

    bad = unique("cli")
    rc, out, err = aws("create-function", "--function-name", bad, "--runtime", "python3.12", "--role", ROLE,
                       "--handler", "app.handler", "--zip-file", uri, "--environment", "Variables={AWS_REGION=x}")
    assert rc == SERVICE_ERROR_EXIT and out is None
    assert "An error occurred (InvalidParameterValueException) when calling the CreateFunction operation: " \
           "Lambda was unable to configure your environment variables because the environment variables you " \
           "have provided contains reserved keys that are currently not supported for modification. Reserved " \
           "keys used in this request: AWS_REGION" in err
    rc, _, err = aws("get-function", "--function-name", bad)
    assert rc == SERVICE_ERROR_EXIT and "(ResourceNotFoundException)" in err
