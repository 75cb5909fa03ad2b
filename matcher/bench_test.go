package matcher_test

import (
	"fmt"
	"os"
	"runtime"
	"runtime/metrics"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/lettrage/lettrage/domain"
	"github.com/lettrage/lettrage/internal/gen"
	"github.com/lettrage/lettrage/matcher"
)

// oneToOne returns ds's input with about half of the open items dropped so
// that there are as many items as transactions: every item a transaction's
// truth allocates is kept, the others are thinned evenly. internal/gen
// always makes two items per transaction; the 1M target is
// 1,000,000 transactions × 1,000,000 items.
func oneToOne(ds *gen.Dataset) matcher.Input {
	want := len(ds.Transactions)
	used := make(map[string]bool, want)
	for _, t := range ds.Truth {
		for id := range t.Allocations {
			used[id] = true
		}
	}
	free := 0
	for i := range ds.Items {
		if !used[ds.Items[i].ID] {
			free++
		}
	}
	keep := want - len(used) // unused items to keep
	if keep < 0 {
		keep = 0
	}
	items := make([]domain.OpenItem, 0, want)
	k := 0
	for i := range ds.Items {
		it := ds.Items[i]
		if used[it.ID] {
			items = append(items, it)
			continue
		}
		// keep the k-th unused item when it moves the kept count up
		if free > 0 && (k+1)*keep/free != k*keep/free {
			items = append(items, it)
		}
		k++
	}
	return matcher.Input{Transactions: ds.Transactions, Items: items, Memory: ds.Memory, Config: ds.Config}
}

// heapWatch samples the live heap (as marked by the last GC) and the heap
// in use while a benchmark runs, so that a benchmark can report what Match
// holds beyond its inputs.
type heapWatch struct {
	base     uint64
	peakLive uint64
	peakHeap uint64
	stop     chan struct{}
	done     sync.WaitGroup
}

func startHeapWatch() *heapWatch {
	runtime.GC()
	w := &heapWatch{stop: make(chan struct{})}
	w.base = liveHeap()
	w.done.Add(1)
	go func() {
		defer w.done.Done()
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		var ms runtime.MemStats
		n := 0
		for {
			select {
			case <-w.stop:
				return
			case <-tick.C:
			}
			if l := liveHeap(); l > w.peakLive {
				w.peakLive = l
			}
			// ReadMemStats stops the world: sample it less often
			if n++; n%25 == 0 {
				runtime.ReadMemStats(&ms)
				if ms.HeapAlloc > w.peakHeap {
					w.peakHeap = ms.HeapAlloc
				}
			}
		}
	}()
	return w
}

// report stops the watch and reports the peaks above the baseline in MB.
func (w *heapWatch) report(b *testing.B) {
	close(w.stop)
	w.done.Wait()
	mb := func(v uint64) float64 {
		if v < w.base {
			return 0
		}
		return float64(v-w.base) / 1e6
	}
	b.ReportMetric(mb(w.peakLive), "peak-live-MB")
	b.ReportMetric(mb(w.peakHeap), "peak-heap-MB")
}

// processCPU is the process's user + system CPU time in seconds.
func processCPU() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Sec+ru.Stime.Sec) + float64(ru.Utime.Usec+ru.Stime.Usec)/1e6
}

func liveHeap() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}

// BenchmarkMatchOneToOne measures Match with as many open items as
// transactions (gen.Generate's data, half of the items dropped, see
// oneToOne) and reports, besides time, the peak live heap and heap in use
// beyond the inputs. LETTRAGE_BENCH_1M=1 adds 1,000,000 × 1,000,000 (the
// issue's target; ~3.5 GB of memory and about three minutes, most of them
// generating the data); LETTRAGE_BENCH_N=n runs size n only.
func BenchmarkMatchOneToOne(b *testing.B) {
	sizes := []int{100_000}
	if os.Getenv("LETTRAGE_BENCH_1M") != "" {
		sizes = append(sizes, 1_000_000)
	}
	if v := os.Getenv("LETTRAGE_BENCH_N"); v != "" {
		var n int
		if _, err := fmt.Sscan(v, &n); err != nil || n <= 0 {
			b.Fatalf("LETTRAGE_BENCH_N=%q: want a positive count", v)
		}
		sizes = []int{n}
	}
	for _, n := range sizes {
		b.Run(fmt.Sprintf("tx=%d", n), func(b *testing.B) {
			in := oneToOne(gen.Generate(42, n))
			b.ReportAllocs()
			w := startHeapWatch()
			b.ResetTimer()
			cpu := processCPU()
			for b.Loop() {
				matcher.Match(in)
			}
			b.StopTimer()
			b.ReportMetric((processCPU()-cpu)/float64(b.N), "cpu-s/op")
			w.report(b)
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "tx/s")
		})
	}
}

// BenchmarkTypoLookup measures the one-edit document-number step of the
// evidence (typos of the items of the amount and of the payer's items) on
// the remittance profile of the generator (heavy payment-advice texts),
// per transaction: LETTRAGE_BENCH_N transactions (default 100,000) × 2N
// items, seed 42.
//
//	go test ./matcher -run '^$' -bench BenchmarkTypoLookup -benchtime 3x -count 5
//
// The big_payer case gives one customer a tenth of the book (a large
// retailer with thousands of open invoices) and a fifth of the payments:
// the scan's cost grew with the payer's open items, the lookup's does not.
// Each case runs the deletion index (index) and the scan it replaced (scan,
// the reference of TestTypoLookupEqualsScan) on the same evidence, so
// that before and after are measured under the same load.
func BenchmarkTypoLookup(b *testing.B) {
	n := 100000
	if v := os.Getenv("LETTRAGE_BENCH_N"); v != "" {
		if _, err := fmt.Sscan(v, &n); err != nil {
			b.Fatalf("LETTRAGE_BENCH_N=%q: %v", v, err)
		}
	}
	ds := gen.GenerateWith(42, n, gen.Options{Profile: gen.ProfileRemittance})
	b.Run("remittance", func(b *testing.B) {
		benchTyposBoth(b, matcher.Input{Transactions: ds.Transactions, Items: ds.Items, Memory: ds.Memory, Config: ds.Config}, n)
	})
	b.Run("big_payer", func(b *testing.B) {
		items := append([]domain.OpenItem(nil), ds.Items...)
		txs := append([]domain.Transaction(nil), ds.Transactions...)
		const iban = "FR7600000000000000000000042"
		for i := range items {
			if i%10 == 0 {
				items[i].CustomerID, items[i].IBANs = "BIG", []string{iban}
			}
		}
		for i := range txs {
			if i%5 == 0 {
				txs[i].Counterparty.IBAN = iban
			}
		}
		benchTyposBoth(b, matcher.Input{Transactions: txs, Items: items, Memory: ds.Memory, Config: ds.Config}, n)
	})
}

func benchTyposBoth(b *testing.B, in matcher.Input, n int) {
	for _, mode := range []string{"index", "scan"} {
		b.Run(mode, func(b *testing.B) { benchTypos(b, in, n, mode == "scan") })
	}
}

func benchTypos(b *testing.B, in matcher.Input, n int, scan bool) {
	prepare, typos := matcher.TypoBench(in, scan)
	for i := range in.Transactions {
		if in.Transactions[i].IsLetterable() {
			prepare(i)
		}
	}
	found := 0
	b.ReportAllocs()
	b.ResetTimer()
	before := cpuSeconds()
	for b.Loop() {
		found = 0
		for i := range in.Transactions {
			found += typos(i)
		}
	}
	b.ReportMetric((cpuSeconds()-before)/float64(b.N)*1e9/float64(n), "cpu-ns/tx")
	b.ReportMetric(float64(found), "found")
}

// BenchmarkIndexItems measures building the index of the open items alone
// (matcher.IndexItems, as `lettrage match` does beside the reading) on the
// remittance profile: 2 × LETTRAGE_BENCH_N items (default 100,000).
func BenchmarkIndexItems(b *testing.B) {
	n := 100000
	if v := os.Getenv("LETTRAGE_BENCH_N"); v != "" {
		if _, err := fmt.Sscan(v, &n); err != nil {
			b.Fatalf("LETTRAGE_BENCH_N=%q: %v", v, err)
		}
	}
	ds := gen.GenerateWith(42, n, gen.Options{Profile: gen.ProfileRemittance})
	b.ReportAllocs()
	b.ResetTimer()
	before := cpuSeconds()
	for b.Loop() {
		matcher.IndexItems(ds.Items, 0)
	}
	b.ReportMetric((cpuSeconds()-before)/float64(b.N), "cpu-s/op")
}

// BenchmarkTypoBuild measures building the deletion index of the open
// items alone (a part of BenchmarkIndexItems), on two goroutines, over
// the items of the remittance profile: 2 × LETTRAGE_BENCH_N (default
// 100,000).
func BenchmarkTypoBuild(b *testing.B) {
	n := 100000
	if v := os.Getenv("LETTRAGE_BENCH_N"); v != "" {
		if _, err := fmt.Sscan(v, &n); err != nil {
			b.Fatalf("LETTRAGE_BENCH_N=%q: %v", v, err)
		}
	}
	ds := gen.GenerateWith(42, n, gen.Options{Profile: gen.ProfileRemittance})
	build := matcher.TypoBuild(matcher.IndexItems(ds.Items, 2), 2)
	b.ReportAllocs()
	b.ResetTimer()
	before := cpuSeconds()
	for b.Loop() {
		build()
	}
	b.ReportMetric((cpuSeconds()-before)/float64(b.N), "cpu-s/op")
}
