package state

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// TestByClassUsesTheClassIndex holds the identity rule's look-up by class
// to the class index on SQLite: planned by the primary key (for its ORDER
// BY), it read every transaction of the job for the few classes of a new
// file.
func TestByClassUsesTheClassIndex(t *testing.T) {
	ctx := context.Background()
	s, err := OpenSQLite(filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	plan, err := collect(ctx, s.onDB(), `EXPLAIN QUERY PLAN `+byClassQuery(3, SQLite), "j", "a", "b", "c")
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(plan); !strings.Contains(got, "transactions_ident") {
		t.Errorf("ByClass's plan %s does not use transactions_ident", got)
	}
	// PostgreSQL is given the plain order (it has no unary plus on text).
	if q := byClassQuery(1, Postgres); strings.Contains(q, "+key") {
		t.Errorf("PostgreSQL query %q", q)
	}
}

// TestSettledItemsReadTheTableThrough holds SettledItems' query to a scan
// of the decisions on SQLite (most of them are letters): walking the index
// (job, tx_key) looked every row up in the table.
func TestSettledItemsReadTheTableThrough(t *testing.T) {
	ctx := context.Background()
	s, err := OpenSQLite(filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	plan, err := collect(ctx, s.onDB(), `EXPLAIN QUERY PLAN `+settledQuery(SQLite), "j", "auto", "rejected", "2026-01-01")
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(plan); !strings.Contains(got, "SCAN decisions") || strings.Contains(got, "INDEX") {
		t.Errorf("SettledItems' plan %s is not a scan of the table", got)
	}
	if q := settledQuery(Postgres); strings.Contains(q, "INDEXED") {
		t.Errorf("PostgreSQL query %q", q)
	}
}
