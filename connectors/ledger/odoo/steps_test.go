package odoo

import (
	"errors"
	"slices"
	"testing"

	"github.com/lettrage/lettrage/connectors"
	"github.com/lettrage/lettrage/domain"
)

// The policies of Apply, settle and Unletter's named steps, each a small
// pure function (the write-back itself is tested against Odoo).

func TestPayable(t *testing.T) {
	a := domain.MustAmount
	open := moveRow{ID: 1, State: "posted", PayState: "not_paid"}
	partial := moveRow{ID: 2, State: "posted", PayState: "partial"}
	byID := map[int]moveRow{1: open, 2: partial, 3: {ID: 3, State: "posted", PayState: "paid"}, 4: {ID: 4, State: "draft", PayState: "not_paid"}}
	job := func(inv int, amount, writeOff string) payJob {
		return payJob{kd: connectors.KeyedDecision{Key: "K"}, invID: inv,
			al: domain.Allocation{ItemID: "x", Amount: a(amount), WriteOff: a(writeOff)}}
	}
	left := map[int]domain.Amount{1: a("100.00"), 2: a("50.00"), 3: a("10.00"), 4: a("10.00")}
	for _, tc := range []struct {
		name string
		jobs []payJob
		want error // nil: payable
		need map[int]string
	}{
		{"open, whole residual", []payJob{job(1, "90.00", "10.00")}, nil, map[int]string{1: "100.00"}},
		{"two on one invoice", []payJob{job(1, "60.00", "0"), job(1, "40.00", "0"), job(2, "-5.00", "0")}, nil,
			map[int]string{1: "100.00", 2: "5.00"}},
		{"above the residual", []payJob{job(1, "60.00", "0"), job(1, "40.01", "0")}, ErrAboveResidual, nil},
		{"write-off counts", []payJob{job(2, "45.00", "5.01")}, ErrAboveResidual, nil},
		{"paid", []payJob{job(1, "1.00", "0"), job(3, "1.00", "0")}, ErrItemNotOpen, nil},
		{"draft", []payJob{job(4, "1.00", "0")}, ErrItemNotOpen, nil},
		{"deleted", []payJob{job(5, "1.00", "0")}, ErrNotFound, nil},
	} {
		need, err := payable(tc.jobs, byID, left)
		if tc.want != nil {
			var ie *ItemError
			if !errors.Is(err, tc.want) || !errors.As(err, &ie) {
				t.Errorf("%s: payable = %v, want an *ItemError wrapping %v", tc.name, err, tc.want)
			}
			continue
		}
		if err != nil || len(need) != len(tc.need) {
			t.Errorf("%s: payable = %v, %v; want %v", tc.name, need, err, tc.need)
			continue
		}
		for id, n := range tc.need {
			if !need[id].Equal(a(n)) {
				t.Errorf("%s: need[%d] = %s, want %s", tc.name, id, need[id], n)
			}
		}
	}
}

func TestDecisionsOf(t *testing.T) {
	jobs := []payJob{{kd: connectors.KeyedDecision{Key: "A"}}, {kd: connectors.KeyedDecision{Key: "A"}},
		{kd: connectors.KeyedDecision{Key: "B"}}, {kd: connectors.KeyedDecision{Key: "C"}}}
	var keys []string
	for _, kd := range decisionsOf(jobs) {
		keys = append(keys, kd.Key)
	}
	if !slices.Equal(keys, []string{"A", "B", "C"}) {
		t.Errorf("decisionsOf = %v, want [A B C]", keys)
	}
}

func TestLabelledItems(t *testing.T) {
	lines := []moveLine{
		{ID: 1, Account: Many2one{ID: 7}, Name: "bank"},
		{ID: 2, Account: Many2one{ID: 9}, Name: Text(memo("K", 2, 3))},
		{ID: 3, Account: Many2one{ID: 9}, Name: "suspense"},
		{ID: 4, Account: Many2one{ID: 9}, Name: "suspense too"},
		{ID: 5, Account: Many2one{ID: 8}, Name: Text(memo("OTHER", 1, 3))},
		{ID: 6, Account: Many2one{ID: 8}, Name: Text(memo("K", 1, 3))},
	}
	labelled, suspense := labelledItems(lines, "K", 9)
	if len(labelled) != 2 || labelled[1].ID != 6 || labelled[2].ID != 2 {
		t.Errorf("labelled = %v, want allocations 1 and 2 on items 6 and 2", labelled)
	}
	if suspense == nil || suspense.ID != 3 {
		t.Errorf("suspense = %v, want item 3 (the first unlabelled one on the suspense account)", suspense)
	}
	if got := unlabelled([]int{1, 2, 3}, labelled); !slices.Equal(got, []int{3}) {
		t.Errorf("unlabelled = %v, want [3]", got)
	}
	if _, s := labelledItems(lines[:2], "K", 9); s != nil {
		t.Errorf("suspense = %v, want none: the only item on it is labelled", s)
	}
}

func TestSortReversed(t *testing.T) {
	mark := unletterMark("R1")
	pays := []doc{
		{ID: 1, Memo: memo("D", 1, 3), State: "posted"},                      // live
		{ID: 2, Memo: memo("D", 2, 3) + mark, State: "draft"},                // mine
		{ID: 3, Memo: memo("D", 3, 3), State: "cancel"},                      // cancelled by hand
		{ID: 4, Memo: memo("D", 3, 3) + unletterMark("R0"), State: "cancel"}, // another reversal's
		{ID: 5, Memo: memo("DX", 1, 1), State: "posted"},                     // another decision
		{ID: 6, Memo: "lettrage:D:1/x", State: "posted"},                     // not a memo
	}
	mine, live, other := sortReversed(pays, "D", mark)
	ids := func(ds []doc) (out []int) {
		for _, d := range ds {
			out = append(out, d.ID)
		}
		return out
	}
	if !slices.Equal(ids(mine), []int{2}) || !slices.Equal(ids(live), []int{1}) || other != "R0" {
		t.Errorf("sortReversed = mine %v, live %v, other %q; want [2], [1], R0", ids(mine), ids(live), other)
	}
}
