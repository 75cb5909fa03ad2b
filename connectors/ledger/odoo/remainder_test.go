package odoo

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/lettrage/lettrage/connectors"
	"github.com/lettrage/lettrage/matcher"
)

// livePayments sums the payments Odoo holds posted (the cash booked) and
// those of them without invoice (on-account credits), by partner.
func (f *fakeOdoo) livePayments() (cash matcher.Amount, credit map[int]matcher.Amount) {
	f.mu.Lock()
	defer f.mu.Unlock()
	credit = map[int]matcher.Amount{}
	for _, p := range f.pays {
		if p.state != "posted" && p.state != "in_process" && p.state != "paid" {
			continue
		}
		cash = cash.Add(p.amount)
		if p.move == 0 {
			credit[p.partner] = credit[p.partner].Add(p.amount)
		}
	}
	return cash, credit
}

// An overpaid payment (518 for invoice 6 of 500) lettered automatically,
// whose 18 left over an accountant then puts on the customer's account
// under a second key: the payment's cash is booked once (500 + 18), the
// customer has a credit of 18, replays write nothing, and unlettering
// newest first gives everything back. With record_exceptions, postings are
// refused (with the reason): the letter stands, its remainder stays an
// exception.
func TestRemainderOfAnOverpaidLetter(t *testing.T) {
	for _, major := range []int{16, 18} {
		t.Run(fmt.Sprintf("odoo %d", major), func(t *testing.T) {
			f, srv := newFakeOdoo(t, major)
			c := newClient(t, srv.URL, func(c *Config) { c.Journal = "BNK1" })
			ctx := context.Background()
			letter := kd("k-letter", al("6", "500.00", ""))
			letter.Tx.Amount, letter.Decision.Excess = matcher.MustAmount("518.00"), matcher.MustAmount("18.00")
			rest := pd("man-rest", []matcher.Posting{onAccount("43", "18.00")})
			rest.Tx = letter.Tx
			state := func() string {
				cash, credit := f.livePayments()
				return fmt.Sprintf("%s cash=%s credit43=%s", strings.Fields(f.residuals())[5], cash.Key(), credit[43].Key())
			}
			if err := c.Apply(ctx, []connectors.KeyedDecision{letter}); err != nil {
				t.Fatalf("Apply(letter): %v", err)
			}
			if got, want := state(), "6=paid/0 cash=500 credit43=0"; got != want {
				t.Fatalf("after the letter: %s, want %s", got, want)
			}
			if err := c.Apply(ctx, []connectors.KeyedDecision{rest}); err != nil {
				t.Fatalf("Apply(remainder): %v", err)
			}
			both := "6=paid/0 cash=518 credit43=18"
			if got := state(); got != both {
				t.Fatalf("after the remainder: %s, want %s", got, both)
			}
			creates := f.calls["account.payment.create"] + f.calls["account.payment.register.action_create_payments"]
			for _, b := range [][]connectors.KeyedDecision{{letter, rest}, {rest}, {letter}} {
				if err := c.Apply(ctx, b); err != nil {
					t.Fatalf("replay: %v", err)
				}
			}
			if got, n := state(), f.calls["account.payment.create"]+f.calls["account.payment.register.action_create_payments"]; got != both || n != creates {
				t.Errorf("after replays: %s with %d payments created, want %s with %d", got, n, both, creates)
			}
			applied, err := c.Applied(ctx, []string{"k-letter", "man-rest"})
			if err != nil || !applied["k-letter"] || !applied["man-rest"] {
				t.Errorf("Applied = %v, %v; want both", applied, err)
			}
			undoRest := rev("unl-rest", "man-rest")
			undoRest.Tx, undoRest.Postings = rest.Tx, rest.Decision.Postings
			undoLetter := rev("unl-letter", "k-letter")
			undoLetter.Tx, undoLetter.Allocations = letter.Tx, letter.Decision.Allocations
			for i := 0; i < 2; i++ {
				if err := c.Unletter(ctx, undoRest); err != nil {
					t.Fatalf("Unletter(remainder) %d: %v", i, err)
				}
			}
			if got, want := state(), "6=paid/0 cash=500 credit43=0"; got != want {
				t.Errorf("after unlettering the remainder: %s, want %s", got, want)
			}
			for i := 0; i < 2; i++ {
				if err := c.Unletter(ctx, undoLetter); err != nil {
					t.Fatalf("Unletter(letter) %d: %v", i, err)
				}
				if err := c.Unletter(ctx, undoRest); err != nil {
					t.Fatalf("replaying Unletter(remainder): %v", err)
				}
			}
			if got, want := state(), "6=not_paid/500 cash=0 credit43=0"; got != want {
				t.Errorf("after unlettering both: %s, want %s", got, want)
			}
			applied, err = c.Applied(ctx, []string{"unl-rest", "unl-letter"})
			if err != nil || !applied["unl-rest"] || !applied["unl-letter"] {
				t.Errorf("Applied(reversals) = %v, %v; want both", applied, err)
			}
		})
	}
	t.Run("record_exceptions", func(t *testing.T) {
		f, srv := newFakeOdoo(t, 17)
		c := newClient(t, srv.URL, recording)
		ctx := context.Background()
		letter := kd("k-letter", al("6", "500.00", ""))
		letter.Tx.Amount, letter.Decision.Excess = matcher.MustAmount("518.00"), matcher.MustAmount("18.00")
		rest := pd("man-rest", []matcher.Posting{onAccount("43", "18.00")})
		rest.Tx = letter.Tx
		if err := c.Apply(ctx, []connectors.KeyedDecision{letter}); err != nil {
			t.Fatalf("Apply(letter): %v", err)
		}
		lines := f.stLinesText()
		if !strings.Contains(lines, "|518.00|") || !strings.Contains(lines, "20:-18.00") || strings.Count(lines, "\n") != 0 {
			t.Errorf("statement lines after the letter:\n%s\nwant one line of 518, its 18 left open on suspense", lines)
		}
		err := c.Apply(ctx, []connectors.KeyedDecision{rest})
		rej, only := connectors.Rejections(err)
		if !only || len(rej) != 1 || rej[0].Key != "man-rest" || !strings.Contains(rej[0].Reason, "record_exceptions") {
			t.Fatalf("Apply(remainder) = %v, want it refused with a reason naming record_exceptions", err)
		}
		if got := f.stLinesText(); got != lines {
			t.Errorf("the refused remainder wrote:\n%s\nwas:\n%s", got, lines)
		}
		if cash, _ := f.livePayments(); !cash.IsZero() {
			t.Errorf("payments of %s registered besides the statement line", cash)
		}
		if applied, err := c.Applied(ctx, []string{"man-rest"}); err != nil || applied["man-rest"] {
			t.Errorf("Applied = %v, %v; want nothing", applied, err)
		}
		undoLetter := rev("unl-letter", "k-letter")
		undoLetter.Tx, undoLetter.Allocations = letter.Tx, letter.Decision.Allocations
		for i := 0; i < 2; i++ {
			if err := c.Unletter(ctx, undoLetter); err != nil {
				t.Fatalf("Unletter(letter) %d: %v", i, err)
			}
		}
		if got := strings.Fields(f.residuals())[5]; got != "6=not_paid/500" {
			t.Errorf("invoice after the reversal: %s", got)
		}
		var re *connectors.RejectedError
		if !errors.As(err, &re) {
			t.Errorf("the refusal is not a RejectedError: %v", err)
		}
	})
}
