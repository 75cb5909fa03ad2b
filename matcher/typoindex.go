package matcher

import (
	"slices"
	"sort"
	"strings"
)

// The one-edit document-number lookup (issue 14): a symmetric-deletion
// index (the SymSpell idea) over the compact and loose document numbers of
// the open items. Two strings are one edit apart (a character replaced,
// inserted, deleted, or two adjacent ones swapped) only if deleting at most
// one character from each gives a common string; so each number is
// indexed under itself and under each of its one-character deletions, and a
// text n-gram is looked up under itself and its deletions. A hit is a
// candidate, checked with oneEdit and the rules of typoMatchFiltered: the
// index only replaces the scan of every item of a bucket (the items of the
// amount, the payer's items) against every n-gram of the text.
//
// Strings are not stored: each variant is a 64-bit polynomial hash (all
// deletions of an n-character string from its prefix and suffix hashes in
// O(n)), kept as a 32-bit fingerprint with the item in an open-addressing
// table. A fingerprint collision only adds a candidate the check drops.

// typoIndex is the deletion index of one Match call.
type typoIndex struct {
	shards     []typoShard
	shardShift uint
	// minLen and maxLen are the lengths of the indexed numbers: n-grams
	// more than one character shorter or longer are not looked up.
	minLen, maxLen int
	// Necessary conditions for an n-gram to be one edit from a number,
	// checked before any lookup: one of its first two characters is one of
	// the first two of a number (head), and it has at least one digit and
	// one letter fewer than the number with the fewest (minDigits,
	// minLetters).
	head                  [4]uint64 // a set of bytes
	minDigits, minLetters int
}

func (ti *typoIndex) addHead(c byte)     { ti.head[c>>6] |= 1 << (c & 63) }
func (ti *typoIndex) inHead(c byte) bool { return ti.head[c>>6]&(1<<(c&63)) != 0 }

// mayMatch reports whether n-gram g passes the necessary conditions of
// being one edit from an indexed number.
func (ti *typoIndex) mayMatch(g []byte) bool {
	if len(g) < ti.minLen-1 || len(g) > ti.maxLen+1 || !ti.inHead(g[0]) && !ti.inHead(g[1]) {
		return false
	}
	digits, letters := 0, 0
	for _, c := range g {
		if c >= '0' && c <= '9' {
			digits++
		} else {
			letters++
		}
	}
	return digits >= ti.minDigits-1 && letters >= ti.minLetters-1
}

// typoShard is an open-addressing table (linear probing) of slots
// fingerprint<<32 | item+1; 0 is an empty slot. It always has one.
type typoShard struct {
	slots []uint64
}

const (
	typoHashBase = 0x100000001b3 // odd: the polynomial's base, mod 2^64
	typoShardsLg = 4             // 16 shards, built in parallel
	typoMinKey   = 5             // numbers shorter than this are not one-edit matched
	typoBlocksLg = 8             // 256 blocks per shard, filled one after the other
)

// typoFillBatch is the most entries a goroutine of buildTypoIndex buffers
// at once (12 bytes each): about 2.5 million at 100,000 × 200,000, so one
// group there. A variable for the tests, which make it small.
var typoFillBatch = 1 << 22

// typoKeys calls fn with the keys of item n that the typo check compares
// with: its compact number and, when different, its loose one, each of at
// least typoMinKey characters.
func (ix *index) typoKeys(n int32, fn func(k string)) {
	c, l := ix.docC[n], ix.docL[n]
	if len(c) >= typoMinKey {
		fn(c)
	}
	if l != c && len(l) >= typoMinKey {
		fn(l)
	}
}

// variantHashes appends to dst the hash of s and of each string s less one
// character (once per distinct deletion: deleting either of two equal
// neighbours gives the same string).
func variantHashes[S ~string | ~[]byte](dst []uint64, s S, scratch []uint64) ([]uint64, []uint64) {
	n := len(s)
	// pre[i] = H(s[:i]), suf[i] = Σ_{j≥i} s[j]·B^(n-1-j)
	scratch = slices.Grow(scratch[:0], 2*(n+1))[:2*(n+1)]
	pre, suf := scratch[:n+1], scratch[n+1:]
	pre[0] = 0
	for i := 0; i < n; i++ {
		pre[i+1] = pre[i]*typoHashBase + uint64(s[i])
	}
	suf[n] = 0
	pow := uint64(1)
	for i := n - 1; i >= 0; i-- {
		suf[i] = suf[i+1] + uint64(s[i])*pow
		pow *= typoHashBase
	}
	dst = append(dst, typoMix(pre[n], n))
	pow = 1 // B^(n-1-j), from j = n-1 down
	for j := n - 1; j >= 0; j-- {
		if j == 0 || s[j] != s[j-1] {
			dst = append(dst, typoMix(pre[j]*pow+suf[j+1], n-1))
		}
		pow *= typoHashBase
	}
	return dst, scratch
}

// typoMix spreads a polynomial hash (and the string's length) over the
// 64 bits.
func typoMix(h uint64, n int) uint64 {
	h ^= uint64(n) * 0x9e3779b97f4a7c15
	h ^= h >> 31
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 29
	return h
}

// buildTypoIndex indexes the open items' numbers, on workers goroutines:
// each takes a range of shards and counts their entries, per shard and per
// block (a 1/typoBlocks of the shard's table, in slot order), sizes the
// tables (load about two thirds), then hashes the variants once more into a
// buffer, ordered by shard and block, and fills the tables from it block
// after block. A variant's first slot is in its block's part of the table,
// so the filling probes a few kilobytes at a time rather than the whole
// table at random (a cache miss per entry: most of the build's time, before).
// A buffer holds at most typoFillBatch entries: a goroutine whose shards
// have more fills them in groups, hashing again for each. The tables'
// contents do not depend on workers nor on the groups.
func (ix *index) buildTypoIndex(workers int) *typoIndex {
	ti := &typoIndex{shards: make([]typoShard, 1<<typoShardsLg), shardShift: 64 - typoShardsLg, minLen: -1,
		minDigits: maxGramLen, minLetters: maxGramLen}
	for n := int32(0); n < int32(ix.nOpen); n++ {
		ix.typoKeys(n, func(k string) {
			if ti.minLen < 0 || len(k) < ti.minLen {
				ti.minLen = len(k)
			}
			ti.maxLen = max(ti.maxLen, len(k))
			ti.addHead(k[0])
			ti.addHead(k[1])
			digits := 0
			for i := 0; i < len(k); i++ {
				if k[i] >= '0' && k[i] <= '9' {
					digits++
				}
			}
			ti.minDigits, ti.minLetters = min(ti.minDigits, digits), min(ti.minLetters, len(k)-digits)
		})
	}
	workers = max(1, min(workers, len(ti.shards)))
	per := (len(ti.shards) + workers - 1) / workers
	forChunks(len(ti.shards), workers, per, func(_, lo, hi int) {
		var hs, scratch []uint64
		each := func(fn func(shard int, h uint64, n int32)) {
			for n := int32(0); n < int32(ix.nOpen); n++ {
				ix.typoKeys(n, func(k string) {
					hs, scratch = variantHashes(hs[:0], k, scratch)
					for _, h := range hs {
						if s := int(h >> ti.shardShift); s >= lo && s < hi {
							fn(s, h, n)
						}
					}
				})
			}
		}
		// counts[(s-lo)<<typoBlocksLg | b]: the entries of shard s in block b
		counts := make([]int, (hi-lo)<<typoBlocksLg)
		each(func(s int, h uint64, _ int32) { counts[(s-lo)<<typoBlocksLg|typoBlock(h)]++ })
		// the shards' entries, and the groups of shards filled together
		// (ends: each group's end), each of at most typoFillBatch entries
		// unless one shard alone has more
		sizes := make([]int, hi-lo)
		var ends []int
		most, group := 0, 0
		for s := lo; s < hi; s++ {
			for _, k := range counts[(s-lo)<<typoBlocksLg : (s-lo+1)<<typoBlocksLg] {
				sizes[s-lo] += k
			}
			// a load of two thirds at most: short probes, a table of
			// 12 bytes per entry (a million items: about 290 MB)
			ti.shards[s].slots = make([]uint64, sizes[s-lo]*3/2+1)
			if s > lo && group+sizes[s-lo] > typoFillBatch {
				ends = append(ends, s)
				group = 0
			}
			group += sizes[s-lo]
			most = max(most, group)
		}
		ends = append(ends, hi)
		// slot values and first slots, by shard then block
		vals := make([]uint64, most)
		firsts := make([]uint32, most)
		at := make([]int, len(counts)) // where each block's next entry goes
		g0 := lo
		for _, g1 := range ends {
			off := 0
			for i := (g0 - lo) << typoBlocksLg; i < (g1-lo)<<typoBlocksLg; i++ {
				at[i] = off
				off += counts[i]
			}
			each(func(s int, h uint64, n int32) {
				if s < g0 || s >= g1 {
					return
				}
				i := &at[(s-lo)<<typoBlocksLg|typoBlock(h)]
				vals[*i] = h&0xffffffff00000000 | uint64(n+1)
				firsts[*i] = uint32(typoSlot(h, len(ti.shards[s].slots)))
				*i++
			})
			off = 0
			for s := g0; s < g1; s++ {
				slots := ti.shards[s].slots
				end := at[(s-lo+1)<<typoBlocksLg-1] // the shard's last block's end
				for i := off; i < end; i++ {
					typoInsert(slots, int(firsts[i]), vals[i])
				}
				off = end
			}
			g0 = g1
		}
	})
	return ti
}

// typoInsert puts slot value v in table slots, probing from slot p, unless
// it is there already (the same item under the same variant: its two keys).
func typoInsert(slots []uint64, p int, v uint64) {
	for ; ; p++ {
		if p == len(slots) {
			p = 0
		}
		if slots[p] == 0 {
			slots[p] = v
			return
		}
		if slots[p] == v {
			return
		}
	}
}

// typoBlock is the block of hash h in its shard's table: the top
// typoBlocksLg bits of the 32 that place it (typoSlot), so that the blocks
// are consecutive stretches of the table.
func typoBlock(h uint64) int { return int(uint32(h) >> (32 - typoBlocksLg)) }

// typoSlot is the first slot of hash h in a table of size slots: the low
// 32 bits scaled to the size (the fingerprint is the high 32).
func typoSlot(h uint64, size int) int { return int((h & 0xffffffff) * uint64(size) >> 32) }

// lookup calls fn with every item indexed under one of the hashes.
func (ti *typoIndex) lookup(hs []uint64, fn func(n int32)) {
	for _, h := range hs {
		slots := ti.shards[h>>ti.shardShift].slots
		fp := h & 0xffffffff00000000
		for p := typoSlot(h, len(slots)); ; p++ {
			if p == len(slots) {
				p = 0
			}
			s := slots[p]
			if s == 0 {
				break
			}
			if s&0xffffffff00000000 == fp {
				fn(int32(s&0xffffffff) - 1)
			}
		}
	}
}

// typoGramOK reports whether gram g is one edit away from one of item n's
// keys under the rules of typoMatchFiltered (found, when not nil, lists
// the grams not compared with the loose key).
func (ix *index) typoGramOK(g string, n int32, found func(string) bool) bool {
	keys := [2]string{ix.docC[n], ix.docL[n]}
	if keys[0] == "" {
		return false
	}
	for i, k := range keys {
		if len(k) >= typoMinKey && oneEdit(g, k) && (i == 0 || k == keys[0] || !strings.HasPrefix(k, g)) &&
			(i == 0 || found == nil || !found(g)) {
			return true
		}
	}
	return false
}

// typoHits returns the open items whose number is one edit away from one
// of the text n-grams of texts (forTextGrams), under the rules of
// typoMatchGramsBut for ev, sorted by item.
func (ix *index) typoHits(ev *evidence, texts []string, sc *scratch) []int32 {
	ti := ix.typos
	if ti == nil || ti.minLen < 0 {
		return nil
	}
	var found func(string) bool
	if len(ev.docs) > 0 {
		found = func(g string) bool {
			for _, d := range ev.docs {
				if g == d.text || g == ix.docL[d.item] {
					return true
				}
			}
			return false
		}
	}
	hits := sc.typoHits[:0]
	forTextGrams(texts, sc, func(g []byte) {
		if !ti.mayMatch(g) {
			return
		}
		sc.hashes, sc.hashScratch = variantHashes(sc.hashes[:0], g, sc.hashScratch)
		gs := ""
		ti.lookup(sc.hashes, func(n int32) {
			if slices.Contains(hits, n) {
				return
			}
			if gs == "" {
				gs = string(g)
			}
			if ix.typoGramOK(gs, n, found) {
				hits = append(hits, n)
			}
		})
	})
	slices.Sort(hits)
	sc.typoHits = hits[:0]
	return slices.Clone(hits)
}

// gatherTypos fills ev.r().typos, the open items of exactly the amount whose
// document number is one edit away from an n-gram of texts, and
// ev.r().payerTypos, the payer's other items whose number is, by looking the
// n-grams up in the deletion index.
func (e *engine) gatherTypos(ev *evidence, texts []string, sc *scratch) {
	ix := e.ix
	if len(ix.byAmount.get(ev.akey)) == 0 && len(ev.payer) == 0 {
		return // nothing the typos could be of
	}
	hits := ix.typoHits(ev, texts, sc)
	if len(hits) == 0 {
		return
	}
	var payer []int32
	for _, n := range hits {
		it := ix.items[n]
		switch {
		case it.Currency == ev.tx.Currency && it.Residual.Equal(ev.tx.Amount):
			ev.w().typos = append(ev.r().typos, n) // in byAmount[ev.akey]: in item order
		case e.isPayer(ev, it.CustomerID):
			payer = append(payer, n)
		}
	}
	if len(payer) > 0 {
		// the payer's customers in order, each one's items oldest first
		sort.SliceStable(payer, func(a, b int) bool {
			ca, cb := ix.items[payer[a]].CustomerID, ix.items[payer[b]].CustomerID
			if ca != cb {
				return ca < cb // ev.payer is sorted
			}
			return ix.older(payer[a], payer[b])
		})
		ev.w().payerTypos = payer
	}
}
