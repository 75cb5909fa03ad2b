package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

// TestSetAsideReport: what a pass reads but does not letter nor report as
// an exception — the example's debits, then a payment an accountant
// ignores — is counted with its cash in the summary and listed, with why
// and who, in the workbook's set-aside sheet.
func TestSetAsideReport(t *testing.T) {
	cfg := example(t, nil)
	dir := filepath.Dir(cfg)
	out := filepath.Join(dir, "out")
	r := runBin(t, nil, "once", "-c", cfg)
	if r.code != 0 || !strings.Contains(r.stdout, "set aside     2 debits (1253.06 EUR)") {
		t.Fatalf("once exit %d, summary:\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	sheet := func() string {
		t.Helper()
		f, err := excelize.OpenFile(filepath.Join(out, "exceptions.xlsx"))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		rows, err := f.GetRows("Set aside")
		if err != nil {
			t.Fatalf("no set-aside sheet: %v (sheets %q)", err, f.GetSheetList())
		}
		return flatten(rows)
	}
	if s := sheet(); strings.Count(s, "|debit|") != 2 || !strings.Contains(s, "reason|transactions|amount|currency\ndebit|2|1,253.06|EUR") {
		t.Errorf("set-aside sheet after the pass:\n%s", s)
	}
	f, err := excelize.OpenFile(filepath.Join(out, "exceptions.xlsx"))
	if err != nil {
		t.Fatal(err)
	}
	setAction(t, f, "SGFR2611160006A", map[string]string{"action": "ignore", "comment": "deposit_refund"})
	wb := filepath.Join(dir, "claire.xlsx")
	if err := f.SaveAs(wb); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if r := runBin(t, nil, "resolve", "-c", cfg, "--by", "Claire Martin", wb); r.code != 0 {
		t.Fatalf("resolve exit %d\n%s", r.code, r.stderr)
	}
	s := sheet()
	if !strings.Contains(s, "SGFR2611160006A|") || !strings.Contains(s, "|ignored_by_accountant|deposit_refund|ignore by Claire Martin from claire.xlsx row") ||
		!strings.Contains(s, "ignored_by_accountant|1|3,333.33|EUR") {
		t.Errorf("the accountant's ignore is not in the set-aside sheet:\n%s", s)
	}
}
