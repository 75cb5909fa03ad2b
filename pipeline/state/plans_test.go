package state

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lettrage/lettrage/domain"
	"github.com/lettrage/lettrage/pipeline/decide"
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

// TestSettledItemSnapshotOfTheGreatestTxKey holds SettledItems to one
// snapshot of an item settled by two letters whatever order the store
// reads the rows in: the letter of the greater transaction key's, as the
// index on (job, tx_key) ordered them before the table was read through.
func TestSettledItemSnapshotOfTheGreatestTxKey(t *testing.T) {
	forEachOpenStore(t, func(t *testing.T, ctx context.Context, s *Store) {
		at := time.Date(2026, 11, 3, 8, 0, 0, 0, time.UTC)
		letter := func(ref, residual string) decide.DecisionRecord {
			tx := testTx(ref, "60.00")
			return decide.DecisionRecord{Key: decide.DecisionKey("j", tx.Key, 0), Tx: &tx, FileHash: "h1", New: true,
				Decision: domain.Decision{TxKey: tx.Key, Outcome: domain.Auto, Rule: "document",
					Allocations: []domain.Allocation{{ItemID: "OI1", Amount: domain.MustAmount("60.00")}}},
				Items: map[string]domain.OpenItem{"OI1": {ID: "OI1", DocumentNumber: "FA-1", Currency: "EUR",
					Amount: domain.MustAmount("100.00"), Residual: domain.MustAmount(residual)}}}
		}
		// The greater key first: a read in the order of insertion ends on
		// the other.
		for i, rec := range []decide.DecisionRecord{letter("B", "100.00"), letter("A", "40.00")} {
			if err := s.SaveCommit(ctx, Commit{Job: "j", ConfigHash: "cfg", At: at.Add(time.Duration(i) * time.Minute),
				Decisions: []decide.DecisionRecord{rec}}); err != nil {
				t.Fatal(err)
			}
		}
		got, err := s.SettledItems(ctx, "j", at.AddDate(0, 0, -1))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].ID != "OI1" || got[0].Residual.String() != "100.00" {
			t.Errorf("SettledItems = %+v, want OI1 as letter B left it (residual 100.00)", got)
		}
	})
}
