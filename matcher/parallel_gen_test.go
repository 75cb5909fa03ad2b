package matcher_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"

	"github.com/lettrage/lettrage/internal/gen"
	"github.com/lettrage/lettrage/matcher"
)

// TestMatchWorkersGenerated runs generated data (two items per
// transaction, one per transaction, and the default configuration) on one
// goroutine and on several with small chunks: the decisions and what is
// learned must be identical.
func TestMatchWorkersGenerated(t *testing.T) {
	for _, seed := range []uint64{5} {
		ds := gen.Generate(seed, 2000)
		inputs := map[string]matcher.Input{
			"generated":  {Transactions: ds.Transactions, Items: ds.Items, Memory: ds.Memory, Config: ds.Config},
			"one to one": oneToOne(ds),
			"defaults":   {Transactions: ds.Transactions, Items: ds.Items, Memory: ds.Memory, Config: matcher.DefaultConfig()},
		}
		for name, in := range inputs {
			t.Run(fmt.Sprintf("seed %d %s", seed, name), func(t *testing.T) {
				want := matcher.MatchWorkers(in, 1, 1<<30)
				for _, w := range []int{3} {
					got := matcher.MatchWorkers(in, w, 7)
					for i := range want.Decisions {
						if !reflect.DeepEqual(got.Decisions[i], want.Decisions[i]) {
							g, _ := json.Marshal(got.Decisions[i])
							x, _ := json.Marshal(want.Decisions[i])
							t.Fatalf("%d workers: decision %d differs:\n got  %s\n want %s", w, i, g, x)
						}
					}
					if !reflect.DeepEqual(got.Learned, want.Learned) {
						t.Fatalf("%d workers: learned differs", w)
					}
				}
			})
		}
	}
}
