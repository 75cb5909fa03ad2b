package daemon

import (
	"fmt"
	"strings"
	"testing"

	"github.com/lettrage/lettrage/config"
	_ "github.com/lettrage/lettrage/connectors/all"
	"github.com/lettrage/lettrage/connectors/ledger/file"
	"github.com/lettrage/lettrage/connectors/ledger/postgres"
	"github.com/lettrage/lettrage/connectors/source/local"
)

// TestConnectorsFromRegistry checks that the service builds the sources
// and ledgers a configuration names through the registry: each type its
// own connector, PostgreSQL lazily for the daemon and read-only for
// `check --connect`, and an unknown type refused with the known ones.
func TestConnectorsFromRegistry(t *testing.T) {
	dir := t.TempDir()
	cfg, err := config.Parse([]byte(`
jobs:
  - name: a
    schedule: "@every 1h"
    source: {type: local, local: {dir: .}}
    ledger: {type: file, file: {open_items: i.csv, journal: m.csv}}
  - name: b
    schedule: "@every 1h"
    source: {type: local, local: {dir: .}}
    ledger:
      type: postgres
      postgres: {dsn: "postgres://u:p@127.0.0.1:1/erp?connect_timeout=1", open_items_query: "SELECT 1"}
`), dir)
	if err != nil {
		t.Fatal(err)
	}
	src, err := NewSource("a", cfg.Jobs[0].Source)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := src.(*local.Source); !ok {
		t.Errorf("source %T, want *local.Source", src)
	}
	for _, c := range []struct {
		ledger   config.Ledger
		readOnly bool
		want     string
	}{
		{cfg.Jobs[0].Ledger, false, fmt.Sprintf("%T", &file.Ledger{})},
		{cfg.Jobs[1].Ledger, true, fmt.Sprintf("%T", &postgres.Client{})},
		// nothing listens on port 1: the daemon's ledger connects on first use
		{cfg.Jobs[1].Ledger, false, "*postgres.lazyPostgres"},
	} {
		build := NewLedger
		if c.readOnly {
			build = newProbeLedger
		}
		led, err := build(c.ledger)
		if err != nil {
			t.Fatalf("%s ledger (read-only %v): %v", c.ledger.Type, c.readOnly, err)
		}
		if got := fmt.Sprintf("%T", led); got != c.want {
			t.Errorf("%s ledger (read-only %v): %s, want %s", c.ledger.Type, c.readOnly, got, c.want)
		}
		led.Close()
	}

	bad := cfg.Jobs[0].Ledger
	bad.Type = "sap"
	if _, err := NewLedger(bad); err == nil || !strings.Contains(err.Error(), `unknown ledger type "sap" (want one of file, odoo, postgres, tryton)`) {
		t.Errorf("NewLedger(sap): %v", err)
	}
	noBlock := cfg.Jobs[0].Source
	noBlock.Type = "sftp"
	if _, err := NewSource("a", noBlock); err == nil || !strings.Contains(err.Error(), `required for type "sftp"`) {
		t.Errorf("NewSource(sftp without its block): %v", err)
	}
}
