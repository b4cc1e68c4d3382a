#!/usr/bin/env bash
# Installs libtorch for the TORCH backend plugin: the `torch` wheel from PyPI (version pinned in
# scripts/versions.env; a ~527 MB download, 1.2 GB unpacked, done once) without its Python
# dependencies, plus the two small CUDA runtime wheels libtorch_cpu.so needs to load
# (libcudart.so.13 and libcupti.so.13; the rest of the CUDA stack is not installed), into
# .build/torch. The plugin needs from it:
#   .build/torch/torch/lib/libtorch_cpu.so, libc10.so, libgomp.so.1   linked by tch / the shim
#   .build/torch/torch/include/                                        headers for the C++ shim
#   .build/torch/nvidia/cu13/lib/libcudart.so.13, libcupti.so.13      loaded by libtorch_cpu.so
# and a link directory .build/torch/link/lib holding links to the three libraries and a stub
# libtorch.so (the wheel's libtorch.so pulls in libtorch_cuda.so and the whole CUDA stack; the stub
# is dropped by --as-needed). backends/torch/build.rs points tch at it through LIBTORCH and
# LIBTORCH_LIB. `make build` copies the libraries to dist/backends/redisai_torch/lib/, where the
# plugin finds them through its RUNPATH ($ORIGIN/lib).
# Nothing is fetched from anywhere but PyPI. Idempotent: does nothing when the pinned version is
# there. Uses .venv (scripts/python_env.sh) when it exists, else python3.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=versions.env
source scripts/versions.env

target=.build/torch
stamp=$target/.installed
wanted="torch==$TORCH_VERSION nvidia-cuda-runtime==$CUDA_RUNTIME_VERSION nvidia-cuda-cupti==$CUDA_CUPTI_VERSION"
if [ "$(cat "$stamp" 2>/dev/null)" = "$wanted" ]; then
    exit 0
fi

python=.venv/bin/python
[ -x "$python" ] || python=python3
echo "installing libtorch $TORCH_VERSION (the torch wheel, ~527 MB, without the CUDA stack) into $target"
rm -rf "$target"
# shellcheck disable=SC2086
"$python" -m pip install --quiet --disable-pip-version-check --no-deps --no-compile \
    --target "$target" $wanted
lib=$target/torch/lib
for file in $lib/libtorch_cpu.so $lib/libc10.so $lib/libgomp.so.1 \
    $target/nvidia/cu13/lib/libcudart.so.13 $target/nvidia/cu13/lib/libcupti.so.13 \
    $target/torch/include/torch/csrc/jit/api/compilation_unit.h; do
    if [ ! -f "$file" ]; then
        echo "the torch wheels have no $file" >&2
        exit 1
    fi
done
# The link directory tch builds against (see the header).
link=$target/link/lib
mkdir -p "$link"
ln -sf ../../torch/lib/libtorch_cpu.so "$link/libtorch_cpu.so"
ln -sf ../../torch/lib/libc10.so "$link/libc10.so"
ln -sf ../../torch/lib/libgomp.so.1 "$link/libgomp.so"
echo 'void redisai_torch_stub(void) {}' >"$link/stub.c"
cc -shared -fPIC -o "$link/libtorch.so" "$link/stub.c"
echo "$wanted" >"$stamp"
