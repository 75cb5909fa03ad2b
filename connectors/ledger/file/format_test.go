package file

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/lettrage/lettrage/connectors"
)

// TestApplyLargeBatchSameJournal: a batch large enough to be formatted in
// two halves at once (minParallelFormat) writes the journal, byte for
// byte, that the same decisions applied in small batches (formatted on one
// goroutine) write — rows in order, lettering codes in sequence, text
// cells quoted and neutralised alike — and records the same state.
func TestApplyLargeBatchSameJournal(t *testing.T) {
	const n = 3*minParallelFormat + 7
	batch := make([]connectors.KeyedDecision, n)
	for i := range batch {
		d := decision("k"+strconv.Itoa(i), "R"+strconv.Itoa(i), alloc("INV-"+strconv.Itoa(i), "12.34", ""))
		switch i % 4 {
		case 1:
			d = decision("k"+strconv.Itoa(i), "R"+strconv.Itoa(i), alloc("INV-"+strconv.Itoa(i), "10.00", "0.50"),
				alloc("INV-"+strconv.Itoa(i)+"b", "20.00", ""))
			d.Tx.Counterparty.Name = "=cmd|' /C calc'!A0"
		case 2:
			d.Tx.Counterparty.Name = " leading, space"
			d.Decision.Explanation = "payer said \u202eevil"
		case 3:
			d = discountDecision()
			d.Key, d.Tx.Ref = "k"+strconv.Itoa(i), "R"+strconv.Itoa(i)
		}
		batch[i] = d
	}
	write := func(step int) ([]byte, *journalState) {
		dir := t.TempDir()
		l, err := New(Config{OpenItems: filepath.Join(dir, "i.csv"), Journal: filepath.Join(dir, "m.csv"), AsOf: AsOfNever})
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		for lo := 0; lo < n; lo += step {
			if err := l.Apply(t.Context(), batch[lo:min(lo+step, n)]); err != nil {
				t.Fatal(err)
			}
		}
		data, err := os.ReadFile(filepath.Join(dir, "m.csv"))
		if err != nil {
			t.Fatal(err)
		}
		st, err := l.state()
		if err != nil {
			t.Fatal(err)
		}
		return data, st
	}
	one, stOne := write(n)
	small, stSmall := write(minParallelFormat / 4)
	if !bytes.Equal(one, small) {
		t.Fatalf("the journal of one batch of %d differs from that of small batches (%d and %d bytes)", n, len(one), len(small))
	}
	if len(stOne.keys) != n || len(stOne.keys) != len(stSmall.keys) || stOne.last != stSmall.last ||
		len(stOne.used) != len(stSmall.used) || stOne.size != stSmall.size || stOne.size != int64(len(one)) {
		t.Fatalf("state: %d keys, last code %q, %d items, size %d; small batches: %d, %q, %d, %d; file %d bytes",
			len(stOne.keys), stOne.last, len(stOne.used), stOne.size, len(stSmall.keys), stSmall.last, len(stSmall.used), stSmall.size, len(one))
	}
	for id, u := range stSmall.used {
		if !stOne.used[id].Equal(u) {
			t.Fatalf("item %s: settled %s, small batches %s", id, stOne.used[id], u)
		}
	}
}
