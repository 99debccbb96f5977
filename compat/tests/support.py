"""Helpers shared by the compatibility tests: the server process, clients, zips, raw HTTP.

Nothing here knows about a particular test; conftest.py turns these into fixtures.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
import zipfile
from pathlib import Path

import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

REPO = Path(__file__).resolve().parents[2]

DEV_ACCOUNT = "000000000000"
DEV_KEY = "test"
DEV_SECRET = "test"
REGION = "us-east-1"
ROLE = f"arn:aws:iam::{DEV_ACCOUNT}:role/lambda-role"

LISTEN_RE = re.compile(r"lamina listening on (http://[0-9.]+:(\d+))")
LAST_MODIFIED_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+0000$")
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


# ---------------------------------------------------------------------------------------------
# The server binary and process
# ---------------------------------------------------------------------------------------------


def lamina_binary() -> Path:
    """The server binary: $LAMINA_BIN, else the cargo debug build in this repository."""
    env = os.environ.get("LAMINA_BIN")
    if env:
        return Path(env)
    target = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
    return target / "debug" / "lamina"


def create_key(data_dir: Path, account: str, key_id: str, secret: str) -> None:
    """Runs `lamina keys create` (before `serve`) so the data dir knows another access key."""
    cmd = [
        str(lamina_binary()), "keys", "create", "--data-dir", str(data_dir),
        "--account", account, "--access-key-id", key_id, "--secret-access-key", secret,
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    if proc.returncode != 0:
        raise RuntimeError(
            f"`lamina keys create` exited {proc.returncode}\nstdout: {proc.stdout}\nstderr: {proc.stderr}"
        )


class LaminaServer:
    """One `lamina serve --dev` process on a data dir; can be stopped, killed and restarted."""

    def __init__(self, data_dir: Path, log_path: Path, dev: bool = True):
        self.data_dir = Path(data_dir)
        self.log_path = Path(log_path)
        self.dev = dev
        self.proc: subprocess.Popen | None = None
        self.port: int | None = None
        self.endpoint: str | None = None
        self._stdout_lines: list[str] = []
        self._reader: threading.Thread | None = None

    # -- lifecycle ------------------------------------------------------------------------

    def start(self, port: int = 0, timeout: float = 60.0) -> str:
        """Starts the server, waits for its `listening` line and for /_lamina/health; returns the endpoint."""
        binary = lamina_binary()
        if not binary.is_file():
            raise RuntimeError(f"lamina binary not found at {binary}; build it or set LAMINA_BIN")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        cmd = [str(binary), "serve", "--listen", f"127.0.0.1:{port}", "--data-dir", str(self.data_dir)]
        if self.dev:
            cmd.append("--dev")
        log = open(self.log_path, "ab")
        log.write(f"\n=== {' '.join(cmd)}\n".encode())
        log.flush()
        self._stdout_lines = []
        found = threading.Event()
        endpoint_box: list[str] = []
        self.proc = subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=log,
            env={**os.environ, "RUST_BACKTRACE": "1"},
        )
        proc = self.proc

        def read_stdout() -> None:
            assert proc.stdout is not None
            for raw in proc.stdout:
                line = raw.decode("utf-8", "replace")
                self._stdout_lines.append(line)
                log.write(b"[stdout] " + raw)
                log.flush()
                m = LISTEN_RE.search(line)
                if m and not found.is_set():
                    endpoint_box.append(m.group(1))
                    found.set()
            log.close()

        self._reader = threading.Thread(target=read_stdout, daemon=True)
        self._reader.start()
        deadline = time.monotonic() + timeout
        while not found.wait(0.05):
            if proc.poll() is not None:
                self._reader.join(2)
                raise RuntimeError(
                    f"lamina serve exited with {proc.returncode} before listening\n{self.log_tail()}"
                )
            if time.monotonic() > deadline:
                self.kill9()
                raise RuntimeError(f"lamina serve printed no listening line in {timeout}s\n{self.log_tail()}")
        self.endpoint = endpoint_box[0]
        self.port = int(self.endpoint.rsplit(":", 1)[1])
        self._wait_healthy(deadline)
        return self.endpoint

    def _wait_healthy(self, deadline: float) -> None:
        last = None
        while time.monotonic() < deadline:
            try:
                status, _, _ = http_request("GET", f"{self.endpoint}/_lamina/health", timeout=2)
                if status == 200:
                    return
                last = f"status {status}"
            except OSError as e:  # connection refused while the listener comes up
                last = repr(e)
            time.sleep(0.05)
        raise RuntimeError(f"/_lamina/health never answered 200 (last: {last})\n{self.log_tail()}")

    def stop(self, timeout: float = 15.0) -> None:
        """Graceful stop (SIGTERM), SIGKILL if it does not exit in time."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self._finish()

    def kill9(self) -> None:
        """SIGKILL: the process gets no chance to flush or clean up."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)
        self._finish()

    def _finish(self) -> None:
        if self._reader is not None:
            self._reader.join(5)
        self.proc = None

    def restart(self, timeout: float = 60.0) -> str:
        """Stops (if running) and starts again on the same data dir, on the same port if it is free."""
        self.stop()
        port = self.port or 0
        try:
            return self.start(port=port, timeout=timeout)
        except RuntimeError:
            if port == 0:
                raise
            # The old port may be briefly unavailable; a fresh one is as good for the tests.
            return self.start(port=0, timeout=timeout)

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log_tail(self, n: int = 60) -> str:
        try:
            lines = self.log_path.read_text("utf-8", "replace").splitlines()
        except OSError:
            return "(no server log)"
        return "--- server log (tail) ---\n" + "\n".join(lines[-n:])


# ---------------------------------------------------------------------------------------------
# Clients
# ---------------------------------------------------------------------------------------------


def lambda_client(endpoint: str, region: str = REGION, key: str = DEV_KEY, secret: str = DEV_SECRET,
                  validate: bool = True):
    """A boto3 Lambda client for Lamina: one attempt, so errors surface at once."""
    cfg = Config(
        region_name=region,
        retries={"mode": "standard", "max_attempts": 1},
        connect_timeout=10,
        read_timeout=120,
        parameter_validation=validate,
    )
    return boto3.session.Session().client(
        "lambda", endpoint_url=endpoint, aws_access_key_id=key, aws_secret_access_key=secret, config=cfg
    )


def aws_cli_path() -> Path:
    """The `aws` executable of the venv running the tests."""
    return Path(sys.executable).parent / "aws"


def run_aws(endpoint: str, args: list[str], region: str = REGION, timeout: float = 120.0,
            cwd: str | None = None):
    """Runs `aws lambda ARGS --endpoint-url EP --output json`; returns (exit code, parsed json or None, stderr)."""
    aws = aws_cli_path()
    if not aws.exists():
        raise RuntimeError(f"aws CLI not found at {aws}; run the suite through compat/run.sh")
    env = {
        k: v for k, v in os.environ.items()
        if not k.startswith("AWS_") or k in ("AWS_CA_BUNDLE",)
    }
    env.update({
        "AWS_ACCESS_KEY_ID": DEV_KEY,
        "AWS_SECRET_ACCESS_KEY": DEV_SECRET,
        "AWS_DEFAULT_REGION": region,
        "AWS_PAGER": "",
        "AWS_EC2_METADATA_DISABLED": "true",
        # Isolation from the host's own AWS setup, and one attempt so failures are fast.
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_MAX_ATTEMPTS": "1",
    })
    cmd = [str(aws), "lambda", *args, "--endpoint-url", endpoint, "--output", "json"]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout, cwd=cwd)
    out = proc.stdout.strip()
    parsed = None
    if out:
        try:
            parsed = json.loads(out)
        except json.JSONDecodeError:
            parsed = out
    return proc.returncode, parsed, proc.stderr


# ---------------------------------------------------------------------------------------------
# Raw HTTP (for what boto3 hides: exact headers and bodies, unsigned and mis-signed requests)
# ---------------------------------------------------------------------------------------------


def http_request(method: str, url: str, body: bytes | None = None, headers: dict | None = None,
                 timeout: float = 30.0):
    """One HTTP request with urllib; returns (status, headers as a lowercase dict, body) for any status."""
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read()


def signed_request(endpoint: str, method: str, path: str, body: bytes = b"", region: str = REGION,
                   key: str = DEV_KEY, secret: str = DEV_SECRET, service: str = "lambda",
                   content_type: str | None = None):
    """A request signed with botocore's own SigV4 signer (so it is signed exactly as clients sign)."""
    url = endpoint + path
    headers = {}
    if body or content_type:
        headers["Content-Type"] = content_type or "application/json"
    req = AWSRequest(method=method, url=url, data=body, headers=headers)
    SigV4Auth(Credentials(key, secret), service, region).add_auth(req)
    prepared = req.prepare()
    return http_request(method, prepared.url, body or None, dict(prepared.headers.items()))


# ---------------------------------------------------------------------------------------------
# Zips and names
# ---------------------------------------------------------------------------------------------

HANDLER_PY = "def handler(event, context):\n    return {'echo': event}\n"


def make_zip(files: dict[str, str | bytes] | None = None) -> bytes:
    """A deflated zip of the given {name: content} (default: a tiny Python handler)."""
    files = files if files is not None else {"app.py": HANDLER_PY}
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, content in files.items():
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, content)
    return buf.getvalue()


def make_bomb_zip(unzipped_size: int) -> bytes:
    """A small zip whose single entry inflates to `unzipped_size` zero bytes (honest headers)."""
    buf = io.BytesIO()
    chunk = b"\0" * (1 << 20)
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        info = zipfile.ZipInfo("zeros.bin", date_time=(2024, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        with z.open(info, "w") as f:
            left = unzipped_size
            while left > 0:
                n = min(left, len(chunk))
                f.write(chunk[:n])
                left -= n
    return buf.getvalue()


def b64sha256(data: bytes) -> str:
    """CodeSha256 as Lambda reports it: standard base64 of the SHA-256 digest."""
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def unique(prefix: str = "fn") -> str:
    """A function/alias/layer name no other test uses."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def fn_arn(name: str, qualifier: str | None = None, region: str = REGION, account: str = DEV_ACCOUNT) -> str:
    arn = f"arn:aws:lambda:{region}:{account}:function:{name}"
    return f"{arn}:{qualifier}" if qualifier is not None else arn


def layer_arn(name: str, version: int | None = None, region: str = REGION, account: str = DEV_ACCOUNT) -> str:
    arn = f"arn:aws:lambda:{region}:{account}:layer:{name}"
    return f"{arn}:{version}" if version is not None else arn


def fetch(url: str, timeout: float = 30.0) -> tuple[int, bytes]:
    """Unauthenticated GET (how clients download Code.Location)."""
    status, _, body = http_request("GET", url, timeout=timeout)
    return status, body


def strip_metadata(resp: dict) -> dict:
    """A boto3 response without ResponseMetadata (which differs per request)."""
    return {k: v for k, v in resp.items() if k != "ResponseMetadata"}
