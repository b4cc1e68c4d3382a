#!/usr/bin/env bash
# Installs what a fresh Debian 12 machine lacks to build and test the module, by layer:
#   core   redis-server (Redis 7.0 from Debian), libclang (bindgen of the redis-module crate), g++
#          (the C++ parts of the backends) and python3-venv; the project's Python environment
#          .venv (ONNX test fixtures, the redisai-py client); ONNX Runtime's library from PyPI
#          into .build/onnxruntime. Enough for the module with ONNX (`make run`) and TFLITE.
#   tf     TensorFlow's C library (the tensorflow-cpu wheel, ~270 MB) into .build/tensorflow
#   torch  libtorch (the torch wheel without the CUDA stack, ~530 MB) into .build/torch
#   models the text-embedding model (all-MiniLM-L6-v2, int8 ONNX, ~23 MB) into .build/models
#          (scripts/install_embedding_model.sh)
#   servers  the servers of the test matrix (Valkey 8, Redis 8, and Redis 6.2 for the refusal
#          test) into .build/servers (scripts/install_servers.sh)
#   all    all of them (the default: `make build`, `make test`)
# Usage: scripts/setup.sh [core|tf|torch|models|servers|all]...   (each implies core)
# Idempotent: does nothing when what is asked for is there.
set -euo pipefail

layers=" ${*:-all} "
want() { [[ "$layers" == *" $1 "* || "$layers" == *" all "* ]]; }

if ! command -v cargo >/dev/null 2>&1; then
    echo "cargo is missing: install a Rust toolchain (https://rustup.rs) first" >&2
    exit 1
fi
for component in rustfmt clippy; do
    if command -v rustup >/dev/null 2>&1 && ! rustup component list --installed 2>/dev/null | grep -q "^$component"; then
        rustup component add "$component"
    fi
done

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
need=()
for pkg in redis-server redis-tools libclang-dev g++ python3 python3-venv; do
    installed "$pkg" || need+=("$pkg")
done

if [ ${#need[@]} -gt 0 ]; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    echo "installing: ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq
    $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

bash "$(dirname "$0")/python_env.sh"
bash "$(dirname "$0")/install_onnxruntime.sh"
if want tf; then
    bash "$(dirname "$0")/install_tensorflow.sh"
fi
if want torch; then
    bash "$(dirname "$0")/install_torch.sh"
fi
if want models; then
    bash "$(dirname "$0")/install_embedding_model.sh"
fi
if want servers; then
    bash "$(dirname "$0")/install_servers.sh"
fi
