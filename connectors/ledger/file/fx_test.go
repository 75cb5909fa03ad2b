package file

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lettrage/lettrage/connectors"
	"github.com/lettrage/lettrage/domain"
)

// fxAlloc is a cross-currency allocation: cash in EUR settling item in ccy.
func fxAlloc(id, cash, item, ccy string) domain.Allocation {
	return domain.Allocation{ItemID: id, Amount: domain.MustAmount(cash), ItemAmount: domain.MustAmount(item), ItemCurrency: ccy}
}

func TestJournalCrossCurrency(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name        string
		journal     string // initial content, "" for none
		errContains string // "" when written
		wantLast    string // the last two fields of the allocation row
		wantResid   string // INV-1's residual afterwards
	}{
		{name: "new journal", wantLast: "76.00|USD", wantResid: "24.00"},
		{name: "journal without the FX columns", journal: strings.Join(postingJournalHeader, ",") + "\n",
			errContains: "rotate it", wantResid: "100.00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, journal := newLedger(t)
			if tt.journal != "" {
				if err := os.MkdirAll(filepath.Dir(journal), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(journal, []byte(tt.journal), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			d := decision("k-fx", "R1", fxAlloc("INV-1", "70.00", "76.00", "USD"))
			same := decision("k-eur", "R2", alloc("INV-2", "10.00", ""))
			err := l.Apply(ctx, []connectors.KeyedDecision{d, same})
			var rej *connectors.RejectedError
			switch {
			case tt.errContains == "" && err != nil:
				t.Fatalf("Apply = %v", err)
			case tt.errContains != "" && (!errors.As(err, &rej) || rej.Key != "k-fx" || !strings.Contains(rej.Reason, tt.errContains)):
				t.Fatalf("Apply = %v, want the rejection of k-fx with %q", err, tt.errContains)
			}
			rows := readRows(t, journal)
			var fxRow, eurRow []string
			for _, r := range rows[1:] {
				switch r[jKey] {
				case "k-fx":
					fxRow = r
				case "k-eur":
					eurRow = r
				}
			}
			if eurRow == nil {
				t.Fatal("the same-currency decision was not written")
			}
			if len(eurRow) == len(JournalHeader) && eurRow[jItemAmount]+eurRow[jItemCcy] != "" {
				t.Errorf("same-currency row has item amount %q %q", eurRow[jItemAmount], eurRow[jItemCcy])
			}
			if tt.wantLast != "" {
				if fxRow == nil {
					t.Fatal("the cross-currency decision was not written")
				}
				if got := strings.Join(fxRow[len(fxRow)-2:], "|"); got != tt.wantLast || fxRow[jAllocated] != "70.00" {
					t.Errorf("row ends %q, allocated %q; want %q, 70.00", got, fxRow[jAllocated], tt.wantLast)
				}
			} else if fxRow != nil {
				t.Errorf("refused decision written: %q", fxRow)
			}
			// read back by a fresh ledger: the item's residual falls by what
			// was settled in its currency, not by the cash
			l2, err := New(l.cfg)
			if err != nil {
				t.Fatal(err)
			}
			if r := openResiduals(t, l2); r["INV-1"] != tt.wantResid {
				t.Errorf("INV-1 residual %q, want %q", r["INV-1"], tt.wantResid)
			}
		})
	}
}
