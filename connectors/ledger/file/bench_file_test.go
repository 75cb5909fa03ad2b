package file

import (
	"os"
	"path/filepath"
	"strconv"
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
