# Lettrage — make targets. `make test` is what CI runs (.ci/run).
GO ?= go
PKGS := ./...

.PHONY: test deps vet unit build example fuzz bench conservation clean

## test: install the test servers if missing, then vet + every test
## (unit, golden, fuzz seeds, real servers, end-to-end)
test: deps vet unit

deps:
	scripts/install-test-deps.sh

vet:
	$(GO) vet $(PKGS)
	@test -z "$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || { echo "gofmt needed:"; gofmt -l .; exit 1; }

# The real-server packages (cmd/lettrage, the Odoo ledger) take minutes on
# a busy 2-core machine: more than go test's default 10-minute limit there.
unit:
	$(GO) test -count=1 -timeout 25m $(PKGS)

build:
	$(GO) build -o bin/lettrage ./cmd/lettrage

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
	$(GO) test -count=1 -timeout 0 -run Conservation ./pipeline ./cmd/lettrage \
	  -conservation.n=$(CONSERVATION_N) -conservation.seed=$(CONSERVATION_SEED)

clean:
	rm -rf bin deploy/examples/out
