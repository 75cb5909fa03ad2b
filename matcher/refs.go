package matcher

import "strings"

// Scheme names a structured payment-reference standard whose check digits a
// reference satisfies.
type Scheme string

const (
	// SchemeRF is the ISO 11649 creditor reference: "RF", two check digits
	// (mod 97) and up to 21 letters or digits.
	SchemeRF Scheme = "rf"
	// SchemeQRR is the Swiss QR-reference: 27 digits, mod 10 recursive.
	SchemeQRR Scheme = "qrr"
	// SchemeISR is the older Swiss ISR (BESR) reference of 16 digits, mod 10
	// recursive (27-digit ISR references are reported as SchemeQRR).
	SchemeISR Scheme = "isr"
	// SchemeOGM is the Belgian structured communication (OGM/VCS): 12 digits,
	// the last two being the first ten mod 97 (97 when that is 0).
	SchemeOGM Scheme = "ogm"
	// SchemeFI is the Finnish national reference: 4 to 20 digits with a 7-3-1
	// weighted check digit.
	SchemeFI Scheme = "fi"
	// SchemeKID10 is a Norwegian KID with a mod 10 (Luhn) check digit.
	SchemeKID10 Scheme = "kid10"
	// SchemeKID11 is a Norwegian KID with a mod 11 check digit.
	SchemeKID11 Scheme = "kid11"
)

// CompactReference returns s in upper case with everything but ASCII letters
// and digits removed: "RF18 5390 0754 7034" → "RF18539007547034",
// "+++123/4567/89002+++" → "123456789002".
func CompactReference(s string) string {
	if isAlnumUpper(s) {
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

func isDigits(s string) bool {
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

func isAlnumUpper(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z') {
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
	if len(c) < 5 || len(c) > 25 || c[0] != 'R' || c[1] != 'F' || !isDigits(c[2:4]) {
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
	if !isDigits(base) {
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

// Schemes returns the reference standards whose check digits the compact
// reference c (see CompactReference) satisfies, in a fixed order; nil when
// none. A short digit string may satisfy several by chance: a scheme is
// evidence only together with an equal expected reference.
func Schemes(c string) []Scheme {
	if len(c) < 2 || len(c) > 27 || !isAlnumUpper(c) {
		return nil
	}
	var out []Scheme
	if strings.HasPrefix(c, "RF") {
		if ValidRF(c) {
			out = append(out, SchemeRF)
		}
		return out
	}
	if !isDigits(c) {
		return nil
	}
	if len(c) == 27 && ValidQRReference(c) {
		out = append(out, SchemeQRR)
	}
	if len(c) == 16 && ValidISR(c) {
		out = append(out, SchemeISR)
	}
	if len(c) == 12 && ValidOGM(c) {
		out = append(out, SchemeOGM)
	}
	if ValidFinnish(c) {
		out = append(out, SchemeFI)
	}
	if ValidKIDMod10(c) {
		out = append(out, SchemeKID10)
	}
	if ValidKIDMod11(c) {
		out = append(out, SchemeKID11)
	}
	return out
}

// FoundReference is a checksum-valid reference found in free text.
type FoundReference struct {
	Value   string   // compact form (see CompactReference)
	Schemes []Scheme // the standards it satisfies
}

// FindReferences returns the checksum-valid structured references written
// inside free text, each once, in order of first appearance. Grouped
// writings are recognised ("RF18 5390 0754 7034", "+++123/4567/89002+++",
// "21 00000 00003 13947 14300 09017"). Only digit strings of at least
// 6 digits are reported, since shorter ones satisfy a check digit by chance
// too often to be worth listing.
func FindReferences(text string) []FoundReference {
	var out []FoundReference
	seen := map[string]bool{}
	referenceCandidates(text, func(cb []byte) {
		c := string(cb)
		if seen[c] || (isDigits(c) && len(c) < 6) {
			return
		}
		seen[c] = true
		if s := Schemes(c); len(s) > 0 {
			out = append(out, FoundReference{Value: c, Schemes: s})
		}
	})
	return out
}

// maxRefLen bounds reference candidates (a QR-reference has 27 digits).
const maxRefLen = 27

// refAtom is a maximal run of upper-case ASCII letters or of digits.
type refAtom struct {
	s     string
	digit bool
	// glued is true when the atom directly follows the previous one with no
	// character between them (a letter/digit transition).
	glued bool
	// light is true when only separators a payer types inside a reference
	// (space, '/', '-', '.', '+', '*') stand between this atom and the
	// previous one.
	light bool
	// dotted is true when a '.' or ',' stands between this atom and the
	// previous one (decimals, dates: "2025.56", "03.11.2025").
	dotted bool
}

// atomise splits upper-cased ASCII text into letter and digit atoms; any
// other byte separates atoms.
func atomise(text string) []refAtom { return atomiseAppend(nil, text) }

// atomiseAppend is atomise appending to atoms (a scratch slice to reuse).
func atomiseAppend(atoms []refAtom, text string) []refAtom {
	prevEnd := -1
	for i := 0; i < len(text); {
		c := text[i]
		isD := c >= '0' && c <= '9'
		if !isD && !(c >= 'A' && c <= 'Z') {
			i++
			continue
		}
		j := i + 1
		for j < len(text) {
			d := text[j]
			if isD && !(d >= '0' && d <= '9') || !isD && !(d >= 'A' && d <= 'Z') {
				break
			}
			j++
		}
		a := refAtom{s: text[i:j], digit: isD}
		if prevEnd >= 0 {
			gap := text[prevEnd:i]
			a.glued = gap == ""
			a.light = !a.glued && len(gap) <= 3 && strings.Trim(gap, " /-.+*") == ""
			a.dotted = strings.ContainsAny(gap, ".,")
		}
		atoms = append(atoms, a)
		prevEnd = j
		i = j
	}
	return atoms
}

// upperASCII upper-cases ASCII letters and replaces every non-ASCII byte by
// a space, so that byte offsets stay simple.
func upperASCII(s string) string {
	b := make([]byte, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z':
			c -= 'a' - 'A'
		case c >= 0x80:
			c = ' '
		}
		b[i] = c
	}
	return string(b)
}

// referenceCandidates calls fn with every compact string of text that could
// be a structured reference: "RF" references (the RF atom with the atoms
// that follow it) and runs of digit groups joined by light separators.
// Whether a candidate's check digits hold is decided by the caller. The
// slice passed to fn is reused: fn must copy what it keeps.
func referenceCandidates(text string, fn func([]byte)) {
	var buf []byte
	referenceCandidatesWith(text, nil, &buf, fn)
}

// referenceCandidatesWith is referenceCandidates with scratch space: atoms
// and *buf are reused (and *buf kept grown); it returns atoms for reuse.
func referenceCandidatesWith(text string, atoms []refAtom, buf *[]byte, fn func([]byte)) []refAtom {
	atoms = atomiseAppend(atoms[:0], upperASCII(text))
	b := bytesBuilder{buf: (*buf)[:0]}
	defer func() { *buf = b.buf }()
	for i, a := range atoms {
		// RF: an "RF" atom (not glued to letters before it) followed by two
		// check digits.
		if a.s == "RF" && i+1 < len(atoms) && atoms[i+1].digit && (atoms[i+1].glued || atoms[i+1].light) {
			b.Reset()
			b.WriteString("RF")
			for j := i + 1; j < len(atoms); j++ {
				if j > i+1 && !atoms[j].glued && !atoms[j].light {
					break
				}
				if b.Len()+len(atoms[j].s) > 25 {
					break
				}
				b.WriteString(atoms[j].s)
				if b.Len() >= 5 {
					fn(b.buf)
				}
			}
		}
		// digit runs: every digit atom starts one; letters end it.
		if !a.digit {
			continue
		}
		b.Reset()
		for j := i; j < len(atoms); j++ {
			if !atoms[j].digit || (j > i && !atoms[j].light) {
				break
			}
			if b.Len()+len(atoms[j].s) > maxRefLen {
				break
			}
			b.WriteString(atoms[j].s)
			fn(b.buf)
			if j+1 < len(atoms) && atoms[j+1].glued {
				break
			}
		}
	}
	return atoms
}

// bytesBuilder is a reusable byte buffer with the strings.Builder methods
// referenceCandidates needs.
type bytesBuilder struct{ buf []byte }

func (b *bytesBuilder) Reset()               { b.buf = b.buf[:0] }
func (b *bytesBuilder) Len() int             { return len(b.buf) }
func (b *bytesBuilder) WriteString(s string) { b.buf = append(b.buf, s...) }
