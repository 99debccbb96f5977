#!/usr/bin/env bash
# Runs every Lamina test: the Rust unit and integration tests, the aws CLI/boto3 compatibility suite, and
# moto's Lambda tests in server mode. Fails if any of them fails or runs nothing.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

echo "== cargo test (workspace)"
cargo test --workspace

echo "== build the server for the client suites"
cargo build -p lamina
export LAMINA_BIN="${CARGO_TARGET_DIR:-$PWD/target}/debug/lamina"

echo "== compatibility suite: aws CLI and boto3 against a real server"
compat/run.sh -q

echo "== moto's Lambda tests in server mode"
compat/moto/run.sh
