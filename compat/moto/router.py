"""A SigV4-scope router for running moto's Lambda tests in server mode against Lamina.

moto's server-mode tests send every service (lambda, iam, s3, sts, ecr) to one endpoint. This router
listens on that endpoint, reads the service from the request's SigV4 credential scope
(`Authorization: ... Credential=<key>/<date>/<region>/<service>/aws4_request`, or the presigned
`X-Amz-Credential` query parameter) and forwards `lambda` to Lamina and everything else (other
services and unsigned requests such as `/moto-api/*`) to a moto_server it starts itself.
Method, path, query, body and every header (Host included, so signatures still verify) are
forwarded unchanged.

    python router.py --lamina http://127.0.0.1:PORT [--listen 127.0.0.1:0]

Prints `router listening on http://HOST:PORT` once both upstreams answer. Stdlib only.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SCOPE_RE = re.compile(r"Credential=[^/,\s]+/\d{8}/[^/,\s]+/([^/,\s]+)/aws4_request")
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade",
              "proxy-authorization", "proxy-authenticate"}


def service_of(headers, path: str) -> str | None:
    """The SigV4 scope's service of a request, or None when it is unsigned."""
    m = SCOPE_RE.search(headers.get("Authorization", ""))
    if m:
        return m.group(1)
    query = urllib.parse.urlsplit(path).query
    for value in urllib.parse.parse_qs(query).get("X-Amz-Credential", []):
        parts = value.split("/")
        if len(parts) == 5:
            return parts[3]
    return None


def read_chunked(rfile) -> bytes:
    """Reads a chunked body and returns it still chunk-encoded (it is forwarded as received)."""
    raw = bytearray()
    while True:
        line = rfile.readline()
        raw += line
        size = int(line.split(b";", 1)[0].strip() or b"0", 16)
        if size == 0:
            while True:  # trailers up to the blank line
                trailer = rfile.readline()
                raw += trailer
                if trailer in (b"\r\n", b"\n", b""):
                    return bytes(raw)
        raw += rfile.read(size + 2)  # data + CRLF


class Router(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    lamina: tuple[str, int] = ("127.0.0.1", 0)
    other: tuple[str, int] = ("127.0.0.1", 0)
    counts: Counter = Counter()
    counts_lock = threading.Lock()

    def log_message(self, fmt, *args):  # quiet: pytest output is what matters
        pass

    def _forward(self):
        if self.command == "POST" and self.path.startswith("/moto-api/reset") and LAMINA is not None:
            # moto's tests expect an empty server per test (mock_aws posts this reset first): give them a
            # fresh Lamina as well as a fresh moto.
            LAMINA.restart()
        chunked = "chunked" in self.headers.get("Transfer-Encoding", "").lower()
        if chunked:
            body = read_chunked(self.rfile)
        else:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
        service = service_of(self.headers, self.path)
        host, port = self.lamina if service == "lambda" else self.other
        with self.counts_lock:
            self.counts[service or "unsigned"] += 1

        conn = http.client.HTTPConnection(host, port, timeout=600)
        try:
            conn.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
            for name, value in self.headers.items():
                if name.lower() in ("connection", "keep-alive", "proxy-connection"):
                    continue
                conn.putheader(name, value)
            conn.endheaders(body if body else None)
            resp = conn.getresponse()
            payload = resp.read()
            self.send_response_only(resp.status, resp.reason)
            for name, value in resp.getheaders():
                if name.lower() in HOP_BY_HOP or name.lower() == "content-length":
                    continue
                self.send_header(name, value)
            if self.command == "HEAD":
                upstream_len = resp.getheader("Content-Length")
                if upstream_len is not None:
                    self.send_header("Content-Length", upstream_len)
            else:
                self.send_header("Content-Length", str(len(payload)))
            self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD" and payload:
                self.wfile.write(payload)
        except OSError as e:
            message = f"router: upstream {host}:{port} failed: {e!r}".encode()
            self.send_response_only(502, "Bad Gateway")
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(message)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(message)
        finally:
            conn.close()
        self.close_connection = True

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_OPTIONS = _forward


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(host: str, port: int, path: str, deadline: float) -> None:
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection(host, port, timeout=2)
            conn.request("GET", path)
            conn.getresponse().read()
            conn.close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"router: {host}:{port} did not answer in time")


class LaminaProcess:
    """A `lamina serve` this router owns, restartable on a fresh data directory."""

    def __init__(self, binary: str, work: str, log_path: str):
        self.binary, self.work, self.log_path = binary, work, log_path
        self.proc: subprocess.Popen | None = None
        self.lock = threading.Lock()
        self.generation = 0

    def start(self) -> None:
        self.generation += 1
        data = os.path.join(self.work, f"lamina-data-{self.generation}")
        os.makedirs(data, exist_ok=True)
        subprocess.run(
            [self.binary, "keys", "create", "--data-dir", data, "--account", "123456789012",
             "--access-key-id", "FOOBARKEY", "--secret-access-key", "FOOBARSECRET"],
            check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [self.binary, "serve", "--listen", "127.0.0.1:0", "--data-dir", data],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=log,
        )
        line = self.proc.stdout.readline().decode() if self.proc.stdout else ""
        if "listening on http://" not in line:
            raise RuntimeError(f"lamina did not start: {line!r}")
        url = urllib.parse.urlsplit(line.split("listening on ", 1)[1].strip())
        Router.lamina = (url.hostname, url.port)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None

    def restart(self) -> None:
        with self.lock:
            self.stop()
            self.start()


LAMINA: LaminaProcess | None = None


def start_moto(log_path: str | None) -> tuple[subprocess.Popen, int]:
    port = free_port()
    script = shutil.which("moto_server", path=os.path.dirname(sys.executable))
    cmd = [script] if script else [sys.executable, "-m", "moto.server"]
    cmd += ["-H", "127.0.0.1", "-p", str(port)]
    out = open(log_path, "ab") if log_path else subprocess.DEVNULL
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
    wait_http("127.0.0.1", port, "/moto-api/", time.monotonic() + 60)
    return proc, port


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--lamina", help="Lamina endpoint, http://HOST:PORT (a server started elsewhere)")
    ap.add_argument("--lamina-bin", help="start and own this lamina binary instead, restarted fresh on each moto reset")
    ap.add_argument("--work", help="with --lamina-bin: where its data directories and log go")
    ap.add_argument("--listen", default="127.0.0.1:0", help="address to listen on (default 127.0.0.1:0)")
    ap.add_argument("--moto-log", help="file for moto_server's output")
    args = ap.parse_args()

    global LAMINA
    if args.lamina_bin:
        LAMINA = LaminaProcess(args.lamina_bin, args.work or ".", os.path.join(args.work or ".", "lamina.log"))
        LAMINA.start()
    elif args.lamina:
        lamina = urllib.parse.urlsplit(args.lamina)
        Router.lamina = (lamina.hostname, lamina.port)
    else:
        ap.error("--lamina or --lamina-bin is required")
    moto, moto_port = start_moto(args.moto_log)
    Router.other = ("127.0.0.1", moto_port)

    host, port = args.listen.rsplit(":", 1)
    server = ThreadingHTTPServer((host, int(port)), Router)
    server.daemon_threads = True

    def shutdown(*_):
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, shutdown)
    signal.signal(signal.SIGINT, shutdown)
    bound_host, bound_port = server.server_address[:2]
    print(f"router listening on http://{bound_host}:{bound_port}", flush=True)
    try:
        server.serve_forever()
    finally:
        if LAMINA is not None:
            LAMINA.stop()
        moto.terminate()
        try:
            moto.wait(10)
        except subprocess.TimeoutExpired:
            moto.kill()
        summary = ", ".join(f"{k} {v}" for k, v in Router.counts.most_common())
        print(f"router: requests by service: {summary}", file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
