package file

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestImpossibleRowsRefused: what docs/FORMATS.md says is refused is
// refused, all or nothing, with the file, line and column.
func TestImpossibleRowsRefused(t *testing.T) {
	tests := []struct {
		name, row, column, contains string
		is                          error
	}{
		{"residual above the amount", "A,C,N,D,,,EUR,100.00,120.00,,", "residual", "residual 120.00 is above the amount 100.00", ErrImpossible},
		{"credit note residual above", "A,C,N,D,,,EUR,-100.00,-120.00,,", "residual", "is above the amount", ErrImpossible},
		{"residual of the wrong sign", "A,C,N,D,,,EUR,100.00,-20.00,,", "residual", "opposite signs", ErrImpossible},
		{"amount of the wrong sign", "A,C,N,D,,,EUR,-100.00,20.00,,", "residual", "opposite signs", ErrImpossible},
		{"3-decimal EUR", "A,C,N,D,,,EUR,100.125,100.125,,", "amount", "more decimals than EUR has (2)", ErrImpossible},
		{"3-decimal EUR residual", "A,C,N,D,,,EUR,100.00,99.995,,", "residual", "more decimals than EUR has", ErrImpossible},
		{"decimals in JPY", "A,C,N,D,,,JPY,100.5,100.5,,", "amount", "more decimals than JPY has (0)", ErrImpossible},
		{"NUL byte", "A,C,N\x00x,D,,,EUR,100.00,100.00,,", "customer_name", "NUL byte", ErrNUL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := header + "OK1,C,N,D,,,EUR,10.00,10.00,,\n" + tt.row + "\n"
			items, err := ReadOpenItems(strings.NewReader(data), "open_items.csv")
			if items != nil || err == nil {
				t.Fatalf("accepted: %v", items)
			}
			var re *RowError
			if !errors.As(err, &re) || re.Line != 3 || re.Column != tt.column || !errors.Is(err, tt.is) {
				t.Fatalf("err = %v (%+v), want line 3 column %s", err, re, tt.column)
			}
			if !strings.Contains(err.Error(), "open_items.csv:3: column \""+tt.column+"\"") || !strings.Contains(err.Error(), tt.contains) {
				t.Errorf("err = %v, want %q", err, tt.contains)
			}
		})
	}
	// What stays accepted: 1234.500 is 1234.50; a 3-decimal currency.
	ok := header + "A,C,N,D,,,EUR,1234.500,1234.500,,\nB,C,N,D,,,KWD,10.125,10.125,,\nZ,C,N,D,,,EUR,0,0,,\n"
	if items, err := ReadOpenItems(strings.NewReader(ok), "ok.csv"); err != nil || len(items) != 2 {
		t.Errorf("valid rows refused: %v %v", items, err)
	}
}

// TestOptionalColumnsMayBeAbsent: an export without payment_reference and
// customer_iban reads; a configuration that names their header still
// requires it.
func TestOptionalColumnsMayBeAbsent(t *testing.T) {
	data := "id,customer_id,customer_name,document_number,issue_date,due_date,currency,amount,residual\n" +
		"A,C,N,D,2026-01-01,2026-02-01,EUR,10.00,10.00\n"
	items, err := ReadOpenItems(strings.NewReader(data), "f.csv")
	if err != nil || len(items) != 1 {
		t.Fatalf("items %v, err %v", items, err)
	}
	_, err = ReadOpenItemsCSV(strings.NewReader(data), "f.csv", Config{Columns: Columns{CustomerIBAN: "IBAN client"}})
	var re *RowError
	if !errors.As(err, &re) || re.Column != ColCustomerIBAN || !errors.Is(err, ErrMissingColumn) {
		t.Errorf("a mapped optional column missing: %v", err)
	}
}

// TestBadCheckDigitsAreWarnings: an IBAN or an RF reference whose check
// digits do not verify refuses nothing; it is announced with its line and
// column, and not used as evidence.
func TestBadCheckDigitsAreWarnings(t *testing.T) {
	dir := t.TempDir()
	items := filepath.Join(dir, "open_items.csv")
	if err := os.WriteFile(items, []byte(header+
		"A,C,N,D,,,EUR,10.00,10.00,RF18539007547034,FR7630006000011234567890189|FR7630006000011234567890188\n"+
		"B,C,N,D,,,EUR,10.00,10.00,RF19539007547034,\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := New(Config{OpenItems: items, Journal: filepath.Join(dir, "m.csv")})
	if err != nil {
		t.Fatal(err)
	}
	got, err := l.OpenItems(context.Background())
	if err != nil || len(got) != 2 {
		t.Fatalf("items %v, err %v", got, err)
	}
	if len(got[0].IBANs) != 1 || got[0].IBANs[0] != "FR7630006000011234567890189" || got[0].PaymentReference != "RF18539007547034" {
		t.Errorf("valid values lost: %+v", got[0])
	}
	if got[1].PaymentReference != "" {
		t.Errorf("a bad RF reference kept as evidence: %q", got[1].PaymentReference)
	}
	_, announced := l.OpenItemsNote()
	all := strings.Join(announced, "\n")
	for _, want := range []string{
		`open_items.csv:2: column "customer_iban": IBAN FR76••••0188: check digits do not verify`,
		`open_items.csv:3: column "payment_reference": creditor reference "RF19539007547034": check digits do not verify`,
	} {
		if !strings.Contains(all, want) {
			t.Errorf("announcements %q lack %q", announced, want)
		}
	}
	if strings.Contains(all, "FR7630006000011234567890188") {
		t.Error("a full IBAN in an announcement (they reach logs)")
	}
}

// TestRepeatedIBANCells: an IBAN cell repeated on several rows (read once
// then remembered, ibanMemo) gives each row the same IBANs, normalised;
// a cell with an IBAN whose check digits do not verify is announced on
// every row it is on, and its valid IBANs kept on each.
func TestRepeatedIBANCells(t *testing.T) {
	dir := t.TempDir()
	items := filepath.Join(dir, "open_items.csv")
	good := "fr76 3000 6000 0112 3456 7890 189|DE89370400440532013000"
	bad := "FR7630006000011234567890189|FR7630006000011234567890188"
	var b strings.Builder
	b.WriteString(header)
	for i, cell := range []string{good, bad, good, bad, good} {
		fmt.Fprintf(&b, "I%d,C,N,D,,,EUR,10.00,10.00,,%s\n", i, cell)
	}
	if err := os.WriteFile(items, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := New(Config{OpenItems: items, Journal: filepath.Join(dir, "m.csv")})
	if err != nil {
		t.Fatal(err)
	}
	got, err := l.OpenItems(context.Background())
	if err != nil || len(got) != 5 {
		t.Fatalf("items %v, err %v", got, err)
	}
	for i, it := range got {
		want := []string{"FR7630006000011234567890189", "DE89370400440532013000"}
		if i%2 == 1 {
			want = want[:1]
		}
		if !slices.Equal(it.IBANs, want) {
			t.Errorf("row %d: IBANs %q, want %q", i, it.IBANs, want)
		}
	}
	_, announced := l.OpenItemsNote()
	all := strings.Join(announced, "\n")
	for _, line := range []string{"3", "5"} {
		if want := `open_items.csv:` + line + `: column "customer_iban": IBAN FR76••••0188: check digits do not verify`; !strings.Contains(all, want) {
			t.Errorf("announcements %q lack %q", announced, want)
		}
	}
}
