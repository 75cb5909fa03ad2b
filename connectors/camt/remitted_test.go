package camt

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// TestProjectRemitted: each Strd block that names one document with its
// amounts reaches the matcher as a RemittedDocument (the payer's split), on
// both entry paths; blocks without amounts, with several documents or with
// amounts in two currencies do not.
func TestProjectRemitted(t *testing.T) {
	strd := func(inner string) string { return `<Strd>` + inner + `</Strd>` }
	doc := func(tp, nb string) string {
		return `<RfrdDocInf><Tp><CdOrPrtry><Cd>` + tp + `</Cd></CdOrPrtry></Tp><Nb>` + nb + `</Nb></RfrdDocInf>`
	}
	rmt := strd(doc("CINV", "FA-2025-00101")+`<RfrdDocAmt><DuePyblAmt Ccy="EUR">250.00</DuePyblAmt>`+
		`<DscntApldAmt><Tp><Cd>TMDS</Cd></Tp><Amt Ccy="EUR">5.00</Amt></DscntApldAmt><RmtdAmt Ccy="EUR">245.00</RmtdAmt></RfrdDocAmt>`) +
		strd(doc("CREN", "AV-2025-00007")+`<RfrdDocAmt><CdtNoteAmt Ccy="EUR">40.00</CdtNoteAmt></RfrdDocAmt>`) +
		strd(`<RfrdDocAmt><DuePyblAmt Ccy="EUR">100.00</DuePyblAmt><TaxAmt><Amt Ccy="EUR">3.00</Amt></TaxAmt>`+
			`<AdjstmntAmtAndRsn><Amt Ccy="EUR">2.00</Amt><CdtDbtInd>DBIT</CdtDbtInd><Rsn>DAMG</Rsn><AddtlInf>broken</AddtlInf></AdjstmntAmtAndRsn>`+
			`<RmtdAmt Ccy="EUR">95.00</RmtdAmt></RfrdDocAmt><CdtrRefInf><Ref>RF18539007547034</Ref></CdtrRefInf>`) +
		strd(doc("CINV", "FA-2025-00102")) + // no amounts
		strd(doc("CINV", "FA-2025-00103")+doc("CINV", "FA-2025-00104")+`<RfrdDocAmt><RmtdAmt Ccy="EUR">10.00</RmtdAmt></RfrdDocAmt>`) +
		strd(doc("CINV", "FA-2025-00105")+`<RfrdDocAmt><DuePyblAmt Ccy="EUR">10.00</DuePyblAmt><RmtdAmt Ccy="USD">10.00</RmtdAmt></RfrdDocAmt>`)
	const want = `[{"number":"FA-2025-00101","type":"CINV","currency":"EUR","remitted":"245.00","due":"250.00","discount":"5.00"},` +
		`{"number":"AV-2025-00007","type":"CREN","currency":"EUR","credit_note":"40.00"},` +
		`{"reference":"RF18539007547034","currency":"EUR","remitted":"95.00","due":"100.00","tax":"3.00",` +
		`"adjustments":[{"amount":"2.00","reason":"DAMG","info":"broken"}]}]`
	for _, reference := range []bool{false, true} {
		t.Run(fmt.Sprintf("reference=%v", reference), func(t *testing.T) {
			opts := DefaultOptions()
			opts.reference = reference
			x := stmt053("08", ntry(`<NtryDtls>`+txd(`<Amt Ccy="EUR">300.00</Amt><RmtInf>`+rmt+`</RmtInf>`)+`</NtryDtls>`))
			d, err := ReadAll(strings.NewReader(x), "r.xml", opts)
			if err != nil {
				t.Fatalf("ReadAll: %v", err)
			}
			tx := d.Statements[0].Entries[0].Projected[0]
			got, _ := json.Marshal(tx.Remitted)
			if string(got) != want {
				t.Errorf("remitted\n got  %s\n want %s", got, want)
			}
			if !tx.Remitted[1].IsCreditNote() || tx.Remitted[0].IsCreditNote() {
				t.Errorf("credit note flags wrong: %+v", tx.Remitted)
			}
			// the numbers still reach Documents, the reference Structured
			if n := strings.Join(tx.Documents, " "); !strings.Contains(n, "FA-2025-00102") || !strings.Contains(n, "FA-2025-00104") {
				t.Errorf("documents %q lost numbers", n)
			}
		})
	}
}
