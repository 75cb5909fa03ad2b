package file

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/lettrage/lettrage/connectors"
)

func openResiduals(t *testing.T, l *Ledger) map[string]string {
	t.Helper()
	items, err := l.OpenItems(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, it := range items {
		out[it.ID] = it.Residual.String()
	}
	return out
}

func TestUnletterGivesTheResidualBack(t *testing.T) {
	ctx := context.Background()
	l, journal := newLedger(t)
	d := decision("key-1", "REF1", alloc("INV-1", "69.50", "0.50"), alloc("INV-3", "20.00", ""))
	if err := l.Apply(ctx, []connectors.KeyedDecision{d}); err != nil {
		t.Fatal(err)
	}
	if r := openResiduals(t, l); r["INV-3"] != "30.00" || r["INV-1"] != "30.00" {
		t.Fatalf("after lettering: %v", r)
	}
	rev := connectors.Reversal{Key: "unl-1", Reverses: "key-1", Tx: d.Tx, Allocations: d.Decision.Allocations,
		Items: d.Items, Reason: "wrong invoice\nsee ticket 12", At: time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)}
	for i := 0; i < 2; i++ { // the second time is a no-op
		if err := l.Unletter(ctx, rev); err != nil {
			t.Fatal(err)
		}
	}
	if r := openResiduals(t, l); r["INV-1"] != "100.00" || r["INV-3"] != "50.00" {
		t.Fatalf("after unlettering: %v", r)
	}
	got, err := l.Applied(ctx, []string{"key-1", "unl-1", "unl-2"})
	if err != nil || !got["key-1"] || !got["unl-1"] || got["unl-2"] {
		t.Fatalf("Applied = %v, %v", got, err)
	}
	path := l.unletteringsPath()
	rows := readRows(t, path)
	if len(rows) != 2 || strings.Join(rows[0], ",") != strings.Join(UnletteringsHeader, ",") {
		t.Fatalf("unletterings = %q", rows)
	}
	if rows[1][5] != "INV-1:70.00;INV-3:20.00" || rows[1][6] != "AAA" || rows[1][7] != "wrong invoice see ticket 12" {
		t.Errorf("row = %q", rows[1])
	}
	// matches.csv never holds unletterings.
	if j := readRows(t, journal); len(j) != 3 {
		t.Errorf("journal has %d rows, want the header and the two allocations", len(j))
	}

	// A torn append (kill -9) is ignored, then cut off by the next one.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("unl-torn,key-9,REF9,DE89,C1,INV-2:15"); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if r := openResiduals(t, l); r["INV-2"] != "150.00" {
		t.Errorf("torn line counted: %v", r)
	}
	d2 := decision("key-2", "REF2", alloc("INV-2", "40.00", ""))
	if err := l.Apply(ctx, []connectors.KeyedDecision{d2}); err != nil {
		t.Fatal(err)
	}
	if err := l.Unletter(ctx, connectors.Reversal{Key: "unl-2", Reverses: "key-2", Tx: d2.Tx, Allocations: d2.Decision.Allocations}); err != nil {
		t.Fatal(err)
	}
	rows = readRows(t, path)
	if len(rows) != 3 || rows[2][0] != "unl-2" {
		t.Fatalf("after repair: %q", rows)
	}
	if r := openResiduals(t, l); r["INV-2"] != "150.00" {
		t.Errorf("INV-2 = %v, want 150.00 back", r)
	}
	// A reversal of a decision the journal does not hold is refused.
	if err := l.Unletter(ctx, connectors.Reversal{Key: "unl-3", Reverses: "nope", Tx: d.Tx}); err == nil {
		t.Error("unknown decision unlettered")
	}
}
