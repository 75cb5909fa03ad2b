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

// TestRelationsOfTexts: the payers' names and the remittances contradict
// when both are given and neither contains the other once folded (a cut
// or an extended text agrees), and comparing them allocates nothing.
func TestRelationsOfTexts(t *testing.T) {
	tx := func(name string, lines ...string) *domain.Transaction {
		return &domain.Transaction{Counterparty: domain.Party{Name: name}, Unstructured: lines}
	}
	for _, c := range []struct {
		a, b         *domain.Transaction
		contradicted []string
		agree        int
	}{
		{tx("Muller SA", "Facture FA-2025-00123"), tx("MULLER S.A.", "facture fa 2025 00123"), nil, 2},
		{tx("Muller SA", "Facture FA-2025-00123 du 03.11"), tx("Muller", "FA-2025-00123"), nil, 2},
		{tx("Muller SA", "FA-2025-00123"), tx("Garcia SRL", "FA-2025-00124"), []string{"payer name", "remittance"}, 0},
		{tx("", "FA-2025-00123"), tx("Garcia SRL", ""), nil, 0},
	} {
		if got := contradictions(c.a, c.b); strings.Join(got, ",") != strings.Join(c.contradicted, ",") {
			t.Errorf("contradictions(%v, %v) = %q, want %q", c.a.Counterparty.Name, c.b.Counterparty.Name, got, c.contradicted)
		}
		if got := agreements(c.a, c.b); got != c.agree {
			t.Errorf("agreements(%v, %v) = %d, want %d", c.a.Counterparty.Name, c.b.Counterparty.Name, got, c.agree)
		}
	}
	a := tx("Muller Automobiles GmbH", "Rechnung FA-2025-00123 und FA-2025-00124, Skonto 2 %", "Kunde 4711")
	b := tx("MULLER AUTOMOBILES", "RECHNUNG FA-2025-00123 UND FA-2025-00124")
	if allocs := testing.AllocsPerRun(100, func() { agreements(a, b); contradictions(a, b) }); allocs != 0 {
		t.Errorf("%v allocations comparing two transactions' texts, want 0", allocs)
	}
}
