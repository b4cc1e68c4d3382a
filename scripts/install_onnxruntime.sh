#!/usr/bin/env bash
# Installs ONNX Runtime's shared library for the ONNX backend plugin: the `onnxruntime` wheel
# from PyPI (version pinned in scripts/versions.env), unpacked without its Python dependencies
# into .build/onnxruntime. `make build` copies
#   .build/onnxruntime/onnxruntime/capi/libonnxruntime.so.<version>
# to dist/backends/redisai_onnxruntime/lib/. Nothing is fetched from anywhere but PyPI.
# Idempotent: does nothing when the library is there. Needs .venv (scripts/python_env.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=versions.env
source scripts/versions.env

target=.build/onnxruntime
library=$target/onnxruntime/capi/libonnxruntime.so.$ONNXRUNTIME_VERSION
if [ -f "$library" ]; then
    exit 0
fi
echo "installing ONNX Runtime $ONNXRUNTIME_VERSION into $target"
rm -rf "$target"
.venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps \
    --target "$target" "onnxruntime==$ONNXRUNTIME_VERSION"
if [ ! -f "$library" ]; then
    echo "the onnxruntime wheel has no $library" >&2
    exit 1
fi
