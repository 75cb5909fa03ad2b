package matcher

import (
	"math"
	"sort"

	"github.com/shopspring/decimal"
)

// units returns a in minor units at scale (10^scale per unit), when that is
// exact and fits comfortably in an int64.
func (a Amount) units(scale int32) (int64, bool) {
	s := a.d.Shift(scale)
	if !s.IsInteger() || s.Abs().GreaterThan(decimal.NewFromInt(math.MaxInt64/4)) {
		return 0, false
	}
	return s.IntPart(), true
}

// Bounds of the combination search: at most maxSolutions combinations are
// collected and at most comboBudget search nodes visited per customer.
const (
	maxSolutions = 8
	comboBudget  = 20000
	maxComboPool = 400
)

// combinations finds combinations of two or more of items (one customer's,
// oldest first) whose current residuals sum exactly to tx's amount. It is
// a depth-first subset-sum search over the positive residuals, largest
// first, pruned by the remaining sum and bounded by Config.MaxCombination
// items, maxSolutions solutions and a node budget. complete is false when a
// bound cut the search short, so the solutions found may not be all.
func (e *engine) combinations(tx *Transaction, items []int32) ([][]int32, bool) {
	scale := CurrencyDigits(tx.Currency)
	if s := tx.Amount.Scale(); s > scale {
		scale = s
	}
	target, ok := tx.Amount.units(scale)
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
		v, ok := e.ix.resid[n].units(scale)
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
	sort.SliceStable(pool, func(a, b int) bool { return pool[a].v > pool[b].v })
	suffix := make([]int64, len(pool)+1)
	for i := len(pool) - 1; i >= 0; i-- {
		suffix[i] = suffix[i+1] + pool[i].v
	}
	maxK := e.cfg.MaxCombination
	var sols [][]int32
	path := make([]int32, 0, maxK)
	budget := comboBudget
	var dfs func(start int, remaining int64)
	dfs = func(start int, remaining int64) {
		if remaining == 0 {
			if len(path) >= 2 {
				sols = append(sols, append([]int32(nil), path...))
			}
			return
		}
		if len(path) >= maxK || len(sols) >= maxSolutions {
			return
		}
		for i := start; i < len(pool); i++ {
			if budget--; budget <= 0 {
				complete = false
				return
			}
			if suffix[i] < remaining {
				return // even all that is left cannot reach it
			}
			v := pool[i].v
			if v > remaining {
				continue
			}
			// the largest value left times the slots left must reach it
			if v*int64(maxK-len(path)) < remaining {
				return
			}
			path = append(path, pool[i].n)
			dfs(i+1, remaining-v)
			path = path[:len(path)-1]
			if len(sols) >= maxSolutions {
				complete = false
				return
			}
		}
	}
	dfs(0, target)
	return sols, complete
}
