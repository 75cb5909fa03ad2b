package domain

import "testing"

func TestIsPlaceholderRef(t *testing.T) {
	for s, want := range map[string]bool{
		"": true, "  ": true, "NOTPROVIDED": true, "NotProvided": true, "NONREF": true, "nonref": true,
		"NOT PROVIDED": true, "N/A": true, "000000": true, "0": true, "0000-00": true, "-": true,
		"000001": false, "SGFR2611160005": false, "10": false, "NOTPROVIDED1": false, "A": false,
	} {
		if got := IsPlaceholderRef(s); got != want {
			t.Errorf("IsPlaceholderRef(%q) = %v, want %v", s, got, want)
		}
	}
}
