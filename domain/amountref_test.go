package domain

import (
	"math"
	"os"
	"strings"

	"github.com/shopspring/decimal"
)

// refAmount is the reference the compact Amount is checked against: the
// Amount of a3f79f0, a shopspring decimal behind every method, kept here
// with its semantics unchanged (refParse is its ParseAmount).
type refAmount struct{ d decimal.Decimal }

func refParse(s string) (refAmount, bool) {
	if s == "" {
		return refAmount{}, false
	}
	sign, body := "", s
	if body[0] == '-' || body[0] == '+' {
		sign, body = body[:1], body[1:]
	}
	digits, dots, lead := 0, 0, 0
	for i := 0; i < len(body); i++ {
		c := body[i]
		switch {
		case c == '0' && lead == i:
			lead++
			digits++
		case c >= '0' && c <= '9':
			digits++
		case c == '.':
			dots++
		default:
			return refAmount{}, false
		}
	}
	if digits == 0 || dots > 1 || digits-lead > maxAmountDigits {
		return refAmount{}, false
	}
	num := s
	if lead > 1 {
		rest := body[lead:]
		if rest == "" || rest[0] == '.' {
			rest = "0" + rest
		}
		num = sign + rest
	}
	num = strings.TrimSuffix(num, ".")
	d, err := decimal.NewFromString(num)
	if err != nil {
		return refAmount{}, false
	}
	return refAmount{d: d}, true
}

func (a refAmount) String() string {
	if e := a.d.Exponent(); e < 0 {
		return a.d.StringFixed(-e)
	}
	return a.d.String()
}

func (a refAmount) StringFixed(n int32) string { return a.d.StringFixedBank(n) }

func (a refAmount) Scale() int32 {
	if e := a.d.Exponent(); e < 0 {
		return -e
	}
	return 0
}

func (a refAmount) Add(b refAmount) refAmount { return refAmount{d: a.d.Add(b.d)} }
func (a refAmount) Sub(b refAmount) refAmount { return refAmount{d: a.d.Sub(b.d)} }
func (a refAmount) Neg() refAmount            { return refAmount{d: a.d.Neg()} }
func (a refAmount) Abs() refAmount            { return refAmount{d: a.d.Abs()} }
func (a refAmount) MulInt(n int64) refAmount  { return refAmount{d: a.d.Mul(decimal.NewFromInt(n))} }
func (a refAmount) Round(n int32) refAmount   { return refAmount{d: a.d.RoundBank(n)} }
func (a refAmount) Cmp(b refAmount) int       { return a.d.Cmp(b.d) }
func (a refAmount) Equal(b refAmount) bool    { return a.d.Equal(b.d) }
func (a refAmount) Sign() int                 { return a.d.Sign() }
func (a refAmount) IsZero() bool              { return a.d.IsZero() }
func (a refAmount) Exponent() int32           { return a.d.Exponent() }
func (a refAmount) Float() float64            { f, _ := a.d.Float64(); return f }
func (a refAmount) Percent(p refAmount, scale int32) refAmount {
	return refAmount{d: a.d.Mul(p.d).Div(decimal.NewFromInt(100)).RoundBank(scale)}
}

func (a refAmount) Min(b refAmount) refAmount {
	if a.Cmp(b) <= 0 {
		return a
	}
	return b
}

func (a refAmount) Units(scale int32) (int64, bool) {
	s := a.d.Shift(scale)
	if !s.IsInteger() || s.Abs().GreaterThan(decimal.NewFromInt(math.MaxInt64/4)) {
		return 0, false
	}
	return s.IntPart(), true
}

func (a refAmount) Key() string {
	s := a.d.String()
	if strings.IndexByte(s, '.') >= 0 {
		s = strings.TrimRight(s, "0")
		s = strings.TrimSuffix(s, ".")
	}
	if s == "-0" {
		s = "0"
	}
	return s
}

func getenv(k string) string { return os.Getenv(k) }
