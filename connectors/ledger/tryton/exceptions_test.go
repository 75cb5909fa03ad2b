package tryton

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/lettrage/lettrage/connectors"
	"github.com/lettrage/lettrage/domain"
)

// balance reads an account's balance (debit − credit) from Tryton.
func balance(t *testing.T, account int) string {
	t.Helper()
	var r []struct {
		Balance Decimal `json:"balance"`
	}
	if err := server.Call(&r, "model.account.account.read", []int{account}, []string{"balance"}); err != nil || len(r) != 1 {
		t.Fatalf("reading balance of account %d: %v", account, err)
	}
	return r[0].Balance.Key()
}

func cashAccount(t *testing.T) int {
	t.Helper()
	var ids []int
	if err := server.Call(&ids, "model.account.account.search", [][]any{{"name", "=", "Main Cash"}}, 0, nil, nil); err != nil || len(ids) != 1 {
		t.Fatalf("finding Main Cash: %v %v", ids, err)
	}
	return ids[0]
}

func suspenseLine(t *testing.T, txKey string) []stmtLine {
	t.Helper()
	var lines []stmtLine
	if err := server.Call(&lines, "model.account.statement.line.search_read", [][]any{{"number", "=", ExceptionKey(txKey)}},
		0, nil, nil, []string{"number", "statement", "amount", "statement.state"}); err != nil {
		t.Fatal(err)
	}
	return lines
}

// An unlettered payment is booked once on the suspense account; when a
// later run letters it, the cash moves to the invoice — the bank account
// holds it exactly once.
func TestExceptionsOnSuspenseThenLettered(t *testing.T) {
	tryton(t)
	ctx := context.Background()
	c := newClient(t, func(c *Config) { c.SuspenseAccount = "471" })
	cash := cashAccount(t)
	cashBefore, _ := domain.ParseAmount(balance(t, cash))
	suspBefore := balance(t, seed.Suspense)

	tx := domain.Transaction{Key: "FR76-SUSP-1", Ref: "SUSP-1", Currency: "EUR", Credit: true, Status: "BOOK",
		Amount: domain.MustAmount("80.00"), BookingDate: booked, Counterparty: domain.Party{Name: "Rossi Srl"},
		Unstructured: []string{"payment for services"}}
	exc := []connectors.Exception{
		{Tx: tx, Decision: domain.Decision{Outcome: domain.Unmatched, Reason: "no_candidate"}},
		// Not booked on the suspense account: a debit, another currency.
		{Tx: domain.Transaction{Key: "FR76-DEBIT", Ref: "D", Currency: "EUR", Amount: domain.MustAmount("5"), BookingDate: booked},
			Decision: domain.Decision{Outcome: domain.Unmatched}},
		{Tx: domain.Transaction{Key: "FR76-USD", Ref: "U", Currency: "USD", Credit: true, Amount: domain.MustAmount("5"), BookingDate: booked},
			Decision: domain.Decision{Outcome: domain.Unmatched}},
	}
	for round := 0; round < 2; round++ { // the second round is a replay: nothing new
		n := statementCount(t)
		if err := c.RecordExceptions(ctx, exc); err != nil {
			t.Fatalf("RecordExceptions (round %d): %v", round, err)
		}
		if got := statementCount(t) - n; got != 1-round {
			t.Errorf("round %d: %d new statements, want %d", round, got, 1-round)
		}
	}
	lines := suspenseLine(t, tx.Key)
	if len(lines) != 1 || lines[0].StmtRel.State != "posted" || lines[0].Amount.Key() != "80" {
		t.Fatalf("suspense lines of %s = %+v, want one posted line of 80", tx.Key, lines)
	}
	for _, k := range []string{"FR76-DEBIT", "FR76-USD"} {
		if l := suspenseLine(t, k); len(l) != 0 {
			t.Errorf("%s booked on suspense: %+v", k, l)
		}
	}
	if got, want := balance(t, seed.Suspense), mustSub(suspBefore, "80"); got != want {
		t.Errorf("suspense balance = %s, want %s", got, want)
	}
	// The line says what it is.
	var desc []struct {
		Description string `json:"description"`
	}
	if err := server.Call(&desc, "model.account.statement.line.read", []int{lines[0].ID}, []string{"description"}); err != nil {
		t.Fatal(err)
	}
	if d := desc[0].Description; !strings.Contains(d, "SUSP-1") || !strings.Contains(d, "no_candidate") {
		t.Errorf("suspense line description = %q", d)
	}

	// A later run letters the transaction to invoice L.
	d := connectors.KeyedDecision{Key: "k-from-suspense", Tx: tx, DecidedAt: booked,
		Decision: domain.Decision{Outcome: domain.Auto, Rule: "rematch", Confidence: 1,
			Allocations: []domain.Allocation{{ItemID: inv("L"), Amount: domain.MustAmount("80.00")}}}}
	for round := 0; round < 2; round++ {
		if err := c.Apply(ctx, []connectors.KeyedDecision{d}); err != nil {
			t.Fatalf("Apply (round %d): %v", round, err)
		}
	}
	if got := states(t, "L"); got != "L=paid/0" {
		t.Errorf("invoice L = %q, want paid", got)
	}
	if got := balance(t, seed.Suspense); got != suspBefore {
		t.Errorf("suspense balance after lettering = %s, want back to %s", got, suspBefore)
	}
	if got, want := balance(t, cash), cashBefore.Add(domain.MustAmount("80")).Key(); got != want {
		t.Errorf("bank balance = %s, want %s (the 80.00 once)", got, want)
	}
	// The exception is no longer reported: nothing more is booked.
	n := statementCount(t)
	if err := c.RecordExceptions(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if statementCount(t) != n {
		t.Error("RecordExceptions(nil) wrote a statement")
	}
}

func mustSub(a, b string) string {
	return domain.MustAmount(a).Sub(domain.MustAmount(b)).Key()
}

func TestExceptionKeyIsStable(t *testing.T) {
	a, b := ExceptionKey("FR76-1"), ExceptionKey("FR76-1")
	if a != b || !strings.HasPrefix(a, "exc-") || len(a) != 24 || a == ExceptionKey("FR76-2") {
		t.Errorf("ExceptionKey = %q, %q", a, b)
	}
}

func TestExceptionText(t *testing.T) {
	e := connectors.Exception{
		Tx: domain.Transaction{Ref: "R1", Counterparty: domain.Party{Name: "Dupont"},
			Structured: []domain.Reference{{Value: "RF18"}}, Unstructured: []string{strings.Repeat("é", 600)}},
		Decision: domain.Decision{Outcome: domain.Suggested, Candidates: []domain.Candidate{{ItemID: "7", Score: 0.5}}},
	}
	got := exceptionText(e)
	if !strings.HasPrefix(got, "lettrage unlettered R1 Dupont (suggested) RF18 é") {
		t.Errorf("exceptionText = %.80q", got)
	}
	if n := len([]rune(got)); n != 500 {
		t.Errorf("exceptionText has %d characters, want 500 (cut on a character boundary)", n)
	}
}

// A suspense line Tryton refuses (no fiscal year in 2031) does not keep
// the others out; it comes back as a rejection keyed by the transaction.
func TestExceptionRefusedByTrytonIsARejection(t *testing.T) {
	tryton(t)
	ctx := context.Background()
	c := newClient(t, func(c *Config) { c.SuspenseAccount = "Suspense" })
	ok := domain.Transaction{Key: "FR76-SUSP-OK", Ref: "SUSP-OK", Currency: "EUR", Credit: true, Status: "BOOK",
		Amount: domain.MustAmount("12.00"), BookingDate: booked}
	late := ok
	late.Key, late.Ref, late.BookingDate = "FR76-SUSP-2031", "SUSP-2031", time.Date(2031, 3, 1, 0, 0, 0, 0, time.UTC)
	exc := []connectors.Exception{{Tx: ok, Decision: domain.Decision{Outcome: domain.Unmatched}},
		{Tx: late, Decision: domain.Decision{Outcome: domain.Unmatched}}}
	for round := 0; round < 2; round++ {
		err := c.RecordExceptions(ctx, exc)
		rej, only := connectors.Rejections(err)
		if !only || len(rej) != 1 || rej[0].Key != late.Key {
			t.Fatalf("round %d: RecordExceptions = %v; want only %s rejected", round, err, late.Key)
		}
		if r := strings.ToLower(rej[0].Reason); !strings.Contains(r, "period") && !strings.Contains(r, "fiscal year") {
			t.Errorf("reason %q is not Tryton's message", rej[0].Reason)
		}
	}
	if l := suspenseLine(t, ok.Key); len(l) != 1 || l[0].StmtRel.State != "posted" {
		t.Errorf("suspense lines of %s = %+v, want one posted", ok.Key, l)
	}
	if l := suspenseLine(t, late.Key); len(l) != 0 {
		t.Errorf("refused suspense line left behind: %+v", l)
	}
}
