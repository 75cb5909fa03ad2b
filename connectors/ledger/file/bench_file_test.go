package file

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/lettrage/lettrage/connectors"
)

// BenchmarkReadExportFile reads the open-items export named by
// LETTRAGE_BENCH_OPEN_ITEMS (for instance the open_items.csv of
// `lettrage-bench gen --n 100000 --items 200000`) as `lettrage match` does.
// Skipped unless the variable is set.
func BenchmarkReadExportFile(b *testing.B) {
	path := os.Getenv("LETTRAGE_BENCH_OPEN_ITEMS")
	if path == "" {
		b.Skip("set LETTRAGE_BENCH_OPEN_ITEMS to run")
	}
	fi, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(fi.Size())
	b.ReportAllocs()
	var n int
	for b.Loop() {
		items, _, err := ReadExport(Config{OpenItems: path})
		if err != nil {
			b.Fatal(err)
		}
		n = len(items)
	}
	b.ReportMetric(float64(n), "items")
}

// BenchmarkApplyBatch writes one batch of 50,000 decisions of one
// allocation each to a fresh journal: formatting the rows and the one
// append (`lettrage match` writes one batch per statement file).
func BenchmarkApplyBatch(b *testing.B) {
	const n = 50000
	batch := make([]connectors.KeyedDecision, n)
	for i := range batch {
		batch[i] = decision("k"+strconv.Itoa(i), "R"+strconv.Itoa(i), alloc("INV-"+strconv.Itoa(i), "1234.56", ""))
	}
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		dir := b.TempDir()
		l, err := New(Config{OpenItems: filepath.Join(dir, "i.csv"), Journal: filepath.Join(dir, "m.csv"), AsOf: AsOfNever})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if err := l.Apply(b.Context(), batch); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		l.Close()
		b.StartTimer()
	}
}

// TestExportSizedToItems reads an export large enough for the collector to
// grow its slice many times, a third of it settled (residual 0): the items
// returned are the open ones, in file order, in a slice of their own size
// (the pass keeps them to its end: spare capacity would be kept with them).
func TestExportSizedToItems(t *testing.T) {
	var sb strings.Builder
	sb.WriteString(header)
	for i := range 10000 {
		residual := "100.00"
		if i%3 == 0 {
			residual = "0"
		}
		fmt.Fprintf(&sb, "INV-%d,C1,Alpha,D-%d,2026-10-01,2026-10-31,EUR,100.00,%s,,\n", i, i, residual)
	}
	items, err := ReadOpenItems(strings.NewReader(sb.String()), "big.csv")
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 6666 {
		t.Fatalf("%d items, want the 6,666 open ones", len(items))
	}
	for k, it := range items {
		if want := "INV-" + strconv.Itoa(k/2*3+k%2+1); it.ID != want {
			t.Fatalf("items[%d] = %s, want %s", k, it.ID, want)
		}
	}
	if spare := cap(items) - len(items); spare > len(items)/8 {
		t.Errorf("%d items in a slice of capacity %d: %d unused kept alive", len(items), cap(items), spare)
	}
}
