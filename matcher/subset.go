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
	pool, complete := e.comboPool(tx, items, scale, target)
	if len(pool) < 2 {
		return nil, complete
	}
	groups := comboGroups(pool, prefer)
	s := comboSearch{groups: groups, suffix: suffixSums(groups), maxK: e.cfg.MaxCombination,
		counts: make([]int, len(groups)), budget: comboBudget, complete: complete}
	var sols []combo
	s.dfs(0, target, s.maxK, &sols)
	return sols, s.complete
}

// comboCand is an item taking part in a combination search, with its
// residual in units of the search's scale.
type comboCand struct {
	n int32
	v int64
}

// comboPool is the pool of a combination search: the eligible items,
// oldest first as given, with a positive residual (in units of scale) of
// at most target, and at most maxComboPool of them; complete is false when
// some were left out for that bound.
func (e *engine) comboPool(tx *domain.Transaction, items []int32, scale int32, target int64) (pool []comboCand, complete bool) {
	for _, n := range items {
		if !e.eligible(tx, n) || e.ix.resid[n].Sign() <= 0 {
			continue
		}
		v, ok := e.ix.resid[n].Units(scale)
		if !ok || v > target {
			continue
		}
		pool = append(pool, comboCand{n, v})
	}
	if len(pool) > maxComboPool {
		return pool[:maxComboPool], false // items are oldest first
	}
	return pool, true
}

// comboGroup is the items of one residual value, in the order they are
// taken.
type comboGroup struct {
	v     int64
	items []int32
}

// comboGroups groups pool by residual, largest first; within a group, the
// items prefer reports (nil for none) first, then in pool's order (oldest
// first). It reorders pool.
func comboGroups(pool []comboCand, prefer func(int32) bool) []comboGroup {
	sort.SliceStable(pool, func(a, b int) bool { return pool[a].v > pool[b].v })
	var groups []comboGroup
	for _, c := range pool {
		if k := len(groups) - 1; k >= 0 && groups[k].v == c.v {
			groups[k].items = append(groups[k].items, c.n)
			continue
		}
		groups = append(groups, comboGroup{v: c.v, items: []int32{c.n}})
	}
	if prefer != nil {
		for _, g := range groups {
			if len(g.items) > 1 {
				sort.SliceStable(g.items, func(a, b int) bool { return prefer(g.items[a]) && !prefer(g.items[b]) })
			}
		}
	}
	return groups
}

// suffixSums gives, for each group i, the sum of the residuals of every
// item of groups i and after (saturated at MaxInt64/2: each value is below
// MaxInt64/4, their sum need not be); one more entry, 0, ends it.
func suffixSums(groups []comboGroup) []int64 {
	suffix := make([]int64, len(groups)+1)
	for i := len(groups) - 1; i >= 0; i-- {
		t := suffix[i+1]
		for range groups[i].items {
			t = min(math.MaxInt64/2, t+groups[i].v)
		}
		suffix[i] = t
	}
	return suffix
}

// comboSearch is the state of one depth-first combination search: it
// reads groups, suffix and maxK and writes counts (how many items of each
// group the current path takes), budget (search nodes left) and complete.
// The solutions are kept apart (dfs's sols), so that the search's own
// slices do not escape with them.
type comboSearch struct {
	groups   []comboGroup
	suffix   []int64
	maxK     int
	counts   []int
	budget   int
	complete bool
}

// dfs explores the choices from group g on, with remaining left to reach
// and slots items left to take; a combination of at least two items that
// reaches it exactly is appended to sols.
func (s *comboSearch) dfs(g int, remaining int64, slots int, sols *[]combo) {
	if remaining == 0 {
		if s.maxK-slots < 2 {
			return
		}
		var c combo
		for i, k := range s.counts {
			c.items = append(c.items, s.groups[i].items[:k]...)
			c.choice = c.choice || k > 0 && k < len(s.groups[i].items)
		}
		*sols = append(*sols, c)
		return
	}
	if g == len(s.groups) || slots == 0 || len(*sols) >= maxSolutions {
		return
	}
	if s.budget--; s.budget <= 0 {
		s.complete = false
		return
	}
	// all that is left cannot reach it, or the largest value left
	// times the slots left cannot
	if s.suffix[g] < remaining || (remaining+int64(slots)-1)/int64(slots) > s.groups[g].v {
		return
	}
	v := s.groups[g].v
	most := min(len(s.groups[g].items), slots, int(remaining/v))
	for k := most; k >= 0; k-- {
		s.counts[g] = k
		s.dfs(g+1, remaining-int64(k)*v, slots-k, sols)
		s.counts[g] = 0
		if len(*sols) >= maxSolutions || s.budget <= 0 {
			s.complete = false // what was not explored may fit too
			return
		}
	}
}
