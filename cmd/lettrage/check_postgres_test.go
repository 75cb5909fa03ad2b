package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lettrage/lettrage/internal/testenv"
)

// TestCheckConnectIsReadOnlyOnPostgres: `check --connect` against a
// PostgreSQL state store and a PostgreSQL ledger reads the open items and
// creates nothing — no migration in the state database, no bookkeeping
// table (allocations, postings, exceptions) in the ERP's.
func TestCheckConnectIsReadOnlyOnPostgres(t *testing.T) {
	pg := testenv.StartPostgres(t)
	erp, err := pg.CreateDatabase("check_erp")
	if err != nil {
		t.Fatal(err)
	}
	state, err := pg.CreateDatabase("check_state")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pg.Exec(erp, crashERPSchema+`
INSERT INTO customers (name) VALUES ('ACME');
INSERT INTO invoices (label, customer, number, issued, currency, total, residual, ref)
  SELECT 'a', id, 'INV-1', '2026-01-15', 'EUR', 100, 100, '' FROM customers;`); err != nil {
		t.Fatal(err)
	}
	tables := func(dsn string) string {
		out, err := pg.Exec(dsn, `SELECT coalesce(string_agg(table_schema || '.' || table_name, ',' ORDER BY 1), '')
			FROM information_schema.tables WHERE table_schema NOT IN ('pg_catalog', 'information_schema')`)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	erpBefore, stateBefore := tables(erp), tables(state)

	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "statements"), 0o755); err != nil {
		t.Fatal(err)
	}
	led := &pgCrash{pg: pg, erp: erp}
	cfg := filepath.Join(dir, "lettrage.yaml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(`log: {level: debug, format: json}
state: {driver: postgres, postgres: {dsn: %q}}
jobs:
  - name: erp
    schedule: "@every 1h"
    source:
      type: local
      local: {dir: statements}
    ledger:
%s
    reports: {dir: out}
`, state, led.block())), 0o644); err != nil {
		t.Fatal(err)
	}
	r := runBin(t, nil, "check", "--connect", "-c", cfg)
	if r.code != 0 || !strings.Contains(r.stdout, "1 open item(s)") {
		t.Fatalf("check --connect: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if got := tables(erp); got != erpBefore {
		t.Errorf("check --connect changed the ERP's tables:\n before %s\n after  %s", erpBefore, got)
	}
	if got := tables(state); got != stateBefore {
		t.Errorf("check --connect changed the state database:\n before %s\n after  %s", stateBefore, got)
	}
	if _, err := os.Stat(filepath.Join(dir, "out")); err == nil {
		t.Error("check --connect created the reports folder")
	}

	// The same configuration run once does create them: the check above
	// would have seen a change.
	if r := runBin(t, nil, "once", "-c", cfg); r.code != 0 {
		t.Fatalf("once: exit %d\n%s", r.code, r.stderr)
	}
	if got := tables(erp); got == erpBefore || !strings.Contains(got, "lettrage_allocations") {
		t.Errorf("once did not create the bookkeeping tables: %s", got)
	}
}
