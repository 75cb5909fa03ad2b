#!/usr/bin/env bash
# Installs the real servers and tools the test suite uses, so that
# `make test` works on a fresh machine with Go installed. Idempotent and
# quick when everything is there. The tests themselves start each server on
# 127.0.0.1 in a temporary folder and stop it by PID (internal/testenv).
#
#   scripts/install-test-deps.sh          # install what is missing
#   scripts/install-test-deps.sh --check  # only report what is missing
set -euo pipefail

CACHE_BIN="${LETTRAGE_CACHE_BIN:-${XDG_CACHE_HOME:-$HOME/.cache}/lettrage/bin}"
VERSITYGW_VERSION=v1.8.0
HELM_VERSION=v3.19.0
# golangci-lint for `make lint` (.golangci.yml is in its v2 format). Built
# from the Go module proxy, pinned, into CACHE_BIN: not a dependency of the
# module, so go.mod stays as it is.
GOLANGCI_LINT_VERSION=v2.15.0

# Debian packages: program to look for → package.
declare -A DEB=(
  [/usr/sbin/sshd]=openssh-server
  [/usr/lib/postgresql/15/bin/initdb]=postgresql
  [/usr/bin/trytond]="tryton-server tryton-modules-account tryton-modules-account-invoice tryton-modules-account-statement tryton-modules-company tryton-modules-party tryton-modules-currency"
  # LibreOffice re-saves the exceptions workbook in the round-trip test.
  [/usr/bin/soffice]=libreoffice-calc
  # xmllint validates the generated CAMT documents against the official XSDs.
  [/usr/bin/xmllint]=libxml2-utils
)

missing=()
for prog in "${!DEB[@]}"; do
  [ -x "$prog" ] || missing+=(${DEB[$prog]})
done

# Odoo 17's Python dependencies (the Odoo tests run Odoo from the archive
# named by LETTRAGE_ODOO_ARCHIVE, default ../shared/odoo17/ beside the
# repository; see internal/testenv/odoo.go). The list is kept in the
# repository, pinned with the archive's SHA-256, rather than read from the
# shared folder: this script installs as root, and what it installs is
# reviewed here. When the shared folder has a list that differs, say so.
REPO="$(cd "$(dirname "$0")/.." && pwd)"
ODOO_PKGS="$REPO/scripts/odoo17-debian-packages.txt"
ODOO_ARCHIVE="${LETTRAGE_ODOO_ARCHIVE:-../shared/odoo17/odoo-17.0-trimmed.tar.gz}"
case "$ODOO_ARCHIVE" in /*) ;; *) ODOO_ARCHIVE="$REPO/$ODOO_ARCHIVE" ;; esac
shared_list="$(dirname "$ODOO_ARCHIVE")/debian-packages.txt"
if [ -f "$shared_list" ] && ! diff -q <(grep -v '^#' "$ODOO_PKGS" | sort) <(sort "$shared_list") >/dev/null; then
  echo "install-test-deps: warning: $shared_list differs from scripts/odoo17-debian-packages.txt (a new Odoo archive? update the list and Odoo17SHA256 together)" >&2
fi
odoo_pkgs=($(grep -v '^#' "$ODOO_PKGS"))
declare -A odoo_installed=()
while read -r pkg status; do
  [ "$status" = "installed" ] && odoo_installed[$pkg]=1
done < <(dpkg-query -W -f='${Package} ${db:Status-Status}\n' "${odoo_pkgs[@]}" 2>/dev/null || true)
for p in "${odoo_pkgs[@]}"; do
  [ -n "${odoo_installed[$p]:-}" ] || missing+=("$p")
done
# Tryton's modules can be missing although trytond is there.
if [ -x /usr/bin/trytond ] && ! /usr/bin/python3 -c 'import trytond.modules.account_statement' 2>/dev/null; then
  missing+=(tryton-modules-account tryton-modules-account-invoice tryton-modules-account-statement tryton-modules-company tryton-modules-party tryton-modules-currency)
fi

# golangci_lint_ok: the pinned golangci-lint is in CACHE_BIN (another
# version there is rebuilt).
golangci_lint_ok() {
  [ -x "$CACHE_BIN/golangci-lint" ] &&
    "$CACHE_BIN/golangci-lint" version 2>/dev/null | grep -q "version ${GOLANGCI_LINT_VERSION#v} "
}

if [ "${1:-}" = "--check" ]; then
  [ ${#missing[@]} -eq 0 ] || echo "missing Debian packages: ${missing[*]}"
  [ -x "$CACHE_BIN/versitygw" ] || echo "missing: versitygw $VERSITYGW_VERSION in $CACHE_BIN"
  [ -x "$CACHE_BIN/promtool" ] || echo "missing: promtool (Debian prometheus package) in $CACHE_BIN"
  [ -x "$CACHE_BIN/helm" ] || echo "missing: helm $HELM_VERSION in $CACHE_BIN"
  golangci_lint_ok || echo "missing: golangci-lint $GOLANGCI_LINT_VERSION in $CACHE_BIN"
  [ -f "$ODOO_ARCHIVE" ] || echo "missing: the Odoo 17.0 archive $ODOO_ARCHIVE (LETTRAGE_ODOO_ARCHIVE; see README, Tests)"
  exit 0
fi

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ] && ! command -v sudo >/dev/null; then
    echo "install-test-deps: need root (or sudo) to install: ${missing[*]}" >&2
    # In CI a missing server is a failure; on a laptop the tests that need
    # it skip loudly.
    [ "${CI:-}" = "true" ] && exit 1
    exit 0
  fi
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  echo "install-test-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  # policy-rc.d keeps the packages' own services from starting: the tests
  # run private servers on their own ports.
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod +x /usr/sbin/policy-rc.d
    trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ ! -x "$CACHE_BIN/versitygw" ]; then
  echo "install-test-deps: building versitygw $VERSITYGW_VERSION into $CACHE_BIN (about 2 minutes, once)"
  mkdir -p "$CACHE_BIN"
  GOBIN="$CACHE_BIN" go install "github.com/versity/versitygw/cmd/versitygw@$VERSITYGW_VERSION"
fi
# promtool (deploy/prometheus rule tests): `go install` of Prometheus fails
# here, so take the binary out of Debian's prometheus package without
# installing the package (no service, no user).
if [ ! -x "$CACHE_BIN/promtool" ]; then
  echo "install-test-deps: extracting promtool from Debian's prometheus package into $CACHE_BIN"
  mkdir -p "$CACHE_BIN"
  tmp="$(mktemp -d)"
  if ( cd "$tmp" && apt-get download prometheus >/dev/null 2>&1 ) ||
     { ${SUDO:-} apt-get update -qq && ( cd "$tmp" && apt-get download prometheus >/dev/null 2>&1 ); }; then
    dpkg-deb -x "$tmp"/prometheus_*.deb "$tmp/x"
    install -m 0755 "$tmp/x/usr/bin/promtool" "$CACHE_BIN/promtool"
  else
    echo "install-test-deps: could not download Debian's prometheus package" >&2
    rm -rf "$tmp"
    [ "${CI:-}" = "true" ] && exit 1
  fi
  rm -rf "$tmp"
fi

# helm (deploy/helm chart lint and template): built from source, once.
if [ ! -x "$CACHE_BIN/helm" ]; then
  echo "install-test-deps: building helm $HELM_VERSION into $CACHE_BIN (about 2 minutes, once)"
  mkdir -p "$CACHE_BIN"
  GOBIN="$CACHE_BIN" go install "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
fi
# golangci-lint: 4 minutes of CPU to build, 15 minutes on a 2-core machine
# under load; once.
if ! golangci_lint_ok; then
  echo "install-test-deps: building golangci-lint $GOLANGCI_LINT_VERSION into $CACHE_BIN (4 to 15 minutes, once)"
  mkdir -p "$CACHE_BIN"
  GOBIN="$CACHE_BIN" go install "github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$GOLANGCI_LINT_VERSION"
fi
echo "install-test-deps: ok"
