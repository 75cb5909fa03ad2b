package matcher

import (
	"slices"
	"testing"

	"github.com/lettrage/lettrage/domain"
)

// The policies of the named steps of gathering evidence and of the rules,
// each a small pure function.

func TestRefValid(t *testing.T) {
	for _, tc := range []struct {
		c    string
		free bool
		want bool
	}{
		{"RF18539007547034", false, true},
		{"RF18539007547034", true, true},
		{"RF18539007547035", false, false}, // check digits fail
		{"18", false, true},                // Luhn-valid, given as a reference
		{"18", true, false},                // found in free text: an amount, a date
		{"12345", true, false},             // five digits, and no scheme
		{"123455", true, true},             // six digits suffice in free text
		{"123456", true, false},            // six digits, no scheme
	} {
		if got := refValid(tc.c, tc.free); got != tc.want {
			t.Errorf("refValid(%q, free=%v) = %v, want %v", tc.c, tc.free, got, tc.want)
		}
	}
}

func TestTierOf(t *testing.T) {
	for _, tc := range []struct {
		name string
		ev   evidence
		want int
	}{
		{"nothing", evidence{}, tierNone},
		{"payer", evidence{payer: []string{"C1"}}, tierPayer},
		{"typo", evidence{rare: &evidenceRare{typos: []int32{1}}, payer: []string{"C1"}}, tierDocument},
		{"document", evidence{docs: []docHit{{item: 1}}}, tierDocument},
		{"invalid reference", evidence{refs: []refHit{{item: 1}}}, tierDocument},
		{"valid reference", evidence{refs: []refHit{{item: 2}, {item: 1, valid: true}}, docs: []docHit{{item: 3}}}, tierReference},
	} {
		if got := tierOf(&tc.ev); got != tc.want {
			t.Errorf("%s: tierOf = %d, want %d", tc.name, got, tc.want)
		}
	}
}

func TestMergeNames(t *testing.T) {
	pos := map[string]int{}
	names := []nameMatch{{customer: "A", score: 0.9}, {customer: "B", score: 1}}
	got := mergeNames(names, []nameMatch{{customer: "A", score: 0.95, extends: true}, {customer: "B", score: 0.8}, {customer: "C", score: 0.7}}, pos)
	want := []nameMatch{{customer: "A", score: 0.95, extends: true}, {customer: "B", score: 1}, {customer: "C", score: 0.7}}
	if !slices.Equal(got, want) {
		t.Errorf("mergeNames = %v, want %v", got, want)
	}
	if len(pos) != 0 {
		t.Errorf("mergeNames left %v in its map", pos)
	}
}

func TestAppendOuterDocs(t *testing.T) {
	hits := []docScan{
		{item: 1, text: "FA2025001", sp: span{0, 0, 2}},
		{item: 2, text: "2025001", sp: span{0, 1, 2}}, // within item 1's span
		{item: 1, text: "FA2025001", sp: span{1, 0, 2}},
		{item: 3, text: "0042", sp: span{1, 4, 4}, loose: true},
		{item: 4, text: "0042", sp: span{0, 1, 2}}, // same span as item 2, not within
	}
	got := appendOuterDocs(nil, hits)
	want := []docHit{{item: 1, text: "FA2025001"}, {item: 3, text: "0042", loose: true}}
	if !slices.Equal(got, want) {
		t.Errorf("appendOuterDocs = %v, want %v", got, want)
	}
}

func TestRemitBalance(t *testing.T) {
	a := domain.MustAmount
	for _, tc := range []struct {
		sum, cash        string
		excess, writeOff string
		sit              string
	}{
		{"100.00", "100.00", "0", "0", sitRemitExact},
		{"90.00", "100.00", "10.00", "0", sitRemitOver},
		{"100.00", "97.50", "0", "2.50", sitRemitWriteOff},
	} {
		excess, writeOff, sit := remitBalance(a(tc.sum), a(tc.cash))
		if !excess.Equal(a(tc.excess)) || !writeOff.Equal(a(tc.writeOff)) || sit != tc.sit {
			t.Errorf("remitBalance(%s, %s) = %s, %s, %s; want %s, %s, %s", tc.sum, tc.cash, excess, writeOff, sit,
				tc.excess, tc.writeOff, tc.sit)
		}
	}
}

func TestLargestCash(t *testing.T) {
	a := domain.MustAmount
	lines := func(cash ...string) []remitLine {
		var out []remitLine
		for _, c := range cash {
			out = append(out, remitLine{cash: a(c)})
		}
		return out
	}
	for _, tc := range []struct {
		cash []string
		want int
	}{
		{nil, -1},
		{[]string{"-5.00", "0"}, -1},
		{[]string{"10.00", "30.00", "-50.00", "30.00"}, 1}, // the first of equals
		{[]string{"0", "1.00"}, 1},
	} {
		if got := largestCash(lines(tc.cash...)); got != tc.want {
			t.Errorf("largestCash(%v) = %d, want %d", tc.cash, got, tc.want)
		}
	}
}

func TestComboGroupsAndSuffix(t *testing.T) {
	pool := []comboCand{{1, 500}, {2, 300}, {3, 500}, {4, 200}, {5, 300}}
	groups := comboGroups(pool, func(n int32) bool { return n == 5 })
	want := []comboGroup{{500, []int32{1, 3}}, {300, []int32{5, 2}}, {200, []int32{4}}}
	if len(groups) != len(want) {
		t.Fatalf("comboGroups = %v, want %v", groups, want)
	}
	for i := range want {
		if groups[i].v != want[i].v || !slices.Equal(groups[i].items, want[i].items) {
			t.Errorf("comboGroups[%d] = %v, want %v", i, groups[i], want[i])
		}
	}
	if got := suffixSums(groups); !slices.Equal(got, []int64{1800, 800, 200, 0}) {
		t.Errorf("suffixSums = %v, want [1800 800 200 0]", got)
	}
}
