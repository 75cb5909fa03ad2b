package tryton

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/lettrage/lettrage/connectors"
	"github.com/lettrage/lettrage/domain"
)

// pd is a resolved decision of postings only (the accountant's
// on_account or write_off), for a transaction carrying their cash.
func pd(key string, postings ...domain.Posting) connectors.KeyedDecision {
	d := kd(key, booked)
	d.Decision.Rule = "manual:" + string(postings[0].Kind)
	d.Decision.Postings = postings
	for _, p := range postings {
		d.Tx.Amount = d.Tx.Amount.Add(p.Amount)
	}
	return d
}

func onAccount(customer, amount string) domain.Posting {
	return domain.Posting{Kind: domain.OnAccount, CustomerID: customer, Amount: domain.MustAmount(amount)}
}

func writeOff(amount, reason string) domain.Posting {
	return domain.Posting{Kind: domain.WriteOffPosting, Amount: domain.MustAmount(amount), Reason: reason}
}

// partyReceivable reads what a party owes on its receivable account, from
// Tryton itself (negative: a credit in the customer's favour).
func partyReceivable(t *testing.T, party string) string {
	t.Helper()
	var r []struct {
		Receivable Decimal `json:"receivable"`
	}
	if err := server.Call(&r, "model.party.party.read", []int{seed.Parties[party]}, []string{"receivable"}); err != nil || len(r) != 1 {
		t.Fatalf("reading the receivable of %s: %v", party, err)
	}
	return r[0].Receivable.Key()
}

// customerOf is the customer id the ledger gives the invoice label in its
// open items: what the pipeline puts in Posting.CustomerID.
func customerOf(t *testing.T, c *Client, label string) string {
	t.Helper()
	items, err := c.OpenItems(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		if it.ID == inv(label) {
			return it.CustomerID
		}
	}
	t.Fatalf("invoice %s not open", label)
	return ""
}

func plus(a, b string) string { return domain.MustAmount(a).Add(domain.MustAmount(b)).Key() }

func TestOnAccountCreditsTheCustomer(t *testing.T) {
	tryton(t)
	ctx := context.Background()
	c := newClient(t, nil)
	cust := customerOf(t, c, "V")
	cash := cashAccount(t)
	cashBefore := balance(t, cash)
	if got := partyReceivable(t, "Garnier SAS"); got != "200" {
		t.Fatalf("Garnier SAS owes %s before, want 200 (invoice V)", got)
	}
	before := statementCount(t)
	d := pd("p-onacc", onAccount(cust, "75.00"))
	for round := 0; round < 2; round++ { // the second time writes nothing
		if err := c.Apply(ctx, []connectors.KeyedDecision{d}); err != nil {
			t.Fatalf("Apply (round %d): %v", round, err)
		}
		if got := partyReceivable(t, "Garnier SAS"); got != "125" {
			t.Errorf("round %d: Garnier SAS owes %s, want 125 (200 less 75 on account)", round, got)
		}
		if n := statementCount(t); n != before+1 {
			t.Errorf("round %d: %d statements, want %d", round, n, before+1)
		}
	}
	if got, want := balance(t, cash), plus(cashBefore, "75"); got != want {
		t.Errorf("cash = %s, want %s", got, want)
	}
	// The invoice stays open: the credit is there for the accountants (or
	// a later payment run) to use.
	if got := states(t, "V"); got != "V=posted/200" {
		t.Errorf("invoice V = %s", got)
	}
	applied, err := c.Applied(ctx, []string{"p-onacc"})
	if err != nil || !applied["p-onacc"] {
		t.Errorf("Applied = %v, %v; want p-onacc", applied, err)
	}
	lines, err := c.linesOf(ctx, [][]any{{"number", "=", "p-onacc"}})
	if err != nil || len(lines) != 1 {
		t.Fatalf("lines of p-onacc = %+v, %v", lines, err)
	}
	l := lines[0]
	if l.StmtRel.State != "posted" || l.Party == nil || *l.Party != seed.Parties["Garnier SAS"] || l.Account != seed.Receivable ||
		l.Invoice != nil || l.Amount.Key() != "75" || !strings.HasPrefix(l.Description, "lettrage on_account: REF-p-onacc") {
		t.Errorf("line of p-onacc = %+v", l)
	}
	moves, err := c.moveLinesOf(ctx, lines)
	if err != nil {
		t.Fatal(err)
	}
	if ml := moves[l.ID]; ml.Account != seed.Receivable || ml.Party == nil || *ml.Party != seed.Parties["Garnier SAS"] || ml.Reconciliation != nil {
		t.Errorf("move line of p-onacc = %+v, want an open line of the party on its receivable", ml)
	}
}

func TestWriteOffPosting(t *testing.T) {
	tryton(t)
	ctx := context.Background()
	d := pd("p-wo", writeOff("3.20", "unidentified\nsmall"))
	before := statementCount(t)

	// Without a write-off account: refused, with what to configure.
	err := newClient(t, nil).Apply(ctx, []connectors.KeyedDecision{d})
	rej, only := connectors.Rejections(err)
	if !only || len(rej) != 1 || rej[0].Key != "p-wo" || !errors.Is(err, ErrNoWriteOffAccount) ||
		!strings.Contains(rej[0].Reason, "write_off_account is not configured in the Tryton ledger") {
		t.Fatalf("Apply without write_off_account = %v; want the rejection of p-wo naming write_off_account", err)
	}
	if n := statementCount(t); n != before {
		t.Errorf("statements = %d, want %d: a refusal writes nothing", n, before)
	}

	// With one: booked there, the reason code on the line.
	c := newClient(t, func(c *Config) { c.WriteOffAccount = "Main Expense" })
	expBefore := balance(t, seed.Expense)
	for round := 0; round < 2; round++ {
		if err := c.Apply(ctx, []connectors.KeyedDecision{d}); err != nil {
			t.Fatalf("Apply (round %d): %v", round, err)
		}
	}
	if n := statementCount(t); n != before+1 {
		t.Errorf("statements = %d, want %d", n, before+1)
	}
	if got, want := balance(t, seed.Expense), plus(expBefore, "-3.20"); got != want {
		t.Errorf("write-off account = %s, want %s (3.20 credited)", got, want)
	}
	lines, err := c.linesOf(ctx, [][]any{{"number", "=", "p-wo"}})
	if err != nil || len(lines) != 1 || lines[0].Account != seed.Expense || lines[0].Party != nil ||
		lines[0].Description != "lettrage write_off: unidentified small REF-p-wo Payer manual:write_off" {
		t.Errorf("lines of p-wo = %+v, %v", lines, err)
	}
	if applied, err := c.Applied(ctx, []string{"p-wo"}); err != nil || !applied["p-wo"] {
		t.Errorf("Applied = %v, %v", applied, err)
	}
}

// Postings Tryton cannot take are refused one by one, with the reason;
// the rest of the batch is written.
func TestPostingRefusals(t *testing.T) {
	tryton(t)
	ctx := context.Background()
	c := newClient(t, nil)
	cust := customerOf(t, c, "AA")
	batch := []connectors.KeyedDecision{
		pd("pr-ok", onAccount(cust, "8.00")),
		pd("pr-wo", writeOff("1.00", "rounding")),
		pd("pr-letters", onAccount("Petit SARL", "1.00")),
		pd("pr-noparty", onAccount("999999", "1.00")),
		pd("pr-zero", onAccount(cust, "0")),
		pd("pr-kind", domain.Posting{Kind: "donation", Amount: domain.MustAmount("1")}),
		pd("pr-disc", domain.Posting{Kind: domain.CashDiscountPosting, CustomerID: cust, ItemID: "1", Account: "665",
			Amount: domain.MustAmount("1")}),
	}
	// An allocation that is fine does not carry a refused posting through.
	mixed := kd("pr-mixed", booked, al(inv("AA"), "33.00", ""))
	mixed.Decision.Postings = []domain.Posting{writeOff("0.50", "bank_fee")}
	batch = append(batch, mixed)
	before := statementCount(t)
	err := c.Apply(ctx, batch)
	rej, only := connectors.Rejections(err)
	if !only {
		t.Fatalf("Apply = %v; want rejections only", err)
	}
	want := map[string]string{
		"pr-wo":      "write_off posting: write_off_account is not configured in the Tryton ledger: set write_off_account",
		"pr-letters": `customer "Petit SARL" is not a Tryton party id`,
		"pr-noparty": "party 999999: not found",
		"pr-zero":    "the amount is zero",
		"pr-kind":    `unknown kind "donation"`,
		"pr-disc":    "the Tryton ledger does not write cash discounts yet",
		"pr-mixed":   "write_off_account is not configured",
	}
	got := map[string]string{}
	for _, r := range rej {
		got[r.Key] = r.Reason
		if !errors.Is(r, ErrBadPosting) && !errors.Is(r, ErrNoWriteOffAccount) {
			t.Errorf("rejection of %s wraps neither ErrBadPosting nor ErrNoWriteOffAccount: %v", r.Key, r)
		}
	}
	if len(got) != len(want) {
		t.Errorf("rejected %v, want %d keys", got, len(want))
	}
	for k, frag := range want {
		if !strings.Contains(got[k], frag) {
			t.Errorf("rejection of %s = %q, want it to contain %q", k, got[k], frag)
		}
	}
	if n := statementCount(t); n != before+1 {
		t.Errorf("statements = %d, want %d (pr-ok alone)", n, before+1)
	}
	if got := states(t, "AA") + " " + partyReceivable(t, "Petit SARL"); got != "AA=posted/33 25" {
		t.Errorf("invoice and receivable = %s, want AA untouched and 8 on account", got)
	}
	keys := make([]string, len(batch))
	for i, d := range batch {
		keys[i] = d.Key
	}
	applied, err := c.Applied(ctx, keys)
	if err != nil || len(applied) != 1 || !applied["pr-ok"] {
		t.Errorf("Applied = %v, %v; want only pr-ok", applied, err)
	}
}

func TestAllocationAndOnAccountInOneDecision(t *testing.T) {
	tryton(t)
	ctx := context.Background()
	c := newClient(t, nil)
	cust := customerOf(t, c, "W")
	cash := cashAccount(t)
	cashBefore := balance(t, cash)
	d := kd("p-mix", booked, al(inv("W"), "150.00", ""))
	d.Tx.Amount = domain.MustAmount("180.00")
	d.Decision.Rule = "manual:on_account"
	d.Decision.Postings = []domain.Posting{onAccount(cust, "30.00")}
	for round := 0; round < 2; round++ {
		if err := c.Apply(ctx, []connectors.KeyedDecision{d}); err != nil {
			t.Fatalf("Apply (round %d): %v", round, err)
		}
	}
	if got := states(t, "W") + " " + partyReceivable(t, "Moreau SARL"); got != "W=paid/0 -30" {
		t.Errorf("after apply: %s, want W paid and 30 in Moreau's favour", got)
	}
	if got, want := balance(t, cash), plus(cashBefore, "180"); got != want {
		t.Errorf("cash = %s, want %s", got, want)
	}
	if applied, err := c.Applied(ctx, []string{"p-mix"}); err != nil || !applied["p-mix"] {
		t.Errorf("Applied = %v, %v", applied, err)
	}
}

// A lettering with an on-account part and a write-off, then a decision of
// postings only: unlettering puts every account back as it was, and the
// customer's on-account line is reconciled with its mirror.
func TestUnletterPostings(t *testing.T) {
	tryton(t)
	ctx := context.Background()
	c := newClient(t, func(c *Config) { c.WriteOffAccount = "Main Expense" })
	cust := customerOf(t, c, "Z")
	cash := cashAccount(t)
	snapshot := func() string {
		return fmt.Sprintf("%s roux=%s cash=%s expense=%s", states(t, "Z"), partyReceivable(t, "Roux SA"),
			balance(t, cash), balance(t, seed.Expense))
	}
	start := snapshot()
	cash0, exp0 := balance(t, cash), balance(t, seed.Expense)

	d := kd("p-unl", booked, al(inv("Z"), "60.00", ""))
	d.Tx.Amount = domain.MustAmount("86.50")
	d.Decision.Rule = "manual:on_account"
	d.Decision.Postings = []domain.Posting{onAccount(cust, "25.00"), writeOff("1.50", "bank_fee")}
	if err := c.Apply(ctx, []connectors.KeyedDecision{d}); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	want := fmt.Sprintf("Z=paid/0 roux=-25 cash=%s expense=%s", plus(cash0, "86.50"), plus(exp0, "-1.50"))
	if got := snapshot(); got != want {
		t.Fatalf("after apply: %s, want %s", got, want)
	}
	before := statementCount(t)
	r := rev("unl-p-unl", d)
	r.Postings = d.Decision.Postings
	for i := 0; i < 2; i++ {
		if err := c.Unletter(ctx, r); err != nil {
			t.Fatalf("Unletter %d: %v", i, err)
		}
		if got := snapshot(); got != start {
			t.Errorf("after unletter %d: %s, want %s", i, got, start)
		}
		if n := statementCount(t); n != before+1 {
			t.Errorf("after unletter %d: %d statements, want %d", i, n, before+1)
		}
	}
	got := receivableLines(t, c, "p-unl", "unl-p-unl")
	rec := ""
	for _, g := range got {
		parts := strings.Split(g, ":")
		if parts[2] == "0" || (rec != "" && parts[2] != rec) {
			t.Errorf("receivable line %s is not in the one reconciliation %s", g, rec)
		}
		rec = parts[2]
	}
	if len(got) != 4 {
		t.Errorf("receivable lines = %q, want 4 (60 and 25; their mirrors)", got)
	}
	if applied, err := c.Applied(ctx, []string{"unl-p-unl"}); err != nil || !applied["unl-p-unl"] {
		t.Errorf("Applied = %v, %v", applied, err)
	}

	// Postings only.
	only := pd("p-unl-only", onAccount(cust, "10.00"))
	if err := c.Apply(ctx, []connectors.KeyedDecision{only}); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if got := partyReceivable(t, "Roux SA"); got != "50" {
		t.Errorf("Roux SA owes %s after 10 on account, want 50", got)
	}
	if err := c.Unletter(ctx, rev("unl-p-unl-only", only)); err != nil {
		t.Fatalf("Unletter: %v", err)
	}
	if got := snapshot(); got != start {
		t.Errorf("after unlettering the postings: %s, want %s", got, start)
	}
}

// An on-account credit the accountants used in Tryton (reconciled with an
// invoice) cannot be unlettered behind their back.
func TestUnletterRefusesAUsedCredit(t *testing.T) {
	tryton(t)
	ctx := context.Background()
	c := newClient(t, nil)
	d := pd("p-used", onAccount(customerOf(t, c, "X"), "40.00"))
	if err := c.Apply(ctx, []connectors.KeyedDecision{d}); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	lines, err := c.linesOf(ctx, [][]any{{"number", "=", "p-used"}})
	if err != nil || len(lines) != 1 {
		t.Fatalf("lines = %v, %v", lines, err)
	}
	moves, err := c.moveLinesOf(ctx, lines)
	if err != nil {
		t.Fatal(err)
	}
	var x []invoiceRow
	if err := server.Call(&x, "model.account.invoice.read", []int{seed.Invoices["X"]}, []string{"lines_to_pay"}); err != nil || len(x) != 1 {
		t.Fatalf("reading invoice X: %v", err)
	}
	// The accountant reconciles the credit with invoice X in Tryton.
	if err := server.Call(nil, "model.account.move.reconciliation.create", []map[string]any{{"company": seed.Company,
		"date": Date{booked}, "lines": []any{[]any{"add", append(x[0].LinesToPay, moves[lines[0].ID].ID)}}}}); err != nil {
		t.Fatalf("reconciling the credit with invoice X: %v", err)
	}
	before := statementCount(t)
	err = c.Unletter(ctx, rev("unl-p-used", d))
	var re *connectors.RejectedError
	if !errors.Is(err, ErrCreditUsed) || !errors.As(err, &re) || re.Key != "unl-p-used" || !strings.Contains(re.Reason, "already reconciled") {
		t.Fatalf("Unletter = %v; want a rejection wrapping ErrCreditUsed", err)
	}
	if n := statementCount(t); n != before {
		t.Errorf("statements = %d, want %d: a rejection writes nothing", n, before)
	}
	if applied, err := c.Applied(ctx, []string{"unl-p-used"}); err != nil || applied["unl-p-used"] {
		t.Errorf("Applied = %v, %v; want nothing", applied, err)
	}
}

// Cash first booked on the suspense account, then put on the customer's
// account: it moves from suspense — the bank holds it once — and
// unlettering puts it back on suspense.
func TestSuspenseThenOnAccount(t *testing.T) {
	tryton(t)
	ctx := context.Background()
	c := newClient(t, func(c *Config) { c.SuspenseAccount = "471" })
	cust := customerOf(t, c, "Y")
	cash := cashAccount(t)
	cash0, susp0 := balance(t, cash), balance(t, seed.Suspense)
	tx := domain.Transaction{Key: "FR76-SUSP-ONACC", Ref: "SUSP-ONACC", Currency: "EUR", Credit: true, Status: "BOOK",
		Amount: domain.MustAmount("90.00"), BookingDate: booked, Counterparty: domain.Party{Name: "Faure SARL"}}
	if err := c.RecordExceptions(ctx, []connectors.Exception{{Tx: tx, Decision: domain.Decision{Outcome: domain.Unmatched}}}); err != nil {
		t.Fatal(err)
	}
	snapshot := func() string {
		return fmt.Sprintf("faure=%s cash=%s suspense=%s", partyReceivable(t, "Faure SARL"), balance(t, cash), balance(t, seed.Suspense))
	}
	onSuspense := fmt.Sprintf("faure=15 cash=%s suspense=%s", plus(cash0, "90"), plus(susp0, "-90"))
	if got := snapshot(); got != onSuspense {
		t.Fatalf("after RecordExceptions: %s, want %s", got, onSuspense)
	}
	d := pd("p-susp", onAccount(cust, "90.00"))
	d.Tx = tx
	for round := 0; round < 2; round++ {
		if err := c.Apply(ctx, []connectors.KeyedDecision{d}); err != nil {
			t.Fatalf("Apply (round %d): %v", round, err)
		}
	}
	if got, want := snapshot(), fmt.Sprintf("faure=-75 cash=%s suspense=%s", plus(cash0, "90"), susp0); got != want {
		t.Errorf("after on account: %s, want %s (the 90 moved from suspense, not booked again)", got, want)
	}
	if err := c.Unletter(ctx, rev("unl-p-susp", d)); err != nil {
		t.Fatalf("Unletter: %v", err)
	}
	if got := snapshot(); got != onSuspense {
		t.Errorf("after unletter: %s, want %s (the 90 back on suspense)", got, onSuspense)
	}
}
