package odoo

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lettrage/lettrage/connectors"
	"github.com/lettrage/lettrage/matcher"
)

func exc(txKey, amount string, d matcher.Decision) connectors.Exception {
	return connectors.Exception{
		Tx: matcher.Transaction{Key: txKey, Ref: "REF-" + txKey, Currency: "EUR", Credit: true, Status: "BOOK",
			Amount: matcher.MustAmount(amount), BookingDate: time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC),
			Counterparty: matcher.Party{Name: "DUPONT SARL", IBAN: "FR7630006000011234567890189"},
			Unstructured: []string{"FACT 2026 1"}},
		Decision: d,
	}
}

func recording(c *Config) { c.Journal = "BNK1"; c.RecordExceptions = true }

// stLines describes the fake's statement lines: marker prefix, amount,
// partner, reconciled, items "account:balance[:name]".
func (f *fakeOdoo) stLinesText() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, l := range f.stLines {
		var items []string
		for _, ml := range l.lines {
			s := fmt.Sprintf("%d:%s", ml.account, ml.balance)
			if strings.HasPrefix(ml.name, memoPrefix) && !strings.HasPrefix(ml.name, memoPrefix+"exc-") {
				s += ":" + ml.name
			}
			items = append(items, s)
		}
		out = append(out, fmt.Sprintf("%s|%s|p%d|%s|%s|rec=%v|%s", l.date, l.amount, l.partner, l.partnerName, l.acct,
			l.isReconciled(), strings.Join(items, ",")))
	}
	return strings.Join(out, "\n")
}

func TestRecordExceptionsThenSettlePerVersion(t *testing.T) {
	for _, major := range []int{16, 17, 18} {
		t.Run(fmt.Sprintf("odoo %d", major), func(t *testing.T) {
			f, srv := newFakeOdoo(t, major)
			c := newClient(t, srv.URL, recording)
			ctx := context.Background()
			debit := exc("tx-debit", "10", matcher.Decision{Outcome: matcher.Unmatched})
			debit.Tx.Credit = false
			list := []connectors.Exception{
				exc("tx-a", "300.10", matcher.Decision{Outcome: matcher.Suggested, Reason: "amount_mismatch",
					Candidates: []matcher.Candidate{{ItemID: "2", CustomerID: "42"}}}),
				exc("tx-b", "75.00", matcher.Decision{Outcome: matcher.Unmatched, Reason: "no_candidate"}),
				exc("tx-c", "1300.00", matcher.Decision{Outcome: matcher.Auto, Excess: matcher.MustAmount("50.00")}),
				debit,
			}
			if err := c.RecordExceptions(ctx, list); err != nil {
				t.Fatalf("RecordExceptions: %v", err)
			}
			if err := c.RecordExceptions(ctx, list); err != nil {
				t.Fatalf("RecordExceptions again: %v", err)
			}
			want := strings.Join([]string{
				"2026-11-20|300.10|p42|DUPONT SARL|FR7630006000011234567890189|rec=false|10:300.10,20:-300.10",
				"2026-11-20|75.00|p0|DUPONT SARL|FR7630006000011234567890189|rec=false|10:75.00,20:-75.00",
				"2026-11-20|50.00|p0|DUPONT SARL|FR7630006000011234567890189|rec=false|10:50.00,20:-50.00",
			}, "\n")
			got := f.stLinesText()
			// Lines are created sorted by marker: compare as sets.
			if !sameLines(got, want) {
				t.Fatalf("statement lines:\n%s\nwant:\n%s", got, want)
			}
			if n := f.calls["account.bank.statement.line.create"]; n != 1 {
				t.Errorf("create called %d times, want 1 (the replay found the lines)", n)
			}
			f.mu.Lock()
			var refA string
			for _, l := range f.stLines {
				if l.partner == 42 {
					refA = l.ref
				}
			}
			f.mu.Unlock()
			if !strings.HasPrefix(refA, ExceptionKey("tx-a")+" REF-tx-a (amount_mismatch) FACT 2026 1") {
				t.Errorf("payment_ref = %q", refA)
			}

			// A later run letters tx-a and part of tx-b: the lines are settled,
			// no payment is registered.
			a := kd("k-a", al("2", "300.10", ""))
			a.Tx.Key = "tx-a"
			b := kd("k-b", al("3", "49.50", "0.49"), al("6", "25.00", ""))
			b.Tx.Key = "tx-b"
			c.cfg.WriteOffAccount = ""
			if err := c.Apply(ctx, []connectors.KeyedDecision{a, b}); err != nil {
				t.Fatalf("Apply: %v", err)
			}
			if err := c.Apply(ctx, []connectors.KeyedDecision{a, b}); err != nil {
				t.Fatalf("Apply again: %v", err)
			}
			if got := f.memos(); got != "" {
				t.Errorf("payments = %q, want none: the cash is already in the bank journal", got)
			}
			if got, want := f.residuals(), "1=not_paid/1250 2=paid/0 3=partial/0.49 4=not_paid/20 5=paid/0 6=partial/475"; got != want {
				t.Errorf("invoices = %q, want %q", got, want)
			}
			got = f.stLinesText()
			want = strings.Join([]string{
				"2026-11-20|300.10|p42|DUPONT SARL|FR7630006000011234567890189|rec=true|10:300.10,400:-300.10:lettrage:k-a:1/1",
				"2026-11-20|75.00|p0|DUPONT SARL|FR7630006000011234567890189|rec=false|10:75.00,20:-0.50,400:-49.50:lettrage:k-b:1/2,400:-25.00:lettrage:k-b:2/2",
				"2026-11-20|50.00|p0|DUPONT SARL|FR7630006000011234567890189|rec=false|10:50.00,20:-50.00",
			}, "\n")
			if !sameLines(got, want) {
				t.Errorf("statement lines:\n%s\nwant:\n%s", got, want)
			}
			applied, err := c.Applied(ctx, []string{"k-a", "k-b", "k-none"})
			if err != nil || len(applied) != 2 || !applied["k-a"] || !applied["k-b"] {
				t.Errorf("Applied = %v, %v; want k-a and k-b", applied, err)
			}
			if n := f.calls["account.move.write"]; n != 2 {
				t.Errorf("account.move.write called %d times, want 2", n)
			}
		})
	}
}

func sameLines(a, b string) bool {
	as, bs := strings.Split(a, "\n"), strings.Split(b, "\n")
	if len(as) != len(bs) {
		return false
	}
	seen := map[string]int{}
	for _, s := range as {
		seen[s]++
	}
	for _, s := range bs {
		seen[s]--
		if seen[s] < 0 {
			return false
		}
	}
	return true
}

func TestRecordExceptionsOffOrEmptyDoesNothing(t *testing.T) {
	f, srv := newFakeOdoo(t, 17)
	c := newClient(t, srv.URL, func(c *Config) { c.Journal = "BNK1" })
	if err := c.RecordExceptions(context.Background(), []connectors.Exception{exc("tx-a", "1", matcher.Decision{Outcome: matcher.Unmatched})}); err != nil {
		t.Fatalf("RecordExceptions: %v", err)
	}
	if len(f.stLines) != 0 || len(f.calls) != 0 {
		t.Errorf("without record_exceptions: %d lines, calls %v", len(f.stLines), f.calls)
	}
}

// The answer to create is lost after Odoo wrote the lines: the re-check
// finds them and nothing is written twice.
func TestRecordExceptionsTimeoutAfterCreate(t *testing.T) {
	f, srv := newFakeOdoo(t, 18)
	stop := make(chan struct{})
	t.Cleanup(func() { close(stop) })
	first := true
	f.after = func(model, method string, w http.ResponseWriter, r *http.Request) bool {
		if model+"."+method != "account.bank.statement.line.create" || !first {
			return false
		}
		first = false
		return stallUntilClientGone(stop)(w, r)
	}
	c := newClient(t, srv.URL, func(c *Config) { recording(c); c.Timeout = 300 * time.Millisecond })
	list := []connectors.Exception{exc("tx-a", "1", matcher.Decision{Outcome: matcher.Unmatched}), exc("tx-b", "2", matcher.Decision{Outcome: matcher.Unmatched})}
	if err := c.RecordExceptions(context.Background(), list); err != nil {
		t.Fatalf("RecordExceptions: %v", err)
	}
	if len(f.stLines) != 2 || f.calls["account.bank.statement.line.create"] != 1 {
		t.Errorf("%d lines, %d creates; want 2 lines from 1 create", len(f.stLines), f.calls["account.bank.statement.line.create"])
	}
}

// Odoo refuses a line dated in a locked period: the others are written,
// the refused one comes back as a rejection keyed by its transaction.
func TestRecordExceptionsRefusal(t *testing.T) {
	f, srv := newFakeOdoo(t, 17)
	f.lockDate = "2026-10-31"
	c := newClient(t, srv.URL, recording)
	old := exc("tx-old", "5", matcher.Decision{Outcome: matcher.Unmatched})
	old.Tx.BookingDate = time.Date(2026, 10, 30, 0, 0, 0, 0, time.UTC)
	err := c.RecordExceptions(context.Background(), []connectors.Exception{old, exc("tx-new", "6", matcher.Decision{Outcome: matcher.Unmatched})})
	rej, only := connectors.Rejections(err)
	if !only || len(rej) != 1 || rej[0].Key != "tx-old" || !strings.Contains(rej[0].Reason, "lock date") {
		t.Fatalf("RecordExceptions = %v; want tx-old rejected alone with Odoo's message", err)
	}
	if len(f.stLines) != 1 || !f.stLines[0].amount.Equal(matcher.MustAmount("6")) {
		t.Errorf("lines = %s", f.stLinesText())
	}
	// A server fault is not a rejection.
	f.refuse = func(model, method string) (string, string) {
		return "psycopg2.errors.SerializationFailure", "could not serialize access"
	}
	err = c.RecordExceptions(context.Background(), []connectors.Exception{exc("tx-x", "7", matcher.Decision{Outcome: matcher.Unmatched})})
	if rej, _ := connectors.Rejections(err); err == nil || len(rej) != 0 {
		t.Errorf("server fault = %v, want a plain error", err)
	}
}

// Settlement through a statement line: the write's answer is lost after
// Odoo acted; the labelled items are found and the write is not repeated.
func TestSettleTimeoutAfterWrite(t *testing.T) {
	for _, step := range []string{"account.move.write", "account.move.line.reconcile"} {
		t.Run(step, func(t *testing.T) {
			f, srv := newFakeOdoo(t, 17)
			stop := make(chan struct{})
			t.Cleanup(func() { close(stop) })
			first := true
			f.after = func(model, method string, w http.ResponseWriter, r *http.Request) bool {
				if model+"."+method != step || !first {
					return false
				}
				first = false
				return stallUntilClientGone(stop)(w, r)
			}
			c := newClient(t, srv.URL, func(c *Config) { recording(c); c.Timeout = 300 * time.Millisecond })
			ctx := context.Background()
			if err := c.RecordExceptions(ctx, []connectors.Exception{exc("tx-a", "300.10", matcher.Decision{Outcome: matcher.Unmatched})}); err != nil {
				t.Fatal(err)
			}
			a := kd("k-a", al("2", "300.10", ""))
			a.Tx.Key = "tx-a"
			if err := c.Apply(ctx, []connectors.KeyedDecision{a}); err != nil {
				t.Fatalf("Apply: %v", err)
			}
			if n := f.calls[step]; n != 1 {
				t.Errorf("%s called %d times, want 1", step, n)
			}
			if got := f.residuals(); !strings.Contains(got, "2=paid/0") || f.memos() != "" {
				t.Errorf("invoices %s, payments %q", got, f.memos())
			}
		})
	}
}

// Settlement refusals: the line was reconciled by an accountant, or holds
// less cash than allocated, or Odoo refuses the write.
func TestSettleRefusals(t *testing.T) {
	tests := []struct {
		name        string
		prepare     func(f *fakeOdoo)
		alloc       matcher.Allocation
		errIs       error
		errContains string
	}{
		{name: "reconciled by someone else", prepare: func(f *fakeOdoo) {
			f.stLines[0].lines[1].account, f.stLines[0].lines[1].reconciled = 99, true
		}, alloc: al("2", "100", ""), errIs: ErrLineReconciled},
		{name: "more than the line", alloc: al("1", "1250.00", ""), errIs: ErrLineTooSmall, errContains: "1250.00 > 300.10"},
		{name: "locked period", prepare: func(f *fakeOdoo) { f.lockDate = "2026-11-30" }, alloc: al("2", "100", ""), errContains: "lock date"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, srv := newFakeOdoo(t, 16)
			c := newClient(t, srv.URL, recording)
			ctx := context.Background()
			if err := c.RecordExceptions(ctx, []connectors.Exception{exc("tx-a", "300.10", matcher.Decision{Outcome: matcher.Unmatched})}); err != nil {
				t.Fatal(err)
			}
			if tc.prepare != nil {
				tc.prepare(f)
			}
			a := kd("k-a", tc.alloc)
			a.Tx.Key = "tx-a"
			err := c.Apply(ctx, []connectors.KeyedDecision{a, kd("k-other", al("6", "10", ""))})
			rej, only := connectors.Rejections(err)
			if !only || len(rej) != 1 || rej[0].Key != "k-a" {
				t.Fatalf("Apply = %v; want k-a rejected alone", err)
			}
			if tc.errIs != nil && !errors.Is(err, tc.errIs) {
				t.Errorf("error %v is not %v", err, tc.errIs)
			}
			if !strings.Contains(err.Error(), tc.errContains) {
				t.Errorf("error %q does not contain %q", err, tc.errContains)
			}
			if got := f.memos(); got != "lettrage:k-other:1/1=10@6" {
				t.Errorf("payments = %q: the other decision must be paid, k-a never", got)
			}
		})
	}
}

func TestExceptionKey(t *testing.T) {
	a, b := ExceptionKey("FR76…:REF1"), ExceptionKey("FR76…:REF10")
	if a == b || len(a) != len(b) || !strings.HasPrefix(a, "lettrage:exc-") || ExceptionKey("FR76…:REF1") != a {
		t.Errorf("ExceptionKey: %q %q", a, b)
	}
}

// With a write-off account, the write-off closes the invoice from the
// statement line: receivable item = cash + write-off, write-off item for
// the difference, and the invoice is paid.
func TestSettleWithWriteOff(t *testing.T) {
	f, srv := newFakeOdoo(t, 18)
	c := newClient(t, srv.URL, func(c *Config) { recording(c); c.WriteOffAccount = "658000" })
	ctx := context.Background()
	if err := c.RecordExceptions(ctx, []connectors.Exception{exc("tx-a", "49.50", matcher.Decision{Outcome: matcher.Unmatched})}); err != nil {
		t.Fatal(err)
	}
	a := kd("k-a", al("3", "49.50", "0.49"))
	a.Tx.Key = "tx-a"
	if err := c.Apply(ctx, []connectors.KeyedDecision{a}); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if got := f.residuals(); !strings.Contains(got, "3=paid/0") {
		t.Errorf("invoices = %s", got)
	}
	want := "2026-11-20|49.50|p0|DUPONT SARL|FR7630006000011234567890189|rec=true|10:49.50,400:-49.99:lettrage:k-a:1/1,501:0.49"
	if got := f.stLinesText(); got != want {
		t.Errorf("statement line:\n%s\nwant:\n%s", got, want)
	}
}

// A failed journal read (no suspense account) is reported at setup.
func TestRecordExceptionsUnknownJournal(t *testing.T) {
	_, srv := newFakeOdoo(t, 17)
	c := newClient(t, srv.URL, func(c *Config) { c.Journal = "NOPE"; c.RecordExceptions = true })
	err := c.RecordExceptions(context.Background(), []connectors.Exception{exc("tx-a", "1", matcher.Decision{Outcome: matcher.Unmatched})})
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), `finding journal "NOPE"`) {
		t.Errorf("RecordExceptions = %v, want journal not found", err)
	}
}

// Odoo refuses to reconcile the second item after the first was: the
// rejection says the decision is partly settled.
func TestSettleRefusedInPart(t *testing.T) {
	f, srv := newFakeOdoo(t, 17)
	c := newClient(t, srv.URL, recording)
	ctx := context.Background()
	if err := c.RecordExceptions(ctx, []connectors.Exception{exc("tx-a", "600", matcher.Decision{Outcome: matcher.Unmatched})}); err != nil {
		t.Fatal(err)
	}
	n := 0
	f.refuse = func(model, method string) (string, string) {
		if model+"."+method == "account.move.line.reconcile" {
			if n++; n == 2 {
				return "odoo.exceptions.UserError", "The entry is in a locked period."
			}
		}
		return "", ""
	}
	a := kd("k-a", al("2", "300.10", ""), al("6", "200", ""))
	a.Tx.Key = "tx-a"
	err := c.Apply(ctx, []connectors.KeyedDecision{a})
	rej, only := connectors.Rejections(err)
	if !only || len(rej) != 1 || !rej[0].Partial || !strings.Contains(rej[0].Reason, "locked period") {
		t.Fatalf("Apply = %v; want k-a rejected as partial with Odoo's message", err)
	}
	if got := f.residuals(); !strings.Contains(got, "2=paid/0") || !strings.Contains(got, "6=not_paid/500") {
		t.Errorf("invoices = %s", got)
	}
	if got, _ := c.Applied(ctx, []string{"k-a"}); got["k-a"] {
		t.Errorf("a partly settled decision is reported applied")
	}
}

// With record_exceptions, a transaction lettered at once is written to the
// bank journal too, as a statement line settled against its invoice: no
// payment. A line Odoo refuses (lock date) rejects its decision, nothing is
// paid for it.
func TestApplyWritesLetteredLines(t *testing.T) {
	f, srv := newFakeOdoo(t, 18)
	f.lockDate = "2026-11-01"
	c := newClient(t, srv.URL, recording)
	ctx := context.Background()
	a := kd("k-a", al("2", "300.10", ""))
	a.Tx.Amount = matcher.MustAmount("320.10") // 20 more than the invoice: stays on suspense
	old := kd("k-old", al("6", "100", ""))
	old.Tx.Amount = matcher.MustAmount("100")
	old.Tx.BookingDate = time.Date(2026, 10, 30, 0, 0, 0, 0, time.UTC)
	err := c.Apply(ctx, []connectors.KeyedDecision{a, old})
	rej, only := connectors.Rejections(err)
	if !only || len(rej) != 1 || rej[0].Key != "k-old" || rej[0].Partial || !strings.Contains(rej[0].Reason, "lock date") {
		t.Fatalf("Apply = %v; want k-old rejected with Odoo's message", err)
	}
	if err := c.Apply(ctx, []connectors.KeyedDecision{a}); err != nil {
		t.Fatalf("Apply again: %v", err)
	}
	want := "2026-11-20|320.10|p42|||rec=false|10:320.10,20:-20.00,400:-300.10:lettrage:k-a:1/1"
	if got := f.stLinesText(); got != want {
		t.Errorf("statement lines:\n%s\nwant:\n%s", got, want)
	}
	if got := f.residuals(); !strings.Contains(got, "2=paid/0") || !strings.Contains(got, "6=not_paid/500") || f.memos() != "" {
		t.Errorf("invoices %s, payments %q", got, f.memos())
	}
	if f.calls["account.bank.statement.line.create"] != 3 { // the batch, then each line alone
		t.Errorf("create called %d times, want 3", f.calls["account.bank.statement.line.create"])
	}
	// The excess, reported later as an exception, is already on that line.
	if err := c.RecordExceptions(ctx, []connectors.Exception{{Tx: a.Tx, Decision: matcher.Decision{Outcome: matcher.Auto,
		Excess: matcher.MustAmount("20.00")}}}); err != nil || len(f.stLines) != 1 {
		t.Errorf("RecordExceptions = %v, %d lines; want the existing line only", err, len(f.stLines))
	}
	if got, _ := c.Applied(ctx, []string{"k-a", "k-old"}); !got["k-a"] || got["k-old"] {
		t.Errorf("Applied = %v, want k-a alone", got)
	}
}
