package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/lettrage/lettrage/pipeline/decide"
	"github.com/lettrage/lettrage/pipeline/report"
)

// oneCredit is a minimal camt.053.001.02 statement with one booked credit.
func oneCredit(stmtID, ref, payer, payerIBAN, amount, ustrd string) string {
	return oneEntry(stmtID, ref, payer, payerIBAN, amount, ustrd, "CRDT", false, "NOTPROVIDED")
}

// oneEntry is a minimal camt.053.001.02 statement with one booked entry.
func oneEntry(stmtID, ref, payer, payerIBAN, amount, ustrd, cdtDbt string, reversal bool, endToEnd string) string {
	rvsl := ""
	if reversal {
		rvsl = "<RvslInd>true</RvslInd>"
	}
	return fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">
 <BkToCstmrStmt>
  <GrpHdr><MsgId>%[1]s</MsgId><CreDtTm>2026-11-20T18:00:00</CreDtTm></GrpHdr>
  <Stmt>
   <Id>%[1]s</Id><CreDtTm>2026-11-20T18:00:00</CreDtTm>
   <Acct><Id><IBAN>FR7630003012340005001234509</IBAN></Id><Ccy>EUR</Ccy></Acct>
   <Ntry>
    <Amt Ccy="EUR">%[5]s</Amt><CdtDbtInd>%[7]s</CdtDbtInd>%[8]s<Sts>BOOK</Sts>
    <BookgDt><Dt>2026-11-20</Dt></BookgDt><ValDt><Dt>2026-11-20</Dt></ValDt>
    <AcctSvcrRef>%[2]s</AcctSvcrRef>
    <BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn></BkTxCd>
    <NtryDtls><TxDtls>
     <Refs><AcctSvcrRef>%[2]s</AcctSvcrRef><EndToEndId>%[9]s</EndToEndId></Refs>
     <RltdPties><Dbtr><Nm>%[3]s</Nm></Dbtr><DbtrAcct><Id><IBAN>%[4]s</IBAN></Id></DbtrAcct></RltdPties>
     <RmtInf><Ustrd>%[6]s</Ustrd></RmtInf>
    </TxDtls></NtryDtls>
   </Ntry>
  </Stmt>
 </BkToCstmrStmt>
</Document>
`, stmtID, ref, payer, payerIBAN, amount, ustrd, cdtDbt, rvsl, endToEnd)
}

// setAction fills the resolution cells of the exceptions workbook row of txRef.
func setAction(t *testing.T, f *excelize.File, txRef string, values map[string]string) {
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

// TestAccountantResolvesExceptionsInTheWorkbook is the loop of issue 8: the
// accountant fills in the exceptions workbook, lettrage applies it exactly
// once, writes a result per row, and learns from it.
func TestAccountantResolvesExceptionsInTheWorkbook(t *testing.T) {
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
	// The unknown payer's deposit is put on account of C003 (this teaches
	// lettrage its IBAN); the suggested one is accepted.
	setAction(t, f, "SGFR2611160006A", map[string]string{"action": "on_account", "customer": "C003", "comment": "deposit refund"})
	setAction(t, f, "SGFR2611170004A", map[string]string{"action": "accept"})
	wb := filepath.Join(dir, "inbox", "exceptions-claire.xlsx")
	if err := os.MkdirAll(filepath.Dir(wb), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := f.SaveAs(wb); err != nil {
		t.Fatal(err)
	}
	f.Close()

	r := runBin(t, nil, "resolve", "-c", cfg, "--by", "Claire Martin", wb)
	if r.code != 0 || !strings.Contains(r.stdout, "2 applied") {
		t.Fatalf("resolve exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	results := readCSV(t, filepath.Join(dir, "inbox", "exceptions-claire.result.csv"))
	if len(results) != 3 || results[1][3] != "applied" || results[2][3] != "applied" {
		t.Fatalf("results = %q", results)
	}
	matches := autoRows(t, filepath.Join(out, "matches.csv"))
	if !contains(matches, "SGFR2611170004A,OI-1037,3180") {
		t.Errorf("accepted suggestion not in matches.csv: %q", matches)
	}
	if exc := columns(t, readCSV(t, filepath.Join(out, "exceptions.csv")), "tx_ref"); len(exc) != 0 {
		t.Errorf("exceptions left after resolving all of them: %q", exc)
	}
	before, _ := os.ReadFile(filepath.Join(out, "matches.csv"))

	// The same workbook dropped twice applies nothing twice.
	r = runBin(t, nil, "resolve", "-c", cfg, wb)
	if r.code != 0 || !strings.Contains(r.stdout, "2 already applied") {
		t.Fatalf("second resolve exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	after, _ := os.ReadFile(filepath.Join(out, "matches.csv"))
	if string(before) != string(after) {
		t.Error("a workbook applied twice changed matches.csv")
	}

	// Learning: the next payment from the same IBAN, with no reference and an
	// amount that is one of C003's invoices, is lettered automatically.
	if err := os.WriteFile(filepath.Join(dir, "statements", "2026-11-20.xml"), []byte(oneCredit("STMT-1120", "SGFR2611200001A",
		"SCI LES TILLEULS", "FR7610096180000007412589665", "2650.90", "VIREMENT NOVEMBRE")), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := runBin(t, nil, "once", "-c", cfg); r.code != 0 || !strings.Contains(r.stdout, "1 lettered") {
		t.Fatalf("once after learning: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if m := autoRows(t, filepath.Join(out, "matches.csv")); !contains(m, "SGFR2611200001A,OI-1016,2650.9") {
		t.Errorf("the learned payer was not lettered: %q", m)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestBadResolutions: every wrong row gets its own message and nothing
// wrong is applied; unusable files are refused whole.
func TestBadResolutions(t *testing.T) {
	cfg := example(t, nil)
	dir := filepath.Dir(cfg)
	out := filepath.Join(dir, "out")
	if r := runBin(t, nil, "once", "-c", cfg); r.code != 0 {
		t.Fatalf("once exit %d: %s", r.code, r.stderr)
	}
	acct := "FR7630003012340005001234509"
	// Columns reordered, ';' separated, a French decimal comma.
	csvFile := filepath.Join(dir, "resolutions.csv")
	lines := []string{
		"comment;items;action;account_iban;tx_ref",
		";OI-1001:100,50;letter;" + acct + ";SGFR2611160006A",  // valid: partial letter with a comma decimal
		";;frobnicate;" + acct + ";SGFR2611170004A",            // unknown action
		";OI-1001;letter;" + acct + ";SGFR2611160006A",         // duplicated row
		";OI-9999;letter;" + acct + ";SGFR2611170004A",         // unknown item
		";OI-1005:1000.00;letter;" + acct + ";SGFR2611160001A", // lettered by the daemon already
		";OI-1004:9999.00;letter;" + acct + ";SGFR2611170004A", // above the residual
		";OI-1007:100.00;letter;" + acct + ";SGFR2611170004A",  // a CHF item for a EUR payment
		";;ignore;" + acct + ";SGFR2611170004A",                // ignore without a reason
		";;accept;" + acct + ";NO-SUCH-REF",                    // unknown transaction
	}
	if err := os.WriteFile(csvFile, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := runBin(t, nil, "resolve", "-c", cfg, "--by", "test", csvFile)
	if r.code != 1 {
		t.Fatalf("resolve exit %d, want 1 (some rows refused)\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	res := readCSV(t, filepath.Join(dir, "resolutions.result.csv"))
	status := map[string]string{}
	for _, row := range res[1:] {
		status[row[0]] = row[3] + ": " + row[4]
	}
	want := map[string]string{
		"2":  "applied",
		"3":  "unknown action",
		"4":  "duplicate row",
		"5":  "does not exist",
		"6":  "not an open exception",
		"7":  "residual",
		"8":  "is in CHF",
		"9":  "reason code",
		"10": "no transaction",
	}
	for row, w := range want {
		got, ok := status[row]
		if !ok {
			t.Errorf("row %s: no result", row)
			continue
		}
		if row == "2" && !strings.HasPrefix(got, "applied") {
			t.Errorf("row 2: %s, want applied", got)
		}
		if row != "2" && (!strings.HasPrefix(got, "refused") || !strings.Contains(got, w)) {
			t.Errorf("row %s: %s, want refused with %q", row, got, w)
		}
	}
	// Only the valid row reached the journal.
	m := autoRows(t, filepath.Join(out, "matches.csv"))
	if !contains(m, "SGFR2611160006A,OI-1001,100.5") {
		t.Errorf("valid row not applied: %q", m)
	}
	for _, x := range m {
		if strings.HasPrefix(x, "SGFR2611170004A,") {
			t.Errorf("a refused row was applied: %s", x)
		}
	}

	// Unusable files are refused whole, with exit 2.
	noAction := filepath.Join(dir, "bad.csv")
	if err := os.WriteFile(noAction, []byte("tx_ref,account_iban,items\nX,Y,Z\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := runBin(t, nil, "resolve", "-c", cfg, noAction); r.code != 2 || !strings.Contains(r.stderr, "missing column(s) action") {
		t.Errorf("missing column: exit %d %s", r.code, r.stderr)
	}
	wrongSheet := filepath.Join(dir, "wrong.xlsx")
	f := excelize.NewFile()
	if err := f.SaveAs(wrongSheet); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if r := runBin(t, nil, "resolve", "-c", cfg, wrongSheet); r.code != 2 || !strings.Contains(r.stderr, `no sheet "Exceptions"`) {
		t.Errorf("wrong sheet: exit %d %s", r.code, r.stderr)
	}
}

// TestResolutionsInbox: a workbook dropped in the job's resolutions inbox
// is applied by the next run, its results written beside the reports and the
// workbook filed away; an unusable file is quarantined with its reason.
func TestResolutionsInbox(t *testing.T) {
	cfg := example(t, func(c string) string {
		return strings.Replace(c, "    reports:\n", "    resolutions:\n      type: local\n      local: {dir: inbox, archive_dir: inbox/done, quarantine_dir: inbox/bad}\n    reports:\n", 1)
	})
	dir := filepath.Dir(cfg)
	out := filepath.Join(dir, "out")
	if err := os.MkdirAll(filepath.Join(dir, "inbox"), 0o755); err != nil {
		t.Fatal(err)
	}
	if r := runBin(t, nil, "once", "-c", cfg); r.code != 0 {
		t.Fatalf("once exit %d: %s", r.code, r.stderr)
	}
	f, err := excelize.OpenFile(filepath.Join(out, "exceptions.xlsx"))
	if err != nil {
		t.Fatal(err)
	}
	setAction(t, f, "SGFR2611170004A", map[string]string{"action": "letter", "items": "OI-1037"})
	if err := f.SetDocProps(&excelize.DocProperties{Creator: "Lettrage", LastModifiedBy: "Claire Martin"}); err != nil {
		t.Fatal(err)
	}
	if err := f.SaveAs(filepath.Join(dir, "inbox", "claire.xlsx")); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if err := os.WriteFile(filepath.Join(dir, "inbox", "notes.csv"), []byte("just,some,notes\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// Excel's owner file and LibreOffice's lock file beside the workbook.
	if err := os.WriteFile(filepath.Join(dir, "inbox", "~$claire.xlsx"), []byte("\x0cClaire Martin"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "inbox", ".~lock.claire.xlsx#"), []byte("Claire,host,1;"), 0o644); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Minute)
	for _, n := range []string{"claire.xlsx", "notes.csv", "~$claire.xlsx", ".~lock.claire.xlsx#"} {
		if err := os.Chtimes(filepath.Join(dir, "inbox", n), old, old); err != nil {
			t.Fatal(err)
		}
	}
	// A workbook still being copied: half of it, just written.
	whole, _ := os.ReadFile(filepath.Join(dir, "inbox", "claire.xlsx"))
	if err := os.WriteFile(filepath.Join(dir, "inbox", "marc.xlsx"), whole[:len(whole)/2], 0o644); err != nil {
		t.Fatal(err)
	}

	r := runBin(t, nil, "once", "-c", cfg)
	if r.code != 1 {
		t.Fatalf("once with a refused workbook: exit %d, want 1\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stdout, "resolutions   1 workbook(s) applied, 1 REFUSED (notes.csv: ") ||
		!strings.Contains(r.stdout, "1 waiting (still being written), ") || !strings.Contains(r.stdout, "lock or temporary file(s) ignored") {
		t.Errorf("the summary does not say what the inbox did:\n%s", r.stdout)
	}
	for _, n := range []string{"~$claire.xlsx", ".~lock.claire.xlsx#", "marc.xlsx"} {
		if _, err := os.Stat(filepath.Join(dir, "inbox", n)); err != nil {
			t.Errorf("%s was moved: %v", n, err)
		}
	}
	res := readCSV(t, filepath.Join(out, "resolutions", "claire.result.csv"))
	if len(res) != 2 || res[1][3] != "applied" {
		t.Fatalf("results = %q", res)
	}
	if _, err := os.Stat(filepath.Join(dir, "inbox", "done", "claire.xlsx")); err != nil {
		t.Errorf("workbook not archived: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "inbox", "bad", "notes.csv")); err != nil {
		t.Errorf("unusable file not quarantined: %v", err)
	}
	if bad := readCSV(t, filepath.Join(out, "resolutions", "notes.result.csv")); !strings.Contains(bad[1][4], "missing column") {
		t.Errorf("unusable file's result = %q", bad)
	}
	if m := autoRows(t, filepath.Join(out, "matches.csv")); !contains(m, "SGFR2611170004A,OI-1037,3180") {
		t.Errorf("inbox resolution not applied: %q", m)
	}
}

// TestUnletter: a payment lettered to the wrong invoice is unlettered; the
// ledger gets the residual back, the payment is an exception again that the
// matcher only suggests, and the accountant letters it by hand.
func TestUnletter(t *testing.T) {
	cfg := example(t, nil)
	dir := filepath.Dir(cfg)
	out := filepath.Join(dir, "out")
	if r := runBin(t, nil, "once", "-c", cfg); r.code != 0 {
		t.Fatalf("once exit %d: %s", r.code, r.stderr)
	}
	r := runBin(t, nil, "unletter", "-c", cfg, "--by", "Claire Martin", "--reason", "wrong customer", "SGFR2611160001A")
	if r.code != 0 || !strings.Contains(r.stdout, "unlettered") {
		t.Fatalf("unletter exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	undone := readCSV(t, filepath.Join(out, "matches.unletterings.csv"))
	if len(undone) != 2 || undone[1][2] != "SGFR2611160001A" || undone[1][5] != "OI-1012:4872.60" {
		t.Fatalf("unletterings = %q", undone)
	}
	exc := readCSV(t, filepath.Join(out, "exceptions.csv"))
	found := false
	for _, row := range exc[1:] {
		if row[0] == "SGFR2611160001A" && row[8] == "unlettered" {
			found = true
		}
	}
	if !found {
		t.Fatalf("the unlettered payment is not an exception: %q", exc)
	}
	// Unlettering twice does nothing more, and the next run does not letter
	// the payment again by itself: it only suggests.
	if r := runBin(t, nil, "unletter", "-c", cfg, "SGFR2611160001A"); r.code != 0 || !strings.Contains(r.stdout, "already unlettered") {
		t.Errorf("second unletter exit %d: %s %s", r.code, r.stdout, r.stderr)
	}
	if again := readCSV(t, filepath.Join(out, "matches.unletterings.csv")); len(again) != 2 {
		t.Errorf("second unletter wrote again: %q", again)
	}
	before, _ := os.ReadFile(filepath.Join(out, "matches.csv"))
	if r := runBin(t, nil, "once", "-c", cfg); r.code != 0 {
		t.Fatalf("once exit %d: %s", r.code, r.stderr)
	}
	after, _ := os.ReadFile(filepath.Join(out, "matches.csv"))
	if string(before) != string(after) {
		t.Error("the matcher lettered an unlettered payment again by itself")
	}
	exc = readCSV(t, filepath.Join(out, "exceptions.csv"))
	for _, row := range exc[1:] {
		if row[0] == "SGFR2611160001A" && (row[11] != "suggested" || !strings.HasPrefix(row[9], "OI-1012:")) {
			t.Errorf("unlettered payment row = %q, want suggested OI-1012", row)
		}
	}
	// The accountant letters it by hand: a new letter with its own key.
	csvFile := filepath.Join(dir, "fix.csv")
	if err := os.WriteFile(csvFile, []byte("tx_ref,account_iban,action,items\nSGFR2611160001A,FR7630003012340005001234509,letter,OI-1012\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := runBin(t, nil, "resolve", "-c", cfg, csvFile); r.code != 0 {
		t.Fatalf("resolve exit %d: %s %s", r.code, r.stdout, r.stderr)
	}
	rows := readCSV(t, filepath.Join(out, "matches.csv"))
	keys := map[string]bool{}
	for _, row := range rows[1:] {
		if row[0] == "SGFR2611160001A" {
			keys[row[14]] = true
		}
	}
	if len(keys) != 2 {
		t.Errorf("want the original and the new letter under two keys, got %v", keys)
	}
}

// TestBankReversalUnletters: the bank returns a payment that was lettered;
// the letter is undone in the ledger, and neither entry is left as cash to
// letter.
func TestBankReversalUnletters(t *testing.T) {
	cfg := example(t, nil)
	dir := filepath.Dir(cfg)
	out := filepath.Join(dir, "out")
	if r := runBin(t, nil, "once", "-c", cfg); r.code != 0 {
		t.Fatalf("once exit %d: %s", r.code, r.stderr)
	}
	openBefore := openItemsCount(t, cfg)
	if err := os.WriteFile(filepath.Join(dir, "statements", "2026-11-20-return.xml"), []byte(oneEntry("STMT-1120R", "SGFR2611200009R",
		"MUELLER MASCHINENBAU GMBH", "DE89370400440532013000", "4872.60", "RETOUR MS03", "DBIT", true, "MMB-ZAHL-2026-11-0412")), 0o644); err != nil {
		t.Fatal(err)
	}
	r := runBin(t, nil, "once", "-c", cfg)
	if r.code != 0 {
		t.Fatalf("once exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	undone := readCSV(t, filepath.Join(out, "matches.unletterings.csv"))
	if len(undone) != 2 || undone[1][2] != "SGFR2611160001A" || !strings.Contains(undone[1][7], "reversed by the bank") {
		t.Fatalf("unletterings = %q\n%s", undone, r.stdout)
	}
	for _, row := range readCSV(t, filepath.Join(out, "exceptions.csv"))[1:] {
		if row[0] == "SGFR2611160001A" || row[0] == "SGFR2611200009R" {
			t.Errorf("a reversed payment is left as an exception: %q", row)
		}
	}
	// The invoice is open again in the ledger.
	if after := openItemsCount(t, cfg); after != openBefore+1 {
		t.Errorf("open items %d after the return, want %d", after, openBefore+1)
	}
}

// openItemsCount asks check --connect how many open items the ledger holds.
func openItemsCount(t *testing.T, cfg string) int {
	t.Helper()
	r := runBin(t, nil, "check", "--connect", "-c", cfg)
	for _, line := range strings.Split(r.stdout, "\n") {
		if f := strings.Fields(line); len(f) > 3 && f[0] == "file" && f[1] == "ledger" {
			n, err := strconv.Atoi(f[2])
			if err == nil {
				return n
			}
		}
	}
	t.Fatalf("no open-items count in check --connect:\n%s%s", r.stdout, r.stderr)
	return 0
}

// rowsOf returns the data rows of a CSV file whose column col equals value,
// each as a map from header name to field.
func rowsOf(t *testing.T, path, col, value string) []map[string]string {
	t.Helper()
	rows := readCSV(t, path)
	var out []map[string]string
	for _, r := range rows[1:] {
		m := map[string]string{}
		for i, h := range rows[0] {
			if i < len(r) {
				m[h] = r[i]
			}
		}
		if m[col] == value {
			out = append(out, m)
		}
	}
	return out
}

// TestResolvePostsOnAccountAndWriteOff is issue 8's postings end to end
// with the file ledger: an on_account row and a write_off row of the
// workbook reach the journal as posting rows, exactly once; a write-off the
// ledger cannot post (no write-off account) comes back as an exception with
// the ledger's reason until the ledger is configured; unletter reopens.
func TestResolvePostsOnAccountAndWriteOff(t *testing.T) {
	cfg := example(t, nil)
	dir := filepath.Dir(cfg)
	out := filepath.Join(dir, "out")
	journal := filepath.Join(out, "matches.csv")
	// A tiny receipt nobody can identify.
	if err := os.WriteFile(filepath.Join(dir, "statements", "2026-11-21.xml"), []byte(oneEntry("STMT-1121", "SGFR2611210001A",
		"M DURAND", "FR7612548029989876543210917", "4.20", "XYZ", "CRDT", false, "DURAND-E2E-1")), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := runBin(t, nil, "once", "-c", cfg); r.code != 0 {
		t.Fatalf("once exit %d: %s", r.code, r.stderr)
	}
	exc := columns(t, readCSV(t, filepath.Join(out, "exceptions.csv")), "tx_ref")
	if !equal(exc, []string{"SGFR2611160006A", "SGFR2611170004A", "SGFR2611210001A"}) {
		t.Fatalf("exceptions before resolving: %q", exc)
	}
	f, err := excelize.OpenFile(filepath.Join(out, "exceptions.xlsx"))
	if err != nil {
		t.Fatal(err)
	}
	// The deposit goes on account of C003; the suggested payment letters
	// 3000.00 of OI-1037 and puts the rest on account of its customer; the
	// tiny receipt is written off.
	setAction(t, f, "SGFR2611160006A", map[string]string{"action": "on_account", "customer": "C003", "comment": "deposit refund"})
	setAction(t, f, "SGFR2611170004A", map[string]string{"action": "on_account", "items": "OI-1037:3000.00", "customer": "C020"})
	setAction(t, f, "SGFR2611210001A", map[string]string{"action": "write_off", "comment": "UNIDENTIFIED"})
	wb := filepath.Join(dir, "exceptions-claire.xlsx")
	if err := f.SaveAs(wb); err != nil {
		t.Fatal(err)
	}
	f.Close()
	resultsOf := func() map[string][]string {
		out := map[string][]string{}
		for _, r := range readCSV(t, report.ResultPath(wb))[1:] {
			out[r[1]] = r
		}
		return out
	}

	// 1. No write-off account in the file ledger: the ledger refuses the
	// write-off, which stays an exception showing why; the rest goes through.
	r := runBin(t, nil, "resolve", "-c", cfg, "--by", "Claire Martin", wb)
	if r.code != 1 || !strings.Contains(r.stdout, "2 applied") {
		t.Fatalf("resolve exit %d, want 1 with 2 applied\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if res := resultsOf()["SGFR2611210001A"]; res[3] != "refused" || !strings.Contains(res[4], "write_off_account") {
		t.Errorf("write-off row result = %q, want refused naming write_off_account", res)
	}
	onAccount := rowsOf(t, journal, "tx_ref", "SGFR2611160006A")
	if len(onAccount) != 1 {
		t.Fatalf("journal rows of the on-account payment: %v", onAccount)
	}
	if p := onAccount[0]; p["open_item_id"] != "" || p["customer_id"] != "C003" || canonAmount(p["allocated_amount"]) != "3333.33" ||
		p["posting_kind"] != "on_account" || p["rule"] != "manual:on_account" {
		t.Errorf("on-account journal row = %v", p)
	}
	mixed := rowsOf(t, journal, "tx_ref", "SGFR2611170004A")
	got := map[string]string{}
	for _, m := range mixed {
		got[m["open_item_id"]+"/"+m["posting_kind"]] = canonAmount(m["allocated_amount"])
	}
	if len(mixed) != 2 || got["OI-1037/"] != "3000" || got["/on_account"] != "180" {
		t.Errorf("journal rows of the lettered + on-account payment: %v", mixed)
	}
	if n := len(rowsOf(t, journal, "tx_ref", "SGFR2611210001A")); n != 0 {
		t.Errorf("the refused write-off has %d journal rows", n)
	}
	excRows := rowsOf(t, filepath.Join(out, "exceptions.csv"), "tx_ref", "SGFR2611210001A")
	if len(excRows) != 1 || excRows[0]["reason"] != decide.ReasonLedgerRejected || !strings.Contains(excRows[0]["explanation"], "write_off_account") {
		t.Fatalf("refused write-off in exceptions.csv: %v", excRows)
	}
	if exc := columns(t, readCSV(t, filepath.Join(out, "exceptions.csv")), "tx_ref"); len(exc) != 1 {
		t.Errorf("exceptions after resolving: %q, want the refused write-off only", exc)
	}

	// 2. The ledger gets a write-off account; the same workbook dropped
	// again writes the write-off, and nothing else twice.
	data, _ := os.ReadFile(cfg)
	if err := os.WriteFile(cfg, []byte(strings.Replace(string(data), "        journal: out/matches.csv\n",
		"        journal: out/matches.csv\n        write_off_account: \"658000\"\n", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	r = runBin(t, nil, "resolve", "-c", cfg, wb)
	if r.code != 0 || !strings.Contains(r.stdout, "1 applied, 2 already applied") {
		t.Fatalf("second resolve exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	wo := rowsOf(t, journal, "tx_ref", "SGFR2611210001A")
	if len(wo) != 1 || wo[0]["posting_kind"] != "write_off" || wo[0]["posting_reason"] != "UNIDENTIFIED" ||
		canonAmount(wo[0]["allocated_amount"]) != "4.2" || wo[0]["customer_account"] != "658000" {
		t.Errorf("write-off journal rows = %v", wo)
	}
	if exc := columns(t, readCSV(t, filepath.Join(out, "exceptions.csv")), "tx_ref"); len(exc) != 0 {
		t.Errorf("exceptions after resolving all: %q", exc)
	}
	before, _ := os.ReadFile(journal)
	r = runBin(t, nil, "resolve", "-c", cfg, wb)
	if r.code != 0 || !strings.Contains(r.stdout, "0 applied, 3 already applied") {
		t.Fatalf("third resolve exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if r := runBin(t, nil, "once", "-c", cfg); r.code != 0 {
		t.Fatalf("once exit %d: %s", r.code, r.stderr)
	}
	if after, _ := os.ReadFile(journal); string(after) != string(before) {
		t.Error("the workbook dropped again, or the next run, changed the journal")
	}

	// 3. Unletter the on-account payment: its posting is reversed and the
	// payment is an exception again.
	r = runBin(t, nil, "unletter", "-c", cfg, "--by", "Claire Martin", "--reason", "wrong customer", "SGFR2611160006A")
	if r.code != 0 || !strings.Contains(r.stdout, "1 posting(s) undone") {
		t.Fatalf("unletter exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	undone := rowsOf(t, filepath.Join(out, "matches.unletterings.csv"), "tx_ref", "SGFR2611160006A")
	if len(undone) != 1 || !strings.Contains(undone[0]["postings"], "on_account:") || !strings.Contains(undone[0]["postings"], "3333.33") {
		t.Errorf("unletterings of the on-account payment = %v", undone)
	}
	excRows = rowsOf(t, filepath.Join(out, "exceptions.csv"), "tx_ref", "SGFR2611160006A")
	if len(excRows) != 1 || excRows[0]["reason"] != "unlettered" || canonAmount(excRows[0]["unallocated_amount"]) != "3333.33" {
		t.Errorf("the unlettered payment in exceptions.csv = %v", excRows)
	}

	// 4. The bank returns the receipt that was written off: the write-off
	// is reversed, and neither entry is cash to letter.
	if err := os.WriteFile(filepath.Join(dir, "statements", "2026-11-22-return.xml"), []byte(oneEntry("STMT-1122R", "SGFR2611220009R",
		"M DURAND", "FR7612548029989876543210917", "4.20", "RETOUR", "DBIT", true, "DURAND-E2E-1")), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := runBin(t, nil, "once", "-c", cfg); r.code != 0 {
		t.Fatalf("once exit %d: %s", r.code, r.stderr)
	}
	undone = rowsOf(t, filepath.Join(out, "matches.unletterings.csv"), "tx_ref", "SGFR2611210001A")
	if len(undone) != 1 || !strings.Contains(undone[0]["postings"], "write_off:658000:4.2") || !strings.Contains(undone[0]["reason"], "reversed by the bank") {
		t.Errorf("unletterings of the returned write-off = %v", undone)
	}
	for _, ref := range []string{"SGFR2611210001A", "SGFR2611220009R"} {
		if rows := rowsOf(t, filepath.Join(out, "exceptions.csv"), "tx_ref", ref); len(rows) != 0 {
			t.Errorf("%s is an exception after the return: %v", ref, rows)
		}
	}
}

// TestResolveOverpaymentRemainder: a payment lettered automatically with
// cash left over (its reference, amount above the invoice) is an exception
// for that remainder; the accountant puts the remainder on account in the
// workbook: the journal gets the posting, the exception goes away, the
// same workbook dropped again writes nothing, and unletter reverses both
// the posting and the letter, the payment an exception for its whole cash.
func TestResolveOverpaymentRemainder(t *testing.T) {
	cfg := example(t, nil)
	dir := filepath.Dir(cfg)
	out := filepath.Join(dir, "out")
	journal := filepath.Join(out, "matches.csv")
	const ref = "SGFR2611210007A"
	// OI-1041 (C009) owes 1932.00; its customer pays 1950.00 on its reference.
	if err := os.WriteFile(filepath.Join(dir, "statements", "2026-11-21.xml"), []byte(oneCredit("STMT-1121", ref,
		"SCEA CHATEAU COTE ROTIE", "FR7613825002000800311746929", "1950.00", "RF712026001410712")), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := runBin(t, nil, "once", "-c", cfg); r.code != 0 {
		t.Fatalf("once exit %d: %s", r.code, r.stderr)
	}
	letter := rowsOf(t, journal, "tx_ref", ref)
	if len(letter) != 1 || letter[0]["open_item_id"] != "OI-1041" || canonAmount(letter[0]["allocated_amount"]) != "1932" {
		t.Fatalf("journal rows of the overpayment: %v", letter)
	}
	excRows := rowsOf(t, filepath.Join(out, "exceptions.csv"), "tx_ref", ref)
	if len(excRows) != 1 || canonAmount(excRows[0]["unallocated_amount"]) != "18" {
		t.Fatalf("the overpayment in exceptions.csv = %v", excRows)
	}
	f, err := excelize.OpenFile(filepath.Join(out, "exceptions.xlsx"))
	if err != nil {
		t.Fatal(err)
	}
	setAction(t, f, ref, map[string]string{"action": "on_account", "customer": "C009", "comment": "overpaid"})
	wb := filepath.Join(dir, "exceptions-claire.xlsx")
	if err := f.SaveAs(wb); err != nil {
		t.Fatal(err)
	}
	f.Close()

	r := runBin(t, nil, "resolve", "-c", cfg, "--by", "Claire Martin", wb)
	if r.code != 0 || !strings.Contains(r.stdout, "1 applied") {
		t.Fatalf("resolve exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	rows := rowsOf(t, journal, "tx_ref", ref)
	var posting map[string]string
	for _, m := range rows {
		if m["posting_kind"] != "" {
			posting = m
		}
	}
	if len(rows) != 2 || posting == nil || posting["posting_kind"] != "on_account" || posting["customer_id"] != "C009" ||
		canonAmount(posting["allocated_amount"]) != "18" || posting["rule"] != "manual:on_account" {
		t.Fatalf("journal rows after putting the remainder on account: %v", rows)
	}
	if rows := rowsOf(t, filepath.Join(out, "exceptions.csv"), "tx_ref", ref); len(rows) != 0 {
		t.Errorf("the settled overpayment is still an exception: %v", rows)
	}

	// Dropped again, and the next run: nothing written.
	before, _ := os.ReadFile(journal)
	if r := runBin(t, nil, "resolve", "-c", cfg, wb); r.code != 0 || !strings.Contains(r.stdout, "0 applied, 1 already applied") {
		t.Fatalf("second resolve exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if r := runBin(t, nil, "once", "-c", cfg); r.code != 0 {
		t.Fatalf("once exit %d: %s", r.code, r.stderr)
	}
	if after, _ := os.ReadFile(journal); string(after) != string(before) {
		t.Error("the workbook dropped again, or the next run, changed the journal")
	}

	// Unletter: the posting, then the letter, reversed once.
	r = runBin(t, nil, "unletter", "-c", cfg, "--by", "Claire Martin", "--reason", "wrong payer", ref)
	if r.code != 0 || !strings.Contains(r.stdout, "1 allocation(s) and 1 posting(s) of 2 decisions undone") {
		t.Fatalf("unletter exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	undone := rowsOf(t, filepath.Join(out, "matches.unletterings.csv"), "tx_ref", ref)
	if len(undone) != 2 || !strings.Contains(undone[0]["postings"], "on_account:") || undone[0]["items"] != "" ||
		!strings.HasPrefix(undone[1]["items"], "OI-1041:1932") || undone[1]["postings"] != "" {
		t.Errorf("unletterings of the overpayment = %v", undone)
	}
	if r := runBin(t, nil, "unletter", "-c", cfg, ref); r.code != 0 || !strings.Contains(r.stdout, "already unlettered") {
		t.Errorf("second unletter exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if n := len(rowsOf(t, filepath.Join(out, "matches.unletterings.csv"), "tx_ref", ref)); n != 2 {
		t.Errorf("%d unletterings after unlettering twice, want 2", n)
	}
	excRows = rowsOf(t, filepath.Join(out, "exceptions.csv"), "tx_ref", ref)
	if len(excRows) != 1 || excRows[0]["reason"] != "unlettered" || canonAmount(excRows[0]["unallocated_amount"]) != "1950" {
		t.Errorf("the unlettered overpayment in exceptions.csv = %v", excRows)
	}
}
