#!/usr/bin/env bash
# Installs what a fresh Debian 12 machine lacks to build and test the module:
# redis-server (Redis 7.0 from Debian), libclang (bindgen of the redis-module crate), g++ (the ONNX
# backend's allocation trampoline) and python3-venv; then the project's Python environment .venv
# (ONNX test fixtures), ONNX Runtime's library from PyPI into .build/onnxruntime, TensorFlow's
# C library (the tensorflow-cpu wheel) from PyPI into .build/tensorflow and libtorch (the torch
# wheel, without the CUDA stack) from PyPI into .build/torch.
# Idempotent: does nothing when everything is there.
set -euo pipefail

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
bash "$(dirname "$0")/install_tensorflow.sh"
bash "$(dirname "$0")/install_torch.sh"
