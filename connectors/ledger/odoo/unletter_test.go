package odoo

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/lettrage/lettrage/connectors"
	"github.com/lettrage/lettrage/domain"
)

func (f *fx) rev(key, reverses string) connectors.Reversal {
	return connectors.Reversal{Key: f.key(key), Reverses: f.key(reverses), Tx: domain.Transaction{Ref: "REF-" + reverses},
		Reason: "lettered to the wrong invoice", At: time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)}
}

// paymentStates describes Lettrage's payments: "memo=state", the test's id
// cut from the keys.
func (f *fx) paymentStates() string {
	f.t.Helper()
	var out []string
	for _, p := range f.payments() {
		if strings.HasPrefix(string(p.Memo), memoPrefix) {
			out = append(out, strings.ReplaceAll(string(p.Memo), "-"+f.id, "")+"="+p.State)
		}
	}
	return strings.Join(out, " ")
}

// Payments of a lettering are reset to draft (which unreconciles them),
// marked and cancelled; the invoices owe again; the replay does nothing;
// the decision can be lettered again afterwards.
func TestUnletterPayments(t *testing.T) {
	f := newFx(t)
	ids := f.invoices(inv("Dupont", "1250.00"), inv("Rossi", "500.00"), inv("Müller", "300.10"))
	c := f.client(nil)
	ctx := context.Background()
	two := f.kd("k-two", al(ids[0], "1000", ""), al(ids[1], "200", ""))
	keep := f.kd("k-keep", al(ids[2], "100", ""))
	if err := c.Apply(ctx, []connectors.KeyedDecision{two, keep}); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if err := c.Unletter(ctx, f.rev("unl-1", "k-two")); err != nil {
		t.Fatalf("Unletter: %v", err)
	}
	if got, want := f.states(ids...), "not_paid/1250 not_paid/500 partial/200.1"; got != want {
		t.Errorf("invoices = %q, want %q", got, want)
	}
	want := "lettrage:k-two:1/2 unlettered by unl-1=cancel lettrage:k-two:2/2 unlettered by unl-1=cancel lettrage:k-keep:1/1=posted"
	if got := f.paymentStates(); got != want {
		t.Errorf("payments = %q, want %q", got, want)
	}
	applied, err := c.Applied(ctx, []string{f.key("unl-1"), two.Key, keep.Key, f.key("unl-2")})
	if err != nil || len(applied) != 2 || !applied[f.key("unl-1")] || !applied[keep.Key] {
		t.Errorf("Applied = %v, %v; want unl-1 and k-keep", applied, err)
	}
	drafts := f.px.count("account.payment.action_draft")
	if err := c.Unletter(ctx, f.rev("unl-1", "k-two")); err != nil {
		t.Fatalf("Unletter again: %v", err)
	}
	if f.px.count("account.payment.action_draft") != drafts || f.paymentStates() != want {
		t.Errorf("the replay acted: %s", f.paymentStates())
	}
	if err := c.Apply(ctx, []connectors.KeyedDecision{two}); err != nil {
		t.Fatalf("Apply after unletter: %v", err)
	}
	if got, _ := c.Applied(ctx, []string{two.Key}); !got[two.Key] || f.states(ids[0]) != "partial/250" {
		t.Errorf("re-lettered decision: applied %v, invoice %s", got, f.states(ids[0]))
	}
}

// Refusals of a reversal: nothing to reverse, reversed under another key,
// Odoo's own refusals.
func TestUnletterRefusals(t *testing.T) {
	t.Parallel() // beside the other tests; each subtest borrows a database (newFx)
	tests := []struct {
		name        string
		prepare     func(t *testing.T, f *fx, c *Client)
		reversal    string // the key it reverses
		errIs       error
		errContains string
		partial     bool
	}{
		{name: "never lettered", reversal: "k-none", errIs: ErrNotLettered},
		{name: "reversed by another key", prepare: func(t *testing.T, f *fx, c *Client) {
			if err := c.Unletter(context.Background(), f.rev("unl-0", "k1")); err != nil {
				t.Fatal(err)
			}
		}, reversal: "k1", errIs: ErrAlreadyReversed, errContains: "by unl-0"},
		{name: "locked period", prepare: func(t *testing.T, f *fx, c *Client) { f.lock("2026-11-30") },
			reversal: "k1", errContains: "lock date"},
		{name: "refused after one payment was undone", prepare: func(t *testing.T, f *fx, c *Client) {
			f.px.on(rule{call: "account.payment.action_draft", nth: 2, before: func() { f.lock("2026-11-30") }})
		}, reversal: "k1", errContains: "lock date", partial: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFx(t)
			ids := f.invoices(inv("Dupont", "100"), inv("Rossi", "100"))
			c := f.client(nil)
			if err := c.Apply(context.Background(), []connectors.KeyedDecision{f.kd("k1", al(ids[0], "100", ""), al(ids[1], "100", ""))}); err != nil {
				t.Fatal(err)
			}
			if tc.prepare != nil {
				tc.prepare(t, f, c)
			}
			r := f.rev("unl-1", tc.reversal)
			err := c.Unletter(context.Background(), r)
			rej, only := connectors.Rejections(err)
			if !only || len(rej) != 1 || rej[0].Key != r.Key || rej[0].Partial != tc.partial {
				t.Fatalf("Unletter = %v; want %s rejected (partial %v)", err, r.Key, tc.partial)
			}
			if tc.errIs != nil && !errors.Is(err, tc.errIs) {
				t.Errorf("error %v is not %v", err, tc.errIs)
			}
			if !strings.Contains(err.Error(), tc.errContains) {
				t.Errorf("error %q does not contain %q", err, tc.errContains)
			}
			if got, _ := c.Applied(context.Background(), []string{r.Key}); got[r.Key] {
				t.Errorf("a refused reversal is reported applied")
			}
		})
	}
	t.Run("without Reverses", func(t *testing.T) {
		f := newFx(t)
		c := f.client(nil)
		if err := c.Unletter(context.Background(), connectors.Reversal{Key: "unl-1"}); err == nil || errors.Is(err, connectors.ErrRejected) {
			t.Errorf("Unletter without Reverses = %v, want a plain error", err)
		}
	})
}

// Answers lost after Odoo acted: the re-check finds the step done, nothing
// is sent twice, and the reversal completes.
func TestUnletterLostAnswer(t *testing.T) {
	t.Parallel() // beside the other tests; each subtest borrows a database (newFx)
	for _, step := range []string{"account.payment.action_draft", "account.payment.action_cancel"} {
		t.Run(step, func(t *testing.T) {
			f := newFx(t)
			ids := f.invoices(inv("Müller", "300.10"))
			f.px.on(rule{call: step, nth: 1, fault: loseAnswer})
			c := f.client(nil)
			ctx := context.Background()
			if err := c.Apply(ctx, []connectors.KeyedDecision{f.kd("k1", al(ids[0], "300.10", ""))}); err != nil {
				t.Fatal(err)
			}
			if err := c.Unletter(ctx, f.rev("unl-1", "k1")); err != nil {
				t.Fatalf("Unletter: %v", err)
			}
			if n := f.px.count(step); n != 1 {
				t.Errorf("%s called %d times, want 1", step, n)
			}
			if got := f.paymentStates(); got != "lettrage:k1:1/1 unlettered by unl-1=cancel" {
				t.Errorf("payments = %q", got)
			}
			if got, _ := c.Applied(ctx, []string{f.key("unl-1")}); !got[f.key("unl-1")] || f.states(ids[0]) != "not_paid/300.1" {
				t.Errorf("reversal not applied, or invoice %s", f.states(ids[0]))
			}
		})
	}
}

// A crash after the first of two payments was cancelled: the reversal is
// not reported applied, and the next call finishes it.
func TestUnletterHalfDoneIsFinished(t *testing.T) {
	f := newFx(t)
	ids := f.invoices(inv("Dupont", "1250"), inv("Rossi", "500"))
	c := f.client(nil)
	ctx := context.Background()
	if err := c.Apply(ctx, []connectors.KeyedDecision{f.kd("k1", al(ids[0], "100", ""), al(ids[1], "100", ""))}); err != nil {
		t.Fatal(err)
	}
	first := f.payments()[0]
	if err := c.cancelPayment(ctx, payRow{ID: first.ID, Memo: string(first.Memo), State: first.State}, unletterMark(f.key("unl-1"))); err != nil {
		t.Fatal(err)
	}
	if got, _ := c.Applied(ctx, []string{f.key("unl-1")}); got[f.key("unl-1")] {
		t.Fatalf("a half-done reversal is reported applied")
	}
	if err := c.Unletter(ctx, f.rev("unl-1", "k1")); err != nil {
		t.Fatalf("Unletter: %v", err)
	}
	if got, _ := c.Applied(ctx, []string{f.key("unl-1")}); !got[f.key("unl-1")] {
		t.Errorf("finished reversal not applied: %s", f.paymentStates())
	}
	if got := f.states(ids...); got != "not_paid/1250 not_paid/500" {
		t.Errorf("invoices = %s", got)
	}
}

// A lettering settled through a statement line is undone on that line:
// the cash goes back to the journal's suspense account, the line is open
// again and says which reversal undid what, and a new lettering settles it
// again.
func TestUnletterStatementLine(t *testing.T) {
	f := newFx(t)
	ids := f.invoices(inv("Müller", "300.10"), inv("Rossi", "500"))
	c := f.client(recording)
	ctx := context.Background()
	e := f.exc("tx-a", "300.10", domain.Decision{Outcome: domain.Unmatched, Reason: "no_candidate"})
	if err := c.RecordExceptions(ctx, []connectors.Exception{e}); err != nil {
		t.Fatal(err)
	}
	a := f.settling("k-a", e, al(ids[0], "300.10", ""))
	if err := c.Apply(ctx, []connectors.KeyedDecision{a}); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if err := c.Unletter(ctx, f.rev("unl-a", "k-a")); err != nil {
		t.Fatalf("Unletter: %v", err)
	}
	if got := f.states(ids[0]); got != "not_paid/300.1" {
		t.Errorf("invoice = %s", got)
	}
	if got := f.lines("tx-a"); got != "2026-11-20|300.1|Müller|"+dupontBank+"|rec=false|512001:300.1,512002:-300.1" {
		t.Errorf("statement line = %s", got)
	}
	l := f.line("tx-a")
	if !strings.HasSuffix(string(l.PaymentRef), lineMark(a.Key, f.key("unl-a"))) || !strings.Contains(string(l.EntryRef), intentMark(a.Key, f.key("unl-a"))) {
		t.Errorf("payment_ref %q, entry ref %q: want the reversal's marks", l.PaymentRef, l.EntryRef)
	}
	applied, err := c.Applied(ctx, []string{f.key("unl-a"), a.Key})
	if err != nil || len(applied) != 1 || !applied[f.key("unl-a")] {
		t.Errorf("Applied = %v, %v; want unl-a alone", applied, err)
	}
	undos := f.px.count("account.bank.statement.line.action_undo_reconciliation")
	if err := c.Unletter(ctx, f.rev("unl-a", "k-a")); err != nil {
		t.Fatalf("Unletter again: %v", err)
	}
	if f.px.count("account.bank.statement.line.action_undo_reconciliation") != undos {
		t.Errorf("the replay acted again")
	}
	if err := c.Unletter(ctx, f.rev("unl-b", "k-a")); !errors.Is(err, ErrAlreadyReversed) {
		t.Errorf("second reversal = %v, want ErrAlreadyReversed", err)
	}
	// Lettered again, to the right invoice: the same line is settled, no
	// payment, and the marks stay.
	b := f.settling("k-b", e, al(ids[1], "300.10", ""))
	if err := c.Apply(ctx, []connectors.KeyedDecision{b}); err != nil {
		t.Fatalf("Apply again: %v", err)
	}
	if got := f.states(ids[1]); got != "partial/199.9" || f.memos() != "" {
		t.Errorf("invoice %s, payments %q", got, f.memos())
	}
	if got, _ := c.Applied(ctx, []string{b.Key, f.key("unl-a")}); !got[b.Key] || !got[f.key("unl-a")] {
		t.Errorf("Applied = %v", got)
	}
	if l := f.line("tx-a"); f.names[l.Partner.ID] != "Rossi" || !strings.HasSuffix(string(l.PaymentRef), lineMark(a.Key, f.key("unl-a"))) {
		t.Errorf("line after the new letter: partner %v, payment_ref %q", l.Partner, l.PaymentRef)
	}
}

// The run dies after Odoo undid the line's settlement and before the
// line's payment_ref was marked (here: the mark's write fails): the
// reversal is not reported applied; the next call finds the line by the
// intent written on its entry before the undo, and finishes it.
func TestUnletterStatementLineDiesAfterUndo(t *testing.T) {
	f := newFx(t)
	ids := f.invoices(inv("Müller", "300.10"))
	c := f.client(recording)
	ctx := context.Background()
	e := f.exc("tx-a", "300.10", domain.Decision{Outcome: domain.Unmatched})
	if err := c.RecordExceptions(ctx, []connectors.Exception{e}); err != nil {
		t.Fatal(err)
	}
	if err := c.Apply(ctx, []connectors.KeyedDecision{f.settling("k-a", e, al(ids[0], "300.10", ""))}); err != nil {
		t.Fatal(err)
	}
	f.px.on(rule{call: "account.bank.statement.line.write", nth: f.px.count("account.bank.statement.line.write") + 1, fault: serverFault, name: "psycopg2.OperationalError",
		message: "server closed the connection unexpectedly"})
	unl := f.rev("unl-a", "k-a")
	if err := c.Unletter(ctx, unl); err == nil {
		t.Fatal("Unletter succeeded although the mark was not written")
	}
	if got := f.states(ids[0]); got != "not_paid/300.1" {
		t.Fatalf("invoice = %s; want the undo done", got)
	}
	if got, _ := c.Applied(ctx, []string{unl.Key}); got[unl.Key] {
		t.Errorf("a reversal whose line is not marked is reported applied")
	}
	if err := c.Unletter(ctx, unl); err != nil {
		t.Fatalf("Unletter after the failure: %v", err)
	}
	if got, _ := c.Applied(ctx, []string{unl.Key}); !got[unl.Key] {
		t.Errorf("finished reversal not applied")
	}
	if l := f.line("tx-a"); !strings.HasSuffix(string(l.PaymentRef), lineMark(unl.Reverses, unl.Key)) || l.Reconciled {
		t.Errorf("line: payment_ref %q, reconciled %v", l.PaymentRef, l.Reconciled)
	}
	if n := f.px.count("account.bank.statement.line.action_undo_reconciliation"); n != 1 {
		t.Errorf("action_undo_reconciliation called %d times, want 1", n)
	}
}

func TestLineMarks(t *testing.T) {
	tests := []struct {
		ref  string
		want string
	}{
		{ref: "lettrage:exc-00 REF (no_candidate)", want: ""},
		{ref: "x" + lineMark("dec-1", "unl-1"), want: "dec-1<unl-1"},
		{ref: "x" + lineMark("dec-1", "unl-1") + lineMark("dec-2", "unl-2"), want: "dec-1<unl-1 dec-2<unl-2"},
		{ref: "x | unlettered dec-1 by unl-1", want: ""}, // cut short: no terminator
		{ref: "x | unlettered  by unl-1;", want: ""},
		{ref: "x | unlettered dec by ;", want: ""},
		{ref: "x" + intentMark("dec-1", "unl-1"), want: ""}, // an intent is not a mark
	}
	for _, tc := range tests {
		var got []string
		for _, m := range lineMarks(tc.ref) {
			got = append(got, m.reverses+"<"+m.by)
		}
		if strings.Join(got, " ") != tc.want {
			t.Errorf("lineMarks(%q) = %q, want %q", tc.ref, got, tc.want)
		}
	}
	if ms := intentMarks("ref" + intentMark("dec-1", "unl-1")); len(ms) != 1 || ms[0] != (mark{"dec-1", "unl-1"}) {
		t.Errorf("intentMarks = %v", ms)
	}
}

// FuzzLineMarks: parsing never panics, and a mark written by lineMark is
// read back whatever precedes it.
func FuzzLineMarks(f *testing.F) {
	f.Add("lettrage:exc-ab REF", "rec-0123", "unl-4567")
	f.Add("", "a", "b")
	f.Add(" | unlettered ; by ;", "x by y", "z")
	f.Fuzz(func(t *testing.T, prefix, reverses, by string) {
		_ = lineMarks(prefix)
		clean := func(s string) bool {
			return s != "" && !strings.ContainsAny(s, ";|") && !strings.Contains(s, " by ")
		}
		if !clean(reverses) || !clean(by) || strings.Contains(prefix, "|") {
			return
		}
		ms := lineMarks(prefix + lineMark(reverses, by))
		if len(ms) != 1 || ms[0].reverses != reverses || ms[0].by != by {
			t.Errorf("lineMarks(%q + mark(%q, %q)) = %+v", prefix, reverses, by, ms)
		}
	})
}
