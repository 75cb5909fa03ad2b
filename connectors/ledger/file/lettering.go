package file

import "strings"

// Lettering codes are the FEC's EcritureLet: one short code per lettered
// group, here one per decision. They are capital letters counted in base
// 26 — AAA, AAB, … AAZ, ABA, … ZZZ, then AAAA — so a later code is longer,
// or as long and alphabetically after. The journal holds the codes it
// used; the next one follows the highest of them.

// minCodeLen is the width of the first codes.
const minCodeLen = 3

// maxCodeLen bounds a code read back from a journal (26^12 decisions).
const maxCodeLen = 12

// isCode reports whether s is a lettering code.
func isCode(s string) bool {
	if len(s) < minCodeLen || len(s) > maxCodeLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}

// codeLess orders codes by allocation: shorter first, then
// alphabetically.
func codeLess(a, b string) bool {
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
}

// nextCode returns the code after c: the last letter counts up and
// carries; past all Z the code grows by a letter (ZZZ → AAAA).
func nextCode(c string) string {
	b := []byte(c)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] < 'Z' {
			b[i]++
			return string(b)
		}
		b[i] = 'A'
	}
	return strings.Repeat("A", len(c)+1)
}
