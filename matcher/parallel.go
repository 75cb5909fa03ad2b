package matcher

import (
	"cmp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/lettrage/lettrage/domain"
)

// workerCount is the number of goroutines a Match call uses: n when
// positive, else GOMAXPROCS.
func workerCount(n int) int {
	if n > 0 {
		return n
	}
	return runtime.GOMAXPROCS(0)
}

// forChunks calls fn(w, lo, hi) for consecutive chunks of [0, n) of at most
// chunk elements, on workers goroutines that take the next chunk as they
// finish one; w (0 ≤ w < workers) identifies the goroutine, for scratch
// space of its own. Every element is handled exactly once; the order in
// which chunks run is not defined, so fn must only write what belongs to
// its own elements. With one worker, fn runs on the calling goroutine.
func forChunks(n, workers, chunk int, fn func(w, lo, hi int)) {
	if n <= 0 {
		return
	}
	if chunk <= 0 {
		chunk = 1
	}
	if max := (n + chunk - 1) / chunk; workers > max {
		workers = max
	}
	if workers <= 1 {
		for lo := 0; lo < n; lo += chunk {
			fn(0, lo, min(lo+chunk, n))
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				lo := int(next.Add(int64(chunk))) - chunk
				if lo >= n {
					return
				}
				fn(w, lo, min(lo+chunk, n))
			}
		}()
	}
	wg.Wait()
}

// sortStableParallel sorts s stably by cmp: workers chunks sorted at the
// same time, then merged. The result is the one slices.SortStableFunc
// gives.
func sortStableParallel[T any](s []T, workers int, cmp func(a, b T) int) {
	const minChunk = 1 << 14
	if workers > len(s)/minChunk {
		workers = len(s) / minChunk
	}
	if workers <= 1 {
		slices.SortStableFunc(s, cmp)
		return
	}
	// chunk bounds
	bounds := make([]int, workers+1)
	for i := range bounds {
		bounds[i] = i * len(s) / workers
	}
	var wg sync.WaitGroup
	for i := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			slices.SortStableFunc(s[bounds[i]:bounds[i+1]], cmp)
		}()
	}
	wg.Wait()
	// merge neighbouring runs pairwise until one is left; on a tie the
	// left run's element goes first, which keeps the sort stable
	buf := make([]T, len(s))
	src, dst := s, buf
	for len(bounds) > 2 {
		var nb []int
		var mw sync.WaitGroup
		for i := 0; i+1 < len(bounds); i += 2 {
			lo := bounds[i]
			nb = append(nb, lo)
			if i+2 >= len(bounds) {
				copy(dst[lo:bounds[i+1]], src[lo:bounds[i+1]])
				continue
			}
			mid, hi := bounds[i+1], bounds[i+2]
			mw.Add(1)
			go func() {
				defer mw.Done()
				mergeRuns(dst[lo:hi], src[lo:mid], src[mid:hi], cmp)
			}()
		}
		mw.Wait()
		nb = append(nb, len(s))
		bounds = nb
		src, dst = dst, src
	}
	if &src[0] != &s[0] {
		copy(s, src)
	}
}

// mergeRuns merges the sorted runs a and b into dst (len(a)+len(b)),
// taking a's element first on a tie.
func mergeRuns[T any](dst, a, b []T, cmp func(x, y T) int) {
	i, j, k := 0, 0, 0
	for i < len(a) && j < len(b) {
		if cmp(b[j], a[i]) < 0 {
			dst[k] = b[j]
			j++
		} else {
			dst[k] = a[i]
			i++
		}
		k++
	}
	k += copy(dst[k:], a[i:])
	copy(dst[k:], b[j:])
}

// job is a letterable transaction and what orders its decision: 32
// bytes, one per letterable transaction, live for the whole run.
type job struct {
	sec int64 // booking date
	key string
	// tn is the evidence's tier (2 bits: tierNone to tierReference) above
	// the booking date's nanoseconds (30 bits: under 10⁹).
	tn uint32
	k  int32 // index in the letterable transactions and their evidence
}

const nsecBits = 30

func newJob(sec int64, nsec int, tier int8, key string, k int) job {
	return job{sec: sec, key: key, tn: uint32(tier)<<nsecBits | uint32(nsec), k: int32(k)}
}

func (j job) tier() int32 { return int32(j.tn >> nsecBits) }
func (j job) nsec() int32 { return int32(j.tn & (1<<nsecBits - 1)) }

// gatherChunk is how many transactions a worker gathers at a time.
const gatherChunk = 256

// match is Match on workers goroutines (0: GOMAXPROCS), gathering chunk
// transactions at a time (tests make chunks small). The index keys and
// the evidence of every transaction are computed in parallel; they depend
// on nothing but the transaction and the open items. Deciding — which
// consumes residuals — runs on one goroutine in a fixed order, so the
// output does not depend on workers.
func match(in Input, workers, chunk int) Output {
	cfg := in.Config
	if cfg.MaxCandidates <= 0 {
		cfg.MaxCandidates = DefaultConfig().MaxCandidates
	}
	if cfg.MaxCombination <= 0 {
		cfg.MaxCombination = DefaultConfig().MaxCombination
	}
	workers = workerCount(workers)
	ix := in.Index.take(in.Items, in.Memory)
	if ix == nil {
		ix = newIndexWorkers(in.Items, in.Memory, workers)
	}
	e := &engine{cfg: cfg, ix: ix, mem: in.Memory}
	out := Output{Decisions: make([]domain.Decision, len(in.Transactions))}

	// the letterable transactions, in input order; the others are decided
	// at once
	todo := make([]int32, 0, len(in.Transactions))
	for i := range in.Transactions {
		tx := &in.Transactions[i]
		if tx.Reversal || tx.Return || !tx.IsLetterable() {
			out.Decisions[i] = e.notLetterable(tx)
			continue
		}
		todo = append(todo, int32(i))
	}
	// gather every evidence; count, per item, the transactions whose text
	// designates it (an item designated by a transaction's text is not
	// taken by another payment's inferred allocation); and note what
	// orders the decisions
	evs := make([]atomic.Pointer[evidence], len(todo))
	jobs := make([]job, len(todo))
	e.claimed = make([]int32, len(e.ix.items))
	e.claimedExact = make([]int32, len(e.ix.items))
	scratches := make([]*scratch, workers)
	forChunks(len(todo), workers, chunk, func(w, lo, hi int) {
		sc := scratches[w]
		if sc == nil {
			sc = newScratch()
			scratches[w] = sc
		}
		var des []int32
		for k := lo; k < hi; k++ {
			tx := &in.Transactions[todo[k]]
			ev := e.gatherWith(tx, sc)
			evs[k].Store(ev)
			des = appendDesignated(des[:0], ev)
			for _, n := range des {
				atomic.AddInt32(&e.claimed[n], 1)
				if ev.designatesExactly(n) {
					atomic.AddInt32(&e.claimedExact[n], 1)
				}
			}
			jobs[k] = newJob(tx.BookingDate.Unix(), tx.BookingDate.Nanosecond(), ev.tier, tx.Key, k)
		}
	})
	scratches = nil

	// strongest evidence first, then by booking date and key
	sortStableParallel(jobs, workers, func(a, b job) int {
		switch {
		case a.tier() != b.tier():
			return int(b.tier() - a.tier())
		case a.sec != b.sec:
			return cmp.Compare(a.sec, b.sec)
		case a.tn != b.tn: // same tier: the nanoseconds differ
			return int(a.nsec() - b.nsec())
		}
		return strings.Compare(a.key, b.key)
	})
	// transactions that share a key (it should not happen) are ordered by
	// a hash of their content, so that the input order does not matter
	for lo := 0; lo < len(jobs); {
		hi := lo + 1
		for hi < len(jobs) && jobs[hi].key == jobs[lo].key && jobs[hi].tn == jobs[lo].tn && jobs[hi].sec == jobs[lo].sec {
			hi++
		}
		if hi-lo > 1 {
			run := jobs[lo:hi]
			hashed := make([]hashedJob, len(run))
			for r, j := range run {
				hashed[r] = hashedJob{txHash(&in.Transactions[todo[j.k]]), j}
			}
			slices.SortStableFunc(hashed, func(a, b hashedJob) int { return cmpUint64(a.hash, b.hash) })
			for r := range hashed {
				run[r] = hashed[r].j
			}
		}
		lo = hi
	}

	var pf *prefetcher
	if workers > 1 {
		pf = e.startPrefetch(&in, todo, jobs, evs)
	}
	var learned []Learning
	for p, j := range jobs {
		if pf != nil {
			pf.decided.Store(int64(p))
		}
		i := todo[j.k]
		tx := &in.Transactions[i]
		ev := evs[j.k].Load()
		d := e.decide(tx, ev)
		d.TxKey = tx.Key
		e.consume(d)
		out.Decisions[i] = d
		learned = append(learned, e.learn(tx, ev, d)...)
		evs[j.k].Store(nil) // let the evidence go as the run proceeds
	}
	if pf != nil {
		pf.finish()
	}
	// what was learned, each fact once, in order
	sortStableParallel(learned, workers, func(x, y Learning) int {
		if c := strings.Compare(x.Kind, y.Kind); c != 0 {
			return c
		}
		if c := strings.Compare(x.Value, y.Value); c != 0 {
			return c
		}
		return strings.Compare(x.CustomerID, y.CustomerID)
	})
	out.Learned = slices.Compact(learned)
	return out
}

// hashedJob is a job with the hash of its transaction's content, which
// orders the jobs of transactions sharing a key.
type hashedJob struct {
	hash uint64
	j    job
}

func cmpUint64(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
