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

// resaveWithLibreOffice opens a workbook in LibreOffice (headless) and
// saves it again as .xlsx, returning the new file.
func resaveWithLibreOffice(t *testing.T, soffice, dir, path string) string {
	t.Helper()
	outDir := filepath.Join(dir, "libreoffice")
	cmd := exec.Command(soffice, "--headless", "--norestore", "--nolockcheck", "--convert-to", "xlsx", "--outdir", outDir, path)
	cmd.Env = append(os.Environ(), "HOME="+filepath.Join(dir, "lohome"))
	done := make(chan []byte, 1)
	go func() { b, _ := cmd.CombinedOutput(); done <- b }()
	out := filepath.Join(outDir, filepath.Base(path))
	select {
	case b := <-done:
		if _, err := os.Stat(out); err != nil {
			t.Fatalf("LibreOffice did not write the workbook: %v\n%s", err, b)
		}
	case <-time.After(3 * time.Minute):
		_ = cmd.Process.Kill() // LibreOffice may have finished meanwhile; the test fails either way
		t.Fatal("LibreOffice did not finish in 3 minutes")
	}
	return out
}

// setFrench fills the French resolution cells of the row of txRef.
func setFrench(t *testing.T, f *excelize.File, txRef string, values map[string]string) {
	t.Helper()
	rows, err := f.GetRows("Exceptions")
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i + 1
	}
	for r, row := range rows[1:] {
		if len(row) > 0 && row[0] == txRef {
			for k, v := range values {
				if col[k] == 0 {
					t.Fatalf("no column %q in %q", k, rows[0])
				}
				cell, _ := excelize.CoordinatesToCellName(col[k], r+2)
				if err := f.SetCellStr("Exceptions", cell, v); err != nil {
					t.Fatal(err)
				}
			}
			return
		}
	}
	t.Fatalf("no row for %s in the workbook", txRef)
}

// TestFrenchWorkbookRoundTripThroughLibreOffice is issue 16's done-when:
// the French workbook (locale fr) — French titles, a Légende sheet,
// candidates as document numbers — edited with French action labels and
// document numbers, saved again by LibreOffice, resolves its rows; a payer
// name and remittance that are formula payloads stay text all the way and
// are escaped in the CSVs.
func TestFrenchWorkbookRoundTripThroughLibreOffice(t *testing.T) {
	soffice, err := testenv.LookPath("soffice", "/usr/bin/soffice", "/usr/lib/libreoffice/program/soffice")
	if err != nil {
		testenv.Missing(t, "LibreOffice (soffice)", err)
	}
	cfg := example(t, func(c string) string {
		return strings.Replace(c, "    reports:\n      dir: out\n", "    reports:\n      dir: out\n      locale: fr\n      french_csv: true\n", 1)
	})
	dir := filepath.Dir(cfg)
	out := filepath.Join(dir, "out")
	payload := `=HYPERLINK("http://x","click")`
	if err := os.WriteFile(filepath.Join(dir, "statements", "2026-11-20.xml"), []byte(oneCredit("STMT-X", "SGFR2611209902A",
		payload, "FR7610096180000007412589665", "12.34", "@SUM(1+9)*cmd")), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := runBin(t, nil, "once", "-c", cfg); r.code != 0 {
		t.Fatalf("once exit %d: %s\n%s", r.code, r.stdout, r.stderr)
	}

	// The CSVs escape the payloads; the amounts stay numbers.
	for _, name := range []string{"exceptions.csv", "exceptions-fr.csv"} {
		b, _ := os.ReadFile(filepath.Join(out, name))
		if !strings.Contains(string(b), `'=HYPERLINK(""http://x"",""click"")`) || !strings.Contains(string(b), "'@SUM(1+9)*cmd") {
			t.Errorf("%s does not escape the payloads:\n%s", name, b)
		}
	}

	f, err := excelize.OpenFile(filepath.Join(out, "exceptions.xlsx"))
	if err != nil {
		t.Fatal(err)
	}
	rows, _ := f.GetRows("Exceptions")
	if rows[0][0] != "Réf. opération" || !strings.Contains(strings.Join(rows[0], "|"), "|Action|Pièces|Client|Commentaire|Motif|") {
		t.Errorf("French titles: %q", rows[0])
	}
	var cands string
	for _, r := range rows[1:] {
		if r[0] == "SGFR2611170004A" {
			cands = r[7]
		}
	}
	if !strings.Contains(cands, "FA-2026-00137 (OI-1037) · C020 Kaffeerösterei Schäfer GmbH · reste 3180,00 EUR · échéance 22/11/2026 · score ") {
		t.Errorf("candidates shown as %q", cands)
	}
	guide, err := f.GetRows("Légende")
	if err != nil || !strings.Contains(flatten(guide), "payeur inconnu") || !strings.Contains(flatten(guide), "sur compte") {
		t.Errorf("Légende sheet: %v %q", err, guide)
	}
	setFrench(t, f, "SGFR2611170004A", map[string]string{"Action": "Lettrer", "Pièces": "FA-2026-00137"})
	setFrench(t, f, "SGFR2611160006A", map[string]string{"Action": "sur compte", "Pièces": "FA-2026-00101:100,50", "Client": "C003"})
	setFrench(t, f, "SGFR2611209902A", map[string]string{"Action": "ignorer", "Commentaire": "=refund"})
	edited := filepath.Join(dir, "edited.xlsx")
	if err := f.SaveAs(edited); err != nil {
		t.Fatal(err)
	}
	f.Close()

	wb := resaveWithLibreOffice(t, soffice, dir, edited)
	g, err := excelize.OpenFile(wb)
	if err != nil {
		t.Fatal(err)
	}
	rows, _ = g.GetRows("Exceptions")
	for i, r := range rows[1:] {
		if r[0] != "SGFR2611209902A" {
			continue
		}
		for c := range r {
			cell, _ := excelize.CoordinatesToCellName(c+1, i+2)
			if fm, _ := g.GetCellFormula("Exceptions", cell); fm != "" {
				t.Errorf("%s became a formula after LibreOffice: %q", cell, fm)
			}
		}
		if r[5] != payload || !strings.Contains(r[6], "@SUM(1+9)*cmd") {
			t.Errorf("payloads after LibreOffice: %q / %q", r[5], r[6])
		}
	}
	g.Close()

	r := runBin(t, nil, "resolve", "-c", cfg, "--by", "Claire", wb)
	if r.code != 0 || !strings.Contains(r.stdout, "3 applied") {
		t.Fatalf("resolve of the French workbook: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	m := autoRows(t, filepath.Join(out, "matches.csv"))
	if !contains(m, "SGFR2611170004A,OI-1037,3180") || !contains(m, "SGFR2611160006A,OI-1001,100.5") ||
		!contains(m, "SGFR2611160006A,,3232.83") {
		t.Errorf("resolutions by document number not applied: %q", m)
	}
}

func flatten(rows [][]string) string {
	var b strings.Builder
	for _, r := range rows {
		b.WriteString(strings.Join(r, "|") + "\n")
	}
	return b.String()
}
