package file

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lettrage/lettrage/connectors"
	"github.com/lettrage/lettrage/domain"
)

// frenchConfig reads testdata/french.csv: windows-1252, ';', decimal
// comma, DD/MM/YYYY, French headers, no reference or IBAN column.
func frenchConfig() Config {
	return Config{
		Delimiter: ";", DecimalComma: true, DateFormat: "02/01/2006", Encoding: "windows-1252",
		Columns: Columns{
			ID: "N° facture", CustomerID: "Code client", CustomerName: "Raison sociale",
			DocumentNumber: "N° pièce", IssueDate: "Date pièce", DueDate: "Échéance", Currency: "Devise",
			Amount: "Montant TTC", Residual: "Solde", PaymentReference: Absent, CustomerIBAN: Absent,
		},
	}
}

func TestReadOpenItemsFrenchGolden(t *testing.T) {
	f, err := os.Open(filepath.Join("testdata", "french.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	items, err := ReadOpenItemsCSV(f, "french.csv", frenchConfig())
	if err != nil {
		t.Fatal(err)
	}
	checkGolden(t, items, "french.golden.json")
	byID := map[string]domain.OpenItem{}
	for _, it := range items {
		byID[it.ID] = it
	}
	if it := byID["FA-2026-00117"]; it.CustomerName != "Dupont; Fils & Cie SAS" || it.Amount.String() != "12340.50" ||
		it.Residual.String() != "2340.5" || !it.DueDate.Equal(time.Date(2026, 11, 6, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("FA-2026-00117 = %+v", it)
	}
	if it := byID["FA-2026-00105"]; it.CustomerName != "Boulangerie Müller & Fils" || it.Residual.String() != "1560.00" {
		t.Errorf("FA-2026-00105 = %+v (windows-1252 accents, non-breaking space)", it)
	}
	if it := byID["FA-2026-00121"]; it.CustomerName != "Œuvres d'Été" || it.Residual.String() != "1000000" {
		t.Errorf("FA-2026-00121 = %+v", it)
	}
	if _, ok := byID["FA-2026-00120"]; ok || len(items) != 4 {
		t.Errorf("got %d items; the paid FA-2026-00120 must be dropped", len(items))
	}
}

// frenchCSV is a UTF-8 French export with the contract's column names.
const frenchHeader = "id;customer_id;customer_name;document_number;issue_date;due_date;currency;amount;residual;payment_reference;customer_iban\n"

func TestReadOpenItemsLayoutErrors(t *testing.T) {
	fr := Config{Delimiter: ";", DecimalComma: true, DateFormat: "DD/MM/YYYY"}
	tests := []struct {
		name        string
		cfg         Config
		csv         string
		errContains string
		is          error
		line        int
		column      string
	}{
		{"dot decimal in a comma file", fr, frenchHeader + "A;C;N;D;;;EUR;1.5;1;;\n",
			`f.csv:2: column "amount": parsing amount "1.5": not a decimal amount`, domain.ErrBadAmount, 2, "amount"},
		{"bad grouping", fr, frenchHeader + "A;C;N;D;;;EUR;1;12 34,5;;\n",
			`column "residual": parsing amount "12 34,5"`, domain.ErrBadAmount, 2, "residual"},
		{"ISO date in a French file", fr, frenchHeader + "A;C;N;D;2026-10-01;;EUR;1;1;;\n",
			`column "issue_date": parsing date "2026-10-01": not a valid date (want DD/MM/YYYY)`, ErrBadDate, 2, "issue_date"},
		{"no such day", fr, frenchHeader + "A;C;N;D;;31/02/2026;EUR;1;1;;\n",
			`column "due_date": parsing date "31/02/2026"`, ErrBadDate, 2, "due_date"},
		{"comma file read as comma-separated", Config{}, frenchHeader,
			`f.csv:1: column "id": missing column`, ErrMissingColumn, 1, "id"},
		{"mapped header missing", Config{Columns: Columns{Residual: "Solde"}}, header,
			`f.csv:1: column "residual" (header "Solde"): missing column`, ErrMissingColumn, 1, "residual"},
		{"mapped column located", Config{Columns: Columns{Amount: "Montant"}},
			strings.Replace(header, ",amount,", ",Montant,", 1) + "A,C,N,D,,,EUR,x,1,,\n",
			`f.csv:2: column "amount" (header "Montant"): parsing amount "x"`, domain.ErrBadAmount, 2, "amount"},
		{"legacy encoding read as UTF-8", Config{}, header + "A,C,Soci\xe9t\xe9,D,,,EUR,1,1,,\n",
			`f.csv:2: column "customer_name": not valid UTF-8`, ErrEncoding, 2, "customer_name"},
		{"tab delimiter", Config{Delimiter: "tab"}, strings.ReplaceAll(header, ",", "\t") + "A\tC\tN\tD\t\t\tEUR\t1\t1\t\t\t\n",
			"f.csv:2: wrong number of fields: want 11 as in the header, got 12", ErrFieldCount, 2, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			items, err := ReadOpenItemsCSV(strings.NewReader(tt.csv), "f.csv", tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.errContains) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.errContains)
			}
			if items != nil {
				t.Fatalf("half-loaded %d items", len(items))
			}
			if !errors.Is(err, tt.is) {
				t.Fatalf("errors.Is(%v, %v) = false", err, tt.is)
			}
			var re *RowError
			if !errors.As(err, &re) || re.Line != tt.line || re.Column != tt.column {
				t.Fatalf("RowError = %+v, want line %d column %q", re, tt.line, tt.column)
			}
		})
	}
}

func TestReadOpenItemsLayoutOK(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		csv  string
		want string // id:residual:due date
	}{
		{"tab, blank rows skipped", Config{Delimiter: "tab"},
			strings.ReplaceAll(header, ",", "\t") + "A\tC\tN\tD\t\t2026-01-02\tEUR\t2\t1.5\t\t\n\t\t\t\t\t\t\t\t\t\t\n",
			"A:1.5:2026-01-02"},
		{"utf-16 with BOM", Config{Encoding: "utf-16"}, "\ufeff" + header + "É,C,N,D,,,EUR,3,2,,\n", "É:2:"},
		{"iso-8859-15 euro sign", Config{Encoding: "iso-8859-15"}, header + "A\xa4,C,N,D,,,EUR,3,2,,\n", "A€:2:"},
		{"unused duplicate header", Config{}, strings.TrimSuffix(header, "\n") + ",note,note\nA,C,N,D,,,EUR,3,2,,,x,y\n", "A:2:"},
		{"headers by case and spaces", Config{Columns: Columns{DueDate: "date  d'échéance"}},
			strings.Replace(strings.ToUpper(header), "DUE_DATE", "Date\u00a0D'ÉCHÉANCE", 1) + "A,C,N,D,,2026-12-31,EUR,3,2,,\n", "A:2:2026-12-31"},
		{"decimal comma quoted in a comma file", Config{DecimalComma: true}, header + "A,C,N,D,,,EUR,\"1.234,5\",\"1.234,5\",,\n", "A:1234.5:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := tt.csv
			if tt.cfg.Encoding == "utf-16" {
				data = utf16LE(tt.csv)
			}
			items, err := ReadOpenItemsCSV(strings.NewReader(data), "f.csv", tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			if len(items) != 1 {
				t.Fatalf("%d items", len(items))
			}
			it := items[0]
			if got := it.ID + ":" + it.Residual.String() + ":" + formatDate(it.DueDate); got != tt.want {
				t.Fatalf("got %s, want %s", got, tt.want)
			}
		})
	}
}

func utf16LE(s string) string {
	var b bytes.Buffer
	for _, r := range s {
		if r > 0xffff {
			panic("BMP only")
		}
		b.WriteByte(byte(r))
		b.WriteByte(byte(r >> 8))
	}
	return b.String()
}

func TestValidateLayout(t *testing.T) {
	base := func(mod func(*Config)) Config {
		c := Config{OpenItems: "a.csv", Journal: "m.csv"}
		mod(&c)
		return c
	}
	prefix := " 411"
	tests := []struct {
		name        string
		cfg         Config
		errContains string
	}{
		{"french ok", base(func(c *Config) { *c = frenchConfig(); c.OpenItems, c.Journal = "a.csv", "m.csv" }), ""},
		{"xlsx inferred", base(func(c *Config) { c.OpenItems = "a.XLSX"; c.Sheet = "Export" }), ""},
		{"old excel", base(func(c *Config) { c.OpenItems = "export.xls" }), "format: cannot read .xls files: export the open items as .xlsx or CSV"},
		{"old excel read as csv", base(func(c *Config) { c.OpenItems = "export.xls"; c.Format = "csv" }), ""},
		{"unknown format", base(func(c *Config) { c.Format = "ods" }), `format: unknown format "ods"`},
		{"sheet with csv", base(func(c *Config) { c.Sheet = "Export" }), "sheet: only for the xlsx format"},
		{"delimiter with xlsx", base(func(c *Config) { c.Format = "xlsx"; c.Delimiter = ";" }), "delimiter: only for the csv format"},
		{"encoding with xlsx", base(func(c *Config) { c.Format = "xlsx"; c.Encoding = "utf-8" }), "encoding: only for the csv format"},
		{"bad delimiter", base(func(c *Config) { c.Delimiter = "|" }), `delimiter: unknown delimiter "|"`},
		{"date format without year", base(func(c *Config) { c.DateFormat = "02/01" }), `date_format: "02/01" does not hold a day, a month and a year`},
		{"date format nonsense", base(func(c *Config) { c.DateFormat = "dd/mm/yyyy" }), `date_format: "dd/mm/yyyy"`},
		{"human date format", base(func(c *Config) { c.DateFormat = "DD.MM.YYYY" }), ""},
		{"unknown encoding", base(func(c *Config) { c.Encoding = "ebcdic" }), `encoding: unknown encoding "ebcdic"`},
		{"required column absent", base(func(c *Config) { c.Columns.Residual = Absent }), `columns.residual: "-" (absent) is only allowed for payment_reference, customer_iban and as_of`},
		{"two columns one header", base(func(c *Config) { c.Columns.Amount = "Montant"; c.Columns.Residual = " montant " }), `columns.residual: header "montant" is already the header of amount`},
		{"mapping onto another contract name", base(func(c *Config) { c.Columns.ID = "customer_id" }), `columns.customer_id: header "customer_id" is already the header of id`},
		{"bank journal spaces", base(func(c *Config) { c.BankJournal = "BQ " }), `bank_journal: "BQ " has surrounding spaces`},
		{"account prefix spaces", base(func(c *Config) { c.CustomerAccountPrefix = &prefix }), `customer_account_prefix: " 411"`},
		{"lettering start lower case", base(func(c *Config) { c.LetteringStart = "aab" }), `lettering_start: "aab" is not a lettering code`},
		{"lettering start short", base(func(c *Config) { c.LetteringStart = "AB" }), `lettering_start: "AB"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if tt.errContains == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.errContains) {
				t.Fatalf("Validate() = %v, want %q", err, tt.errContains)
			}
			// One problem per line, each starting with its YAML key (the
			// config package prefixes the block's path).
			for _, line := range strings.Split(err.Error(), "\n") {
				key, _, ok := strings.Cut(line, ": ")
				if !ok || strings.ContainsAny(key, " \"") {
					t.Errorf("problem %q does not start with a YAML key", line)
				}
			}
		})
	}
}

func TestParseDecimalComma(t *testing.T) {
	tests := []struct {
		in   string
		want string // "" for an error
	}{
		{"1234,56", "1234.56"},
		{"1 234,56", "1234.56"},
		{"1\u00a0234,56", "1234.56"},
		{"1\u202f234\u202f567,8", "1234567.8"},
		{"1.234.567,89", "1234567.89"},
		{"-1 234,5", "-1234.5"},
		{"+12", "12"},
		{"0,125", "0.125"},
		{",5", "0.5"},
		{"1 000", "1000"},
		{"12", "12"},
		// Leading zeros are not significant (domain.ParseAmount); 41
		// significant digits are too many.
		{"0001234,50", "1234.50"},
		{strings.Repeat("0", 45) + "12,5", "12.5"},
		{"12345678901234567890123456789012345678901", ""},
		{"1.5", ""},         // a '.' decimal point, not thousands
		{"1.234.56,0", ""},  // bad group
		{"1 234.567,0", ""}, // mixed separators
		{"1234 567,0", ""},  // first group too long
		{"1,", ""},
		{"1,2,3", ""},
		{"1 ,5", ""},
		{" 1,5", ""},
		{"1e3", ""},
		{"", ""},
		{"-", ""},
		{"€ 12,00", ""},
	}
	for _, tt := range tests {
		got, err := ParseDecimalComma(tt.in)
		if tt.want == "" {
			if !errors.Is(err, domain.ErrBadAmount) {
				t.Errorf("ParseDecimalComma(%q) = %s, %v; want ErrBadAmount", tt.in, got, err)
			}
			continue
		}
		if err != nil || got.String() != tt.want {
			t.Errorf("ParseDecimalComma(%q) = %s, %v; want %s", tt.in, got, err, tt.want)
		}
	}
}

func FuzzParseDecimalComma(f *testing.F) {
	for _, s := range []string{"1 234,56", "1.234,5", "-0,01", "1\u00a0000", ",5", "1.5", "12 34"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseDecimalComma(s)
		if err != nil {
			if !errors.Is(err, domain.ErrBadAmount) {
				t.Fatalf("error not wrapping ErrBadAmount: %v", err)
			}
			return
		}
		// The same number as the text without grouping, with a '.' point.
		plain := strings.NewReplacer(" ", "", "\u00a0", "", "\u202f", "", ".", "", ",", ".").Replace(s)
		want, err := domain.ParseAmount(plain)
		if err != nil || !want.Equal(a) || want.Scale() != a.Scale() {
			t.Fatalf("%q = %s, but %q = %s, %v", s, a, plain, want, err)
		}
		// Writing it back with a comma parses to the same amount.
		back, err := ParseDecimalComma(strings.Replace(a.String(), ".", ",", 1))
		if err != nil || !back.Equal(a) {
			t.Fatalf("%q: %s does not round-trip: %v", s, a, err)
		}
	})
}

func FuzzParseDate(f *testing.F) {
	for _, s := range []string{"31/12/2026", "29/02/2028", "1/2/2026", "2026-01-02", "31/02/2026", "00/01/2026"} {
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, s string, french bool) {
		cfg := Config{}
		if french {
			cfg.DateFormat = "DD/MM/YYYY"
		}
		lay, err := cfg.layout()
		if err != nil {
			t.Fatal(err)
		}
		d, err := lay.parseDate(s)
		if err != nil {
			if !errors.Is(err, ErrBadDate) {
				t.Fatalf("error not wrapping ErrBadDate: %v", err)
			}
			return
		}
		if d.Location() != time.UTC || d.Hour() != 0 || d.Minute() != 0 || d.Second() != 0 || d.Nanosecond() != 0 {
			t.Fatalf("%q = %v, not a UTC midnight", s, d)
		}
		back, err := lay.parseDate(d.Format(lay.dateFormat))
		if err != nil || !back.Equal(d) {
			t.Fatalf("%q = %v does not round-trip: %v, %v", s, d, back, err)
		}
	})
}

func TestLedgerFrenchAndXLSX(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	// French CSV through the ledger, with the journal subtracted.
	fr := frenchConfig()
	data, err := os.ReadFile(filepath.Join("testdata", "french.csv"))
	if err != nil {
		t.Fatal(err)
	}
	fr.OpenItems, fr.Journal = filepath.Join(dir, "export.csv"), filepath.Join(dir, "matches.csv")
	if err := os.WriteFile(fr.OpenItems, data, 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := New(fr)
	if err != nil {
		t.Fatal(err)
	}
	d := decision("k1", "R1", alloc("FA-2026-00105", "1000", ""))
	if err := l.Apply(ctx, []connectors.KeyedDecision{d}); err != nil {
		t.Fatal(err)
	}
	items, err := l.OpenItems(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := residuals(items); got["FA-2026-00105"] != "560.00" || len(got) != 4 {
		t.Fatalf("residuals = %v", got)
	}

	// An XLSX export, the format inferred from the extension.
	x := Config{OpenItems: filepath.Join(dir, "export.xlsx"), Journal: filepath.Join(dir, "x.csv"), Sheet: "Export"}
	if err := os.WriteFile(x.OpenItems, buildXLSX(t, goldenRows(), false), 0o644); err != nil {
		t.Fatal(err)
	}
	lx, err := New(x)
	if err != nil {
		t.Fatal(err)
	}
	if err := lx.Apply(ctx, []connectors.KeyedDecision{decision("k1", "R1", alloc("1001", "234.5", ""))}); err != nil {
		t.Fatal(err)
	}
	items, err = lx.OpenItems(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := residuals(items); got["1001"] != "1000.00" || len(got) != 4 {
		t.Fatalf("residuals = %v", got)
	}
	// A bad cell is located by file, sheet and row.
	rows := goldenRows()
	rows[3][8] = "n/a"
	if err := os.WriteFile(x.OpenItems, buildXLSX(t, rows, false), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = lx.OpenItems(ctx)
	if want := `export.xlsx: sheet "Export" row 4: column "residual": parsing amount "n/a"`; err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("OpenItems = %v, want %q", err, want)
	}
}

func residuals(items []domain.OpenItem) map[string]string {
	m := map[string]string{}
	for _, it := range items {
		m[it.ID] = it.Residual.String()
	}
	return m
}

func FuzzReadOpenItemsFrench(f *testing.F) {
	good, _ := os.ReadFile(filepath.Join("testdata", "french.csv"))
	f.Add(good)
	f.Add([]byte("N\xb0 facture;Code client;Raison sociale;N\xb0 pi\xe8ce;Date pi\xe8ce;\xc9ch\xe9ance;Devise;Montant TTC;Solde\nA;C;N;D;01/02/2026;;EUR;1\xa0234,5;-0,5\n"))
	cfg := frenchConfig()
	f.Fuzz(func(t *testing.T, data []byte) {
		items, err := ReadOpenItemsCSV(bytes.NewReader(data), "fuzz.csv", cfg)
		if err != nil {
			if items != nil {
				t.Fatal("items returned with an error")
			}
			var re *RowError
			if !errors.As(err, &re) {
				t.Fatalf("unlocated error %v", err)
			}
			return
		}
		ids := map[string]bool{}
		for _, it := range items {
			if it.ID == "" || it.CustomerID == "" || ids[it.ID] || it.Residual.IsZero() || !isCurrency(it.Currency) {
				t.Fatalf("bad item %+v", it)
			}
			ids[it.ID] = true
			if _, err := domain.ParseAmount(it.Residual.String()); err != nil {
				t.Fatalf("residual does not round-trip: %v", err)
			}
		}
	})
}
