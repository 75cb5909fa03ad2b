package odoo

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/lettrage/lettrage/connectors"
	"github.com/lettrage/lettrage/domain"
)

// livePayments sums Lettrage's posted payments of the test's customers
// (the cash booked) and, by customer, those of them reconciled with no
// invoice (on-account credits), as Odoo holds them.
func (f *fx) livePayments() (cash domain.Amount, credit map[string]domain.Amount) {
	f.t.Helper()
	credit = map[string]domain.Amount{}
	for _, p := range f.payments() {
		if !strings.HasPrefix(string(p.Memo), memoPrefix) || p.State != "posted" {
			continue
		}
		a, err := p.Amount.Amount(2)
		if err != nil {
			f.t.Fatal(err)
		}
		cash = cash.Add(a)
		if len(p.Invoices) == 0 {
			credit[f.names[p.Partner.ID]] = credit[f.names[p.Partner.ID]].Add(a)
		}
	}
	return cash, credit
}

// An overpaid payment (518 for an invoice of 500) lettered automatically,
// whose 18 left over an accountant then puts on the customer's account
// under a second key: the payment's cash is booked once (500 + 18), the
// customer has a credit of 18, replays write nothing, and unlettering
// newest first gives everything back.
func TestRemainderOfAnOverpaidLetter(t *testing.T) {
	f := newFx(t)
	ids := f.invoices(inv("Rossi", "500.00"))
	c := f.client(func(c *Config) { c.Journal = "BNK1" })
	ctx := context.Background()
	letter := f.kd("k-letter", al(ids[0], "500.00", ""))
	letter.Tx.Amount, letter.Decision.Excess = domain.MustAmount("518.00"), domain.MustAmount("18.00")
	rest := f.pd("man-rest", []domain.Posting{onAccount(f.pid("Rossi"), "18.00")})
	rest.Tx = letter.Tx
	state := func() string {
		cash, credit := f.livePayments()
		return fmt.Sprintf("%s cash=%s credit=%s", f.states(ids[0]), cash.Key(), credit["Rossi"].Key())
	}
	if err := c.Apply(ctx, []connectors.KeyedDecision{letter}); err != nil {
		t.Fatalf("Apply(letter): %v", err)
	}
	if got, want := state(), "paid/0 cash=500 credit=0"; got != want {
		t.Fatalf("after the letter: %s, want %s", got, want)
	}
	if err := c.Apply(ctx, []connectors.KeyedDecision{rest}); err != nil {
		t.Fatalf("Apply(remainder): %v", err)
	}
	both := "paid/0 cash=518 credit=18"
	if got := state(); got != both {
		t.Fatalf("after the remainder: %s, want %s", got, both)
	}
	creates := f.px.count("account.payment.create") + f.px.count("account.payment.register.action_create_payments")
	for _, b := range [][]connectors.KeyedDecision{{letter, rest}, {rest}, {letter}} {
		if err := c.Apply(ctx, b); err != nil {
			t.Fatalf("replay: %v", err)
		}
	}
	if got, n := state(), f.px.count("account.payment.create")+f.px.count("account.payment.register.action_create_payments"); got != both || n != creates {
		t.Errorf("after replays: %s with %d payments created, want %s with %d", got, n, both, creates)
	}
	applied, err := c.Applied(ctx, []string{letter.Key, rest.Key})
	if err != nil || !applied[letter.Key] || !applied[rest.Key] {
		t.Errorf("Applied = %v, %v; want both", applied, err)
	}
	undoRest := f.rev("unl-rest", "man-rest")
	undoRest.Tx, undoRest.Postings = rest.Tx, rest.Decision.Postings
	undoLetter := f.rev("unl-letter", "k-letter")
	undoLetter.Tx, undoLetter.Allocations = letter.Tx, letter.Decision.Allocations
	for i := 0; i < 2; i++ {
		if err := c.Unletter(ctx, undoRest); err != nil {
			t.Fatalf("Unletter(remainder) %d: %v", i, err)
		}
	}
	if got, want := state(), "paid/0 cash=500 credit=0"; got != want {
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
	if got, want := state(), "not_paid/500 cash=0 credit=0"; got != want {
		t.Errorf("after unlettering both: %s, want %s", got, want)
	}
	applied, err = c.Applied(ctx, []string{undoRest.Key, undoLetter.Key})
	if err != nil || !applied[undoRest.Key] || !applied[undoLetter.Key] {
		t.Errorf("Applied(reversals) = %v, %v; want both", applied, err)
	}
}

// With record_exceptions, the letter writes one statement line of 518
// whose 18 stay on the suspense account; postings are refused with the
// reason (the letter stands, its remainder stays an exception), and
// unlettering the letter gives the invoice back.
func TestRemainderWithRecordExceptions(t *testing.T) {
	f := newFx(t)
	ids := f.invoices(inv("Rossi", "500.00"))
	c := f.client(recording)
	ctx := context.Background()
	letter := f.kd("k-letter", al(ids[0], "500.00", ""))
	letter.Tx.Amount, letter.Decision.Excess = domain.MustAmount("518.00"), domain.MustAmount("18.00")
	rest := f.pd("man-rest", []domain.Posting{onAccount(f.pid("Rossi"), "18.00")})
	rest.Tx = letter.Tx
	if err := c.Apply(ctx, []connectors.KeyedDecision{letter}); err != nil {
		t.Fatalf("Apply(letter): %v", err)
	}
	lines := f.lines("tx-k-letter")
	if want := "2026-11-20|518|Rossi|||rec=false|512001:518,512002:-18,411100:-500:lettrage:k-letter:1/1"; lines != want {
		t.Errorf("statement line after the letter:\n%s\nwant:\n%s", lines, want)
	}
	err := c.Apply(ctx, []connectors.KeyedDecision{rest})
	rej, only := connectors.Rejections(err)
	if !only || len(rej) != 1 || rej[0].Key != rest.Key || !strings.Contains(rej[0].Reason, "record_exceptions") {
		t.Fatalf("Apply(remainder) = %v, want it refused with a reason naming record_exceptions", err)
	}
	var re *connectors.RejectedError
	if !errors.As(err, &re) {
		t.Errorf("the refusal is not a RejectedError: %v", err)
	}
	if got := f.lines("tx-k-letter"); got != lines {
		t.Errorf("the refused remainder wrote:\n%s\nwas:\n%s", got, lines)
	}
	if cash, _ := f.livePayments(); !cash.IsZero() {
		t.Errorf("payments of %s registered besides the statement line", cash)
	}
	if applied, err := c.Applied(ctx, []string{rest.Key}); err != nil || applied[rest.Key] {
		t.Errorf("Applied = %v, %v; want nothing", applied, err)
	}
	undoLetter := f.rev("unl-letter", "k-letter")
	undoLetter.Tx, undoLetter.Allocations = letter.Tx, letter.Decision.Allocations
	for i := 0; i < 2; i++ {
		if err := c.Unletter(ctx, undoLetter); err != nil {
			t.Fatalf("Unletter(letter) %d: %v", i, err)
		}
	}
	if got := f.states(ids[0]); got != "not_paid/500" {
		t.Errorf("invoice after the reversal: %s", got)
	}
	if got := f.lines("tx-k-letter"); got != "2026-11-20|518|Rossi|||rec=false|512001:518,512002:-518" {
		t.Errorf("statement line after the reversal: %s", got)
	}
}
