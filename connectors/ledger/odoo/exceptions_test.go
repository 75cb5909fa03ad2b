package odoo

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/lettrage/lettrage/connectors"
	"github.com/lettrage/lettrage/domain"
	"github.com/lettrage/lettrage/internal/testenv"
)

// exc is an exception of the test: transaction key f.key(tx).
func (f *fx) exc(tx, amount string, d domain.Decision) connectors.Exception {
	return connectors.Exception{
		Tx: domain.Transaction{Key: f.key(tx), Ref: "REF-" + tx, Currency: "EUR", Credit: true, Status: "BOOK",
			Amount: domain.MustAmount(amount), BookingDate: time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC),
			Counterparty: domain.Party{Name: "DUPONT SARL", IBAN: "FR7630006000011234567890189"},
			Unstructured: []string{"FACT 2026 1"}},
		Decision: d,
	}
}

// settling is a decision on the transaction of exception e, whose cash
// is on a statement line.
func (f *fx) settling(key string, e connectors.Exception, allocs ...domain.Allocation) connectors.KeyedDecision {
	d := f.kd(key, allocs...)
	d.Tx = e.Tx
	return d
}

func recording(c *Config) { c.Journal = testenv.OdooBankJournal; c.RecordExceptions = true }

type stRow struct {
	ID            int      `json:"id"`
	Date          string   `json:"date"`
	Amount        Number   `json:"amount"`
	Partner       Many2one `json:"partner_id"`
	PartnerName   Text     `json:"partner_name"`
	AccountNumber Text     `json:"account_number"`
	Reconciled    bool     `json:"is_reconciled"`
	Move          Many2one `json:"move_id"`
	PaymentRef    Text     `json:"payment_ref"`
	EntryRef      Text     `json:"ref"`
}

// line reads the statement line of transaction tx (nil: none).
func (f *fx) line(tx string) *stRow {
	f.t.Helper()
	var rows []stRow
	f.call(&rows, "account.bank.statement.line", "search_read",
		[]any{[]any{[]any{"payment_ref", "=like", likeEscape(ExceptionKey(f.key(tx))) + "%"}}},
		map[string]any{"fields": []string{"date", "amount", "partner_id", "partner_name", "account_number", "is_reconciled", "move_id", "payment_ref", "ref"},
			"order": "id asc"})
	switch len(rows) {
	case 0:
		return nil
	case 1:
		return &rows[0]
	}
	f.t.Fatalf("transaction %s has %d statement lines", tx, len(rows))
	return nil
}

// items describes the journal items of a statement line's entry, oldest
// first: "code:balance[:name when it is a Lettrage memo]".
func (f *fx) items(move int) string {
	f.t.Helper()
	var rows []struct {
		Account Many2one `json:"account_id"`
		Balance Number   `json:"balance"`
		Name    Text     `json:"name"`
	}
	f.call(&rows, "account.move.line", "search_read", []any{[]any{[]any{"move_id", "=", move}}},
		map[string]any{"fields": []string{"account_id", "balance", "name"}, "order": "id asc"})
	var out []string
	for _, r := range rows {
		s := strings.Fields(r.Account.Name)[0] + ":" + amt(f.t, r.Balance)
		if _, _, _, ok := parseMemo(string(r.Name)); ok {
			s += ":" + strings.ReplaceAll(string(r.Name), "-"+f.id, "")
		}
		out = append(out, s)
	}
	return strings.Join(out, ",")
}

// lines describes the statement lines of the transactions, one per line:
// "date|amount|partner|partner_name|account_number|rec=…|items" ("none"
// for a transaction without one).
func (f *fx) lines(txs ...string) string {
	f.t.Helper()
	var out []string
	for _, tx := range txs {
		l := f.line(tx)
		if l == nil {
			out = append(out, "none")
			continue
		}
		p := "-"
		if l.Partner.ID != 0 {
			p = f.names[l.Partner.ID]
		}
		out = append(out, fmt.Sprintf("%s|%s|%s|%s|%s|rec=%v|%s", l.Date, amt(f.t, l.Amount), p, l.PartnerName, l.AccountNumber,
			l.Reconciled, f.items(l.Move.ID)))
	}
	return strings.Join(out, "\n")
}

const dupontBank = "DUPONT SARL|FR7630006000011234567890189"

// Exceptions become open statement lines of the bank journal, once; a
// later run letters two of them: each line is settled in place (its
// suspense item becomes receivable items reconciled with the invoices,
// which Odoo allows on a posted entry only with force_delete), its text
// and partner say it is lettered, and no payment is registered.
func TestRecordExceptionsThenSettle(t *testing.T) {
	f := newFx(t)
	ids := f.invoices(inv("Müller", "300.10"), inv("Dupont", "99.99"), inv("Rossi", "500.00"))
	if err := f.db.Pay(atoi(ids[1]), "50.00", time.Date(2026, 10, 2, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	c := f.client(recording)
	ctx := context.Background()
	debit := f.exc("tx-debit", "10", domain.Decision{Outcome: domain.Unmatched})
	debit.Tx.Credit = false
	list := []connectors.Exception{
		f.exc("tx-a", "300.10", domain.Decision{Outcome: domain.Suggested, Reason: "amount_mismatch",
			Candidates: []domain.Candidate{{ItemID: ids[0], CustomerID: f.pid("Müller")}}}),
		f.exc("tx-b", "75.00", domain.Decision{Outcome: domain.Unmatched, Reason: "no_candidate"}),
		f.exc("tx-c", "1300.00", domain.Decision{Outcome: domain.Auto, Excess: domain.MustAmount("50.00")}),
		debit,
	}
	if err := c.RecordExceptions(ctx, list); err != nil {
		t.Fatalf("RecordExceptions: %v", err)
	}
	if err := c.RecordExceptions(ctx, list); err != nil {
		t.Fatalf("RecordExceptions again: %v", err)
	}
	want := strings.Join([]string{
		"2026-11-20|300.1|Müller|" + dupontBank + "|rec=false|512001:300.1,512002:-300.1",
		"2026-11-20|75|-|" + dupontBank + "|rec=false|512001:75,512002:-75",
		"2026-11-20|50|-|" + dupontBank + "|rec=false|512001:50,512002:-50",
		"none",
	}, "\n")
	if got := f.lines("tx-a", "tx-b", "tx-c", "tx-debit"); got != want {
		t.Fatalf("statement lines:\n%s\nwant:\n%s", got, want)
	}
	if n := f.px.count("account.bank.statement.line.create"); n != 1 {
		t.Errorf("create called %d times, want 1 (the replay found the lines)", n)
	}
	if ref := string(f.line("tx-a").PaymentRef); ref != ExceptionKey(f.key("tx-a"))+" REF-tx-a (amount_mismatch) FACT 2026 1" {
		t.Errorf("payment_ref = %q", ref)
	}
	if ref := string(f.line("tx-b").PaymentRef); ref != ExceptionKey(f.key("tx-b"))+" REF-tx-b (no_candidate) FACT 2026 1" {
		t.Errorf("payment_ref = %q", ref)
	}

	// A later run letters tx-a and part of tx-b.
	a := f.settling("k-a", list[0], al(ids[0], "300.10", ""))
	b := f.settling("k-b", list[1], al(ids[1], "49.50", "0.49"), al(ids[2], "25.00", ""))
	b.Decision.Rule = "customer_amount"
	if err := c.Apply(ctx, []connectors.KeyedDecision{a, b}); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if err := c.Apply(ctx, []connectors.KeyedDecision{a, b}); err != nil {
		t.Fatalf("Apply again: %v", err)
	}
	if got := f.memos(); got != "" {
		t.Errorf("payments = %q, want none: the cash is already in the bank journal", got)
	}
	if got, want := f.states(ids...), "paid/0 partial/0.49 partial/475"; got != want {
		t.Errorf("invoices = %q, want %q", got, want)
	}
	want = strings.Join([]string{
		"2026-11-20|300.1|Müller|" + dupontBank + "|rec=true|512001:300.1,411100:-300.1:lettrage:k-a:1/1",
		"2026-11-20|75|-|" + dupontBank + "|rec=false|512001:75,512002:-0.5,411100:-49.5:lettrage:k-b:1/2,411100:-25:lettrage:k-b:2/2",
	}, "\n")
	if got := f.lines("tx-a", "tx-b"); got != want {
		t.Errorf("statement lines:\n%s\nwant:\n%s", got, want)
	}
	if ref := string(f.line("tx-b").PaymentRef); ref != ExceptionKey(f.key("tx-b"))+" REF-tx-b (lettered: customer_amount) FACT 2026 1" {
		t.Errorf("payment_ref of a lettered line = %q, want it to say lettered", ref)
	}
	applied, err := c.Applied(ctx, []string{a.Key, b.Key, f.key("k-none")})
	if err != nil || len(applied) != 2 || !applied[a.Key] || !applied[b.Key] {
		t.Errorf("Applied = %v, %v; want k-a and k-b", applied, err)
	}
	if n := f.px.count("account.move.write"); n != 2 {
		t.Errorf("account.move.write called %d times, want 2", n)
	}
}

// An unmatched exception whose later letter names one customer: the
// settled line takes that customer as its partner.
func TestSettleSetsThePartner(t *testing.T) {
	f := newFx(t)
	ids := f.invoices(inv("Rossi", "80.00"))
	c := f.client(recording)
	ctx := context.Background()
	e := f.exc("tx-a", "80.00", domain.Decision{Outcome: domain.Unmatched, Reason: "no_candidate"})
	if err := c.RecordExceptions(ctx, []connectors.Exception{e}); err != nil {
		t.Fatal(err)
	}
	if err := c.Apply(ctx, []connectors.KeyedDecision{f.settling("k-a", e, al(ids[0], "80.00", ""))}); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	l := f.line("tx-a")
	if f.names[l.Partner.ID] != "Rossi" || !l.Reconciled || strings.Contains(string(l.PaymentRef), "no_candidate") {
		t.Errorf("line: partner %v, reconciled %v, payment_ref %q; want Rossi, reconciled, no more no_candidate", l.Partner, l.Reconciled, l.PaymentRef)
	}
	if got := f.states(ids[0]); got != "paid/0" {
		t.Errorf("invoice %s", got)
	}
}

func TestRecordExceptionsOffOrEmptyDoesNothing(t *testing.T) {
	f := newFx(t)
	c := f.client(func(c *Config) { c.Journal = testenv.OdooBankJournal })
	if err := c.RecordExceptions(context.Background(), []connectors.Exception{f.exc("tx-a", "1", domain.Decision{Outcome: domain.Unmatched})}); err != nil {
		t.Fatalf("RecordExceptions: %v", err)
	}
	c = f.client(recording)
	if err := c.RecordExceptions(context.Background(), nil); err != nil {
		t.Fatalf("RecordExceptions: %v", err)
	}
	if f.line("tx-a") != nil || len(f.px.calls) != 0 {
		t.Errorf("without record_exceptions, or without exceptions: calls %v", f.px.calls)
	}
}

// The answer to create is lost after Odoo wrote the lines, or cut halfway:
// the re-check finds them and nothing is written twice.
func TestRecordExceptionsLostAnswer(t *testing.T) {
	t.Parallel() // beside the other tests; each subtest borrows a database (newFx)
	for _, fault := range []fault{loseAnswer, cutAnswer} {
		t.Run(fmt.Sprint(fault), func(t *testing.T) {
			f := newFx(t)
			f.px.on(rule{call: "account.bank.statement.line.create", nth: 1, fault: fault})
			c := f.client(recording)
			list := []connectors.Exception{f.exc("tx-a", "1", domain.Decision{Outcome: domain.Unmatched}),
				f.exc("tx-b", "2", domain.Decision{Outcome: domain.Unmatched})}
			if err := c.RecordExceptions(context.Background(), list); err != nil {
				t.Fatalf("RecordExceptions: %v", err)
			}
			if f.line("tx-a") == nil || f.line("tx-b") == nil || f.px.count("account.bank.statement.line.create") != 1 {
				t.Errorf("lines %s, %d creates; want 2 lines from 1 create", f.lines("tx-a", "tx-b"), f.px.count("account.bank.statement.line.create"))
			}
		})
	}
}

// A server fault while writing the lines is an outage: a plain error, not
// a rejection.
func TestRecordExceptionsServerFault(t *testing.T) {
	f := newFx(t)
	f.px.on(rule{call: "account.bank.statement.line.create", fault: serverFault, name: "psycopg2.errors.SerializationFailure",
		message: "could not serialize access due to concurrent update"})
	c := f.client(recording)
	err := c.RecordExceptions(context.Background(), []connectors.Exception{f.exc("tx-x", "7", domain.Decision{Outcome: domain.Unmatched})})
	if rej, _ := connectors.Rejections(err); err == nil || len(rej) != 0 {
		t.Errorf("server fault = %v, want a plain error", err)
	}
}

// The Odoo user lacks "Show Full Accounting Features"
// (account.group_account_user): Odoo refuses the statement lines with an
// AccessError. That is an outage of the ledger — a plain error, retried,
// never a refusal of the payments — and once the group is granted the
// same exceptions and letters go through.
func TestAccessErrorIsAnOutage(t *testing.T) {
	f := newFx(t)
	ids := f.invoices(inv("Rossi", "42.00"))
	if err := f.db.SetUserGroups("base.group_user", "account.group_account_invoice"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := f.db.SetUserGroups(testenv.OdooUserGroups...); err != nil {
			t.Error(err)
		}
	})
	c := f.client(recording)
	ctx := context.Background()
	list := []connectors.Exception{f.exc("tx-a", "5", domain.Decision{Outcome: domain.Unmatched})}
	letter := f.kd("k-b", al(ids[0], "42.00", ""))
	letter.Tx.Amount = domain.MustAmount("42.00")
	for name, err := range map[string]error{"RecordExceptions": c.RecordExceptions(ctx, list), "Apply": c.Apply(ctx, []connectors.KeyedDecision{letter})} {
		var oe *Error
		if rej, _ := connectors.Rejections(err); err == nil || len(rej) != 0 || !errors.As(err, &oe) || oe.Name != "odoo.exceptions.AccessError" {
			t.Errorf("%s without the group = %v; want the AccessError as a plain error, no rejection", name, err)
		}
	}
	if err := f.db.SetUserGroups(testenv.OdooUserGroups...); err != nil {
		t.Fatal(err)
	}
	if err := c.RecordExceptions(ctx, list); err != nil {
		t.Errorf("RecordExceptions with the group: %v", err)
	}
	if err := c.Apply(ctx, []connectors.KeyedDecision{letter}); err != nil {
		t.Errorf("Apply with the group: %v", err)
	}
	if got := f.states(ids[0]); got != "paid/0" || f.line("tx-a") == nil || f.line("tx-k-b") == nil {
		t.Errorf("invoice %s, lines %s", got, f.lines("tx-a", "tx-k-b"))
	}
}

// Odoo 17 does not refuse a statement line dated in a locked period: it
// books it after the lock date (account.move._post moves the date).
func TestRecordExceptionsLockDate(t *testing.T) {
	f := newFx(t)
	f.lock("2026-10-31")
	c := f.client(recording)
	old := f.exc("tx-old", "5", domain.Decision{Outcome: domain.Unmatched})
	old.Tx.BookingDate = time.Date(2026, 10, 30, 0, 0, 0, 0, time.UTC)
	if err := c.RecordExceptions(context.Background(), []connectors.Exception{old}); err != nil {
		t.Fatalf("RecordExceptions: %v", err)
	}
	if l := f.line("tx-old"); l == nil || l.Date <= "2026-10-31" {
		t.Errorf("line %+v; want one dated after the lock date", l)
	}
}

// Odoo refuses the batch of lines for a business reason (no Odoo 17 rule
// refuses one line of a batch; a custom constraint could: the refusal is
// injected, in the real server's answer shape): each line is written alone,
// the refused one comes back as a rejection keyed by its transaction, the
// others are written.
func TestRecordExceptionsOneRefused(t *testing.T) {
	f := newFx(t)
	msg := "The bank statement line cannot be dated before the opening balance."
	f.px.on(rule{call: "account.bank.statement.line.create", nth: 1, fault: serverFault, name: "odoo.exceptions.ValidationError", message: msg})
	f.px.on(rule{call: "account.bank.statement.line.create", nth: 2, fault: serverFault, name: "odoo.exceptions.ValidationError", message: msg})
	c := f.client(recording)
	bad, good := f.exc("tx-bad", "5", domain.Decision{Outcome: domain.Unmatched}), f.exc("tx-good", "6", domain.Decision{Outcome: domain.Unmatched})
	if ExceptionKey(bad.Tx.Key) > ExceptionKey(good.Tx.Key) { // lines are written in marker order
		bad, good = good, bad
	}
	err := c.RecordExceptions(context.Background(), []connectors.Exception{good, bad})
	rej, only := connectors.Rejections(err)
	if !only || len(rej) != 1 || rej[0].Key != bad.Tx.Key || rej[0].Reason != msg {
		t.Fatalf("RecordExceptions = %v; want %s rejected alone with Odoo's message", err, bad.Tx.Key)
	}
	if f.line(strings.TrimSuffix(bad.Tx.Key, "-"+f.id)) != nil || f.line(strings.TrimSuffix(good.Tx.Key, "-"+f.id)) == nil {
		t.Errorf("lines: the refused one written, or the other not")
	}
}

// Settlement through a statement line: an answer lost or cut after Odoo
// acted; the labelled items are found and the call is not repeated.
func TestSettleLostAnswer(t *testing.T) {
	t.Parallel() // beside the other tests; each subtest borrows a database (newFx)
	for _, step := range []string{"account.move.write", "account.move.line.reconcile"} {
		t.Run(step, func(t *testing.T) {
			f := newFx(t)
			ids := f.invoices(inv("Müller", "300.10"))
			f.px.on(rule{call: step, nth: 1, fault: loseAnswer})
			c := f.client(recording)
			ctx := context.Background()
			e := f.exc("tx-a", "300.10", domain.Decision{Outcome: domain.Unmatched})
			if err := c.RecordExceptions(ctx, []connectors.Exception{e}); err != nil {
				t.Fatal(err)
			}
			if err := c.Apply(ctx, []connectors.KeyedDecision{f.settling("k-a", e, al(ids[0], "300.10", ""))}); err != nil {
				t.Fatalf("Apply: %v", err)
			}
			if n := f.px.count(step); n != 1 {
				t.Errorf("%s called %d times, want 1", step, n)
			}
			if got := f.states(ids[0]); got != "paid/0" || f.memos() != "" || !f.line("tx-a").Reconciled {
				t.Errorf("invoice %s, payments %q, line %s", got, f.memos(), f.lines("tx-a"))
			}
		})
	}
}

// settleAsAdmin does in Odoo, as its admin, what an accountant reconciling
// the line by hand would: the line's suspense item becomes a receivable
// item of invoice inv, reconciled with it.
func (f *fx) settleAsAdmin(tx string, inv string) {
	f.t.Helper()
	l := f.line(tx)
	var items []moveLine
	f.call(&items, "account.move.line", "search_read", []any{[]any{[]any{"move_id", "=", l.Move.ID}, []any{"account_id.code", "=", "512002"}}},
		map[string]any{"fields": moveLineFields})
	var recv []moveLine
	f.call(&recv, "account.move.line", "search_read", []any{[]any{[]any{"move_id", "=", atoi(inv)}, []any{"account_type", "=", "asset_receivable"}}},
		map[string]any{"fields": moveLineFields})
	f.call(nil, "account.move", "write", []any{[]int{l.Move.ID}, map[string]any{"line_ids": []any{
		[]any{1, items[0].ID, map[string]any{"account_id": recv[0].Account.ID, "partner_id": recv[0].Partner.ID, "name": "by hand"}}}}},
		map[string]any{"context": map[string]any{"skip_readonly_check": true}})
	f.call(nil, "account.move.line", "reconcile", []any{[]int{items[0].ID, recv[0].ID}}, nil)
}

// Settlement refusals: the line was reconciled by an accountant, or holds
// less cash than allocated, or Odoo refuses the write (a lock date).
func TestSettleRefusals(t *testing.T) {
	t.Parallel() // beside the other tests; each subtest borrows a database (newFx)
	tests := []struct {
		name        string
		prepare     func(f *fx, ids []string)
		alloc       func(ids []string) domain.Allocation
		errIs       error
		errContains string
	}{
		{name: "reconciled by someone else", prepare: func(f *fx, ids []string) { f.settleAsAdmin("tx-a", ids[1]) },
			alloc: func(ids []string) domain.Allocation { return al(ids[0], "100", "") }, errIs: ErrLineReconciled},
		{name: "more than the line", alloc: func(ids []string) domain.Allocation { return al(ids[2], "1250.00", "") },
			errIs: ErrLineTooSmall, errContains: "1250.00 > 300.10"},
		{name: "locked period", prepare: func(f *fx, ids []string) { f.lock("2026-11-30") },
			alloc: func(ids []string) domain.Allocation { return al(ids[0], "100", "") }, errContains: "lock date"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFx(t)
			ids := f.invoices(inv("Müller", "300.10"), inv("Dupont", "300.10"), inv("Dupont", "1250.00"), inv("Rossi", "500"))
			c := f.client(recording)
			ctx := context.Background()
			e := f.exc("tx-a", "300.10", domain.Decision{Outcome: domain.Unmatched})
			if err := c.RecordExceptions(ctx, []connectors.Exception{e}); err != nil {
				t.Fatal(err)
			}
			if tc.prepare != nil {
				tc.prepare(f, ids)
			}
			a := f.settling("k-a", e, tc.alloc(ids))
			other := f.kd("k-other", al(ids[3], "10", ""))
			other.Tx.Amount = domain.MustAmount("10")
			other.Tx.BookingDate = time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)
			err := c.Apply(ctx, []connectors.KeyedDecision{a, other})
			rej, only := connectors.Rejections(err)
			if !only || len(rej) != 1 || rej[0].Key != a.Key {
				t.Fatalf("Apply = %v; want k-a rejected alone", err)
			}
			if tc.errIs != nil && !errors.Is(err, tc.errIs) {
				t.Errorf("error %v is not %v", err, tc.errIs)
			}
			if !strings.Contains(err.Error(), tc.errContains) {
				t.Errorf("error %q does not contain %q", err, tc.errContains)
			}
			if got := f.states(ids[3]); got != "partial/490" || f.line("tx-k-other") == nil {
				t.Errorf("the other decision: invoice %s, line %s; want it written through its own line", got, f.lines("tx-k-other"))
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
	f := newFx(t)
	ids := f.invoices(inv("Dupont", "49.99"))
	c := f.client(func(c *Config) { recording(c); c.WriteOffAccount = "658000" })
	ctx := context.Background()
	e := f.exc("tx-a", "49.50", domain.Decision{Outcome: domain.Unmatched})
	if err := c.RecordExceptions(ctx, []connectors.Exception{e}); err != nil {
		t.Fatal(err)
	}
	if err := c.Apply(ctx, []connectors.KeyedDecision{f.settling("k-a", e, al(ids[0], "49.50", "0.49"))}); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if got := f.states(ids[0]); got != "paid/0" {
		t.Errorf("invoice = %s", got)
	}
	want := "2026-11-20|49.5|Dupont|" + dupontBank + "|rec=true|512001:49.5,411100:-49.99:lettrage:k-a:1/1,658000:0.49"
	if got := f.lines("tx-a"); got != want {
		t.Errorf("statement line:\n%s\nwant:\n%s", got, want)
	}
}

// An unknown journal is reported at setup.
func TestRecordExceptionsUnknownJournal(t *testing.T) {
	f := newFx(t)
	c := f.client(func(c *Config) { c.Journal = "NOPE"; c.RecordExceptions = true })
	err := c.RecordExceptions(context.Background(), []connectors.Exception{f.exc("tx-a", "1", domain.Decision{Outcome: domain.Unmatched})})
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), `finding journal "NOPE"`) {
		t.Errorf("RecordExceptions = %v, want journal not found", err)
	}
}

// Odoo refuses to reconcile the second item after the first was (its
// invoice was reset to draft meanwhile): the rejection says the decision
// is partly settled, and it is not reported applied.
func TestSettleRefusedInPart(t *testing.T) {
	f := newFx(t)
	ids := f.invoices(inv("Müller", "300.10"), inv("Rossi", "500"))
	c := f.client(recording)
	ctx := context.Background()
	e := f.exc("tx-a", "600", domain.Decision{Outcome: domain.Unmatched})
	if err := c.RecordExceptions(ctx, []connectors.Exception{e}); err != nil {
		t.Fatal(err)
	}
	f.px.on(rule{call: "account.move.line.reconcile", nth: 2, before: func() {
		f.call(nil, "account.move", "button_draft", []any{[]int{atoi(ids[1])}}, nil)
	}})
	a := f.settling("k-a", e, al(ids[0], "300.10", ""), al(ids[1], "200", ""))
	err := c.Apply(ctx, []connectors.KeyedDecision{a})
	rej, only := connectors.Rejections(err)
	if !only || len(rej) != 1 || !rej[0].Partial {
		t.Fatalf("Apply = %v; want k-a rejected as partial with Odoo's message", err)
	}
	t.Logf("Odoo said: %s", rej[0].Reason)
	if got := f.states(ids[0]); got != "paid/0" {
		t.Errorf("invoice = %s", got)
	}
	if got, _ := c.Applied(ctx, []string{a.Key}); got[a.Key] {
		t.Errorf("a partly settled decision is reported applied")
	}
}

// With record_exceptions, a transaction lettered at once is written to the
// bank journal too, as a statement line settled against its invoice: no
// payment. Its excess stays on the suspense account, and recording it as
// an exception later finds that line.
func TestApplyWritesLetteredLines(t *testing.T) {
	f := newFx(t)
	ids := f.invoices(inv("Müller", "300.10"))
	c := f.client(recording)
	ctx := context.Background()
	a := f.kd("k-a", al(ids[0], "300.10", ""))
	a.Tx.Amount = domain.MustAmount("320.10") // 20 more than the invoice: stays on suspense
	if err := c.Apply(ctx, []connectors.KeyedDecision{a}); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if err := c.Apply(ctx, []connectors.KeyedDecision{a}); err != nil {
		t.Fatalf("Apply again: %v", err)
	}
	want := "2026-11-20|320.1|Müller|||rec=false|512001:320.1,512002:-20,411100:-300.1:lettrage:k-a:1/1"
	if got := f.lines("tx-k-a"); got != want {
		t.Errorf("statement lines:\n%s\nwant:\n%s", got, want)
	}
	if got := f.states(ids[0]); got != "paid/0" || f.memos() != "" {
		t.Errorf("invoice %s, payments %q", got, f.memos())
	}
	if n := f.px.count("account.bank.statement.line.create"); n != 1 {
		t.Errorf("create called %d times, want 1", n)
	}
	if err := c.RecordExceptions(ctx, []connectors.Exception{{Tx: a.Tx, Decision: domain.Decision{Outcome: domain.Auto,
		Excess: domain.MustAmount("20.00")}}}); err != nil || f.px.count("account.bank.statement.line.create") != 1 {
		t.Errorf("RecordExceptions = %v; want the existing line only", err)
	}
	if got, _ := c.Applied(ctx, []string{a.Key}); !got[a.Key] {
		t.Errorf("Applied = %v, want k-a", got)
	}
}
