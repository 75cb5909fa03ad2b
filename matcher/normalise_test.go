package matcher

import (
	"math/rand/v2"
	"strings"
	"testing"
)

func TestNormaliseDocument(t *testing.T) {
	tests := []struct{ in, compact, loose string }{
		{"FA-2025-00123", "FA202500123", "FA2025123"},
		{"fa2025/00123", "FA202500123", "FA2025123"},
		{"FA 2025 00123", "FA202500123", "FA2025123"},
		{"FA2025/123", "FA2025123", "FA2025123"},
		{"INV.0042", "INV0042", "INV42"},
		{"Facture n°123", "FACTUREN123", "FACTUREN123"},
		{"0000", "0000", "0"},
		{"", "", ""},
		{"Ré-01_A", "RE01A", "RE1A"},
	}
	for _, tt := range tests {
		if got := NormaliseDocument(tt.in); got != tt.compact {
			t.Errorf("NormaliseDocument(%q) = %q, want %q", tt.in, got, tt.compact)
		}
		if got := NormaliseDocumentLoose(tt.in); got != tt.loose {
			t.Errorf("NormaliseDocumentLoose(%q) = %q, want %q", tt.in, got, tt.loose)
		}
	}
}

func TestNormaliseIBAN(t *testing.T) {
	if got := NormaliseIBAN(" fr76 3000 6000 0112 3456 7890 189 "); got != "FR7630006000011234567890189" {
		t.Fatalf("NormaliseIBAN = %q", got)
	}
}

func TestNormaliseName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Ets Dupont & Fils SARL", "DUPONT ETABLISSEMENTS FILS"},
		{"DUPONT FILS ETABLISSEMENTS", "DUPONT ETABLISSEMENTS FILS"},
		{"Société Générale S.A.", "GENERALE SOCIETE"},
		{"STÉ GÉNÉRALE", "GENERALE SOCIETE"},
		{"Müller GmbH & Co. KG", "MULLER"},
		{"ACME Ltd.", "ACME"},
		{"Straße Bau AG", "BAU STRASSE"},
		{"De Vries B.V.", "DE VRIES"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := NormaliseName(tt.in); got != tt.want {
			t.Errorf("NormaliseName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestNameSimilarity(t *testing.T) {
	tests := []struct {
		a, b     string
		min, max float64
	}{
		{"Ets Dupont & Fils", "DUPONT ET FILS SARL", 0.85, 1},
		{"Dupont Frères SA", "DUPONT ET FILS SARL", 0, 0.5},
		{"Boulangerie Martin", "MARTIN BOULANGERIE SAS", 1, 1},
		{"Boulangerie Martinn", "Boulangerie Martin", 0.85, 0.95},
		{"ACME", "Globex", 0, 0},
		{"", "ACME", 0, 0},
	}
	for _, tt := range tests {
		got := NameSimilarity(tt.a, tt.b)
		if got < tt.min || got > tt.max {
			t.Errorf("NameSimilarity(%q, %q) = %.3f, want in [%.2f, %.2f]", tt.a, tt.b, got, tt.min, tt.max)
		}
		if r := NameSimilarity(tt.b, tt.a); r != got {
			t.Errorf("NameSimilarity is not symmetric for %q, %q: %v vs %v", tt.a, tt.b, got, r)
		}
	}
}

func TestOneEdit(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"FA202500123", "FA202500132", true}, // transposition
		{"FA202500123", "FA202500124", true}, // substitution
		{"FA202500123", "FA20250123", true},  // deletion
		{"FA202500123", "FA2025001234", true},
		{"FA202500123", "FA202500123", false},
		{"FA202500123", "FA202500321", false},
		{"AB", "ABCD", false},
	}
	for _, tt := range tests {
		if got := oneEdit(tt.a, tt.b); got != tt.want {
			t.Errorf("oneEdit(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

// FuzzNormalise checks the normalisers never panic, return ASCII, are
// idempotent where they should be, and that the loose document form never
// is longer than the compact one.
func FuzzNormalise(f *testing.F) {
	for _, s := range []string{"FA-2025-00123", "Société Générale S.A.", "Müller GmbH & Co. KG", "\xff", "ß0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, l := NormaliseDocument(s), NormaliseDocumentLoose(s)
		if len(l) > len(c) || !isPlainASCII(c) || NormaliseDocument(c) != c {
			t.Fatalf("document %q: compact %q loose %q", s, c, l)
		}
		n := NormaliseName(s)
		if !isPlainASCII(n) || NormaliseName(n) != n {
			t.Fatalf("name %q → %q → %q", s, n, NormaliseName(n))
		}
		if sim := NameSimilarity(s, s); n != "" && sim != 1 {
			t.Fatalf("NameSimilarity(%q, itself) = %v", s, sim)
		}
		_ = oneEdit(c, l)
	})
}

// TestFoldMakesAmpersandASpace: NameTokens folds a name once, without
// first replacing its '&' by spaces, which holds only while Fold makes '&'
// a space, with accents and combining marks around it too.
func TestFoldMakesAmpersandASpace(t *testing.T) {
	parts := []string{"&", "a", "É", "e\u0301", "\u0301", " ", "ß", "Œ", "-", "1", "\u00a0", "Ø", "&amp;"}
	rnd := rand.New(rand.NewPCG(5, 6))
	for range 20000 {
		var b strings.Builder
		for range rnd.IntN(8) {
			b.WriteString(parts[rnd.IntN(len(parts))])
		}
		s := b.String()
		if got, want := Fold(s), Fold(strings.ReplaceAll(s, "&", " ")); got != want {
			t.Fatalf("Fold(%q) = %q, but %q with its '&' replaced folds to %q", s, got, s, want)
		}
	}
}
