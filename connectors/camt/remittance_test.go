package camt

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// strdDoc is a camt.053.001.<ver> document with one transaction whose
// structured remittance holds rfrdDocAmt (the content of RfrdDocAmt).
func strdDoc(ver, rfrdDocAmt string) string {
	return stmt053(ver, ntry(`<NtryDtls>`+txd(`<Amt Ccy="EUR">100.00</Amt><RmtInf><Strd><RfrdDocInf><Nb>INV-1</Nb></RfrdDocInf><RfrdDocAmt>`+
		rfrdDocAmt+`</RfrdDocAmt></Strd></RmtInf>`)+`</NtryDtls>`))
}

func moneyText(m *Money) string {
	if m == nil {
		return "-"
	}
	return m.Amount.String() + " " + m.Currency
}

func typedText(ts []TypedAmount) string {
	var parts []string
	for _, t := range ts {
		s := moneyText(&t.Money)
		if t.Code != "" {
			s = "cd:" + t.Code + " " + s
		}
		if t.Proprietary != "" {
			s = "prtry:" + t.Proprietary + " " + s
		}
		parts = append(parts, s)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// amountsText renders DocumentAmounts on one line.
func amountsText(a *DocumentAmounts) string {
	if a == nil {
		return "none"
	}
	var adj []string
	for _, x := range a.Adjustments {
		s := moneyText(&x.Money)
		if x.Credit != nil {
			s += map[bool]string{true: " credit", false: " debit"}[*x.Credit]
		}
		if x.Reason != "" {
			s += " " + x.Reason
		}
		if x.AdditionalInfo != "" {
			s += fmt.Sprintf(" %q", x.AdditionalInfo)
		}
		adj = append(adj, s)
	}
	return fmt.Sprintf("due %s; discount %s %s; credit note %s; tax %s %s; adjustments [%s]; remitted %s",
		moneyText(a.DuePayable), moneyText(a.Discount), typedText(a.Discounts), moneyText(a.CreditNote),
		moneyText(a.Tax), typedText(a.Taxes), strings.Join(adj, ", "), moneyText(a.Remitted))
}

// TestRemittanceAmounts: RfrdDocAmt is read in its flat .01/.02 shape and
// in the structured, repeatable shape of .03 and later, on both entry
// paths, without losing an amount, a type or an adjustment.
func TestRemittanceAmounts(t *testing.T) {
	const (
		flat = `<DuePyblAmt Ccy="EUR">100.00</DuePyblAmt><DscntApldAmt Ccy="EUR">2.00</DscntApldAmt><CdtNoteAmt Ccy="EUR">5.00</CdtNoteAmt>` +
			`<TaxAmt Ccy="EUR">16.00</TaxAmt><AdjstmntAmtAndRsn><Amt Ccy="EUR">1.00</Amt><CdtDbtInd>DBIT</CdtDbtInd><Rsn>PRIC</Rsn><AddtlInf>price</AddtlInf></AdjstmntAmtAndRsn>` +
			`<RmtdAmt Ccy="EUR">93.00</RmtdAmt>`
		structured = `<DuePyblAmt Ccy="EUR">120.00</DuePyblAmt>` +
			`<DscntApldAmt><Tp><Cd>TMDS</Cd></Tp><Amt Ccy="EUR">1.50</Amt></DscntApldAmt>` +
			`<DscntApldAmt><Tp><Prtry>EARLY PAYMENT</Prtry></Tp><Amt Ccy="EUR">0.50</Amt></DscntApldAmt>` +
			`<TaxAmt><Tp><Cd>STAT</Cd></Tp><Amt Ccy="EUR">15.00</Amt></TaxAmt><TaxAmt><Amt Ccy="EUR">3.00</Amt></TaxAmt>` +
			`<AdjstmntAmtAndRsn><Amt Ccy="EUR">1.00</Amt><CdtDbtInd>DBIT</CdtDbtInd><Rsn>PRIC</Rsn></AdjstmntAmtAndRsn>` +
			`<AdjstmntAmtAndRsn><Amt Ccy="EUR">0.25</Amt><CdtDbtInd>CRDT</CdtDbtInd><AddtlInf>rounding</AddtlInf></AdjstmntAmtAndRsn>` +
			`<AdjstmntAmtAndRsn><Amt Ccy="EUR">0.10</Amt></AdjstmntAmtAndRsn>` +
			`<RmtdAmt Ccy="EUR">100.00</RmtdAmt>`
		structuredWant = `due 120.00 EUR; discount 2.00 EUR [cd:TMDS 1.50 EUR, prtry:EARLY PAYMENT 0.50 EUR]; credit note -; ` +
			`tax 18.00 EUR [cd:STAT 15.00 EUR, 3.00 EUR]; adjustments [1.00 EUR debit PRIC, 0.25 EUR credit "rounding", 0.10 EUR]; remitted 100.00 EUR`
	)
	tests := []struct {
		name, ver, amounts string
		want               string
		warning            string
	}{
		{"flat .02", "02", flat,
			`due 100.00 EUR; discount 2.00 EUR [2.00 EUR]; credit note 5.00 EUR; tax 16.00 EUR [16.00 EUR]; adjustments [1.00 EUR debit PRIC "price"]; remitted 93.00 EUR`, ""},
		{"flat .01", "01", `<DscntApldAmt Ccy="EUR">2.00</DscntApldAmt>`, `due -; discount 2.00 EUR [2.00 EUR]; credit note -; tax - []; adjustments []; remitted -`, ""},
		{"structured .03", "03", structured, structuredWant, ""},
		{"structured .08", "08", structured, structuredWant, ""},
		{"structured .14", "14", structured, structuredWant, ""},
		{"structured with white space", "08", strings.NewReplacer("<Amt", "\n  <Amt", "<Tp>", "\n  <Tp>", "</DscntApldAmt>", "\n</DscntApldAmt>").Replace(structured), structuredWant, ""},
		{"only an adjustment", "08", `<AdjstmntAmtAndRsn><Amt Ccy="EUR">4.00</Amt><CdtDbtInd>CRDT</CdtDbtInd></AdjstmntAmtAndRsn>`,
			`due -; discount - []; credit note -; tax - []; adjustments [4.00 EUR credit]; remitted -`, ""},
		{"discounts in two currencies have no total", "08",
			`<DscntApldAmt><Amt Ccy="EUR">1.00</Amt></DscntApldAmt><DscntApldAmt><Amt Ccy="USD">2.00</Amt></DscntApldAmt>`,
			`due -; discount - [1.00 EUR, 2.00 USD]; credit note -; tax - []; adjustments []; remitted -`, "DscntApldAmt: amounts in EUR and USD: no total"},
		{"tax with too many digits warns", "08", `<TaxAmt><Amt Ccy="EUR">1.005</Amt></TaxAmt>`,
			`due -; discount - []; credit note -; tax 1.005 EUR [1.005 EUR]; adjustments []; remitted -`, "RfrdDocAmt/TaxAmt/Amt: amount 1.005 has 3 fraction digits"},
	}
	for _, tc := range tests {
		for _, reference := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/reference=%v", tc.name, reference), func(t *testing.T) {
				opts := DefaultOptions()
				opts.reference = reference
				d, err := ReadAll(strings.NewReader(strdDoc(tc.ver, tc.amounts)), "r.xml", opts)
				if err != nil {
					t.Fatalf("ReadAll: %v", err)
				}
				tx := d.Statements[0].Entries[0].Transactions[0]
				if got := amountsText(tx.Remittance.Structured[0].Amounts); got != tc.want {
					t.Errorf("got  %s\nwant %s", got, tc.want)
				}
				warnings := strings.Join(tx.Warnings, "; ")
				if tc.warning == "" && warnings != "" || !strings.Contains(warnings, tc.warning) {
					t.Errorf("warnings %q, want %q", warnings, tc.warning)
				}
			})
		}
	}
}

// TestRemittanceAmountErrors: an amount that cannot be read is a located
// ErrBadValue naming the element, in either shape.
func TestRemittanceAmountErrors(t *testing.T) {
	const base = "Stmt[1]/Ntry[1]/NtryDtls/TxDtls[1]/RmtInf/Strd[1]/RfrdDocAmt/"
	tests := []struct {
		name, amounts, path, contains string
	}{
		{"flat not a number", `<DscntApldAmt Ccy="EUR">two</DscntApldAmt>`, base + "DscntApldAmt", "two"},
		{"structured without Amt", `<DscntApldAmt><Tp><Cd>TMDS</Cd></Tp></DscntApldAmt>`, base + "DscntApldAmt", "no amount"},
		{"empty", `<TaxAmt/>`, base + "TaxAmt", "no amount"},
		{"second of several", `<TaxAmt><Amt Ccy="EUR">1</Amt></TaxAmt><TaxAmt><Amt Ccy="EUR">1,5</Amt></TaxAmt>`, base + "TaxAmt[2]/Amt", "1,5"},
		{"text and Amt", `<TaxAmt Ccy="EUR">1.00<Amt Ccy="EUR">1.00</Amt></TaxAmt>`, base + "TaxAmt", "both"},
		{"adjustment without Amt", `<AdjstmntAmtAndRsn><Rsn>PRIC</Rsn></AdjstmntAmtAndRsn>`, base + "AdjstmntAmtAndRsn/Amt", "no amount"},
		{"adjustment indicator", `<AdjstmntAmtAndRsn><Amt Ccy="EUR">1</Amt><CdtDbtInd>PLUS</CdtDbtInd></AdjstmntAmtAndRsn>`, base + "AdjstmntAmtAndRsn/CdtDbtInd", "PLUS"},
	}
	for _, tc := range tests {
		for _, reference := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/reference=%v", tc.name, reference), func(t *testing.T) {
				opts := DefaultOptions()
				opts.reference = reference
				_, err := ReadAll(strings.NewReader(strdDoc("08", tc.amounts)), "r.xml", opts)
				if !errors.Is(err, ErrBadValue) {
					t.Fatalf("err = %v, want ErrBadValue", err)
				}
				var pe *ParseError
				if !errors.As(err, &pe) || !strings.HasSuffix(pe.Path, tc.path) || pe.EntryIndex != 1 || pe.StatementID != "S1" {
					t.Errorf("err %v: path %q, want …%s", err, pe.Path, tc.path)
				}
				if !strings.Contains(err.Error(), tc.contains) {
					t.Errorf("error %q does not contain %q", err, tc.contains)
				}
			})
		}
	}
}

// rmtXmllint returns the path of xmllint; without it the test fails in CI
// (CI=true) and is skipped loudly elsewhere.
func rmtXmllint(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("xmllint")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("xmllint is required in CI (apt-get install libxml2-utils, or scripts/install-test-deps.sh): %v", err)
		}
		t.Skip("SKIPPED: xmllint not installed (apt-get install libxml2-utils): the XSD validation did not run")
	}
	return path
}

// rmtSchemaDir is the folder of the official camt.05x.001.08 XSDs shipped in
// the moov-io/iso20022 module this package's tests already depend on.
func rmtSchemaDir(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/moov-io/iso20022").Output()
	dir := filepath.Join(strings.TrimSpace(string(out)), "docs", "specifications", "banktocustomer_cash_management_8")
	if err == nil {
		if _, err = os.Stat(filepath.Join(dir, "camt.053.001.08.xsd")); err == nil {
			return dir
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("locating the camt .08 XSDs in the moov-io/iso20022 module: %v", err)
	}
	t.Skipf("SKIPPED: camt .08 XSDs not found (%v): the XSD validation did not run", err)
	return ""
}

// TestRemittanceAmountsXSD: the hand-written .08 files with structured,
// repeated remittance amounts are valid against the official
// camt.05x.001.08 XSD, so the shapes the reader is tested on are the
// standard's.
func TestRemittanceAmountsXSD(t *testing.T) {
	xmllint := rmtXmllint(t)
	dir := rmtSchemaDir(t)
	validated := 0
	for _, rel := range testFiles(t) {
		name, ok := strings.CutPrefix(rel, "handmade/")
		if !ok || !strings.Contains(name, ".v08.") {
			continue
		}
		typ := name[:len("camt053")]
		xsd := filepath.Join(dir, "camt."+typ[4:]+".001.08.xsd")
		out, err := exec.Command(xmllint, "--noout", "--nonet", "--schema", xsd, filepath.Join(handmadeDir, name)).CombinedOutput()
		if err != nil {
			t.Errorf("%s is not valid against %s: %v\n%s", name, filepath.Base(xsd), err, out)
		}
		validated++
	}
	if validated == 0 {
		t.Fatal("no hand-made .v08. file validated")
	}
}
