package matcher

import (
	"encoding/json"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/lettrage/lettrage/domain"
)

// namedSettled is settled cut to the items with a key in NamedKeys(txs):
// what a store gives the matcher when it looks them up.
func namedSettled(txs []domain.Transaction, settled []domain.OpenItem) []domain.OpenItem {
	keys := NamedKeys(txs)
	var out []domain.OpenItem
	for _, it := range settled {
		named := false
		SettledKeys(&it, func(k string) {
			_, found := slices.BinarySearch(keys, k)
			named = named || found
		})
		if named {
			out = append(out, it)
		}
	}
	return out
}

// TestNamedKeysDecideAsAllSettled runs every golden case with, as
// settled items, its own and every other case's items (other customers'
// and its own customers' numbers, references, typos and cut lines), once
// whole and once cut to the items whose keys its transactions name: the
// outputs must be identical. It also checks that the cut leaves items out
// and that the settled items change decisions, or it would prove nothing.
func TestNamedKeysDecideAsAllSettled(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join("testdata", "cases", "*"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no golden cases found: %v", err)
	}
	cases := make([]goldenCase, len(dirs))
	var every []domain.OpenItem
	for i, dir := range dirs {
		cases[i] = loadCase(t, dir)
		for _, it := range append(slices.Clone(cases[i].Items), cases[i].Memory.Settled...) {
			it.ID = filepath.Base(dir) + "/" + it.ID
			every = append(every, it)
		}
	}
	left, changed := 0, 0
	for i, c := range cases {
		settled := append(slices.Clone(c.Memory.Settled), every...)
		in := Input{Transactions: c.Transactions, Items: c.Items, Memory: c.Memory, Config: c.Config}
		in.Memory.Settled = settled
		want := Match(in)
		in.Memory.Settled = namedSettled(c.Transactions, settled)
		left += len(settled) - len(in.Memory.Settled)
		sameOutput(t, filepath.Base(dirs[i]), want, Match(in))
		in.Memory.Settled = nil
		if !reflect.DeepEqual(Match(in).Decisions, want.Decisions) {
			changed++
		}
	}
	if left == 0 || changed < 3 {
		t.Fatalf("the test proves nothing: %d settled items left out, %d cases decided otherwise without them", left, changed)
	}
}

// TestNamedKeysEachPath checks each way a payment names a settled item —
// its structured reference, its reference in free text, its number as
// written, its number without the zeros of its groups, the payer's split
// (number, then reference) — alone: the settled item changes the decision
// (a double payment, or a split that names two items of one number), and
// the item found by NamedKeys decides as the settled items given whole; a
// payment that names none of its keys finds nothing. The one-edit typo
// lookup and the prefix search of cut lines hold the open items alone
// (buildTypoIndex, docSorted): no path of a settled item goes through them.
func TestNamedKeysEachPath(t *testing.T) {
	settled := domain.OpenItem{ID: "o1", CustomerID: "C1", CustomerName: "Customer C1", DocumentNumber: "FA-2025-00701",
		Currency: "EUR", Amount: domain.MustAmount("640.00"), Residual: domain.MustAmount("640.00"),
		PaymentReference: "RF18539007547034"}
	other := domain.OpenItem{ID: "o2", CustomerID: "C1", CustomerName: "Customer C1", DocumentNumber: "FA-2025-00702",
		Currency: "EUR", Amount: domain.MustAmount("640.00"), Residual: domain.MustAmount("640.00")}
	// an open item given the settled one's number and reference again
	again := other
	again.DocumentNumber, again.PaymentReference = settled.DocumentNumber, settled.PaymentReference
	base := func() domain.Transaction {
		return domain.Transaction{Key: "t1", Ref: "T1", Currency: "EUR", Credit: true, Status: "BOOK",
			Amount: domain.MustAmount("640.00"), Counterparty: domain.Party{IBAN: "DE89370400440532013000"}}
	}
	type path struct {
		set  func(*domain.Transaction)
		open domain.OpenItem
	}
	paths := map[string]path{
		"structured reference": {func(tx *domain.Transaction) {
			tx.Structured = []domain.Reference{{Value: "RF18539007547034"}}
		}, other},
		"reference in the text": {func(tx *domain.Transaction) { tx.Unstructured = []string{"paiement RF18 5390 0754 7034"} }, other},
		"number as written":     {func(tx *domain.Transaction) { tx.Unstructured = []string{"Facture FA-2025-00701"} }, other},
		"number without zeros":  {func(tx *domain.Transaction) { tx.Unstructured = []string{"Facture FA2025/701"} }, other},
		"split's number": {func(tx *domain.Transaction) {
			tx.Remitted = []domain.RemittedDocument{{Number: "FA-2025-00701", Remitted: ptr(domain.MustAmount("640.00"))}}
		}, again},
		"split's reference": {func(tx *domain.Transaction) {
			tx.Remitted = []domain.RemittedDocument{{Reference: "RF18539007547034", Remitted: ptr(domain.MustAmount("640.00"))}}
		}, again},
	}
	mem := Memory{IBANCustomers: map[string][]string{"DE89370400440532013000": {"C1"}}}
	for name, p := range paths {
		t.Run(name, func(t *testing.T) {
			tx := base()
			p.set(&tx)
			txs := []domain.Transaction{tx}
			in := Input{Transactions: txs, Items: []domain.OpenItem{p.open}, Memory: mem, Config: DefaultConfig()}
			none := Match(in)
			in.Memory.Settled = []domain.OpenItem{settled}
			want := Match(in)
			if reflect.DeepEqual(none.Decisions, want.Decisions) {
				j, _ := json.Marshal(want.Decisions[0])
				t.Fatalf("the settled item changes nothing: %s", j)
			}
			in.Memory.Settled = namedSettled(txs, in.Memory.Settled)
			if len(in.Memory.Settled) != 1 {
				t.Fatalf("NamedKeys(%+v) names no key of the settled item", tx)
			}
			sameOutput(t, name, want, Match(in))
		})
	}
	tx := base()
	tx.Unstructured = []string{"Facture FA-2025-00702"}
	if got := namedSettled([]domain.Transaction{tx}, []domain.OpenItem{settled}); len(got) != 0 {
		t.Fatalf("a payment naming another number names the settled item: %v", got)
	}
}

func ptr[T any](v T) *T { return &v }
