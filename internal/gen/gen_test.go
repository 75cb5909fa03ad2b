package gen

import (
	"reflect"
	"strings"
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

// TestNewScenarios checks the shape of the scenarios whose truth does not
// follow from the engine's policies.
func TestNewScenarios(t *testing.T) {
	ds := Generate(1, 4000)
	byID := map[string]int{}
	for i, it := range ds.Items {
		byID[it.ID] = i
	}
	byCustomer := map[string][]int{}
	for i, it := range ds.Items {
		byCustomer[it.CustomerID] = append(byCustomer[it.CustomerID], i)
	}
	count := map[string]int{}
	traps := 0
	// the customers of combo_text and combination payments: none is both
	// (the combination combo_text leaves open would fit the other's too)
	comboOf := map[string]map[string]bool{ScComboText: {}, ScCombination: {}}
	for k, tr := range ds.Truth {
		if m := comboOf[tr.Scenario]; m != nil {
			for id := range tr.Allocations {
				m[ds.Items[byID[id]].CustomerID] = true
			}
		}
		tx := ds.Transactions[k]
		count[tr.Scenario]++
		switch tr.Scenario {
		case ScGroupIBAN:
			if len(tr.Allocations) != 1 || len(tx.Unstructured)+len(tx.Structured) != 0 {
				t.Errorf("%s: %d allocations, text %v %v", tx.Ref, len(tr.Allocations), tx.Unstructured, tx.Structured)
			}
			if !tr.Matchable {
				traps++
				// another customer listing the IBAN owes exactly the amount
				found := false
				for id := range tr.Allocations {
					owner := ds.Items[byID[id]].CustomerID
					for _, it := range ds.Items {
						found = found || it.CustomerID != owner && len(it.IBANs) > 0 &&
							strings.ReplaceAll(it.IBANs[0], " ", "") == tx.Counterparty.IBAN && it.Residual.Equal(tx.Amount)
					}
				}
				if !found {
					t.Errorf("%s: trap without another customer owing %s", tx.Ref, tx.Amount)
				}
			}
		case ScThirdParty:
			for id := range tr.Allocations {
				it := ds.Items[byID[id]]
				for _, o := range ds.Items {
					if len(o.IBANs) > 0 && strings.ReplaceAll(o.IBANs[0], " ", "") == tx.Counterparty.IBAN && o.CustomerID == it.CustomerID {
						t.Errorf("%s: paid from the owner's own IBAN", tx.Ref)
						break
					}
				}
			}
		case ScComboText:
			if len(tr.Allocations) < 2 || len(tx.Unstructured) != 1 {
				t.Errorf("%s: %d allocations, text %v", tx.Ref, len(tr.Allocations), tx.Unstructured)
			}
			// no other item of the customer owes what a paid one owes, nor
			// is its number the text's with one character less
			for id := range tr.Allocations {
				for _, j := range byCustomer[ds.Items[byID[id]].CustomerID] {
					o := ds.Items[j]
					if _, paid := tr.Allocations[o.ID]; paid {
						continue
					}
					if o.Residual.Equal(ds.Items[byID[id]].Residual) {
						t.Errorf("%s: %s owes %s as %s does", tx.Ref, o.ID, o.Residual, id)
					}
					for _, w := range strings.Fields(tx.Unstructured[0]) {
						if oneAdded(w, o.DocumentNumber) {
							t.Errorf("%s: %q is %s with a character added", tx.Ref, w, o.DocumentNumber)
						}
					}
				}
			}
		case ScIBANFee:
			// no other item of the customer owes exactly what arrives
			for id := range tr.Allocations {
				for _, j := range byCustomer[ds.Items[byID[id]].CustomerID] {
					if o := ds.Items[j]; o.ID != id && o.Currency == tx.Currency && o.Residual.Equal(tx.Amount) {
						t.Errorf("%s: %s owes the %s that arrives for %s", tx.Ref, o.ID, tx.Amount, id)
					}
				}
			}
		case ScFXInstructed:
			for id, cash := range tr.Allocations {
				it := ds.Items[byID[id]]
				if tx.Currency != "EUR" || it.Currency != "USD" || tx.FX().InstructedCurrency != "USD" ||
					!tx.FX().Instructed.Equal(it.Residual) || !tr.Settles[id].Equal(it.Residual) || !cash.Equal(tx.Amount) || tx.FX().ExchangeRate == "" {
					t.Errorf("%s: %+v for %+v, truth %+v", tx.Ref, tx, it, tr)
				}
			}
		case ScDocCut140:
			if n := len(tx.Unstructured[0]); n != 140 {
				t.Errorf("%s: first line of %d characters, want 140", tx.Ref, n)
			}
			for id := range tr.Allocations {
				doc := ds.Items[byID[id]].DocumentNumber
				if all := strings.Join(tx.Unstructured, ""); !strings.Contains(all, doc) && !strings.HasSuffix(all, doc[:len(doc)-1]) {
					t.Errorf("%s: %q neither holds nor ends with the cut %s", tx.Ref, tx.Unstructured, doc)
				}
			}
		}
	}
	for _, sc := range []string{ScGroupIBAN, ScThirdParty, ScComboText, ScFXInstructed, ScDocCut140} {
		if n := count[sc]; n < 10 || n > 80 {
			t.Errorf("%s: %d of 4000 transactions, want about 1 %%", sc, n)
		}
	}
	for c := range comboOf[ScComboText] {
		if comboOf[ScCombination][c] {
			t.Errorf("customer %s pays both a combo_text and a combination", c)
		}
	}
	if len(comboOf[ScComboText]) == 0 || len(comboOf[ScCombination]) == 0 {
		t.Errorf("%d combo_text and %d combination customers: want some of each", len(comboOf[ScComboText]), len(comboOf[ScCombination]))
	}
	if traps == 0 || traps == count[ScGroupIBAN] {
		t.Errorf("%d group_iban traps of %d: want some, not all", traps, count[ScGroupIBAN])
	}
}

func TestOneAdded(t *testing.T) {
	for _, tc := range []struct {
		s, doc string
		want   bool
	}{
		{"FA-2025-3652201", "FA-2025-365201", true},
		{"FA-2025-3652201", "FA-2025-365220", true},
		{"FA-2025-3652201", "FA-2025-365210", false},
		{"FA-2025-365201", "FA-2025-365201", false},
		{"", "", false},
	} {
		if got := oneAdded(tc.s, tc.doc); got != tc.want {
			t.Errorf("oneAdded(%q, %q) = %v, want %v", tc.s, tc.doc, got, tc.want)
		}
	}
}
