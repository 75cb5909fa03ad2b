package state

import (
	"testing"
	"time"

	"github.com/lettrage/lettrage/domain"
	"github.com/lettrage/lettrage/pipeline/decide"
)

// TestOrders pins the two orders of the state: transactions by account,
// booking day (not the time of day), tx_ref and key; pending decisions by
// file first, then the same, with the decision's key last.
func TestOrders(t *testing.T) {
	day := func(d, h int) time.Time { return time.Date(2026, 11, d, h, 0, 0, 0, time.UTC) }
	tx := func(acct string, d, h int, ref, key string) domain.Transaction {
		return domain.Transaction{Account: acct, BookingDate: day(d, h), Ref: ref, Key: key}
	}
	txs := []decide.StoredTx{
		{Tx: tx("B", 1, 0, "a", "k1")},
		{Tx: tx("A", 2, 9, "a", "k2")},
		{Tx: tx("A", 2, 8, "b", "k3")}, // earlier in the day, later ref: after k2
		{Tx: tx("A", 1, 23, "z", "k4")},
		{Tx: tx("A", 2, 9, "a", "k0")},
		{Tx: domain.Transaction{Account: "A", Ref: "zz", Key: "k5"}}, // no date: first of A
	}
	SortTxs(txs)
	var got []string
	for _, st := range txs {
		got = append(got, st.Tx.Key)
	}
	if want := "[k5 k4 k0 k2 k3 k1]"; fmtList(got) != want {
		t.Errorf("txOrder %s, want %s", fmtList(got), want)
	}
	ps := []decide.PendingDecision{
		{Key: "d2", FileHash: "f2", Tx: tx("A", 1, 0, "a", "t1")},
		{Key: "d9", FileHash: "f1", Tx: tx("B", 1, 0, "a", "t2")},
		{Key: "d3", FileHash: "f1", Tx: tx("A", 3, 0, "a", "t3")},
		{Key: "d1", FileHash: "f1", Tx: tx("A", 3, 0, "a", "t4")},
	}
	SortPending(ps)
	got = nil
	for _, p := range ps {
		got = append(got, p.Key)
	}
	if want := "[d1 d3 d9 d2]"; fmtList(got) != want {
		t.Errorf("writeBackOrder %s, want %s", fmtList(got), want)
	}
}

func fmtList(xs []string) string {
	out := "["
	for i, x := range xs {
		if i > 0 {
			out += " "
		}
		out += x
	}
	return out + "]"
}
