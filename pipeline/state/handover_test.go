package state

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/lettrage/lettrage/domain"
	"github.com/lettrage/lettrage/pipeline/decide"
)

// TestOpenAndExceptions holds the pass's one read (OpenAndExceptions) to
// the two it replaces: its open rows are Transactions(TxOpen), its open
// rows with the other exceptions are Exceptions; ExceptionsAmong gives the
// exceptions among the keys asked, and no other row.
func TestOpenAndExceptions(t *testing.T) {
	forEachOpenStore(t, func(t *testing.T, ctx context.Context, s *Store) {
		at := time.Date(2026, 11, 3, 8, 0, 0, 0, time.UTC)
		var decs []decide.DecisionRecord
		txs := make([]domain.Transaction, 0, 12)
		for i, d := range []domain.Decision{
			{Outcome: domain.Unmatched, Reason: "no_candidate"},
			{Outcome: domain.Auto, Rule: "document", Allocations: []domain.Allocation{{ItemID: "OI2", Amount: domain.MustAmount("120.00")}},
				Excess: domain.MustAmount("30.00")}, // lettered with an excess: an exception not open
			{Outcome: domain.Auto, Rule: "reference", Allocations: []domain.Allocation{{ItemID: "OI1", Amount: domain.MustAmount("150.00")}}},
			{Outcome: domain.Suggested, Rule: "amount_only", Confidence: 0.5},
			{Outcome: domain.Ignored, Reason: "debit"},
			{Outcome: domain.Unmatched, Reason: "no_candidate"},
		} {
			txs = append(txs, testTx("B"+string(rune('0'+i)), "150.00"))
			tx := &txs[len(txs)-1]
			d.TxKey = tx.Key
			key := "rec-" + tx.Key
			if d.Outcome == domain.Auto {
				key = decide.DecisionKey("j", tx.Key, 0)
			}
			decs = append(decs, decide.DecisionRecord{Key: key, Tx: tx, FileHash: "h1", New: true, Decision: d})
		}
		c := Commit{Job: "j", ConfigHash: "cfg", At: at,
			Files:     []FileRecord{{Hash: "h1", Source: "s", Path: "a.xml", Status: "processed", Transactions: len(decs)}},
			Decisions: decs}
		if err := s.SaveCommit(ctx, c); err != nil {
			t.Fatal(err)
		}
		got, err := s.OpenAndExceptions(ctx, "j")
		if err != nil {
			t.Fatal(err)
		}
		open, err := s.Transactions(ctx, "j", decide.TxOpen)
		if err != nil {
			t.Fatal(err)
		}
		exc, err := s.Exceptions(ctx, "j")
		if err != nil {
			t.Fatal(err)
		}
		if len(open) != 3 || len(exc) != 4 || len(got.NotException) != 0 {
			t.Fatalf("the fixture: %d open, %d exceptions, %d open not flagged; want 3, 4, 0", len(open), len(exc), len(got.NotException))
		}
		if !reflect.DeepEqual(got.Open, open) {
			t.Errorf("OpenAndExceptions' open rows differ from Transactions(open):\n%+v\n%+v", got.Open, open)
		}
		both := append(append([]decide.StoredTx{}, got.Open...), got.Others...)
		SortTxs(both)
		if !reflect.DeepEqual(both, exc) {
			t.Errorf("OpenAndExceptions' rows differ from Exceptions:\n%+v\n%+v", both, exc)
		}
		among, err := s.ExceptionsAmong(ctx, "j", []string{txs[1].Key, txs[2].Key, txs[5].Key, "nope"})
		if err != nil {
			t.Fatal(err)
		}
		SortTxs(among)
		want := []decide.StoredTx{}
		for _, st := range exc {
			if st.Tx.Key == txs[1].Key || st.Tx.Key == txs[5].Key {
				want = append(want, st)
			}
		}
		if !reflect.DeepEqual(among, want) {
			t.Errorf("ExceptionsAmong = %+v, want %+v", among, want)
		}
	})
}

// TestMergeTxsAsSortTxs: lists put in txOrder by InTxOrder and merged by
// MergeTxs are in the order SortTxs gives their concatenation.
func TestMergeTxsAsSortTxs(t *testing.T) {
	rnd := rand.New(rand.NewPCG(3, 18))
	row := func(i int) decide.StoredTx {
		tx := domain.Transaction{Key: fmt.Sprintf("k%04d", i), Ref: fmt.Sprintf("R%d", rnd.IntN(5)),
			Account: fmt.Sprintf("A%d", rnd.IntN(3)), BookingDate: time.Date(2026, 1, 1+rnd.IntN(4), rnd.IntN(24), 0, 0, 0, time.UTC)}
		return decide.StoredTx{Tx: tx, State: decide.TxOpen}
	}
	for trial := range 20 {
		var lists [][]decide.StoredTx
		var all []decide.StoredTx
		k := 0
		for range 3 {
			var l []decide.StoredTx
			for range rnd.IntN(40) {
				l = append(l, row(k))
				k++
			}
			all = append(all, l...)
			lists = append(lists, InTxOrder(l))
		}
		SortTxs(all)
		if got := MergeTxs(lists...); len(got) != len(all) || len(all) > 0 && !reflect.DeepEqual(got, all) {
			t.Fatalf("trial %d: merged %d rows not in SortTxs's order", trial, len(got))
		}
	}
}
