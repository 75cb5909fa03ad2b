package pipeline

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/lettrage/lettrage/domain"
	"github.com/lettrage/lettrage/pipeline/decide"
	"github.com/lettrage/lettrage/pipeline/state"
)

// TestHandedExceptionsReadWholeWhenMostWritten: the reports read the
// store's exceptions whole when the pass wrote more rows than it read (a
// first pass writes every transaction: looking each up again by key cost
// eight times the whole read at 1,000,000), and by key otherwise.
func TestHandedExceptionsReadWholeWhenMostWritten(t *testing.T) {
	for _, c := range []struct {
		touched, open, others int
		whole                 bool
	}{
		{touched: 1000, open: 0, others: 0, whole: true},     // a first pass
		{touched: 1000, open: 300, others: 200, whole: true}, // a pass that wrote most
		{touched: 50, open: 300, others: 200, whole: false},  // a delta
		{touched: 500, open: 300, others: 200, whole: false},
		{touched: 0, open: 0, others: 0, whole: false},
	} {
		h := handedExceptions{open: make([]decide.StoredTx, c.open), others: make([]decide.StoredTx, c.others), touched: map[string]bool{}}
		for i := range c.touched {
			h.touch(fmt.Sprint(i))
		}
		if got := h.readWhole(); got != c.whole {
			t.Errorf("%d written, %d + %d read: whole read %v, want %v", c.touched, c.open, c.others, got, c.whole)
		}
	}
}

// TestHandedAsWritten: the rows a commit inserts with their one record are
// handed as the commit wrote them, not read again; every other row it
// writes (a second record, an update, an enriched transaction) is read
// again. The rows handed, with those read again, are the store's
// exceptions, field for field (a field the store does not keep, such as
// the decision's situation, would differ).
func TestHandedAsWritten(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func() (*state.Store, error)) {
		s, err := open()
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		ctx := t.Context()
		at := time.Date(2026, 11, 17, 9, 0, 0, 0, time.UTC)
		tx := func(ref, amount string) *domain.Transaction {
			return &domain.Transaction{Key: "ACC|" + ref, Ref: ref, Account: "ACC", Amount: domain.MustAmount(amount), Currency: "EUR",
				Credit: true, Status: "BOOK", BookingDate: time.Date(2026, 11, 16, 0, 0, 0, 0, time.UTC),
				Documents: []string{"FA-" + ref}, Counterparty: domain.Party{Name: "Payer " + ref}}
		}
		rec := func(t *domain.Transaction, d domain.Decision) decide.DecisionRecord {
			d.TxKey = t.Key
			return decide.DecisionRecord{Key: "rec-" + t.Ref + string(d.Outcome), Tx: t, FileHash: "f1", Decision: d, New: true}
		}
		enriched := tx("E", "40.00")
		first := state.Commit{Job: "j", At: at, Decisions: []decide.DecisionRecord{
			rec(enriched, domain.Decision{Outcome: domain.Unmatched, Reason: domain.ReasonNoCandidate}),
			rec(tx("X", "60.00"), domain.Decision{Outcome: domain.Unmatched, Reason: domain.ReasonNoCandidate}),
			rec(tx("Y", "70.00"), domain.Decision{Outcome: domain.Unmatched, Reason: domain.ReasonNoCandidate}),
		}}
		if err := s.SaveCommit(ctx, first); err != nil {
			t.Fatal(err)
		}
		// What gatherOpen read before the commit: E, X and Y.
		rows, err := s.OpenAndExceptions(ctx, "j")
		if err != nil {
			t.Fatal(err)
		}
		unmatched, lettered, waiting, twice := tx("U", "10.00"), tx("L", "20.00"), tx("W", "30.00"), tx("T", "50.00")
		letter := rec(lettered, domain.Decision{Outcome: domain.Auto, Allocations: []domain.Allocation{{ItemID: "I1", Amount: domain.MustAmount("20.00")}}})
		letter.Key = decide.DecisionKey("j", lettered.Key, 0)
		wait := rec(waiting, domain.Decision{Outcome: domain.Unmatched, Reason: domain.ReasonNoCandidate})
		wait.State = decide.TxWaiting
		second := rec(twice, domain.Decision{Outcome: domain.Suggested, Reason: domain.ReasonNoCandidate})
		second.New = false
		again := *enriched
		again.Documents = []string{"FA-E", "FA-E2"}
		c := state.Commit{Job: "j", At: at.Add(time.Hour), Enriched: []domain.Transaction{again}, Decisions: []decide.DecisionRecord{
			rec(unmatched, domain.Decision{Outcome: domain.Unmatched, Reason: domain.ReasonNoCandidate, Situation: "unmatched/no_candidate"}),
			letter, wait,
			rec(twice, domain.Decision{Outcome: domain.Unmatched, Reason: domain.ReasonNoCandidate}), second,
		}}
		if err := s.SaveCommit(ctx, c); err != nil {
			t.Fatal(err)
		}
		h := handedExceptions{open: rows.Open, others: rows.Others, notException: rows.NotException, touched: map[string]bool{}}
		h.touchCommit(&c)
		var written []string
		for _, st := range h.written {
			written = append(written, st.Tx.Ref)
		}
		if got, want := strings.Join(written, ","), "U,W"; got != want {
			t.Errorf("handed as written: %s, want %s", got, want)
		}
		if !h.touched[twice.Key] || !h.touched[enriched.Key] || len(h.touched) != 2 {
			t.Errorf("read again: %v, want the keys of T and E", h.touched)
		}
		checkHanded = false // compared here, field by field
		defer func() { checkHanded = true }()
		if h.readWhole() {
			t.Fatal("the store's exceptions read whole: nothing handed")
		}
		lists := handedLists.Load()
		got, err := h.list(ctx, s, "j")
		if err != nil {
			t.Fatal(err)
		}
		if handedLists.Load() != lists+1 {
			t.Error("no list handed")
		}
		want, err := s.Exceptions(ctx, "j")
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			for _, l := range [][]decide.StoredTx{got, want} {
				for _, st := range l {
					t.Log(st.Tx.Ref, st.State)
				}
			}
			t.Fatalf("%d exceptions handed, the store has %d", len(got), len(want))
		}
		for i := range got {
			if !reflect.DeepEqual(got[i], want[i]) {
				t.Errorf("exception %d handed:\n%+v\nthe store's:\n%+v", i, got[i], want[i])
			}
		}
	})
}
