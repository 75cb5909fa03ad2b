package odoo

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/lettrage/lettrage/connectors"
	"github.com/lettrage/lettrage/domain"
	"github.com/lettrage/lettrage/internal/testenv"
)

func onAccount(customer, amount string) domain.Posting {
	return domain.Posting{Kind: domain.OnAccount, CustomerID: customer, Amount: domain.MustAmount(amount)}
}

func writeOff(amount, reason string) domain.Posting {
	return domain.Posting{Kind: domain.WriteOffPosting, Amount: domain.MustAmount(amount), Reason: reason}
}

// pd is a decision with postings (and optionally allocations).
func (f *fx) pd(key string, postings []domain.Posting, allocs ...domain.Allocation) connectors.KeyedDecision {
	d := f.kd(key, allocs...)
	d.Decision.Postings = postings
	d.Decision.Rule = "manual:" + string(postings[0].Kind)
	return d
}

func withWriteOff(c *Config) { c.Journal = testenv.OdooBankJournal; c.WriteOffAccount = "658000" }

// postings describes what Lettrage posted without an invoice, oldest
// first: on-account payments "pay[memo]=amount>partner:state" and journal
// entries "entry[ref]=code:balance,…:state", the test's id cut from the
// keys.
func (f *fx) postings() string {
	f.t.Helper()
	var out []string
	for _, p := range f.payments() {
		if strings.HasPrefix(string(p.Memo), memoPrefix) && len(p.Invoices) == 0 && strings.Contains(string(p.Memo), " on account") {
			out = append(out, fmt.Sprintf("pay[%s]=%s>%s:%s", strings.ReplaceAll(string(p.Memo), "-"+f.id, ""), amt(f.t, p.Amount),
				f.names[p.Partner.ID], p.State))
		}
	}
	var entries []struct {
		ID    int    `json:"id"`
		Ref   Text   `json:"ref"`
		State string `json:"state"`
	}
	f.call(&entries, "account.move", "search_read", []any{[]any{[]any{"move_type", "=", "entry"}, []any{"payment_id", "=", false},
		[]any{"ref", "=like", "lettrage:%-" + f.id + ":%"}}}, map[string]any{"fields": []string{"ref", "state"}, "order": "id asc"})
	for _, e := range entries {
		out = append(out, fmt.Sprintf("entry[%s]=%s:%s", strings.ReplaceAll(string(e.Ref), "-"+f.id, ""), f.items(e.ID), e.State))
	}
	return strings.Join(out, " ")
}

// On account: one posted inbound customer payment, not reconciled (the
// invoices keep their residual: an outstanding credit of the customer);
// replayed, nothing more is written.
func TestOnAccount(t *testing.T) {
	f := newFx(t)
	ids := f.invoices(inv("Müller", "300.10"))
	c := f.client(func(c *Config) { c.Journal = testenv.OdooBankJournal })
	ctx := context.Background()
	batch := []connectors.KeyedDecision{f.pd("k-acc", []domain.Posting{onAccount(f.pid("Müller"), "150.25")})}
	if err := c.Apply(ctx, batch); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	want := "pay[lettrage:k-acc:1/1 on account]=150.25>Müller:posted"
	if got := f.postings(); got != want {
		t.Errorf("postings = %q, want %q", got, want)
	}
	if got := f.states(ids[0]); got != "not_paid/300.1" {
		t.Errorf("invoice = %q, want it untouched", got)
	}
	ps := f.payments()
	if len(ps) != 1 || ps[0].Journal.Name != "Bank" || ps[0].Date != "2026-11-20" || ps[0].Type != "inbound" {
		t.Errorf("payment %+v; want inbound, in Bank, on 2026-11-20", ps)
	}
	applied, err := c.Applied(ctx, []string{batch[0].Key, f.key("k-other")})
	if err != nil || len(applied) != 1 || !applied[batch[0].Key] {
		t.Errorf("Applied = %v, %v; want k-acc", applied, err)
	}
	if err := c.Apply(ctx, batch); err != nil {
		t.Fatalf("Apply again: %v", err)
	}
	if got := f.postings(); got != want || f.px.count("account.payment.create") != 1 || f.px.count("account.payment.action_post") != 1 {
		t.Errorf("the replay wrote again: %s (%d creates, %d posts)", got, f.px.count("account.payment.create"), f.px.count("account.payment.action_post"))
	}
}

// Write-off: a posted journal entry, the cash on the journal's outstanding
// receipts account (Odoo 17: the company's, 512003, when the payment
// method has none; else the method's) against the write-off account, the
// reason in its ref.
func TestWriteOff(t *testing.T) {
	f := newFx(t)
	c := f.client(withWriteOff)
	ctx := context.Background()
	batch := []connectors.KeyedDecision{f.pd("k-wo", []domain.Posting{writeOff("0.42", "  TINY\tunidentified ")})}
	if err := c.Apply(ctx, batch); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	want := "entry[lettrage:k-wo:1/1 write-off: TINY unidentified]=512003:0.42,658000:-0.42:posted"
	if got := f.postings(); got != want {
		t.Errorf("postings = %q, want %q", got, want)
	}
	if got, err := c.Applied(ctx, []string{batch[0].Key}); err != nil || !got[batch[0].Key] {
		t.Errorf("Applied = %v, %v", got, err)
	}
	if err := c.Apply(ctx, batch); err != nil {
		t.Fatalf("Apply again: %v", err)
	}
	if got := f.postings(); got != want || f.px.count("account.move.create") != 1 {
		t.Errorf("the replay wrote again: %s", got)
	}

	// A journal whose inbound payment method has its own outstanding
	// account.
	var acc, journal int
	f.call(&acc, "account.account", "create", []any{map[string]any{"code": "512" + f.id[:3], "name": "Outstanding " + f.id,
		"account_type": "asset_current", "reconcile": true}}, nil)
	f.call(&journal, "account.journal", "create", []any{map[string]any{"name": "Bank " + f.id, "code": "B" + f.id[:4], "type": "bank"}}, nil)
	var js []struct {
		Lines []int `json:"inbound_payment_method_line_ids"`
	}
	f.call(&js, "account.journal", "read", []any{[]int{journal}}, map[string]any{"fields": []string{"inbound_payment_method_line_ids"}})
	f.call(nil, "account.payment.method.line", "write", []any{js[0].Lines, map[string]any{"payment_account_id": acc}}, nil)
	c = f.client(func(c *Config) { c.Journal = "B" + f.id[:4]; c.WriteOffAccount = "658000" })
	if err := c.Apply(ctx, []connectors.KeyedDecision{f.pd("k-wo2", []domain.Posting{writeOff("1", "R")})}); err != nil {
		t.Fatalf("Apply on the second journal: %v", err)
	}
	if got := f.postings(); !strings.HasSuffix(got, "entry[lettrage:k-wo2:1/1 write-off: R]=512"+f.id[:3]+":1,658000:-1:posted") {
		t.Errorf("postings = %q, want the second on the method's account", got)
	}
}

// Postings Lettrage cannot write are refused before anything of their
// decision is written; the other decisions of the batch are written all
// the same. One batch per configuration.
func TestPostingRefusals(t *testing.T) {
	type refusal struct {
		decision    connectors.KeyedDecision
		errIs       error
		errContains string
	}
	f := newFx(t)
	ids := f.invoices(inv("Rossi", "500.00"), inv("Rossi", "500.00"), inv("Rossi", "500.00"), inv("Müller", "300.10"))
	müller := f.pid("Müller")
	groups := []struct {
		name string
		mut  func(*Config)
		refs []refusal
	}{
		{name: "journal, no write_off_account", mut: func(c *Config) { c.Journal = "BNK1" }, refs: []refusal{
			{decision: f.pd("wo-no-account", []domain.Posting{writeOff("0.42", "TINY")}), errIs: ErrWriteOffNotConfigured, errContains: "set write_off_account"},
			{decision: f.pd("mixed", []domain.Posting{onAccount(müller, "10"), writeOff("0.42", "TINY")}, al(ids[3], "100", "")),
				errIs: ErrWriteOffNotConfigured, errContains: "write_off_account"},
			{decision: f.pd("unknown-customer", []domain.Posting{onAccount("999999", "10")}), errIs: ErrNotFound, errContains: "customer 999999"},
			{decision: f.pd("not-an-id", []domain.Posting{onAccount("C-42", "10")}), errIs: ErrBadPosting, errContains: `"C-42"`},
			{decision: f.pd("negative", []domain.Posting{onAccount(müller, "-10")}), errIs: ErrBadPosting, errContains: "not positive"},
			{decision: f.pd("unknown-kind", []domain.Posting{{Kind: "donation", Amount: domain.MustAmount("1")}}), errIs: ErrBadPosting, errContains: "donation"},
			{decision: f.pd("cash-discount", []domain.Posting{{Kind: domain.CashDiscountPosting, Amount: domain.MustAmount("2"),
				ItemID: ids[3], Account: "665000"}}), errIs: ErrBadPosting, errContains: "cash_discount"},
		}},
		{name: "write_off_account, no journal", mut: func(c *Config) { c.WriteOffAccount = "658000" }, refs: []refusal{
			{decision: f.pd("wo-no-journal", []domain.Posting{writeOff("0.42", "TINY")}), errIs: ErrWriteOffNotConfigured, errContains: "set journal"},
		}},
		{name: "record_exceptions", mut: recording, refs: []refusal{
			{decision: f.pd("recording", []domain.Posting{onAccount(müller, "10")}), errIs: ErrRecordExceptionsPostings, errContains: "statement line"},
		}},
	}
	for i, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			c := f.client(g.mut)
			ok := f.kd(fmt.Sprintf("ok%d", i), al(ids[i], "500.00", ""))
			ok.Tx.Amount = domain.MustAmount("500.00")
			batch := []connectors.KeyedDecision{ok}
			var keys []string
			for _, r := range g.refs {
				batch = append(batch, r.decision)
				keys = append(keys, r.decision.Key)
			}
			err := c.Apply(context.Background(), batch)
			rej, only := connectors.Rejections(err)
			if !only || len(rej) != len(g.refs) {
				t.Fatalf("Apply = %v; want %d rejections alone", err, len(g.refs))
			}
			byKey := map[string]*connectors.RejectedError{}
			for _, r := range rej {
				byKey[r.Key] = r
			}
			for _, r := range g.refs {
				got := byKey[r.decision.Key]
				if got == nil || got.Partial || !errors.Is(got, r.errIs) || !strings.Contains(got.Reason, r.errContains) {
					t.Errorf("%s: rejection %+v; want %v containing %q, nothing partial", r.decision.Key, got, r.errIs, r.errContains)
				}
			}
			if got := f.states(ids[i]); got != "paid/0" {
				t.Errorf("the good decision's invoice = %s", got)
			}
			if applied, _ := c.Applied(context.Background(), keys); len(applied) != 0 {
				t.Errorf("refused decisions reported applied: %v", applied)
			}
		})
	}
	if got := f.states(ids[3]); got != "not_paid/300.1" || f.postings() != "" {
		t.Errorf("mixed decision's invoice %s, postings %q; want nothing of the refused decisions written", got, f.postings())
	}
}

// Odoo's own refusal of a posting after the decision's allocation was
// paid (the write-off account was deprecated meanwhile): the rejection is
// partial, with Odoo's message.
func TestPostingRefusedByOdooAfterThePayment(t *testing.T) {
	f := newFx(t)
	ids := f.invoices(inv("Müller", "300.10"))
	c := f.client(withWriteOff)
	if err := c.setup(context.Background()); err != nil {
		t.Fatal(err)
	}
	f.call(nil, "account.account", "write", []any{[]int{c.writeOffID}, map[string]any{"deprecated": true}}, nil)
	t.Cleanup(func() {
		f.call(nil, "account.account", "write", []any{[]int{c.writeOffID}, map[string]any{"deprecated": false}}, nil)
	})
	err := c.Apply(context.Background(), []connectors.KeyedDecision{f.pd("k1", []domain.Posting{writeOff("0.10", "R")}, al(ids[0], "100", ""))})
	rej, only := connectors.Rejections(err)
	if !only || len(rej) != 1 || !rej[0].Partial || !strings.Contains(rej[0].Reason, "deprecated") {
		t.Fatalf("Apply = %v; want k1 rejected as partial with Odoo's message", err)
	}
	if got := f.states(ids[0]); got != "partial/200.1" {
		t.Errorf("invoice = %s", got)
	}
}

// A call whose answer is lost after Odoo acted is re-checked by memo and
// not sent again: exactly one document, posted once. (post() is one path
// for both kinds: a payment's create and an entry's action_post cover it.)
func TestPostingLostAnswer(t *testing.T) {
	t.Parallel() // beside the other tests; each subtest borrows a database (newFx)
	tests := []struct {
		step     string
		posting  func(f *fx) domain.Posting
		postings string
	}{
		{step: "account.payment.create", posting: func(f *fx) domain.Posting { return onAccount(f.pid("Dupont"), "12.34") },
			postings: "pay[lettrage:k-lost:1/1 on account]=12.34>Dupont:posted"},
		{step: "account.move.action_post", posting: func(f *fx) domain.Posting { return writeOff("0.01", "ROUND") },
			postings: "entry[lettrage:k-lost:1/1 write-off: ROUND]=512003:0.01,658000:-0.01:posted"},
	}
	for _, tc := range tests {
		t.Run(tc.step, func(t *testing.T) {
			f := newFx(t)
			f.px.on(rule{call: tc.step, nth: 1, fault: loseAnswer})
			c := f.client(withWriteOff)
			if err := c.Apply(context.Background(), []connectors.KeyedDecision{f.pd("k-lost", []domain.Posting{tc.posting(f)})}); err != nil {
				t.Fatalf("Apply: %v", err)
			}
			if n := f.px.count(tc.step); n != 1 {
				t.Errorf("%s called %d times, want 1 (the recheck found it done)", tc.step, n)
			}
			if got := f.postings(); got != tc.postings {
				t.Errorf("postings = %q, want %q", got, tc.postings)
			}
		})
	}
}

// A run that died between creating a posting and posting it: the draft is
// not reported applied, and the next Apply posts it without a second one.
func TestPostingDraftLeftByACrashIsPosted(t *testing.T) {
	f := newFx(t)
	c := f.client(func(c *Config) { c.Journal = testenv.OdooBankJournal })
	ctx := context.Background()
	d := f.pd("k1", []domain.Posting{onAccount(f.pid("Rossi"), "5")})
	if err := c.setup(ctx); err != nil {
		t.Fatal(err)
	}
	model, vals, err := c.postingVals(ctx, d, d.Decision.Postings[0], postingMemo(d.Key, 1, 1, d.Decision.Postings[0]))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.execute(ctx, nil, read, model, "create", []any{vals}, nil); err != nil {
		t.Fatal(err)
	}
	if got, _ := c.Applied(ctx, []string{d.Key}); got[d.Key] {
		t.Fatalf("a draft posting is reported applied: %s", f.postings())
	}
	creates := f.px.count("account.payment.create")
	if err := c.Apply(ctx, []connectors.KeyedDecision{d}); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if got, n := f.postings(), f.px.count("account.payment.create")-creates; got != "pay[lettrage:k1:1/1 on account]=5>Rossi:posted" || n != 0 {
		t.Errorf("postings = %q after %d more creates", got, n)
	}
	if got, _ := c.Applied(ctx, []string{d.Key}); !got[d.Key] {
		t.Errorf("posted decision not applied")
	}
}

// Allocations and postings in one decision: the invoice is paid first, then
// the postings, each numbered n/3; Applied waits for all three. A previous
// run paid the invoice and died.
func TestMixedDecision(t *testing.T) {
	f := newFx(t)
	ids := f.invoices(inv("Müller", "300.10"))
	c := f.client(withWriteOff)
	ctx := context.Background()
	mixed := f.pd("k-mix", []domain.Posting{onAccount(f.pid("Müller"), "49.90"), writeOff("0.05", "ROUND")}, al(ids[0], "300.10", ""))
	if err := c.setup(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.register(ctx, mixed, mixed.Decision.Allocations[0], atoi(ids[0]), memo(mixed.Key, 1, 3)); err != nil {
		t.Fatal(err)
	}
	if got, _ := c.Applied(ctx, []string{mixed.Key}); got[mixed.Key] {
		t.Fatalf("a decision with its postings missing is reported applied")
	}
	if err := c.Apply(ctx, []connectors.KeyedDecision{mixed}); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	want := "pay[lettrage:k-mix:2/3 on account]=49.9>Müller:posted entry[lettrage:k-mix:3/3 write-off: ROUND]=512003:0.05,658000:-0.05:posted"
	if got := f.postings(); got != want {
		t.Errorf("postings = %q, want %q", got, want)
	}
	if got := f.states(ids[0]); got != "paid/0" || f.px.count("account.payment.register.action_create_payments") != 1 {
		t.Errorf("invoice %s after %d registrations", got, f.px.count("account.payment.register.action_create_payments"))
	}
	if got, _ := c.Applied(ctx, []string{mixed.Key}); !got[mixed.Key] {
		t.Errorf("complete decision not applied")
	}
}

// Unletter reverses postings as it reverses payments: each document is
// reset to draft, marked with the reversal key and cancelled; the invoice
// is open again; the reversal is idempotent and exclusive.
func TestUnletterPostings(t *testing.T) {
	f := newFx(t)
	ids := f.invoices(inv("Müller", "300.10"))
	c := f.client(withWriteOff)
	ctx := context.Background()
	mixed := f.pd("k-mix", []domain.Posting{onAccount(f.pid("Müller"), "49.90"), writeOff("0.05", "ROUND")}, al(ids[0], "300.10", ""))
	if err := c.Apply(ctx, []connectors.KeyedDecision{mixed}); err != nil {
		t.Fatal(err)
	}
	r := f.rev("unl-1", "k-mix")
	r.Postings = mixed.Decision.Postings
	if err := c.Unletter(ctx, r); err != nil {
		t.Fatalf("Unletter: %v", err)
	}
	want := "pay[lettrage:k-mix:2/3 on account unlettered by unl-1]=49.9>Müller:cancel" +
		" entry[lettrage:k-mix:3/3 write-off: ROUND unlettered by unl-1]=512003:0.05,658000:-0.05:cancel"
	if got := f.postings(); got != want {
		t.Errorf("postings = %q, want %q", got, want)
	}
	if got := f.paymentStates(); !strings.HasPrefix(got, "lettrage:k-mix:1/3 unlettered by unl-1=cancel") {
		t.Errorf("payments = %q", got)
	}
	if got := f.states(ids[0]); got != "not_paid/300.1" {
		t.Errorf("invoice = %q", got)
	}
	applied, err := c.Applied(ctx, []string{r.Key, mixed.Key})
	if err != nil || len(applied) != 1 || !applied[r.Key] {
		t.Errorf("Applied = %v, %v; want unl-1 alone", applied, err)
	}
	calls := f.px.count("account.move.button_draft") + f.px.count("account.payment.action_draft")
	if err := c.Unletter(ctx, r); err != nil {
		t.Fatalf("Unletter again: %v", err)
	}
	if f.px.count("account.move.button_draft")+f.px.count("account.payment.action_draft") != calls || f.postings() != want {
		t.Errorf("the replay acted: %s", f.postings())
	}
	if err := c.Unletter(ctx, f.rev("unl-2", "k-mix")); !errors.Is(err, ErrAlreadyReversed) {
		t.Errorf("second reversal = %v, want ErrAlreadyReversed", err)
	}
}

// A reversal Odoo stops after the payments were cancelled and before the
// write-off entry was (a lock date set meanwhile): not applied until a
// later call, once the lock is lifted, finishes it.
func TestUnletterPostingsHalfDone(t *testing.T) {
	f := newFx(t)
	c := f.client(withWriteOff)
	ctx := context.Background()
	if err := c.Apply(ctx, []connectors.KeyedDecision{f.pd("k1", []domain.Posting{onAccount(f.pid("Dupont"), "3"), writeOff("1", "X")})}); err != nil {
		t.Fatal(err)
	}
	f.px.on(rule{call: "account.move.button_draft", nth: 1, before: func() { f.lock("2026-11-30") }})
	err := c.Unletter(ctx, f.rev("unl-1", "k1"))
	if rej, _ := connectors.Rejections(err); len(rej) != 1 || !rej[0].Partial {
		t.Fatalf("Unletter = %v; want a partial rejection", err)
	}
	if got, _ := c.Applied(ctx, []string{f.key("unl-1")}); got[f.key("unl-1")] {
		t.Fatalf("a half-done reversal is reported applied: %s", f.postings())
	}
	if err := f.db.SetLockDate(""); err != nil {
		t.Fatal(err)
	}
	if err := c.Unletter(ctx, f.rev("unl-1", "k1")); err != nil {
		t.Fatalf("Unletter: %v", err)
	}
	if got, _ := c.Applied(ctx, []string{f.key("unl-1")}); !got[f.key("unl-1")] {
		t.Errorf("finished reversal not applied: %s", f.postings())
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
		for _, p := range []domain.Posting{{Kind: domain.OnAccount}, {Kind: domain.WriteOffPosting, Reason: reason}} {
			m := postingMemo(key, n, count, p)
			k, gn, gc, ok := parseMemoText(m)
			if !ok || k != key || gn != n || gc != count {
				t.Fatalf("parseMemoText(%q) = %q %d %d %v", m, k, gn, gc, ok)
			}
		}
	})
}
