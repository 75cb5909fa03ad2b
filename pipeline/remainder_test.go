package pipeline

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/lettrage/lettrage/domain"
	"github.com/lettrage/lettrage/pipeline/decide"
	"github.com/lettrage/lettrage/pipeline/report"
	"github.com/lettrage/lettrage/pipeline/state"
)

// overpaidFixture is resolveFixture with R1 (cash given) lettered
// automatically to OI4 (50.00, customer C1) by the reference rule with the
// rest left over, and that letter written to the ledger. It returns the
// letter's key.
func overpaidFixture(t *testing.T, led *postingLedger, cash string) (*Job, *state.Store, string) {
	t.Helper()
	ctx := context.Background()
	job, store := resolveFixture(t, led, cash)
	st, _, err := store.Transaction(ctx, "res", testAccount+"|R1")
	if err != nil {
		t.Fatal(err)
	}
	oi4 := testItem("OI4", "C1", "50.00")
	d := domain.Decision{TxKey: st.Tx.Key, Outcome: domain.Auto, Rule: "reference/over", Confidence: 0.99,
		Explanation: "RF reference of FA-OI4; overpaid",
		Allocations: []domain.Allocation{{ItemID: "OI4", Amount: domain.MustAmount("50.00")}},
		Excess:      st.Tx.Amount.Sub(domain.MustAmount("50.00"))}
	key := decide.DecisionKey("res", st.Tx.Key, 0)
	if err := store.SaveCommit(ctx, state.Commit{Job: "res", At: job.now(), Decisions: []decide.DecisionRecord{{Key: key, Tx: &st.Tx,
		FileHash: st.FileHash, Decision: d, Items: map[string]domain.OpenItem{"OI4": oi4}}}}); err != nil {
		t.Fatal(err)
	}
	if n, err := job.applyPending(ctx, job.Log); err != nil || n != 1 {
		t.Fatalf("writing the letter: %d %v", n, err)
	}
	if exc, _ := store.Exceptions(ctx, "res"); len(exc) != 1 || !decide.Unallocated(exc[0]).Equal(d.Excess) {
		t.Fatalf("the overpayment is not an exception for its excess: %+v", exc)
	}
	return job, store, key
}

func remainderItems() []domain.OpenItem {
	return []domain.OpenItem{testItem("OI4", "C1", "50.00"), testItem("OI5", "C2", "20.00"),
		testItem("OI6", "C1", "10.00"), testItem("OI7", "C1", "100.00")}
}

// TestResolveOverpaymentRemainder: a row on a payment lettered with cash
// left over resolves that remainder: a new decision of at most the
// remainder reaches the ledger under its own key, and the payment shows the
// letter and the remainder together.
func TestResolveOverpaymentRemainder(t *testing.T) {
	tests := []struct {
		name        string
		row         report.Resolution
		opts        ResolveOptions
		limits      map[string]domain.Amount
		errContains string
		allocs      []string // the new decision's, sorted "ID=amount+writeoff"
		postings    []string // "kind:customer=amount:reason"
		excess      string   // left over after the row ("" none)
	}{
		{name: "on account of the letter's customer", row: row("R1", "on_account", "", "C1", "advance"),
			postings: []string{"on_account:C1=30.00:advance"}},
		{name: "on account without customer", row: row("R1", "on_account", "", "", ""),
			errContains: "customer column is required"},
		{name: "on account of another customer", row: row("R1", "on_account", "", "C2", ""),
			errContains: "lettered to customer C1, not C2"},
		{name: "on account of another customer, allowed", row: row("R1", "on_account", "", "C2", ""),
			opts: ResolveOptions{AllowMultiCustomer: true}, postings: []string{"on_account:C2=30.00:"}},
		{name: "on account of an unknown customer, allowed", row: row("R1", "on_account", "", "C9", ""),
			opts: ResolveOptions{AllowMultiCustomer: true}, errContains: `customer "C9" has no open item`},
		{name: "on account after lettering an item", row: row("R1", "on_account", "OI6", "C1", ""),
			allocs: []string{"OI6=10.00+0"}, postings: []string{"on_account:C1=20.00:"}},
		{name: "write-off", row: row("R1", "write_off", "", "", "OVER"),
			postings: []string{"write_off:=30.00:OVER"}},
		{name: "write-off without reason", row: row("R1", "write_off", "", "", ""),
			errContains: "reason code in comment"},
		{name: "write-off above the job's limit", row: row("R1", "write_off", "", "", "OVER"),
			limits: map[string]domain.Amount{"EUR": domain.MustAmount("10")}, errContains: "30.00 EUR is above this job's write-off limit of 10 EUR"},
		{name: "letter to an item takes at most the remainder", row: row("R1", "letter", "OI7", "", ""),
			allocs: []string{"OI7=30.00+0"}},
		{name: "letter part of the remainder", row: row("R1", "letter", "OI6", "", ""),
			allocs: []string{"OI6=10.00+0"}, excess: "20.00"},
		{name: "letter more than the remainder", row: row("R1", "letter", "OI7:40", "", ""),
			errContains: "more than the payment of 30.00 EUR"},
		{name: "letter to another customer's item", row: row("R1", "letter", "OI5", "", ""),
			errContains: "several customers"},
		{name: "ignore", row: row("R1", "ignore", "", "", "X"), errContains: "lettered (rule reference/over) with 30.00 EUR left over"},
		{name: "accept without candidate", row: row("R1", "accept", "", "", ""), errContains: "no candidate"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			led := newPostingLedger(remainderItems()...)
			job, store, letterKey := overpaidFixture(t, led, "80.00")
			job.WriteOffLimits = tc.limits
			res, err := job.Resolve(ctx, []report.Resolution{tc.row}, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			st, _, err := store.Transaction(ctx, "res", testAccount+"|R1")
			if err != nil {
				t.Fatal(err)
			}
			if tc.errContains != "" {
				if res[0].Status != "refused" || !strings.Contains(res[0].Message, tc.errContains) {
					t.Fatalf("result %+v, want refused with %q", res[0], tc.errContains)
				}
				if led.writes != 1 || st.State != decide.TxLettered || !decide.Unallocated(st).Equal(domain.MustAmount("30")) {
					t.Errorf("a refused row wrote %d decisions or changed the state (%s, %s left)", led.writes, st.State, decide.Unallocated(st))
				}
				return
			}
			if res[0].Status != "applied" {
				t.Fatalf("result %+v, want applied", res[0])
			}
			kd := led.decisionFor("R1")
			if kd.Key == letterKey || led.writes != 2 {
				t.Fatalf("the remainder was not written under its own key (%d writes)", led.writes)
			}
			allocs, postings := amountsOf(kd.Decision)
			if fmt.Sprint(allocs) != fmt.Sprint(tc.allocs) || fmt.Sprint(postings) != fmt.Sprint(tc.postings) {
				t.Errorf("ledger got allocations %q postings %q\nwant %q %q", allocs, postings, tc.allocs, tc.postings)
			}
			// Never more than the remainder: allocations + postings + excess = 30.
			sum := kd.Decision.Excess
			for _, a := range kd.Decision.Allocations {
				sum = sum.Add(a.Amount)
			}
			for _, p := range kd.Decision.Postings {
				sum = sum.Add(p.Amount)
			}
			if !sum.Equal(domain.MustAmount("30")) {
				t.Errorf("allocations + postings + excess = %s, remainder 30.00", sum)
			}
			// The payment shows the letter and the remainder together.
			shownAllocs, shownPostings := amountsOf(st.Decision)
			wantAllocs := append([]string{"OI4=50.00+0"}, tc.allocs...)
			if st.State != decide.TxLettered || st.Decision.Rule != "reference/over" ||
				fmt.Sprint(shownAllocs) != fmt.Sprint(wantAllocs) || fmt.Sprint(shownPostings) != fmt.Sprint(tc.postings) {
				t.Errorf("the payment shows %s rule %s allocations %q postings %q", st.State, st.Decision.Rule, shownAllocs, shownPostings)
			}
			exc, err := store.Exceptions(ctx, "res")
			if err != nil {
				t.Fatal(err)
			}
			wantExc, left := 0, domain.Amount{}
			if tc.excess != "" {
				wantExc, left = 1, domain.MustAmount(tc.excess)
			}
			if len(exc) != wantExc || !decide.Unallocated(st).Equal(left) || !decide.UnmatchedCash(exc)["EUR"].Equal(left) {
				t.Errorf("%d exceptions, %s unallocated; want %d, %s", len(exc), decide.Unallocated(st), wantExc, left)
			}
			if p, _ := store.Pending(ctx, "res"); len(p) != 0 {
				t.Errorf("%d decisions left pending", len(p))
			}
		})
	}
}

// TestRemainderExactlyOnceAndUnletter: the same row dropped twice writes
// the remainder once; unletter reverses the remainder's posting, then the
// letter, once, and the payment is an exception for its whole cash again.
func TestRemainderExactlyOnceAndUnletter(t *testing.T) {
	ctx := context.Background()
	led := newPostingLedger(remainderItems()...)
	job, store, letterKey := overpaidFixture(t, led, "80.00")
	rows := []report.Resolution{row("R1", "on_account", "", "C1", "advance")}
	for round, want := range []string{"applied", "already_applied"} {
		res, err := job.Resolve(ctx, rows, ResolveOptions{Actor: "claire", Origin: "wb.xlsx"})
		if err != nil {
			t.Fatal(err)
		}
		if res[0].Status != want {
			t.Errorf("round %d: %+v, want %s", round, res[0], want)
		}
	}
	if led.writes != 2 {
		t.Errorf("ledger writes = %d, want 2", led.writes)
	}
	remainderKey := led.decisionFor("R1").Key
	// Another row on the settled payment is refused.
	if res, _ := job.Resolve(ctx, []report.Resolution{row("R1", "write_off", "", "", "X")}, ResolveOptions{}); res[0].Status != "refused" ||
		!strings.Contains(res[0].Message, "not an open exception any more") {
		t.Errorf("write-off of a settled remainder: %+v", res[0])
	}

	for round, want := range []string{"applied", "already_applied"} {
		res, err := job.Resolve(ctx, []report.Resolution{row("R1", "unletter", "", "", "wrong payer")}, ResolveOptions{Actor: "claire"})
		if err != nil {
			t.Fatal(err)
		}
		if res[0].Status != want {
			t.Fatalf("unletter round %d: %+v, want %s", round, res[0], want)
		}
		if round == 0 && !strings.Contains(res[0].Message, "1 allocation(s) and 1 posting(s) of 2 decisions undone") {
			t.Errorf("unletter: %s", res[0].Message)
		}
	}
	if fmt.Sprint(led.undone) != fmt.Sprint([]string{remainderKey, letterKey}) {
		t.Errorf("reversed %q, want the remainder %s then the letter %s", led.undone, remainderKey, letterKey)
	}
	for _, r := range led.reversals {
		allocs, postings := amountsOf(domain.Decision{Allocations: r.Allocations, Postings: r.Postings})
		want := map[string]string{letterKey: "[OI4=50.00+0] []", remainderKey: "[] [on_account:C1=30.00:advance]"}[r.Reverses]
		if got := fmt.Sprint(allocs, " ", postings); got != want {
			t.Errorf("reversal of %s undoes %s, want %s", r.Reverses, got, want)
		}
	}
	exc, err := store.Exceptions(ctx, "res")
	if err != nil {
		t.Fatal(err)
	}
	if len(exc) != 1 || exc[0].Decision.Reason != "unlettered" || !decide.UnmatchedCash(exc)["EUR"].Equal(domain.MustAmount("80")) {
		t.Fatalf("exceptions after unletter = %+v", exc)
	}
	if r := led.residual("OI4"); !r.Equal(domain.MustAmount("50")) {
		t.Errorf("OI4 owes %s after unletter, want 50.00", r)
	}
	if chain, _, _ := store.Letters(ctx, "res", testAccount+"|R1"); len(chain) != 0 {
		t.Errorf("%d letters still stand", len(chain))
	}
}

// TestRemainderRefusedByTheLedger: a remainder's posting the ledger
// refuses leaves the letter standing with its remainder an exception
// (never an open payment the matcher would letter again); the same row
// goes through once the ledger can.
func TestRemainderRefusedByTheLedger(t *testing.T) {
	ctx := context.Background()
	led := newPostingLedger(remainderItems()...)
	led.refuse = domain.WriteOffPosting
	job, store, _ := overpaidFixture(t, led, "80.00")
	rows := []report.Resolution{row("R1", "write_off", "", "", "OVER")}
	res, err := job.Resolve(ctx, rows, ResolveOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Status != "refused" || !strings.Contains(res[0].Message, "no write-off account configured") {
		t.Errorf("refused write-off: %+v", res[0])
	}
	st, _, _ := store.Transaction(ctx, "res", testAccount+"|R1")
	allocs, postings := amountsOf(st.Decision)
	if st.State != decide.TxLettered || !decide.Unallocated(st).Equal(domain.MustAmount("30")) || fmt.Sprint(allocs) != "[OI4=50.00+0]" ||
		len(postings) != 0 || !strings.Contains(st.Decision.Explanation, "no write-off account configured") {
		t.Errorf("after the refusal the payment shows %s, %s left: %+v", st.State, decide.Unallocated(st), st.Decision)
	}
	if exc, _ := store.Exceptions(ctx, "res"); len(exc) != 1 {
		t.Errorf("%d exceptions, want the remainder", len(exc))
	}
	led.refuse = ""
	if res, _ := job.Resolve(ctx, rows, ResolveOptions{}); res[0].Status != "applied" {
		t.Fatalf("the same row after the fix: %+v", res[0])
	}
	if exc, _ := store.Exceptions(ctx, "res"); len(exc) != 0 {
		t.Errorf("%d exceptions after the fix", len(exc))
	}
}

// TestRefusedRemainderUnletteringKeepsBoth: when the ledger refuses to undo
// the remainder's posting, the letter before it is not undone either, and
// the payment shows both again.
func TestRefusedRemainderUnletteringKeepsBoth(t *testing.T) {
	ctx := context.Background()
	led := newPostingLedger(remainderItems()...)
	job, store, _ := overpaidFixture(t, led, "80.00")
	if res, _ := job.Resolve(ctx, []report.Resolution{row("R1", "on_account", "", "C1", "")}, ResolveOptions{}); res[0].Status != "applied" {
		t.Fatalf("on_account: %+v", res[0])
	}
	led.refuseUnletter = true
	res, err := job.Resolve(ctx, []report.Resolution{row("R1", "unletter", "", "", "")}, ResolveOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Status != "refused" || !strings.Contains(res[0].Message, "the period is closed") {
		t.Errorf("unletter: %+v", res[0])
	}
	st, _, _ := store.Transaction(ctx, "res", testAccount+"|R1")
	allocs, postings := amountsOf(st.Decision)
	if st.State != decide.TxLettered || !decide.Unallocated(st).IsZero() || fmt.Sprint(allocs, postings) != "[OI4=50.00+0] [on_account:C1=30.00:]" {
		t.Errorf("after the refusal the payment shows %s: allocations %q postings %q", st.State, allocs, postings)
	}
	if len(led.reversals) != 0 {
		t.Errorf("%d reversals written", len(led.reversals))
	}
	if p, _ := store.Pending(ctx, "res"); len(p) != 0 {
		t.Errorf("%d decisions left pending", len(p))
	}
	if exc, _ := store.Exceptions(ctx, "res"); len(exc) != 0 {
		t.Errorf("%d exceptions", len(exc))
	}
}

// TestPendingReversalsNewestFirst: reversals of a letter and its
// remainder's resolution left PENDING (a crash after the commit) are
// written by the next pass newest first.
func TestPendingReversalsNewestFirst(t *testing.T) {
	ctx := context.Background()
	led := newPostingLedger(remainderItems()...)
	job, store, letterKey := overpaidFixture(t, led, "80.00")
	if res, _ := job.Resolve(ctx, []report.Resolution{row("R1", "write_off", "", "", "OVER")}, ResolveOptions{}); res[0].Status != "applied" {
		t.Fatalf("write_off: %+v", res[0])
	}
	remainderKey := led.decisionFor("R1").Key
	revs, why, err := job.reversals(ctx, testAccount+"|R1", "test")
	if err != nil || len(revs) != 2 {
		t.Fatalf("reversals: %d %v %s", len(revs), err, why)
	}
	if err := store.SaveCommit(ctx, state.Commit{Job: "res", At: job.now(), Decisions: revs}); err != nil {
		t.Fatal(err)
	}
	if n, err := job.applyPending(ctx, job.Log); err != nil || n != 2 {
		t.Fatalf("applyPending = %d, %v", n, err)
	}
	if fmt.Sprint(led.undone) != fmt.Sprint([]string{remainderKey, letterKey}) {
		t.Errorf("reversed %q, want %s then %s", led.undone, remainderKey, letterKey)
	}
}
