# chara's build. Every target that compiles Go sources scripts/torch-env.sh
# first: it finds libtorch ($LIBTORCH, else Debian's libtorch-dev) and sets
# the cgo flags that make gotch v0.9.1 build against it.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
GO ?= go
ENV := source scripts/torch-env.sh &&
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
# Test packages one at a time: gotch's tests and ours are memory- and
# CPU-heavy on a 2-core machine.
TESTFLAGS ?= -p 1 -count=1 -timeout 40m

.PHONY: all deps deps-build notices docs build test vet fmt demo check-torch-compat cross-build-cuda clean

all: build

## deps: install what building and testing need (Debian/Ubuntu: apt-get).
deps:
	@scripts/deps.sh

## deps-build: install only what building chara (and the demo) need.
deps-build:
	@scripts/deps.sh build

# The CLI without libtorch (cmd/chara/torch.go): no libtorch cgo flags,
# only turbojpeg's -ljpeg. It runs bin/chara-torch for the commands that
# need libtorch.
NOTORCH := env -u CGO_CXXFLAGS -u CGO_LDFLAGS CGO_ENABLED=1
NOTORCH_TAGS := chara_notorch

## build: bin/chara (starts at once, links no libtorch) and bin/chara-torch
## (the same CLI with libtorch: bin/chara runs it for train, predict, ...).
build: deps-build
	$(NOTORCH) $(GO) build -tags $(NOTORCH_TAGS) -ldflags '$(LDFLAGS)' -o bin/chara ./cmd/chara
	$(ENV) $(GO) build -ldflags '$(LDFLAGS)' -o bin/chara-torch ./cmd/chara

## test: vet, then every package's tests.
test: deps
	$(ENV) $(GO) vet ./...
	$(NOTORCH) $(GO) vet -tags $(NOTORCH_TAGS) ./cmd/chara
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi
	$(ENV) $(GO) test $(TESTFLAGS) ./...

## demo: the whole pipeline on the built-in local demo site.
demo: build
	$(ENV) ./bin/chara demo

## check-torch-compat: compile gotch's C++ against the torch 2.11 headers
## (the GPU machine's libtorch) with our compat header, without a GPU.
check-torch-compat:
	@scripts/check-torch-compat.sh

## cross-build-cuda: chara and the train benchmarks for a CUDA libtorch 2.11
## machine (.build/cuda/), linked strictly against stand-in libraries.
cross-build-cuda: deps
	@scripts/cross-build-cuda.sh

## notices: rewrite NOTICES.md (the licences of what bin/chara contains and links).
notices:
	@scripts/notices.sh

## docs: rewrite the generated docs (docs/config.md, docs/json.md, NOTICES.md)
## after changing a config key, a --json output type or go.mod; tests check them.
docs: notices
	$(ENV) $(GO) test -count=1 -run TestConfigDocIsCurrent ./internal/config -update
	$(ENV) $(GO) test -count=1 -run TestJSONDocsAreCurrent ./cmd/chara -update

clean:
	rm -rf bin .build
