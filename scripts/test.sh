#!/usr/bin/env bash
# Runs every test of the workspace on a fresh Debian machine: installs what is missing first.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh

# Unit, integration (mock cluster, trybuild UI) and README/rustdoc tests.
cargo test --workspace --locked "$@"
