package domain

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// AppendString writes String's text, for every form of amount.
func TestAmountAppendStringEqualsString(t *testing.T) {
	r := rand.New(rand.NewPCG(18, 2))
	texts := []string{"0", "0.00", "-0.00", "100", "-100", "18.150", "0.000001", "-0.5", "99999999999999999999999.99",
		"-123456789012345678901234567890.123"}
	for range 5000 {
		texts = append(texts, fmt.Sprintf("%d.%0*d", r.Int64N(2e12)-1e12, r.IntN(8)+1, r.IntN(1e6)))
	}
	for _, s := range texts {
		a, err := ParseAmount(s)
		if err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		for _, v := range []Amount{a, a.Neg(), a.MulInt(1e9), a.Round(2)} {
			if got, want := string(v.AppendString([]byte("x"))), "x"+v.String(); got != want {
				t.Fatalf("AppendString of %s = %q, want %q", v, got, want)
			}
		}
	}
}
