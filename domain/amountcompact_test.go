package domain

import (
	"math"
	"strings"
	"testing"
	"unsafe"
)

// TestAmountCompactAllocatesNothing: everyday amounts are an int64 and an
// exponent; parsing them and computing with them allocates nothing.
func TestAmountCompactAllocatesNothing(t *testing.T) {
	a, b, p := MustAmount("125.50"), MustAmount("-18.150"), MustAmount("0.5")
	buf := make([]byte, 0, 64)
	var sink Amount
	n := 0
	allocs := testing.AllocsPerRun(100, func() {
		x, err := ParseAmount("1234567.89")
		if err != nil {
			t.Fatal(err)
		}
		sink = x.Add(a).Sub(b).MulInt(3).Neg().Abs().Round(1).Percent(p, 2).Min(AmountFromCents(7)).Add(AmountFromInt(2))
		n += sink.Cmp(a) + sink.Sign()
		if _, ok := sink.Units(2); !ok {
			n++
		}
		buf = sink.AppendKey(buf[:0])
	})
	if allocs != 0 {
		t.Fatalf("compact amounts allocate %v times per run, want 0", allocs)
	}
	if got := string(buf); got != "2.07" {
		t.Fatalf("key %q", got)
	}
}

// TestAmountSize: an Amount is three words and the compact form points at no
// heap memory (its decimal is zero: no coefficient of its own).
func TestAmountSize(t *testing.T) {
	if s := unsafe.Sizeof(Amount{}); s != 24 {
		t.Fatalf("Amount is %d bytes, want 24", s)
	}
	for _, s := range []string{"0", "0.00", "1.50", "-9223372036854775808", "9223372036854775807", "0." + strings.Repeat("0", 39) + "1"} {
		if a := MustAmount(s); a.isBig() || a.d.Sign() != 0 {
			t.Errorf("%s is kept in the big form", s)
		}
	}
	for _, s := range []string{"9223372036854775808", "-9223372036854775809", strings.Repeat("9", 40)} {
		if a := MustAmount(s); !a.isBig() || a.c != 0 {
			t.Errorf("%s is not kept in the big form", s)
		}
	}
	// Overflow moves to the big form, never wraps.
	max := AmountFromInt(math.MaxInt64)
	if got := max.Add(AmountFromInt(1)).String(); got != "9223372036854775808" {
		t.Errorf("MaxInt64+1 = %s", got)
	}
	if got := AmountFromInt(math.MinInt64).Sub(AmountFromInt(1)).String(); got != "-9223372036854775809" {
		t.Errorf("MinInt64-1 = %s", got)
	}
	if got := max.MulInt(-2).String(); got != "-18446744073709551614" {
		t.Errorf("MaxInt64*-2 = %s", got)
	}
	if got := AmountFromInt(math.MinInt64).Neg().String(); got != "9223372036854775808" {
		t.Errorf("-MinInt64 = %s", got)
	}
	if got := MustAmount("92233720368547758.07").Round(3).String(); got != "92233720368547758.070" {
		t.Errorf("Round(3) = %s", got)
	}
	if got := max.Percent(AmountFromInt(200), 0).String(); got != "18446744073709551614" {
		t.Errorf("200%% of MaxInt64 = %s", got)
	}
	// and comes back when the result fits again
	if a := max.Add(AmountFromInt(1)).Sub(AmountFromInt(1)); a.isBig() || a.String() != "9223372036854775807" {
		t.Errorf("MaxInt64+1-1 = %s (big %v)", a, a.isBig())
	}
}
