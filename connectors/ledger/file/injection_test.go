package file

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lettrage/lettrage/connectors"
	"github.com/lettrage/lettrage/domain"
	"github.com/lettrage/lettrage/internal/csvsafe"
)

// TestJournalNeutralisesFormulas: a payer name, an explanation and item
// ids that a spreadsheet would run as formulas are written to matches.csv
// and the unletterings journal with the text-cell escape, amounts are
// left as numbers (a credit note's -240.00), and the ledger reads its own
// journal back unescaped: the residuals are subtracted from the right items.
func TestJournalNeutralisesFormulas(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	items := filepath.Join(dir, "open_items.csv")
	if err := os.WriteFile(items, []byte(header+
		"-7,@C1,Alpha,=D1,2026-10-01,2026-10-31,EUR,500.00,500.00,,\n"+
		"CN-1,@C1,Alpha,AV-1,2026-10-01,2026-10-31,EUR,-240.00,-240.00,,\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	journal := filepath.Join(dir, "matches.csv")
	l, err := New(Config{OpenItems: items, Journal: journal})
	if err != nil {
		t.Fatal(err)
	}
	payload := `=HYPERLINK("http://x","click")`
	d := connectors.KeyedDecision{
		Key: "k1",
		Tx: domain.Transaction{Ref: "+REF1", Account: "FR7630003012340005001234509", Amount: domain.MustAmount("160.00"),
			Currency: "EUR", Credit: true, BookingDate: time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC),
			Counterparty: domain.Party{Name: payload}},
		Decision: domain.Decision{Outcome: domain.Auto, Rule: "manual:letter", Confidence: 1,
			Explanation: "-2+3+cmd|' /C calc'!A0", Allocations: []domain.Allocation{
				{ItemID: "CN-1", Amount: domain.MustAmount("-240.00")},
				{ItemID: "-7", Amount: domain.MustAmount("400.00")},
			}},
		Items: map[string]domain.OpenItem{
			"-7":   {ID: "-7", DocumentNumber: "=D1", CustomerID: "@C1"},
			"CN-1": {ID: "CN-1", DocumentNumber: "AV-1", CustomerID: "@C1"},
		},
		DecidedAt: time.Date(2026, 11, 23, 13, 4, 5, 0, time.UTC),
	}
	if err := l.Apply(ctx, []connectors.KeyedDecision{d}); err != nil {
		t.Fatal(err)
	}
	rows := readRows(t, journal)
	if len(rows) != 3 {
		t.Fatalf("journal rows = %q", rows)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	credit, invoice := rows[1], rows[2]
	for _, c := range []struct{ got, want string }{
		{credit[col["counterparty_name"]], "'" + payload},
		{credit[col["tx_ref"]], "'+REF1"},
		{credit[col["explanation"]], "'-2+3+cmd|' /C calc'!A0"},
		{credit[col["allocated_amount"]], "-240.00"}, // an amount stays a number
		{credit[col["customer_id"]], "'@C1"},
		{invoice[col["open_item_id"]], "'-7"},
		{invoice[col["document_number"]], "'=D1"},
		{invoice[col["allocated_amount"]], "400.00"},
	} {
		if c.got != c.want {
			t.Errorf("cell = %q, want %q", c.got, c.want)
		}
	}
	// No text cell of the file starts a formula.
	for _, r := range rows[1:] {
		for i, v := range r {
			if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) && !isNumber(v) {
				t.Errorf("column %s starts a formula: %q", rows[0][i], v)
			}
		}
	}
	// Read back by a fresh ledger: the escaped ids are the items' ids.
	fresh, _ := New(Config{OpenItems: items, Journal: journal})
	got := openResiduals(t, fresh)
	if len(got) != 1 || got["-7"] != "100.00" {
		t.Fatalf("open items after the letter = %v, want -7:100.00 (CN-1 settled)", got)
	}
	// The unletterings journal is escaped too, and read back unescaped.
	rev := connectors.Reversal{Key: "unl-1", Reverses: "k1", Tx: d.Tx, Allocations: d.Decision.Allocations,
		Items: d.Items, Reason: "=cmd()", At: d.DecidedAt}
	if err := fresh.Unletter(ctx, rev); err != nil {
		t.Fatal(err)
	}
	u := readRows(t, fresh.unletteringsPath())
	if u[1][2] != "'+REF1" || u[1][4] != "'@C1" || u[1][5] != "'-7:400.00;CN-1:-240.00" || u[1][7] != "'=cmd()" {
		t.Errorf("unletterings row = %q", u[1])
	}
	if got := openResiduals(t, fresh); got["-7"] != "500.00" || got["CN-1"] != "-240.00" {
		t.Errorf("after unlettering = %v, want both items whole again", got)
	}
	if csvsafe.Unescape(u[1][7]) != "=cmd()" {
		t.Error("the escape does not reverse")
	}
}

func isNumber(s string) bool {
	_, err := domain.ParseAmount(s)
	return err == nil
}
