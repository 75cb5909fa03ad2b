package camt

// The generator covers version .08 only (the XSDs moov-io ships). These
// hand-written cases cover where the other versions differ in what the
// model carries. The version each shape changed in was read from the ISO
// 20022 message definitions (the component names of each camt.053
// version, as listed by prowide-iso20022's generated model, which is built
// from the ISO XSDs); camt.052 and camt.054 changed in the same releases:
//
//   - RfrdDocAmt: .02 RemittanceAmount1, DscntApldAmt and TaxAmt are plain
//     amounts (ActiveOrHistoricCurrencyAndAmount), once each; from .03
//     RemittanceAmount2, they are DiscountAmountAndType1 and
//     TaxAmountAndType1 (an optional Tp and an Amt) and repeat.
//     AdjstmntAmtAndRsn (DocumentAdjustment1) repeats in every version.
//   - Agents: .02 FinancialInstitutionIdentification7 has BIC; from .03
//     FinancialInstitutionIdentification8 has BICFI.
//   - Ntry/Sts: .02 to .06 EntryStatus2Code, a code (<Sts>BOOK</Sts>);
//     from .07 EntryStatus1Choice (<Sts><Cd>BOOK</Cd></Sts>, or Prtry).
//   - Parties: .02 to .06 PartyIdentification32/43 (<Dbtr><Nm>); from .07
//     Party35Choice, then Party40Choice (<Dbtr><Pty><Nm>, or an Agt).
//   - TxsSummry/TtlNtries: .02 and .03 NumberAndSumOfTransactions2
//     (TtlNetNtryAmt and CdtDbtInd); from .04 NumberAndSumOfTransactions4
//     (TtlNetNtry with Amt and CdtDbtInd).
//   - Chrgs: .02 ChargesInformation6, repeated, one charge each (Amt
//     directly inside); from .03 Charges3 and later, TtlChrgsAndTaxAmt and
//     repeated Rcrd.
//
// The .08 documents are also checked with xmllint against the official XSD
// when xmllint is installed.

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// versionDoc builds a camt.053.001.<ver> statement with an account
// serviced by agent (the BIC element as the version writes it), one
// balance, the given TxsSummry (may be empty) and entries.
func versionDoc(ver, svcr, summary, entries string) string {
	return `<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.` + ver + `">
<BkToCstmrStmt><GrpHdr><MsgId>M1</MsgId><CreDtTm>2024-01-02T10:00:00</CreDtTm></GrpHdr>
<Stmt><Id>S1</Id><Acct><Id><IBAN>DE89370400440532013000</IBAN></Id><Ccy>EUR</Ccy>` + svcr + `</Acct>
<Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">100.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2024-01-02</Dt></Dt></Bal>
` + summary + entries + `
</Stmt></BkToCstmrStmt></Document>
`
}

// versionEntry is one credit of 100.00 EUR with status sts (as written),
// entry-level charges and one TxDtls.
func versionEntry(sts, chrgs, tx string) string {
	return `<Ntry><Amt Ccy="EUR">100.00</Amt><CdtDbtInd>CRDT</CdtDbtInd>` + sts + `
<BookgDt><Dt>2024-01-02</Dt></BookgDt><ValDt><Dt>2024-01-03</Dt></ValDt>
<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn></BkTxCd>` + chrgs + `
<NtryDtls><TxDtls>` + tx + `</TxDtls></NtryDtls></Ntry>`
}

const (
	stsCode   = `<Sts>BOOK</Sts>`
	stsStruct = `<Sts><Cd>BOOK</Cd></Sts>`
)

// strd is a TxDtls with one Strd whose RfrdDocAmt holds amounts.
func strd(amounts string) string {
	return `<Refs><EndToEndId>E2E-1</EndToEndId></Refs><Amt Ccy="EUR">100.00</Amt><CdtDbtInd>CRDT</CdtDbtInd>
<RmtInf><Strd><RfrdDocInf><Nb>INV-1</Nb></RfrdDocInf><RfrdDocAmt>` + amounts + `</RfrdDocAmt>
<CdtrRefInf><Ref>RF18539007547034</Ref></CdtrRefInf></Strd></RmtInf>`
}

func TestVersionDifferences(t *testing.T) {
	money := func(m *Money) string {
		if m == nil {
			return "none"
		}
		return m.Amount.StringFixed(2) + " " + m.Currency
	}
	firstTx := func(d *Document) *TxDetail { return d.Statements[0].Entries[0].Transactions[0] }
	amounts := func(d *Document) *DocumentAmounts {
		s := firstTx(d).Remittance.Structured
		if len(s) != 1 || s[0].Amounts == nil {
			return &DocumentAmounts{}
		}
		return s[0].Amounts
	}
	wantAmounts := func(want string) func(t *testing.T, d *Document) {
		return func(t *testing.T, d *Document) {
			if got := amountsText(amounts(d)); got != want {
				t.Errorf("RfrdDocAmt:\n got  %s\n want %s", got, want)
			}
		}
	}
	svcrBIC := `<Svcr><FinInstnId><BIC>COBADEFFXXX</BIC></FinInstnId></Svcr>`
	svcrBICFI := `<Svcr><FinInstnId><BICFI>COBADEFFXXX</BICFI></FinInstnId></Svcr>`
	adjust := `<AdjstmntAmtAndRsn><Amt Ccy="EUR">2.00</Amt><Rsn>DISC</Rsn></AdjstmntAmtAndRsn>` +
		`<AdjstmntAmtAndRsn><Amt Ccy="EUR">3.00</Amt><CdtDbtInd>DBIT</CdtDbtInd><AddtlInf>rounding</AddtlInf></AdjstmntAmtAndRsn>`
	type check func(t *testing.T, d *Document)
	tests := []struct {
		name, ver, doc string
		check          check
	}{
		{"RfrdDocAmt .02: plain DscntApldAmt and TaxAmt, repeated AdjstmntAmtAndRsn", "02",
			versionDoc("02", svcrBIC, "", versionEntry(stsCode, "", strd(
				`<DuePyblAmt Ccy="EUR">110.00</DuePyblAmt><DscntApldAmt Ccy="EUR">1.00</DscntApldAmt><TaxAmt Ccy="EUR">0.19</TaxAmt>`+adjust+`<RmtdAmt Ccy="EUR">100.00</RmtdAmt>`))),
			wantAmounts("due 110.00 EUR; discount 1.00 EUR [1.00 EUR]; credit note -; tax 0.19 EUR [0.19 EUR]; adjustments [2.00 EUR DISC, 3.00 EUR debit \"rounding\"]; remitted 100.00 EUR")},
		{"RfrdDocAmt .03: DscntApldAmt and TaxAmt with a type (RemittanceAmount2)", "03",
			versionDoc("03", svcrBICFI, "", versionEntry(stsCode, "", strd(
				`<DscntApldAmt><Tp><Cd>APDS</Cd></Tp><Amt Ccy="EUR">1.00</Amt></DscntApldAmt><TaxAmt><Tp><Cd>VATX</Cd></Tp><Amt Ccy="EUR">0.19</Amt></TaxAmt><RmtdAmt Ccy="EUR">100.00</RmtdAmt>`))),
			wantAmounts("due -; discount 1.00 EUR [cd:APDS 1.00 EUR]; credit note -; tax 0.19 EUR [cd:VATX 0.19 EUR]; adjustments []; remitted 100.00 EUR")},
		{"RfrdDocAmt .08: repeated DscntApldAmt and TaxAmt, without and with a type, repeated AdjstmntAmtAndRsn", "08",
			versionDoc("08", svcrBICFI, "", versionEntry(stsStruct, "", strd(
				`<DscntApldAmt><Amt Ccy="EUR">1.00</Amt></DscntApldAmt><DscntApldAmt><Tp><Prtry>EARLY</Prtry></Tp><Amt Ccy="EUR">0.50</Amt></DscntApldAmt>`+
					`<TaxAmt><Amt Ccy="EUR">0.19</Amt></TaxAmt><TaxAmt><Tp><Cd>VATX</Cd></Tp><Amt Ccy="EUR">0.07</Amt></TaxAmt>`+adjust+`<RmtdAmt Ccy="EUR">100.00</RmtdAmt>`))),
			// Every item with its type, in order; the totals are their sums.
			wantAmounts("due -; discount 1.50 EUR [1.00 EUR, prtry:EARLY 0.50 EUR]; credit note -; tax 0.26 EUR [0.19 EUR, cd:VATX 0.07 EUR]; adjustments [2.00 EUR DISC, 3.00 EUR debit \"rounding\"]; remitted 100.00 EUR")},
		{"RfrdDocAmt .08: repeated AdjstmntAmtAndRsn alone", "08",
			versionDoc("08", svcrBICFI, "", versionEntry(stsStruct, "", strd(adjust+`<RmtdAmt Ccy="EUR">100.00</RmtdAmt>`))),
			wantAmounts("due -; discount - []; credit note -; tax - []; adjustments [2.00 EUR DISC, 3.00 EUR debit \"rounding\"]; remitted 100.00 EUR")},
		{"agents .02: BIC", "02",
			versionDoc("02", svcrBIC, "", versionEntry(stsCode, "",
				`<RltdPties><Dbtr><Nm>Acme</Nm></Dbtr></RltdPties><RltdAgts><DbtrAgt><FinInstnId><BIC>DEUTDEFF</BIC></FinInstnId></DbtrAgt></RltdAgts>`)),
			func(t *testing.T, d *Document) {
				p := firstTx(d).Debtor
				if p == nil || p.BIC != "DEUTDEFF" || p.Name != "Acme" || d.Statements[0].ServicerBIC != "COBADEFFXXX" {
					t.Errorf("debtor %+v, servicer %q", p, d.Statements[0].ServicerBIC)
				}
			}},
		{"agents .03: BICFI", "03",
			versionDoc("03", svcrBICFI, "", versionEntry(stsCode, "",
				`<RltdPties><Dbtr><Nm>Acme</Nm></Dbtr></RltdPties><RltdAgts><DbtrAgt><FinInstnId><BICFI>DEUTDEFF</BICFI></FinInstnId></DbtrAgt></RltdAgts>`)),
			func(t *testing.T, d *Document) {
				p := firstTx(d).Debtor
				if p == nil || p.BIC != "DEUTDEFF" || p.Name != "Acme" || d.Statements[0].ServicerBIC != "COBADEFFXXX" {
					t.Errorf("debtor %+v, servicer %q", p, d.Statements[0].ServicerBIC)
				}
			}},
		{"Sts .06: a code", "06",
			versionDoc("06", svcrBICFI, "", versionEntry(`<Sts>PDNG</Sts>`, "", `<Refs><EndToEndId>E</EndToEndId></Refs>`)),
			func(t *testing.T, d *Document) {
				if s := d.Statements[0].Entries[0].Status; s != "PDNG" {
					t.Errorf("status %q", s)
				}
			}},
		{"Sts .07: Cd in a choice", "07",
			versionDoc("07", svcrBICFI, "", versionEntry(`<Sts><Cd>PDNG</Cd></Sts>`, "", `<Refs><EndToEndId>E</EndToEndId></Refs>`)),
			func(t *testing.T, d *Document) {
				if s := d.Statements[0].Entries[0].Status; s != "PDNG" {
					t.Errorf("status %q", s)
				}
			}},
		{"Sts .08: Prtry in the choice", "08",
			versionDoc("08", svcrBICFI, "", versionEntry(`<Sts><Prtry>HELD</Prtry></Sts>`, "", `<Refs><EndToEndId>E</EndToEndId></Refs>`)),
			func(t *testing.T, d *Document) {
				if s := d.Statements[0].Entries[0].Status; s != "HELD" {
					t.Errorf("status %q", s)
				}
			}},
		{"parties .06: Dbtr/Nm", "06",
			versionDoc("06", svcrBICFI, "", versionEntry(stsCode, "",
				`<RltdPties><Dbtr><Nm>Acme</Nm></Dbtr><DbtrAcct><Id><IBAN>FR7630006000011234567890189</IBAN></Id></DbtrAcct><Cdtr><Nm>Lettrage SA</Nm></Cdtr></RltdPties>`)),
			func(t *testing.T, d *Document) {
				tx := firstTx(d)
				if tx.Debtor == nil || tx.Debtor.Name != "Acme" || tx.Debtor.IBAN != "FR7630006000011234567890189" || tx.Creditor == nil || tx.Creditor.Name != "Lettrage SA" {
					t.Errorf("debtor %+v, creditor %+v", tx.Debtor, tx.Creditor)
				}
			}},
		{"parties .07: Dbtr/Pty/Nm", "07",
			versionDoc("07", svcrBICFI, "", versionEntry(stsStruct, "",
				`<RltdPties><Dbtr><Pty><Nm>Acme</Nm></Pty></Dbtr><DbtrAcct><Id><IBAN>FR7630006000011234567890189</IBAN></Id></DbtrAcct><Cdtr><Pty><Nm>Lettrage SA</Nm></Pty></Cdtr></RltdPties>`)),
			func(t *testing.T, d *Document) {
				tx := firstTx(d)
				if tx.Debtor == nil || tx.Debtor.Name != "Acme" || tx.Debtor.IBAN != "FR7630006000011234567890189" || tx.Creditor == nil || tx.Creditor.Name != "Lettrage SA" {
					t.Errorf("debtor %+v, creditor %+v", tx.Debtor, tx.Creditor)
				}
			}},
		{"TxsSummry .03: TtlNetNtryAmt and CdtDbtInd", "03",
			versionDoc("03", svcrBICFI, `<TxsSummry><TtlNtries><NbOfNtries>1</NbOfNtries><Sum>100.00</Sum><TtlNetNtryAmt>5.00</TtlNetNtryAmt><CdtDbtInd>DBIT</CdtDbtInd></TtlNtries></TxsSummry>`,
				versionEntry(stsCode, "", `<Refs><EndToEndId>E</EndToEndId></Refs>`)),
			func(t *testing.T, d *Document) {
				if s := d.Statements[0].Summary; s == nil || s.Net == nil || s.Net.Key() != "-5" {
					t.Errorf("summary %+v", s)
				}
			}},
		{"TxsSummry .04: TtlNetNtry", "04",
			versionDoc("04", svcrBICFI, `<TxsSummry><TtlNtries><NbOfNtries>1</NbOfNtries><Sum>100.00</Sum><TtlNetNtry><Amt>5.00</Amt><CdtDbtInd>DBIT</CdtDbtInd></TtlNetNtry></TtlNtries></TxsSummry>`,
				versionEntry(stsCode, "", `<Refs><EndToEndId>E</EndToEndId></Refs>`)),
			func(t *testing.T, d *Document) {
				if s := d.Statements[0].Summary; s == nil || s.Net == nil || s.Net.Key() != "-5" {
					t.Errorf("summary %+v", s)
				}
			}},
		{"Chrgs .02: repeated, one charge each", "02",
			versionDoc("02", svcrBIC, "", versionEntry(stsCode,
				`<Chrgs><Amt Ccy="EUR">1.50</Amt><CdtDbtInd>DBIT</CdtDbtInd><Tp><Cd>COMM</Cd></Tp></Chrgs><Chrgs><Amt Ccy="EUR">0.50</Amt><Tp><Prtry><Id>POST</Id></Prtry></Tp></Chrgs>`,
				`<Refs><EndToEndId>E</EndToEndId></Refs>`)),
			func(t *testing.T, d *Document) {
				c := d.Statements[0].Entries[0].Charges
				if c == nil || len(c.Records) != 2 || money(&c.Records[0].Amount) != "1.50 EUR" || c.Records[0].Type != "COMM" || c.Records[1].Type != "POST" {
					t.Errorf("charges %+v", c)
				}
			}},
		{"Chrgs .08: TtlChrgsAndTaxAmt and Rcrd", "08",
			versionDoc("08", svcrBICFI, "", versionEntry(stsStruct,
				`<Chrgs><TtlChrgsAndTaxAmt Ccy="EUR">2.00</TtlChrgsAndTaxAmt><Rcrd><Amt Ccy="EUR">1.50</Amt><CdtDbtInd>DBIT</CdtDbtInd><Tp><Cd>COMM</Cd></Tp></Rcrd><Rcrd><Amt Ccy="EUR">0.50</Amt><Tp><Prtry><Id>POST</Id></Prtry></Tp></Rcrd></Chrgs>`,
				`<Refs><EndToEndId>E</EndToEndId></Refs>`)),
			func(t *testing.T, d *Document) {
				c := d.Statements[0].Entries[0].Charges
				if c == nil || money(c.Total) != "2.00 EUR" || len(c.Records) != 2 || c.Records[0].Type != "COMM" || c.Records[1].Type != "POST" {
					t.Errorf("charges %+v", c)
				}
			}},
	}
	xmllint, _ := findXmllint()
	dir, dirErr := moovSpecDir()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.ver == "08" && xmllint != "" && dirErr == nil {
				f := filepath.Join(t.TempDir(), "doc.xml")
				if err := os.WriteFile(f, []byte(tc.doc), 0o644); err != nil {
					t.Fatal(err)
				}
				bad, err := xmllintBatch(xmllint, xsdPath(dir, "camt.053"), []string{f})
				if err != nil {
					t.Fatal(err)
				}
				if msgs := bad[f]; msgs != nil {
					t.Fatalf("the test document is not valid camt.053.001.08: %s", strings.Join(msgs, "; "))
				}
			}
			d, err := ReadAll(bytes.NewReader([]byte(tc.doc)), "v"+tc.ver+".xml", DefaultOptions())
			if err != nil {
				t.Fatalf("valid camt.053.001.%s refused: %v", tc.ver, err)
			}
			if d.Version != tc.ver {
				t.Fatalf("version %q, want %q", d.Version, tc.ver)
			}
			tc.check(t, d)
		})
	}
}
