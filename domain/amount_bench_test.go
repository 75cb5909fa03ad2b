package domain

import "testing"

// The amounts of a bank statement and a ledger: two fraction digits,
// a few with more, one large.
var benchAmountTexts = []string{"125.50", "0.99", "18.150", "1250", "-42.07", "100000.00", "7.5", "3456789.12"}

var (
	benchSinkAmount Amount
	benchSinkInt    int
	benchSinkBytes  []byte
)

func benchAmounts(b *testing.B) []Amount {
	b.Helper()
	out := make([]Amount, len(benchAmountTexts))
	for i, s := range benchAmountTexts {
		out[i] = MustAmount(s)
	}
	return out
}

func BenchmarkAmountParse(b *testing.B) {
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		a, err := ParseAmount(benchAmountTexts[i%len(benchAmountTexts)])
		if err != nil {
			b.Fatal(err)
		}
		benchSinkAmount = a
	}
}

func BenchmarkAmountAdd(b *testing.B) {
	as := benchAmounts(b)
	b.ReportAllocs()
	var sum Amount
	for i := 0; b.Loop(); i++ {
		sum = sum.Add(as[i%len(as)])
	}
	benchSinkAmount = sum
}

// BenchmarkAmountSubCmp is the matcher's residual step: subtract, compare.
func BenchmarkAmountSubCmp(b *testing.B) {
	as := benchAmounts(b)
	b.ReportAllocs()
	n := 0
	for i := 0; b.Loop(); i++ {
		r := as[i%len(as)].Sub(as[(i+3)%len(as)])
		n += r.Cmp(as[(i+1)%len(as)])
	}
	benchSinkInt = n
}

func BenchmarkAmountCmp(b *testing.B) {
	as := benchAmounts(b)
	b.ReportAllocs()
	n := 0
	for i := 0; b.Loop(); i++ {
		n += as[i%len(as)].Cmp(as[(i+1)%len(as)])
	}
	benchSinkInt = n
}

func BenchmarkAmountKey(b *testing.B) {
	as := benchAmounts(b)
	b.ReportAllocs()
	n := 0
	for i := 0; b.Loop(); i++ {
		n += len(as[i%len(as)].Key())
	}
	benchSinkInt = n
}

func BenchmarkAmountAppendKey(b *testing.B) {
	as := benchAmounts(b)
	buf := make([]byte, 0, 64)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		buf = as[i%len(as)].AppendKey(buf[:0])
	}
	benchSinkBytes = buf
}

func BenchmarkAmountString(b *testing.B) {
	as := benchAmounts(b)
	b.ReportAllocs()
	n := 0
	for i := 0; b.Loop(); i++ {
		n += len(as[i%len(as)].String())
	}
	benchSinkInt = n
}

func BenchmarkAmountPercent(b *testing.B) {
	as := benchAmounts(b)
	p := MustAmount("0.5")
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		benchSinkAmount = as[i%len(as)].Percent(p, 2)
	}
}
