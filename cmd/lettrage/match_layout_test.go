package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

// frenchHeaders are the export's headers for the contract columns.
var frenchHeaders = map[string]string{
	"id": "N° facture", "customer_id": "Code client", "customer_name": "Raison sociale",
	"document_number": "N° pièce", "issue_date": "Date pièce", "due_date": "Échéance",
	"currency": "Devise", "amount": "Montant TTC", "residual": "Solde",
	"payment_reference": "Référence", "customer_iban": "IBAN",
}

const frenchLedger = `
    ledger:
      type: file
      file:
        open_items: open_items.csv
        journal: out/matches.csv
        delimiter: ";"
        decimal_comma: true
        date_format: DD/MM/YYYY
        columns: {id: "N° facture", customer_id: "Code client", customer_name: "Raison sociale", document_number: "N° pièce", issue_date: "Date pièce", due_date: "Échéance", currency: "Devise", amount: "Montant TTC", residual: "Solde", payment_reference: "Référence", customer_iban: "IBAN"}
`

// TestMatchReadsTheLedgersLayout: `match --open-items export.xlsx` reads a
// workbook, and `match -c` reads the open items with the job's file ledger
// layout (French headers, ';', decimal comma, DD/MM/YYYY): both letter as
// the contract CSV does.
func TestMatchReadsTheLedgersLayout(t *testing.T) {
	cfg := example(t, nil)
	dir := filepath.Dir(cfg)
	stmts := filepath.Join(dir, "statements")
	rows := readCSV(t, filepath.Join(dir, "open_items.csv"))

	r := runBin(t, nil, "match", "--open-items", filepath.Join(dir, "open_items.csv"), "--statements", stmts, "--out", filepath.Join(dir, "csv"))
	if r.code != 0 {
		t.Fatalf("match on the contract CSV: exit %d\n%s", r.code, r.stderr)
	}
	want := autoRows(t, filepath.Join(dir, "csv", "matches.csv"))
	if len(want) < 10 {
		t.Fatalf("the contract run letters only %d rows", len(want))
	}

	// A workbook, amounts as numbers.
	f := excelize.NewFile()
	for i, row := range rows {
		for c, v := range row {
			cell, _ := excelize.CoordinatesToCellName(c+1, i+1)
			var err error
			if i > 0 && (rows[0][c] == "amount" || rows[0][c] == "residual") {
				err = f.SetCellDefault("Sheet1", cell, v)
			} else {
				err = f.SetCellStr("Sheet1", cell, v)
			}
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	xlsx := filepath.Join(dir, "export.xlsx")
	if err := f.SaveAs(xlsx); err != nil {
		t.Fatal(err)
	}
	r = runBin(t, nil, "match", "--open-items", xlsx, "--statements", stmts, "--out", filepath.Join(dir, "xlsx"))
	if r.code != 0 {
		t.Fatalf("match on a workbook: exit %d\n%s", r.code, r.stderr)
	}
	if got := autoRows(t, filepath.Join(dir, "xlsx", "matches.csv")); !equal(got, want) {
		t.Errorf("workbook run:\n got %q\nwant %q", got, want)
	}

	// The French export read with the config's layout.
	var b strings.Builder
	var head []string
	for _, h := range rows[0] {
		head = append(head, frenchHeaders[h])
	}
	b.WriteString(strings.Join(head, ";") + "\n")
	for _, row := range rows[1:] {
		out := make([]string, len(row))
		for c, v := range row {
			switch rows[0][c] {
			case "amount", "residual":
				v = strings.Replace(v, ".", ",", 1)
			case "issue_date", "due_date":
				if p := strings.Split(v, "-"); len(p) == 3 {
					v = p[2] + "/" + p[1] + "/" + p[0]
				}
			}
			if strings.ContainsAny(v, ";\"") {
				v = `"` + strings.ReplaceAll(v, `"`, `""`) + `"`
			}
			out[c] = v
		}
		b.WriteString(strings.Join(out, ";") + "\n")
	}
	french := filepath.Join(dir, "balance-clients.csv")
	if err := os.WriteFile(french, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(cfg)
	text := string(data)
	start := strings.Index(text, "    ledger:")
	end := strings.Index(text[start:], "    reports:")
	if start < 0 || end < 0 {
		t.Fatalf("cannot find the ledger block in %s", text)
	}
	frenchCfg := filepath.Join(dir, "french.yaml")
	if err := os.WriteFile(frenchCfg, []byte(text[:start]+strings.TrimPrefix(frenchLedger, "\n")+text[start+end:]), 0o644); err != nil {
		t.Fatal(err)
	}
	r = runBin(t, nil, "match", "-c", frenchCfg, "--open-items", french, "--statements", stmts, "--out", filepath.Join(dir, "fr"))
	if r.code != 0 {
		t.Fatalf("match -c on the French export: exit %d\n%s", r.code, r.stderr)
	}
	if got := autoRows(t, filepath.Join(dir, "fr", "matches.csv")); !equal(got, want) {
		t.Errorf("French run:\n got %q\nwant %q", got, want)
	}
	// Without -c the French export is not the contract: refused, located.
	r = runBin(t, nil, "match", "--open-items", french, "--statements", stmts, "--out", filepath.Join(dir, "fr2"))
	if r.code != 2 || !strings.Contains(r.stderr, "balance-clients.csv:1: column \"id\": missing column") {
		t.Errorf("French export without -c: exit %d\n%s", r.code, r.stderr)
	}
}

// TestMatchRefusesImpossibleRows: exit 2, the file, line and column, and
// nothing written.
func TestMatchRefusesImpossibleRows(t *testing.T) {
	cfg := example(t, nil)
	dir := filepath.Dir(cfg)
	items := filepath.Join(dir, "open_items.csv")
	data, _ := os.ReadFile(items)
	lines := strings.Split(string(data), "\n")
	lines[3] = strings.Replace(lines[3], ",EUR,2895.40,2895.40,", ",EUR,2895.40,2895.405,", 1)
	if err := os.WriteFile(items, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out-match")
	r := runBin(t, nil, "match", "--open-items", items, "--statements", filepath.Join(dir, "statements"), "--out", out)
	if r.code != 2 || !strings.Contains(r.stderr, `open_items.csv:4: column "residual": impossible row: 2895.405 has more decimals than EUR has (2)`) {
		t.Errorf("exit %d\n%s", r.code, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(out, "matches.csv")); err == nil {
		t.Error("matches.csv written for a refused export")
	}
}
