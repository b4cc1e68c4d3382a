# One-command entry points (see README.md).
#   make run    set up, build and start redis-server with the module loaded
#   make test   set up, build, lint and run every test
#   make build  build the install layout in dist/

CARGO ?= cargo
PORT ?= 6379
DIST := dist

.PHONY: all setup build run test lint unit clean

all: build

setup:
	@bash scripts/setup.sh

build: setup
	$(CARGO) build --release --locked
	@mkdir -p $(DIST)/backends
	cp target/release/libredisai.so $(DIST)/redisai.so
	@echo "built $(DIST)/redisai.so"

run: build
	@echo "Starting redis-server on port $(PORT) with $(DIST)/redisai.so loaded."
	@echo "Connect with: redis-cli -p $(PORT)   e.g.  AI.TENSORSET t FLOAT 2 2 VALUES 1 2 3 4"
	redis-server --port $(PORT) --save "" --loadmodule $(CURDIR)/$(DIST)/redisai.so $(MODULE_ARGS)

lint: setup
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --locked --all-targets -- -D warnings

test: build lint
	$(CARGO) test --locked --workspace

clean:
	$(CARGO) clean
	rm -rf $(DIST)
