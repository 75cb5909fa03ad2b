package decide

import "testing"

func TestMaskIBAN(t *testing.T) {
	for in, want := range map[string]string{
		"FR7630006000011234567890189": "FR76…0189",
		"DE89370400440532013000":      "DE89…3000",
		"1234":                        "…34",
	} {
		if got := MaskIBAN(in); got != want {
			t.Errorf("MaskIBAN(%q) = %q, want %q", in, got, want)
		}
	}
}
