#!/usr/bin/env bash
# Installs what the build and the tests need when it is missing (reused when present), on Debian.
set -euo pipefail

need_packages=()
have_header() { [ -e "/usr/include/$1" ] || [ -e "/usr/include/x86_64-linux-gnu/$1" ]; }
command -v cc >/dev/null || need_packages+=(gcc)
command -v c++ >/dev/null || need_packages+=(g++)
command -v make >/dev/null || need_packages+=(make)
command -v pkg-config >/dev/null || need_packages+=(pkg-config)
command -v sqlite3 >/dev/null || need_packages+=(sqlite3)
command -v redis-server >/dev/null || need_packages+=(redis-server)
command -v node >/dev/null || need_packages+=(nodejs)
command -v npm >/dev/null || need_packages+=(npm)
command -v kcat >/dev/null || need_packages+=(kcat)
command -v stunnel4 >/dev/null || need_packages+=(stunnel4)
command -v openssl >/dev/null || need_packages+=(openssl)
command -v python3 >/dev/null || need_packages+=(python3)
# Many images have Python without pip.
python3 -c 'import pip' 2>/dev/null || need_packages+=(python3-pip)
have_header openssl/ssl.h || need_packages+=(libssl-dev)
have_header zlib.h || need_packages+=(zlib1g-dev)
have_header sasl/sasl.h || need_packages+=(libsasl2-dev)

if [ "${#need_packages[@]}" -gt 0 ]; then
  echo "installing missing packages: ${need_packages[*]}"
  if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
  $sudo apt-get update -qq
  # Through env: sudo resets the environment, and a package's prompt would hang the install.
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_packages[@]}"
fi

# CI checks formatting and lints; rustup's minimal profile has neither tool.
if ! cargo fmt --version >/dev/null 2>&1 || ! cargo clippy --version >/dev/null 2>&1; then
  if command -v rustup >/dev/null; then
    echo "installing rustfmt and clippy (rustup)"
    rustup component add rustfmt clippy
  else
    echo "rustfmt or clippy is missing, and rustup is not here to add them: install them" \
      "(Debian: apt-get install rustfmt rust-clippy); CI's checks need both" >&2
  fi
fi

# The AsyncAPI Initiative's parser (the version the tests were run with) validates the generated
# AsyncAPI document in the tests; it lives in the target directory, where the tests look for it.
validator="${CARGO_TARGET_DIR:-$(dirname "$0")/../target}/tools/asyncapi"
if [ ! -d "$validator/node_modules/@asyncapi/parser" ]; then
  echo "installing @asyncapi/parser into target/tools/asyncapi"
  mkdir -p "$validator"
  (cd "$validator" && npm install --no-audit --no-fund --silent @asyncapi/parser@3.6.6)
fi

# moto's S3 server (the version the tests were run with) stands in for S3 in the tests of s3://
# keystores and CA files.
if ! python3 -c "import moto.server, flask" 2>/dev/null; then
  echo "installing moto[server] (PyPI)"
  python3 -m pip install --quiet 'moto[server]==5.2.1' \
    || python3 -m pip install --quiet --break-system-packages 'moto[server]==5.2.1'
fi

# tansu, a Kafka-compatible broker, is the real broker of the end-to-end, security and scale-out
# tests. Building it takes about ten minutes on two cores, once; the binary is reused after.
cargo_bin="${CARGO_HOME:-$HOME/.cargo}/bin"
if ! command -v tansu >/dev/null && [ ! -x "$cargo_bin/tansu" ]; then
  echo "installing tansu 0.6.0 (cargo install, about ten minutes)"
  cargo install tansu --version 0.6.0 --locked --features dynostore,libsql
fi
