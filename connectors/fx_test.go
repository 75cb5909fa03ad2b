package connectors

import (
	"errors"
	"strings"
	"testing"

	"github.com/lettrage/lettrage/domain"
)

func TestRefuseCrossCurrency(t *testing.T) {
	eur := domain.Allocation{ItemID: "1", Amount: domain.MustAmount("10")}
	usd := domain.Allocation{ItemID: "2", Amount: domain.MustAmount("92"), ItemAmount: domain.MustAmount("100"), ItemCurrency: "USD"}
	tests := []struct {
		name        string
		allocs      []domain.Allocation
		errContains string // "" when not refused
	}{
		{"same currency", []domain.Allocation{eur}, ""},
		{"none", nil, ""},
		{"cross-currency", []domain.Allocation{eur, usd}, "cross-currency lettering is not supported by the Tryton ledger yet (item 2 in USD, paid in EUR)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kd := KeyedDecision{Key: "k", Tx: domain.Transaction{Currency: "EUR"}, Decision: domain.Decision{Allocations: tt.allocs}}
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
