package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

// TestHistory: `lettrage history TX_REF` prints a payment's decisions from
// the state store — suggested by the matcher, accepted by an accountant
// from a workbook, written to the ledger, unlettered, with the config hash
// — and the filters select payments by booking date and customer.
func TestHistory(t *testing.T) {
	cfg := example(t, nil)
	dir := filepath.Dir(cfg)
	if r := runBin(t, nil, "history", "-c", cfg, "SGFR2611170004A"); r.code != 2 || !strings.Contains(r.stderr, "no pass has run yet") {
		t.Errorf("history before any pass: exit %d\n%s", r.code, r.stderr)
	}
	if r := runBin(t, nil, "once", "-c", cfg); r.code != 0 {
		t.Fatalf("once exit %d: %s", r.code, r.stderr)
	}
	f, err := excelize.OpenFile(filepath.Join(dir, "out", "exceptions.xlsx"))
	if err != nil {
		t.Fatal(err)
	}
	setAction(t, f, "SGFR2611170004A", map[string]string{"action": "accept"})
	wb := filepath.Join(dir, "claire.xlsx")
	if err := f.SaveAs(wb); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if r := runBin(t, nil, "resolve", "-c", cfg, "--by", "Claire Martin", wb); r.code != 0 {
		t.Fatalf("resolve exit %d\n%s", r.code, r.stderr)
	}
	if r := runBin(t, nil, "unletter", "-c", cfg, "--by", "Marc", "--reason", "wrong customer", "SGFR2611170004A"); r.code != 0 {
		t.Fatalf("unletter exit %d\n%s", r.code, r.stderr)
	}
	r := runBin(t, nil, "history", "-c", cfg, "SGFR2611170004A")
	if r.code != 0 {
		t.Fatalf("history exit %d\n%s", r.code, r.stderr)
	}
	for _, want := range []string{
		"SGFR2611170004A on account FR76…4509: 3180.00 EUR booked 2026-11-17",
		"now open (unlettered)",
		"first read from 2026-11-17_camt053_v08.xml",
		"suggested (unknown_payer), rule none",
		"auto, manual:accept by Claire Martin from " + wb,
		"OI-1037 FA-2026-00137 (C020) 3180",
		"written to the ledger",
		"unletter, unletter by Marc from lettrage unletter",
		"undoes man-",
		"wrong customer",
		", config ",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("history lacks %q:\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "FR7630003012340005001234509") {
		t.Error("history prints an IBAN in full")
	}
	// Filters: by customer (lettered to C020 at some point) and by date.
	r = runBin(t, nil, "history", "-c", cfg, "--customer", "C020")
	if r.code != 0 || !strings.Contains(r.stdout, "SGFR2611170004A on account") || strings.Contains(r.stdout, "SGFR2611160001A") {
		t.Errorf("history --customer C020: exit %d\n%s", r.code, r.stdout)
	}
	r = runBin(t, nil, "history", "-c", cfg, "--from", "2026-11-17", "--to", "2026-11-17")
	if r.code != 0 || strings.Contains(r.stdout, "booked 2026-11-16") || !strings.Contains(r.stdout, "booked 2026-11-17") {
		t.Errorf("history --from/--to: exit %d\n%s", r.code, r.stdout)
	}
	// A reference that does not exist is an input to fix: exit 2, as for
	// unletter (README, exit codes).
	if r := runBin(t, nil, "history", "-c", cfg, "NOPE"); r.code != 2 || !strings.Contains(r.stderr, "no transaction NOPE") {
		t.Errorf("unknown ref: exit %d %s", r.code, r.stderr)
	}
	_ = os.Remove(wb)
}
