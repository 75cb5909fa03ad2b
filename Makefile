# Lettrage — make targets. `make test` is what CI runs (.ci/run).
GO ?= go
PKGS := ./...

.PHONY: test deps vet lint unit race build example fuzz bench conservation clean release image

## VERSION: the release version (a git tag such as v0.2.0); IMAGE: the
## container image repository (Dockerfile, Helm chart and docs use it)
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
IMAGE ?= ghcr.io/lettrage/lettrage
DIST ?= dist

## test: install the test servers and tools if missing, then vet, lint,
## every test (unit, golden, fuzz seeds, real servers, end-to-end) and the
## core packages again under the race detector
test: deps vet lint unit race

## CACHE_BIN: where scripts/install-test-deps.sh puts the tools it builds
CACHE_BIN ?= $(or $(LETTRAGE_CACHE_BIN),$(or $(XDG_CACHE_HOME),$(HOME)/.cache)/lettrage/bin)
GOLANGCI_LINT ?= $(CACHE_BIN)/golangci-lint

deps:
	scripts/install-test-deps.sh

vet:
	$(GO) vet $(PKGS)
	$(GO) vet -tags failpoint $(PKGS)
	@test -z "$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || { echo "gofmt needed:"; gofmt -l .; exit 1; }

## lint: golangci-lint with .golangci.yml (govet, staticcheck, errcheck,
## depguard's layering, gocyclo 30, funlen 120, dupl); the pinned binary
## comes from `make deps`
lint:
	@test -x $(GOLANGCI_LINT) || { echo "lint: $(GOLANGCI_LINT) missing: run make deps"; exit 1; }
	$(GOLANGCI_LINT) run ./...

# The real-server packages (cmd/lettrage, the Odoo ledger) take minutes on
# a busy 2-core machine: more than go test's default 10-minute limit there;
# the release build test cross-compiles every target (slow the first time).
# The crash tests need the failpoints, compiled in only with the failpoint
# tag.
unit:
	$(GO) test -tags failpoint -count=1 -timeout 45m $(PKGS)

## race: the packages whose code runs concurrently (the matcher's workers,
## the daemon's pipeline, the CAMT reader) under the race detector, 5–10×
## slower: the property tests draw fewer cases there (they run in full in
## unit), everything else runs as in unit.
## Only the pass's package defines -conservation.n: its sub-packages (state,
## decide, report, daemon) run in the first command with the others.
race:
	pkgs=$$($(GO) list ./matcher/... ./connectors/camt/... ./pipeline/... | grep -v '/pipeline$$') && test -n "$$pkgs" && \
		$(GO) test -race -tags failpoint -count=1 -timeout 30m $$pkgs
	$(GO) test -race -tags failpoint -count=1 -timeout 30m ./pipeline -conservation.n=100

build:
	$(GO) build -buildvcs=auto -ldflags "-X main.version=$(VERSION) -X github.com/lettrage/lettrage/pipeline.revision=$$(git rev-parse HEAD 2>/dev/null)" -o bin/lettrage ./cmd/lettrage

## release: static binaries for linux/amd64, linux/arm64, darwin/amd64,
## darwin/arm64, windows/amd64, licences, SBOM and SHA256SUMS in $(DIST)/
release:
	VERSION=$(VERSION) DIST=$(DIST) GO=$(GO) scripts/release.sh

## image: the container image $(IMAGE):<version without the v>
image:
	docker build -f deploy/docker/Dockerfile --build-arg VERSION=$(VERSION) \
	  --build-arg REVISION=$$(git rev-parse HEAD) -t $(IMAGE):$(patsubst v%,%,$(VERSION)) .

## example: one pass on the shipped example data
example:
	$(GO) run ./cmd/lettrage once -c deploy/examples/local.yaml

## fuzz: run each fuzz target for FUZZTIME (default 30s)
FUZZTIME ?= 30s
fuzz:
	@for pkg in $$($(GO) list $(PKGS)); do \
	  for f in $$($(GO) test -list 'Fuzz.*' $$pkg | grep '^Fuzz'); do \
	    echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

bench:
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)

## conservation: the conservation property (issue 12) on more random delivery
## schedules than `make test` (1,000; 50 of them end to end): CONSERVATION_N
## in memory, one in 20 through `lettrage once`, seeds from CONSERVATION_SEED
## (0: from the clock; a failure prints its seed and schedule)
CONSERVATION_N ?= 20000
CONSERVATION_SEED ?= 0
conservation:
	$(GO) test -tags failpoint -count=1 -timeout 0 -run Conservation ./pipeline ./cmd/lettrage \
	  -conservation.n=$(CONSERVATION_N) -conservation.seed=$(CONSERVATION_SEED)

clean:
	rm -rf bin dist deploy/examples/out
