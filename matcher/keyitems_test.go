package matcher

import (
	"slices"
	"testing"
)

func TestKeyItems(t *testing.T) {
	k := newKeyItems(0, selfList(5))
	k.add("A", 3)
	k.add("B", 1)
	k.add("B", 4)
	k.add("B", 0)
	k.add("C", 0)
	for key, want := range map[string][]int32{"A": {3}, "B": {1, 4, 0}, "C": {0}, "D": nil} {
		if got := k.get(key); !slices.Equal(got, want) {
			t.Errorf("get(%q) = %v, want %v", key, got, want)
		}
	}
	if k.len() != 3 {
		t.Errorf("len %d, want 3", k.len())
	}
	// A caller appending to a single item's list must not change another's.
	_ = append(k.get("A"), 9)
	if got := k.get("A"); !slices.Equal(got, []int32{3}) || k.self[4] != 4 {
		t.Errorf("after an append to get(A): get(A) = %v, self %v", got, k.self)
	}
}
