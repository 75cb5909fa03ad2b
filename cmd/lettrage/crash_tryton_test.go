package main

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/lettrage/lettrage/connectors/ledger/tryton"
	"github.com/lettrage/lettrage/internal/testenv"
)

// TestCrashLoopTryton: see crash_ledgers_test.go.
func TestCrashLoopTryton(t *testing.T) {
	n, seed := crashIterations(t, 12)
	tr := testenv.StartTryton(t)
	s, err := tr.Seed(2026, nil)
	if err != nil {
		t.Fatalf("seeding Tryton: %v\n%s", err, tr.LogTail())
	}
	runCrashLoop(t, &trytonCrash{tr: tr, seed: s}, n, seed)
}

type trytonCrash struct {
	tr   *testenv.Tryton
	seed *testenv.TrytonSeed
}

func (l *trytonCrash) block() string {
	return fmt.Sprintf(`      type: tryton
      tryton:
        url: %s
        database: %s
        user: %s
        password: %s
        journal: %s
        suspense_account: "471"`, l.tr.URL, l.tr.Database, l.tr.User, l.tr.Password, l.seed.StatementJournal)
}

func (l *trytonCrash) stateBlock(string) string {
	return "state: {driver: sqlite, sqlite: {path: out/state.db}}"
}

func (l *trytonCrash) addInvoices(t *testing.T, invs []crashInvoice) {
	t.Helper()
	var seed []testenv.SeedInvoice
	for _, inv := range invs {
		seed = append(seed, testenv.SeedInvoice{Label: inv.Label, Party: inv.Party, Amount: inv.Amount, Reference: inv.RF,
			Date: time.Date(2026, 1, 15, 0, 0, 0, 0, time.UTC)})
	}
	if err := l.tr.AddInvoices(l.seed, 2026, seed); err != nil {
		t.Fatalf("adding invoices: %v", err)
	}
}

func (l *trytonCrash) failpoints() []string {
	return []string{tryton.FailAfterCreate, tryton.FailAfterValidate, tryton.FailExceptionsAfterCreate}
}

// txRefOf reads the transaction reference back from a line description:
// "lettrage <ref> …" or "lettrage unlettered <ref> …".
func txRefOf(desc string) (ref string, suspenseIn, suspenseOut bool) {
	f := strings.Fields(desc)
	if len(f) >= 3 && f[0] == "lettrage" && f[1] == "unlettered" {
		return strings.TrimSuffix(f[2], "A"), true, false
	}
	if len(f) >= 2 && f[0] == "lettrage" {
		return strings.TrimSuffix(f[1], "A"), false, strings.Contains(desc, " from suspense ")
	}
	return "", false, false
}

func (l *trytonCrash) verify(t *testing.T, sc *crashScenario, want crashExpected) {
	t.Helper()
	call := func(out any, method string, params ...any) {
		t.Helper()
		if err := l.tr.Call(out, method, params...); err != nil {
			t.Fatalf("%s: %v", method, err)
		}
	}
	// 1. Every invoice owes exactly what it should.
	labels := make([]string, 0, len(want.Residual))
	for label := range want.Residual {
		labels = append(labels, label)
	}
	sort.Strings(labels)
	for _, label := range labels {
		var r []struct {
			State       string         `json:"state"`
			AmountToPay tryton.Decimal `json:"amount_to_pay"`
		}
		call(&r, "model.account.invoice.read", []int{l.seed.Invoices[label]}, []string{"state", "amount_to_pay"})
		got := mustCents(r[0].AmountToPay.StringFixed(2))
		wantState := "posted"
		if want.Residual[label] == 0 {
			wantState = "paid"
		}
		if got != want.Residual[label] || r[0].State != wantState {
			t.Errorf("invoice %s: %s to pay (%s), want %s (%s)", label, cents(got), r[0].State, cents(want.Residual[label]), wantState)
		}
	}
	// 2. Every statement is posted: none left half-done, none refused.
	var stmts []struct {
		ID    int    `json:"id"`
		State string `json:"state"`
	}
	call(&stmts, "model.account.statement.search_read", [][]any{}, 0, nil, nil, []string{"state"})
	for _, s := range stmts {
		if s.State != "posted" {
			t.Errorf("statement %d is %s", s.ID, s.State)
		}
	}
	// 3. Lines: each payment once, on one statement; suspense in and out.
	var lines []struct {
		ID          int            `json:"id"`
		Number      string         `json:"number"`
		Amount      tryton.Decimal `json:"amount"`
		Invoice     *int           `json:"invoice"`
		Account     int            `json:"account"`
		Statement   int            `json:"statement"`
		Description string         `json:"description"`
	}
	call(&lines, "model.account.statement.line.search_read", [][]any{}, 0, nil, nil,
		[]string{"number", "amount", "invoice", "account", "statement", "description"})
	applied := map[string]int64{}
	numbers := map[string]map[string]bool{}
	stmtOf := map[string]map[int]bool{}
	suspIn := map[string][]int64{}
	suspOut := map[string]int64{}
	for _, ln := range lines {
		ref, in, out := txRefOf(ln.Description)
		amt := mustCents(ln.Amount.Abs().StringFixed(2))
		if ln.Amount.Sign() < 0 {
			amt = -amt
		}
		switch {
		case ref == "":
			t.Errorf("line %d (%q) is not Lettrage's", ln.ID, ln.Description)
		case in:
			if ln.Account != l.seed.Suspense || !strings.HasPrefix(ln.Number, "exc-") {
				t.Errorf("suspense line %d: account %d number %q", ln.ID, ln.Account, ln.Number)
			}
			suspIn[ref] = append(suspIn[ref], amt)
		case out:
			if ln.Account != l.seed.Suspense {
				t.Errorf("line %d from suspense is on account %d", ln.ID, ln.Account)
			}
			suspOut[ref] += amt
		case ln.Invoice != nil:
			applied[ref] += amt
			if numbers[ref] == nil {
				numbers[ref] = map[string]bool{}
			}
			numbers[ref][ln.Number] = true
			if stmtOf[ln.Number] == nil {
				stmtOf[ln.Number] = map[int]bool{}
			}
			stmtOf[ln.Number][ln.Statement] = true
		default:
			t.Errorf("unexpected line %d: %q", ln.ID, ln.Description)
		}
	}
	for ref, amt := range want.Lettered {
		if applied[ref] != amt {
			t.Errorf("payment %s: %s applied to invoices in Tryton, want %s exactly once", ref, cents(applied[ref]), cents(amt))
		}
		if len(numbers[ref]) != 1 {
			t.Errorf("payment %s written under %d decision keys, want 1", ref, len(numbers[ref]))
		}
		delete(applied, ref)
	}
	for ref, amt := range applied {
		t.Errorf("payment %s applied (%s) but should not be", ref, cents(amt))
	}
	for number, ss := range stmtOf {
		if len(ss) != 1 {
			t.Errorf("decision %s is on %d statements", number, len(ss))
		}
	}
	for ref, amt := range want.Exceptions {
		if len(suspIn[ref]) != 1 || suspIn[ref][0] != amt {
			t.Errorf("exception %s on suspense: %v, want once %s", ref, suspIn[ref], cents(amt))
		}
		delete(suspIn, ref)
	}
	for ref := range want.FromSusp {
		amt := want.Lettered[ref]
		if len(suspIn[ref]) != 1 || suspIn[ref][0] != amt || suspOut[ref] != -amt {
			t.Errorf("late payment %s: suspense in %v, out %s; want in and out %s once", ref, suspIn[ref], cents(suspOut[ref]), cents(amt))
		}
		delete(suspIn, ref)
		delete(suspOut, ref)
	}
	for ref, v := range suspIn {
		t.Errorf("%s booked on suspense (%v) but is no exception", ref, v)
	}
	for ref, v := range suspOut {
		t.Errorf("%s taken from suspense (%s) but never was there", ref, cents(v))
	}
	// 4. The bank holds every credit once; the suspense account the exceptions.
	var exc int64
	for _, amt := range want.Exceptions {
		exc += amt
	}
	var cash []int
	call(&cash, "model.account.account.search", [][]any{{"name", "=", "Main Cash"}}, 0, nil, nil)
	var bal []struct {
		ID      int            `json:"id"`
		Balance tryton.Decimal `json:"balance"`
	}
	call(&bal, "model.account.account.read", []int{cash[0], l.seed.Suspense}, []string{"balance"})
	for _, b := range bal {
		got := mustCents(b.Balance.Abs().StringFixed(2))
		if b.Balance.Sign() < 0 {
			got = -got
		}
		switch b.ID {
		case cash[0]:
			if got != want.Credits {
				t.Errorf("bank account balance %s, want %s (every credit once)", cents(got), cents(want.Credits))
			}
		case l.seed.Suspense:
			if got != -exc {
				t.Errorf("suspense balance %s, want -%s (the open exceptions)", cents(got), cents(exc))
			}
		}
	}
	t.Logf("tryton: %d invoices, %d statements, %d lines checked", len(want.Residual), len(stmts), len(lines))
}
