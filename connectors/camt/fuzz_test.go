package camt

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/lettrage/lettrage/domain"
)

// FuzzParse: Parse never panics, stays within its limits, returns either a
// *ParseError or a file with at least one statement, and agrees with
// ReadAll. Seeds are the corpus files and hand-made edge cases.
func FuzzParse(f *testing.F) {
	// Large seeds make the Go fuzzer crawl: seed with the corpus files of
	// at most 16 KB (the big ones are covered by TestTruncatedCorpus).
	for _, rel := range testFiles(f) {
		if b := readCorpus(f, rel); len(b) <= 16<<10 {
			f.Add(b)
		}
	}
	f.Add([]byte(stmt053("08", ntry(`<NtryDtls>`+txd(`<Amt Ccy="EUR">1</Amt>`)+txd(`<Amt Ccy="EUR">2</Amt>`)+`</NtryDtls>`))))
	f.Add([]byte(`<message><AppHdr/><Document xmlns="camt.054.001.04"><BkToCstmrDbtCdtNtfctn/></Document></message>`))
	f.Add([]byte("\xEF\xBB\xBF<?xml version='1.0' encoding='ISO-8859-1'?><document/>"))
	// Several documents in one file, with what may and may not follow.
	a, b := stmt053("02", ntry(`<AcctSvcrRef>A</AcctSvcrRef>`)), ntfctn054("08", "M2", ntry(`<AcctSvcrRef>B</AcctSvcrRef>`))
	f.Add([]byte(a + "\n\xEF\xBB\xBF" + b + "\n<!-- end -->\n"))
	f.Add([]byte("<message><AppHdr/>" + a[39:] + "</message><message><AppHdr/>" + b[39:] + "</message>"))
	f.Add([]byte(a + "\ngarbage"))
	f.Add([]byte(a + `<?xml version="1.0" encoding="ISO-8859-1"?>` + b[39:]))
	// Remittance amounts in both shapes.
	f.Add([]byte(strdDoc("02", `<DscntApldAmt Ccy="EUR">2</DscntApldAmt><TaxAmt Ccy="EUR">1</TaxAmt><AdjstmntAmtAndRsn><Amt Ccy="EUR">1</Amt><CdtDbtInd>DBIT</CdtDbtInd></AdjstmntAmtAndRsn>`)))
	f.Add([]byte(strdDoc("14", `<DscntApldAmt><Tp><Cd>TMDS</Cd></Tp><Amt Ccy="EUR">1</Amt></DscntApldAmt><TaxAmt><Tp><Prtry>V</Prtry></Tp><Amt Ccy="EUR">2</Amt></TaxAmt><TaxAmt><Amt Ccy="USD">2</Amt></TaxAmt>`)))
	// Lexical forms of XML Schema that Go's parsers do not take as they
	// are: the end-of-day time 24:00:00 and amounts with many leading zeros.
	f.Add([]byte(strings.Replace(stmt053("08", strings.Replace(ntry(`<AcctSvcrRef>Z</AcctSvcrRef>`), "<Dt>2024-01-02</Dt></BookgDt>", "<DtTm>2024-01-01T24:00:00.0+01:00</DtTm></BookgDt>", 1)),
		`<Amt Ccy="EUR">100.00`, `<Amt Ccy="EUR">`+strings.Repeat("0", 45)+`100.00`, 1)))
	opts := DefaultOptions()
	opts.Limits = Limits{MaxDepth: 40, MaxEntryBytes: 1 << 20, MaxTxDtls: 1000}
	f.Fuzz(func(t *testing.T, data []byte) {
		n := 0
		file, err := Parse(bytes.NewReader(data), "fuzz.xml", opts, func(st *Statement, e *Entry, txs []domain.Transaction) error {
			n += len(txs)
			for _, tx := range txs {
				if tx.Ref == "" || tx.Key != st.Account+"|"+tx.Ref {
					t.Fatalf("bad key %q ref %q", tx.Key, tx.Ref)
				}
			}
			if len(txs) == 0 {
				t.Fatal("entry without transactions")
			}
			return nil
		})
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %T is not a *ParseError: %v", err, err)
			}
			return
		}
		if len(file.Statements) == 0 {
			t.Fatal("success without statements")
		}
		for i, st := range file.Statements {
			if st.Index != i+1 || st.Document < 1 || st.Message == "" || i > 0 && st.Document < file.Statements[i-1].Document {
				t.Fatalf("statement %d: index %d, document %d, message %q", i+1, st.Index, st.Document, st.Message)
			}
		}
		doc, err := ReadAll(bytes.NewReader(data), "fuzz.xml", opts)
		if err != nil {
			t.Fatalf("Parse succeeded, ReadAll failed: %v", err)
		}
		m := 0
		for _, st := range doc.Statements {
			for _, e := range st.Entries {
				m += len(e.Projected)
			}
		}
		if m != n {
			t.Fatalf("Parse gave %d transactions, ReadAll %d", n, m)
		}
	})
}
