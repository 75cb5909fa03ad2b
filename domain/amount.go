package domain

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/shopspring/decimal"
)

// Amount is an exact decimal amount of money. It is never a float: banks send
// from 0 to 13 fraction digits and every digit is kept. The zero value is 0.
//
// Amount is a value type; its methods never modify the receiver.
type Amount struct {
	d decimal.Decimal
}

// ErrBadAmount is returned (wrapped) by ParseAmount for text that is not a
// plain decimal number.
var ErrBadAmount = errors.New("not a decimal amount")

// maxAmountDigits bounds the significant digits accepted by ParseAmount so
// that absurd inputs cannot make arithmetic expensive: the digits of the
// integer part after its leading zeros, and every fraction digit (they are
// kept: they make the amount's scale). That is the size of the decimal the
// amount is kept as, whatever the number of leading zeros, which
// xs:decimal allows without limit and does not count in totalDigits
// ("000…0100.00" is 100.00). ISO 20022 amounts have at most 18 digits;
// the bound leaves room for ledgers with more fraction digits.
const maxAmountDigits = 40

// ParseAmount parses a plain decimal number: an optional sign, digits, an
// optional '.' and fraction digits (".5" and "5." are accepted, as banks send
// them). Leading zeros are ignored ("007.50" is 7.50). Exponents, thousands
// separators, spaces and NaN are rejected, and so are numbers of more than
// maxAmountDigits significant digits.
func ParseAmount(s string) (Amount, error) {
	if s == "" {
		return Amount{}, fmt.Errorf("parsing amount %q: %w", s, ErrBadAmount)
	}
	sign, body := "", s
	if body[0] == '-' || body[0] == '+' {
		sign, body = body[:1], body[1:]
	}
	// lead counts the leading zeros of the integer part, which are not
	// significant.
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
			return Amount{}, fmt.Errorf("parsing amount %q: %w", s, ErrBadAmount)
		}
	}
	if digits == 0 || dots > 1 || digits-lead > maxAmountDigits {
		return Amount{}, fmt.Errorf("parsing amount %q: %w", s, ErrBadAmount)
	}
	num := s
	if lead > 1 {
		// Do not hand a run of leading zeros to the decimal parser (the
		// common "0.50" is passed as written, without allocating).
		rest := body[lead:]
		if rest == "" || rest[0] == '.' {
			rest = "0" + rest
		}
		num = sign + rest
	}
	num = strings.TrimSuffix(num, ".") // "5." is 5
	d, err := decimal.NewFromString(num)
	if err != nil {
		return Amount{}, fmt.Errorf("parsing amount %q: %w", s, ErrBadAmount)
	}
	return Amount{d: d}, nil
}

// MustAmount is ParseAmount for constants in tests and examples; it panics on
// bad input.
func MustAmount(s string) Amount {
	a, err := ParseAmount(s)
	if err != nil {
		panic(err)
	}
	return a
}

// AmountFromCents returns units/100, a convenience for generators and tests.
func AmountFromCents(cents int64) Amount { return Amount{d: decimal.New(cents, -2)} }

// AmountFromInt returns the whole amount n.
func AmountFromInt(n int64) Amount { return Amount{d: decimal.NewFromInt(n)} }

// String returns the amount with exactly the fraction digits it carries
// ("18.150" stays "18.150", "100" stays "100").
func (a Amount) String() string {
	if e := a.d.Exponent(); e < 0 {
		return a.d.StringFixed(-e)
	}
	return a.d.String()
}

// StringFixed returns the amount rounded half-even to n fraction digits
// and padded with zeros ("1250" → "1250.00" for n=2).
func (a Amount) StringFixed(n int32) string { return a.d.StringFixedBank(n) }

// Scale is the number of fraction digits the amount carries as written.
func (a Amount) Scale() int32 {
	if e := a.d.Exponent(); e < 0 {
		return -e
	}
	return 0
}

// Add returns a+b.
func (a Amount) Add(b Amount) Amount { return Amount{d: a.d.Add(b.d)} }

// Sub returns a-b.
func (a Amount) Sub(b Amount) Amount { return Amount{d: a.d.Sub(b.d)} }

// Neg returns -a.
func (a Amount) Neg() Amount { return Amount{d: a.d.Neg()} }

// Abs returns |a|.
func (a Amount) Abs() Amount { return Amount{d: a.d.Abs()} }

// MulInt returns a*n.
func (a Amount) MulInt(n int64) Amount { return Amount{d: a.d.Mul(decimal.NewFromInt(n))} }

// Percent returns a*p/100 rounded half-even to scale fraction digits; p is an
// exact decimal percentage such as 0.5 for half a percent.
func (a Amount) Percent(p Amount, scale int32) Amount {
	return Amount{d: a.d.Mul(p.d).Div(decimal.NewFromInt(100)).RoundBank(scale)}
}

// Round returns a rounded half-even to n fraction digits.
func (a Amount) Round(n int32) Amount { return Amount{d: a.d.RoundBank(n)} }

// Cmp returns -1, 0 or +1 as a is less than, equal to or greater than b.
// Scale does not matter: 1.5 and 1.50 are equal.
func (a Amount) Cmp(b Amount) int { return a.d.Cmp(b.d) }

// Equal reports whether a and b are the same number (1.5 == 1.50).
func (a Amount) Equal(b Amount) bool { return a.d.Equal(b.d) }

// Sign returns -1, 0 or +1.
func (a Amount) Sign() int { return a.d.Sign() }

// IsZero reports whether a is 0.
func (a Amount) IsZero() bool { return a.d.IsZero() }

// Min returns the smaller of a and b.
func (a Amount) Min(b Amount) Amount {
	if a.Cmp(b) <= 0 {
		return a
	}
	return b
}

// Decimal returns the exact decimal value, for arithmetic Amount has no
// method for (a proportional split). Never a float.
func (a Amount) Decimal() decimal.Decimal { return a.d }

// AmountFromDecimal returns the amount of an exact decimal.
func AmountFromDecimal(d decimal.Decimal) Amount { return Amount{d: d} }

// Exponent returns the exponent of the decimal as written: -2 for "1.50",
// 0 for "3"; it says how many fraction digits the amount carries.
func (a Amount) Exponent() int32 { return a.d.Exponent() }

// Units returns a in minor units at scale (10^scale per unit), when that is
// exact and fits comfortably in an int64.
func (a Amount) Units(scale int32) (int64, bool) {
	s := a.d.Shift(scale)
	if !s.IsInteger() || s.Abs().GreaterThan(decimal.NewFromInt(math.MaxInt64/4)) {
		return 0, false
	}
	return s.IntPart(), true
}

// Float returns an approximation for display-only uses such as metrics
// gauges. Never compute with it.
func (a Amount) Float() float64 { f, _ := a.d.Float64(); return f }

// Key returns a canonical text form in which equal amounts are equal strings
// (trailing fraction zeros removed: "1.50" → "1.5"); use it for map keys.
func (a Amount) Key() string {
	if b, ok := a.appendKeyFast(make([]byte, 0, 24)); ok {
		return string(b)
	}
	return a.keySlow()
}

// AppendKey appends Key's text to b without allocating in the common case.
func (a Amount) AppendKey(b []byte) []byte {
	if out, ok := a.appendKeyFast(b); ok {
		return out
	}
	return append(b, a.keySlow()...)
}

// appendKeyFast writes Key's text for the common amounts (a coefficient
// of at most 18 digits and fraction digits only); ok is false otherwise.
func (a Amount) appendKeyFast(b []byte) ([]byte, bool) {
	e := a.d.Exponent()
	if e > 0 || e < -18 || a.d.NumDigits() > 18 {
		return b, false
	}
	c := a.d.CoefficientInt64()
	if c == 0 {
		return append(b, '0'), true
	}
	if c < 0 {
		b = append(b, '-')
		c = -c
	}
	var digits [20]byte
	d := strconv.AppendUint(digits[:0], uint64(c), 10)
	frac := int(-e)
	// drop the trailing zeros of the fraction
	for frac > 0 && d[len(d)-1] == '0' {
		d, frac = d[:len(d)-1], frac-1
	}
	if frac == 0 {
		return append(b, d...), true
	}
	if len(d) > frac {
		b = append(b, d[:len(d)-frac]...)
		b = append(b, '.')
		return append(b, d[len(d)-frac:]...), true
	}
	b = append(b, '0', '.')
	for k := len(d); k < frac; k++ {
		b = append(b, '0')
	}
	return append(b, d...), true
}

// keySlow is Key for any amount, through the decimal's text.
func (a Amount) keySlow() string {
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

// MarshalText implements encoding.TextMarshaler (used by JSON output).
func (a Amount) MarshalText() ([]byte, error) { return []byte(a.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (a *Amount) UnmarshalText(b []byte) error {
	v, err := ParseAmount(string(b))
	if err != nil {
		return err
	}
	*a = v
	return nil
}

// CurrencyDigits returns the minor-unit digits of an ISO 4217 currency
// (2 when unknown), used to flag amounts carrying more digits than their
// currency uses and to round tolerances.
func CurrencyDigits(ccy string) int32 {
	switch ccy {
	case "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF",
		"UGX", "UYI", "VND", "VUV", "XAF", "XOF", "XPF":
		return 0
	case "BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND":
		return 3
	case "CLF", "UYW":
		return 4
	}
	return 2
}
