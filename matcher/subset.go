package matcher

import (
	"math"
	"sort"

	"github.com/lettrage/lettrage/domain"
)

// Bounds of the combination search: at most maxSolutions combinations are
// collected and at most comboBudget search nodes visited per customer; only
// the maxComboPool oldest items of a customer take part.
const (
	maxSolutions = 8
	comboBudget  = 20000
	maxComboPool = 400
)

// combo is one combination of open items whose residuals sum to a payment.
type combo struct {
	// items are the items taken, for each amount the preferred ones (named
	// by the remittance) first, then the oldest due.
	items []int32
	// choice is true when some amount is taken from fewer items than the
	// customer has open with that residual: other, interchangeable
	// combinations of the same amounts exist and the oldest were taken.
	choice bool
}

// combinations finds the combinations of two or more of items (one
// customer's, oldest first) whose current residuals sum exactly to tx's
// amount. It is a depth-first subset-sum search over the positive
// residuals grouped by value (so that n interchangeable items of one
// amount count as one choice of how many, not as n-choose-k combinations),
// largest value first, pruned by the remaining sum and the items left, and
// bounded by Config.MaxCombination items, maxSolutions combinations of
// distinct amounts, maxComboPool items and a node budget. Each solution is
// a multiset of amounts, returned with the items it takes: prefer (nil for
// none) first, then the oldest of each amount. complete is false when a
// bound cut the search short, so the solutions found may not be all.
func (e *engine) combinations(tx *domain.Transaction, items []int32, prefer func(int32) bool) ([]combo, bool) {
	scale := domain.CurrencyDigits(tx.Currency)
	if s := tx.Amount.Scale(); s > scale {
		scale = s
	}
	target, ok := tx.Amount.Units(scale)
	if !ok || target <= 0 {
		return nil, true
	}
	type cand struct {
		n int32
		v int64
	}
	var pool []cand
	for _, n := range items {
		if !e.eligible(tx, n) || e.ix.resid[n].Sign() <= 0 {
			continue
		}
		v, ok := e.ix.resid[n].Units(scale)
		if !ok || v > target {
			continue
		}
		pool = append(pool, cand{n, v})
	}
	complete := true
	if len(pool) > maxComboPool {
		pool, complete = pool[:maxComboPool], false // items are oldest first
	}
	if len(pool) < 2 {
		return nil, complete
	}
	// groups of equal residuals, largest first; within one, the preferred
	// items first, then oldest first (the stable sort keeps the order of
	// items)
	sort.SliceStable(pool, func(a, b int) bool { return pool[a].v > pool[b].v })
	type group struct {
		v     int64
		items []int32
	}
	var groups []group
	for _, c := range pool {
		if k := len(groups) - 1; k >= 0 && groups[k].v == c.v {
			groups[k].items = append(groups[k].items, c.n)
			continue
		}
		groups = append(groups, group{v: c.v, items: []int32{c.n}})
	}
	if prefer != nil {
		for _, g := range groups {
			if len(g.items) > 1 {
				sort.SliceStable(g.items, func(a, b int) bool { return prefer(g.items[a]) && !prefer(g.items[b]) })
			}
		}
	}
	suffix := make([]int64, len(groups)+1)
	for i := len(groups) - 1; i >= 0; i-- {
		// saturated: each value is below MaxInt64/4, their sum need not be
		t := suffix[i+1]
		for range groups[i].items {
			t = min(math.MaxInt64/2, t+groups[i].v)
		}
		suffix[i] = t
	}
	maxK := e.cfg.MaxCombination
	var sols []combo
	counts := make([]int, len(groups))
	budget := comboBudget
	var dfs func(g int, remaining int64, slots int)
	dfs = func(g int, remaining int64, slots int) {
		if remaining == 0 {
			if maxK-slots < 2 {
				return
			}
			var c combo
			for i, k := range counts {
				c.items = append(c.items, groups[i].items[:k]...)
				c.choice = c.choice || k > 0 && k < len(groups[i].items)
			}
			sols = append(sols, c)
			return
		}
		if g == len(groups) || slots == 0 || len(sols) >= maxSolutions {
			return
		}
		if budget--; budget <= 0 {
			complete = false
			return
		}
		// all that is left cannot reach it, or the largest value left
		// times the slots left cannot
		if suffix[g] < remaining || (remaining+int64(slots)-1)/int64(slots) > groups[g].v {
			return
		}
		v := groups[g].v
		most := min(len(groups[g].items), slots, int(remaining/v))
		for k := most; k >= 0; k-- {
			counts[g] = k
			dfs(g+1, remaining-int64(k)*v, slots-k)
			counts[g] = 0
			if len(sols) >= maxSolutions || budget <= 0 {
				complete = false // what was not explored may fit too
				return
			}
		}
	}
	dfs(0, target, maxK)
	return sols, complete
}
