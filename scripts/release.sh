#!/usr/bin/env bash
# Builds a release into $DIST (make release): a static binary for every
# target (CGO_ENABLED=0, stripped, version and VCS revision stamped), the
# licences of every module linked in (checked compatible with Apache-2.0),
# a CycloneDX SBOM from the binary's build information, and SHA256SUMS.
#
#   VERSION=v0.2.0 scripts/release.sh     # default: git describe --tags --always --dirty
#
# The targets are internal/release.Targets (a test keeps the two equal).
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
VERSION=${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}
DIST=${DIST:-dist}
TARGETS=${TARGETS:-"linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64"}

# The revision, stamped too: Go records it only when .git is a folder (not
# in a git worktree, nor in a container build context).
REVISION=${REVISION:-$(git rev-parse HEAD 2>/dev/null || echo unknown)}
if [ "$REVISION" != unknown ] && [ -n "$(git status --porcelain 2>/dev/null)" ]; then
  REVISION="$REVISION-dirty"
fi

mkdir -p "$DIST"
# Refuses to release with a module whose licence is not compatible.
"$GO" run ./internal/cmd/release licenses > "$DIST/licenses.txt"

files=("$DIST/licenses.txt")
for t in $TARGETS; do
  os=${t%/*}
  arch=${t#*/}
  ext=""
  if [ "$os" = windows ]; then ext=.exe; fi
  out="$DIST/lettrage_${VERSION}_${os}_${arch}${ext}"
  echo "building $out" >&2
  # -buildvcs=auto: Go records the checkout's VCS state where it can
  # (GOFLAGS may say otherwise); no failpoint tag: the crash-test
  # failpoints stay out.
  CGO_ENABLED=0 GOOS=$os GOARCH=$arch "$GO" build -trimpath -buildvcs=auto \
    -ldflags "-s -w -X main.version=$VERSION -X github.com/lettrage/lettrage/pipeline.revision=$REVISION" \
    -o "$out" ./cmd/lettrage
  files+=("$out")
done

sbom="$DIST/lettrage_${VERSION}.cdx.json"
"$GO" run ./internal/cmd/release sbom -version "$VERSION" -revision "$REVISION" "${files[1]}" > "$sbom"
files+=("$sbom")
"$GO" run ./internal/cmd/release sums "${files[@]}" > "$DIST/SHA256SUMS"
echo "release $VERSION in $DIST:" >&2
cat "$DIST/SHA256SUMS" >&2
