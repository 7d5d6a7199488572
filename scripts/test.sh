#!/usr/bin/env bash
# Runs every test of the workspace on a fresh Debian machine: installs what is missing first.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
# `cargo install` puts tansu here; the tests run it by name.
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

# The CLI and crash tests run the example applications as processes: build them first.
cargo build --workspace --examples --locked
# Unit, integration (mock cluster, tansu, TLS, trybuild UI), example and README/rustdoc tests.
cargo test --workspace --locked "$@"
# The source tests again with Kerberos (GSSAPI) compiled in: librdkafka must accept its properties.
cargo test --locked --features gssapi --test source_config "$@"
# The benchmark once, small and unoptimised: that it still runs, not its figures.
cargo bench --locked --bench throughput --profile dev -- \
  --messages 2000 --runs 1 --latency-seconds 1 --backlog-seconds 1 >/dev/null
