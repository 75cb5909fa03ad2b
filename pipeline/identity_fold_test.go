package pipeline

import (
	"strings"
	"testing"
	"unicode"

	"github.com/lettrage/lettrage/domain"
)

// foldReference is the fold of identity.go before its ASCII fast path:
// upper-case, then keep letters and digits, rune by rune.
func foldReference(s string) string {
	var b strings.Builder
	for _, r := range strings.ToUpper(s) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// TestFoldSameAsRunes checks fold against the rune-by-rune reference on
// ASCII, accented, non-Latin and invalid UTF-8 text, and that the folded
// remittance is the fold of the parts joined by spaces.
func TestFoldSameAsRunes(t *testing.T) {
	texts := []string{"", " ", "Facture FA-2025/00123 du 03.11.2025", "société générale", "ÆØÅ æøå ß",
		"Ελληνικά 123", "日本語 テキスト", "bad \xff\xfe utf8", "a\x00b\tc", "x_y-z+1*2", "İstanbul ı"}
	for _, s := range texts {
		if got, want := fold(s), foldReference(s); got != want {
			t.Errorf("fold(%q) = %q, want %q", s, got, want)
		}
	}
	tx := &domain.Transaction{Unstructured: []string{"Rglt FA-2025-00123", "Société \xff"},
		Structured: []domain.Reference{{Value: "RF18 5390 0754 7034"}}, Documents: []string{"fa 00124", "ß"}}
	joined := strings.Join([]string{"Rglt FA-2025-00123", "Société \xff", "RF18 5390 0754 7034", "fa 00124", "ß"}, " ")
	if got, want := foldedRemittance(tx), foldReference(joined); got != want {
		t.Errorf("foldedRemittance = %q, want %q", got, want)
	}
}
