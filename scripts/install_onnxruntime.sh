#!/usr/bin/env bash
# Installs ONNX Runtime's shared library for the ONNX backend plugin: the `onnxruntime` wheel
# from PyPI (version pinned in scripts/versions.env), unpacked without its Python dependencies
# into .build/onnxruntime. `make build` copies
#   .build/onnxruntime/onnxruntime/capi/libonnxruntime.so.<version>
# and the execution provider libraries beside it (libonnxruntime_providers_*.so) to
# dist/backends/redisai_onnxruntime/lib/. ONNXRUNTIME_PACKAGE=onnxruntime-gpu takes the GPU wheel
# instead (CUDA execution provider; docker/Dockerfile.gpu). Nothing is fetched from anywhere but
# PyPI. Idempotent: does nothing when that package's library is there. Needs .venv
# (scripts/python_env.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=versions.env
source scripts/versions.env

target=.build/onnxruntime
library=$target/onnxruntime/capi/libonnxruntime.so.$ONNXRUNTIME_VERSION
wanted="${ONNXRUNTIME_PACKAGE:-onnxruntime}==$ONNXRUNTIME_VERSION"
stamp=$target/.installed
# (A library without a stamp was installed by an earlier version of this script: the CPU wheel.)
installed="$(cat "$stamp" 2>/dev/null || { [ -f "$library" ] && echo "onnxruntime==$ONNXRUNTIME_VERSION"; } || true)"
if [ -f "$library" ] && [ "$installed" = "$wanted" ]; then
    exit 0
fi
echo "installing ONNX Runtime $ONNXRUNTIME_VERSION ($wanted) into $target"
rm -rf "$target"
.venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps \
    --target "$target" "$wanted"
if [ ! -f "$library" ]; then
    echo "the $wanted wheel has no $library" >&2
    exit 1
fi
echo "$wanted" >"$stamp"
