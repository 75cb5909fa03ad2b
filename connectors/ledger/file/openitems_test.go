package file

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unsafe"

	"github.com/lettrage/lettrage/domain"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestReadOpenItemsGolden(t *testing.T) {
	f, err := os.Open(filepath.Join("testdata", "good.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	items, err := ReadOpenItems(f, "good.csv")
	if err != nil {
		t.Fatal(err)
	}
	got, err := json.MarshalIndent(items, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "good.golden.json")
	if *update {
		if err := os.WriteFile(golden, append(got, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(string(got)) != strings.TrimSpace(string(want)) {
		t.Fatalf("items differ from %s (run with -update after checking):\n%s", golden, got)
	}
}

func TestReadOpenItemsDetails(t *testing.T) {
	f, err := os.Open(filepath.Join("testdata", "good.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	items, err := ReadOpenItems(f, "good.csv")
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]domain.OpenItem{}
	for _, it := range items {
		byID[it.ID] = it
	}
	if _, ok := byID["INV-3"]; ok || len(items) != 4 {
		t.Fatalf("got %d items (INV-3 has zero residual and must be dropped)", len(items))
	}
	inv1 := byID["INV-1"]
	if inv1.CustomerName != "Müller, Schmidt & Co" || inv1.IBANs[0] != "DE89370400440532013000" {
		t.Errorf("INV-1 = %+v (BOM, quoting or IBAN normalisation)", inv1)
	}
	inv2 := byID["INV-2"]
	if want := []string{"DE89370400440532013000", "FR1420041010050500013M02606"}; strings.Join(inv2.IBANs, ",") != strings.Join(want, ",") {
		t.Errorf("INV-2 IBANs = %q, want %q", inv2.IBANs, want)
	}
	if inv2.Residual.String() != "100.25" || inv2.Amount.String() != "250.5" || !inv2.DueDate.IsZero() {
		t.Errorf("INV-2 = %+v", inv2)
	}
	cn := byID["CN-1"]
	if cn.CustomerName != "Line one\nline two \"quoted\"" || cn.Currency != "EUR" || cn.Residual.Sign() >= 0 {
		t.Errorf("CN-1 = %+v", cn)
	}
}

const header = "id,customer_id,customer_name,document_number,issue_date,due_date,currency,amount,residual,payment_reference,customer_iban\n"

func TestReadOpenItemsErrors(t *testing.T) {
	tests := []struct {
		name        string
		csv         string
		errContains string
		is          error
		line        int
		column      string
	}{
		{"bad amount", header + "A,C,N,D,,,EUR,10,\"12,5\",,\n",
			`open_items.csv:2: column "residual": parsing amount "12,5": not a decimal amount`, domain.ErrBadAmount, 2, "residual"},
		{"float exponent", header + "A,C,N,D,,,EUR,1e3,1,,\n", `column "amount": parsing amount "1e3"`, domain.ErrBadAmount, 2, "amount"},
		{"bad date", header + "A,C,N,D,2026-13-01,,EUR,1,1,,\n", `column "issue_date": parsing date "2026-13-01"`, ErrBadDate, 2, "issue_date"},
		{"european date", header + "A,C,N,D,,31.10.2026,EUR,1,1,,\n", `column "due_date"`, ErrBadDate, 2, "due_date"},
		{"missing column", "id,customer_id,customer_name,document_number,issue_date,due_date,currency,amount,payment_reference,customer_iban\n",
			`open_items.csv:1: column "residual": missing column`, ErrMissingColumn, 1, "residual"},
		{"duplicate column", strings.TrimSuffix(header, "\n") + ",id\n", `column "id": column appears twice`, nil, 1, "id"},
		{"duplicate id", header + "A,C,N,D,,,EUR,1,1,,\nB,C,N,D,,,EUR,1,1,,\nA,C,N,D,,,EUR,2,2,,\n",
			`open_items.csv:4: column "id": duplicate id "A" (first on line 2)`, ErrDuplicateID, 4, "id"},
		{"short row", header + "A,C,N,D,,,EUR,1,1,\n", "open_items.csv:2: wrong number of fields: want 11 as in the header, got 10", ErrFieldCount, 2, ""},
		{"long row", header + "A,C,N,D,,,EUR,1,1,,,x\n", "got 12", ErrFieldCount, 2, ""},
		{"bad currency", header + "A,C,N,D,,,EURO,1,1,,\n", `column "currency": parsing currency "EURO"`, ErrBadCurrency, 2, "currency"},
		{"digit currency", header + "A,C,N,D,,,E1R,1,1,,\n", `column "currency"`, ErrBadCurrency, 2, "currency"},
		{"missing currency", header + "A,C,N,D,,,,1,1,,\n", `column "currency": value required`, ErrRequired, 2, "currency"},
		{"missing id", header + " ,C,N,D,,,EUR,1,1,,\n", `column "id": value required`, ErrRequired, 2, "id"},
		{"missing customer", header + "A,,N,D,,,EUR,1,1,,\n", `column "customer_id": value required`, ErrRequired, 2, "customer_id"},
		{"missing residual", header + "A,C,N,D,,,EUR,1,,,\n", `column "residual": value required`, ErrRequired, 2, "residual"},
		{"bad iban", header + "A,C,N,D,,,EUR,1,1,,DE89-3704\n", `column "customer_iban": parsing IBAN "DE89-3704"`, ErrBadIBAN, 2, "customer_iban"},
		{"line after multi-line name", header + "A,C,\"two\nlines\",D,,,EUR,1,1,,\nB,C,N,D,,,EUR,x,1,,\n", `open_items.csv:4: column "amount"`, domain.ErrBadAmount, 4, "amount"},
		{"bad quoting", header + "A,C,\"open,D,,,EUR,1,1,,\n", "open_items.csv:2: reading CSV", nil, 2, ""},
		{"empty", "", "open_items.csv:1: no header row", ErrNoHeader, 1, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			items, err := ReadOpenItems(strings.NewReader(tt.csv), "open_items.csv")
			if err == nil || !strings.Contains(err.Error(), tt.errContains) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.errContains)
			}
			if items != nil {
				t.Fatalf("half-loaded %d items", len(items))
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Fatalf("errors.Is(%v, %v) = false", err, tt.is)
			}
			var re *RowError
			if !errors.As(err, &re) || re.Line != tt.line || re.Column != tt.column {
				t.Fatalf("RowError = %+v, want line %d column %q", re, tt.line, tt.column)
			}
		})
	}
}

func TestReadOpenItemsCollectsProblems(t *testing.T) {
	csv := header + "A,C,N,D,,,EUR,x,1,,\nB,C,N,D,,,EUR,1,y,,\n"
	_, err := ReadOpenItems(strings.NewReader(csv), "f.csv")
	if err == nil || !strings.Contains(err.Error(), "f.csv:2:") || !strings.Contains(err.Error(), "f.csv:3:") {
		t.Fatalf("err = %v, want both rows reported", err)
	}
	many := header + strings.Repeat("A,C,N,D,,,EUR,x,1,,\n", 100)
	_, err = ReadOpenItems(strings.NewReader(many), "f.csv")
	if n := strings.Count(err.Error(), "\n") + 1; n != maxRowErrors {
		t.Fatalf("reported %d problems, want %d", n, maxRowErrors)
	}
}

func TestParseIBANs(t *testing.T) {
	tests := []struct {
		in          string
		want        string
		errContains string
	}{
		{"", "", ""},
		{" | ", "", ""},
		{"ch93 0076 2011 6238 5295 7", "CH9300762011623852957", ""},
		{"DE89370400440532013000|\tGB29 NWBK 6016 1331 9268 19 ", "DE89370400440532013000,GB29NWBK60161331926819", ""},
		{"DE89", "", `parsing IBAN "DE89"`},
		{"1234567", "", "not an IBAN"},
		{"DEXX370400440532013000", "", "not an IBAN"},
	}
	for _, tt := range tests {
		got, err := ParseIBANs(tt.in)
		if tt.errContains != "" {
			if err == nil || !strings.Contains(err.Error(), tt.errContains) {
				t.Errorf("ParseIBANs(%q) err = %v, want %q", tt.in, err, tt.errContains)
			}
			continue
		}
		if err != nil || strings.Join(got, ",") != tt.want {
			t.Errorf("ParseIBANs(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func FuzzReadOpenItems(f *testing.F) {
	good, _ := os.ReadFile(filepath.Join("testdata", "good.csv"))
	f.Add(string(good))
	f.Add(header + "A,C,N,D,2026-01-02,,EUR,1,1,,DE89 3704\n")
	f.Add(header + "A,C,\"x\ny\",D,,,eur,-1.5,-0.5,R,|\n")
	f.Add("id\n1\n")
	f.Fuzz(func(t *testing.T, data string) {
		items, err := ReadOpenItems(strings.NewReader(data), "fuzz.csv")
		if err != nil {
			if items != nil {
				t.Fatal("items returned with an error")
			}
			return
		}
		ids := map[string]bool{}
		for _, it := range items {
			if it.ID == "" || it.CustomerID == "" || ids[it.ID] {
				t.Fatalf("bad or duplicate id in %+v", it)
			}
			ids[it.ID] = true
			if !isCurrency(it.Currency) || strings.ToUpper(it.Currency) != it.Currency {
				t.Fatalf("bad currency %q", it.Currency)
			}
			if it.Residual.IsZero() {
				t.Fatalf("zero residual kept: %+v", it)
			}
			if _, err := domain.ParseAmount(it.Amount.String()); err != nil {
				t.Fatalf("amount does not round-trip: %v", err)
			}
			for _, iban := range it.IBANs {
				if !isIBAN(iban) {
					t.Fatalf("bad IBAN %q", iban)
				}
			}
		}
	})
}

// TestReadOpenItemsOwnTexts holds that the items read from a CSV do not
// keep the lines they were read from live: each text has memory of its
// own (not a view of the record's fields, held one after the other in
// one string by encoding/csv), and the texts items share are shared.
func TestReadOpenItemsOwnTexts(t *testing.T) {
	csv := "id,customer_id,customer_name,document_number,issue_date,due_date,currency,amount,residual,payment_reference,customer_iban\n" +
		"I1,C1,Muller SA,FA-1,2025-08-13,2025-09-12,EUR,10.00,10.00,,FR7630006000011234567890189\n" +
		"I2,C1,Muller SA,FA-2,2025-08-13,2025-09-12,EUR,20.00,20.00,,FR7630006000011234567890189\n"
	items, err := ReadOpenItems(strings.NewReader(csv), "items.csv")
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 2 || items[0].CustomerName != "Muller SA" || len(items[1].IBANs) != 1 {
		t.Fatalf("items: %+v", items)
	}
	for _, it := range items {
		if follows(it.ID, it.CustomerID) {
			t.Errorf("%s: the id and the customer are views of one line", it.ID)
		}
	}
	for _, s := range []func(it domain.OpenItem) string{
		func(it domain.OpenItem) string { return it.CustomerID },
		func(it domain.OpenItem) string { return it.CustomerName },
		func(it domain.OpenItem) string { return it.Currency },
		func(it domain.OpenItem) string { return it.IBANs[0] },
	} {
		if a, b := s(items[0]), s(items[1]); unsafe.StringData(a) != unsafe.StringData(b) {
			t.Errorf("%q: one copy per item, want one shared", a)
		}
	}
}

// follows reports whether b's bytes start where a's end in memory. It
// compares addresses as integers: a pointer made one past a's last byte
// is one checkptr refuses under -race.
func follows(a, b string) bool {
	return uintptr(unsafe.Pointer(unsafe.StringData(a)))+uintptr(len(a)) == uintptr(unsafe.Pointer(unsafe.StringData(b)))
}

// TestReadOpenItemsTextChunks: an item's own texts (id, number,
// reference) are copied into chunks shared with the next items' (one
// allocation per chunk, not per text), each the text read, untouched by
// the texts kept after it.
func TestReadOpenItemsTextChunks(t *testing.T) {
	var b strings.Builder
	b.WriteString("id,customer_id,customer_name,document_number,issue_date,due_date,currency,amount,residual,payment_reference,customer_iban\n")
	const n = 3000
	for i := range n {
		fmt.Fprintf(&b, "I%05d,C%d,Muller SA,FA-2025-%05d,2025-08-13,2025-09-12,EUR,10.00,10.00,REF%d,\n", i, i%7, i, i)
	}
	items, err := ReadOpenItems(strings.NewReader(b.String()), "items.csv")
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != n {
		t.Fatalf("%d items, want %d", len(items), n)
	}
	adjacent := 0
	for i, it := range items {
		if it.ID != fmt.Sprintf("I%05d", i) || it.DocumentNumber != fmt.Sprintf("FA-2025-%05d", i) || it.PaymentReference != fmt.Sprintf("REF%d", i) {
			t.Fatalf("item %d: %q %q %q", i, it.ID, it.DocumentNumber, it.PaymentReference)
		}
		if i > 0 {
			prev := items[i-1]
			if follows(prev.PaymentReference, it.ID) {
				adjacent++
			}
		}
	}
	// 3,000 items of 25 bytes of texts: three 32 KiB chunks, so all but
	// two items start where the previous one's texts end.
	if adjacent < n-10 {
		t.Errorf("%d of %d items' texts follow the previous item's; want them in shared chunks", adjacent, n-1)
	}
}
