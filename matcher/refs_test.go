package matcher

import (
	"reflect"
	"strings"
	"testing"

	"github.com/lettrage/lettrage/domain"
)

func TestValidators(t *testing.T) {
	tests := []struct {
		name string
		fn   func(string) bool
		in   string
		want bool
	}{
		{"rf spec example", domain.ValidRF, "RF18 5390 0754 7034", true},
		{"rf compact lower", domain.ValidRF, "rf18539007547034", true},
		{"rf alphanumeric", domain.ValidRF, "RF44INV2025001", true},
		{"rf last digit wrong", domain.ValidRF, "RF18 5390 0754 7035", false},
		{"rf check digits swapped", domain.ValidRF, "RF81 5390 0754 7034", false},
		{"rf too short", domain.ValidRF, "RF18", false},
		{"rf too long", domain.ValidRF, "RF18 1234 5678 9012 3456 7890 12", false},
		{"rf punctuation", domain.ValidRF, "RF18-5390-0754-7034", false},
		{"rf not rf", domain.ValidRF, "XX18539007547034", false},
		{"qrr spec example", domain.ValidQRReference, "21 00000 00003 13947 14300 09017", true},
		{"qrr compact", domain.ValidQRReference, "210000000003139471430009017", true},
		{"qrr bad check", domain.ValidQRReference, "210000000003139471430009018", false},
		{"qrr 26 digits", domain.ValidQRReference, "21000000000313947143000901", false},
		{"qrr letters", domain.ValidQRReference, "21000000000313947143000901A", false},
		{"isr 16", domain.ValidISR, "1234567890123456", true},
		{"isr 16 bad", domain.ValidISR, "1234567890123457", false},
		{"isr 27", domain.ValidISR, "210000000003139471430009017", true},
		{"ogm plus", domain.ValidOGM, "+++123/4567/89002+++", true},
		{"ogm stars", domain.ValidOGM, "***090/9337/55493***", true},
		{"ogm plain", domain.ValidOGM, "123456789002", true},
		{"ogm bad check", domain.ValidOGM, "+++123/4567/89003+++", false},
		{"ogm unbalanced", domain.ValidOGM, "+++123/4567/89002***", false},
		{"ogm 11 digits", domain.ValidOGM, "+++123/4567/8900+++", false},
		{"fi", domain.ValidFinnish, "1234561", true},
		{"fi grouped", domain.ValidFinnish, "12345 61", true},
		{"fi short", domain.ValidFinnish, "1232", true},
		{"fi bad", domain.ValidFinnish, "1234562", false},
		{"fi too short", domain.ValidFinnish, "123", false},
		{"fi 21 digits", domain.ValidFinnish, "123456789012345678901", false},
		{"kid10", domain.ValidKIDMod10, "1234567897", true},
		{"kid10 luhn classic", domain.ValidKIDMod10, "79927398713", true},
		{"kid10 bad", domain.ValidKIDMod10, "79927398710", false},
		{"kid11", domain.ValidKIDMod11, "123456785", true},
		{"kid11 zero", domain.ValidKIDMod11, "1234560", true},
		{"kid11 dash", domain.ValidKIDMod11, "1009-", true},
		{"kid11 dash other", domain.ValidKIDMod11, "1012-", true},
		{"kid11 bad", domain.ValidKIDMod11, "123456786", false},
		{"kid11 dash not 10", domain.ValidKIDMod11, "123456-", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.fn(tt.in); got != tt.want {
				t.Errorf("%s(%q) = %v, want %v", tt.name, tt.in, got, tt.want)
			}
		})
	}
}

func TestMakeRF(t *testing.T) {
	tests := []struct {
		base, want string
		ok         bool
	}{
		{"539007547034", "RF18539007547034", true},
		{"inv2025001", "RF44INV2025001", true},
		{"", "", false},
		{"1234567890123456789012", "", false},
		{"AB-1", "", false},
	}
	for _, tt := range tests {
		got, ok := domain.MakeRF(tt.base)
		if got != tt.want || ok != tt.ok {
			t.Errorf("domain.MakeRF(%q) = %q, %v; want %q, %v", tt.base, got, ok, tt.want, tt.ok)
		}
		if ok && !domain.ValidRF(got) {
			t.Errorf("domain.MakeRF(%q) = %q is not valid", tt.base, got)
		}
	}
}

func TestSchemes(t *testing.T) {
	tests := []struct {
		in   string
		want []Scheme
	}{
		{"RF18539007547034", []Scheme{SchemeRF}},
		{"RF18539007547035", nil},
		{"210000000003139471430009017", []Scheme{SchemeQRR}},
		{"123456789002", []Scheme{SchemeOGM}},
		{"1234561", []Scheme{SchemeFI}},
		{"79927398713", []Scheme{SchemeKID10}},
		{"INV2025001", nil},
		{"", nil},
	}
	for _, tt := range tests {
		got := Schemes(tt.in)
		// a digit string may satisfy other schemes by chance: check inclusion
		for _, w := range tt.want {
			found := false
			for _, g := range got {
				found = found || g == w
			}
			if !found {
				t.Errorf("Schemes(%q) = %v, want it to include %v", tt.in, got, w)
			}
		}
		if tt.want == nil && got != nil {
			t.Errorf("Schemes(%q) = %v, want none", tt.in, got)
		}
	}
}

func TestFindReferences(t *testing.T) {
	tests := []struct {
		name string
		text string
		want []string // compact values that must be found
		not  []string // values that must not be found
	}{
		{"rf grouped", "Payment RF18 5390 0754 7034 thank you", []string{"RF18539007547034"}, nil},
		{"rf glued and followed by words", "ref:RF18539007547034/INV 12", []string{"RF18539007547034"}, nil},
		{"rf lower case", "rf18 5390 0754 7034", []string{"RF18539007547034"}, nil},
		{"rf wrong check digit", "RF18 5390 0754 7035", nil, []string{"RF18539007547035"}},
		{"ogm", "COMMUNICATION +++123/4567/89002+++ MERCI", []string{"123456789002"}, nil},
		{"ogm stars", "***090/9337/55493***", []string{"090933755493"}, nil},
		{"qrr grouped", "QRR 21 00000 00003 13947 14300 09017", []string{"210000000003139471430009017"}, nil},
		{"two refs", "RF18539007547034 and RF44INV2025001", []string{"RF18539007547034", "RF44INV2025001"}, nil},
		{"accents do not break", "Référence RF18 5390 0754 7034 payée", []string{"RF18539007547034"}, nil},
		{"short digits ignored", "1232", nil, []string{"1232"}},
		{"letters end a digit run", "12345A61", nil, []string{"1234561"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := map[string]bool{}
			for _, f := range FindReferences(tt.text) {
				got[f.Value] = true
				if len(f.Schemes) == 0 {
					t.Errorf("found %q without a scheme", f.Value)
				}
			}
			for _, w := range tt.want {
				if !got[w] {
					t.Errorf("FindReferences(%q) = %v, missing %q", tt.text, got, w)
				}
			}
			for _, n := range tt.not {
				if got[n] {
					t.Errorf("FindReferences(%q) found %q", tt.text, n)
				}
			}
		})
	}
}

func TestAtomise(t *testing.T) {
	atoms := atomise("FA-2025/00123 INV7")
	var got []string
	for _, a := range atoms {
		got = append(got, a.s)
	}
	if want := []string{"FA", "2025", "00123", "INV", "7"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("atomise = %v, want %v", got, want)
	}
	if !atoms[1].light || atoms[1].glued || !atoms[4].glued {
		t.Fatalf("separators misread: %+v", atoms)
	}
}

// FuzzFindReferences checks that extraction never panics, that every
// reference it reports is valid, and that a valid reference embedded in
// arbitrary text is found.
func FuzzFindReferences(f *testing.F) {
	f.Add("RF18 5390 0754 7034", "pay")
	f.Add("+++123/4567/89002+++", "")
	f.Add("21 00000 00003 13947 14300 09017", "x")
	f.Add("\xff\xfeRF", "é")
	f.Fuzz(func(t *testing.T, text, other string) {
		for _, r := range FindReferences(text) {
			if len(Schemes(r.Value)) == 0 {
				t.Fatalf("reported invalid reference %q from %q", r.Value, text)
			}
		}
		// embed a known reference between separators
		s := strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' {
				return ' '
			}
			return r
		}, other)
		found := false
		for _, r := range FindReferences(text + " " + s + " RF18 5390 0754 7034 " + s) {
			found = found || r.Value == "RF18539007547034"
		}
		if !found {
			t.Fatalf("RF18539007547034 not found with surrounding %q", s)
		}
	})
}

// FuzzValidators checks the validators never panic and agree with Schemes
// on compact input.
func FuzzValidators(f *testing.F) {
	for _, s := range []string{"RF18539007547034", "123456789002", "1009-", "210000000003139471430009017", "", "RF"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		rf, qrr, isr, ogm := domain.ValidRF(s), domain.ValidQRReference(s), domain.ValidISR(s), domain.ValidOGM(s)
		fi, k10, k11 := domain.ValidFinnish(s), domain.ValidKIDMod10(s), domain.ValidKIDMod11(s)
		c := domain.CompactReference(s)
		if c != s {
			return
		}
		has := map[Scheme]bool{}
		for _, sc := range Schemes(c) {
			has[sc] = true
		}
		if has[SchemeRF] != rf || has[SchemeFI] != fi || has[SchemeKID10] != k10 ||
			(len(c) == 27 && has[SchemeQRR] != qrr) || (len(c) == 16 && has[SchemeISR] != isr) ||
			(len(c) == 12 && has[SchemeOGM] != ogm) {
			t.Fatalf("Schemes(%q) = %v disagrees with validators", c, Schemes(c))
		}
		if domain.IsDigits(c) && has[SchemeKID11] != k11 {
			t.Fatalf("Schemes(%q) kid11 disagrees", c)
		}
	})
}
