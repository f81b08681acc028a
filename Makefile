# Hark — push-to-talk intercom. `make run` and `make test` are all you need.
#
# Every target installs what it needs that is missing (Debian packages through
# apt-get, Go modules through the Go module proxy) before it runs.

SHELL        := /bin/bash
GO           ?= go
BIN          := bin
RUN_DIR      ?= .run
RELAY_ADDR   ?= 127.0.0.1:4275
GATEWAY_ADDR ?= 127.0.0.1:8080
METRICS_ADDR ?= 127.0.0.1:9275

# The relay's store links Debian's SQLite (libsqlite3-dev) instead of
# compiling the SQLite amalgamation that mattn/go-sqlite3 carries (about
# 70 s of CPU per build mode, twice under -race). A plain `go build`
# without the tag works too, only slower the first time.
export GOFLAGS := $(strip $(GOFLAGS) -tags=libsqlite3)

# System packages: cgo toolchain and libopus for the codec; SQLite for the
# relay's store; sox, espeak-ng and
# ffmpeg make and check test audio; chromium drives the web page in tests;
# tmux drives the terminal UI in tests.
BUILD_PKGS := build-essential pkg-config libopus-dev libopusfile-dev libsqlite3-dev
TEST_PKGS  := $(BUILD_PKGS) sox espeak-ng ffmpeg chromium tmux file
# The page's other two engines: Firefox (driven over WebDriver BiDi by
# puppeteer-core from npm, with a PulseAudio null sink as its microphone) and
# WebKitGTK, Safari's engine (WebKitWebDriver, in a virtual X display, with
# GStreamer for its media).
BROWSER_PKGS := firefox-esr nodejs pulseaudio pulseaudio-utils \
  webkit2gtk-driver xvfb xauth gstreamer1.0-plugins-base gstreamer1.0-plugins-good \
  gstreamer1.0-plugins-bad gstreamer1.0-libav gstreamer1.0-pulseaudio

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# deps-% installs the packages of a list that dpkg does not know as installed,
# running `apt-get update` once, only when something is missing.
define install_missing
	@missing=""; for p in $(1); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing missing system packages:$$missing"; \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -q && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing; \
	fi
	@command -v $(GO) >/dev/null || { echo "Go is not installed: install Go $(GO_WANT) or newer from https://go.dev/dl"; exit 1; }
	@v=$$($(GO) env GOVERSION 2>/dev/null | sed -E 's/^go([0-9]+)\.([0-9]+).*/\1 \2/'); set -- $$v; \
	if [ -z "$$2" ] || [ "$$1" -lt 1 ] || { [ "$$1" = 1 ] && [ "$$2" -lt 21 ]; }; then \
	  echo "$$($(GO) version 2>/dev/null || echo 'This Go') is too old: Hark needs Go $(GO_WANT) (go.mod)."; \
	  echo "Install it from https://go.dev/dl (Debian 12's golang-go is 1.19). A Go 1.21 or newer"; \
	  echo "fetches the version go.mod asks for by itself unless GOTOOLCHAIN=local."; exit 1; \
	fi
endef

GO_WANT := $(shell sed -n 's/^go //p' go.mod)
RUNS    ?= 5
N       ?= 10

.PHONY: all deps deps-test deps-browsers deps-flake deps-bench build run test test-audio flake bench bench-relay vet fmt clean pi

all: build

deps:
	$(call install_missing,$(BUILD_PKGS))

deps-test: deps-browsers
	$(call install_missing,$(TEST_PKGS))

deps-browsers:
	$(call install_missing,$(BROWSER_PKGS))
	@command -v npm >/dev/null || $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends npm

build: deps
	@mkdir -p $(BIN)
	$(GO) build -o $(BIN)/ ./cmd/...

# run: relay and gateway on loopback with a data directory under .run/.
# LAN=1: the gateway serves phones on this machine's local network (HTTPS on
# LAN_LISTEN, default :8443) and prints a QR code and the certificate steps.
LAN        ?=
LAN_LISTEN ?= :8443
run: build
	@RUN_DIR=$(RUN_DIR) RELAY_ADDR=$(RELAY_ADDR) GATEWAY_ADDR=$(GATEWAY_ADDR) METRICS_ADDR=$(METRICS_ADDR) BIN=$(BIN) \
	  LAN=$(LAN) LAN_LISTEN=$(LAN_LISTEN) \
	  bash internal/scripts/run.sh

vet:
	$(GO) vet ./...

fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

# test: every stage (hygiene: gofmt, go mod tidy, go vet, staticcheck; unit
# tests under the race detector; end-to-end tests with real processes; the
# gateway with headless Chromium) runs even when one before it failed; the
# end names the failed stages and tests and the ten slowest tests
# (internal/scripts/test.sh). Real-time stages assert behaviour; audio
# quality figures are test-audio's.
test: deps-test
	@GO=$(GO) TEST_DIR=$(RUN_DIR)/test bash internal/scripts/test.sh

# test-audio: the real-time audio scenarios RUNS times each (default 5);
# prints each scenario's median and worst run, writes them to BENCHMARKS.md
# and fails when a median misses its target.
test-audio: deps-test
	@GO=$(GO) RUNS=$(RUNS) OUT_DIR=$(RUN_DIR)/test-audio bash internal/scripts/test-audio.sh

# flake: make test N times idle and N times beside two CPU hogs
# (stress-ng), with the count of failures of each test.
flake: deps-test deps-flake
	@bash internal/scripts/flake.sh $(N)

deps-flake:
	$(call install_missing,stress-ng)

bench: deps-test
	$(GO) test -run '^$$' -bench . -benchmem ./proto/... ./jitter/... ./internal/...

# bench-relay: Hark's relay and murmurd (Debian mumble-server) side by side in
# one sitting, runs interleaved, same sessions/talkers/payload/duration, each
# server pinned to one core and the load tool to the other; prints CPU µs per
# forwarded frame, delivered/expected, p50/p99 and the peak sessions at 4
# talkers with 0 loss and p99 < 20 ms (internal/scripts/bench-relay.sh; its
# header lists the knobs: NS, MS, DURATION, PAYLOAD, ROUNDS, CORES).
bench-relay: deps-bench build
	@GO=$(GO) BIN=$(BIN) OUT_DIR=$(RUN_DIR)/bench-relay bash internal/scripts/bench-relay.sh

deps-bench:
	$(call install_missing,$(BUILD_PKGS) mumble-server)

# pi: talk, relay and gateway for linux/arm64 (Raspberry Pi OS 64-bit) with
# Debian's cross compiler and arm64 libopus; binaries in bin/arm64/.
pi:
	internal/scripts/pi.sh

clean:
	rm -rf $(BIN) $(RUN_DIR)
