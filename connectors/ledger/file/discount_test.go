package file

import (
	"context"
	"strings"
	"testing"

	"github.com/lettrage/lettrage/connectors"
	"github.com/lettrage/lettrage/domain"
)

// discountDecision is what the matcher decides for 98.00 remitted on INV-1
// (100.00) with a 2.00 cash discount closed by the policy, and 20.00 of
// INV-2's 150.00.
func discountDecision() connectors.KeyedDecision {
	d := decision("k-disc", "R1", alloc("INV-1", "98.00", ""), alloc("INV-2", "20.00", ""))
	d.Tx.Amount = domain.MustAmount("118.00")
	d.Decision.Rule = "remittance"
	d.Decision.Postings = []domain.Posting{{Kind: domain.CashDiscountPosting, CustomerID: "C1", ItemID: "INV-1",
		Amount: domain.MustAmount("2.00"), Account: "665", Reason: "ESCOMPTE"}}
	return d
}

// TestCashDiscountJournal: a cash discount is a row of its own, naming the
// item it closes and booked to the policy's account, with the decision's
// lettering code (it settles part of a lettered item); OpenItems counts it
// as settled; a reversal gives it back to the item.
func TestCashDiscountJournal(t *testing.T) {
	ctx := context.Background()
	l, journal := newLedger(t)
	d := discountDecision()
	rows := journalRows(d, fecFields{code: "AAB", journal: "BQ", accountPrefix: "411"})
	if len(rows) != 3 {
		t.Fatalf("%d rows, want 3", len(rows))
	}
	disc := rows[2]
	if disc[jOpenItemID] != "INV-1" || disc[7] != "DOC-INV-1" || disc[jCustomerID] != "C1" || disc[jAllocated] != "2.00" ||
		disc[jCode] != "AAB" || disc[jAccount] != "665" || disc[jKind] != "cash_discount" || disc[jReason] != "ESCOMPTE" {
		t.Errorf("cash-discount row = %q", disc)
	}
	if err := l.Apply(ctx, []connectors.KeyedDecision{d}); err != nil {
		t.Fatal(err)
	}
	// read back by a fresh ledger: INV-1 closed (98 + 2), INV-2 at 130
	l2, _ := New(l.cfg)
	if r := openResiduals(t, l2); r["INV-1"] != "" || r["INV-2"] != "130.00" {
		t.Errorf("residuals = %v, want INV-1 closed and INV-2 130.00", r)
	}
	if ps := l2.journal.postings["k-disc"]; len(ps) != 1 || ps[0].ItemID != "INV-1" || ps[0].Account != "665" {
		t.Errorf("postings read back = %+v", ps)
	}
	if got := join(codes(t, journal)); got != "k-disc:AAA" {
		t.Errorf("codes = %s", got)
	}
	rev := connectors.Reversal{Key: "u1", Reverses: "k-disc", Tx: d.Tx, Allocations: d.Decision.Allocations,
		Postings: d.Decision.Postings, Items: d.Items, Reason: "wrong"}
	if err := l2.Unletter(ctx, rev); err != nil {
		t.Fatal(err)
	}
	u := readRows(t, l2.unletteringsPath())
	if len(u) != 2 || u[1][5] != "INV-1:100.00;INV-2:20.00" || u[1][9] != "cash_discount:665:2.00" {
		t.Errorf("unletterings = %q", u)
	}
	if r := openResiduals(t, l2); r["INV-1"] != "100.00" || r["INV-2"] != "150.00" {
		t.Errorf("residuals after the reversal = %v", r)
	}
}

// TestCashDiscountRefusals: a cash discount without its item or account is
// refused with the reason; a journal row of that kind naming no item is a
// corrupt journal.
func TestCashDiscountRefusals(t *testing.T) {
	ctx := context.Background()
	l, _ := newLedger(t)
	d := discountDecision()
	d.Decision.Postings[0].Account = ""
	err := l.Apply(ctx, []connectors.KeyedDecision{d})
	if rej, only := connectors.Rejections(err); !only || len(rej) != 1 || !strings.Contains(rej[0].Reason, "needs the open item it closes and the account") {
		t.Fatalf("Apply = %v", err)
	}
	st := newJournalState()
	row := journalRows(discountDecision(), fecFields{code: "AAA"})[2]
	row[jOpenItemID] = ""
	if err := st.add(row); err == nil || !strings.Contains(err.Error(), "cash_discount posting names no open item") {
		t.Errorf("add = %v", err)
	}
}
