package matcher

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/lettrage/lettrage/domain"
)

// prefetchAhead is how many decisions ahead of the deciding goroutine the
// prefetcher works.
const prefetchAhead = 512

// prefetcher reads, a little ahead of the decisions, the open items that
// the coming transactions' evidence points to, so that the goroutine that
// decides (one, in a fixed order) finds them in the processor's cache
// instead of waiting for memory. It only reads what nothing writes during
// the decisions: the inputs, the index's lookups and gathered evidence. It
// changes no result, only when memory is fetched.
type prefetcher struct {
	decided atomic.Int64 // position of the decision being made
	stop    atomic.Bool
	done    sync.WaitGroup
	sink    uint64
}

// startPrefetch starts the prefetcher over jobs (in decision order).
func (e *engine) startPrefetch(in *Input, todo []int32, jobs []job, evs []atomic.Pointer[evidence]) *prefetcher {
	pf := &prefetcher{}
	pf.decided.Store(-1)
	pf.done.Add(1)
	go func() {
		defer pf.done.Done()
		var sink uint64
		for p := 0; p < len(jobs) && !pf.stop.Load(); {
			d := int(pf.decided.Load())
			switch {
			case p <= d:
				p = d + 1 // fell behind: what is decided needs nothing
				continue
			case p > d+prefetchAhead:
				time.Sleep(50 * time.Microsecond)
				continue
			}
			j := jobs[p]
			if ev := evs[j.k].Load(); ev != nil {
				sink += e.ix.touch(&in.Transactions[todo[j.k]], ev)
			}
			p++
		}
		pf.sink = sink
	}()
	return pf
}

// finish stops the prefetcher and waits for it.
func (pf *prefetcher) finish() {
	pf.stop.Store(true)
	pf.done.Wait()
}

// maxTouchPerList bounds the items read per lookup list.
const maxTouchPerList = 16

// touch reads the data the decision of tx will read first and returns a
// value that depends on it (so that the reads are not optimised away).
func (ix *index) touch(tx *domain.Transaction, ev *evidence) uint64 {
	h := uint64(tx.Amount.Sign()+1) + uint64(len(tx.Key))
	item := func(n int32) {
		it := ix.items[n]
		h += uint64(it.Residual.Sign()+1) + uint64(len(it.ID)) + uint64(len(it.Currency))
		if it.DocumentNumber != "" {
			h += uint64(it.DocumentNumber[0])
		}
	}
	for _, r := range ev.refs {
		item(r.item)
	}
	for _, d := range ev.docs {
		item(d.item)
	}
	for _, n := range ev.r().typos {
		item(n)
	}
	for k, n := range ix.byAmount.get(ev.akey) {
		if k == maxTouchPerList {
			break
		}
		item(n)
	}
	for _, c := range ev.payer {
		for k, n := range ix.byCustomer[c] {
			if k == maxTouchPerList {
				break
			}
			item(n)
		}
	}
	return h
}
