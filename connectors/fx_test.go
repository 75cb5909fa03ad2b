package connectors

import (
	"errors"
	"strings"
	"testing"

	"github.com/lettrage/lettrage/matcher"
)

func TestRefuseCrossCurrency(t *testing.T) {
	eur := matcher.Allocation{ItemID: "1", Amount: matcher.MustAmount("10")}
	usd := matcher.Allocation{ItemID: "2", Amount: matcher.MustAmount("92"), ItemAmount: matcher.MustAmount("100"), ItemCurrency: "USD"}
	tests := []struct {
		name        string
		allocs      []matcher.Allocation
		errContains string // "" when not refused
	}{
		{"same currency", []matcher.Allocation{eur}, ""},
		{"none", nil, ""},
		{"cross-currency", []matcher.Allocation{eur, usd}, "cross-currency lettering is not supported by the Tryton ledger yet (item 2 in USD, paid in EUR)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kd := KeyedDecision{Key: "k", Tx: matcher.Transaction{Currency: "EUR"}, Decision: matcher.Decision{Allocations: tt.allocs}}
			r := RefuseCrossCurrency("Tryton", kd)
			if tt.errContains == "" {
				if r != nil {
					t.Fatalf("refused: %v", r)
				}
				return
			}
			if r == nil || r.Key != "k" || !strings.Contains(r.Reason, tt.errContains) || !errors.Is(r, ErrCrossCurrency) {
				t.Fatalf("RefuseCrossCurrency = %v, want %q", r, tt.errContains)
			}
		})
	}
}
