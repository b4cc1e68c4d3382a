# One-command entry points (see README.md).
#   make run    set up, build and start redis-server (on 127.0.0.1) with the module and ONNX
#   make test   set up, build everything, lint and run every test
#   make build  build the install layout in dist/ with every backend; in layers:
#               build-core (module + ONNX), build-tf, build-tflite, build-torch
#   make unit   the pure crates' tests (no server, no backend runtime)
#   make test-servers  the integration suite on Valkey 8 and Redis 8 too (part of `make test`)
#   make bench  end-to-end benchmarks through redis-server, as markdown tables (docs/performance.md)
#   make microbench  criterion benchmarks of the pure hot paths (no server)
#   make soak   long soak test (100k execute cycles, memory must stay flat)
#   make fuzz   long fuzzing (100k-command storms, 100k cases per property test)
#   make docker / docker-gpu / docker-ci   the images of docker/ (docs/performance.md, README)

CARGO ?= cargo
PORT ?= 6379
# The address `make run` listens on: local only unless asked (BIND=0.0.0.0 opens it).
BIND ?= 127.0.0.1
DIST := dist

.PHONY: all setup build build-core build-tf build-tflite build-torch run test test-servers lint unit clean \
	bench microbench soak fuzz docker docker-gpu docker-ci

all: build

setup:
	@bash scripts/setup.sh all

# The ONNX backend plugin and ONNX Runtime's library (installed from PyPI by scripts/setup.sh).
ONNXRUNTIME_VERSION := $(shell sed -n 's/^ONNXRUNTIME_VERSION=//p' scripts/versions.env)
ONNX_PLUGIN := $(DIST)/backends/redisai_onnxruntime

# The TF backend plugin and TensorFlow's two libraries from the tensorflow-cpu wheel (installed
# from PyPI into .build/tensorflow by scripts/setup.sh; backends/tf/build.rs links against them).
TF_LIBS := .build/tensorflow/tensorflow/libtensorflow_cc.so.2 .build/tensorflow/tensorflow/libtensorflow_framework.so.2
TF_PLUGIN := $(DIST)/backends/redisai_tensorflow
# The TFLITE backend plugin (pure Rust, tract-tflite): nothing beside it.
TFLITE_PLUGIN := $(DIST)/backends/redisai_tflite
# The TORCH backend plugin and the libtorch libraries it loads (from the torch wheel, installed
# from PyPI into .build/torch by scripts/setup.sh; backends/torch/build.rs links against them).
TORCH_LIBS := .build/torch/torch/lib/libtorch_cpu.so .build/torch/torch/lib/libc10.so \
	.build/torch/torch/lib/libgomp.so.1 .build/torch/nvidia/cu13/lib/libcudart.so.13 \
	.build/torch/nvidia/cu13/lib/libcupti.so.13
TORCH_PLUGIN := $(DIST)/backends/redisai_torch
# TORCH_CUDA=1 (with `make setup` and `make build`, as docker/Dockerfile.gpu does): libtorch's CUDA
# half and the CUDA libraries it needs (scripts/install_torch.sh puts them in .build/torch/cuda) go
# to dist/backends/redisai_torch/cuda/, laid out as in the wheels so libtorch_cuda.so's RPATH
# finds them; the plugin loads it at start. Without it, that directory is removed.
TORCH_CUDA ?= 0
export TORCH_CUDA
TORCH_CUDA_LIBS := libtorch_cuda.so libc10_cuda.so libtorch_nvshmem.so libtorch_cuda_linalg.so libcaffe2_nvrtc.so

# install(1) replaces files (new inode) instead of rewriting them in place, so a server still
# running the old dist/ keeps its mapped code intact; -C only copies a library that changed.
build: build-core build-tf build-tflite build-torch
	@echo "built $(DIST)/redisai.so, $(ONNX_PLUGIN)/, $(TF_PLUGIN)/, $(TFLITE_PLUGIN)/ and $(TORCH_PLUGIN)/"

# The module and the ONNX backend: what `make run` needs (no TensorFlow or libtorch download).
build-core:
	@bash scripts/setup.sh core
	$(CARGO) build --release --locked -p redisai -p redisai-onnxruntime
	@mkdir -p $(DIST)/backends $(ONNX_PLUGIN)/lib
	install -m 755 target/release/libredisai.so $(DIST)/redisai.so
	install -m 755 target/release/libredisai_onnxruntime.so $(ONNX_PLUGIN)/redisai_onnxruntime.so
	install -m 755 .build/onnxruntime/onnxruntime/capi/libonnxruntime.so.$(ONNXRUNTIME_VERSION) $(wildcard .build/onnxruntime/onnxruntime/capi/libonnxruntime_providers_*.so) $(ONNX_PLUGIN)/lib/

build-tf:
	@bash scripts/setup.sh tf
	$(CARGO) build --release --locked -p redisai-tensorflow
	@mkdir -p $(TF_PLUGIN)/lib
	install -m 755 target/release/libredisai_tensorflow.so $(TF_PLUGIN)/redisai_tensorflow.so
	install -C -m 755 $(TF_LIBS) $(TF_PLUGIN)/lib/

build-tflite:
	@bash scripts/setup.sh core
	$(CARGO) build --release --locked -p redisai-tflite
	@mkdir -p $(TFLITE_PLUGIN)
	install -m 755 target/release/libredisai_tflite.so $(TFLITE_PLUGIN)/redisai_tflite.so

build-torch:
	@bash scripts/setup.sh torch
	$(CARGO) build --release --locked -p redisai-torch
	@mkdir -p $(TORCH_PLUGIN)/lib
	install -m 755 target/release/libredisai_torch.so $(TORCH_PLUGIN)/redisai_torch.so
	install -C -m 755 $(TORCH_LIBS) $(TORCH_PLUGIN)/lib/
	@if [ "$(TORCH_CUDA)" = 1 ]; then \
	    set -e; mkdir -p $(TORCH_PLUGIN)/cuda/torch/lib; \
	    install -C -m 755 $(addprefix .build/torch/torch/lib/,$(TORCH_CUDA_LIBS)) $(TORCH_PLUGIN)/cuda/torch/lib/; \
	    for dir in .build/torch/cuda/nvidia/*/lib; do \
	        dest=$(TORCH_PLUGIN)/cuda/$${dir#.build/torch/cuda/}; mkdir -p $$dest; \
	        install -C -m 755 $$dir/*.so* $$dest/; \
	    done; \
	    echo "installed libtorch's CUDA libraries in $(TORCH_PLUGIN)/cuda/"; \
	else \
	    rm -rf $(TORCH_PLUGIN)/cuda; \
	fi

# `make run` loads the ONNX backend at start (set BACKEND_ARGS= to load it lazily instead).
BACKEND_ARGS ?= ONNX redisai_onnxruntime/redisai_onnxruntime.so

run: build-core
	@echo "Starting redis-server on $(BIND):$(PORT) with $(DIST)/redisai.so loaded."
	@echo "Connect with: redis-cli -p $(PORT)   e.g.  AI.TENSORSET t FLOAT 2 2 VALUES 1 2 3 4"
	@echo "Store a model: redis-cli -p $(PORT) -x AI.MODELSTORE mnist ONNX CPU BLOB < tests/golden/models/mnist.onnx"
	redis-server --port $(PORT) --bind $(BIND) --save "" --loadmodule $(CURDIR)/$(DIST)/redisai.so $(BACKEND_ARGS) $(MODULE_ARGS)

lint: setup
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --locked --workspace --all-targets -- -D warnings

# The crates that need neither a server nor a backend runtime.
unit:
	$(CARGO) test --locked -p redisai-core -p redisai-engine -p redisai-backend-api

# TensorFlow's INFO and WARNING lines (one per failed run) stay out of the test output.
test: export TF_CPP_MIN_LOG_LEVEL ?= 2
# Every backend is required: a test that needs one never skips (REDISAI_REQUIRE_BACKENDS).
test: export REDISAI_REQUIRE_BACKENDS = all
test: build lint
	@# The panicking test backend that tests/panics.rs loads (a cdylib no test target builds).
	$(CARGO) build --locked -p redisai-test-backend
	$(CARGO) test --locked --workspace --no-fail-fast
	CARGO=$(CARGO) bash scripts/test_servers.sh

# The integration suite on the other servers of the matrix (README "Supported servers"):
# Valkey 8 and Redis 8, installed into .build/servers by scripts/install_servers.sh.
test-servers: export TF_CPP_MIN_LOG_LEVEL ?= 2
test-servers: export REDISAI_REQUIRE_BACKENDS = all
test-servers: build
	$(CARGO) build --locked -p redisai-test-backend
	CARGO=$(CARGO) bash scripts/test_servers.sh

# End-to-end benchmarks (requests/s, p50/p99, main-thread time per call), printed as markdown
# tables: tensors against SET/GET of the same bytes, AI.MODELEXECUTE with and without
# auto-batching, a DAG against separate commands, and the original's reference method.
# Settings: BENCH_RUNS, BENCH_SECONDS, BENCH_CLIENTS, BENCH_SECTIONS (docs/performance.md).
bench: build-core
	$(CARGO) bench --locked --bench end_to_end

# Criterion micro-benchmarks of the pure hot paths: VALUES parsing and formatting per dtype,
# BLOB ingest, batch concat/split, DAG building.
microbench:
	$(CARGO) bench --locked -p redisai-core -p redisai-engine --bench tensor --bench batch --bench grammars --bench metrics

# Long soak: 100k execute cycles; used_memory and RSS must stay flat (CI runs a short one).
soak: build-core
	SOAK_CYCLES=$${SOAK_CYCLES:-100000} $(CARGO) test --locked --release --test limits soak -- --nocapture

# Long fuzzing: 100,000 random malformed commands per storm against a live server, and 100,000
# cases per grammar / RDB property test (CI runs short versions of both).
fuzz: build
	BAD_INPUT_COUNT=$${BAD_INPUT_COUNT:-100000} $(CARGO) test --locked --release --test bad_input --test bad_input_models
	FUZZ_CASES=$${FUZZ_CASES:-100000} $(CARGO) test --locked --release -p redisai-engine --test fuzz_grammars
	FUZZ_CASES=$${FUZZ_CASES:-100000} $(CARGO) test --locked --release -p redisai-core --test fuzz_rdb

# Docker images (docker/): the module and every backend on the official Redis image, the same
# with ONNX Runtime's GPU build on NVIDIA's CUDA runtime image, and the CI image (toolchain and
# runtimes preinstalled). Each runs this Makefile's own `make setup` / `make build` inside.
IMAGE ?= redisai-rs
VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)

docker:
	docker build -f docker/Dockerfile -t $(IMAGE):$(VERSION) -t $(IMAGE):latest .

docker-gpu:
	docker build -f docker/Dockerfile.gpu -t $(IMAGE):$(VERSION)-gpu .

docker-ci:
	docker build -f docker/Dockerfile.ci -t $(IMAGE)-ci:$(VERSION) .

clean:
	$(CARGO) clean
	rm -rf $(DIST)
