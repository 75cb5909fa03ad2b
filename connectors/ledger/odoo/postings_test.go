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

func onAccount(customer, amount string) matcher.Posting {
	return matcher.Posting{Kind: matcher.OnAccount, CustomerID: customer, Amount: matcher.MustAmount(amount)}
}

func writeOff(amount, reason string) matcher.Posting {
	return matcher.Posting{Kind: matcher.WriteOffPosting, Amount: matcher.MustAmount(amount), Reason: reason}
}

// pd is a decision with postings (and optionally allocations).
func pd(key string, postings []matcher.Posting, allocs ...matcher.Allocation) connectors.KeyedDecision {
	d := kd(key, allocs...)
	d.Decision.Postings = postings
	d.Decision.Rule = "manual:" + string(postings[0].Kind)
	return d
}

func withWriteOff(c *Config) { c.Journal = "BNK1"; c.WriteOffAccount = "658000" }

const untouched = "1=not_paid/1250 2=not_paid/300.1 3=partial/49.99 4=not_paid/20 5=paid/0 6=not_paid/500"

// On account: one posted inbound customer payment, not reconciled (the
// invoices keep their residual: an outstanding credit of the customer);
// replayed, nothing more is written.
func TestOnAccountPerVersion(t *testing.T) {
	for _, major := range []int{16, 17, 18} {
		t.Run(fmt.Sprintf("odoo %d", major), func(t *testing.T) {
			f, srv := newFakeOdoo(t, major)
			c := newClient(t, srv.URL, func(c *Config) { c.Journal = "BNK2" })
			ctx := context.Background()
			batch := []connectors.KeyedDecision{pd("k-acc", []matcher.Posting{onAccount("42", "150.25")})}
			if err := c.Apply(ctx, batch); err != nil {
				t.Fatalf("Apply: %v", err)
			}
			posted := "posted"
			if major >= 18 {
				posted = "in_process"
			}
			want := "pay[lettrage:k-acc:1/1 on account]=150.25>42:" + posted
			if got := f.postingsText(); got != want {
				t.Errorf("postings = %q, want %q", got, want)
			}
			if got := f.residuals(); got != untouched {
				t.Errorf("invoices = %q, want them untouched", got)
			}
			f.mu.Lock()
			journal, date := f.pays[0].journal, f.pays[0].date
			f.mu.Unlock()
			if journal != 12 || date != "2026-11-20" {
				t.Errorf("journal %d, date %s; want 12, 2026-11-20", journal, date)
			}
			applied, err := c.Applied(ctx, []string{"k-acc", "k-other"})
			if err != nil || len(applied) != 1 || !applied["k-acc"] {
				t.Errorf("Applied = %v, %v; want k-acc", applied, err)
			}
			if err := c.Apply(ctx, batch); err != nil {
				t.Fatalf("Apply again: %v", err)
			}
			if got := f.postingsText(); got != want || f.calls["account.payment.create"] != 1 || f.calls["account.payment.action_post"] != 1 {
				t.Errorf("the replay wrote again: %s (%d creates, %d posts)", got, f.calls["account.payment.create"], f.calls["account.payment.action_post"])
			}
		})
	}
}

// Write-off: a posted journal entry, outstanding receipts against the
// write-off account, the reason in its ref.
func TestWriteOffPerVersion(t *testing.T) {
	for _, major := range []int{16, 17, 18} {
		t.Run(fmt.Sprintf("odoo %d", major), func(t *testing.T) {
			f, srv := newFakeOdoo(t, major)
			c := newClient(t, srv.URL, withWriteOff)
			ctx := context.Background()
			batch := []connectors.KeyedDecision{pd("k-wo", []matcher.Posting{writeOff("0.42", "  TINY\tunidentified ")})}
			if err := c.Apply(ctx, batch); err != nil {
				t.Fatalf("Apply: %v", err)
			}
			want := "entry[lettrage:k-wo:1/1 write-off: TINY unidentified]=30:0.42,501:-0.42:posted"
			if got := f.postingsText(); got != want {
				t.Errorf("postings = %q, want %q", got, want)
			}
			if got, err := c.Applied(ctx, []string{"k-wo"}); err != nil || !got["k-wo"] {
				t.Errorf("Applied = %v, %v", got, err)
			}
			if err := c.Apply(ctx, batch); err != nil {
				t.Fatalf("Apply again: %v", err)
			}
			if got := f.postingsText(); got != want || f.calls["account.move.create"] != 1 {
				t.Errorf("the replay wrote again: %s", got)
			}
		})
	}
	// Journal BNK2 has no outstanding account on its payment method: Odoo
	// 16–17 use the company's, Odoo 18 has none to read.
	for _, major := range []int{17, 18} {
		f, srv := newFakeOdoo(t, major)
		c := newClient(t, srv.URL, func(c *Config) { c.Journal = "BNK2"; c.WriteOffAccount = "501" })
		err := c.Apply(context.Background(), []connectors.KeyedDecision{pd("k-wo", []matcher.Posting{writeOff("1", "R")})})
		if major == 17 {
			if err != nil || f.postingsText() != "entry[lettrage:k-wo:1/1 write-off: R]=30:1,501:-1:posted" {
				t.Errorf("odoo 17, BNK2: %v, %s", err, f.postingsText())
			}
			continue
		}
		rej, only := connectors.Rejections(err)
		if !only || len(rej) != 1 || !errors.Is(err, ErrNoOutstandingAccount) || f.postingsText() != "" {
			t.Errorf("odoo 18, BNK2: Apply = %v, postings %q; want a rejection and nothing written", err, f.postingsText())
		}
	}
}

// Postings Odoo cannot take are refused before anything of their decision
// is written; the other decisions of the batch are written all the same.
func TestPostingRefusals(t *testing.T) {
	tests := []struct {
		name        string
		mut         func(*Config)
		decision    connectors.KeyedDecision
		errIs       error
		errContains string
	}{
		{name: "write-off without write_off_account", mut: func(c *Config) { c.Journal = "BNK1" },
			decision: pd("k1", []matcher.Posting{writeOff("0.42", "TINY")}), errIs: ErrWriteOffNotConfigured, errContains: "set write_off_account"},
		{name: "mixed decision without write_off_account writes none of it", mut: func(c *Config) { c.Journal = "BNK1" },
			decision: pd("k1", []matcher.Posting{onAccount("42", "10"), writeOff("0.42", "TINY")}, al("2", "100", "")),
			errIs:    ErrWriteOffNotConfigured, errContains: "write_off_account"},
		{name: "write-off without journal", mut: func(c *Config) { c.WriteOffAccount = "658000" },
			decision: pd("k1", []matcher.Posting{writeOff("0.42", "TINY")}), errIs: ErrWriteOffNotConfigured, errContains: "set journal"},
		{name: "unknown customer", decision: pd("k1", []matcher.Posting{onAccount("99", "10")}), errIs: ErrNotFound, errContains: "customer 99"},
		{name: "customer not an id", decision: pd("k1", []matcher.Posting{onAccount("C-42", "10")}), errIs: ErrBadPosting, errContains: `"C-42"`},
		{name: "negative amount", decision: pd("k1", []matcher.Posting{onAccount("42", "-10")}), errIs: ErrBadPosting, errContains: "not positive"},
		{name: "unknown kind", decision: pd("k1", []matcher.Posting{{Kind: "donation", Amount: matcher.MustAmount("1")}}), errIs: ErrBadPosting, errContains: "donation"},
		{name: "record_exceptions", mut: func(c *Config) { c.Journal = "BNK1"; c.RecordExceptions = true },
			decision: pd("k1", []matcher.Posting{onAccount("42", "10")}), errIs: ErrRecordExceptionsPostings, errContains: "statement line"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, srv := newFakeOdoo(t, 17)
			c := newClient(t, srv.URL, tc.mut)
			ok := kd("k0", al("6", "500.00", ""))
			err := c.Apply(context.Background(), []connectors.KeyedDecision{tc.decision, ok})
			rej, only := connectors.Rejections(err)
			if !only || len(rej) != 1 || rej[0].Key != "k1" || rej[0].Partial {
				t.Fatalf("Apply = %v; want k1 rejected alone, nothing partial", err)
			}
			if !errors.Is(err, tc.errIs) || !strings.Contains(rej[0].Reason, tc.errContains) {
				t.Errorf("rejection %q (%v); want %v containing %q", rej[0].Reason, err, tc.errIs, tc.errContains)
			}
			if got := f.memos(); got != "lettrage:k0:1/1=500.00@6" || f.postingsText() != "" {
				t.Errorf("payments %q, postings %q; want k0's alone", got, f.postingsText())
			}
			if got, _ := c.Applied(context.Background(), []string{"k1"}); got["k1"] {
				t.Errorf("a refused decision is reported applied")
			}
		})
	}
	// Odoo's own refusal (a lock date) after the allocation was paid: the
	// rejection is partial, with Odoo's message.
	f, srv := newFakeOdoo(t, 17)
	c := newClient(t, srv.URL, withWriteOff)
	f.lockDate = "2026-11-30"
	err := c.Apply(context.Background(), []connectors.KeyedDecision{pd("k1", []matcher.Posting{onAccount("42", "10")}, al("2", "100", ""))})
	rej, only := connectors.Rejections(err)
	if !only || len(rej) != 1 || !rej[0].Partial || !strings.Contains(rej[0].Reason, "lock date") {
		t.Fatalf("Apply = %v; want k1 rejected as partial with Odoo's message", err)
	}
}

// A call whose answer is lost after Odoo acted is re-checked by memo and
// not sent again: exactly one document, posted once.
func TestPostingLostAnswerIsNotRepeated(t *testing.T) {
	tests := []struct {
		step     string
		posting  matcher.Posting
		postings string
	}{
		{step: "account.payment.create", posting: onAccount("41", "12.34"), postings: "pay[lettrage:k-lost:1/1 on account]=12.34>41:in_process"},
		{step: "account.payment.action_post", posting: onAccount("41", "12.34"), postings: "pay[lettrage:k-lost:1/1 on account]=12.34>41:in_process"},
		{step: "account.move.create", posting: writeOff("0.01", "ROUND"), postings: "entry[lettrage:k-lost:1/1 write-off: ROUND]=30:0.01,501:-0.01:posted"},
		{step: "account.move.action_post", posting: writeOff("0.01", "ROUND"), postings: "entry[lettrage:k-lost:1/1 write-off: ROUND]=30:0.01,501:-0.01:posted"},
	}
	for _, tc := range tests {
		t.Run(tc.step, func(t *testing.T) {
			f, srv := newFakeOdoo(t, 18)
			stop := make(chan struct{})
			t.Cleanup(func() { close(stop) })
			first := true
			f.after = func(model, method string, w http.ResponseWriter, r *http.Request) bool {
				if model+"."+method != tc.step || !first {
					return false
				}
				first = false
				return stallUntilClientGone(stop)(w, r)
			}
			c := newClient(t, srv.URL, func(c *Config) { withWriteOff(c); c.Timeout = 300 * time.Millisecond })
			if err := c.Apply(context.Background(), []connectors.KeyedDecision{pd("k-lost", []matcher.Posting{tc.posting})}); err != nil {
				t.Fatalf("Apply: %v", err)
			}
			if n := f.calls[tc.step]; n != 1 {
				t.Errorf("%s called %d times, want 1 (the recheck found it done)", tc.step, n)
			}
			if got := f.postingsText(); got != tc.postings {
				t.Errorf("postings = %q, want %q", got, tc.postings)
			}
		})
	}
}

// A run that died between creating a posting and posting it: the draft is
// not reported applied, and the next Apply posts it without a second one.
func TestPostingDraftLeftByACrashIsPosted(t *testing.T) {
	f, srv := newFakeOdoo(t, 17)
	c := newClient(t, srv.URL, nil)
	ctx := context.Background()
	f.pays = append(f.pays, fakePayment{id: 1, memo: "lettrage:k1:1/1 on account", amount: matcher.MustAmount("5"), partner: 43, state: "draft", journal: 11})
	if got, _ := c.Applied(ctx, []string{"k1"}); got["k1"] {
		t.Fatalf("a draft posting is reported applied")
	}
	if err := c.Apply(ctx, []connectors.KeyedDecision{pd("k1", []matcher.Posting{onAccount("43", "5")})}); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if got := f.postingsText(); got != "pay[lettrage:k1:1/1 on account]=5>43:posted" || f.calls["account.payment.create"] != 0 {
		t.Errorf("postings = %q after %d creates", got, f.calls["account.payment.create"])
	}
	if got, _ := c.Applied(ctx, []string{"k1"}); !got["k1"] {
		t.Errorf("posted decision not applied")
	}
}

// Allocations and postings in one decision: the invoice is paid first, then
// the postings, each numbered n/3; Applied waits for all three.
func TestMixedDecision(t *testing.T) {
	for _, major := range []int{16, 18} {
		t.Run(fmt.Sprintf("odoo %d", major), func(t *testing.T) {
			f, srv := newFakeOdoo(t, major)
			c := newClient(t, srv.URL, withWriteOff)
			ctx := context.Background()
			mixed := pd("k-mix", []matcher.Posting{onAccount("42", "49.90"), writeOff("0.05", "ROUND")}, al("2", "300.10", ""))
			// A previous run paid the invoice and died.
			if err := c.Apply(ctx, []connectors.KeyedDecision{kd("k-mix", al("2", "300.10", ""))}); err != nil {
				t.Fatal(err)
			}
			f.mu.Lock()
			f.pays[0].memo = "lettrage:k-mix:1/3"
			f.mu.Unlock()
			if got, _ := c.Applied(ctx, []string{"k-mix"}); got["k-mix"] {
				t.Fatalf("a decision with its postings missing is reported applied")
			}
			if err := c.Apply(ctx, []connectors.KeyedDecision{mixed}); err != nil {
				t.Fatalf("Apply: %v", err)
			}
			posted := "posted"
			if major >= 18 {
				posted = "in_process"
			}
			want := "pay[lettrage:k-mix:2/3 on account]=49.90>42:" + posted + " entry[lettrage:k-mix:3/3 write-off: ROUND]=30:0.05,501:-0.05:posted"
			if got := f.postingsText(); got != want {
				t.Errorf("postings = %q, want %q", got, want)
			}
			if got := f.residuals(); !strings.Contains(got, "2=paid/0") || f.calls["account.payment.register.action_create_payments"] != 1 {
				t.Errorf("invoices %s after %d registrations", got, f.calls["account.payment.register.action_create_payments"])
			}
			if got, _ := c.Applied(ctx, []string{"k-mix"}); !got["k-mix"] {
				t.Errorf("complete decision not applied")
			}
		})
	}
}

// Unletter reverses postings as it reverses payments: each document is
// reset to draft, marked with the reversal key and cancelled; the invoice
// is open again; the reversal is idempotent and exclusive.
func TestUnletterPostings(t *testing.T) {
	for _, major := range []int{17, 18} {
		t.Run(fmt.Sprintf("odoo %d", major), func(t *testing.T) {
			f, srv := newFakeOdoo(t, major)
			c := newClient(t, srv.URL, withWriteOff)
			ctx := context.Background()
			mixed := pd("k-mix", []matcher.Posting{onAccount("42", "49.90"), writeOff("0.05", "ROUND")}, al("2", "300.10", ""))
			if err := c.Apply(ctx, []connectors.KeyedDecision{mixed}); err != nil {
				t.Fatal(err)
			}
			r := rev("unl-1", "k-mix")
			r.Postings = mixed.Decision.Postings
			if err := c.Unletter(ctx, r); err != nil {
				t.Fatalf("Unletter: %v", err)
			}
			cancel := "cancel"
			if major >= 18 {
				cancel = "canceled"
			}
			want := "pay[lettrage:k-mix:2/3 on account unlettered by unl-1]=49.90>42:" + cancel +
				" entry[lettrage:k-mix:3/3 write-off: ROUND unlettered by unl-1]=30:0.05,501:-0.05:cancel"
			if got := f.postingsText(); got != want {
				t.Errorf("postings = %q, want %q", got, want)
			}
			if got := f.paymentStates(); !strings.HasPrefix(got, "lettrage:k-mix:1/3 unlettered by unl-1="+cancel) {
				t.Errorf("payments = %q", got)
			}
			if got := f.residuals(); got != untouched {
				t.Errorf("invoices = %q, want %q", got, untouched)
			}
			applied, err := c.Applied(ctx, []string{"unl-1", "k-mix"})
			if err != nil || len(applied) != 1 || !applied["unl-1"] {
				t.Errorf("Applied = %v, %v; want unl-1 alone", applied, err)
			}
			calls := f.calls["account.move.button_draft"] + f.calls["account.payment.action_draft"]
			if err := c.Unletter(ctx, r); err != nil {
				t.Fatalf("Unletter again: %v", err)
			}
			if f.calls["account.move.button_draft"]+f.calls["account.payment.action_draft"] != calls || f.postingsText() != want {
				t.Errorf("the replay acted: %s", f.postingsText())
			}
			if err := c.Unletter(ctx, rev("unl-2", "k-mix")); !errors.Is(err, ErrAlreadyReversed) {
				t.Errorf("second reversal = %v, want ErrAlreadyReversed", err)
			}
		})
	}
}

// A reversal that dies after the payments were cancelled and before the
// write-off entry was: not applied until the next call finishes it.
func TestUnletterPostingsHalfDone(t *testing.T) {
	f, srv := newFakeOdoo(t, 17)
	c := newClient(t, srv.URL, withWriteOff)
	ctx := context.Background()
	if err := c.Apply(ctx, []connectors.KeyedDecision{pd("k1", []matcher.Posting{onAccount("41", "3"), writeOff("1", "X")})}); err != nil {
		t.Fatal(err)
	}
	n := 0
	f.refuse = func(model, method string) (string, string) {
		if model+"."+method == "account.move.button_cancel" {
			if n++; n == 1 {
				return "odoo.exceptions.UserError", "The entry is locked."
			}
		}
		return "", ""
	}
	err := c.Unletter(ctx, rev("unl-1", "k1"))
	if rej, _ := connectors.Rejections(err); len(rej) != 1 || !rej[0].Partial {
		t.Fatalf("Unletter = %v; want a partial rejection", err)
	}
	if got, _ := c.Applied(ctx, []string{"unl-1"}); got["unl-1"] {
		t.Fatalf("a half-done reversal is reported applied: %s", f.postingsText())
	}
	if err := c.Unletter(ctx, rev("unl-1", "k1")); err != nil {
		t.Fatalf("Unletter: %v", err)
	}
	if got, _ := c.Applied(ctx, []string{"unl-1"}); !got["unl-1"] {
		t.Errorf("finished reversal not applied: %s", f.postingsText())
	}
}

func TestParseMemoText(t *testing.T) {
	tests := []struct {
		in   string
		want string // key n/count, or "" when refused
	}{
		{in: "lettrage:k:1/2", want: "k 1/2"},
		{in: "lettrage:k:2/2 on account", want: "k 2/2"},
		{in: "lettrage:job:tx:3/3 write-off: R: 1/2 x", want: "job:tx 3/3"},
		{in: "lettrage:k:2/2 write-off: R unlettered by unl-1", want: ""},
		{in: "lettrage:k:2/2x on account", want: ""},
		{in: "lettrage:k: 2/2", want: ""},
		{in: "PAY/2026/0001 lettrage:k:1/1", want: ""},
	}
	for _, tc := range tests {
		key, n, count, ok := parseMemoText(tc.in)
		got := ""
		if ok {
			got = fmt.Sprintf("%s %d/%d", key, n, count)
		}
		if got != tc.want {
			t.Errorf("parseMemoText(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// FuzzParseMemoText: never panics; a posting memo of a key without spaces
// reads back as its key and number, whatever the reason.
func FuzzParseMemoText(f *testing.F) {
	f.Add("man-0123abcd", 2, 3, "TINY")
	f.Add("k:1/2", 1, 1, "unlettered by x")
	f.Add("", 1, 1, "")
	f.Fuzz(func(t *testing.T, key string, n, count int, reason string) {
		_, _, _, _ = parseMemoText(reason)
		if strings.ContainsAny(key, " \t\n") || n < 1 || n > count || count > 1000 {
			return
		}
		for _, p := range []matcher.Posting{{Kind: matcher.OnAccount}, {Kind: matcher.WriteOffPosting, Reason: reason}} {
			m := postingMemo(key, n, count, p)
			k, gn, gc, ok := parseMemoText(m)
			if !ok || k != key || gn != n || gc != count {
				t.Fatalf("parseMemoText(%q) = %q %d %d %v", m, k, gn, gc, ok)
			}
		}
	})
}
