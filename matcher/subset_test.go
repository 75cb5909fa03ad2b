package matcher

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lettrage/lettrage/domain"
)

// comboEngine is an engine over one customer's items with amounts, due
// one day apart in order (i000 oldest).
func comboEngine(amounts ...string) *engine {
	var items []domain.OpenItem
	for i, a := range amounts {
		items = append(items, domain.OpenItem{ID: fmt.Sprintf("i%03d", i), CustomerID: "C", Currency: "EUR",
			Amount: domain.MustAmount(a), Residual: domain.MustAmount(a), DueDate: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i)})
	}
	return &engine{cfg: DefaultConfig(), ix: newIndex(items, Memory{})}
}

func (e *engine) ids(items []int32) string {
	s := make([]string, len(items))
	for i, n := range items {
		s[i] = e.ix.items[n].ID
	}
	return strings.Join(s, "+")
}

func TestCombinations(t *testing.T) {
	many := make([]string, 300)
	for i := range many {
		many[i] = "1.00"
	}
	var distinct []string
	for i := 1; i <= 40; i++ {
		distinct = append(distinct, fmt.Sprint(i))
	}
	tests := []struct {
		name         string
		amounts      []string
		target       string
		maxK         int
		wantSols     []string // items of each solution, in the order found
		wantChoice   []bool
		wantComplete bool
	}{
		{"unique pair", []string{"100", "250", "400", "75"}, "350", 6, []string{"i001+i000"}, []bool{false}, true},
		{"unique triple", []string{"100", "250", "400", "75"}, "425", 6, []string{"i001+i000+i003"}, []bool{false}, true},
		{"two ways", []string{"100", "200", "300", "150", "150"}, "300", 6, []string{"i001+i000", "i003+i004"}, []bool{false, false}, true},
		{"bounded size", []string{"1", "2", "3", "4"}, "10", 3, nil, nil, true},
		{"none", []string{"10", "20"}, "25", 6, nil, nil, true},
		{"a single item is not a combination", []string{"10", "25"}, "25", 6, nil, nil, true},
		{"cents exact", []string{"0.10", "0.20", "0.05"}, "0.35", 6, []string{"i001+i000+i002"}, []bool{false}, true},
		// interchangeable items: one multiset of amounts, the oldest taken
		{"equal amounts", []string{"50", "50", "50", "20"}, "100", 6, []string{"i000+i001"}, []bool{true}, true},
		{"300 equal amounts, one solution", many, "6.00", 6, []string{"i000+i001+i002+i003+i004+i005"}, []bool{true}, true},
		{"too many distinct solutions", distinct, "40", 6, make([]string, maxSolutions), make([]bool, maxSolutions), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := comboEngine(tt.amounts...)
			e.cfg.MaxCombination = tt.maxK
			tx := &domain.Transaction{Amount: domain.MustAmount(tt.target), Currency: "EUR"}
			sols, complete := e.combinations(tx, e.ix.byCustomer["C"], nil)
			if len(sols) != len(tt.wantSols) || complete != tt.wantComplete {
				t.Fatalf("got %d solutions (complete %v), want %d (complete %v)", len(sols), complete, len(tt.wantSols), tt.wantComplete)
			}
			for i, s := range sols {
				var sum domain.Amount
				for _, n := range s.items {
					sum = sum.Add(e.ix.resid[n])
				}
				if !sum.Equal(tx.Amount) || len(s.items) > tt.maxK || len(s.items) < 2 {
					t.Errorf("solution %s sums to %s (%d items)", e.ids(s.items), sum, len(s.items))
				}
				if tt.wantSols[i] != "" && (e.ids(s.items) != tt.wantSols[i] || s.choice != tt.wantChoice[i]) {
					t.Errorf("solution %d = %s (choice %v), want %s (choice %v)", i, e.ids(s.items), s.choice, tt.wantSols[i], tt.wantChoice[i])
				}
			}
		})
	}
}

// TestCombinationsPrefer checks that items the remittance names are taken
// before older ones of the same amount.
func TestCombinationsPrefer(t *testing.T) {
	e := comboEngine("50", "50", "50", "20")
	tx := &domain.Transaction{Amount: domain.MustAmount("70"), Currency: "EUR"}
	named := e.itemByID("i002")
	sols, complete := e.combinations(tx, e.ix.byCustomer["C"], func(n int32) bool { return n == named })
	if !complete || len(sols) != 1 {
		t.Fatalf("got %d solutions (complete %v), want 1", len(sols), complete)
	}
	if got := e.ids(sols[0].items); got != "i002+i003" || !sols[0].choice {
		t.Errorf("got %s (choice %v), want i002+i003 (choice true)", got, sols[0].choice)
	}
}

// TestChooseCombination covers the choice among combinations of one
// customer: the only one, the text's, the oldest (or a suggestion), and
// never when the search was cut short.
func TestChooseCombination(t *testing.T) {
	// i000 100 (oldest), i001 200, i002 120, i003 180, i004 60, i005 240
	amounts := []string{"100", "200", "120", "180", "60", "240"}
	tests := []struct {
		name       string
		target     string
		sameAmount string
		complete   bool
		wantItems  string
		wantSit    string
		wantWhy    string
	}{
		{"only", "320", "oldest", true, "i001+i002", sitComboOnly, "only combination"},
		{"oldest of different amounts", "300", "oldest", true, "i001+i000", sitComboOldest, "due oldest is lettered first"},
		{"suggest mode", "300", "suggest", true, "", "", "nothing tells them apart"},
		{"incomplete search", "300", "oldest", false, "", "", "cut short"},
		{"incomplete, one found", "320", "oldest", false, "", "", "cut short"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := comboEngine(amounts...)
			e.cfg.SameAmount = tt.sameAmount
			tx := &domain.Transaction{Amount: domain.MustAmount(tt.target), Currency: "EUR"}
			sols, complete := e.combinations(tx, e.ix.byCustomer["C"], nil)
			if !complete {
				t.Fatal("search cut short")
			}
			items, sit, why := e.chooseCombination(&evidence{}, sols, tt.complete)
			got := ""
			if items != nil {
				got = e.ids(items)
			}
			if got != tt.wantItems || sit != tt.wantSit || !strings.Contains(why, tt.wantWhy) {
				t.Errorf("got %q %q (%s), want %q %q (…%s…)", got, sit, why, tt.wantItems, tt.wantSit, tt.wantWhy)
			}
		})
	}
}

// TestOlderSet checks the order of combinations: their items' due dates
// sorted oldest first, compared lexicographically.
func TestOlderSet(t *testing.T) {
	e := comboEngine("1", "1", "1", "1") // i000 oldest
	n := func(id string) int32 { return e.itemByID(id) }
	tests := []struct {
		a, b []int32
		want bool
	}{
		{[]int32{n("i000"), n("i003")}, []int32{n("i001"), n("i002")}, true},  // the oldest item decides
		{[]int32{n("i003"), n("i000")}, []int32{n("i002"), n("i001")}, true},  // in any order
		{[]int32{n("i001"), n("i002")}, []int32{n("i000"), n("i003")}, false}, // and not the reverse
		{[]int32{n("i000"), n("i001")}, []int32{n("i000"), n("i002")}, true},  // then the next
		{[]int32{n("i000"), n("i001")}, []int32{n("i000"), n("i001"), n("i002")}, true},
	}
	for i, tt := range tests {
		if got := e.olderSet(tt.a, tt.b); got != tt.want {
			t.Errorf("%d: olderSet(%s, %s) = %v, want %v", i, e.ids(tt.a), e.ids(tt.b), got, tt.want)
		}
	}
}

// TestCombinationsBruteForce compares the search with an enumeration of
// every subset on small random books: when the search says it is complete
// it must have found every multiset of amounts that sums to the target
// with 2 to MaxCombination items, each once, and nothing else.
func TestCombinationsBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	for round := range 300 {
		k := 2 + rng.IntN(11)
		amounts := make([]string, k)
		for i := range amounts {
			amounts[i] = fmt.Sprint(1 + rng.IntN(12))
		}
		e := comboEngine(amounts...)
		e.cfg.MaxCombination = 2 + rng.IntN(4)
		target := 2 + rng.IntN(30)
		tx := &domain.Transaction{Amount: domain.MustAmount(fmt.Sprint(target)), Currency: "EUR"}
		sols, complete := e.combinations(tx, e.ix.byCustomer["C"], nil)
		key := func(items []int32) string {
			v := make([]string, len(items))
			for i, n := range items {
				v[i] = fmt.Sprintf("%03s", e.ix.resid[n].String())
			}
			slices.Sort(v)
			return strings.Join(v, "+")
		}
		got := map[string]bool{}
		for _, s := range sols {
			if got[key(s.items)] {
				t.Fatalf("round %d: multiset %s found twice", round, key(s.items))
			}
			got[key(s.items)] = true
		}
		want := map[string]bool{}
		items := e.ix.byCustomer["C"]
		for mask := 1; mask < 1<<len(items); mask++ {
			var sub []int32
			var sum domain.Amount
			for b, n := range items {
				if mask&(1<<b) != 0 {
					sub = append(sub, n)
					sum = sum.Add(e.ix.resid[n])
				}
			}
			if len(sub) >= 2 && len(sub) <= e.cfg.MaxCombination && sum.Equal(tx.Amount) {
				want[key(sub)] = true
			}
		}
		for g := range got {
			if !want[g] {
				t.Fatalf("round %d: %v → %d: found %s, which does not fit", round, amounts, target, g)
			}
		}
		if complete && len(got) != len(want) {
			t.Fatalf("round %d: %v → %d (max %d): complete with %d multisets, want %d", round, amounts, target,
				e.cfg.MaxCombination, len(got), len(want))
		}
		if !complete && len(got) < maxSolutions {
			t.Fatalf("round %d: incomplete with only %d solutions", round, len(got))
		}
	}
}
