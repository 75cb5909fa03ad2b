package csvsafe

import (
	"bytes"
	"encoding/csv"
	"math/rand/v2"
	"slices"
	"strings"
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

// TestAppendRowEqualsWriter: AppendRow writes, byte for byte, what
// encoding/csv's Writer writes for Row of the same cells, over random rows
// of the characters that matter to either (CSV specials, spaces, bidi
// controls, formula triggers, the neutralising quote, invalid UTF-8).
func TestAppendRowEqualsWriter(t *testing.T) {
	parts := []string{"a", "Z", "9", ",", `"`, "\r", "\n", " ", "\t", "\u00a0", "\u0085", "\u2028", "\u3000",
		"\u202e", "\u2066", "=", "+", "-", "@", "'", `\.`, "é", "\xff", "<U+", ";"}
	rnd := rand.New(rand.NewPCG(1, 2))
	numeric := func(i int) bool { return i%3 == 2 }
	for range 20000 {
		row := make([]string, 1+rnd.IntN(6))
		for i := range row {
			var b strings.Builder
			for range rnd.IntN(5) {
				b.WriteString(parts[rnd.IntN(len(parts))])
			}
			row[i] = b.String()
		}
		if rnd.IntN(20) == 0 {
			row[rnd.IntN(len(row))] = `\.`
		}
		orig := slices.Clone(row)
		for _, num := range []func(int) bool{nil, numeric} {
			var want bytes.Buffer
			w := csv.NewWriter(&want)
			if err := w.Write(Row(slices.Clone(orig), num)); err != nil {
				t.Fatal(err)
			}
			w.Flush()
			got := AppendRow([]byte("x"), row, num)
			if string(got[1:]) != want.String() || got[0] != 'x' {
				t.Fatalf("AppendRow(%q) = %q, want %q", orig, got[1:], want.String())
			}
			if !slices.Equal(row, orig) {
				t.Fatalf("AppendRow changed its row: %q, was %q", row, orig)
			}
		}
	}
}

// TestColumns: the predicate holds for the named columns only, and is
// false outside the header.
func TestColumns(t *testing.T) {
	num := Columns([]string{"a", "amount", "b", "date"}, "amount", "date", "missing")
	for i, want := range []bool{false, true, false, true} {
		if num(i) != want {
			t.Errorf("column %d: %v, want %v", i, num(i), want)
		}
	}
	if num(-1) || num(4) || num(100) {
		t.Error("a position outside the header is numeric")
	}
}
