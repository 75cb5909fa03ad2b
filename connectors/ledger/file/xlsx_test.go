package file

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/lettrage/lettrage/domain"
)

// xlsxHeader is the contract header, as a workbook row.
var xlsxHeader = []any{"id", "customer_id", "customer_name", "document_number", "issue_date", "due_date",
	"currency", "amount", "residual", "payment_reference", "customer_iban"}

// raw is a cell written with SetCellDefault: a number exactly as stored
// in the sheet XML ("0.30000000000000004", "1E-3").
type raw string

// buildXLSX writes a workbook whose sheet "Export" (after a "Notes" sheet)
// holds rows from row 1; a nil row is left empty. Values are typed as in
// a real export: strings are text cells, float64/int numbers, time.Time
// dates (a number with a date format), raw numbers as stored, bool
// booleans.
func buildXLSX(t testing.TB, rows [][]any, date1904 bool) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetSheetName("Sheet1", "Notes"); err != nil {
		t.Fatal(err)
	}
	if err := f.SetCellStr("Notes", "A1", "exported by the ERP"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.NewSheet("Export"); err != nil {
		t.Fatal(err)
	}
	if date1904 {
		yes := true
		if err := f.SetWorkbookProps(&excelize.WorkbookPropsOptions{Date1904: &yes}); err != nil {
			t.Fatal(err)
		}
	}
	dateStyle, err := f.NewStyle(&excelize.Style{NumFmt: 14})
	if err != nil {
		t.Fatal(err)
	}
	for r, row := range rows {
		for c, v := range row {
			ref, _ := excelize.CoordinatesToCellName(c+1, r+1)
			switch v := v.(type) {
			case nil:
				continue
			case string:
				err = f.SetCellStr("Export", ref, v)
			case raw:
				err = f.SetCellDefault("Export", ref, string(v))
			case time.Time:
				if err = f.SetCellValue("Export", ref, v); err == nil {
					err = f.SetCellStyle("Export", ref, ref, dateStyle)
				}
			default:
				err = f.SetCellValue("Export", ref, v)
			}
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	buf, err := f.WriteToBuffer()
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// patchCell rewrites one cell of the "Export" sheet (sheet2.xml) to type t
// and value v, for cell types excelize does not write: errors ("e") and
// ISO dates ("d"). The cell must hold the number marker.
func patchCell(t *testing.T, book []byte, ref, marker, typ, v string) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(book), int64(len(book)))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	re := regexp.MustCompile(`<c r="` + ref + `"([^>]*)><v>` + regexp.QuoteMeta(marker) + `</v></c>`)
	patched := false
	for _, zf := range zr.File {
		rc, err := zf.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(rc)
		rc.Close()
		if zf.Name == "xl/worksheets/sheet2.xml" {
			n := re.ReplaceAll(data, []byte(`<c r="`+ref+`" t="`+typ+`"><v>`+v+`</v></c>`))
			patched = !bytes.Equal(n, data)
			data = n
		}
		w, err := zw.Create(zf.Name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(data); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if !patched {
		t.Fatalf("cell %s with %s not found", ref, marker)
	}
	return out.Bytes()
}

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// goldenRows is the workbook of the XLSX golden test: every way an
// accountant's export stores values.
func goldenRows() [][]any {
	return [][]any{
		xlsxHeader,
		// A number stored as 1234.5 is 1234.50; ids as numbers; dates as serials.
		{1001, 42, "Müller, Schmidt & Co", 2026001, day(2026, 10, 1), day(2026, 10, 31), "EUR", 1234.5, 1234.5, "RF18539007547034", "DE89 3704 0044 0532 0130 00"},
		nil, // an empty row in the middle is skipped
		// Text ids keep their leading zeros; text amounts and dates.
		{"00123", "C-007", "Dupont SARL", "FA-0002", "2026-10-05", "", "eur", "250.50", "100.25", "", "FR1420041010050500013M02606|DE89370400440532013000"},
		// Binary noise beyond 15 digits (=0.1+0.2) and an exponent.
		{"INV-3", "C-008", "Noise", "FA-0003", day(2026, 9, 1), nil, "EUR", raw("0.30000000000000004"), raw("3E-1"), nil, nil},
		// JPY has no minor unit; a credit note.
		{"CN-1", "C-009", "Yen KK", "AV-1", nil, nil, "JPY", -5000, -5000, nil, nil},
		// Fully paid: dropped.
		{"INV-4", "C-009", "Yen KK", "FA-4", nil, nil, "EUR", 10, 0, nil, nil},
	}
}

func TestReadOpenItemsXLSXGolden(t *testing.T) {
	book := buildXLSX(t, goldenRows(), false)
	// A date cell stored as ISO 8601 text (type "d").
	book = patchCell(t, book, "F2", mustSerial(t, day(2026, 10, 31)), "d", "2026-10-31T00:00:00Z")
	items, err := ReadOpenItemsXLSX(bytes.NewReader(book), "open_items.xlsx", Config{Sheet: "Export"})
	if err != nil {
		t.Fatal(err)
	}
	checkGolden(t, items, "xlsx.golden.json")
	byID := map[string]domain.OpenItem{}
	for _, it := range items {
		byID[it.ID] = it
	}
	if it := byID["1001"]; it.Residual.String() != "1234.50" || it.CustomerID != "42" || it.DocumentNumber != "2026001" ||
		!it.DueDate.Equal(day(2026, 10, 31)) || !it.IssueDate.Equal(day(2026, 10, 1)) {
		t.Errorf("1001 = %+v", it)
	}
	if it := byID["00123"]; it.Residual.String() != "100.25" || len(it.IBANs) != 2 || it.Currency != "EUR" {
		t.Errorf("00123 = %+v", it)
	}
	if it := byID["INV-3"]; it.Amount.String() != "0.30" || it.Residual.String() != "0.30" {
		t.Errorf("INV-3 = %+v (15 significant digits, then two decimals)", it)
	}
	if it := byID["CN-1"]; it.Residual.String() != "-5000" {
		t.Errorf("CN-1 = %+v", it)
	}
	if _, ok := byID["INV-4"]; ok || len(items) != 4 {
		t.Errorf("got %d items, INV-4 (zero residual) must be dropped", len(items))
	}
}

func mustSerial(t *testing.T, d time.Time) string {
	t.Helper()
	// 1900 system: 25569 is 1970-01-01.
	return strconv.Itoa(int(d.Sub(day(1970, 1, 1)).Hours()/24) + 25569)
}

func checkGolden(t *testing.T, items []domain.OpenItem, name string) {
	t.Helper()
	got, err := json.MarshalIndent(items, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", name)
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

func TestReadOpenItemsXLSXTitleRows(t *testing.T) {
	rows := [][]any{{"Balance âgée au 23/11/2026"}, nil, {"Société X", "export"}, xlsxHeader,
		{"A", "C", "N", "D", nil, nil, "EUR", 1, "x", nil, nil}}
	_, err := ReadOpenItemsXLSX(bytes.NewReader(buildXLSX(t, rows, false)), "t.xlsx", Config{Sheet: "Export"})
	if want := `t.xlsx: sheet "Export" row 5: column "residual": parsing amount "x"`; err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("err = %v, want %q", err, want)
	}
	// Without the contract header, the problems are about the first row.
	_, err = ReadOpenItemsXLSX(bytes.NewReader(buildXLSX(t, rows[:3], false)), "t.xlsx", Config{Sheet: "Export"})
	var re *RowError
	if !errors.As(err, &re) || re.Line != 1 || re.Column != "id" || !errors.Is(err, ErrMissingColumn) {
		t.Fatalf("err = %v, want a missing column on row 1", err)
	}
}

func TestReadOpenItemsXLSXDate1904(t *testing.T) {
	rows := [][]any{xlsxHeader, {"A", "C", "N", "D", raw("0"), raw("1"), "EUR", 1, 1, nil, nil}}
	rows[1][4] = nil
	items, err := ReadOpenItemsXLSX(bytes.NewReader(buildXLSX(t, rows, true)), "b.xlsx", Config{Sheet: "Export"})
	if err != nil {
		t.Fatal(err)
	}
	if got := items[0].DueDate; !got.Equal(day(1904, 1, 2)) {
		t.Fatalf("serial 1 in the 1904 system = %v, want 1904-01-02", got)
	}
}

func TestReadOpenItemsXLSXFrench(t *testing.T) {
	rows := [][]any{
		{"N° facture", "Client", "Raison sociale", "N° pièce", "Date", "Échéance", "Devise", "Montant", "Solde"},
		{"F1", "C1", "Société Générale", "FA-1", "05/10/2026", "04/11/2026", "EUR", "1 234,56", 1234.56},
	}
	cfg := Config{Sheet: "Export", DecimalComma: true, DateFormat: "02/01/2006", Columns: Columns{
		ID: "N° facture", CustomerID: "client", CustomerName: "Raison sociale", DocumentNumber: "N° pièce",
		IssueDate: "Date", DueDate: "échéance", Currency: "Devise", Amount: "Montant", Residual: "Solde",
		PaymentReference: Absent, CustomerIBAN: Absent,
	}}
	items, err := ReadOpenItemsXLSX(bytes.NewReader(buildXLSX(t, rows, false)), "fr.xlsx", cfg)
	if err != nil {
		t.Fatal(err)
	}
	it := items[0]
	if it.Amount.String() != "1234.56" || it.Residual.String() != "1234.56" || !it.DueDate.Equal(day(2026, 11, 4)) || it.CustomerName != "Société Générale" {
		t.Fatalf("item = %+v", it)
	}
}

func TestReadOpenItemsXLSXErrors(t *testing.T) {
	good := func() []any { return []any{"A", "C", "N", "D", nil, nil, "EUR", 10, 10, nil, nil} }
	with := func(col int, v any) [][]any {
		row := good()
		row[col] = v
		return [][]any{xlsxHeader, good(), row}
	}
	tests := []struct {
		name        string
		book        func(t *testing.T) []byte
		cfg         Config
		errContains string
		is          error
		line        int
		column      string
	}{
		{"text amount with a comma", func(t *testing.T) []byte { return buildXLSX(t, with(8, "12,5"), false) }, Config{},
			`open_items.xlsx: sheet "Export" row 3: column "residual": parsing amount "12,5"`, domain.ErrBadAmount, 3, "residual"},
		{"boolean amount", func(t *testing.T) []byte { return buildXLSX(t, with(7, true), false) }, Config{},
			`row 3: column "amount": unusable cell`, ErrCell, 3, "amount"},
		{"error cell", func(t *testing.T) []byte {
			return patchCell(t, buildXLSX(t, with(8, 777), false), "I3", "777", "e", "#N/A")
		}, Config{}, `row 3: column "residual": unusable cell: the cell holds the error #N/A`, ErrCell, 3, "residual"},
		{"text date in the wrong format", func(t *testing.T) []byte { return buildXLSX(t, with(4, "31.10.2026"), false) }, Config{},
			`row 3: column "issue_date": parsing date "31.10.2026": not a valid date (want YYYY-MM-DD)`, ErrBadDate, 3, "issue_date"},
		{"serial out of range", func(t *testing.T) []byte { return buildXLSX(t, with(5, raw("3000000")), false) }, Config{},
			`column "due_date": parsing date serial "3000000"`, ErrBadDate, 3, "due_date"},
		{"missing id", func(t *testing.T) []byte { return buildXLSX(t, with(0, "  "), false) }, Config{},
			`row 3: column "id": value required`, ErrRequired, 3, "id"},
		{"duplicate numeric id", func(t *testing.T) []byte {
			return buildXLSX(t, [][]any{xlsxHeader, {7, "C", "N", "D", nil, nil, "EUR", 1, 1}, {"7", "C", "N", "D", nil, nil, "EUR", 1, 1}}, false)
		}, Config{}, `row 3: column "id": duplicate id "7" (first on row 2)`, ErrDuplicateID, 3, "id"},
		{"missing column with mapping", func(t *testing.T) []byte { return buildXLSX(t, [][]any{xlsxHeader, good()}, false) }, Config{Columns: Columns{Residual: "Solde"}},
			`open_items.xlsx: sheet "Export" row 1: column "residual" (header "Solde"): missing column`, ErrMissingColumn, 1, "residual"},
		{"empty sheet", func(t *testing.T) []byte { return buildXLSX(t, nil, false) }, Config{},
			`open_items.xlsx: sheet "Export" row 1: no header row`, ErrNoHeader, 1, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.Sheet = "Export"
			items, err := ReadOpenItemsXLSX(bytes.NewReader(tt.book(t)), "open_items.xlsx", tt.cfg)
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
			if !errors.As(err, &re) || re.Line != tt.line || re.Column != tt.column || re.Sheet != "Export" {
				t.Fatalf("RowError = %+v, want sheet Export line %d column %q", re, tt.line, tt.column)
			}
		})
	}
}

func TestReadOpenItemsXLSXWorkbookErrors(t *testing.T) {
	book := buildXLSX(t, [][]any{xlsxHeader}, false)
	tests := []struct {
		name        string
		data        []byte
		sheet       string
		errContains string
		is          error
	}{
		{"not a workbook", []byte("id,customer_id\n"), "", "reading x.xlsx: not a readable XLSX workbook", ErrWorkbook},
		{"unknown sheet", book, "Exprot", `reading x.xlsx: no such sheet "Exprot" (the workbook has "Notes", "Export")`, ErrNoSheet},
		{"first sheet by default", book, "", `sheet "Notes" row 1: column "id": missing column`, ErrMissingColumn},
		{"first visible sheet by default", hideNotes(t, book), "", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadOpenItemsXLSX(bytes.NewReader(tt.data), "x.xlsx", Config{Sheet: tt.sheet})
			if tt.is == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.errContains) || !errors.Is(err, tt.is) {
				t.Fatalf("err = %v, want %q wrapping %v", err, tt.errContains, tt.is)
			}
		})
	}
}

func TestExcelAmount(t *testing.T) {
	tests := []struct {
		raw    string
		digits int32
		want   string
		bad    bool
	}{
		{"1234.5", 2, "1234.50", false},
		{"1234.567", 2, "1234.567", false},
		{"100", 0, "100", false},
		{"0.30000000000000004", 2, "0.30", false},
		{"1.0000000000000002", 3, "1.000", false},
		{"-5000", 2, "-5000.00", false},
		{"1E-3", 3, "0.001", false},
		{"1.5E+3", 2, "1500.00", false},
		{"123456789012345678", 2, "123456789012346000.00", false},
		{"0", 2, "0.00", false},
		{"1E+30", 2, "", true},
		{"1E999999", 2, "", true},
		{"abc", 2, "", true},
		{"1,5", 2, "", true},
		{"", 2, "", true},
	}
	for _, tt := range tests {
		got, err := excelAmount(tt.raw, tt.digits)
		if tt.bad {
			if !errors.Is(err, domain.ErrBadAmount) {
				t.Errorf("excelAmount(%q) = %v, %v; want ErrBadAmount", tt.raw, got, err)
			}
			continue
		}
		if err != nil || got.String() != tt.want {
			t.Errorf("excelAmount(%q, %d) = %q, %v; want %q", tt.raw, tt.digits, got, err, tt.want)
		}
	}
	for raw, want := range map[string]string{"1001": "1001", "1.001E+3": "1001", "00123": "123", "12.50": "12.5", "x": "x"} {
		if got := excelText(raw); got != want {
			t.Errorf("excelText(%q) = %q, want %q", raw, got, want)
		}
	}
}

func FuzzExcelAmount(f *testing.F) {
	for _, s := range []string{"1234.5", "0.30000000000000004", "1E-3", "-1.5E+3", "9999999999999999", "1e400", ".5", "-0"} {
		f.Add(s, int32(2))
	}
	f.Fuzz(func(t *testing.T, raw string, digits int32) {
		digits = digits & 3
		a, err := excelAmount(raw, digits)
		if err != nil {
			if !errors.Is(err, domain.ErrBadAmount) {
				t.Fatalf("error not wrapping ErrBadAmount: %v", err)
			}
			return
		}
		if a.Scale() < digits {
			t.Fatalf("%q: scale %d below %d", raw, a.Scale(), digits)
		}
		back, err := domain.ParseAmount(a.String())
		if err != nil || !back.Equal(a) {
			t.Fatalf("%q: %s does not round-trip: %v", raw, a, err)
		}
		// At most 15 significant digits survive.
		sig := strings.TrimLeft(strings.NewReplacer("-", "", ".", "").Replace(a.Key()), "0")
		if len(strings.TrimRight(sig, "0")) > excelSignificant {
			t.Fatalf("%q: %s keeps more than 15 significant digits", raw, a)
		}
	})
}

func BenchmarkReadOpenItemsXLSX(b *testing.B) {
	rows := [][]any{xlsxHeader}
	for i := 0; i < 10000; i++ {
		rows = append(rows, []any{"INV-" + strconv.Itoa(i), "C1", "Alpha, Inc", "D-1", day(2026, 10, 1), day(2026, 10, 31),
			"EUR", 100.5, 100.5, "RF18539007547034", "DE89 3704 0044 0532 0130 00"})
	}
	book := buildXLSX(b, rows, false)
	b.SetBytes(int64(len(book)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := ReadOpenItemsXLSX(bytes.NewReader(book), "bench.xlsx", Config{Sheet: "Export"}); err != nil {
			b.Fatal(err)
		}
	}
}

// hideNotes hides the workbook's first sheet.
func hideNotes(t *testing.T, book []byte) []byte {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(book))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.SetActiveSheet(1)
	if err := f.SetSheetVisible("Notes", false); err != nil {
		t.Fatal(err)
	}
	buf, err := f.WriteToBuffer()
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
