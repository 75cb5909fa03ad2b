package tryton

import (
	"context"
	"fmt"
	"testing"

	"github.com/lettrage/lettrage/connectors"
	"github.com/lettrage/lettrage/domain"
)

// An overpaid payment (1,018 for invoice 1,000) lettered automatically,
// whose 18 left over an accountant then puts on the customer's account
// under a second key, then unlettered newest first. Tryton's journal must
// hold the payment's cash exactly once at every step, the suspense account
// the cash no letter took, and the customer the credit of 18 while it
// stands. suspenseFirst: the whole payment was an exception booked on
// suspense before the letter (else only its remainder is, after the
// letter).
func TestRemainderOfAnOverpaidLetter(t *testing.T) {
	for _, tc := range []struct {
		name, label, party string
		suspenseFirst      bool
	}{
		{name: "remainder on suspense after the letter", label: "AB", party: "Leroy SARL"},
		{name: "whole payment on suspense before the letter", label: "AC", party: "Bonnet SA", suspenseFirst: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tryton(t)
			ctx := context.Background()
			c := newClient(t, func(c *Config) { c.SuspenseAccount = "471" })
			cust := customerOf(t, c, tc.label)
			cash := cashAccount(t)
			cash0, susp0 := balance(t, cash), balance(t, seed.Suspense)
			tx := domain.Transaction{Key: "FR76-REM-" + tc.label, Ref: "REM-" + tc.label, Currency: "EUR", Credit: true, Status: "BOOK",
				Amount: domain.MustAmount("1018.00"), BookingDate: booked, Counterparty: domain.Party{Name: tc.party}}
			whole := []connectors.Exception{{Tx: tx, Decision: domain.Decision{Outcome: domain.Unmatched, Reason: "no_candidate"}}}
			letter := kd("rem-letter-"+tc.label, booked, al(inv(tc.label), "1000.00", ""))
			letter.Tx = tx
			letter.Decision.Excess = domain.MustAmount("18.00")
			rest := pd("man-rem-"+tc.label, onAccount(cust, "18.00"))
			rest.Tx = tx
			// The pipeline shows the 18 left over by the letter as an exception.
			remainder := []connectors.Exception{{Tx: tx, Decision: letter.Decision}}

			snapshot := func() string {
				return fmt.Sprintf("%s receivable=%s cash=%s suspense=%s", states(t, tc.label), partyReceivable(t, tc.party),
					mustSub(balance(t, cash), cash0), mustSub(balance(t, seed.Suspense), susp0))
			}
			before := "0"
			if tc.suspenseFirst {
				if err := c.RecordExceptions(ctx, whole); err != nil {
					t.Fatal(err)
				}
				before = "1018"
			}
			// Suspense is a credit balance: −x holds x.
			open := fmt.Sprintf("%s=posted/1000 receivable=1000 cash=%s suspense=%s", tc.label, before, mustSub("0", before))
			if got := snapshot(); got != open {
				t.Fatalf("before: %s, want %s", got, open)
			}
			if err := c.Apply(ctx, []connectors.KeyedDecision{letter}); err != nil {
				t.Fatalf("Apply(letter): %v", err)
			}
			if err := c.RecordExceptions(ctx, remainder); err != nil {
				t.Fatal(err)
			}
			if got, want := snapshot(), tc.label+"=paid/0 receivable=0 cash=1018 suspense=-18"; got != want {
				t.Fatalf("after the letter: %s, want %s (1,000 lettered, 18 on suspense)", got, want)
			}
			if err := c.Apply(ctx, []connectors.KeyedDecision{rest}); err != nil {
				t.Fatalf("Apply(remainder): %v", err)
			}
			both := tc.label + "=paid/0 receivable=-18 cash=1018 suspense=0"
			if got := snapshot(); got != both {
				t.Fatalf("after the remainder: %s, want %s (the 18 moved from suspense to the customer's credit)", got, both)
			}
			n := statementCount(t)
			for _, b := range [][]connectors.KeyedDecision{{letter, rest}, {rest}, {letter}} {
				if err := c.Apply(ctx, b); err != nil {
					t.Fatalf("replay: %v", err)
				}
			}
			if err := c.RecordExceptions(ctx, remainder); err != nil { // a stale snapshot: already booked
				t.Fatal(err)
			}
			if got := snapshot(); got != both || statementCount(t) != n {
				t.Errorf("after replays: %s and %d statements, want %s and %d", got, statementCount(t), both, n)
			}
			applied, err := c.Applied(ctx, []string{letter.Key, rest.Key})
			if err != nil || !applied[letter.Key] || !applied[rest.Key] {
				t.Errorf("Applied = %v, %v; want both", applied, err)
			}

			undoRest := rev("unl-"+rest.Key, rest)
			undoRest.Postings = rest.Decision.Postings
			undoLetter := rev("unl-"+letter.Key, letter)
			for i := 0; i < 2; i++ {
				if err := c.Unletter(ctx, undoRest); err != nil {
					t.Fatalf("Unletter(remainder) %d: %v", i, err)
				}
			}
			if got, want := snapshot(), tc.label+"=paid/0 receivable=0 cash=1018 suspense=-18"; got != want {
				t.Errorf("after unlettering the remainder: %s, want %s (the 18 back on suspense)", got, want)
			}
			for i := 0; i < 2; i++ {
				if err := c.Unletter(ctx, undoLetter); err != nil {
					t.Fatalf("Unletter(letter) %d: %v", i, err)
				}
				if err := c.Unletter(ctx, undoRest); err != nil {
					t.Fatalf("replaying Unletter(remainder): %v", err)
				}
			}
			// The whole payment is an exception again: the pipeline hands it
			// over, and it must be on suspense once, whole.
			if err := c.RecordExceptions(ctx, whole); err != nil {
				t.Fatal(err)
			}
			unlettered := tc.label + "=posted/1000 receivable=1000 cash=1018 suspense=-1018"
			if got := snapshot(); got != unlettered {
				t.Errorf("after unlettering both: %s, want %s", got, unlettered)
			}
			applied, err = c.Applied(ctx, []string{undoRest.Key, undoLetter.Key})
			if err != nil || !applied[undoRest.Key] || !applied[undoLetter.Key] {
				t.Errorf("Applied(reversals) = %v, %v; want both", applied, err)
			}
			// Lettered again: the cash moves from suspense, never booked twice.
			again := kd("rem-again-"+tc.label, booked, al(inv(tc.label), "1000.00", ""))
			again.Tx, again.Decision.Excess = tx, domain.MustAmount("18.00")
			if err := c.Apply(ctx, []connectors.KeyedDecision{again}); err != nil {
				t.Fatal(err)
			}
			if got, want := snapshot(), tc.label+"=paid/0 receivable=0 cash=1018 suspense=-18"; got != want {
				t.Errorf("lettered again: %s, want %s", got, want)
			}
		})
	}
}
