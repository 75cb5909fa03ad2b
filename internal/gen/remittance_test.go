package gen

import (
	"reflect"
	"strings"
	"testing"

	"github.com/lettrage/lettrage/domain"
)

// TestRemittanceProfile checks the truth of the remittance scenarios
// against what the payer wrote, and that the classic profile is the data
// of version 1 (Generate).
func TestRemittanceProfile(t *testing.T) {
	if a, b := Generate(3, 500), GenerateWith(3, 500, Options{Profile: ProfileClassic}); !reflect.DeepEqual(a, b) {
		t.Fatal("the classic profile differs from Generate")
	}
	ds := GenerateWith(1, 4000, Options{Profile: ProfileRemittance})
	byID := map[string]domain.OpenItem{}
	for _, it := range ds.Items {
		byID[it.ID] = it
	}
	count := map[string]int{}
	heavy := 0
	for k, tr := range ds.Truth {
		tx := ds.Transactions[k]
		count[tr.Scenario]++
		if len(tx.Unstructured) > 1 {
			heavy++
		}
		var sum domain.Amount
		for _, a := range tr.Allocations {
			sum = sum.Add(a)
		}
		switch tr.Scenario {
		case ScRemitDiscount, ScRemitTax, ScRemitAdjust, ScRemitMulti, ScRemitCreditNote:
			if !sum.Equal(tx.Amount) || len(tx.Remitted) != len(tr.Allocations) {
				t.Errorf("%s: allocations sum to %s for %s, %d documents for %d allocations", tx.Ref, sum, tx.Amount, len(tx.Remitted), len(tr.Allocations))
			}
			for _, d := range tx.Remitted {
				if strings.HasPrefix(d.Number, "51") {
					continue // the payer's own voucher number: ours are in the text
				}
				var it domain.OpenItem
				for id := range tr.Allocations {
					if n := byID[id].DocumentNumber; n == d.Number || strings.ReplaceAll(n, "-", "") == d.Number {
						it = byID[id]
					}
				}
				want := d.CreditNote.Neg()
				if d.Remitted != nil {
					want = *d.Remitted
					if d.IsCreditNote() {
						want = want.Neg()
					}
				}
				if it.ID == "" || !tr.Allocations[it.ID].Equal(want) {
					t.Errorf("%s: document %s remits %s, truth %v", tx.Ref, d.Number, want, tr.Allocations)
				}
				if !d.Discount.IsZero() && !tr.Discounts[it.ID].Equal(d.Discount) {
					t.Errorf("%s: discount %s on %s, truth %v", tx.Ref, d.Discount, d.Number, tr.Discounts)
				}
			}
		case ScDocOver:
			var excess domain.Amount
			for _, e := range tr.OnAccount {
				excess = e
			}
			if len(tr.Allocations) != 1 || !sum.Add(excess).Equal(tx.Amount) || excess.Sign() <= 0 {
				t.Errorf("%s: %v + %v for %s", tx.Ref, tr.Allocations, tr.OnAccount, tx.Amount)
			}
		case ScPaidTwice:
			if tr.Matchable || len(tr.OnAccount) != 1 {
				t.Errorf("%s: paid twice is matchable or has no customer: %+v", tx.Ref, tr)
			}
		case ScDocZeros:
			for id := range tr.Allocations {
				if strings.Contains(tx.Unstructured[0], byID[id].DocumentNumber) || strings.Contains(tx.Unstructured[0], "FA") {
					t.Errorf("%s: %q holds the number as written", tx.Ref, tx.Unstructured[0])
				}
			}
		}
	}
	for _, sc := range []string{ScRemitDiscount, ScRemitCreditNote, ScRemitTax, ScRemitAdjust, ScRemitMulti, ScDocOver, ScDocZeros, ScPaidTwice} {
		if count[sc] < 20 {
			t.Errorf("%s: %d of 4000 transactions, want more", sc, count[sc])
		}
	}
	if heavy < 1000 {
		t.Errorf("%d transactions with several remittance lines, want most", heavy)
	}
}
