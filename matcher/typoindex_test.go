package matcher

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/lettrage/lettrage/domain"
)

// The differential tests of the deletion index (typoindex.go): what the
// index finds must be exactly what a brute-force scan of every open item
// finds, where "one edit" is decided by oneEditRef below, an enumeration
// that shares no code with oneEdit.

// oneEditRef reports whether b is one of the strings made from a by one
// edit: deleting a byte, replacing one by another, inserting one, or
// swapping two adjacent different bytes. Only the bytes of a and b can
// make b, so only they are tried.
func oneEditRef(a, b string) bool {
	if a == b {
		return false
	}
	var alphabet []byte
	for _, c := range []byte(a + b) {
		if !slices.Contains(alphabet, c) {
			alphabet = append(alphabet, c)
		}
	}
	for i := 0; i <= len(a); i++ {
		if i < len(a) && a[:i]+a[i+1:] == b {
			return true // deletion
		}
		for _, c := range alphabet {
			if a[:i]+string(c)+a[i:] == b {
				return true // insertion
			}
			if i < len(a) && c != a[i] && a[:i]+string(c)+a[i+1:] == b {
				return true // substitution
			}
		}
		if i+1 < len(a) && a[i] != a[i+1] && a[:i]+string(a[i+1])+string(a[i])+a[i+2:] == b {
			return true // transposition
		}
	}
	return false
}

// TestOneEditEqualsEnumeration: oneEdit, which the index's candidates are
// checked with, decides as the enumeration does, on every pair of strings
// of up to four bytes over a three-letter alphabet (repeated bytes, equal
// neighbours, empty strings) and on random longer pairs a few edits apart.
func TestOneEditEqualsEnumeration(t *testing.T) {
	var all []string
	var grow func(s string)
	grow = func(s string) {
		all = append(all, s)
		if len(s) < 4 {
			for _, c := range "A01" {
				grow(s + string(c))
			}
		}
	}
	grow("")
	ones := 0
	for _, a := range all {
		for _, b := range all {
			got, want := oneEdit(a, b), oneEditRef(a, b)
			if got != want {
				t.Fatalf("oneEdit(%q, %q) = %v, the enumeration says %v", a, b, got, want)
			}
			if want {
				ones++
			}
		}
	}
	if ones < 1000 {
		t.Fatalf("only %d pairs one edit apart: the enumeration finds nothing", ones)
	}
	r := rand.New(rand.NewPCG(14, 1))
	for range 20000 {
		a := randomNumber(r)
		b := a
		for range r.IntN(3) {
			b = randomEdit(r, b)
		}
		if got, want := oneEdit(a, b), oneEditRef(a, b); got != want {
			t.Fatalf("oneEdit(%q, %q) = %v, the enumeration says %v", a, b, got, want)
		}
	}
}

// randomNumber is a document number as payers and ERPs write them, biased
// towards what is hard for the index: repeated bytes, runs of zeros,
// lengths around typoMinKey, numbers without letters or without digits.
func randomNumber(r *rand.Rand) string {
	var b strings.Builder
	switch r.IntN(6) {
	case 0:
		b.WriteString([]string{"FA", "INV", "F", "CN", "AV"}[r.IntN(5)])
		b.WriteString([]string{"-", " ", "/", ""}[r.IntN(4)])
		b.WriteString([]string{"2025", "2024", "2026"}[r.IntN(3)])
		b.WriteString([]string{"-", " ", "/", ""}[r.IntN(4)])
		fmt.Fprintf(&b, "%0*d", 2+r.IntN(5), r.IntN(1000))
	case 1: // digits only, short
		fmt.Fprintf(&b, "%0*d", 4+r.IntN(4), r.IntN(100000))
	case 2: // letters only
		for range 4 + r.IntN(4) {
			b.WriteByte("ABAB"[r.IntN(4)])
		}
	case 3: // runs of one byte
		c := "0A9Z"[r.IntN(4)]
		b.WriteString(strings.Repeat(string(c), 4+r.IntN(4)))
		if r.IntN(2) == 0 {
			b.WriteByte("0A1"[r.IntN(3)])
		}
	case 4: // a small alphabet: many numbers one edit from each other
		for range 5 + r.IntN(3) {
			b.WriteByte("A01"[r.IntN(3)])
		}
	default:
		fmt.Fprintf(&b, "%s%d", []string{"INV", "RE", "X"}[r.IntN(3)], r.IntN(100000))
	}
	return b.String()
}

// randomEdit applies one random edit to s (it may give s itself back).
func randomEdit(r *rand.Rand, s string) string {
	c := string("0123456789AFINZ"[r.IntN(15)])
	i := r.IntN(len(s) + 1)
	switch r.IntN(4) {
	case 0:
		return s[:i] + c + s[i:]
	case 1:
		if i < len(s) {
			return s[:i] + s[i+1:]
		}
	case 2:
		if i < len(s) {
			return s[:i] + c + s[i+1:]
		}
	default:
		if i+1 < len(s) {
			return s[:i] + string(s[i+1]) + string(s[i]) + s[i+2:]
		}
	}
	return s
}

// typoTestIndex builds the index of open items numbered docs.
func typoTestIndex(docs []string) *index {
	items := make([]domain.OpenItem, len(docs))
	for i, d := range docs {
		items[i] = domain.OpenItem{ID: fmt.Sprintf("I%04d", i), CustomerID: fmt.Sprint("C", i%7), DocumentNumber: d,
			Currency: "EUR", Amount: domain.MustAmount("10.00"), Residual: domain.MustAmount("10.00")}
	}
	return newIndexWorkers(items, Memory{}, 2)
}

// indexGramHits is what the index gives for one compact n-gram g: the
// items it looks up under g's variants (after the necessary conditions of
// mayMatch) whose compact or loose key is one edit from g.
func indexGramHits(ix *index, g string) []int32 {
	ti := ix.typos
	if ti == nil || ti.minLen < 0 || len(g) < 2 || !ti.mayMatch([]byte(g)) {
		return nil
	}
	hs, _ := variantHashes(nil, g, nil)
	var out []int32
	ti.lookup(hs, func(n int32) {
		for _, k := range []string{ix.docC[n], ix.docL[n]} {
			if len(k) >= typoMinKey && oneEdit(g, k) && !slices.Contains(out, n) {
				out = append(out, n)
			}
		}
	})
	slices.Sort(out)
	return out
}

// bruteGramHits is every open item with a key of at least typoMinKey
// characters one edit from g, by the enumeration.
func bruteGramHits(ix *index, g string) []int32 {
	var out []int32
	for n := int32(0); n < int32(ix.nOpen); n++ {
		for _, k := range []string{ix.docC[n], ix.docL[n]} {
			if len(k) >= typoMinKey && oneEditRef(g, k) {
				out = append(out, n)
				break
			}
		}
	}
	return out
}

// bruteTextHits is what typoHits must return for texts, by a scan of every
// open item against every n-gram of the texts, with the rules of the typo
// check written out: the compact key one edit from an n-gram; or the loose
// key (the number without the zeros of its groups), unless the n-gram is
// a prefix of it (FA2025 of FA20256) or one the remittance named a number
// by (found).
func bruteTextHits(ix *index, texts []string, found func(string) bool) []int32 {
	grams := appendTextGrams(nil, texts, newScratch())
	var out []int32
	for n := int32(0); n < int32(ix.nOpen); n++ {
		c, l := ix.docC[n], ix.docL[n]
		if c == "" {
			continue
		}
		for _, g := range grams {
			if len(c) >= typoMinKey && oneEditRef(g, c) ||
				len(l) >= typoMinKey && oneEditRef(g, l) && (l == c || !strings.HasPrefix(l, g) && (found == nil || !found(g))) {
				out = append(out, n)
				break
			}
		}
	}
	return out
}

// checkTypoIndex compares the index with the brute force for each query,
// as an n-gram and as a text, and returns how many queries had a hit.
func checkTypoIndex(t *testing.T, docs, queries []string) int {
	t.Helper()
	ix := typoTestIndex(docs)
	hit := 0
	for _, q := range queries {
		g := NormaliseDocument(q)
		if len(g) >= 5 { // forTextGrams gives no shorter n-gram
			got, want := indexGramHits(ix, g), bruteGramHits(ix, g)
			if !slices.Equal(got, want) {
				t.Fatalf("numbers %q, n-gram %q: the index finds %v, the scan %v", docs, g, got, want)
			}
		}
		sc := newScratch()
		got := ix.typoHits(&evidence{}, []string{q}, sc)
		want := bruteTextHits(ix, []string{q}, nil)
		if !slices.Equal(got, want) {
			t.Fatalf("numbers %q, text %q: the index finds %v, the scan %v", docs, q, got, want)
		}
		if len(want) > 0 {
			hit++
			// the remittance named the first hit by this text: its
			// n-grams are no longer compared with other loose keys
			ev := &evidence{docs: []docHit{{item: want[0], text: g}}}
			found := func(s string) bool { return s == g || s == ix.docL[want[0]] }
			if got, want := ix.typoHits(ev, []string{q}, sc), bruteTextHits(ix, []string{q}, found); !slices.Equal(got, want) {
				t.Fatalf("numbers %q, text %q naming item %d: the index finds %v, the scan %v", docs, q, ev.docs[0].item, got, want)
			}
		}
	}
	return hit
}

// TestTypoIndexEqualsScan: the deletion index finds exactly the items the
// scan finds, on numbers chosen to be hard for it.
func TestTypoIndexEqualsScan(t *testing.T) {
	tests := []struct {
		name    string
		docs    []string
		queries []string
	}{
		{"each kind of edit", []string{"FA-2025-00123"},
			[]string{"FA202500124", "FA20250123", "FA2025001234", "FA202500132", "AF202500123", "A202500123",
				"XFA202500123", "FA202500123", "FA202500321", "FA2025", "FA 2025 123", "FA-2025-0123"}},
		{"edits at both ends", []string{"INV12345"},
			[]string{"NV12345", "INV1234", "XINV12345", "INV123456", "NIV12345", "INV12354", "JNV12345", "INV12346"}},
		{"equal neighbours", []string{"FA-2025-00011", "AAAAA", "00000", "AAAAB", "BAAAA"},
			[]string{"FA20250001", "FA202500111", "FA2025000011", "AAAA", "AAAAAA", "AAABA", "ABAAA", "0000", "000000", "00100"}},
		{"numbers one edit from each other", []string{"A0101", "A0110", "A1010", "A01010", "A010", "0A101"},
			[]string{"A0101", "A0110", "A01010", "A10101", "A0111", "0A0101", "A1001"}},
		{"shortest keys", []string{"ABCDE", "ABCD", "12345", "1234"},
			[]string{"ABCDEF", "ABCDX", "BCDE", "ABCD", "12345", "123456", "1235", "21345"}},
		{"digits only and letters only", []string{"000123", "ZZZZZZ", "123000"},
			[]string{"00123", "0000123", "ZZZZZ", "ZZZZZZZ", "ZZZYZZ", "1230000", "12300"}},
		{"loose keys and their prefixes", []string{"FA-2025-000006", "FA-2025-000985", "FA-2025-000986", "INV-0042-7", "FA-2025-12345"},
			[]string{"FA-2025-9865", "FA 2025 985", "FA2025", "INV 42-71", "FA-2025-98", "FA20251234", "FA-2025-123456 FA-2025-986", "FA20257", "FA2025 6"}},
		{"no number long enough", []string{"AB", "", "1234"}, []string{"AB12", "12345", "ABCDE"}},
		{"long text", []string{"FA-2025-00560", "FA-2025-00740", "PO-2025-417"},
			[]string{"REF 2025-560 FCT 2025/740 PO 2025-417 VOUCHER 99887766 VENDOR 123456 FA 2025 0056 FA 2025 00741 PO 2025 4171"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkTypoIndex(t, tt.docs, tt.queries)
		})
	}
}

// TestTypoIndexProperty: on random books of numbers, texts made of their
// numbers with zero to two random edits, and random numbers, the index
// finds exactly what the scan finds.
func TestTypoIndexProperty(t *testing.T) {
	r := rand.New(rand.NewPCG(14, 2))
	rounds := 80
	if testing.Short() {
		rounds = 20
	}
	hit := 0
	for range rounds {
		docs := make([]string, 1+r.IntN(30))
		for i := range docs {
			docs[i] = randomNumber(r)
		}
		queries := make([]string, 30)
		for i := range queries {
			q := randomNumber(r)
			if r.IntN(4) > 0 {
				q = docs[r.IntN(len(docs))]
			}
			for range r.IntN(3) {
				q = randomEdit(r, q)
			}
			if r.IntN(3) == 0 {
				q = "PAYMENT " + q + " " + randomNumber(r)
			}
			queries[i] = q
		}
		hit += checkTypoIndex(t, docs, queries)
	}
	if hit < rounds*5 {
		t.Fatalf("%d queries had a one-edit item: the property test tests little", hit)
	}
}

// FuzzTypoIndex: for any book of numbers (separated by ';') and any text,
// the index finds exactly what the scan finds.
func FuzzTypoIndex(f *testing.F) {
	f.Add("FA-2025-00123;FA-2025-00132;INV0042", "FA 2025 00132 FA202500124")
	f.Add("AAAAA;AAAAB;BAAAA", "AAAA AAABA")
	f.Add("FA-2025-000006;FA-2025-000985", "FA2025 FA-2025-9865")
	f.Add("00000;000000", "0000000 00100")
	f.Fuzz(func(t *testing.T, book, text string) {
		docs := strings.Split(book, ";")
		if len(docs) > 64 || len(text) > 300 {
			return
		}
		checkTypoIndex(t, docs, strings.Fields(text))
		checkTypoIndex(t, docs, []string{text})
	})
}

// TestTypoIndexFillGroups: the tables hold every variant of every item's
// keys once, each found by a probe from its first slot, and nothing else,
// whether a goroutine fills its shards in one group or one by one
// (typoFillBatch) and whatever the number of goroutines: the tables are
// then the same, slot for slot.
func TestTypoIndexFillGroups(t *testing.T) {
	r := rand.New(rand.NewPCG(14, 7))
	docs := make([]string, 3000)
	for i := range docs {
		docs[i] = randomNumber(r)
	}
	ix := typoTestIndex(docs)
	want := map[uint64]bool{} // hash → present
	entries := map[[2]uint64]bool{}
	for n := int32(0); n < int32(ix.nOpen); n++ {
		ix.typoKeys(n, func(k string) {
			hs, _ := variantHashes(nil, k, nil)
			for _, h := range hs {
				want[h] = true
				entries[[2]uint64{h >> (64 - typoShardsLg), h&0xffffffff00000000 | uint64(n+1)}] = true
			}
		})
	}
	if len(entries) < 10000 {
		t.Fatalf("%d entries: the test tests little", len(entries))
	}
	defer func(b int) { typoFillBatch = b }(typoFillBatch)
	var first *typoIndex
	for _, batch := range []int{1 << 22, 5000, 1} {
		for _, workers := range []int{1, 2, 3, 16} {
			typoFillBatch = batch
			ti := ix.buildTypoIndex(workers)
			got := 0
			for s, sh := range ti.shards {
				for _, v := range sh.slots {
					if v == 0 {
						continue
					}
					got++
					if !entries[[2]uint64{uint64(s), v}] {
						t.Fatalf("batch %d, %d workers: shard %d holds %#x, no item's variant", batch, workers, s, v)
					}
				}
			}
			if got != len(entries) {
				t.Fatalf("batch %d, %d workers: %d entries in the tables, want %d", batch, workers, got, len(entries))
			}
			for h := range want {
				found := false
				ti.lookup([]uint64{h}, func(int32) { found = true })
				if !found {
					t.Fatalf("batch %d, %d workers: hash %#x not found", batch, workers, h)
				}
			}
			if first == nil {
				first = ti
			} else {
				for s := range ti.shards {
					if !slices.Equal(ti.shards[s].slots, first.shards[s].slots) {
						t.Fatalf("batch %d, %d workers: shard %d differs from the first build's", batch, workers, s)
					}
				}
			}
		}
	}
}
