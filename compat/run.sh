#!/usr/bin/env bash
# Runs Lamina's client-compatibility suite: the pinned aws CLI v1 and boto3 drive a real
# `lamina serve` (started by the tests on port 0). Extra arguments go to pytest.
#
#   compat/run.sh                      # build target/debug/lamina if needed, run every test
#   LAMINA_BIN=path/to/lamina compat/run.sh -k cli
#
# Environment: LAMINA_BIN (server binary; default: `cargo build -p lamina` and use it),
# LAMINA_VENV (default <repo>/.venv-compat). Exit code = pytest's; setup problems exit 2.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
venv="${LAMINA_VENV:-$repo/.venv-compat}"
req="$here/requirements.txt"

die() {
    echo "compat/run.sh: ERROR: $*" >&2
    exit 2
}

# --- Python, venv, pip -------------------------------------------------------------------
command -v python3 >/dev/null 2>&1 || die "python3 is not on PATH; install Python >= 3.9"
python3 -c 'import sys; sys.exit(0 if sys.version_info >= (3, 9) else 1)' \
    || die "python3 is $(python3 -V 2>&1); Python >= 3.9 is required"
if [ ! -x "$venv/bin/python" ]; then
    python3 -c 'import venv, ensurepip' 2>/dev/null \
        || die "python3 has no working venv/ensurepip module (Debian: apt-get install python3-venv)"
    echo "compat/run.sh: creating venv $venv" >&2
    python3 -m venv "$venv" || die "python3 -m venv $venv failed"
fi
"$venv/bin/python" -m pip --version >/dev/null 2>&1 \
    || die "pip is missing in $venv (delete the venv and rerun, or install python3-venv)"

# Reinstall only when requirements.txt changed since the last successful install.
want="$(sha256sum "$req" | cut -d' ' -f1)"
stamp="$venv/.lamina-compat-requirements.sha256"
if [ "$(cat "$stamp" 2>/dev/null || true)" != "$want" ]; then
    echo "compat/run.sh: installing pinned clients into $venv" >&2
    "$venv/bin/python" -m pip install --disable-pip-version-check -q -r "$req" \
        || die "pip install -r $req failed"
    echo "$want" >"$stamp"
fi
[ -x "$venv/bin/aws" ] || die "$venv/bin/aws is missing after installing awscli"

# --- The server binary ---------------------------------------------------------------------
if [ -n "${LAMINA_BIN:-}" ]; then
    [ -f "$LAMINA_BIN" ] && [ -x "$LAMINA_BIN" ] || die "LAMINA_BIN=$LAMINA_BIN is not an executable file"
else
    command -v cargo >/dev/null 2>&1 || die "cargo is not on PATH and LAMINA_BIN is not set"
    echo "compat/run.sh: cargo build -p lamina" >&2
    (cd "$repo" && cargo build -p lamina) || die "cargo build -p lamina failed"
    LAMINA_BIN="${CARGO_TARGET_DIR:-$repo/target}/debug/lamina"
    [ -x "$LAMINA_BIN" ] || die "cargo build succeeded but $LAMINA_BIN does not exist"
fi
LAMINA_BIN="$(cd "$(dirname "$LAMINA_BIN")" && pwd)/$(basename "$LAMINA_BIN")"
export LAMINA_BIN
echo "compat/run.sh: server binary $LAMINA_BIN" >&2

# --- Run -------------------------------------------------------------------------------------
set +e
"$venv/bin/python" -m pytest -c "$here/pytest.ini" --rootdir "$here" "$here/tests" "$@"
rc=$?
set -e
if [ "$rc" -eq 5 ]; then
    echo "compat/run.sh: ERROR: pytest collected no tests" >&2
fi
exit "$rc"
