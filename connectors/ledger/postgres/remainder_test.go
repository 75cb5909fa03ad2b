package postgres

import (
	"context"
	"testing"

	"github.com/lettrage/lettrage/connectors"
	"github.com/lettrage/lettrage/domain"
)

// An overpaid payment lettered automatically (1,000 to invoice 14, 18 left
// over) whose remainder an accountant then puts on the customer's account
// under a second key: each decision writes only its own part, the cash is
// recorded once in total, replays write nothing, and unlettering the chain
// newest first gives everything back.
func TestRemainderOfAnOverpaidLetter(t *testing.T) {
	ctx := context.Background()
	c, dsn := newPostingLedger(t, nil)
	if _, err := cluster.Exec(dsn, `INSERT INTO invoices VALUES (14, 1, 'INV-14', '2026-11-01', NULL, 'EUR', 1000.00, 1000.00, 'RF71INV14')`); err != nil {
		t.Fatal(err)
	}
	letter := decision("k-letter", "tx-over", alloc("14", "1000.00", ""))
	letter.Tx.Amount = domain.MustAmount("1018.00")
	letter.Decision.Excess = domain.MustAmount("18.00")
	rest := withPostings(decision("man-rest", "tx-over"), posting(domain.OnAccount, "1", "18.00", "advance"))
	rest.Tx = letter.Tx // the same transaction, the whole cash
	rest.Decision.Explanation = "remainder of the payment lettered by rule reference"

	// cash is every amount recorded against the payment: allocations booked
	// by apply_statement and postings by post_statement.
	const cash = `SELECT coalesce((SELECT sum(amount) FROM payments), 0) + coalesce((SELECT sum(amount) FROM credits), 0)`
	const credit = `SELECT coalesce(sum(amount), 0) FROM credits WHERE kind = 'on_account' AND customer = 1`
	const exception = `SELECT count(*) FROM lettrage_exceptions WHERE tx_key = 'tx-over'`

	if err := c.Apply(ctx, []connectors.KeyedDecision{letter}); err != nil {
		t.Fatalf("Apply(letter): %v", err)
	}
	// The pipeline shows the 18 left over as an exception until resolved.
	if err := c.RecordExceptions(ctx, []Exception{{Tx: letter.Tx, Decision: letter.Decision}}); err != nil {
		t.Fatal(err)
	}
	if err := c.Apply(ctx, []connectors.KeyedDecision{rest}); err != nil {
		t.Fatalf("Apply(remainder): %v", err)
	}
	check := func(step, wantResidual, wantCash, wantCredit string) {
		t.Helper()
		if got := count(t, dsn, `SELECT residual FROM invoices WHERE id = 14`); got != wantResidual {
			t.Errorf("%s: invoice 14 residual = %s, want %s", step, got, wantResidual)
		}
		if got := count(t, dsn, cash); got != wantCash {
			t.Errorf("%s: cash recorded = %s, want %s", step, got, wantCash)
		}
		if got := count(t, dsn, credit); got != wantCredit {
			t.Errorf("%s: credit of customer 1 = %s, want %s", step, got, wantCredit)
		}
	}
	check("after both", "0.000", "1018.000", "18.000")
	if got := count(t, dsn, exception); got != "0" {
		t.Errorf("exceptions of tx-over after the remainder = %s, want 0", got)
	}
	got, err := c.Applied(ctx, []string{"k-letter", "man-rest"})
	if err != nil || !got["k-letter"] || !got["man-rest"] {
		t.Fatalf("Applied = %v, %v, want both", got, err)
	}

	// Replays, together and alone, write nothing.
	for _, b := range [][]connectors.KeyedDecision{{letter, rest}, {rest}, {letter}} {
		if err := c.Apply(ctx, b); err != nil {
			t.Fatalf("replay: %v", err)
		}
	}
	check("after replays", "0.000", "1018.000", "18.000")
	if got := count(t, dsn, `SELECT (SELECT count(*) FROM payments) || '/' || (SELECT count(*) FROM credits)`); got != "1/1" {
		t.Errorf("payments/credits rows after replays = %s, want 1/1", got)
	}

	// Unletter newest first, each replayed.
	undoRest := reversal("unl-rest", "man-rest", rest)
	undoRest.Postings = rest.Decision.Postings
	undoLetter := reversal("unl-letter", "k-letter", letter)
	for i := 0; i < 2; i++ {
		if err := c.Unletter(ctx, undoRest); err != nil {
			t.Fatalf("Unletter(remainder) %d: %v", i, err)
		}
	}
	check("after unlettering the remainder", "0.000", "1000.000", "0.000")
	for i := 0; i < 2; i++ {
		if err := c.Unletter(ctx, undoLetter); err != nil {
			t.Fatalf("Unletter(letter) %d: %v", i, err)
		}
		if err := c.Unletter(ctx, undoRest); err != nil {
			t.Fatalf("replaying Unletter(remainder) after the letter's: %v", err)
		}
	}
	check("after unlettering both", "1000.000", "0.000", "0.000")
	got, err = c.Applied(ctx, []string{"unl-rest", "unl-letter"})
	if err != nil || !got["unl-rest"] || !got["unl-letter"] {
		t.Errorf("Applied(reversals) = %v, %v, want both", got, err)
	}
	if got := count(t, dsn, `SELECT (SELECT count(*) FROM payments) || '/' || (SELECT count(*) FROM credits)`); got != "2/2" {
		t.Errorf("payments/credits rows after the reversals = %s, want 2/2 (one reversal row each)", got)
	}
}
