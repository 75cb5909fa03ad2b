package domain

import (
	"errors"
	"strings"
	"testing"
)

func TestParseAmount(t *testing.T) {
	tests := []struct {
		in, want string
		scale    int32
		wantErr  bool
	}{
		{in: "100", want: "100", scale: 0},
		{in: "18.150", want: "18.15", scale: 3},
		{in: ".23", want: "0.23", scale: 2},
		{in: "5.", want: "5", scale: 0},
		{in: "-12.5", want: "-12.5", scale: 1},
		{in: "+7.00", want: "7", scale: 2},
		{in: "100.0000000000005", want: "100.0000000000005", scale: 13},
		{in: "1e3", wantErr: true},
		{in: "1,5", wantErr: true},
		{in: "", wantErr: true},
		{in: ".", wantErr: true},
		{in: "-", wantErr: true},
		{in: "1.2.3", wantErr: true},
		{in: " 1", wantErr: true},
		{in: "NaN", wantErr: true},
		{in: "12345678901234567890123456789012345678901", wantErr: true},
		// Leading zeros (xs:decimal allows any number of them) are not
		// significant: only the digits after them count in the bound.
		{in: "007.50", want: "7.5", scale: 2},
		{in: "00", want: "0", scale: 0},
		{in: "-000.5", want: "-0.5", scale: 1},
		{in: "+000000000000000000000000000000000000000000100.00", want: "100", scale: 2},
		{in: "00000000000000000000000000000000000000000100.00", want: "100", scale: 2},
		{in: strings.Repeat("0", 1000) + "1", want: "1", scale: 0},
		{in: strings.Repeat("0", 60) + ".25", want: "0.25", scale: 2},
		{in: "000000000000000000000000000000000000000000001656584.69573", want: "1656584.69573", scale: 5},
		{in: "0001234567890123456789012345678901234567890", want: "1234567890123456789012345678901234567890", scale: 0},
		{in: "00" + strings.Repeat("9", 20) + "." + strings.Repeat("9", 20), want: strings.Repeat("9", 20) + "." + strings.Repeat("9", 20), scale: 20},
		{in: "0." + strings.Repeat("0", 39) + "1", want: "0." + strings.Repeat("0", 39) + "1", scale: 40},
		{in: "0." + strings.Repeat("0", 40) + "1", wantErr: true}, // 41 fraction digits: the scale counts
		{in: "00" + strings.Repeat("9", 21) + "." + strings.Repeat("9", 20), wantErr: true},
		{in: "000012345678901234567890123456789012345678901", wantErr: true},
		{in: "1." + strings.Repeat("0", 40), wantErr: true}, // trailing fraction zeros are kept, so they count
		{in: "00.", want: "0", scale: 0},
		{in: "0.", want: "0", scale: 0},
		{in: "+", wantErr: true},
		{in: "-.", wantErr: true},
		{in: "00.1.", wantErr: true},
		{in: "00 1", wantErr: true},
		{in: "--1", wantErr: true},
		{in: "0x10", wantErr: true},
	}
	for _, tt := range tests {
		name := tt.in
		if len(name) > 50 {
			name = name[:20] + "…" + name[len(name)-20:]
		}
		t.Run(name, func(t *testing.T) {
			a, err := ParseAmount(tt.in)
			if tt.wantErr {
				if !errors.Is(err, ErrBadAmount) {
					t.Fatalf("ParseAmount(%q) error = %v, want ErrBadAmount", tt.in, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseAmount(%q): %v", tt.in, err)
			}
			if got := a.Key(); got != tt.want {
				t.Errorf("Key() = %q, want %q", got, tt.want)
			}
			if got := a.Scale(); got != tt.scale {
				t.Errorf("Scale() = %d, want %d", got, tt.scale)
			}
		})
	}
}

func TestAmountArithmeticIsExact(t *testing.T) {
	// 0.1 + 0.2 is exactly 0.3 (it is not with floats).
	sum := MustAmount("0.1").Add(MustAmount("0.2"))
	if !sum.Equal(MustAmount("0.3")) {
		t.Fatalf("0.1+0.2 = %s", sum)
	}
	if got := MustAmount("18.150").String(); got != "18.150" {
		t.Fatalf("String() = %q", got)
	}
	if MustAmount("1.50").Cmp(MustAmount("1.5")) != 0 {
		t.Fatal("1.50 != 1.5")
	}
	if got := MustAmount("1250").StringFixed(2); got != "1250.00" {
		t.Fatalf("StringFixed = %q", got)
	}
	if got := MustAmount("200.00").Percent(MustAmount("0.5"), 2).String(); got != "1.00" {
		t.Fatalf("0.5%% of 200 = %q", got)
	}
	if got := MustAmount("-0.00").Key(); got != "0" {
		t.Fatalf("Key(-0.00) = %q", got)
	}
	var zero Amount
	if !zero.IsZero() || zero.Add(MustAmount("2")).Key() != "2" {
		t.Fatal("zero value is not 0")
	}
}

func FuzzParseAmount(f *testing.F) {
	for _, s := range []string{"0", "1.5", ".23", "-7.00", "100.0000000000005", "1e5", "abc"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseAmount(s)
		if err != nil {
			return
		}
		// Round trip: the text form parses back to the same number.
		b, err := ParseAmount(a.String())
		if err != nil || !a.Equal(b) {
			t.Fatalf("round trip %q -> %q: %v", s, a.String(), err)
		}
		if a.Sub(b).Sign() != 0 || a.Add(a.Neg()).Sign() != 0 {
			t.Fatalf("arithmetic on %q is not exact", s)
		}
	})
}
