package csvsafe

import (
	"bytes"
	"encoding/csv"
	"testing"
)

// Payloads from issue 16 and the OWASP CSV injection page.
var payloads = []struct{ in, want string }{
	{`=HYPERLINK("http://x","click")`, `'=HYPERLINK("http://x","click")`},
	{`+1+cmd|' /C calc'!A0`, `'+1+cmd|' /C calc'!A0`},
	{`-2+3+cmd|' /C calc'!A0`, `'-2+3+cmd|' /C calc'!A0`},
	{`@SUM(1+9)*cmd|' /C calc'!A0`, `'@SUM(1+9)*cmd|' /C calc'!A0`},
	{"\t=1+1", "'\t=1+1"},
	{"\r=1+1", "'\r=1+1"},
	{"   =1+1", "'   =1+1"},
	{"\u00a0@x", "'\u00a0@x"},
	{"-240.00", "'-240.00"}, // in a text column, a leading minus is text too
	{"'quoted", "''quoted"}, // a leading quote is doubled: reversible
	{"Boulangerie Martin SARL", "Boulangerie Martin SARL"},
	{"FA-2026-00105 = facture", "FA-2026-00105 = facture"},
	{"", ""},
	{"   ", "   "},
	{"evil\u202Etxt.exe", "evil<U+202E>txt.exe"},
	{"\u2066=x\u2069", "<U+2066>=x<U+2069>"}, // shown, so no longer leading: no quote needed
}

func TestTextAndUnescape(t *testing.T) {
	for _, p := range payloads {
		if got := Text(p.in); got != p.want {
			t.Errorf("Text(%q) = %q, want %q", p.in, got, p.want)
		}
		if back := Unescape(Text(p.in)); back != p.in {
			t.Errorf("Unescape(Text(%q)) = %q", p.in, back)
		}
	}
}

func TestUnescapeLeavesOtherText(t *testing.T) {
	for _, s := range []string{"<U+0041>", "<U+202E", "a<U+>b", "<U+202e>", "<U+00202E>"} {
		if got := Unescape(s); got != s {
			t.Errorf("Unescape(%q) = %q, want it unchanged", s, got)
		}
	}
}

// TestRowKeepsNumbers: amounts stay numbers, text cells are escaped, and
// encoding/csv quoting keeps the escape intact.
func TestRowKeepsNumbers(t *testing.T) {
	header := []string{"name", "amount", "remittance"}
	row := Row([]string{"=cmd", "-240.00", "-2+3"}, Columns(header, "amount"))
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	_ = w.Write(row)
	w.Flush()
	if got, want := buf.String(), "'=cmd,-240.00,'-2+3\n"; got != want {
		t.Fatalf("row = %q, want %q", got, want)
	}
	back, err := csv.NewReader(&buf).Read()
	if err != nil {
		t.Fatal(err)
	}
	if Unescape(back[0]) != "=cmd" || back[1] != "-240.00" || Unescape(back[2]) != "-2+3" {
		t.Errorf("read back %q", back)
	}
}

func FuzzRoundTrip(f *testing.F) {
	for _, p := range payloads {
		f.Add(p.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := Text(s)
		if out != "" && (trigger(out[0]) || out[0] == ' ') && out[0] != '\'' {
			// leading spaces are fine only when nothing formula-like follows
			if needsQuote(out) {
				t.Fatalf("Text(%q) = %q still starts a formula", s, out)
			}
		}
		if bytes.ContainsRune([]byte(out), 0x202E) {
			t.Fatalf("Text(%q) = %q keeps a bidi control", s, out)
		}
		if !bytes.Contains([]byte(s), []byte("<U+")) {
			if back := Unescape(out); back != s {
				t.Fatalf("Unescape(Text(%q)) = %q", s, back)
			}
		}
	})
}
