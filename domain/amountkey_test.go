package domain

import (
	"testing"

	"github.com/shopspring/decimal"
)

// TestAmountKeyFastPath checks that the allocation-free Key matches the
// decimal's own text, trailing zeros dropped, on every shape of amount.
func TestAmountKeyFastPath(t *testing.T) {
	inputs := []string{"0", "-0", "0.00", "1", "-1", "1.50", "-1.50", "100", "100.000", "0.001", "-0.0010",
		"123456789012345678", "1234567890123456789", "0.000000000000000001", "12345678901234567.8",
		"99999999999999999999999.99", "-0.5", "10.10", "1000000", "7.0000000000001"}
	for _, s := range inputs {
		a := MustAmount(s)
		if got, want := a.Key(), a.keySlow(); got != want {
			t.Errorf("Key(%s) = %q, want %q", s, got, want)
		}
		if got, want := string(a.AppendKey([]byte("x|"))), "x|"+a.keySlow(); got != want {
			t.Errorf("AppendKey(%s) = %q, want %q", s, got, want)
		}
	}
	// amounts made by arithmetic, including a positive exponent
	for _, a := range []Amount{AmountFromInt(0).Sub(MustAmount("0.00")), MustAmount("2.5").MulInt(4),
		MustAmount("1.25").Add(MustAmount("-1.25")), {d: decimal.New(15, 3)}, {d: decimal.New(-7, -20)}} {
		if got, want := a.Key(), a.keySlow(); got != want {
			t.Errorf("Key(%s) = %q, want %q", a, got, want)
		}
	}
}

// FuzzAmountKey checks the fast Key against the decimal's text.
func FuzzAmountKey(f *testing.F) {
	for _, s := range []string{"0", "1.50", "-12.345000", "123456789012345678901", ".5"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseAmount(s)
		if err != nil {
			return
		}
		if got, want := a.Key(), a.keySlow(); got != want {
			t.Fatalf("Key(%q) = %q, want %q", s, got, want)
		}
	})
}
