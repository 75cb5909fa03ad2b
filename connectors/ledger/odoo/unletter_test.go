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

func rev(key, reverses string) connectors.Reversal {
	return connectors.Reversal{Key: key, Reverses: reverses, Tx: matcher.Transaction{Ref: "REF-" + reverses},
		Reason: "lettered to the wrong invoice", At: time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)}
}

func (f *fakeOdoo) paymentStates() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, p := range f.pays {
		out = append(out, p.memo+"="+p.state)
	}
	return strings.Join(out, " ")
}

func TestUnletterPaymentsPerVersion(t *testing.T) {
	for _, major := range []int{16, 17, 18} {
		t.Run(fmt.Sprintf("odoo %d", major), func(t *testing.T) {
			f, srv := newFakeOdoo(t, major)
			c := newClient(t, srv.URL, nil)
			ctx := context.Background()
			batch := []connectors.KeyedDecision{kd("k-two", al("1", "1000", ""), al("6", "200", "")), kd("k-keep", al("2", "100", ""))}
			if err := c.Apply(ctx, batch); err != nil {
				t.Fatalf("Apply: %v", err)
			}
			if err := c.Unletter(ctx, rev("unl-1", "k-two")); err != nil {
				t.Fatalf("Unletter: %v", err)
			}
			if got, want := f.residuals(), "1=not_paid/1250 2=partial/200.1 3=partial/49.99 4=not_paid/20 5=paid/0 6=not_paid/500"; got != want {
				t.Errorf("invoices = %q, want %q", got, want)
			}
			cancel, live := "cancel", "posted"
			if major >= 18 {
				cancel, live = "canceled", "paid"
			}
			want := fmt.Sprintf("lettrage:k-two:1/2 unlettered by unl-1=%s lettrage:k-two:2/2 unlettered by unl-1=%s lettrage:k-keep:1/1=%s", cancel, cancel, live)
			if got := f.paymentStates(); got != want {
				t.Errorf("payments = %q, want %q", got, want)
			}
			applied, err := c.Applied(ctx, []string{"unl-1", "k-two", "k-keep", "unl-2"})
			if err != nil || len(applied) != 2 || !applied["unl-1"] || !applied["k-keep"] {
				t.Errorf("Applied = %v, %v; want unl-1 and k-keep", applied, err)
			}
			// Replay: nothing more happens.
			drafts := f.calls["account.payment.action_draft"]
			if err := c.Unletter(ctx, rev("unl-1", "k-two")); err != nil {
				t.Fatalf("Unletter again: %v", err)
			}
			if f.calls["account.payment.action_draft"] != drafts || f.paymentStates() != want {
				t.Errorf("the replay acted: %s", f.paymentStates())
			}
			// The decision can be lettered again afterwards, and its new
			// payments are not mistaken for the cancelled ones.
			if err := c.Apply(ctx, batch[:1]); err != nil {
				t.Fatalf("Apply after unletter: %v", err)
			}
			if got, _ := c.Applied(ctx, []string{"k-two"}); !got["k-two"] {
				t.Errorf("re-lettered decision not applied")
			}
		})
	}
}

// Refusals of a reversal: nothing to reverse, reversed under another key,
// Odoo's own refusal.
func TestUnletterRefusals(t *testing.T) {
	tests := []struct {
		name        string
		prepare     func(t *testing.T, f *fakeOdoo, c *Client)
		reversal    connectors.Reversal
		errIs       error
		errContains string
		partial     bool
	}{
		{name: "never lettered", reversal: rev("unl-1", "k-none"), errIs: ErrNotLettered},
		{name: "reversed by another key", prepare: func(t *testing.T, f *fakeOdoo, c *Client) {
			if err := c.Unletter(context.Background(), rev("unl-0", "k1")); err != nil {
				t.Fatal(err)
			}
		}, reversal: rev("unl-1", "k1"), errIs: ErrAlreadyReversed, errContains: "by unl-0"},
		{name: "locked period", prepare: func(t *testing.T, f *fakeOdoo, c *Client) { f.lockDate = "2026-11-30" },
			reversal: rev("unl-1", "k1"), errContains: "lock date"},
		{name: "refused after one payment was undone", prepare: func(t *testing.T, f *fakeOdoo, c *Client) {
			n := 0
			f.refuse = func(model, method string) (string, string) {
				if model+"."+method == "account.payment.action_draft" {
					if n++; n == 2 {
						return "odoo.exceptions.UserError", "The payment is locked."
					}
				}
				return "", ""
			}
		}, reversal: rev("unl-1", "k1"), errContains: "locked", partial: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, srv := newFakeOdoo(t, 17)
			c := newClient(t, srv.URL, nil)
			if err := c.Apply(context.Background(), []connectors.KeyedDecision{kd("k1", al("1", "100", ""), al("6", "100", ""))}); err != nil {
				t.Fatal(err)
			}
			if tc.prepare != nil {
				tc.prepare(t, f, c)
			}
			err := c.Unletter(context.Background(), tc.reversal)
			rej, only := connectors.Rejections(err)
			if !only || len(rej) != 1 || rej[0].Key != tc.reversal.Key || rej[0].Partial != tc.partial {
				t.Fatalf("Unletter = %v; want %s rejected (partial %v)", err, tc.reversal.Key, tc.partial)
			}
			if tc.errIs != nil && !errors.Is(err, tc.errIs) {
				t.Errorf("error %v is not %v", err, tc.errIs)
			}
			if !strings.Contains(err.Error(), tc.errContains) {
				t.Errorf("error %q does not contain %q", err, tc.errContains)
			}
			if got, _ := c.Applied(context.Background(), []string{tc.reversal.Key}); got[tc.reversal.Key] {
				t.Errorf("a refused reversal is reported applied")
			}
		})
	}
	_, srv := newFakeOdoo(t, 17)
	c := newClient(t, srv.URL, nil)
	if err := c.Unletter(context.Background(), connectors.Reversal{Key: "unl-1"}); err == nil || errors.Is(err, connectors.ErrRejected) {
		t.Errorf("Unletter without Reverses = %v, want a plain error", err)
	}
}

// Answers lost after Odoo acted: the re-check finds the step done, nothing
// is sent twice, and the reversal completes.
func TestUnletterTimeoutAfterOdooActed(t *testing.T) {
	for _, step := range []string{"account.payment.action_draft", "account.payment.action_cancel"} {
		t.Run(step, func(t *testing.T) {
			f, srv := newFakeOdoo(t, 18)
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
			c := newClient(t, srv.URL, func(c *Config) { c.Timeout = 300 * time.Millisecond })
			ctx := context.Background()
			if err := c.Apply(ctx, []connectors.KeyedDecision{kd("k1", al("2", "300.10", ""))}); err != nil {
				t.Fatal(err)
			}
			if err := c.Unletter(ctx, rev("unl-1", "k1")); err != nil {
				t.Fatalf("Unletter: %v", err)
			}
			if n := f.calls[step]; n != 1 {
				t.Errorf("%s called %d times, want 1", step, n)
			}
			if got := f.paymentStates(); got != "lettrage:k1:1/1 unlettered by unl-1=canceled" {
				t.Errorf("payments = %q", got)
			}
			if got, _ := c.Applied(ctx, []string{"unl-1"}); !got["unl-1"] {
				t.Errorf("reversal not applied")
			}
		})
	}
}

// A crash after the first of two payments was cancelled: the reversal is
// not reported applied, and the next call finishes it.
func TestUnletterHalfDoneIsFinished(t *testing.T) {
	f, srv := newFakeOdoo(t, 17)
	c := newClient(t, srv.URL, nil)
	ctx := context.Background()
	if err := c.Apply(ctx, []connectors.KeyedDecision{kd("k1", al("1", "100", ""), al("6", "100", ""))}); err != nil {
		t.Fatal(err)
	}
	if err := c.cancelPayment(ctx, payRow{ID: f.pays[0].id, Memo: f.pays[0].memo, State: f.pays[0].state}, unletterMark("unl-1")); err != nil {
		t.Fatal(err)
	}
	if got, _ := c.Applied(ctx, []string{"unl-1"}); got["unl-1"] {
		t.Fatalf("a half-done reversal is reported applied")
	}
	if err := c.Unletter(ctx, rev("unl-1", "k1")); err != nil {
		t.Fatalf("Unletter: %v", err)
	}
	if got, _ := c.Applied(ctx, []string{"unl-1"}); !got["unl-1"] {
		t.Errorf("finished reversal not applied: %s", f.paymentStates())
	}
	if got := f.residuals(); !strings.HasPrefix(got, "1=not_paid/1250 ") || !strings.HasSuffix(got, "6=not_paid/500") {
		t.Errorf("invoices = %s", got)
	}
}

// A lettering settled through a statement line is undone on that line: the
// cash goes back to the journal's suspense account, the line is open
// again, and a new lettering settles it again.
func TestUnletterStatementLinePerVersion(t *testing.T) {
	for _, major := range []int{16, 17, 18} {
		t.Run(fmt.Sprintf("odoo %d", major), func(t *testing.T) {
			f, srv := newFakeOdoo(t, major)
			c := newClient(t, srv.URL, recording)
			ctx := context.Background()
			if err := c.RecordExceptions(ctx, []connectors.Exception{exc("tx-a", "300.10", matcher.Decision{Outcome: matcher.Unmatched})}); err != nil {
				t.Fatal(err)
			}
			a := kd("k-a", al("2", "300.10", ""))
			a.Tx.Key = "tx-a"
			if err := c.Apply(ctx, []connectors.KeyedDecision{a}); err != nil {
				t.Fatalf("Apply: %v", err)
			}
			if err := c.Unletter(ctx, rev("unl-a", "k-a")); err != nil {
				t.Fatalf("Unletter: %v", err)
			}
			if got := f.residuals(); !strings.Contains(got, "2=not_paid/300.1") {
				t.Errorf("invoices = %s", got)
			}
			if got := f.stLinesText(); got != "2026-11-20|300.10|p0|DUPONT SARL|FR7630006000011234567890189|rec=false|10:300.10,20:-300.10" {
				t.Errorf("statement line = %s", got)
			}
			if !strings.HasSuffix(f.stLines[0].ref, " | unlettered k-a by unl-a;") {
				t.Errorf("payment_ref = %q", f.stLines[0].ref)
			}
			applied, err := c.Applied(ctx, []string{"unl-a", "k-a"})
			if err != nil || len(applied) != 1 || !applied["unl-a"] {
				t.Errorf("Applied = %v, %v; want unl-a alone", applied, err)
			}
			undos := f.calls["account.bank.statement.line.action_undo_reconciliation"]
			if err := c.Unletter(ctx, rev("unl-a", "k-a")); err != nil {
				t.Fatalf("Unletter again: %v", err)
			}
			if f.calls["account.bank.statement.line.action_undo_reconciliation"] != undos {
				t.Errorf("the replay acted again")
			}
			if err := c.Unletter(ctx, rev("unl-b", "k-a")); !errors.Is(err, ErrAlreadyReversed) {
				t.Errorf("second reversal = %v, want ErrAlreadyReversed", err)
			}
			// Re-lettered to the right invoice: the same line is settled, no payment.
			b := kd("k-b", al("6", "300.10", ""))
			b.Tx.Key = "tx-a"
			if err := c.Apply(ctx, []connectors.KeyedDecision{b}); err != nil {
				t.Fatalf("Apply again: %v", err)
			}
			if got := f.residuals(); !strings.Contains(got, "6=partial/199.9") || f.memos() != "" {
				t.Errorf("invoices %s, payments %q", got, f.memos())
			}
			if got, _ := c.Applied(ctx, []string{"k-b", "unl-a"}); !got["k-b"] || !got["unl-a"] {
				t.Errorf("Applied = %v", got)
			}
		})
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
