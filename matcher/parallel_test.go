package matcher

import (
	"encoding/json"
	"fmt"
	"math/rand"
	"path/filepath"
	"reflect"
	"slices"
	"sync/atomic"
	"testing"
)

// sameOutput fails t when got differs from want in any decision or fact
// learned, unexported fields included.
func sameOutput(t *testing.T, what string, want, got Output) {
	t.Helper()
	if len(got.Decisions) != len(want.Decisions) {
		t.Fatalf("%s: %d decisions, want %d", what, len(got.Decisions), len(want.Decisions))
	}
	for i := range want.Decisions {
		if !reflect.DeepEqual(got.Decisions[i], want.Decisions[i]) {
			g, _ := json.Marshal(got.Decisions[i])
			w, _ := json.Marshal(want.Decisions[i])
			t.Fatalf("%s: decision %d differs:\n got  %s\n want %s", what, i, g, w)
		}
	}
	if !reflect.DeepEqual(got.Learned, want.Learned) {
		t.Fatalf("%s: learned %v, want %v", what, got.Learned, want.Learned)
	}
}

// TestMatchWorkersGolden runs every golden case on one goroutine and on
// several with one transaction per chunk: the decisions must be identical.
func TestMatchWorkersGolden(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join("testdata", "cases", "*"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no golden cases found: %v", err)
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			c := loadCase(t, dir)
			in := Input{Transactions: c.Transactions, Items: c.Items, Memory: c.Memory, Config: c.Config}
			want := match(in, 1, gatherChunk)
			for _, w := range []int{2, 3, 8} {
				sameOutput(t, fmt.Sprintf("%d workers", w), want, match(in, w, 1))
			}
		})
	}
}

// TestForChunks checks that every element is handed out exactly once, to a
// worker id in range, whatever the sizes.
func TestForChunks(t *testing.T) {
	for _, tc := range []struct{ n, workers, chunk int }{
		{0, 4, 3}, {1, 4, 3}, {10, 1, 3}, {10, 4, 3}, {1000, 3, 7}, {1000, 8, 1000}, {5, 2, 0},
	} {
		t.Run(fmt.Sprintf("n=%d w=%d c=%d", tc.n, tc.workers, tc.chunk), func(t *testing.T) {
			seen := make([]atomic.Int32, tc.n)
			var bad atomic.Int32
			forChunks(tc.n, tc.workers, tc.chunk, func(w, lo, hi int) {
				if w < 0 || w >= max(tc.workers, 1) || lo >= hi || (tc.chunk > 0 && hi-lo > tc.chunk) {
					bad.Add(1)
				}
				for i := lo; i < hi; i++ {
					seen[i].Add(1)
				}
			})
			if bad.Load() > 0 {
				t.Errorf("%d chunks out of bounds", bad.Load())
			}
			for i := range seen {
				if c := seen[i].Load(); c != 1 {
					t.Fatalf("element %d handed out %d times", i, c)
				}
			}
		})
	}
}

// TestSortStableParallel compares the parallel stable sort with
// slices.SortStableFunc on data with many equal keys, so that stability
// shows.
func TestSortStableParallel(t *testing.T) {
	type kv struct{ key, seq int }
	rng := rand.New(rand.NewSource(3))
	for _, n := range []int{0, 5, 1 << 14, 3<<14 + 17} {
		for _, workers := range []int{1, 2, 3, 5} {
			s := make([]kv, n)
			for i := range s {
				s[i] = kv{rng.Intn(1000), i}
			}
			want := slices.Clone(s)
			cmp := func(a, b kv) int { return a.key - b.key }
			slices.SortStableFunc(want, cmp)
			sortStableParallel(s, workers, cmp)
			if !slices.Equal(s, want) {
				t.Fatalf("n=%d workers=%d: not the stable order", n, workers)
			}
		}
	}
}

// TestKeyFilter checks that the filter never rejects a key it holds and
// rejects most others.
func TestKeyFilter(t *testing.T) {
	f := newKeyFilter(10_000)
	for i := range 10_000 {
		f.add(fmt.Sprintf("FA2025%05d", i))
	}
	for i := range 10_000 {
		if k := fmt.Sprintf("FA2025%05d", i); !mayContain(&f, k) || !mayContain(&f, []byte(k)) {
			t.Fatalf("%s rejected", k)
		}
	}
	passed := 0
	for i := range 10_000 {
		if mayContain(&f, fmt.Sprintf("INV%07d", i)) {
			passed++
		}
	}
	if passed > 1_500 {
		t.Errorf("%d of 10,000 absent keys pass the filter", passed)
	}
	var empty keyFilter
	if !mayContain(&empty, "X") {
		t.Error("a filter never built rejects a key")
	}
}

// TestMatchPrebuiltIndexGolden runs every golden case with the items'
// index built ahead (IndexItems): the decisions must be those of a Match
// that builds its own, and the index is used when Memory has no settled
// item (which only Match's own index lists), once.
func TestMatchPrebuiltIndexGolden(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join("testdata", "cases", "*"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no golden cases found: %v", err)
	}
	learned := 0
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			c := loadCase(t, dir)
			in := Input{Transactions: c.Transactions, Items: c.Items, Memory: c.Memory, Config: c.Config}
			want := match(in, 1, gatherChunk)
			in.Index = IndexItems(c.Items, 2)
			sameOutput(t, "prebuilt index", want, match(in, 2, 1))
			if used := in.Index.taken.Load(); used != (len(c.Memory.Settled) == 0) {
				t.Fatalf("prebuilt index used: %v with %d settled items", used, len(c.Memory.Settled))
			}
			if len(c.Memory.Settled) == 0 && len(c.Memory.IBANCustomers)+len(c.Memory.NameCustomers) > 0 {
				learned++
			}
			// Used once: a second Match builds its own.
			sameOutput(t, "prebuilt index, second use", want, match(in, 2, 1))
			// Over other items (a copy): not used.
			other := Input{Transactions: c.Transactions, Items: slices.Clone(c.Items), Memory: c.Memory, Config: c.Config,
				Index: IndexItems(c.Items, 1)}
			sameOutput(t, "index of other items", want, match(other, 1, gatherChunk))
			if other.Index.taken.Load() && len(c.Items) > 0 {
				t.Fatal("an index of other items was used")
			}
		})
	}
	if learned == 0 {
		t.Fatal("no golden case has learned payers without settled items: the index's learning is not tested")
	}
}

// TestJobPacksTierAndNanoseconds checks that a job gives back the tier and
// the nanoseconds it packs in one word, at their bounds, and that the
// order of the decisions (tier first, then date) holds across them.
func TestJobPacksTierAndNanoseconds(t *testing.T) {
	for _, tier := range []int8{tierNone, tierPayer, tierDocument, tierReference} {
		for _, nsec := range []int{0, 1, 999_999_999} {
			j := newJob(-62135596800, nsec, tier, "k", 7)
			if j.tier() != int32(tier) || j.nsec() != int32(nsec) || j.k != 7 {
				t.Errorf("newJob(tier %d, nsec %d): tier %d nsec %d k %d", tier, nsec, j.tier(), j.nsec(), j.k)
			}
		}
	}
	hi, lo := newJob(0, 0, tierReference, "a", 0), newJob(0, 999_999_999, tierNone, "a", 1)
	if hi.tn <= lo.tn || hi.nsec() >= lo.nsec() {
		t.Errorf("packing: %+v %+v", hi, lo)
	}
}
