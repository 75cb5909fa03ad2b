package matcher

import (
	"sync/atomic"

	"github.com/lettrage/lettrage/domain"
)

// ItemsIndex is the open items' index of a Match call built ahead of it
// (IndexItems): a caller that has the items before the transactions — the
// pass reads the statements after the open items — builds it while the
// statements are still being read, and hands it to Match in Input.Index.
// It serves one Match call (matching consumes the items' residuals in it).
type ItemsIndex struct {
	items []domain.OpenItem
	ix    *index
	taken atomic.Bool
}

// IndexItems builds the index of items on workers goroutines (0:
// GOMAXPROCS), as Match would with an empty Memory. The items are not
// copied: they must not change until Match has used the index.
func IndexItems(items []domain.OpenItem, workers int) *ItemsIndex {
	return &ItemsIndex{items: items, ix: newIndexWorkers(items, Memory{}, workerCount(workers))}
}

// take returns the index for a Match over items with mem, with what mem
// learned added; nil when it cannot serve — built over other items, taken
// before, or mem has settled items (which the index lists after the open
// ones: Match builds its own then).
func (p *ItemsIndex) take(items []domain.OpenItem, mem Memory) *index {
	if p == nil || len(mem.Settled) > 0 || !sameItems(p.items, items) || !p.taken.CompareAndSwap(false, true) {
		return nil
	}
	ix := p.ix
	p.ix = nil
	ix.learnIBANs(mem)
	ix.learnNames(mem)
	return ix
}

// sameItems reports whether a and b are the same slice.
func sameItems(a, b []domain.OpenItem) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}
