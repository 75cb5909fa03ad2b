package domain

import "strings"

// The check digits of structured payment references (ISO 11649 RF, the
// Swiss QR and ISR references, the Belgian OGM, the Finnish and Norwegian
// national references): vocabulary the ledgers check their open items'
// references with and the matcher finds references in text with.

// CompactReference returns s in upper case with everything but ASCII letters
// and digits removed: "RF18 5390 0754 7034" → "RF18539007547034",
// "+++123/4567/89002+++" → "123456789002".
func CompactReference(s string) string {
	if IsAlnumUpper(s) {
		return s // already compact: nothing to copy
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9', c >= 'A' && c <= 'Z':
			b.WriteByte(c)
		case c >= 'a' && c <= 'z':
			b.WriteByte(c - 'a' + 'A')
		}
	}
	return b.String()
}

// IsDigits reports whether s is not empty and holds ASCII digits only.
func IsDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// mod97 returns the value of s mod 97 where digits count as themselves and
// letters A–Z as 10–35 (ISO 7064 / ISO 13616 style). s must be upper-case
// alphanumeric.
func mod97(s string) int {
	r := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' {
			v := int(c-'A') + 10
			r = (r*100 + v) % 97
		} else {
			r = (r*10 + int(c-'0')) % 97
		}
	}
	return r
}

// ValidRF reports whether s (spaces and case ignored) is a valid ISO 11649
// creditor reference such as "RF18 5390 0754 7034".
func ValidRF(s string) bool {
	c := CompactReference(s)
	if len(c) < 5 || len(c) > 25 || c[0] != 'R' || c[1] != 'F' || !IsDigits(c[2:4]) {
		return false
	}
	if len(strings.TrimSpace(s)) == 0 || !compactOnlyDropsSpaces(s) {
		return false
	}
	return mod97(c[4:]+c[:4]) == 1
}

// MakeRF returns the ISO 11649 creditor reference for base (1 to 21
// letters or digits, case ignored): "RF", two check digits, base. ok is
// false when base cannot carry one.
func MakeRF(base string) (string, bool) {
	b := CompactReference(base)
	if len(b) == 0 || len(b) > 21 || len(b) != len(strings.TrimSpace(base)) {
		return "", false
	}
	ck := 98 - mod97(b+"RF00")
	return "RF" + string(rune('0'+ck/10)) + string(rune('0'+ck%10)) + b, true
}

// compactOnlyDropsSpaces reports whether s contains nothing but ASCII
// letters, digits and spaces, so that a reference is not accepted from
// arbitrary punctuation-laden text.
func compactOnlyDropsSpaces(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == ' ' || c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z') {
			return false
		}
	}
	return true
}

// digitsOf returns the digits of s when s holds only digits and the
// separators a payer may type inside a numeric reference (space, '/', '+',
// '*', '-', '.'); ok is false otherwise.
func digitsOf(s string) (string, bool) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			b.WriteByte(c)
		case c == ' ' || c == '/' || c == '+' || c == '*' || c == '-' || c == '.':
		default:
			return "", false
		}
	}
	return b.String(), b.Len() > 0
}

var mod10RecursiveTable = [10]int{0, 9, 4, 6, 8, 2, 7, 1, 3, 5}

// mod10Recursive returns the check digit of the Swiss mod 10 recursive
// algorithm for the digits d.
func mod10Recursive(d string) int {
	carry := 0
	for i := 0; i < len(d); i++ {
		carry = mod10RecursiveTable[(carry+int(d[i]-'0'))%10]
	}
	return (10 - carry) % 10
}

// ValidQRReference reports whether s is a Swiss QR-reference: 27 digits
// (spaces allowed) whose last digit is the mod 10 recursive check digit.
func ValidQRReference(s string) bool {
	d, ok := digitsOf(s)
	if !ok || len(d) != 27 {
		return false
	}
	return mod10Recursive(d[:26]) == int(d[26]-'0')
}

// ValidISR reports whether s is a Swiss ISR reference of 16 or 27 digits with
// a valid mod 10 recursive check digit.
func ValidISR(s string) bool {
	d, ok := digitsOf(s)
	if !ok || (len(d) != 16 && len(d) != 27) {
		return false
	}
	n := len(d) - 1
	return mod10Recursive(d[:n]) == int(d[n]-'0')
}

// ValidOGM reports whether s is a Belgian structured communication, written
// as "+++123/4567/89002+++", "***123/4567/89002***" or as 12 plain digits.
func ValidOGM(s string) bool {
	t := strings.TrimSpace(s)
	if strings.HasPrefix(t, "+++") || strings.HasPrefix(t, "***") {
		mark := t[:3]
		if len(t) < 6 || !strings.HasSuffix(t, mark) {
			return false
		}
		t = t[3 : len(t)-3]
	}
	d, ok := digitsOf(t)
	if !ok || len(d) != 12 || strings.ContainsAny(t, "+*") {
		return false
	}
	return ogmCheck(d[:10]) == atoi2(d[10:])
}

func ogmCheck(base string) int {
	r := mod97(base)
	if r == 0 {
		return 97
	}
	return r
}

func atoi2(s string) int { return int(s[0]-'0')*10 + int(s[1]-'0') }

// ValidFinnish reports whether s is a Finnish national reference: 4 to 20
// digits (spaces allowed), the last being the 7-3-1 weighted check digit of
// the others.
func ValidFinnish(s string) bool {
	d, ok := digitsOf(s)
	if !ok || len(d) < 4 || len(d) > 20 || strings.ContainsAny(s, "/+*-.") {
		return false
	}
	return finnishCheck(d[:len(d)-1]) == int(d[len(d)-1]-'0')
}

func finnishCheck(base string) int {
	weights := [3]int{7, 3, 1}
	sum := 0
	for i, j := len(base)-1, 0; i >= 0; i, j = i-1, j+1 {
		sum += int(base[i]-'0') * weights[j%3]
	}
	return (10 - sum%10) % 10
}

// ValidKIDMod10 reports whether s is a Norwegian KID (2 to 25 digits) whose
// last digit is the Luhn (mod 10) check digit.
func ValidKIDMod10(s string) bool {
	d, ok := digitsOf(s)
	if !ok || len(d) < 2 || len(d) > 25 || strings.ContainsAny(s, "/+*-.") {
		return false
	}
	return luhnCheck(d[:len(d)-1]) == int(d[len(d)-1]-'0')
}

func luhnCheck(base string) int {
	sum := 0
	for i, j := len(base)-1, 0; i >= 0; i, j = i-1, j+1 {
		v := int(base[i] - '0')
		if j%2 == 0 {
			v *= 2
			if v > 9 {
				v -= 9
			}
		}
		sum += v
	}
	return (10 - sum%10) % 10
}

// ValidKIDMod11 reports whether s is a Norwegian KID (2 to 25 characters)
// with a mod 11 check digit (weights 2–7 from the right); a check value of
// 10 is written '-'.
func ValidKIDMod11(s string) bool {
	t := strings.TrimSpace(s)
	if len(t) < 2 || len(t) > 25 {
		return false
	}
	last := t[len(t)-1]
	base := t[:len(t)-1]
	if !IsDigits(base) {
		return false
	}
	want := mod11Check(base)
	switch {
	case last == '-':
		return want == 10
	case last >= '0' && last <= '9':
		return want == int(last-'0')
	}
	return false
}

// mod11Check returns the mod 11 check value (0–10) of base.
func mod11Check(base string) int {
	sum := 0
	for i, j := len(base)-1, 0; i >= 0; i, j = i-1, j+1 {
		sum += int(base[i]-'0') * (2 + j%6)
	}
	r := 11 - sum%11
	if r == 11 {
		return 0
	}
	return r
}

// IsAlnumUpper reports whether s holds ASCII digits and upper-case letters
// only (a compact reference, see CompactReference).
func IsAlnumUpper(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}
