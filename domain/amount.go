package domain

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"strconv"
	"strings"

	"github.com/shopspring/decimal"
)

// Amount is an exact decimal amount of money. It is never a float: banks send
// from 0 to 13 fraction digits and every digit is kept. The zero value is 0.
//
// Amount is a value type; its methods never modify the receiver.
//
// It is compact: an amount whose coefficient (its digits without the point)
// fits an int64 — every amount a bank or a ledger sends, up to 18 digits — is
// that int64 and an exponent, and holds no heap memory; arithmetic on such
// amounts allocates nothing. A larger coefficient (up to maxAmountDigits
// digits as parsed, any size as computed) is kept exactly in a decimal.
// Either way the value, its text, its exponent and its key are the same as
// they were when every amount was a decimal (the differential test in
// amountdiff_test.go holds the two to each other).
type Amount struct {
	// d is the amount when its coefficient does not fit an int64; d is then
	// not zero and c is 0 (the "big" form). Otherwise d is a zero decimal
	// that only carries the exponent (expOnly: no heap memory), and the
	// amount is c × 10^d.Exponent().
	d decimal.Decimal
	c int64
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
	// significant; u accumulates the coefficient while it fits a uint64.
	digits, dots, lead, frac := 0, 0, 0, 0
	var u uint64
	over := false
	for i := 0; i < len(body); i++ {
		c := body[i]
		switch {
		case c == '0' && lead == i:
			lead++
			digits++
		case c >= '0' && c <= '9':
			digits++
			if u > (math.MaxUint64-9)/10 {
				over = true
			}
			u = u*10 + uint64(c-'0')
		case c == '.':
			dots++
			continue
		default:
			return Amount{}, fmt.Errorf("parsing amount %q: %w", s, ErrBadAmount)
		}
		if dots > 0 {
			frac++
		}
	}
	if digits == 0 || dots > 1 || digits-lead > maxAmountDigits {
		return Amount{}, fmt.Errorf("parsing amount %q: %w", s, ErrBadAmount)
	}
	if !over {
		if sign != "-" && u <= math.MaxInt64 {
			return compact(int64(u), int32(-frac)), nil
		}
		if sign == "-" && u <= 1<<63 {
			return compact(-int64(u), int32(-frac)), nil // -int64(1<<63) is MinInt64
		}
	}
	num := s
	if lead > 1 {
		// Do not hand a run of leading zeros to the decimal parser.
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
	return fromDecimal(d), nil
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
func AmountFromCents(cents int64) Amount { return compact(cents, -2) }

// AmountFromInt returns the whole amount n.
func AmountFromInt(n int64) Amount { return Amount{c: n} }

// expOnly returns a zero decimal with exponent e. It holds no heap memory:
// shifting the zero decimal points it at the decimal package's shared zero.
func expOnly(e int32) decimal.Decimal {
	if e == 0 {
		return decimal.Decimal{}
	}
	return decimal.Decimal{}.Shift(e)
}

// compact returns c × 10^e.
func compact(c int64, e int32) Amount { return Amount{d: expOnly(e), c: c} }

// isBig reports whether a is in the big form (its coefficient is in d).
func (a Amount) isBig() bool { return a.c == 0 && a.d.Sign() != 0 }

// exp is a's exponent, in either form.
func (a Amount) exp() int32 { return a.d.Exponent() }

// dec returns a as a decimal: the arithmetic of the big form and of the
// compact form when its int64 would overflow.
func (a Amount) dec() decimal.Decimal {
	if a.isBig() {
		return a.d
	}
	return decimal.New(a.c, a.exp())
}

// fromDecimal returns the amount of d: compact when its coefficient fits an
// int64, big otherwise. d is not modified, then or later.
func fromDecimal(d decimal.Decimal) Amount {
	switch {
	case d.Sign() == 0:
		return compact(0, d.Exponent())
	case d.NumDigits() <= 18:
		return compact(d.CoefficientInt64(), d.Exponent())
	}
	if c := d.Coefficient(); c.IsInt64() {
		return compact(c.Int64(), d.Exponent())
	}
	return Amount{d: d}
}

// pow10 holds the powers of ten an int64 holds.
var pow10 = [19]int64{1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12,
	1e13, 1e14, 1e15, 1e16, 1e17, 1e18}

// mulPow10 returns c × 10^k, and false when it does not fit an int64.
func mulPow10(c, k int64) (int64, bool) {
	switch {
	case c == 0 || k == 0:
		return c, true
	case k < 0 || k >= int64(len(pow10)):
		return 0, false
	}
	p := pow10[k]
	if c > math.MaxInt64/p || c < math.MinInt64/p {
		return 0, false
	}
	return c * p, true
}

// absU returns |c| (|MinInt64| = 1<<63 fits a uint64).
func absU(c int64) uint64 {
	u := uint64(c)
	if c < 0 {
		u = -u
	}
	return u
}

// mul64 returns x × y, and false when it does not fit an int64.
func mul64(x, y int64) (int64, bool) {
	if x == 0 || y == 0 {
		return 0, true
	}
	hi, lo := bits.Mul64(absU(x), absU(y))
	if (x < 0) != (y < 0) {
		if hi != 0 || lo > 1<<63 {
			return 0, false
		}
		return -int64(lo), true // -int64(1<<63) is MinInt64
	}
	if hi != 0 || lo > math.MaxInt64 {
		return 0, false
	}
	return int64(lo), true
}

// align returns the coefficients of two compact amounts at the smaller of
// their exponents and the decimal carrying that exponent, as the decimal
// package's Add does; ok is false when one does not fit an int64.
func align(a, b Amount) (x, y int64, d decimal.Decimal, ok bool) {
	ea, eb := a.exp(), b.exp()
	switch {
	case ea == eb:
		return a.c, b.c, a.d, true
	case ea < eb:
		y, ok = mulPow10(b.c, int64(eb)-int64(ea))
		return a.c, y, a.d, ok
	}
	x, ok = mulPow10(a.c, int64(ea)-int64(eb))
	return x, b.c, b.d, ok
}

// roundTo returns c × 10^e at exponent -n: padded with zeros, or rounded
// half to even (even) or half away from zero (!even); false when it does
// not fit an int64.
func roundTo(c int64, e, n int32, even bool) (int64, bool) {
	k := -int64(n) - int64(e) // the digits dropped
	switch {
	case k <= 0:
		return mulPow10(c, -k)
	case c == 0:
		return 0, true
	case k >= int64(len(pow10)):
		return 0, false
	}
	p := pow10[k]
	q, r := c/p, c%p
	if r < 0 {
		r = -r
	}
	if 2*r > p || 2*r == p && (!even || q&1 != 0) {
		if c < 0 {
			q--
		} else {
			q++
		}
	}
	return q, true
}

// String returns the amount with exactly the fraction digits it carries
// ("18.150" stays "18.150", "100" stays "100").
func (a Amount) String() string {
	if a.isBig() {
		if e := a.d.Exponent(); e < 0 {
			return a.d.StringFixed(-e)
		}
		return a.d.String()
	}
	if a.exp() == 0 {
		return strconv.FormatInt(a.c, 10)
	}
	var buf [48]byte
	return string(a.appendCompact(buf[:0], false))
}

// appendCompact appends the text of a compact amount: with every fraction
// digit it carries (String), or without the fraction's trailing zeros and
// without the sign of a zero (Key). A positive exponent writes its zeros.
func (a Amount) appendCompact(b []byte, key bool) []byte {
	if key && a.c == 0 {
		return append(b, '0')
	}
	var digits [20]byte
	d := strconv.AppendUint(digits[:0], absU(a.c), 10)
	if a.c < 0 {
		b = append(b, '-')
	}
	e := a.exp()
	if e >= 0 {
		b = append(b, d...)
		for ; e > 0 && a.c != 0; e-- {
			b = append(b, '0')
		}
		return b
	}
	frac := -int(e)
	if key {
		for frac > 0 && d[len(d)-1] == '0' {
			d, frac = d[:len(d)-1], frac-1
		}
	}
	if frac == 0 {
		return append(b, d...)
	}
	if len(d) > frac {
		b = append(b, d[:len(d)-frac]...)
		b = append(b, '.')
		return append(b, d[len(d)-frac:]...)
	}
	b = append(b, '0', '.')
	for k := len(d); k < frac; k++ {
		b = append(b, '0')
	}
	return append(b, d...)
}

// StringFixed returns the amount rounded half-even to n fraction digits
// and padded with zeros ("1250" → "1250.00" for n=2).
func (a Amount) StringFixed(n int32) string { return a.Round(n).String() }

// Scale is the number of fraction digits the amount carries as written.
func (a Amount) Scale() int32 {
	if e := a.exp(); e < 0 {
		return -e
	}
	return 0
}

// Add returns a+b.
func (a Amount) Add(b Amount) Amount {
	if !a.isBig() && !b.isBig() {
		if x, y, d, ok := align(a, b); ok {
			if s := x + y; (x >= 0) != (y >= 0) || (s >= 0) == (x >= 0) {
				return Amount{d: d, c: s}
			}
		}
	}
	return fromDecimal(a.dec().Add(b.dec()))
}

// Sub returns a-b.
func (a Amount) Sub(b Amount) Amount {
	if !a.isBig() && !b.isBig() {
		if x, y, d, ok := align(a, b); ok {
			if s := x - y; (x >= 0) == (y >= 0) || (s >= 0) == (x >= 0) {
				return Amount{d: d, c: s}
			}
		}
	}
	return fromDecimal(a.dec().Sub(b.dec()))
}

// Neg returns -a.
func (a Amount) Neg() Amount {
	if !a.isBig() && a.c != math.MinInt64 {
		return Amount{d: a.d, c: -a.c}
	}
	return fromDecimal(a.dec().Neg())
}

// Abs returns |a|.
func (a Amount) Abs() Amount {
	if a.Sign() >= 0 {
		return a
	}
	return a.Neg()
}

// MulInt returns a*n.
func (a Amount) MulInt(n int64) Amount {
	if !a.isBig() {
		if p, ok := mul64(a.c, n); ok {
			return Amount{d: a.d, c: p}
		}
	}
	return fromDecimal(a.dec().Mul(decimal.NewFromInt(n)))
}

// Percent returns a*p/100 rounded half-even to scale fraction digits; p is an
// exact decimal percentage such as 0.5 for half a percent.
//
// As it always has: the quotient is first rounded half away from zero to
// decimal.DivisionPrecision (16) fraction digits, then half-even to scale.
func (a Amount) Percent(p Amount, scale int32) Amount {
	if !a.isBig() && !p.isBig() && scale != math.MinInt32 {
		if x, ok := mul64(a.c, p.c); ok {
			e := int64(a.exp()) + int64(p.exp()) - 2 // /100
			prec := int64(decimal.DivisionPrecision)
			if e < -prec && e >= math.MinInt32 {
				x, ok = roundTo(x, int32(e), int32(prec), false)
				e = -prec
			}
			if ok && e >= math.MinInt32 {
				if r, ok := roundTo(x, int32(e), scale, true); ok {
					return compact(r, -scale)
				}
			}
		}
	}
	return fromDecimal(a.dec().Mul(p.dec()).Div(decimal.NewFromInt(100)).RoundBank(scale))
}

// Round returns a rounded half-even to n fraction digits.
func (a Amount) Round(n int32) Amount {
	if !a.isBig() && n != math.MinInt32 {
		if n == -a.exp() {
			return a
		}
		if r, ok := roundTo(a.c, a.exp(), n, true); ok {
			return compact(r, -n)
		}
	}
	return fromDecimal(a.dec().RoundBank(n))
}

// Cmp returns -1, 0 or +1 as a is less than, equal to or greater than b.
// Scale does not matter: 1.5 and 1.50 are equal.
func (a Amount) Cmp(b Amount) int {
	if !a.isBig() && !b.isBig() {
		if a.exp() == b.exp() {
			return cmp.Compare(a.c, b.c)
		}
		sa, sb := a.Sign(), b.Sign()
		if sa != sb || sa == 0 {
			return cmp.Compare(sa, sb)
		}
		if x, y, _, ok := align(a, b); ok {
			return cmp.Compare(x, y)
		}
	}
	return a.dec().Cmp(b.dec())
}

// Equal reports whether a and b are the same number (1.5 == 1.50).
func (a Amount) Equal(b Amount) bool { return a.Cmp(b) == 0 }

// Sign returns -1, 0 or +1.
func (a Amount) Sign() int {
	switch {
	case a.c > 0:
		return 1
	case a.c < 0:
		return -1
	}
	return a.d.Sign()
}

// IsZero reports whether a is 0.
func (a Amount) IsZero() bool { return a.Sign() == 0 }

// Min returns the smaller of a and b.
func (a Amount) Min(b Amount) Amount {
	if a.Cmp(b) <= 0 {
		return a
	}
	return b
}

// Decimal returns the exact decimal value, for arithmetic Amount has no
// method for (a proportional split). Never a float.
func (a Amount) Decimal() decimal.Decimal { return a.dec() }

// AmountFromDecimal returns the amount of an exact decimal.
func AmountFromDecimal(d decimal.Decimal) Amount { return fromDecimal(d) }

// Exponent returns the exponent of the decimal as written: -2 for "1.50",
// 0 for "3"; it says how many fraction digits the amount carries.
func (a Amount) Exponent() int32 { return a.exp() }

// Units returns a in minor units at scale (10^scale per unit), when that is
// exact and fits comfortably in an int64.
func (a Amount) Units(scale int32) (int64, bool) {
	if !a.isBig() {
		v, ok := a.c, true
		switch ne := int64(a.exp()) + int64(scale); {
		case ne >= 0:
			v, ok = mulPow10(a.c, ne)
		case a.c == 0:
		case -ne >= int64(len(pow10)) || a.c%pow10[-ne] != 0:
			return 0, false // |c| < 10^19: not a multiple of 10^19 or more
		default:
			v = a.c / pow10[-ne]
		}
		if !ok || v > math.MaxInt64/4 || v < -(math.MaxInt64/4) {
			return 0, false
		}
		return v, true
	}
	s := a.d.Shift(scale)
	if !s.IsInteger() || s.Abs().GreaterThan(decimal.NewFromInt(math.MaxInt64/4)) {
		return 0, false
	}
	return s.IntPart(), true
}

// float64Pow10 holds the powers of ten a float64 holds exactly.
var float64Pow10 = [23]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// Float returns an approximation for display-only uses such as metrics
// gauges. Never compute with it.
func (a Amount) Float() float64 {
	// An exact coefficient divided by an exact power of ten: the correctly
	// rounded quotient, the same float as the decimal's.
	if e := a.exp(); !a.isBig() && e <= 0 && e >= -22 && a.c >= -1<<53 && a.c <= 1<<53 {
		return float64(a.c) / float64Pow10[-e]
	}
	f, _ := a.dec().Float64()
	return f
}

// Key returns a canonical text form in which equal amounts are equal strings
// (trailing fraction zeros removed: "1.50" → "1.5"); use it for map keys.
func (a Amount) Key() string {
	if a.isBig() {
		return a.keySlow()
	}
	if a.c == 0 {
		return "0"
	}
	var buf [48]byte
	return string(a.appendCompact(buf[:0], true))
}

// AppendKey appends Key's text to b without allocating in the common case.
func (a Amount) AppendKey(b []byte) []byte {
	if a.isBig() {
		return append(b, a.keySlow()...)
	}
	return a.appendCompact(b, true)
}

// keySlow is Key for any amount, through the decimal's text.
func (a Amount) keySlow() string {
	s := a.dec().String()
	if strings.IndexByte(s, '.') >= 0 {
		s = strings.TrimRight(s, "0")
		s = strings.TrimSuffix(s, ".")
	}
	if s == "-0" {
		s = "0"
	}
	return s
}

// AppendString appends String's text to b without allocating in the
// common case (the state store's JSON encoder, pipeline/state).
func (a Amount) AppendString(b []byte) []byte {
	if a.isBig() {
		return append(b, a.String()...)
	}
	if a.exp() == 0 {
		return strconv.AppendInt(b, a.c, 10)
	}
	return a.appendCompact(b, false)
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
