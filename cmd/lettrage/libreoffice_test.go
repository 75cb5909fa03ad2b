package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/lettrage/lettrage/internal/testenv"
)

// TestWorkbookRoundTripThroughLibreOffice: the exceptions workbook written
// by lettrage, edited, then saved again by real spreadsheet software
// (LibreOffice, headless) is read back right — text IBANs and references,
// exact amounts, dates — and its resolutions apply.
func TestWorkbookRoundTripThroughLibreOffice(t *testing.T) {
	soffice, err := testenv.LookPath("soffice", "/usr/bin/soffice", "/usr/lib/libreoffice/program/soffice")
	if err != nil {
		testenv.Missing(t, "LibreOffice (soffice)", err)
	}
	cfg := example(t, nil)
	dir := filepath.Dir(cfg)
	out := filepath.Join(dir, "out")
	if r := runBin(t, nil, "once", "-c", cfg); r.code != 0 {
		t.Fatalf("once exit %d: %s", r.code, r.stderr)
	}
	f, err := excelize.OpenFile(filepath.Join(out, "exceptions.xlsx"))
	if err != nil {
		t.Fatal(err)
	}
	setAction(t, f, "SGFR2611170004A", map[string]string{"action": "accept", "comment": "vérifié: même client, société mère"})
	setAction(t, f, "SGFR2611160006A", map[string]string{"action": "on_account", "items": "OI-1001:100,50", "customer": "C003"})
	edited := filepath.Join(dir, "edited.xlsx")
	if err := f.SaveAs(edited); err != nil {
		t.Fatal(err)
	}
	f.Close()

	// LibreOffice opens it and saves it again as .xlsx.
	resaved := filepath.Join(dir, "libreoffice")
	cmd := exec.Command(soffice, "--headless", "--norestore", "--nolockcheck", "--convert-to", "xlsx", "--outdir", resaved, edited)
	cmd.Env = append(os.Environ(), "HOME="+filepath.Join(dir, "lohome"))
	done := make(chan []byte, 1)
	go func() { b, _ := cmd.CombinedOutput(); done <- b }()
	select {
	case b := <-done:
		if _, err := os.Stat(filepath.Join(resaved, "edited.xlsx")); err != nil {
			t.Fatalf("LibreOffice did not write the workbook: %v\n%s", err, b)
		}
	case <-time.After(3 * time.Minute):
		_ = cmd.Process.Kill() // LibreOffice may have finished meanwhile; the test fails either way
		t.Fatal("LibreOffice did not finish in 3 minutes")
	}
	wb := filepath.Join(resaved, "edited.xlsx")

	// What survived the round trip.
	g, err := excelize.OpenFile(wb)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := g.GetRows("Exceptions")
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	var row []string
	var rowNum int
	for i, r := range rows[1:] {
		if len(r) > 0 && r[0] == "SGFR2611160006A" {
			row, rowNum = r, i+2
		}
	}
	if row == nil {
		t.Fatalf("row lost: %q", rows)
	}
	if got := row[col["counterparty_iban"]]; got != "FR7610096180000007412589665" {
		t.Errorf("IBAN after LibreOffice = %q", got)
	}
	if got := row[col["booking_date"]]; got != "2026-11-16" {
		t.Errorf("booking date after LibreOffice = %q", got)
	}
	amountCell, _ := excelize.CoordinatesToCellName(col["amount"]+1, rowNum)
	if raw, _ := g.GetCellValue("Exceptions", amountCell, excelize.Options{RawCellValue: true}); raw != "3333.33" {
		t.Errorf("amount after LibreOffice = %q, want the number 3333.33", raw)
	}
	if typ, _ := g.GetCellType("Exceptions", amountCell); typ == excelize.CellTypeSharedString || typ == excelize.CellTypeInlineString {
		t.Errorf("amount became text")
	}
	g.Close()

	r := runBin(t, nil, "resolve", "-c", cfg, "--by", "Claire", wb)
	if r.code != 0 || !strings.Contains(r.stdout, "2 applied") {
		t.Fatalf("resolve of the LibreOffice file: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	m := autoRows(t, filepath.Join(out, "matches.csv"))
	// The on_account row letters OI-1001 and puts the rest on account.
	if !contains(m, "SGFR2611160006A,OI-1001,100.5") || !contains(m, "SGFR2611160006A,,3232.83") ||
		!contains(m, "SGFR2611170004A,OI-1037,3180") {
		t.Errorf("resolutions not applied: %q", m)
	}
}
