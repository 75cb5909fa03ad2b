package gen

import (
	"reflect"
	"testing"
)

func TestGenerateWith(t *testing.T) {
	for _, tc := range []struct {
		name      string
		n         int
		opt       Options
		wantItems int
	}{
		{"default is 2n", 300, Options{}, 600},
		{"as many items as payments", 300, Options{Items: 300}, 300},
		{"more items", 200, Options{Items: 1000}, 1000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ds := GenerateWith(7, tc.n, tc.opt)
			if len(ds.Items) != tc.wantItems || len(ds.Transactions) != tc.n || len(ds.Truth) != tc.n {
				t.Fatalf("%d items, %d transactions, %d truths; want %d, %d, %d",
					len(ds.Items), len(ds.Transactions), len(ds.Truth), tc.wantItems, tc.n, tc.n)
			}
			if again := GenerateWith(7, tc.n, tc.opt); !reflect.DeepEqual(ds, again) {
				t.Error("not deterministic")
			}
			if other := GenerateWith(8, tc.n, tc.opt); reflect.DeepEqual(ds.Transactions, other.Transactions) {
				t.Error("the seed changes nothing")
			}
		})
	}
	// Generate is GenerateWith with the zero options (the goldens of
	// cmd/lettrage-bench pin its output).
	if a, b := Generate(3, 500), GenerateWith(3, 500, Options{}); !reflect.DeepEqual(a, b) {
		t.Error("Generate differs from GenerateWith(Options{})")
	}
}
