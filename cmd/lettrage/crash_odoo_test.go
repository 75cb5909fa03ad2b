package main

import (
	"fmt"
	"math/big"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lettrage/lettrage/connectors/ledger/odoo"
	"github.com/lettrage/lettrage/internal/testenv"
)

// TestCrashLoopOdoo: see crash_ledgers_test.go. A real Odoo 17 (account,
// l10n_fr) with record_exceptions, as deploy/examples/odoo.yaml: every
// credit becomes a bank statement line of BNK1, exceptions stay open on
// the suspense account, letters settle their line in place.
func TestCrashLoopOdoo(t *testing.T) {
	t.Parallel() // beside the other Odoo tests (odoo_e2e_test.go)
	n, seed := crashIterations(t, 8)
	db := sharedOdoo(t).Database(t)
	runCrashLoop(t, &odooCrash{db: db, record: true, ids: map[string]int{}}, n, seed)
}

// TestCrashLoopOdooPayments: the same in payments mode (one account.payment
// per allocation; exceptions stay in Lettrage's reports).
func TestCrashLoopOdooPayments(t *testing.T) {
	t.Parallel()
	n, seed := crashIterations(t, 6)
	db := sharedOdoo(t).Database(t)
	runCrashLoop(t, &odooCrash{db: db, ids: map[string]int{}}, n, seed)
}

type odooCrash struct {
	db     *testenv.OdooDB
	record bool
	ids    map[string]int // invoice label → id
}

func (l *odooCrash) block() string {
	return fmt.Sprintf(`      type: odoo
      odoo:
        url: %s
        database: %s
        user: %s
        api_key: %s
        journal: %s
        write_off_account: "658000"
        record_exceptions: %v`, l.db.URL, l.db.Name, testenv.OdooUser, l.db.APIKey, testenv.OdooBankJournal, l.record)
}

func (l *odooCrash) stateBlock(string) string {
	return "state: {driver: sqlite, sqlite: {path: out/state.db}}"
}

func (l *odooCrash) addInvoices(t *testing.T, invs []crashInvoice) {
	t.Helper()
	var specs []testenv.OdooInvoice
	for _, inv := range invs {
		specs = append(specs, testenv.OdooInvoice{Partner: inv.Party, Amount: inv.Amount, Reference: inv.RF,
			Date: time.Date(2026, 1, 15, 0, 0, 0, 0, time.UTC)})
	}
	ids, err := l.db.Invoices(specs...)
	if err != nil {
		t.Fatalf("adding invoices: %v", err)
	}
	for i, inv := range invs {
		l.ids[inv.Label] = ids[i]
	}
}

func (l *odooCrash) failpoints() []string {
	if l.record {
		return []string{odoo.FailAfterLines, odoo.FailAfterSettleWrite}
	}
	return []string{odoo.FailAfterPayment}
}

func (l *odooCrash) call(t *testing.T, out any, model, method string, args []any, kwargs map[string]any) {
	t.Helper()
	if err := l.db.Call(out, model, method, args, kwargs); err != nil {
		t.Fatal(err)
	}
}

// odooCents reads an Odoo float (JSON text) as cents, exactly.
func odooCents(t *testing.T, n any) int64 {
	t.Helper()
	r, ok := new(big.Rat).SetString(fmt.Sprint(n))
	if !ok {
		t.Fatalf("not a number: %v", n)
	}
	r.Mul(r, big.NewRat(100, 1))
	c, err := strconv.ParseInt(r.FloatString(0), 10, 64) // rounded half away from zero
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (l *odooCrash) verify(t *testing.T, sc *crashScenario, want crashExpected) {
	t.Helper()
	// 1. Every invoice owes exactly what it should.
	labels := make([]string, 0, len(want.Residual))
	byID := map[int]string{}
	for label := range want.Residual {
		labels = append(labels, label)
		byID[l.ids[label]] = label
	}
	sort.Strings(labels)
	for _, label := range labels {
		var r []struct {
			Residual any    `json:"amount_residual"`
			State    string `json:"payment_state"`
		}
		l.call(t, &r, "account.move", "read", []any{[]int{l.ids[label]}}, map[string]any{"fields": []string{"amount_residual", "payment_state"}})
		got := odooCents(t, r[0].Residual)
		wantState := "partial"
		switch want.Residual[label] {
		case 0:
			wantState = "paid"
		case mustCents(sc.Invoices[label].Amount):
			wantState = "not_paid"
		}
		if got != want.Residual[label] || r[0].State != wantState {
			t.Errorf("invoice %s: %s to pay (%s), want %s (%s)", label, cents(got), r[0].State, cents(want.Residual[label]), wantState)
		}
	}
	// 2. Lettrage's payments.
	var pays []struct {
		ID       int    `json:"id"`
		Ref      any    `json:"ref"`
		Amount   any    `json:"amount"`
		State    string `json:"state"`
		Invoices []int  `json:"reconciled_invoice_ids"`
	}
	l.call(t, &pays, "account.payment", "search_read", []any{[]any{[]any{"ref", "=like", "lettrage:%"}}},
		map[string]any{"fields": []string{"ref", "amount", "state", "reconciled_invoice_ids"}})
	if l.record {
		for _, p := range pays {
			t.Errorf("payment %v registered with record_exceptions: the cash is on the statement lines", p.Ref)
		}
		l.verifyLines(t, want)
		return
	}
	// Payments mode: each lettered invoice paid by exactly one posted
	// payment of exactly its amount, under one decision key.
	paid := map[string]int64{}
	count := map[string]int{}
	for _, p := range pays {
		if p.State != "posted" {
			continue
		}
		if len(p.Invoices) != 1 || byID[p.Invoices[0]] == "" {
			t.Errorf("payment %v (%v) reconciled with %v, want one invoice of the scenario", p.Ref, p.Amount, p.Invoices)
			continue
		}
		label := byID[p.Invoices[0]]
		paid[label] += odooCents(t, p.Amount)
		count[label]++
	}
	for _, it := range sc.Iterations {
		for _, tx := range it.Txs {
			amt, ok := want.Lettered[tx.Ref]
			if !ok {
				continue
			}
			if paid[tx.Invoice] != amt || count[tx.Invoice] != 1 {
				t.Errorf("payment %s: %s paid on invoice %s in %d Odoo payments, want %s in one", tx.Ref, cents(paid[tx.Invoice]),
					tx.Invoice, count[tx.Invoice], cents(amt))
			}
			delete(paid, tx.Invoice)
		}
	}
	for label, amt := range paid {
		t.Errorf("invoice %s paid %s but no payment of the scenario is for it", label, cents(amt))
	}
	var lines []int
	l.call(t, &lines, "account.bank.statement.line", "search", []any{[]any{}}, nil)
	if len(lines) != 0 {
		t.Errorf("%d statement lines written in payments mode", len(lines))
	}
	t.Logf("odoo (payments): %d invoices, %d payments checked", len(want.Residual), len(pays))
}

// verifyLines checks the bank statement lines of record_exceptions mode.
func (l *odooCrash) verifyLines(t *testing.T, want crashExpected) {
	t.Helper()
	var lines []struct {
		ID         int    `json:"id"`
		Ref        string `json:"payment_ref"`
		Amount     any    `json:"amount"`
		Reconciled bool   `json:"is_reconciled"`
		Move       []any  `json:"move_id"`
	}
	l.call(t, &lines, "account.bank.statement.line", "search_read", []any{[]any{}},
		map[string]any{"fields": []string{"payment_ref", "amount", "is_reconciled", "move_id"}})
	type item struct {
		Move    []any  `json:"move_id"`
		Account []any  `json:"account_id"`
		Balance any    `json:"balance"`
		Name    any    `json:"name"`
		Rec     bool   `json:"reconciled"`
		Code    string `json:"-"`
	}
	var items []item
	l.call(t, &items, "account.move.line", "search_read", []any{[]any{[]any{"statement_line_id", "!=", false}}},
		map[string]any{"fields": []string{"move_id", "account_id", "balance", "name", "reconciled"}})
	byMove := map[int][]item{}
	var bank, suspense int64
	for _, it := range items {
		mv, _ := strconv.Atoi(fmt.Sprint(it.Move[0]))
		it.Code = strings.Fields(fmt.Sprint(it.Account[1]))[0]
		byMove[mv] = append(byMove[mv], it)
		switch it.Code {
		case "512001":
			bank += odooCents(t, it.Balance)
		case "512002":
			suspense += odooCents(t, it.Balance)
		}
	}
	seen := map[string]int{}
	for _, ln := range lines {
		f := strings.Fields(ln.Ref)
		if len(f) < 2 || !strings.HasPrefix(f[0], "lettrage:exc-") {
			t.Errorf("line %d (%q) is not Lettrage's", ln.ID, ln.Ref)
			continue
		}
		ref := strings.TrimSuffix(f[1], "A")
		seen[ref]++
		amt := odooCents(t, ln.Amount)
		mv, _ := strconv.Atoi(fmt.Sprint(ln.Move[0]))
		var lettered int64
		keys := map[string]bool{}
		for _, it := range byMove[mv] {
			name := fmt.Sprint(it.Name)
			if strings.HasPrefix(name, "lettrage:") && !strings.HasPrefix(name, "lettrage:exc-") {
				lettered -= odooCents(t, it.Balance)
				keys[name[:strings.LastIndexByte(name, ':')]] = true
				if !it.Rec {
					t.Errorf("line of %s: item %s not reconciled", ref, name)
				}
			}
		}
		switch {
		case want.Lettered[ref] != 0:
			if amt != want.Lettered[ref] || lettered != amt || len(keys) != 1 || !ln.Reconciled {
				t.Errorf("payment %s: line of %s, %s lettered under %d keys (reconciled %v); want %s once, under one key",
					ref, cents(amt), cents(lettered), len(keys), ln.Reconciled, cents(want.Lettered[ref]))
			}
			if !strings.Contains(ln.Ref, "(lettered: ") {
				t.Errorf("payment %s: the settled line reads %q", ref, ln.Ref)
			}
		case want.Exceptions[ref] != 0:
			if amt != want.Exceptions[ref] || lettered != 0 || ln.Reconciled {
				t.Errorf("exception %s: line of %s, %s lettered (reconciled %v); want an open line of %s",
					ref, cents(amt), cents(lettered), ln.Reconciled, cents(want.Exceptions[ref]))
			}
		default:
			t.Errorf("line %d for %s, which is no credit of the scenario", ln.ID, ref)
		}
	}
	for ref := range want.Lettered {
		if seen[ref] != 1 {
			t.Errorf("payment %s on %d statement lines, want 1", ref, seen[ref])
		}
	}
	var exc int64
	for ref, amt := range want.Exceptions {
		exc += amt
		if seen[ref] != 1 {
			t.Errorf("exception %s on %d statement lines, want 1", ref, seen[ref])
		}
	}
	if bank != want.Credits {
		t.Errorf("bank account 512001 balance %s, want %s (every credit once)", cents(bank), cents(want.Credits))
	}
	if suspense != -exc {
		t.Errorf("suspense account 512002 balance %s, want -%s (the open exceptions)", cents(suspense), cents(exc))
	}
	t.Logf("odoo (record_exceptions): %d invoices, %d statement lines, %d items checked", len(want.Residual), len(lines), len(items))
}
