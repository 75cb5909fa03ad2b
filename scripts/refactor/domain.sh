#!/usr/bin/env bash
# The domain move of issue 15, as a reproducible rewrite: the money, the
# transaction, the open item, the decision and its allocations and
# postings, and the reasons leave package matcher for the leaf package
# domain, and every reference follows. Re-run it after merging a branch
# written before the move: it is idempotent and only rewrites what still
# names the old places (matcher.Amount → domain.Amount…).
#
#   scripts/refactor/domain.sh     # from anywhere in the repository
#
# Then: go build ./... && go vet ./... && go test ./...
set -euo pipefail
cd "$(dirname "$0")/../.."

mkdir -p domain

# 1. Whole files that are domain: money and the placeholder references
#    (what banks write where they have no reference).
for f in amount.go amount_test.go amountkey_test.go placeholder.go placeholder_test.go; do
  if [ -f "matcher/$f" ]; then
    git mv "matcher/$f" "domain/$f"
    sed -i 's/^package matcher$/package domain/; s/^package matcher_test$/package domain_test/' "domain/$f"
  fi
done

# 2. The package's documentation.
if [ ! -f domain/doc.go ]; then
  cat > domain/doc.go <<'DOC'
// Package domain is the vocabulary every other package of Lettrage speaks:
// money (Amount, never a float), the bank Transaction, the ledger's
// OpenItem, the Decision with its Allocations and Postings, the outcomes and
// the reasons an exception carries. It is a leaf: it imports nothing of
// this project, does no I/O and holds no policy; the matcher decides, the
// connectors read and write these values, the pipeline keeps them.
package domain
DOC
fi

# 3. Declarations split out of matcher files, identifiers qualified in the
#    matcher, matcher.X → domain.X elsewhere, imports fixed.
go run ./scripts/refactor/domainmove

gofmt -w domain $(git ls-files '*.go' | grep -v '^scripts/refactor/\|^domain/' | xargs grep -l 'lettrage/lettrage/domain"' || true)
echo "domain.sh: done; now go build ./... && go vet ./..."
