package file

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/lettrage/lettrage/connectors"
)

func TestJournalRows(t *testing.T) {
	d := decision("key-1", "REF1", alloc("INV-1", "69.50", "0.50"), alloc("CN-1", "-30", ""))
	it := d.Items["CN-1"]
	it.CustomerID = "C2"
	d.Items["CN-1"] = it
	rows := journalRows(d, fecFields{code: "AAB", journal: "BQ1", accountPrefix: "411"})
	unknown := d
	unknown.Items = nil
	if r := journalRows(unknown, fecFields{code: "AAC", journal: "BQ", accountPrefix: "411"}); r[0][jCode+3] != "" {
		t.Errorf("customer_account of an unknown item = %q, want empty", r[0][jCode+3])
	}
	contract := MatchRows(d)
	want := [][]string{{"AAB", "2026-11-23", "BQ1", "411C1", "", "", "", ""}, {"AAB", "2026-11-23", "BQ1", "411C2", "", "", "", ""}}
	for i, r := range rows {
		if len(r) != len(JournalHeader) {
			t.Fatalf("row %d has %d fields", i, len(r))
		}
		if strings.Join(r[:len(ContractHeader)], "|") != strings.Join(contract[i], "|") {
			t.Errorf("row %d contract columns = %q, want %q", i, r[:len(ContractHeader)], contract[i])
		}
		if got := r[len(ContractHeader):]; strings.Join(got, "|") != strings.Join(want[i], "|") {
			t.Errorf("row %d FEC columns = %q, want %q", i, got, want[i])
		}
	}
	// The contract columns come first, in order.
	for i, h := range ContractHeader {
		if JournalHeader[i] != h {
			t.Fatalf("JournalHeader[%d] = %q, want %q", i, JournalHeader[i], h)
		}
	}
	if JournalHeader[jCode] != "lettering_code" {
		t.Fatalf("jCode points at %q", JournalHeader[jCode])
	}
}

func TestNextCode(t *testing.T) {
	for in, want := range map[string]string{
		"AAA": "AAB", "AAZ": "ABA", "AZZ": "BAA", "ZZY": "ZZZ", "ZZZ": "AAAA", "ZZZZ": "AAAAA", "ABCZ": "ABDA",
	} {
		got := nextCode(in)
		if got != want {
			t.Errorf("nextCode(%q) = %q, want %q", in, got, want)
		}
		if !codeLess(in, got) || codeLess(got, in) {
			t.Errorf("codeLess does not order %q before %q", in, got)
		}
	}
	for _, c := range []string{"AAA", "ZZZZ", "ABCDEFGHIJKL"} {
		if !isCode(c) {
			t.Errorf("isCode(%q) = false", c)
		}
	}
	for _, c := range []string{"", "AA", "aaa", "AA1", "ÉAA", "ABCDEFGHIJKLM"} {
		if isCode(c) {
			t.Errorf("isCode(%q) = true", c)
		}
	}
}

// codes returns the lettering code of each decision key in the journal
// (allocation rows: posting rows have none), failing when one decision's rows carry different codes or two
// decisions share one.
func codes(t *testing.T, journal string) map[string]string {
	t.Helper()
	rows := readRows(t, journal)
	byKey, byCode := map[string]string{}, map[string]string{}
	for _, r := range rows[1:] {
		if len(r) > jKind && r[jKind] != "" {
			continue // postings are not lettered
		}
		key, code := r[jKey], r[jCode]
		if prev, ok := byKey[key]; ok && prev != code {
			t.Fatalf("decision %s has codes %s and %s", key, prev, code)
		}
		if other, ok := byCode[code]; ok && other != key {
			t.Fatalf("code %s used by %s and %s", code, other, key)
		}
		byKey[key], byCode[code] = code, key
	}
	return byKey
}

func TestLetteringCodes(t *testing.T) {
	ctx := context.Background()
	l, journal := newLedger(t)
	err := l.Apply(ctx, []connectors.KeyedDecision{
		decision("k1", "R1", alloc("INV-1", "100", "")),
		decision("k0", "R0"), // no allocation: no row, no code
		decision("k2", "R2", alloc("INV-2", "50", ""), alloc("CN-1", "-30", "")),
		decision("k1", "R1", alloc("INV-1", "100", "")), // repeated: no new code
	})
	if err != nil {
		t.Fatal(err)
	}
	// A restart continues after the highest code in the journal.
	l2, _ := New(l.cfg)
	if err := l2.Apply(ctx, []connectors.KeyedDecision{
		decision("k2", "R2", alloc("INV-2", "50", "")), // already applied
		decision("k3", "R3", alloc("INV-3", "50", "")),
	}); err != nil {
		t.Fatal(err)
	}
	got := codes(t, journal)
	if want := "k1:AAA k2:AAB k3:AAC"; join(got) != want {
		t.Fatalf("codes = %s, want %s", join(got), want)
	}
	rows := readRows(t, journal)
	if r := rows[len(rows)-1]; r[jCode+1] != "2026-11-23" || r[jCode+2] != DefaultBankJournal || r[jCode+3] != "411C1" {
		t.Fatalf("last row FEC columns = %q", r[jCode:])
	}

	// lettering_start lifts the sequence, but never lowers it; a rotated
	// journal starts again from it.
	cfg := l.cfg
	cfg.LetteringStart, cfg.BankJournal = "BAA", "BQ2"
	none := ""
	cfg.CustomerAccountPrefix = &none
	l3, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := l3.Apply(ctx, []connectors.KeyedDecision{decision("k4", "R4", alloc("INV-3", "1", ""))}); err != nil {
		t.Fatal(err)
	}
	cfg.LetteringStart = "AAA"
	l4, _ := New(cfg)
	if err := l4.Apply(ctx, []connectors.KeyedDecision{decision("k5", "R5", alloc("INV-3", "1", ""))}); err != nil {
		t.Fatal(err)
	}
	got = codes(t, journal)
	if got["k4"] != "BAA" || got["k5"] != "BAB" {
		t.Fatalf("codes = %s, want k4:BAA k5:BAB", join(got))
	}
	rows = readRows(t, journal)
	if r := rows[len(rows)-1]; r[jCode+2] != "BQ2" || r[jCode+3] != "C1" {
		t.Fatalf("last row FEC columns = %q", r[jCode:])
	}
	if err := os.Rename(journal, journal+".1"); err != nil {
		t.Fatal(err)
	}
	cfg.LetteringStart = "CAA"
	l5, _ := New(cfg)
	if err := l5.Apply(ctx, []connectors.KeyedDecision{decision("k6", "R6", alloc("INV-3", "1", ""))}); err != nil {
		t.Fatal(err)
	}
	if got := codes(t, journal); join(got) != "k6:CAA" {
		t.Fatalf("codes in the rotated journal = %s", join(got))
	}
}

func join(m map[string]string) string {
	var parts []string
	for k, v := range m {
		parts = append(parts, k+":"+v)
	}
	sort.Strings(parts)
	return strings.Join(parts, " ")
}

// TestLegacyJournal: a journal written before the FEC columns keeps its
// shape, and its keys and allocations still count.
func TestLegacyJournal(t *testing.T) {
	ctx := context.Background()
	l, journal := newLedger(t)
	if err := os.MkdirAll(filepath.Dir(journal), 0o755); err != nil {
		t.Fatal(err)
	}
	old := strings.Join(ContractHeader, ",") + "\n" +
		"R1,DE89370400440532013000,2026-11-02,70.00,EUR,Alpha,INV-1,D-1,C1,70.00,0,reference,0.99,x,k1,2026-11-23T12:04:05Z\n"
	if err := os.WriteFile(journal, []byte(old), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := l.Apply(ctx, []connectors.KeyedDecision{
		decision("k1", "R1", alloc("INV-1", "70", "")),
		decision("k2", "R2", alloc("INV-2", "50", "")),
	}); err != nil {
		t.Fatal(err)
	}
	rows := readRows(t, journal)
	if len(rows) != 3 {
		t.Fatalf("legacy journal has %d rows, want 3", len(rows))
	}
	for _, r := range rows {
		if len(r) != len(ContractHeader) {
			t.Fatalf("row of %d fields in a legacy journal: %q", len(r), r)
		}
	}
	items, err := l.OpenItems(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := residuals(items); got["INV-1"] != "30.00" || got["INV-2"] != "100.00" {
		t.Fatalf("residuals = %v", got)
	}
}

func TestJournalBadCode(t *testing.T) {
	l, journal := newLedger(t)
	if err := l.Apply(context.Background(), []connectors.KeyedDecision{decision("k1", "R1", alloc("INV-1", "1", ""))}); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(journal)
	if err := os.WriteFile(journal, []byte(strings.Replace(string(b), ",AAA,", ",aa,", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := (&Ledger{cfg: l.cfg}).Applied(context.Background(), []string{"k1"})
	if !errors.Is(err, ErrJournal) || !strings.Contains(err.Error(), `column "lettering_code": "aa" is not a lettering code`) {
		t.Fatalf("Applied = %v", err)
	}
}
