package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/lettrage/lettrage/connectors"
	"github.com/lettrage/lettrage/domain"
	"github.com/lettrage/lettrage/pipeline/decide"
	"github.com/lettrage/lettrage/pipeline/report"
	"github.com/lettrage/lettrage/pipeline/state"
)

// postingLedger is an in-memory ledger that writes allocations and
// postings, can refuse one posting kind (as a ledger without a write-off
// account must) and reverses letters.
type postingLedger struct {
	items     []domain.OpenItem
	refuse    domain.PostingKind // postings of this kind are refused
	applied   map[string]connectors.KeyedDecision
	order     []string // keys of applied, in write order
	writes    int      // decisions written, over all Apply calls
	reversals map[string]connectors.Reversal
	undone    []string // keys of the decisions reversed, in reversal order
	// refuseUnletter makes Unletter refuse (a closed period).
	refuseUnletter bool
}

var (
	_ connectors.Ledger     = (*postingLedger)(nil)
	_ connectors.Unletterer = (*postingLedger)(nil)
)

func newPostingLedger(items ...domain.OpenItem) *postingLedger {
	return &postingLedger{items: items, applied: map[string]connectors.KeyedDecision{}, reversals: map[string]connectors.Reversal{}}
}

// residual is what item id still owes after what the ledger holds.
func (l *postingLedger) residual(id string) domain.Amount {
	var res domain.Amount
	for _, it := range l.items {
		if it.ID == id {
			res = it.Residual
		}
	}
	for key, kd := range l.applied {
		undone := false
		for _, r := range l.reversals {
			undone = undone || r.Reverses == key
		}
		if undone {
			continue
		}
		for _, a := range kd.Decision.Allocations {
			if a.ItemID == id {
				res = res.Sub(a.Amount).Sub(a.WriteOff)
			}
		}
	}
	return res
}

func (l *postingLedger) OpenItems(context.Context) ([]domain.OpenItem, error) {
	var out []domain.OpenItem
	for _, it := range l.items {
		if r := l.residual(it.ID); !r.IsZero() {
			it.Residual = r
			out = append(out, it)
		}
	}
	return out, nil
}

func (l *postingLedger) Apply(_ context.Context, batch []connectors.KeyedDecision) error {
	var rej []error
	for _, kd := range batch {
		if _, done := l.applied[kd.Key]; done {
			continue
		}
		refused := false
		for _, p := range kd.Decision.Postings {
			refused = refused || p.Kind == l.refuse
		}
		if refused {
			rej = append(rej, &connectors.RejectedError{Key: kd.Key, Reason: "no write-off account configured"})
			continue
		}
		l.applied[kd.Key] = kd
		l.order = append(l.order, kd.Key)
		l.writes++
	}
	return errors.Join(rej...)
}

func (l *postingLedger) Applied(_ context.Context, keys []string) (map[string]bool, error) {
	out := map[string]bool{}
	for _, k := range keys {
		_, a := l.applied[k]
		_, r := l.reversals[k]
		out[k] = a || r
	}
	return out, nil
}

func (l *postingLedger) Unletter(_ context.Context, r connectors.Reversal) error {
	if l.refuseUnletter {
		return &connectors.RejectedError{Key: r.Key, Reason: "the period is closed"}
	}
	if _, done := l.reversals[r.Key]; !done {
		l.reversals[r.Key] = r
		l.undone = append(l.undone, r.Reverses)
	}
	return nil
}

func (l *postingLedger) Close() error { return nil }

// decisionFor returns the newest decision the ledger holds for the
// transaction ref, or a zero KeyedDecision.
func (l *postingLedger) decisionFor(ref string) connectors.KeyedDecision {
	for i := len(l.order) - 1; i >= 0; i-- {
		if kd := l.applied[l.order[i]]; kd.Tx.Ref == ref {
			return kd
		}
	}
	return connectors.KeyedDecision{}
}

const testAccount = "FR7630003012340005001234509"

func testItem(id, customer, residual string) domain.OpenItem {
	return domain.OpenItem{ID: id, CustomerID: customer, DocumentNumber: "FA-" + id, Currency: "EUR",
		Amount: domain.MustAmount(residual), Residual: domain.MustAmount(residual)}
}

// resolveFixture is a job whose state holds open exceptions R1…Rn (the
// amounts given, in EUR, from payer FR76…0001 named ACME) over a
// postingLedger.
func resolveFixture(t *testing.T, led *postingLedger, amounts ...string) (*Job, *state.Store) {
	t.Helper()
	store := sqliteIn(t, t.TempDir())
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	job := &Job{Name: "res", Ledger: led, Store: store, ReportDir: t.TempDir(), Metrics: NewMetrics("test"),
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: func() time.Time { return now }}
	c := state.Commit{Job: "res", At: now}
	for i, a := range amounts {
		ref := fmt.Sprintf("R%d", i+1)
		tx := domain.Transaction{Key: testAccount + "|" + ref, Ref: ref, Account: testAccount, Amount: domain.MustAmount(a),
			Currency: "EUR", Credit: true, Status: "BOOK", BookingDate: now.AddDate(0, 0, -3),
			Counterparty: domain.Party{Name: "ACME", IBAN: "FR7610096180000007412580001"}}
		c.Decisions = append(c.Decisions, decide.DecisionRecord{Key: "rec-" + ref, Tx: &tx, New: true, FileHash: "f1",
			Decision: domain.Decision{TxKey: tx.Key, Outcome: domain.Unmatched, Reason: "no_candidate"}})
	}
	if err := store.SaveCommit(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	return job, store
}

func row(ref, action, items, customer, comment string) report.Resolution {
	return report.Resolution{Row: 2, TxRef: ref, Account: testAccount, Action: action, Items: items, Customer: customer, Comment: comment}
}

func amountsOf(d domain.Decision) (allocs, postings []string) {
	for _, a := range d.Allocations {
		allocs = append(allocs, a.ItemID+"="+a.Amount.String()+"+"+a.WriteOff.String())
	}
	for _, p := range d.Postings {
		postings = append(postings, fmt.Sprintf("%s:%s=%s:%s", p.Kind, p.CustomerID, p.Amount, p.Reason))
	}
	sort.Strings(allocs)
	return allocs, postings
}

// TestResolvePostings: on_account and write_off rows become Auto decisions
// with postings that reach the ledger; the payment stops being an
// exception; wrong rows are refused with their reason.
func TestResolvePostings(t *testing.T) {
	items := []domain.OpenItem{
		testItem("OI1", "C1", "100.00"), testItem("OI2", "C1", "250.00"), testItem("OI3", "C2", "80.00"),
		testItem("CN1", "C1", "-30.00"),
	}
	tests := []struct {
		name        string
		cash        string
		row         report.Resolution
		opts        ResolveOptions
		limits      map[string]domain.Amount
		errContains string   // refusal message
		allocs      []string // sorted "ID=amount+writeoff"
		postings    []string // "kind:customer=amount:reason"
		excess      string   // Excess left (an exception) when not zero
	}{
		{name: "on account, whole cash", cash: "500.00", row: row("R1", "on_account", "", "C1", "advance"),
			postings: []string{"on_account:C1=500.00:advance"}},
		{name: "on account after lettering an item", cash: "500.00", row: row("R1", "on_account", "OI1", "C1", ""),
			allocs: []string{"OI1=100.00+0"}, postings: []string{"on_account:C1=400.00:"}},
		{name: "on account, item with an amount", cash: "500.00", row: row("R1", "on_account", "OI2:200,00", "C1", ""),
			allocs: []string{"OI2=200.00+0"}, postings: []string{"on_account:C1=300.00:"}},
		{name: "on account, items take all the cash", cash: "100.00", row: row("R1", "on_account", "OI1", "C1", ""),
			allocs: []string{"OI1=100.00+0"}},
		{name: "on account without customer", cash: "500.00", row: row("R1", "on_account", "", "", ""),
			errContains: "customer column is required"},
		{name: "on account of an unknown customer", cash: "500.00", row: row("R1", "on_account", "", "C9", ""),
			errContains: `customer "C9" has no open item`},
		{name: "on account, item of another customer", cash: "500.00", row: row("R1", "on_account", "OI3", "C1", ""),
			errContains: "belong to customer C2, not C1"},
		{name: "on account, item of another customer allowed", cash: "500.00", row: row("R1", "on_account", "OI3", "C1", ""),
			opts: ResolveOptions{AllowMultiCustomer: true}, allocs: []string{"OI3=80.00+0"}, postings: []string{"on_account:C1=420.00:"}},
		{name: "on account, items above the cash", cash: "50.00", row: row("R1", "on_account", "OI1:100;OI2", "C1", ""),
			errContains: "more than the payment"},
		{name: "write-off, whole cash", cash: "12.34", row: row("R1", "write_off", "", "", "UNIDENTIFIED"),
			postings: []string{"write_off:=12.34:UNIDENTIFIED"}},
		{name: "write-off without reason", cash: "12.34", row: row("R1", "write_off", "", "", ""),
			errContains: "reason code in comment"},
		{name: "write-off above the default limit", cash: "100.01", row: row("R1", "write_off", "", "", "X"),
			errContains: "above this job's write-off limit of 100 EUR"},
		{name: "write-off at the default limit", cash: "100.00", row: row("R1", "write_off", "", "", "X"),
			postings: []string{"write_off:=100.00:X"}},
		{name: "write-off above the limit, allowed", cash: "900.00", row: row("R1", "write_off", "", "", "X"),
			opts: ResolveOptions{AllowLargeWriteOff: true}, postings: []string{"write_off:=900.00:X"}},
		{name: "write-off under the job's limit", cash: "900.00", row: row("R1", "write_off", "", "", "X"),
			limits: map[string]domain.Amount{"EUR": domain.MustAmount("1000")}, postings: []string{"write_off:=900.00:X"}},
		{name: "write-off above the job's limit", cash: "900.00", row: row("R1", "write_off", "", "", "X"),
			limits: map[string]domain.Amount{"EUR": domain.MustAmount("10")}, errContains: "limit of 10 EUR"},
		{name: "write-off closes items paid short", cash: "340.00", row: row("R1", "write_off", "OI1;OI2", "", "SHORT"),
			allocs: []string{"OI1=100.00+0", "OI2=240.00+10.00"}},
		{name: "write-off of an overpayment", cash: "110.00", row: row("R1", "write_off", "OI1", "", "OVER"),
			allocs: []string{"OI1=100.00+0"}, postings: []string{"write_off:=10.00:OVER"}},
		{name: "write-off, item with an amount closed", cash: "95.00", row: row("R1", "write_off", "OI1:95.00", "", "DISC"),
			allocs: []string{"OI1=95.00+5.00"}},
		{name: "write-off both ways", cash: "110.00", row: row("R1", "write_off", "OI1:90", "", "X"),
			errContains: "closed 10.00 short while 20.00 of the payment is left over"},
		{name: "write-off nets the credit note first", cash: "60.00", row: row("R1", "write_off", "OI1;CN1", "", "SHORT"),
			allocs: []string{"CN1=-30.00+0", "OI1=90.00+10.00"}},
		{name: "write-off of items counts against the limit", cash: "200.00", row: row("R1", "write_off", "OI1;OI2", "", "X"),
			errContains: "150.00 EUR is above"},
		{name: "write-off leaves no cash for an item", cash: "100.00", row: row("R1", "write_off", "OI1;OI2", "", "X"),
			opts: ResolveOptions{AllowLargeWriteOff: true}, errContains: "nothing left to allocate to OI2"},
		{name: "letter keeps its excess as an exception", cash: "130.00", row: row("R1", "letter", "OI1", "", ""),
			allocs: []string{"OI1=100.00+0"}, excess: "30.00"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			led := newPostingLedger(items...)
			job, store := resolveFixture(t, led, tc.cash)
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
				if len(led.applied) != 0 || st.State != decide.TxOpen {
					t.Errorf("a refused row reached the ledger (%d) or changed the state (%s)", len(led.applied), st.State)
				}
				return
			}
			if res[0].Status != "applied" {
				t.Fatalf("result %+v, want applied", res[0])
			}
			kd := led.decisionFor("R1")
			if kd.Key == "" {
				t.Fatalf("nothing written to the ledger")
			}
			d := kd.Decision
			allocs, postings := amountsOf(d)
			if fmt.Sprint(allocs) != fmt.Sprint(tc.allocs) || fmt.Sprint(postings) != fmt.Sprint(tc.postings) {
				t.Errorf("ledger got allocations %q postings %q\nwant %q %q", allocs, postings, tc.allocs, tc.postings)
			}
			if d.Outcome != domain.Auto || d.Rule != "manual:"+tc.row.Action {
				t.Errorf("decision outcome %s rule %s", d.Outcome, d.Rule)
			}
			// The cash is accounted for: allocations + postings + excess.
			sum := d.Excess
			for _, a := range d.Allocations {
				sum = sum.Add(a.Amount)
			}
			for _, p := range d.Postings {
				sum = sum.Add(p.Amount)
			}
			if !sum.Equal(domain.MustAmount(tc.cash)) {
				t.Errorf("allocations + postings + excess = %s, cash %s", sum, tc.cash)
			}
			for _, a := range d.Allocations {
				if it := kd.Items[a.ItemID]; it.ID != a.ItemID {
					t.Errorf("item %s not handed to the ledger", a.ItemID)
				}
			}
			exc, err := store.Exceptions(ctx, "res")
			if err != nil {
				t.Fatal(err)
			}
			want := 0
			if tc.excess != "" {
				want = 1
				if !d.Excess.Equal(domain.MustAmount(tc.excess)) {
					t.Errorf("excess %s, want %s", d.Excess, tc.excess)
				}
			}
			if len(exc) != want || st.State != decide.TxLettered {
				t.Errorf("%d exceptions, state %s; want %d, lettered", len(exc), st.State, want)
			}
			if cash := decide.UnmatchedCash(exc)["EUR"]; tc.excess == "" && !cash.IsZero() {
				t.Errorf("unmatched cash %s after the resolution, want 0", cash)
			}
			if p, _ := store.Pending(ctx, "res"); len(p) != 0 {
				t.Errorf("%d decisions left pending", len(p))
			}
		})
	}
}

// TestResolvePostingsExactlyOnce: the same rows dropped twice apply
// nothing twice; on_account teaches the payer; unletter reverses the
// postings and makes the payment an exception again.
func TestResolvePostingsExactlyOnce(t *testing.T) {
	ctx := context.Background()
	led := newPostingLedger(testItem("OI1", "C1", "100.00"))
	job, store := resolveFixture(t, led, "500.00", "3.50")
	rows := []report.Resolution{
		row("R1", "on_account", "OI1", "C1", "advance"),
		row("R2", "write_off", "", "", "BANKFEE"),
	}
	rows[1].Row = 3
	for round, want := range []string{"applied", "already_applied"} {
		res, err := job.Resolve(ctx, rows, ResolveOptions{Actor: "claire", Origin: "wb.xlsx"})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range res {
			if r.Status != want {
				t.Errorf("round %d row %d: %s (%s), want %s", round, r.Row, r.Status, r.Message, want)
			}
		}
	}
	if led.writes != 2 {
		t.Errorf("ledger writes = %d, want 2", led.writes)
	}
	mem, err := store.Memory(ctx, "res", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if got := mem.IBANCustomers["FR7610096180000007412580001"]; len(got) != 1 || got[0] != "C1" {
		t.Errorf("learned IBAN customers = %v, want [C1]", got)
	}
	if exc, _ := store.Exceptions(ctx, "res"); len(exc) != 0 {
		t.Errorf("exceptions after resolving: %d", len(exc))
	}

	// Unletter the on-account resolution: its posting is reversed too.
	res, err := job.Resolve(ctx, []report.Resolution{row("R1", "unletter", "", "", "wrong customer")}, ResolveOptions{Actor: "claire"})
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Status != "applied" || !strings.Contains(res[0].Message, "1 allocation(s) and 1 posting(s) undone") {
		t.Fatalf("unletter: %+v", res[0])
	}
	if len(led.reversals) != 1 {
		t.Fatalf("reversals = %d, want 1", len(led.reversals))
	}
	for _, r := range led.reversals {
		allocs, postings := amountsOf(domain.Decision{Allocations: r.Allocations, Postings: r.Postings})
		if fmt.Sprint(allocs) != "[OI1=100.00+0]" || fmt.Sprint(postings) != "[on_account:C1=400.00:advance]" || r.Reverses != led.decisionFor("R1").Key {
			t.Errorf("reversal %+v: allocations %q postings %q", r, allocs, postings)
		}
	}
	exc, err := store.Exceptions(ctx, "res")
	if err != nil {
		t.Fatal(err)
	}
	if len(exc) != 1 || exc[0].Tx.Ref != "R1" || exc[0].Decision.Reason != "unlettered" {
		t.Fatalf("exceptions after unletter = %+v", exc)
	}
	if cash := decide.UnmatchedCash(exc)["EUR"]; !cash.Equal(domain.MustAmount("500")) {
		t.Errorf("unmatched cash %s, want 500", cash)
	}
	// Now the accountant writes it off (a larger amount, allowed): a new
	// decision, lettered again.
	res, err = job.Resolve(ctx, []report.Resolution{row("R1", "write_off", "", "", "GONE")}, ResolveOptions{AllowLargeWriteOff: true})
	if err != nil || res[0].Status != "applied" {
		t.Fatalf("write-off after unletter: %+v %v", res, err)
	}
	if exc, _ := store.Exceptions(ctx, "res"); len(exc) != 0 {
		t.Errorf("exceptions after the write-off: %d", len(exc))
	}
}

// TestResolvePostingRefusedByTheLedger: a ledger that cannot post a kind
// refuses the decision; the row says why, the payment is an exception
// showing the reason, and the same row applies once the ledger can.
func TestResolvePostingRefusedByTheLedger(t *testing.T) {
	ctx := context.Background()
	led := newPostingLedger(testItem("OI1", "C1", "100.00"))
	led.refuse = domain.WriteOffPosting
	job, store := resolveFixture(t, led, "7.00", "20.00")
	rows := []report.Resolution{row("R1", "write_off", "", "", "ROUNDING"), row("R2", "on_account", "", "C1", "")}
	rows[1].Row = 3
	res, err := job.Resolve(ctx, rows, ResolveOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Status != "refused" || !strings.Contains(res[0].Message, "no write-off account configured") {
		t.Errorf("refused write-off row: %+v", res[0])
	}
	if res[1].Status != "applied" {
		t.Errorf("on-account row of the same batch: %+v", res[1])
	}
	exc, err := store.Exceptions(ctx, "res")
	if err != nil {
		t.Fatal(err)
	}
	if len(exc) != 1 || exc[0].Tx.Ref != "R1" || exc[0].Decision.Reason != decide.ReasonLedgerRejected ||
		!strings.Contains(exc[0].Decision.Explanation, "refused the accountant's resolution: no write-off account configured") {
		t.Fatalf("exceptions after the refusal = %+v", exc)
	}
	if p, _ := store.Pending(ctx, "res"); len(p) != 0 {
		t.Errorf("%d decisions left pending", len(p))
	}
	// The ledger is configured; the same row goes through under a new key.
	led.refuse = ""
	res, err = job.Resolve(ctx, rows[:1], ResolveOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Status != "applied" {
		t.Fatalf("the same row after the fix: %+v", res[0])
	}
	if exc, _ := store.Exceptions(ctx, "res"); len(exc) != 0 {
		t.Errorf("exceptions after the fix: %d", len(exc))
	}
	if kd := led.decisionFor("R1"); len(kd.Decision.Postings) != 1 || !kd.Decision.Postings[0].Amount.Equal(domain.MustAmount("7")) {
		t.Errorf("ledger holds %+v", kd)
	}
	// Dropped once more: applied before, nothing done.
	if res, _ := job.Resolve(ctx, rows[:1], ResolveOptions{}); res[0].Status != "already_applied" {
		t.Errorf("third drop: %+v", res[0])
	}
	if led.writes != 2 {
		t.Errorf("ledger writes = %d, want 2", led.writes)
	}
}

// TestPendingPostingsAreCompleted: a posting decision committed but not
// written (a crash between the commit and the ledger call) is written, with
// its postings, by the next pass.
func TestPendingPostingsAreCompleted(t *testing.T) {
	ctx := context.Background()
	led := newPostingLedger(testItem("OI1", "C1", "100.00"))
	job, store := resolveFixture(t, led, "42.00")
	tx, _, err := store.Transaction(ctx, "res", testAccount+"|R1")
	if err != nil {
		t.Fatal(err)
	}
	d := domain.Decision{TxKey: tx.Tx.Key, Outcome: domain.Auto, Rule: "manual:on_account", Confidence: 1,
		Postings: []domain.Posting{{Kind: domain.OnAccount, CustomerID: "C1", Amount: domain.MustAmount("42.00")}}}
	if err := store.SaveCommit(ctx, state.Commit{Job: "res", At: job.now(), Actor: "claire",
		Decisions: []decide.DecisionRecord{{Key: "man-1", Tx: &tx.Tx, FileHash: tx.FileHash, Decision: d}}}); err != nil {
		t.Fatal(err)
	}
	if p, _ := store.Pending(ctx, "res"); len(p) != 1 || len(p[0].Decision.Postings) != 1 {
		t.Fatalf("pending = %+v", p)
	}
	if exc, _ := store.Exceptions(ctx, "res"); len(exc) != 0 {
		t.Errorf("a committed posting decision is still an exception")
	}
	if n, err := job.applyPending(ctx, job.Log); err != nil || n != 1 {
		t.Fatalf("applyPending = %d, %v", n, err)
	}
	if _, postings := amountsOf(led.decisionFor("R1").Decision); fmt.Sprint(postings) != "[on_account:C1=42.00:]" {
		t.Errorf("ledger got postings %q", postings)
	}
	if p, _ := store.Pending(ctx, "res"); len(p) != 0 {
		t.Errorf("%d decisions still pending", len(p))
	}
}

// TestResolveLogLinesHaveEachKeyOnce: a resolution logs as "resolve" and
// its write-back as "ledger"; a JSON log line carrying "component" twice
// (the resolve logger's and the ledger step's) is refused by strict log
// pipelines and ambiguous for the others.
func TestResolveLogLinesHaveEachKeyOnce(t *testing.T) {
	led := newPostingLedger(testItem("OI1", "C1", "100.00"))
	job, _ := resolveFixture(t, led, "500.00")
	var buf bytes.Buffer
	job.Log = slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	if _, err := job.Resolve(context.Background(), []report.Resolution{row("R1", "on_account", "OI1", "C1", "advance")},
		ResolveOptions{Actor: "claire", Origin: "wb.xlsx"}); err != nil {
		t.Fatal(err)
	}
	components := map[string]bool{}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	for _, line := range lines {
		dec := json.NewDecoder(strings.NewReader(line))
		if _, err := dec.Token(); err != nil { // {
			t.Fatalf("log line %q: %v", line, err)
		}
		seen := map[string]bool{}
		for dec.More() {
			k, err := dec.Token()
			if err != nil {
				t.Fatalf("log line %q: %v", line, err)
			}
			key := k.(string)
			if seen[key] {
				t.Errorf("key %q twice in %s", key, line)
			}
			seen[key] = true
			var v any
			if err := dec.Decode(&v); err != nil {
				t.Fatalf("log line %q: %v", line, err)
			}
			if key == "component" {
				components[v.(string)] = true
			}
		}
	}
	if !components["resolve"] || !components["ledger"] {
		t.Errorf("components logged %v, want resolve and ledger among them:\n%s", components, buf.String())
	}
}
