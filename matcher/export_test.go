package matcher

import (
	"fmt"
	"slices"
)

// CheckInvariants and CheckShuffled expose the golden-test property checks
// to the external benchmark tests.
var (
	CheckInvariants = checkInvariants
	CheckShuffled   = checkShuffled
)

// TypoBench builds the index of in and returns, for the typo benchmark,
// a function that gathers transaction i's evidence without its typo step
// (once, outside the timed loop) and one that runs the typo step on it,
// returning how many items it found: the deletion index's, or with scan
// the scan of the amount's and the payer's items it replaced (scanTypos).
func TypoBench(in Input, scan bool) (prepare func(i int), typos func(i int) int) {
	e := &engine{cfg: in.Config, ix: newIndex(in.Items, in.Memory), mem: in.Memory}
	evs := make([]*evidence, len(in.Transactions))
	texts := make([][]string, len(in.Transactions))
	sc := newScratch()
	prepare = func(i int) {
		tx := &in.Transactions[i]
		ev := e.gatherWith(tx, sc)
		ev.w().typos, ev.w().payerTypos = nil, nil
		evs[i], texts[i] = ev, txTexts(tx, newScratch())
	}
	typos = func(i int) int {
		ev := evs[i]
		if ev == nil || ev.strongDoc() {
			return 0
		}
		if scan {
			t, p := e.scanTypos(ev, texts[i], sc)
			return len(t) + len(p)
		}
		ev.w().typos, ev.w().payerTypos = ev.r().typos[:0], ev.r().payerTypos[:0]
		e.gatherTypos(ev, texts[i], sc)
		return len(ev.r().typos) + len(ev.r().payerTypos)
	}
	return prepare, typos
}

// scanTypos is the one-edit step as it was before the deletion index: every
// item of the amount, then every item of the payer's customers, checked
// against every n-gram. The reference of TypoDiff.
func (e *engine) scanTypos(ev *evidence, texts []string, sc *scratch) (typos, payerTypos []int32) {
	ix := e.ix
	var grams []string
	made := false
	check := func(n int32) bool {
		if len(ev.docs) == 0 {
			_, ok := ix.typoMatchGrams(grams, n)
			return ok
		}
		_, ok := ix.typoMatchFiltered(grams, n, func(g string) bool {
			for _, d := range ev.docs {
				if g == d.text || g == ix.docL[d.item] {
					return true
				}
			}
			return false
		})
		return ok
	}
	for _, n := range ix.byAmount.get(ev.akey) {
		if !made {
			grams, made = appendTextGrams(nil, texts, sc), true
		}
		if check(n) {
			typos = append(typos, n)
		}
	}
	for _, c := range ev.payer {
		for _, n := range ix.byCustomer[c] {
			if slices.Contains(typos, n) {
				continue
			}
			if !made {
				grams, made = appendTextGrams(nil, texts, sc), true
			}
			if len(grams) == 0 {
				break
			}
			if check(n) {
				payerTypos = append(payerTypos, n)
			}
		}
	}
	return typos, payerTypos
}

// TypoDiff gathers every transaction's evidence of in and returns the
// transactions whose one-edit items differ between the deletion index and
// the scan, and how many transactions had any.
func TypoDiff(in Input) (diffs []string, withTypos int) {
	e := &engine{cfg: in.Config, ix: newIndexWorkers(in.Items, in.Memory, 2), mem: in.Memory}
	sc := newScratch()
	for i := range in.Transactions {
		tx := &in.Transactions[i]
		if !tx.IsLetterable() {
			continue
		}
		ev := e.gatherWith(tx, sc)
		if ev.strongDoc() {
			continue
		}
		sc := newScratch()
		t, p := e.scanTypos(ev, txTexts(tx, sc), sc)
		if len(t)+len(p) > 0 {
			withTypos++
		}
		if !slices.Equal(t, ev.r().typos) || !slices.Equal(p, ev.r().payerTypos) {
			diffs = append(diffs, fmt.Sprintf("%s: index %v %v, scan %v %v", tx.Key, ev.r().typos, ev.r().payerTypos, t, p))
		}
	}
	return diffs, withTypos
}

// TypoBuild returns a function that builds the deletion index of p's
// items again on workers goroutines (BenchmarkTypoBuild).
func TypoBuild(p *ItemsIndex, workers int) func() {
	return func() { p.ix.typos = p.ix.buildTypoIndex(workers) }
}
