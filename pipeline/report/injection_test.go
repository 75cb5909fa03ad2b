package report

import (
	"bytes"
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/lettrage/lettrage/domain"
	"github.com/lettrage/lettrage/pipeline/decide"
)

// formulaPayloads are what a payer may write in a name or a remittance to
// have a spreadsheet run it (issue 16, OWASP CSV injection).
var formulaPayloads = []string{
	`=HYPERLINK("http://x","click")`,
	`+1+cmd|' /C calc'!A0`,
	`-2+3+cmd|' /C calc'!A0`,
	`@SUM(1+9)*cmd|' /C calc'!A0`,
	"\t=1+1",
	"\r=1+1",
}

// startsFormula reports a cell a spreadsheet would evaluate.
func startsFormula(v string) bool {
	t := strings.TrimLeft(v, " ")
	return t != "" && strings.ContainsRune("=+-@\t\r", rune(t[0]))
}

func readCSV(t *testing.T, data []byte, comma rune) [][]string {
	t.Helper()
	r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(data, []byte("\ufeff"))))
	r.Comma = comma
	r.FieldsPerRecord = -1
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// TestReportsNeutraliseFormulas: exceptions.csv and exceptions-fr.csv write
// every text cell with the escape — names, remittance, explanations,
// references — and leave amounts as numbers (a credit note's -240.00
// cash stays -240.00); the resolutions reader reverses the escape, so a
// row read back names the transaction as it is.
func TestReportsNeutraliseFormulas(t *testing.T) {
	var exc []decide.StoredTx
	for i, p := range formulaPayloads {
		tx := testTx(p, "-240.00")
		tx.Ref = []string{"=1+1", "R2", "R3", "R4", "R5", "R6"}[i]
		tx.Counterparty.Name = p
		tx.Unstructured = []string{p}
		exc = append(exc, decide.StoredTx{Tx: tx, Decision: domain.Decision{Outcome: domain.Unmatched, Reason: "no_candidate",
			Explanation: p}})
	}
	exc[1].Tx.Counterparty.Name = "evil\u202Etxt.exe"
	dir := t.TempDir()
	data, err := ExceptionsCSV(exc)
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteFiles(dir, Options{FrenchCSV: true}, exc, data, nil, accountSuffix, nil); err != nil {
		t.Fatal(err)
	}
	for _, f := range []struct {
		name  string
		comma rune
	}{{"exceptions.csv", ','}, {"exceptions-fr.csv", ';'}} {
		raw, err := os.ReadFile(filepath.Join(dir, f.name))
		if err != nil {
			t.Fatal(err)
		}
		if bytes.ContainsRune(raw, '\u202E') {
			t.Errorf("%s: a bidi control is written raw", f.name)
		}
		rows := readCSV(t, raw, f.comma)
		if len(rows) != len(exc)+1 {
			t.Fatalf("%s: %d rows", f.name, len(rows))
		}
		amounts := 0
		for _, r := range rows[1:] {
			for i, v := range r {
				if v == "-240.00" || v == "-240,00" {
					amounts++
					continue
				}
				if startsFormula(v) {
					t.Errorf("%s: column %d holds a live formula %q", f.name, i, v)
				}
			}
		}
		if amounts < len(exc) {
			t.Errorf("%s: the negative amounts were escaped (%d found as numbers)", f.name, amounts)
		}
		if !bytes.Contains(raw, []byte("evil<U+202E>txt.exe")) {
			t.Errorf("%s: the bidi control is not shown", f.name)
		}
	}

	// An accountant adds the resolution columns to exceptions.csv; the
	// reader undoes the escape.
	rows := readCSV(t, data, ',')
	rows[0] = append(rows[0], "action", "items", "comment")
	rows[1] = append(rows[1], "ignore", "", "'=not a formula")
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	_ = w.WriteAll(rows)
	path := filepath.Join(dir, "edited.csv")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	wb, err := ReadResolutions(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(wb.Rows) != 1 || wb.Rows[0].TxRef != "=1+1" || wb.Rows[0].Comment != "=not a formula" {
		t.Fatalf("read back %+v", wb.Rows)
	}
}

// TestResultFileNeutralisesFormulas: the result file of resolve quotes
// back what the accountant typed; it is escaped too.
func TestResultFileNeutralisesFormulas(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.result.csv")
	err := WriteResolveResults(path, []RowResult{{Row: 2, TxRef: "=1+1", Action: "@x", Status: "refused",
		Message: `-unknown action "=HYPERLINK(""x"")"`}})
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(path)
	rows := readCSV(t, raw, ',')
	for _, v := range rows[1] {
		if startsFormula(v) {
			t.Errorf("result cell %q is a live formula", v)
		}
	}
	if rows[1][0] != "2" {
		t.Errorf("row number = %q", rows[1][0])
	}
}

// TestWorkbookShowsBidi: the workbook's cells are shared strings (never
// formulas) and show bidi controls; the resolutions reader reads the
// tx_ref back as the bank wrote it.
func TestWorkbookShowsBidi(t *testing.T) {
	dir := t.TempDir()
	tx := testTx("R\u202E1", "10.00")
	tx.Counterparty.Name = formulaPayloads[0]
	if err := writeExceptionsXLSX(dir, []decide.StoredTx{{Tx: tx, Decision: domain.Decision{Outcome: domain.Unmatched}}}, accountSuffix, &view{loc: localeEN}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "exceptions.xlsx")
	f, err := excelize.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	rows, _ := f.GetRows(SheetExceptions)
	if rows[1][0] != "R<U+202E>1" {
		t.Errorf("tx_ref shown as %q", rows[1][0])
	}
	for c := 1; c <= len(rows[0]); c++ {
		cell, _ := excelize.CoordinatesToCellName(c, 2)
		if fm, _ := f.GetCellFormula(SheetExceptions, cell); fm != "" {
			t.Errorf("%s holds a formula %q", cell, fm)
		}
	}
	_ = f.SetCellStr(SheetExceptions, "I2", "ignore")
	_ = f.SetCellStr(SheetExceptions, "L2", "test")
	if err := f.Save(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	wb, err := ReadResolutions(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(wb.Rows) != 1 || wb.Rows[0].TxRef != "R\u202E1" {
		t.Fatalf("read back %+v", wb.Rows)
	}
}
