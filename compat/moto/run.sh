#!/usr/bin/env bash
# Runs moto 5.2.5's Lambda tests in server mode against Lamina (reference: clients.md §4.2).
#
# moto's tests are downloaded at run time from the moto sdist on PyPI into a temp dir (never committed).
# A router (router.py) sends requests whose SigV4 scope service is `lambda` to Lamina and all others
# (iam, s3, sts, ecr, unsigned /moto-api/*) to a moto_server it starts. Lamina runs with an access key
# FOOBARKEY/FOOBARSECRET for account 123456789012, the credentials moto's `mock_aws` uses.
#
# Prints pass/fail/skip counts; exits non-zero only on a failure not listed in expected-failures.txt.
# Environment: LAMINA_BIN (default: cargo build -p lamina), LAMINA_MOTO_VENV (default <repo>/.venv-moto),
# LAMINA_MOTO_KEEP=1 keeps the temp dir (logs, results). Extra arguments go to pytest.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
venv="${LAMINA_MOTO_VENV:-$repo/.venv-moto}"
moto_version=5.2.5
# moto[server] plus the test-only tools; boto3/botocore pinned like the main suite.
pins=("moto[server]==$moto_version" "pytest==9.2.0" "freezegun==1.5.5" "boto3==1.44.8" "botocore==1.44.8")
modules=(test_lambda.py test_lambda_alias.py test_lambda_concurrency.py test_lambda_tags.py
         test_lambda_policy.py test_lambda_layers.py)

die() {
    echo "compat/moto/run.sh: ERROR: $*" >&2
    exit 2
}

command -v python3 >/dev/null 2>&1 || die "python3 is not on PATH"
if [ ! -x "$venv/bin/python" ]; then
    python3 -c 'import venv, ensurepip' 2>/dev/null || die "python3 has no venv/ensurepip (apt-get install python3-venv)"
    python3 -m venv "$venv" || die "python3 -m venv $venv failed"
fi
"$venv/bin/python" -m pip --version >/dev/null 2>&1 || die "pip is missing in $venv"
want="$(printf '%s\n' "${pins[@]}" | sha256sum | cut -d' ' -f1)"
stamp="$venv/.lamina-moto-pins.sha256"
if [ "$(cat "$stamp" 2>/dev/null || true)" != "$want" ]; then
    echo "compat/moto/run.sh: installing ${pins[*]} into $venv" >&2
    "$venv/bin/python" -m pip install --disable-pip-version-check -q "${pins[@]}" || die "pip install failed"
    echo "$want" >"$stamp"
fi

if [ -n "${LAMINA_BIN:-}" ]; then
    [ -f "$LAMINA_BIN" ] && [ -x "$LAMINA_BIN" ] || die "LAMINA_BIN=$LAMINA_BIN is not an executable file"
else
    command -v cargo >/dev/null 2>&1 || die "cargo is not on PATH and LAMINA_BIN is not set"
    (cd "$repo" && cargo build -p lamina) || die "cargo build -p lamina failed"
    LAMINA_BIN="${CARGO_TARGET_DIR:-$repo/target}/debug/lamina"
    [ -x "$LAMINA_BIN" ] || die "$LAMINA_BIN does not exist after cargo build"
fi

work="$(mktemp -d -t lamina-moto.XXXXXX)"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${pids[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    if [ "${LAMINA_MOTO_KEEP:-}" = 1 ]; then
        echo "compat/moto/run.sh: kept $work" >&2
    else
        rm -rf "$work"
    fi
}
trap cleanup EXIT

# wait_for_line FILE REGEX PID: prints the first match of REGEX in FILE, fails if PID dies first.
wait_for_line() {
    local file=$1 regex=$2 pid=$3 line
    for _ in $(seq 1 600); do
        line="$(grep -Eo "$regex" "$file" 2>/dev/null | head -n1 || true)"
        if [ -n "$line" ]; then
            echo "$line"
            return 0
        fi
        kill -0 "$pid" 2>/dev/null || { cat "$file" >&2; return 1; }
        sleep 0.1
    done
    cat "$file" >&2
    return 1
}

# --- moto's tests, from the sdist on PyPI ----------------------------------------------------
echo "compat/moto/run.sh: downloading the moto $moto_version sdist" >&2
"$venv/bin/python" -m pip download --disable-pip-version-check -q --no-deps --no-binary :all: \
    "moto==$moto_version" -d "$work/dl" || die "pip download moto==$moto_version failed"
mkdir -p "$work/moto"
tar xzf "$work/dl/moto-$moto_version.tar.gz" -C "$work/moto" --strip-components=1 \
    "moto-$moto_version/tests" "moto-$moto_version/pyproject.toml" || die "could not unpack the moto sdist"

# --- Lamina is started by the router (with moto's credentials: key FOOBARKEY for account 123456789012),
# and restarted on a fresh data directory whenever a test resets moto, so every test starts empty.
# --- Router (starts moto_server) ---------------------------------------------------------------
"$venv/bin/python" "$here/router.py" --lamina-bin "$LAMINA_BIN" --work "$work" --moto-log "$work/moto.log" \
    >"$work/router.out" 2>"$work/router.log" &
pids+=($!)
router_ep="$(wait_for_line "$work/router.out" 'http://127\.0\.0\.1:[0-9]+' "${pids[-1]}")" \
    || { cat "$work/router.log" >&2; die "router did not start"; }
echo "compat/moto/run.sh: router $router_ep (it owns lamina)" >&2

# --- Run ----------------------------------------------------------------------------------------
targets=()
for m in "${modules[@]}"; do targets+=("tests/test_awslambda/$m"); done
set +e
(
    cd "$work/moto" &&
    env TEST_SERVER_MODE=true TEST_SERVER_MODE_ENDPOINT="$router_ep" TESTS_SKIP_REQUIRES_DOCKER=1 \
        MOTO_CALL_RESET_API=true AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test \
        AWS_DEFAULT_REGION=us-east-1 AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null \
        LAMINA_MOTO_RESULTS="$work/results.json" PYTHONPATH="$here" \
        "$venv/bin/python" -m pytest -p no:cacheprovider -p results -q --color=no -rfEs \
        "${targets[@]}" "$@"
)
pytest_rc=$?
set -e
if [ ! -s "$work/results.json" ]; then
    echo "--- lamina log (tail) ---" >&2
    tail -n 50 "$work/lamina.log" >&2 || true
    die "pytest (exit $pytest_rc) wrote no results"
fi
"$venv/bin/python" "$here/results.py" "$work/results.json" "$here/expected-failures.txt"
