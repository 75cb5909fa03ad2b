package matcher

import (
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/lettrage/lettrage/domain"
)

// NormaliseIBAN returns s in upper case without spaces or other separators
// ("fr76 3000 6000 0112 3456 7890 189" → "FR7630006000011234567890189").
func NormaliseIBAN(s string) string { return domain.CompactReference(s) }

// foldSpecial maps letters without a canonical decomposition to ASCII.
var foldSpecial = map[rune]string{
	'ß': "SS", 'ẞ': "SS", 'Æ': "AE", 'æ': "AE", 'Œ': "OE", 'œ': "OE",
	'Ø': "O", 'ø': "O", 'Ł': "L", 'ł': "L", 'Đ': "D", 'đ': "D", 'Þ': "TH", 'þ': "TH",
	'ı': "I", '°': " ", 'º': " ",
}

// Fold returns s upper-cased with accents removed ("Société Générale" →
// "SOCIETE GENERALE"); characters that are not letters or digits become
// spaces. The result is ASCII.
func Fold(s string) string {
	if isPlainASCII(s) {
		return foldASCII(s)
	}
	d := norm.NFD.String(s)
	var b strings.Builder
	b.Grow(len(d))
	for _, r := range d {
		switch {
		case r < utf8.RuneSelf:
			b.WriteByte(foldByte(byte(r)))
		case unicode.Is(unicode.Mn, r):
			// combining accent: dropped
		default:
			if f, ok := foldSpecial[r]; ok {
				b.WriteString(f)
			} else {
				b.WriteByte(' ')
			}
		}
	}
	return b.String()
}

func isPlainASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func foldASCII(s string) string {
	b := make([]byte, len(s))
	for i := 0; i < len(s); i++ {
		b[i] = foldByte(s[i])
	}
	return string(b)
}

// appendFold appends Fold(s) to dst (without an intermediate string for
// ASCII text).
func appendFold(dst []byte, s string) []byte {
	if !isPlainASCII(s) {
		return append(dst, Fold(s)...)
	}
	for i := 0; i < len(s); i++ {
		dst = append(dst, foldByte(s[i]))
	}
	return dst
}

func foldByte(c byte) byte {
	switch {
	case c >= 'a' && c <= 'z':
		return c - 'a' + 'A'
	case c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return c
	}
	return ' '
}

// NormaliseDocument returns the compact form of a document number: folded to
// upper-case ASCII with every separator removed ("fa-2025/00123" →
// "FA202500123").
func NormaliseDocument(s string) string {
	return strings.ReplaceAll(Fold(s), " ", "")
}

// NormaliseDocumentLoose is NormaliseDocument with the leading zeros of
// every digit group dropped; groups are delimited by separators and by
// letter/digit transitions ("FA-2025-00123" → "FA2025123", "INV0042" →
// "INV42"). It lets "FA2025/123" find "FA-2025-00123".
func NormaliseDocumentLoose(s string) string {
	return looseAtoms(atomise(Fold(s)))
}

func looseAtoms(atoms []refAtom) string { return string(appendLooseAtoms(nil, atoms)) }

// appendLooseAtoms appends the loose form of atoms to b.
func appendLooseAtoms(b []byte, atoms []refAtom) []byte {
	for _, a := range atoms {
		if a.digit {
			b = appendLooseDigits(b, a.s)
		} else {
			b = append(b, a.s...)
		}
	}
	return b
}

// appendLooseDigits appends a digit group without its leading zeros ("0"
// when it is all zeros).
func appendLooseDigits(b []byte, s string) []byte {
	t := strings.TrimLeft(s, "0")
	if t == "" {
		t = "0"
	}
	return append(b, t...)
}

// legalForms are company legal-form tokens dropped from payer names.
var legalForms = map[string]bool{
	"SARL": true, "SAS": true, "SA": true, "SASU": true, "EURL": true, "SCI": true,
	"SNC": true, "SCS": true, "SCA": true, "SELARL": true, "SCOP": true, "SEL": true,
	"GMBH": true, "AG": true, "KG": true, "OHG": true, "UG": true, "EV": true, "KGAA": true,
	"LTD": true, "LIMITED": true, "PLC": true, "LLC": true, "LLP": true, "INC": true,
	"CORP": true, "CORPORATION": true, "INCORPORATED": true,
	"BV": true, "NV": true, "BVBA": true, "VOF": true, "SRL": true, "SPA": true,
	"SPRL": true, "SL": true, "SAU": true, "SLU": true, "AB": true, "AS": true,
	"ASA": true, "OY": true, "OYJ": true, "APS": true, "SE": true, "SRO": true,
	"SP": true, "ZOO": true, "LDA": true, "KFT": true, "PTY": true,
}

// nameAbbreviations expands abbreviations common in payer names.
var nameAbbreviations = map[string]string{
	"STE": "SOCIETE", "ETS": "ETABLISSEMENTS", "ETABL": "ETABLISSEMENTS",
	"ETAB": "ETABLISSEMENTS", "CIE": "COMPAGNIE", "INTL": "INTERNATIONAL",
	"INT": "INTERNATIONAL", "STS": "SOCIETES", "GRP": "GROUPE", "ASSOC": "ASSOCIATION",
	"SOC": "SOCIETE", "ST": "SAINT", "STES": "SOCIETES",
}

// nameStopWords carry no identity.
var nameStopWords = map[string]bool{
	"ET": true, "AND": true, "UND": true, "THE": true, "EN": true, "MR": true,
	"MME": true, "M": true, "MRS": true, "MS": true, "HERR": true, "FRAU": true,
}

// genericNameWords are kept in a normalised name but weigh little in
// NameSimilarity, since many companies share them.
var genericNameWords = map[string]bool{
	"SOCIETE": true, "SOCIETES": true, "ETABLISSEMENTS": true, "COMPAGNIE": true,
	"GROUPE": true, "GROUP": true, "HOLDING": true, "INTERNATIONAL": true,
	"FRANCE": true, "SERVICES": true, "SERVICE": true, "COMPANY": true, "CO": true,
	"DE": true, "DU": true, "DES": true, "LA": true, "LE": true, "LES": true, "D": true,
	"L": true, "VON": true, "VAN": true, "DER": true, "DEN": true, "ASSOCIATION": true,
	"SAINT": true, "TRADING": true, "INDUSTRIES": true, "SOLUTIONS": true,
}

// NameTokens returns the identity tokens of a payer or customer name:
// folded, punctuation removed, runs of single letters joined ("S.A.R.L." →
// "SARL"), legal forms and stop words dropped, abbreviations expanded, and
// sorted so that word order does not matter.
func NameTokens(s string) []string { return foldedNameTokens(Fold(s)) }

// foldedNameTokens is NameTokens of a name already folded (Fold): callers
// that need the folded name too fold it once. Fold makes '&' (and every
// other punctuation) a space.
func foldedNameTokens(folded string) []string {
	raw := strings.Fields(folded)
	// join runs of single letters (S A R L → SARL, J P → JP)
	var toks []string
	for i := 0; i < len(raw); {
		if len(raw[i]) == 1 && raw[i][0] >= 'A' && raw[i][0] <= 'Z' {
			j := i
			var b strings.Builder
			for j < len(raw) && len(raw[j]) == 1 && raw[j][0] >= 'A' && raw[j][0] <= 'Z' {
				b.WriteString(raw[j])
				j++
			}
			toks = append(toks, b.String())
			i = j
			continue
		}
		toks = append(toks, raw[i])
		i++
	}
	out := toks[:0]
	for _, t := range toks {
		// lone letters (initials, elided articles) carry little identity and
		// would merge with neighbours when a normalised name is read again
		if len(t) < 2 || legalForms[t] || nameStopWords[t] {
			continue
		}
		if e, ok := nameAbbreviations[t]; ok {
			t = e
		}
		out = append(out, t)
	}
	// "GMBH & CO KG": a lone CO left next to legal forms is noise too
	if len(out) < len(toks) {
		kept := out[:0]
		for _, t := range out {
			if t != "CO" {
				kept = append(kept, t)
			}
		}
		out = kept
	}
	sort.Strings(out)
	// dedupe
	k := 0
	for i, t := range out {
		if i == 0 || t != out[k-1] {
			out[k] = t
			k++
		}
	}
	return out[:k]
}

// NormaliseName returns the canonical key of a payer or customer name: its
// NameTokens joined by single spaces ("Ets Dupont & Fils SARL" and "DUPONT
// FILS ETABLISSEMENTS" both give "DUPONT ETABLISSEMENTS FILS").
func NormaliseName(s string) string { return strings.Join(NameTokens(s), " ") }

func tokenWeight(t string) float64 {
	if genericNameWords[t] {
		return 0.2
	}
	if len(t) <= 2 {
		return 0.5
	}
	return 1
}

// NameSimilarity scores two names in [0,1] on their NameTokens: the weighted
// share of tokens they have in common, where generic words (SOCIETE,
// GROUPE…) weigh little and tokens of five letters or more that differ by
// one edit still count as shared. Word order, accents, case and legal forms
// do not matter.
func NameSimilarity(a, b string) float64 {
	return tokenSimilarity(NameTokens(a), NameTokens(b))
}

func tokenSimilarity(ta, tb []string) float64 {
	if len(ta) == 0 || len(tb) == 0 {
		return 0
	}
	var used [16]bool
	var usedB []bool
	if len(tb) <= len(used) {
		usedB = used[:len(tb)]
	} else {
		usedB = make([]bool, len(tb))
	}
	common, union := 0.0, 0.0
	for _, x := range ta {
		w := tokenWeight(x)
		union += w
		best := -1
		for j, y := range tb {
			if usedB[j] {
				continue
			}
			if x == y {
				best = j
				break
			}
			if best < 0 && len(x) >= 5 && len(y) >= 5 && oneEdit(x, y) {
				best = j
			}
		}
		if best >= 0 {
			usedB[best] = true
			if tb[best] == x {
				common += w
			} else {
				common += 0.8 * w
			}
		}
	}
	for j, y := range tb {
		if !usedB[j] {
			union += tokenWeight(y)
		}
	}
	if union == 0 {
		return 0
	}
	return common / union
}

// oneEdit reports whether a and b differ by exactly one substitution,
// insertion, deletion or transposition of adjacent bytes.
func oneEdit(a, b string) bool {
	if a == b {
		return false
	}
	la, lb := len(a), len(b)
	if la-lb > 1 || lb-la > 1 {
		return false
	}
	i := 0
	for i < la && i < lb && a[i] == b[i] {
		i++
	}
	switch {
	case la == lb:
		if a[i+1:] == b[i+1:] {
			return true
		}
		return i+1 < la && a[i] == b[i+1] && a[i+1] == b[i] && a[i+2:] == b[i+2:]
	case la > lb:
		return a[i+1:] == b[i:]
	default:
		return a[i:] == b[i+1:]
	}
}

// extendsTokens reports whether the sorted name tokens long hold every one
// of the sorted tokens short and more: a name cut short (a bank keeps the
// first 16, 35 or 70 characters) or shortened leaves tokens out.
func extendsTokens(short, long []string) bool {
	if len(short) == 0 || len(long) <= len(short) {
		return false
	}
	j := 0
	for _, t := range short {
		for j < len(long) && long[j] < t {
			j++
		}
		if j == len(long) || long[j] != t {
			return false
		}
		j++
	}
	return true
}
