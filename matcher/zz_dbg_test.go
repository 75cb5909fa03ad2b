package matcher_test

import (
	"testing"
	"os"

	"github.com/lettrage/lettrage/internal/gen"
	"github.com/lettrage/lettrage/matcher"
)

func TestDbg(t *testing.T) {
	ds := gen.GenerateWith(42, 10000, gen.Options{Profile: gen.ProfileRemittance})
	in := matcher.Input{Transactions: ds.Transactions, Items: ds.Items, Memory: ds.Memory, Config: ds.Config}
	out := matcher.Match(in)
	want := os.Getenv("DBG")
	for i, tx := range ds.Transactions {
		if tx.Ref == want || (len(want) > 2 && want[:2] == "I0" && func() bool { _, ok := ds.Truth[i].Allocations[want]; return ok }()) {
			t.Logf("%s %s %+v\n truth %+v\n decision %+v", tx.Ref, tx.Amount, tx, ds.Truth[i], out.Decisions[i])
		}
	}
}
