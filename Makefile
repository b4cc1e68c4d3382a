# One-command entry points (see README.md).
#   make run    set up, build and start redis-server with the module loaded
#   make test   set up, build, lint and run every test
#   make build  build the install layout in dist/
#   make bench  end-to-end benchmarks: AI.MODELEXECUTE, and a DAG vs separate commands (markdown)

CARGO ?= cargo
PORT ?= 6379
DIST := dist

.PHONY: all setup build run test lint unit clean bench

all: build

setup:
	@bash scripts/setup.sh

# The ONNX backend plugin and ONNX Runtime's library (installed from PyPI by scripts/setup.sh).
ONNXRUNTIME_VERSION := $(shell sed -n 's/^ONNXRUNTIME_VERSION=//p' scripts/versions.env)
ONNX_PLUGIN := $(DIST)/backends/redisai_onnxruntime

build: setup
	$(CARGO) build --release --locked -p redisai -p redisai-onnxruntime
	@mkdir -p $(DIST)/backends $(ONNX_PLUGIN)/lib
	@# install(1) replaces files (new inode) instead of rewriting them in place, so a server still
	@# running the old dist/ keeps its mapped code intact.
	install -m 755 target/release/libredisai.so $(DIST)/redisai.so
	install -m 755 target/release/libredisai_onnxruntime.so $(ONNX_PLUGIN)/redisai_onnxruntime.so
	install -m 755 .build/onnxruntime/onnxruntime/capi/libonnxruntime.so.$(ONNXRUNTIME_VERSION) $(ONNX_PLUGIN)/lib/
	@echo "built $(DIST)/redisai.so and $(ONNX_PLUGIN)/"

# `make run` loads the ONNX backend at start (set BACKEND_ARGS= to load it lazily instead).
BACKEND_ARGS ?= ONNX redisai_onnxruntime/redisai_onnxruntime.so

run: build
	@echo "Starting redis-server on port $(PORT) with $(DIST)/redisai.so loaded."
	@echo "Connect with: redis-cli -p $(PORT)   e.g.  AI.TENSORSET t FLOAT 2 2 VALUES 1 2 3 4"
	@echo "Store a model: redis-cli -p $(PORT) -x AI.MODELSTORE mnist ONNX CPU BLOB < tests/golden/models/mnist.onnx"
	redis-server --port $(PORT) --save "" --loadmodule $(CURDIR)/$(DIST)/redisai.so $(BACKEND_ARGS) $(MODULE_ARGS)

lint: setup
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --locked --workspace --all-targets -- -D warnings

test: build lint
	$(CARGO) test --locked --workspace

# End-to-end MODELEXECUTE benchmark (requests/s, p50/p99), printed as a markdown table.
bench: build
	bash benches/modelexecute.sh
	$(CARGO) bench --locked --bench dag

clean:
	$(CARGO) clean
	rm -rf $(DIST)
