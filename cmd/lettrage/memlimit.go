package main

import (
	"os"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"time"
)

// Above heapFloor, the stateful passes (`once`, `run`) let the heap grow
// to heapGrowth times what is live before the collector runs, instead of
// the default twice: a soft memory limit (runtime/debug.SetMemoryLimit)
// that follows the live heap. A first pass of 1,000,000 payments kept
// about 2.3 GB live through its commit and peaked at 6.0 GB resident with
// the default (docs/BENCHMARKS.md, "Round four"); with its smaller records
// ("Round five") the matcher's peak, about 2.6 GB, is its largest live
// heap (3.67 GiB resident at the peak). 1.5 was measured against 1.25
// and the default ("Round five"): a tenth less resident for about 1 % more
// CPU, where 1.25 costs 9 % more for the next tenth. Below the floor
// nothing changes. Unlike `match` (setMatchMemoryLimit), a pass cannot size its
// limit from its inputs before it reads them: its source and ledger may be
// remote. GOMEMLIMIT, when set, is left in charge.
const (
	heapFloor      = 3 << 30
	heapGrowthNum  = 3 // heapGrowth = 3/2
	heapGrowthDen  = 2
	heapFollowTick = 250 * time.Millisecond
)

// heapLimitFor is the soft memory limit for a live heap of live bytes.
func heapLimitFor(live uint64) int64 {
	return max(heapFloor, int64(live/heapGrowthDen*heapGrowthNum))
}

// followLiveHeap keeps the soft memory limit at heapLimitFor the live heap
// (as the last collection measured it) until the returned function is
// called, which restores the limit found at the start.
func followLiveHeap() func() {
	if v, ok := os.LookupEnv("GOMEMLIMIT"); ok && v != "" {
		return func() {}
	}
	before := debug.SetMemoryLimit(-1)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
		limit := int64(heapFloor)
		debug.SetMemoryLimit(limit)
		tick := time.NewTicker(heapFollowTick)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
			}
			metrics.Read(sample)
			if sample[0].Value.Kind() != metrics.KindUint64 {
				return
			}
			if l := heapLimitFor(sample[0].Value.Uint64()); l != limit {
				limit = l
				debug.SetMemoryLimit(limit)
			}
		}
	}()
	return func() {
		close(done)
		wg.Wait()
		debug.SetMemoryLimit(before)
	}
}
