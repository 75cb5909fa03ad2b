package report

import (
	"bytes"
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/lettrage/lettrage/domain"
	"github.com/lettrage/lettrage/pipeline/decide"
)

func TestExceptionsWorkbook(t *testing.T) {
	dir := t.TempDir()
	unm := testTx("REF-001", "3333.33")
	unm.Counterparty = domain.Party{Name: "SCI Les Tilleuls", IBAN: "FR7610096180000007412589665"}
	unm.Unstructured = []string{"REMBOURSEMENT DEPOT"}
	over := testTx("0042", "150.125") // a reference with leading zeros, 3 decimals
	over.Account = "DE89370400440532013000"
	exc := []decide.StoredTx{
		{Tx: unm, Decision: domain.Decision{Outcome: domain.Unmatched, Reason: "no_candidate", Explanation: "nothing"}},
		{Tx: over, Decision: domain.Decision{Outcome: domain.Auto, Excess: domain.MustAmount("30.125"),
			Candidates: []domain.Candidate{{ItemID: "OI-1", Score: 0.82}}}},
	}
	name := func(a string) string {
		if a == unm.Account {
			return "sg-main"
		}
		return accountSuffix(a)
	}
	if err := writeExceptionsXLSX(dir, exc, name, &view{loc: localeEN}); err != nil {
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

// TestFrenchCSV: exceptions-fr.csv is a full French resolution sheet —
// French titles, ';', ',' decimals, DD/MM/YYYY, candidates as document
// numbers with customer, residual, due date and score — that the
// resolutions reader takes back with French action labels.
func TestFrenchCSV(t *testing.T) {
	dir := t.TempDir()
	tx := testTx("R1", "1234.50")
	tx.Counterparty.Name = "Société Générale d'Équipement; SAS"
	items := map[string]domain.OpenItem{"OI-1037": {ID: "OI-1037", DocumentNumber: "FA-2026-00137", CustomerID: "C003",
		CustomerName: "Cie Générale", Currency: "EUR", Residual: domain.MustAmount("1560.00"),
		DueDate: time.Date(2026, 10, 21, 0, 0, 0, 0, time.UTC)}}
	st := decide.StoredTx{Tx: tx, Decision: domain.Decision{Outcome: domain.Suggested, Reason: "unknown_payer",
		Explanation: "amount fits", Candidates: []domain.Candidate{{ItemID: "OI-1037", Score: 0.82}, {ItemID: "OI-9", Score: 0.3}}}}
	if err := writeExceptionsFrenchCSV(dir, []decide.StoredTx{st}, items); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "exceptions-fr.csv")
	b, _ := os.ReadFile(path)
	s := string(b)
	for _, want := range []string{
		"\ufeffRéf. opération;Date comptable;Montant;Reste à affecter;Devise;Payeur;",
		";Action;Pièces;Client;Commentaire;Motif;Statut;Explication;",
		";02/11/2026;1234,50;1234,50;EUR;",
		`"Société Générale d'Équipement; SAS"`,
		"FA-2026-00137 (OI-1037) · C003 Cie Générale · reste 1560,00 EUR · échéance 21/10/2026 · score 0,82\nOI-9 · score 0,30",
		";payeur inconnu;proposé;",
		"Le payeur est inconnu",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("exceptions-fr.csv lacks %q:\n%s", want, s)
		}
	}
	// The accountant fills in the French columns with French labels.
	rows := readCSV(t, b, ';')
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	rows[1][col["Action"]] = "Sur compte"
	rows[1][col["Pièces"]] = "FA-2026-00137:100,00"
	rows[1][col["Client"]] = "C003"
	var buf bytes.Buffer
	buf.WriteString("\ufeff")
	w := csv.NewWriter(&buf)
	w.Comma = ';'
	if err := w.WriteAll(rows); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	wb, err := ReadResolutions(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(wb.Rows) != 1 || wb.Rows[0].Action != "on_account" || wb.Rows[0].Items != "FA-2026-00137:100,00" ||
		wb.Rows[0].Customer != "C003" || wb.Rows[0].TxRef != "R1" || wb.Rows[0].Account != tx.Account {
		t.Errorf("read back %+v", wb.Rows)
	}
}

func TestCanonicalAction(t *testing.T) {
	for in, want := range map[string]string{
		"lettrer": "letter", "Lettrer": "letter", "sur compte": "on_account", "SUR_COMPTE": "on_account",
		"passer en perte": "write_off", "perte": "write_off", "délettrer": "unletter", "delettrer": "unletter",
		"accepter": "accept", "ignorer": "ignore", "accept": "accept", "on_account": "on_account",
		"write-off": "write_off", "fais-le": "fais-le", "": "",
	} {
		if got := canonicalAction(in); got != want {
			t.Errorf("canonicalAction(%q) = %q, want %q", in, got, want)
		}
	}
}
