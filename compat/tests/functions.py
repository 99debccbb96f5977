"""Test functions for the invocation suite: their zips, the Rust bootstrap build, runtime clients.

The function sources live in `testdata/functions/` (written as for AWS Lambda, see the README there).
This module only packages them, adds one small Python module of its own (`probe.py`, below), builds the
Rust `bootstrap` with cargo, pre-installs the official runtime interface clients with
`lamina runtimes install`, and starts dedicated servers whose runtime-client cache is shared.

Runtime clients are cached once per machine in `$LAMINA_RUNTIME_CACHE` (default
`<repo>/target/lamina-runtime-cache`): every server started here sees that directory both through the
variable and as `DATA_DIR/runtimes`, so awslambdaric and aws-lambda-ric are installed once per session at
most, not once per server.
"""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import zipfile
from pathlib import Path

import support

TESTDATA = support.REPO / "testdata" / "functions"


def runtime_cache_dir() -> Path:
    """The shared runtime-client cache: $LAMINA_RUNTIME_CACHE, else <repo>/target/lamina-runtime-cache."""
    env = os.environ.get("LAMINA_RUNTIME_CACHE")
    if env:
        return Path(env)
    target = Path(os.environ.get("CARGO_TARGET_DIR", support.REPO / "target"))
    return target / "lamina-runtime-cache"


# Every server started in this session inherits the variable (LaminaServer passes os.environ on).
os.environ.setdefault("LAMINA_RUNTIME_CACHE", str(runtime_cache_dir()))


# ---------------------------------------------------------------------------------------------
# Zips
# ---------------------------------------------------------------------------------------------


def zip_files(files: dict[str, tuple[bytes, int]]) -> bytes:
    """A deflated zip of {name: (content, unix mode)}; the mode is kept in the external attributes."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, (content, mode) in files.items():
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.external_attr = (0o100000 | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, content)
    return buf.getvalue()


# A handler of this suite's own, next to testdata's app.py: the app.counter state plus a few switches,
# so one function can show a cold start, a warm reuse, a timeout and a crash with the same code.
PROBE_PY = b'''"""Counter that can also sleep or exit when asked (handler "probe.handler")."""

import os
import time

import app


def handler(event, context):
    event = event if isinstance(event, dict) else {}
    if event.get("exit") is not None:
        os._exit(int(event["exit"]))
    if event.get("sleep"):
        time.sleep(float(event["sleep"]))
    out = app.counter(event, context)
    out["my_var"] = os.environ.get("MY_VAR")
    out["version"] = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION")
    out["request_id"] = context.aws_request_id
    return out
'''


def python_zip() -> bytes:
    """testdata/functions/python (app.py, bad_init.py, sdk_app.py) plus probe.py."""
    src = TESTDATA / "python"
    return zip_files({
        "app.py": ((src / "app.py").read_bytes(), 0o644),
        "bad_init.py": ((src / "bad_init.py").read_bytes(), 0o644),
        "sdk_app.py": ((src / "sdk_app.py").read_bytes(), 0o644),
        "probe.py": (PROBE_PY, 0o644),
    })


def node_zip() -> bytes:
    return zip_files({"index.mjs": ((TESTDATA / "node" / "index.mjs").read_bytes(), 0o644)})


def shell_zip() -> bytes:
    return zip_files({"bootstrap": ((TESTDATA / "shell" / "bootstrap").read_bytes(), 0o755)})


def bootstrap_zip(binary: Path) -> bytes:
    return zip_files({"bootstrap": (Path(binary).read_bytes(), 0o755)})


def no_bootstrap_zip() -> bytes:
    """A custom-runtime package without any bootstrap."""
    return zip_files({"README.txt": (b"no bootstrap in here\n", 0o644)})


# ---------------------------------------------------------------------------------------------
# Builds and installs (each fails loudly with the tool's output)
# ---------------------------------------------------------------------------------------------


class SetupError(RuntimeError):
    pass


def build_rust_bootstrap() -> Path:
    """`cargo build --release` of testdata/functions/rust into <target>/testfn; returns the binary."""
    target = Path(os.environ.get("CARGO_TARGET_DIR", support.REPO / "target")) / "testfn"
    cmd = ["cargo", "build", "--release", "--target-dir", str(target)]
    try:
        proc = subprocess.run(cmd, cwd=TESTDATA / "rust", capture_output=True, text=True, timeout=900)
    except FileNotFoundError as e:
        raise SetupError(f"cargo is not on PATH: {e}") from e
    if proc.returncode != 0:
        raise SetupError(
            f"`{' '.join(cmd)}` in testdata/functions/rust exited {proc.returncode}\n"
            f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
        )
    binary = target / "release" / "bootstrap"
    if not binary.is_file():
        raise SetupError(f"cargo succeeded but {binary} does not exist\nstderr:\n{proc.stderr}")
    return binary


def prepare_data_dir(data_dir: Path) -> Path:
    """A fresh data dir whose `runtimes` directory is the shared runtime-client cache."""
    cache = runtime_cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    data_dir.mkdir(parents=True, exist_ok=True)
    link = data_dir / "runtimes"
    if not link.exists():
        link.symlink_to(cache, target_is_directory=True)
    return data_dir


def install_runtime(runtime: str, data_dir: Path, timeout: float = 600.0) -> str:
    """`lamina runtimes install RUNTIME` into the shared cache; returns its output."""
    cmd = [str(support.lamina_binary()), "runtimes", "install", runtime, "--data-dir", str(data_dir)]
    env = {**os.environ, "LAMINA_RUNTIME_CACHE": str(runtime_cache_dir())}
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    if proc.returncode != 0:
        raise SetupError(
            f"`lamina runtimes install {runtime}` exited {proc.returncode}\n"
            f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
        )
    return proc.stdout + proc.stderr


# ---------------------------------------------------------------------------------------------
# Servers with invocation options
# ---------------------------------------------------------------------------------------------

# `lamina serve` reads each of its invocation options from a variable too.
SERVER_OPTION_VARS = {
    "update_delay_ms": "LAMINA_UPDATE_DELAY_MS",
    "account_concurrency": "LAMINA_ACCOUNT_CONCURRENCY",
    "idle_timeout_secs": "LAMINA_IDLE_TIMEOUT_SECS",
}


@contextlib.contextmanager
def _environ(values: dict[str, str]):
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def start_server(base: Path, **options) -> support.LaminaServer:
    """`lamina serve --dev` on port 0 with a data dir under `base` sharing the runtime cache.

    options: update_delay_ms, account_concurrency, idle_timeout_secs (passed as LAMINA_* variables,
    which `lamina serve` reads for --update-delay-ms, --account-concurrency, --idle-timeout-secs).
    """
    values = {SERVER_OPTION_VARS[k]: str(v) for k, v in options.items()}
    data_dir = prepare_data_dir(base / "data")
    server = support.LaminaServer(data_dir, base / "server.log", dev=True)
    with _environ(values):
        server.start()
    return server


def lamina_logs(data_dir: Path, function: str, timeout: float = 30.0) -> tuple[int, str, str]:
    """`lamina logs FUNCTION --data-dir D`: (exit code, stdout, stderr)."""
    cmd = [str(support.lamina_binary()), "logs", function, "--data-dir", str(data_dir)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    return proc.returncode, proc.stdout, proc.stderr
