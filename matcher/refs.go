package matcher

import (
	"strings"

	"github.com/lettrage/lettrage/domain"
)

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

// Schemes returns the reference standards whose check digits the compact
// reference c (see CompactReference) satisfies, in a fixed order; nil when
// none. A short digit string may satisfy several by chance: a scheme is
// evidence only together with an equal expected reference.
func Schemes(c string) []Scheme {
	if len(c) < 2 || len(c) > 27 || !domain.IsAlnumUpper(c) {
		return nil
	}
	var out []Scheme
	if strings.HasPrefix(c, "RF") {
		if domain.ValidRF(c) {
			out = append(out, SchemeRF)
		}
		return out
	}
	if !domain.IsDigits(c) {
		return nil
	}
	if len(c) == 27 && domain.ValidQRReference(c) {
		out = append(out, SchemeQRR)
	}
	if len(c) == 16 && domain.ValidISR(c) {
		out = append(out, SchemeISR)
	}
	if len(c) == 12 && domain.ValidOGM(c) {
		out = append(out, SchemeOGM)
	}
	if domain.ValidFinnish(c) {
		out = append(out, SchemeFI)
	}
	if domain.ValidKIDMod10(c) {
		out = append(out, SchemeKID10)
	}
	if domain.ValidKIDMod11(c) {
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
		if seen[c] || (domain.IsDigits(c) && len(c) < 6) {
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
func upperASCII(s string) string { return string(appendUpperASCII(nil, s)) }

// appendUpperASCII appends upperASCII(s) to dst.
func appendUpperASCII(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z':
			c -= 'a' - 'A'
		case c >= 0x80:
			c = ' '
		}
		dst = append(dst, c)
	}
	return dst
}

// referenceCandidates calls fn with every compact string of text that could
// be a structured reference: "RF" references (the RF atom with the atoms
// that follow it) and runs of digit groups joined by light separators.
// Whether a candidate's check digits hold is decided by the caller. The
// slice passed to fn is reused: fn must copy what it keeps.
func referenceCandidates(text string, fn func([]byte)) {
	var buf, upper []byte
	referenceCandidatesWith(text, nil, &buf, &upper, fn)
}

// referenceCandidatesWith is referenceCandidates with scratch space: atoms,
// *buf and *upper (the text upper-cased) are reused (and kept grown); it
// returns atoms for reuse, pointing into *upper.
func referenceCandidatesWith(text string, atoms []refAtom, buf, upper *[]byte, fn func([]byte)) []refAtom {
	*upper = appendUpperASCII((*upper)[:0], text)
	atoms = atomiseAppend(atoms[:0], view(*upper))
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
