package tryton

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/lettrage/lettrage/connectors"
	"github.com/lettrage/lettrage/domain"
)

var unlettered = time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)

func rev(key string, d connectors.KeyedDecision) connectors.Reversal {
	return connectors.Reversal{Key: key, Reverses: d.Key, Tx: d.Tx, Allocations: d.Decision.Allocations,
		Reason: "wrong invoice\nticket 12", At: unlettered}
}

// receivableLines lists the receivable move lines of the statement lines
// numbered keys: "key:debit−credit:reconciliation id (0 for none)".
func receivableLines(t *testing.T, c *Client, keys ...string) []string {
	t.Helper()
	var out []string
	for _, k := range keys {
		lines, err := c.linesOf(context.Background(), [][]any{{"number", "=", k}})
		if err != nil {
			t.Fatal(err)
		}
		moves, err := c.moveLinesOf(context.Background(), lines)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range lines {
			ml, ok := moves[l.ID]
			if !ok {
				t.Fatalf("no move line for statement line %d (%s)", l.ID, k)
			}
			if ml.Account != seed.Receivable {
				continue
			}
			rec := 0
			if ml.Reconciliation != nil {
				rec = *ml.Reconciliation
			}
			out = append(out, fmt.Sprintf("%s:%s:%d", k, l.Amount.Neg().Key(), rec))
		}
	}
	return out
}

func TestUnletterReopensTheInvoiceInTryton(t *testing.T) {
	tryton(t)
	ctx := context.Background()
	c := newClient(t, nil)
	full := kd("u-full", booked, al(inv("P"), "120.00", ""))
	if err := c.Apply(ctx, []connectors.KeyedDecision{full}); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if got := states(t, "P"); got != "P=paid/0" {
		t.Fatalf("after apply: %s", got)
	}
	before := statementCount(t)
	r := rev("unl-full", full)
	for i := 0; i < 2; i++ { // the second time is a no-op
		if err := c.Unletter(ctx, r); err != nil {
			t.Fatalf("Unletter %d: %v", i, err)
		}
		if got := states(t, "P"); got != "P=posted/120" {
			t.Errorf("after unletter %d: %s, want P open again with 120 to pay", i, got)
		}
		if n := statementCount(t); n != before+1 {
			t.Errorf("after unletter %d: %d statements, want %d", i, n, before+1)
		}
	}
	applied, err := c.Applied(ctx, []string{"u-full", "unl-full", "unl-never"})
	if err != nil || len(applied) != 2 || !applied["u-full"] || !applied["unl-full"] {
		t.Errorf("Applied = %v, %v; want u-full and unl-full", applied, err)
	}
	items, err := c.OpenItems(ctx)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, it := range items {
		if it.ID == inv("P") {
			found = it.Residual.Key() == "120"
		}
	}
	if !found {
		t.Errorf("invoice P not back in the open items with 120")
	}
	// The reversal line describes itself, and its statement is posted.
	lines, err := c.linesOf(ctx, [][]any{{"number", "=", "unl-full"}})
	if err != nil || len(lines) != 1 || lines[0].StmtRel.State != "posted" || lines[0].Amount.Key() != "-120" ||
		lines[0].Invoice != nil || lines[0].Description != "unletters u-full: wrong invoice ticket 12" {
		t.Errorf("reversal lines = %+v, %v", lines, err)
	}
	// Lettered again under a fresh key: the old payment no longer counts.
	again := kd("u-again", booked, al(inv("P"), "120.00", ""))
	if err := c.Apply(ctx, []connectors.KeyedDecision{again}); err != nil {
		t.Fatalf("Apply again: %v", err)
	}
	if got := states(t, "P"); got != "P=paid/0" {
		t.Errorf("after the second letter: %s", got)
	}
}

// Two partial payments made Q paid; undoing the second one leaves the
// first in place; a write-off is undone with its allocation.
func TestUnletterPartialAndWriteOff(t *testing.T) {
	tryton(t)
	ctx := context.Background()
	c := newClient(t, func(c *Config) { c.WriteOffAccount = "Main Expense" })
	p1 := kd("u-p1", booked, al(inv("Q"), "40.00", ""))
	p2 := kd("u-p2", booked, al(inv("Q"), "60.00", ""), al(inv("R"), "49.50", "0.50"))
	for _, d := range []connectors.KeyedDecision{p1, p2} {
		if err := c.Apply(ctx, []connectors.KeyedDecision{d}); err != nil {
			t.Fatalf("Apply %s: %v", d.Key, err)
		}
	}
	if got := states(t, "Q", "R"); got != "Q=paid/0 R=paid/0" {
		t.Fatalf("after apply: %s", got)
	}
	if err := c.Unletter(ctx, rev("unl-p2", p2)); err != nil {
		t.Fatalf("Unletter p2: %v", err)
	}
	if got := states(t, "Q", "R"); got != "Q=posted/60 R=posted/50" {
		t.Errorf("after unlettering p2: %s", got)
	}
	if err := c.Unletter(ctx, rev("unl-p1", p1)); err != nil {
		t.Fatalf("Unletter p1: %v", err)
	}
	if got := states(t, "Q", "R"); got != "Q=posted/100 R=posted/50" {
		t.Errorf("after unlettering p1: %s", got)
	}
	// Every payment line is reconciled with its mirror, one reconciliation
	// per reversal and customer account: nothing of them stays open.
	got := receivableLines(t, c, "u-p1", "unl-p1", "u-p2", "unl-p2")
	recs := map[string]string{}
	for _, g := range got {
		parts := strings.Split(g, ":")
		key := strings.TrimPrefix(parts[0], "unl-")
		if parts[2] == "0" {
			t.Errorf("line %s is not reconciled", g)
		} else if prev, ok := recs[key]; ok && prev != parts[2] {
			t.Errorf("line %s is not reconciled with the other lines of %s", g, key)
		}
		recs[key] = parts[2]
	}
	if len(got) != 8 || recs["u-p1"] == recs["u-p2"] {
		t.Errorf("receivable lines = %q, want 8 (40; 60, 49.50 and 0.50 written off; their mirrors) in two reconciliations", got)
	}
}

// A reversal a crash left in draft is deleted and made again, once.
func TestUnletterFinishesAfterACrash(t *testing.T) {
	tryton(t)
	ctx := context.Background()
	c := newClient(t, nil)
	d := kd("u-crash", booked, al(inv("S"), "30.00", ""))
	if err := c.Apply(ctx, []connectors.KeyedDecision{d}); err != nil {
		t.Fatal(err)
	}
	// The crash: a draft reversal statement, nothing else done.
	if _, err := c.post(ctx, "Lettrage unletter", []string{"unl-crash"}, []lineValues{{Number: "unl-crash",
		Date: Date{unlettered}, Amount: Decimal{domain.MustAmount("-30.00")}, Account: seed.Receivable}}); err != nil {
		t.Fatal(err)
	}
	if got, err := c.Applied(ctx, []string{"unl-crash"}); err != nil || got["unl-crash"] {
		t.Fatalf("Applied on a draft reversal = %v, %v", got, err)
	}
	before := statementCount(t)
	if err := c.Unletter(ctx, rev("unl-crash", d)); err != nil {
		t.Fatalf("Unletter: %v", err)
	}
	if n := statementCount(t); n != before {
		t.Errorf("statements = %d, want %d (the draft replaced)", n, before)
	}
	if got := states(t, "S"); got != "S=posted/30" {
		t.Errorf("invoice S = %s", got)
	}
	lines, err := c.linesOf(ctx, [][]any{{"number", "=", "unl-crash"}})
	if err != nil || len(lines) != 1 || lines[0].StmtRel.State != "posted" {
		t.Errorf("reversal lines = %+v, %v", lines, err)
	}
}

func TestUnletterRejections(t *testing.T) {
	tryton(t)
	ctx := context.Background()
	c := newClient(t, func(c *Config) { c.SuspenseAccount = "471" })
	d := kd("u-rej", booked, al(inv("T"), "80.00", ""))
	if err := c.Apply(ctx, []connectors.KeyedDecision{d}); err != nil {
		t.Fatal(err)
	}
	if err := c.Unletter(ctx, rev("unl-rej", d)); err != nil {
		t.Fatal(err)
	}
	// A suspense line: settles no invoice.
	susp := domain.Transaction{Key: "FR76-UNL-SUSP", Ref: "UNL-SUSP", Currency: "EUR", Credit: true, Status: "BOOK",
		Amount: domain.MustAmount("5.00"), BookingDate: booked}
	if err := c.RecordExceptions(ctx, []connectors.Exception{{Tx: susp, Decision: domain.Decision{Outcome: domain.Unmatched}}}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name        string
		r           connectors.Reversal
		errIs       error
		errContains string
	}{
		{"unknown", connectors.Reversal{Key: "unl-x", Reverses: "u-nope"}, ErrNotLettered, "holds no lettering u-nope"},
		{"a reversal", connectors.Reversal{Key: "unl-x", Reverses: "unl-rej"}, ErrNotLettered, "settles no invoice"},
		{"a suspense line", connectors.Reversal{Key: "unl-x", Reverses: ExceptionKey(susp.Key)}, ErrNotLettered, "settles no invoice"},
		{"reversed twice", connectors.Reversal{Key: "unl-x", Reverses: "u-rej"}, ErrAlreadyReversed, "already reversed by unl-rej"},
	}
	before := statementCount(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := c.Unletter(ctx, tc.r)
			var re *connectors.RejectedError
			if !errors.Is(err, tc.errIs) || !errors.As(err, &re) || re.Key != "unl-x" || !strings.Contains(re.Reason, tc.errContains) {
				t.Errorf("Unletter = %v; want a rejection of unl-x wrapping %v, saying %q", err, tc.errIs, tc.errContains)
			}
		})
	}
	if n := statementCount(t); n != before {
		t.Errorf("statements = %d, want %d: a rejection writes nothing", n, before)
	}
	if got := states(t, "T"); got != "T=posted/80" {
		t.Errorf("invoice T = %s", got)
	}
	if err := c.Unletter(ctx, connectors.Reversal{Reverses: "u-rej"}); err == nil || !strings.Contains(err.Error(), "needs a key") {
		t.Errorf("Unletter without key = %v", err)
	}
}

// A payment first booked on the suspense account, then lettered (the cash
// moved to the invoice), then unlettered: the cash is back on the suspense
// account, recording the exception again books nothing, and lettering it
// again moves it once more — the bank account holds it once throughout.
func TestUnletterPutsSuspenseCashBack(t *testing.T) {
	tryton(t)
	ctx := context.Background()
	c := newClient(t, func(c *Config) { c.SuspenseAccount = "471" })
	cash := cashAccount(t)
	cashBefore, suspBefore := balance(t, cash), balance(t, seed.Suspense)
	tx := domain.Transaction{Key: "FR76-UNL-U", Ref: "UNL-U", Currency: "EUR", Credit: true, Status: "BOOK",
		Amount: domain.MustAmount("64.00"), BookingDate: booked, Counterparty: domain.Party{Name: "Lefebvre SA"}}
	exc := []connectors.Exception{{Tx: tx, Decision: domain.Decision{Outcome: domain.Unmatched}}}
	if err := c.RecordExceptions(ctx, exc); err != nil {
		t.Fatal(err)
	}
	d := kd("u-susp", booked, al(inv("U"), "64.00", ""))
	d.Tx = tx
	if err := c.Apply(ctx, []connectors.KeyedDecision{d}); err != nil {
		t.Fatal(err)
	}
	if got := states(t, "U") + " " + balance(t, seed.Suspense); got != "U=paid/0 "+suspBefore {
		t.Fatalf("after the letter: %s, want U paid and the suspense account as before", got)
	}
	if err := c.Unletter(ctx, rev("unl-susp", d)); err != nil {
		t.Fatal(err)
	}
	if err := c.RecordExceptions(ctx, exc); err != nil { // the exception again: already booked
		t.Fatal(err)
	}
	wantSusp := domain.MustAmount(suspBefore).Sub(domain.MustAmount("64")).Key() // a credit balance grows
	if got := states(t, "U") + " " + balance(t, seed.Suspense); got != "U=posted/64 "+wantSusp {
		t.Errorf("after the unletter: %s, want U open and 64 back on suspense (%s)", got, wantSusp)
	}
	again := kd("u-susp-2", booked, al(inv("U"), "64.00", ""))
	again.Tx = tx
	if err := c.Apply(ctx, []connectors.KeyedDecision{again}); err != nil {
		t.Fatal(err)
	}
	if got := states(t, "U") + " " + balance(t, seed.Suspense); got != "U=paid/0 "+suspBefore {
		t.Errorf("after the second letter: %s", got)
	}
	if got, want := balance(t, cash), domain.MustAmount(cashBefore).Add(domain.MustAmount("64")).Key(); got != want {
		t.Errorf("cash = %s, want %s: the payment is in the bank once", got, want)
	}
}
