# berth — see README.md. Every target that needs packages installs them.
GO      ?= $(shell command -v go 2>/dev/null || echo /usr/local/go/bin/go)
VERSION ?= 0.1.0
COMMIT  ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
LDFLAGS := -X main.version=$(VERSION) -X main.commit=$(COMMIT)
# urfave_cli_no_docs drops the man-page generator, whose markdown parser costs
# ~8 ms of package init on every berth invocation.
TAGS    := urfave_cli_no_docs
TESTPKGS ?= ./...

.PHONY: all build deps demo test unit lint clean

all: build

deps:
	@scripts/install-deps.sh

build: deps
	$(GO) build -trimpath -tags $(TAGS) -ldflags "$(LDFLAGS)" -o bin/berth ./cmd/berth

demo: build
	@scripts/demo.sh

# unit + integration + end-to-end tests (root needed for the last two).
test: build lint
	BERTH_BIN=$(CURDIR)/bin/berth $(GO) test -count=1 -p 1 $(TESTPKGS)

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt: files above need formatting"; exit 1; }
	$(GO) vet ./...

clean:
	rm -rf bin
