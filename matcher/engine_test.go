package matcher

import (
	"fmt"
	"testing"

	"github.com/lettrage/lettrage/domain"
)

func TestTolerance(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Tolerances = []Tolerance{
		{Currency: "EUR", Absolute: domain.MustAmount("5")},
		{Currency: "", Percent: domain.MustAmount("1")},
		{Currency: "CHF", Absolute: domain.MustAmount("2"), Percent: domain.MustAmount("0.5")},
	}
	e := &engine{cfg: cfg}
	tests := []struct {
		ccy, due, paid string
		want           bool
	}{
		{"EUR", "1000", "995", true},
		{"EUR", "1000", "994.99", false},
		{"EUR", "10", "5", true}, // absolute only for EUR
		{"EUR", "1000", "1000", false},
		{"EUR", "1000", "1001", false},
		{"USD", "1000", "990", true}, // 1% from the catch-all
		{"USD", "1000", "989.99", false},
		{"CHF", "1000", "998", true}, // min(2, 5)
		{"CHF", "100", "99.50", true},
		{"CHF", "100", "99.49", false}, // min(2, 0.50)
		{"JPY", "1000", "990", true},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s %s-%s", tt.ccy, tt.due, tt.paid), func(t *testing.T) {
			if got := e.withinTolerance(tt.ccy, domain.MustAmount(tt.due), domain.MustAmount(tt.paid)); got != tt.want {
				t.Errorf("withinTolerance = %v, want %v", got, tt.want)
			}
		})
	}
	if (&engine{cfg: DefaultConfig()}).withinTolerance("EUR", domain.MustAmount("10"), domain.MustAmount("9.99")) {
		t.Error("a tolerance applied with none configured")
	}
}

func TestFmtAmount(t *testing.T) {
	tests := []struct{ a, ccy, want string }{
		{"1250", "EUR", "1,250.00"},
		{"1234567.891", "EUR", "1,234,567.89"},
		{"-1000", "EUR", "-1,000.00"},
		{"999", "JPY", "999"},
		{"0.5", "KWD", "0.500"},
	}
	for _, tt := range tests {
		if got := fmtAmount(domain.MustAmount(tt.a), tt.ccy); got != tt.want {
			t.Errorf("fmtAmount(%s, %s) = %q, want %q", tt.a, tt.ccy, got, tt.want)
		}
	}
}

func TestMatchEdges(t *testing.T) {
	if out := Match(Input{Config: DefaultConfig()}); len(out.Decisions) != 0 || len(out.Learned) != 0 {
		t.Fatalf("empty input gave %+v", out)
	}
	item := domain.OpenItem{ID: "i", CustomerID: "C", Currency: "EUR", Amount: domain.MustAmount("10"), Residual: domain.MustAmount("10"), DocumentNumber: "F-100"}
	zero := domain.Transaction{Key: "z", Credit: true, Status: "BOOK", Currency: "EUR", Unstructured: []string{"F-100"}}
	out := Match(Input{Transactions: []domain.Transaction{zero}, Items: []domain.OpenItem{item}, Config: DefaultConfig()})
	if d := out.Decisions[0]; d.Outcome != domain.Unmatched || len(d.Allocations) != 0 {
		t.Fatalf("zero amount gave %+v", d)
	}
	// a zero Config still works (defaults filled where 0 is unusable)
	one := domain.Transaction{Key: "o", Credit: true, Status: "BOOK", Currency: "EUR", Amount: domain.MustAmount("10"), Unstructured: []string{"F-100"}}
	out = Match(Input{Transactions: []domain.Transaction{one}, Items: []domain.OpenItem{item}})
	if d := out.Decisions[0]; d.Outcome != domain.Auto {
		t.Fatalf("zero config gave %+v", d)
	}
}

// TestCutLineOfMarksOnly is a 35-byte remittance line that folds to
// nothing (combining marks only): it must not panic.
func TestCutLineOfMarksOnly(t *testing.T) {
	line := ""
	for range 11 {
		line += "\u20d0"
	}
	line += "\u0301"
	if len(line) != 35 {
		t.Fatalf("line has %d bytes", len(line))
	}
	tx := domain.Transaction{Key: "k", Credit: true, Status: "BOOK", Currency: "EUR", Amount: domain.MustAmount("1"), Unstructured: []string{line}}
	item := domain.OpenItem{ID: "i", CustomerID: "C", Currency: "EUR", DocumentNumber: "FA-2025-0001", Amount: domain.MustAmount("1"), Residual: domain.MustAmount("1")}
	out := Match(Input{Transactions: []domain.Transaction{tx}, Items: []domain.OpenItem{item}, Config: DefaultConfig()})
	if out.Decisions[0].Outcome == domain.Auto {
		t.Fatalf("auto-lettered on nothing: %+v", out.Decisions[0])
	}
}
