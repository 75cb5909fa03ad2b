package pipeline

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/lettrage/lettrage/matcher"
)

func TestExceptionsWorkbook(t *testing.T) {
	dir := t.TempDir()
	unm := testTx("REF-001", "3333.33")
	unm.Counterparty = matcher.Party{Name: "SCI Les Tilleuls", IBAN: "FR7610096180000007412589665"}
	unm.Unstructured = []string{"REMBOURSEMENT DEPOT"}
	over := testTx("0042", "150.125") // a reference with leading zeros, 3 decimals
	over.Account = "DE89370400440532013000"
	exc := []StoredTx{
		{Tx: unm, Decision: matcher.Decision{Outcome: matcher.Unmatched, Reason: "no_candidate", Explanation: "nothing"}},
		{Tx: over, Decision: matcher.Decision{Outcome: matcher.Auto, Excess: matcher.MustAmount("30.125"),
			Candidates: []matcher.Candidate{{ItemID: "OI-1", Score: 0.82}}}},
	}
	name := func(a string) string {
		if a == unm.Account {
			return "sg-main"
		}
		return accountSuffix(a)
	}
	if err := writeExceptionsXLSX(dir, exc, name); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenFile(filepath.Join(dir, "exceptions.xlsx"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := f.GetRows(SheetExceptions)
	if err != nil || len(rows) != 3 {
		t.Fatalf("rows = %d, %v", len(rows), err)
	}
	col := func(title string) int {
		for i, h := range rows[0] {
			if h == title {
				return i + 1
			}
		}
		t.Fatalf("no column %s", title)
		return 0
	}
	cell := func(title string, row int) string {
		c, _ := excelize.CoordinatesToCellName(col(title), row)
		return c
	}
	// Amounts are numbers holding the exact decimal.
	for _, tc := range []struct {
		title, want string
		row         int
	}{
		{"amount", "3333.33", 2}, {"amount", "150.125", 3}, {"unallocated_amount", "30.125", 3},
	} {
		typ, _ := f.GetCellType(SheetExceptions, cell(tc.title, tc.row))
		raw, _ := f.GetCellValue(SheetExceptions, cell(tc.title, tc.row), excelize.Options{RawCellValue: true})
		if typ != excelize.CellTypeUnset && typ != excelize.CellTypeNumber || raw != tc.want {
			t.Errorf("%s row %d: type %v raw %q, want a number %s", tc.title, tc.row, typ, raw, tc.want)
		}
	}
	// References and IBANs are text (leading zeros survive).
	for _, c := range []string{cell("tx_ref", 3), cell("counterparty_iban", 2)} {
		typ, _ := f.GetCellType(SheetExceptions, c)
		if typ != excelize.CellTypeSharedString && typ != excelize.CellTypeInlineString {
			t.Errorf("%s is not text: %v", c, typ)
		}
	}
	if v, _ := f.GetCellValue(SheetExceptions, cell("tx_ref", 3)); v != "0042" {
		t.Errorf("tx_ref = %q, want 0042", v)
	}
	// Dates are dates (a serial number shown as yyyy-mm-dd).
	if v, _ := f.GetCellValue(SheetExceptions, cell("booking_date", 2)); v != "2026-11-02" {
		t.Errorf("booking_date shows %q", v)
	}
	if raw, _ := f.GetCellValue(SheetExceptions, cell("booking_date", 2), excelize.Options{RawCellValue: true}); strings.Contains(raw, "-") {
		t.Errorf("booking_date stored as text %q", raw)
	}
	panes, err := f.GetPanes(SheetExceptions)
	if err != nil || !panes.Freeze || panes.YSplit != 1 {
		t.Errorf("header not frozen: %+v %v", panes, err)
	}
	sum, _ := f.GetRows(SheetSummary)
	if len(sum) != 3 || sum[1][0] != "…3000" || sum[2][0] != "sg-main" {
		t.Errorf("summary = %q", sum)
	}
	if raw, _ := f.GetCellValue(SheetSummary, "E3", excelize.Options{RawCellValue: true}); raw != "3333.33" {
		t.Errorf("summary unmatched cash = %q", raw)
	}
	if st, _ := os.Stat(filepath.Join(dir, "exceptions.xlsx")); st.Mode().Perm()&0o004 != 0 {
		t.Errorf("workbook is world-readable: %v", st.Mode())
	}
}

func TestFrenchCSV(t *testing.T) {
	dir := t.TempDir()
	tx := testTx("R1", "1234.50")
	tx.Counterparty.Name = "Société Générale d'Équipement; SAS"
	if err := writeExceptionsFrenchCSV(dir, []StoredTx{{Tx: tx, Decision: matcher.Decision{Outcome: matcher.Unmatched}}}); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "exceptions-fr.csv"))
	s := string(b)
	if !strings.HasPrefix(s, "\ufefftx_ref;account_iban;") {
		t.Errorf("no BOM or not ';' separated: %q", s[:40])
	}
	if !strings.Contains(s, ";1234,50;") || !strings.Contains(s, `"Société Générale d'Équipement; SAS"`) {
		t.Errorf("amount or quoting wrong: %q", s)
	}
}
