"""Fixtures: the real `lamina serve` on port 0 with a fresh data dir, boto3 clients, the aws CLI.

One server is shared by the whole session (tests use unique function names, so they do not depend
on each other). Tests that restart or kill a server, or need extra access keys, get their own
server from `server_factory`.
"""

from __future__ import annotations

import pytest

import support


def pytest_sessionstart(session):
    binary = support.lamina_binary()
    if not binary.is_file():
        pytest.exit(
            f"lamina binary not found at {binary}: run `cargo build -p lamina` or set LAMINA_BIN "
            "(compat/run.sh does both)",
            returncode=4,
        )
    if not support.aws_cli_path().exists():
        pytest.exit(
            f"aws CLI not found at {support.aws_cli_path()}: run the suite through compat/run.sh",
            returncode=4,
        )


class ServerFactory:
    """Starts dedicated servers (own data dir, optional extra keys); all are stopped at teardown."""

    def __init__(self, tmp_path_factory):
        self._tmp = tmp_path_factory
        self._servers: list[support.LaminaServer] = []

    def __call__(self, keys: list[tuple[str, str, str]] = (), dev: bool = True) -> support.LaminaServer:
        """keys: (account, access key id, secret) created with `lamina keys create` before serving."""
        base = self._tmp.mktemp("lamina")
        data_dir = base / "data"
        data_dir.mkdir()
        for account, key_id, secret in keys:
            support.create_key(data_dir, account, key_id, secret)
        server = support.LaminaServer(data_dir, base / "server.log", dev=dev)
        self._servers.append(server)
        server.start()
        return server

    def stop_all(self):
        for s in self._servers:
            try:
                s.stop()
            except Exception:  # teardown must reach every server
                s.kill9()


@pytest.fixture(scope="session")
def server_factory(tmp_path_factory):
    factory = ServerFactory(tmp_path_factory)
    yield factory
    factory.stop_all()


@pytest.fixture(scope="session")
def lamina(server_factory) -> support.LaminaServer:
    """The shared server (never restarted: restart tests use their own)."""
    return server_factory()


@pytest.fixture(scope="session")
def endpoint(lamina) -> str:
    return lamina.endpoint


@pytest.fixture(scope="session")
def lam(endpoint):
    """boto3 Lambda client, us-east-1, keys test/test, one attempt."""
    return support.lambda_client(endpoint)


@pytest.fixture(scope="session")
def lam_raw(endpoint):
    """Same client without botocore's client-side parameter validation, so the server sees bad input."""
    return support.lambda_client(endpoint, validate=False)


@pytest.fixture(scope="session")
def aws(endpoint):
    """aws CLI v1 runner: aws(*args) -> (exit code, parsed json, stderr)."""

    def run(*args, region: str = support.REGION, cwd=None):
        return support.run_aws(endpoint, [str(a) for a in args], region=region, cwd=cwd)

    return run


@pytest.fixture(scope="session")
def bomb_zip() -> bytes:
    """~250 KB zip inflating to 1 MiB more than the 262144000-byte unzipped limit."""
    return support.make_bomb_zip(262_144_000 + (1 << 20))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and report.failed:
        server = item.funcargs.get("lamina") if hasattr(item, "funcargs") else None
        if server is not None:
            report.sections.append(("lamina server log", server.log_tail(40)))
