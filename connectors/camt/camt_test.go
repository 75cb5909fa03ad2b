package camt

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"golang.org/x/text/encoding/charmap"

	"github.com/lettrage/lettrage/domain"
)

// stmt053 builds a camt.053.001.<ver> document with one statement on
// account DE89 3704 0044 0532 0130 00 holding the given entries.
func stmt053(ver, entries string) string {
	return `<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.` + ver + `">
<BkToCstmrStmt><GrpHdr><MsgId>M1</MsgId><CreDtTm>2024-01-02T10:00:00</CreDtTm></GrpHdr>
<Stmt><Id>S1</Id><Acct><Id><IBAN>de89 3704 0044 0532 0130 00</IBAN></Id><Ccy>EUR</Ccy></Acct>
` + entries + `
</Stmt></BkToCstmrStmt></Document>`
}

const acct = "DE89370400440532013000"

func ntry(inner string) string {
	return `<Ntry><Amt Ccy="EUR">100.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>
<BookgDt><Dt>2024-01-02</Dt></BookgDt><ValDt><Dt>2024-01-03</Dt></ValDt>` + inner + `</Ntry>`
}

func txd(inner string) string { return `<TxDtls>` + inner + `</TxDtls>` }

func readAllString(t *testing.T, s string) (*Document, error) {
	t.Helper()
	return ReadAll(strings.NewReader(s), "test.xml", DefaultOptions())
}

func projected(t *testing.T, s string) []domain.Transaction {
	t.Helper()
	d, err := readAllString(t, s)
	if err != nil {
		t.Fatalf("ReadAll: %v", err)
	}
	var out []domain.Transaction
	for _, st := range d.Statements {
		for _, e := range st.Entries {
			out = append(out, e.Projected...)
		}
	}
	return out
}

func TestErrors(t *testing.T) {
	deep := stmt053("08", ntry(strings.Repeat("<X>", 100)+strings.Repeat("</X>", 100)))
	deepOutside := `<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt>` +
		strings.Repeat("<a>", 100000) + strings.Repeat("</a>", 100000) + `</BkToCstmrStmt></Document>`
	laughs := `<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt><GrpHdr><MsgId>&lol3;</MsgId></GrpHdr></BkToCstmrStmt></Document>`
	undeclared := stmt053("02", ntry(`<AddtlNtryInf>&lol;</AddtlNtryInf>`))
	manyTx := stmt053("02", ntry(`<NtryDtls>`+strings.Repeat(txd(`<Amt Ccy="EUR">1</Amt>`), 5)+`</NtryDtls>`))
	bigEntry := stmt053("02", ntry(`<AddtlNtryInf>`+strings.Repeat("x", 5000)+`</AddtlNtryInf>`))
	small := DefaultOptions()
	small.Limits = Limits{MaxTxDtls: 4, MaxEntryBytes: 4096}

	tests := []struct {
		name        string
		in          string
		opts        *Options
		want        error
		errContains []string
	}{
		{"empty", "", nil, ErrNotCAMT, []string{"does not start with XML"}},
		{"garbage", "date;amount\n2024-01-01;12.50\n", nil, ErrNotCAMT, nil},
		{"binary", "\x00\x01\x02\xff\xfe", nil, ErrNotCAMT, nil},
		{"html", "<html><head><title>x</title></head><body><p>hi</p></body></html>", nil, ErrNotCAMT, nil},
		{"pain.001", `<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"><CstmrCdtTrfInitn/></Document>`, nil, ErrNotCAMT, []string{"pain.001"}},
		{"camt.056", `<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.056.001.08"><FIToFIPmtCxlReq/></Document>`, nil, ErrUnsupportedMessage, []string{"camt.056"}},
		{"version 15", stmt053("15", ""), nil, ErrUnsupportedMessage, []string{"version 15", ".001.01 to .001.14"}},
		{"version 00", stmt053("00", ""), nil, ErrUnsupportedMessage, []string{"version 00"}},
		{"version 100", stmt053("100", ""), nil, ErrUnsupportedMessage, []string{"version 100"}},
		{"no statement", `<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt><GrpHdr><MsgId>X</MsgId></GrpHdr></BkToCstmrStmt></Document>`, nil, ErrNoStatement, []string{"Document/BkToCstmrStmt"}},
		{"no GrpHdr", `<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt><Stmt><Id>1</Id></Stmt></BkToCstmrStmt></Document>`, nil, ErrMalformed, []string{"GrpHdr"}},
		{"wrong message element", `<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrAcctRpt/></Document>`, nil, ErrMalformed, []string{"BkToCstmrAcctRpt"}},
		{"truncated", stmt053("02", ntry(""))[:300], nil, ErrTruncated, nil},
		{"mismatched tags", strings.Replace(stmt053("02", ntry("")), "</Stmt>", "</Stmx>", 1), nil, ErrMalformed, nil},
		{"bad amount", stmt053("02", strings.Replace(ntry(""), "100.00", "1,00", 1)), nil, ErrBadValue,
			[]string{`statement "S1"`, "entry 1", "Stmt[1]/Ntry[1]/Amt", "1,00", "line 5"}},
		{"bad tx amount", stmt053("02", ntry(`<NtryDtls>`+txd(`<Amt Ccy="EUR">x</Amt>`)+`</NtryDtls>`)), nil, ErrBadValue, []string{"Ntry[1]/NtryDtls/TxDtls[1]/Amt"}},
		{"bad indicator", stmt053("02", strings.Replace(ntry(""), "CRDT", "CREDIT", 1)), nil, ErrBadValue, []string{"CdtDbtInd", "CREDIT"}},
		{"bad date", stmt053("02", strings.Replace(ntry(""), "2024-01-02", "02.01.2024", 1)), nil, ErrBadValue, []string{"BookgDt/Dt"}},
		{"entity declarations (billion laughs)", laughs, nil, ErrMalformed, []string{"entity"}},
		{"undeclared entity", undeclared, nil, ErrMalformed, []string{"entity"}},
		{"deep nesting in entry", deep, nil, ErrLimit, []string{"deeper than 64"}},
		{"deep nesting outside entries", deepOutside, nil, ErrLimit, []string{"deeper than 64"}},
		{"too many details", manyTx, &small, ErrLimit, []string{"5 transaction details", "max 4"}},
		{"entry too large", bigEntry, &small, ErrLimit, []string{"larger than 4096 bytes", "Ntry[1]"}},
		{"UTF-16 without BOM", `<?xml version="1.0" encoding="UTF-16"?><Document/>`, nil, ErrNotCAMT, []string{"UTF-16"}},
		{"unknown encoding", `<?xml version="1.0" encoding="x-klingon"?><Document/>`, nil, ErrNotCAMT, []string{"x-klingon"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opts := DefaultOptions()
			if tc.opts != nil {
				opts = *tc.opts
			}
			_, err := Parse(strings.NewReader(tc.in), "test.xml", opts, func(*Statement, *Entry, []domain.Transaction) error { return nil })
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("err %T is not a *ParseError", err)
			}
			if !strings.Contains(err.Error(), `"test.xml"`) {
				t.Errorf("error %q does not name the file", err)
			}
			for _, s := range tc.errContains {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not contain %q", err, s)
				}
			}
		})
	}
}

// TestVersions: every version from .001.01 to .001.14 of the three
// messages is read, and says so.
func TestVersions(t *testing.T) {
	for v := 1; v <= 14; v++ {
		ver := fmt.Sprintf("%02d", v)
		for _, typ := range []string{"052", "053", "054"} {
			doc := strings.Replace(stmt053(ver, ntry("")), "camt.053.", "camt."+typ+".", 1)
			doc = strings.NewReplacer("BkToCstmrStmt", map[string]string{"052": "BkToCstmrAcctRpt", "053": "BkToCstmrStmt", "054": "BkToCstmrDbtCdtNtfctn"}[typ],
				"Stmt>", map[string]string{"052": "Rpt>", "053": "Stmt>", "054": "Ntfctn>"}[typ]).Replace(doc)
			d, err := readAllString(t, doc)
			if err != nil {
				t.Errorf("camt.%s.001.%s: %v", typ, ver, err)
				continue
			}
			st := d.Statements[0]
			if d.Type != "camt."+typ || d.Version != ver || st.Message != d.Type || st.Version != ver || st.Document != 1 || st.MsgID != "M1" {
				t.Errorf("camt.%s.001.%s read as %s.%s, statement %s.%s document %d msg %q", typ, ver, d.Type, d.Version, st.Message, st.Version, st.Document, st.MsgID)
			}
		}
	}
}

func TestCallbackError(t *testing.T) {
	stop := errors.New("stop here")
	doc := stmt053("02", ntry("")+ntry(""))
	calls := 0
	_, err := Parse(strings.NewReader(doc), "f.xml", DefaultOptions(), func(st *Statement, e *Entry, txs []domain.Transaction) error {
		calls++
		return stop
	})
	if !errors.Is(err, stop) || !errors.Is(err, ErrCallback) {
		t.Fatalf("err = %v, want the callback's error", err)
	}
	if calls != 1 {
		t.Errorf("callback called %d times after an error, want 1", calls)
	}
}

// TestTruncatedCorpus cuts every corpus and hand-made file at several
// offsets inside the document: each cut must be an error (never a partial
// result, never a panic). In a file of several documents, a cut between two
// documents leaves a complete shorter file: those cuts are skipped.
func TestTruncatedCorpus(t *testing.T) {
	for _, rel := range testFiles(t) {
		if _, neg := negatives[rel]; neg {
			continue
		}
		data := readCorpus(t, rel)
		end := bytes.LastIndexByte(data, '>') // the root's closing '>'
		cuts := []int{0, 1, 10, 100, end / 3, end / 2, end - 1, end - 2, end - 20}
		for i := 1; i <= 8; i++ {
			cuts = append(cuts, end*i/9+7*i)
		}
		if docEnd := bytes.Index(data, []byte("</Document>")) + len("</Document>"); docEnd < end {
			// Around the end of the first of several documents.
			cuts = append(cuts, docEnd-1, docEnd+1, docEnd+4, docEnd+20)
		}
		for _, c := range cuts {
			if c < 0 || c >= end {
				continue
			}
			if bytes.HasSuffix(bytes.TrimRight(data[:c], " \t\r\n"), []byte("</Document>")) {
				continue // between two documents
			}
			for _, reference := range []bool{false, true} {
				opts := DefaultOptions()
				opts.reference = reference
				_, err := Parse(bytes.NewReader(data[:c]), rel, opts, nil)
				if err == nil {
					t.Errorf("%s cut at %d of %d (reference %v): no error", rel, c, len(data), reference)
					continue
				}
				if !errors.Is(err, ErrTruncated) && !errors.Is(err, ErrNotCAMT) && !errors.Is(err, ErrMalformed) {
					t.Errorf("%s cut at %d (reference %v): unexpected cause %v", rel, c, reference, err)
				}
			}
		}
	}
}

func TestEncodings(t *testing.T) {
	base := stmt053("02", ntry(`<NtryDtls>`+txd(`<RltdPties><Dbtr><Nm>Müller Zürich</Nm></Dbtr></RltdPties>`)+`</NtryDtls>`))
	latin1 := func(decl string) []byte {
		s := strings.Replace(base, `encoding="UTF-8"`, `encoding="`+decl+`"`, 1)
		b, err := charmap.ISO8859_1.NewEncoder().Bytes([]byte(s))
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte("ü")) {
			t.Fatal("encoder did not encode")
		}
		return b
	}
	utf16 := func() []byte {
		s := strings.Replace(base, `encoding="UTF-8"`, `encoding="UTF-16"`, 1)
		out := []byte{0xFF, 0xFE}
		for _, r := range s {
			out = append(out, byte(r), byte(r>>8))
		}
		return out
	}
	tests := []struct {
		name string
		in   []byte
	}{
		{"utf-8", []byte(base)},
		{"BOM", append([]byte{0xEF, 0xBB, 0xBF}, base...)},
		{"CRLF", []byte(strings.ReplaceAll(base, "\n", "\r\n"))},
		{"no declaration", []byte(base[strings.Index(base, "?>")+2:])},
		{"ISO-8859-1", latin1("ISO-8859-1")},
		{"windows-1252", latin1("windows-1252")},
		{"latin1 lower case", latin1("iso-8859-1")},
		{"UTF-16LE with BOM", utf16()},
		{"prefixed", []byte(strings.NewReplacer(`<Document xmlns=`, `<ns2:Document xmlns:ns2=`, `</Document>`, `</ns2:Document>`).Replace(base))},
		{"lowercase document", []byte(strings.NewReplacer(`<Document`, `<document`, `</Document>`, `</document>`).Replace(base))},
		{"message wrapper", []byte(`<message><AppHdr xmlns='urn:iso:std:iso:20022:tech:xsd:head.001.001.01'><MsgDefIdr>camt.053.001.02</MsgDefIdr></AppHdr>` +
			base[strings.Index(base, "?>")+2:] + `</message>`)},
		{"STUZZA namespace", []byte(strings.Replace(base, "urn:iso:std:iso:20022:tech:xsd:camt.053.001.02", "ISO:camt.053.001.02:APC:STUZZA:payments:003", 1))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := ReadAll(bytes.NewReader(tc.in), "enc.xml", DefaultOptions())
			if err != nil {
				t.Fatalf("ReadAll: %v", err)
			}
			if d.Type != "camt.053" || d.Version != "02" || len(d.Statements) != 1 {
				t.Fatalf("got %s.%s with %d statements", d.Type, d.Version, len(d.Statements))
			}
			txs := d.Statements[0].Entries[0].Projected
			if len(txs) != 1 || txs[0].Counterparty.Name != "Müller Zürich" {
				t.Fatalf("projected %+v", txs)
			}
			if txs[0].Account != acct {
				t.Errorf("account %q, want %q", txs[0].Account, acct)
			}
		})
	}
}

func TestProjection(t *testing.T) {
	amt := func(s string) string { return `<Amt Ccy="EUR">` + s + `</Amt>` }
	tests := []struct {
		name    string
		entries string
		// want: "ref amount credit" per transaction
		want []string
	}{
		{"entry only, AcctSvcrRef", ntry(`<AcctSvcrRef>E1</AcctSvcrRef>`), []string{"E1 100 C"}},
		{"entry only, NtryRef", `<Ntry><NtryRef>N1</NtryRef>` + ntry("")[6:], []string{"N1 100 C"}},
		{"one detail takes the entry amount", ntry(`<AcctSvcrRef>E1</AcctSvcrRef><NtryDtls>` + txd(`<Refs><EndToEndId>e2e</EndToEndId></Refs>`) + `</NtryDtls>`), []string{"E1 100 C"}},
		{"detail AcctSvcrRef wins", ntry(`<AcctSvcrRef>E1</AcctSvcrRef><NtryDtls>` + txd(`<Refs><AcctSvcrRef>T1</AcctSvcrRef></Refs>`+amt("100.00")) + `</NtryDtls>`), []string{"T1 100 C"}},
		{"batch suffixes", ntry(`<AcctSvcrRef>E1</AcctSvcrRef><NtryDtls>` + txd(amt("60")) + txd(`<AmtDtls><InstdAmt>`+amt("99")+`</InstdAmt><TxAmt>`+amt("40")+`</TxAmt></AmtDtls>`) + `</NtryDtls>`),
			[]string{"E1/1 60 C", "E1/2 40 C"}},
		{"batch NtryRef suffixes", `<Ntry><NtryRef>N1</NtryRef>` + ntry(`<NtryDtls>` + txd(amt("60")) + txd(amt("40")) + `</NtryDtls>`)[6:], []string{"N1/1 60 C", "N1/2 40 C"}},
		{"repeated detail refs fall back to the entry", ntry(`<AcctSvcrRef>E1</AcctSvcrRef><NtryDtls>` + txd(`<Refs><AcctSvcrRef>E1</AcctSvcrRef></Refs>`+amt("60")) + txd(`<Refs><AcctSvcrRef>E1</AcctSvcrRef></Refs>`+amt("40")) + `</NtryDtls>`),
			[]string{"E1/1 60 C", "E1/2 40 C"}},
		{"batch without detail amounts is one transaction", ntry(`<AcctSvcrRef>E1</AcctSvcrRef><NtryDtls><Btch><NbOfTxs>2</NbOfTxs></Btch>` + txd(`<RmtInf><Ustrd>a</Ustrd></RmtInf>`) + txd(`<RmtInf><Ustrd>b</Ustrd></RmtInf>`) + `</NtryDtls>`),
			[]string{"E1 100 C"}},
		{"Btch count without details", ntry(`<AcctSvcrRef>E1</AcctSvcrRef><NtryDtls><Btch><NbOfTxs>7</NbOfTxs></Btch></NtryDtls>`), []string{"E1 100 C"}},
		{"detail debit in a credit entry", ntry(`<AcctSvcrRef>E1</AcctSvcrRef><NtryDtls>` + txd(amt("110")+`<CdtDbtInd>CRDT</CdtDbtInd>`) + txd(amt("10")+`<CdtDbtInd>DBIT</CdtDbtInd>`) + `</NtryDtls>`),
			[]string{"E1/1 110 C", "E1/2 10 D"}},
		{"reused reference made unique", ntry(`<AcctSvcrRef>E1</AcctSvcrRef>`) + ntry(`<AcctSvcrRef>E1</AcctSvcrRef>`), []string{"E1 100 C", "E1#2 100 C"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			txs := projected(t, stmt053("02", tc.entries))
			var got []string
			for _, tx := range txs {
				cd := "D"
				if tx.Credit {
					cd = "C"
				}
				got = append(got, fmt.Sprintf("%s %s %s", tx.Ref, tx.Amount.Key(), cd))
				if tx.Key != acct+"|"+tx.Ref {
					t.Errorf("key %q", tx.Key)
				}
			}
			if strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestHashRefs(t *testing.T) {
	e := ntry(`<NtryDtls>` + txd(`<Refs><EndToEndId>E2E</EndToEndId></Refs><RltdPties><Dbtr><Nm>ACME</Nm></Dbtr></RltdPties>`) + `</NtryDtls>`)
	doc := stmt053("02", e+e+strings.Replace(e, "ACME", "OTHER", 1))
	a, b := projected(t, doc), projected(t, doc)
	if len(a) != 3 {
		t.Fatalf("%d transactions", len(a))
	}
	for i := range a {
		if a[i].Ref != b[i].Ref {
			t.Errorf("ref %d not stable: %q vs %q", i, a[i].Ref, b[i].Ref)
		}
		if len(a[i].Ref) != 16 || strings.Contains(a[i].Ref, acct) {
			t.Errorf("ref %q is not a 16-digit hash", a[i].Ref)
		}
	}
	if a[0].Ref == a[1].Ref || a[0].Ref == a[2].Ref || a[1].Ref == a[2].Ref {
		t.Errorf("identical lines share a ref: %q %q %q", a[0].Ref, a[1].Ref, a[2].Ref)
	}
	// The first occurrence does not depend on what follows.
	single := projected(t, stmt053("02", e))
	if single[0].Ref != a[0].Ref {
		t.Errorf("ref of the first occurrence changed: %q vs %q", single[0].Ref, a[0].Ref)
	}
}

func TestRichModel(t *testing.T) {
	doc := stmt053("08", `<Ntry><NtryRef>NR</NtryRef><Amt Ccy="EUR">.23</Amt><CdtDbtInd>CRDT</CdtDbtInd><RvslInd>true</RvslInd>
<Sts><Cd>BOOK</Cd></Sts><BookgDt><DtTm>2024-01-02T10:11:12.123456789</DtTm></BookgDt><ValDt><Dt>2024-01-03+02:00</Dt></ValDt>
<AcctSvcrRef>ASR</AcctSvcrRef><BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn><Prtry><Cd>166</Cd><Issr>DK</Issr></Prtry></BkTxCd>
<Chrgs><TtlChrgsAndTaxAmt Ccy="EUR">1.5</TtlChrgsAndTaxAmt><Rcrd><Amt Ccy="EUR">1.5</Amt><CdtDbtInd>DBIT</CdtDbtInd><ChrgInclInd>true</ChrgInclInd></Rcrd></Chrgs>
<NtryDtls><TxDtls><Refs><MsgId>M</MsgId><AcctSvcrRef>T</AcctSvcrRef><PmtInfId>P</PmtInfId><InstrId>I</InstrId><EndToEndId>E</EndToEndId><UETR>U</UETR><TxId>X</TxId><MndtId>MD</MndtId></Refs>
<Amt Ccy="EUR">0.235</Amt><AmtDtls><InstdAmt><Amt Ccy="USD">0.25</Amt><CcyXchg><SrcCcy>USD</SrcCcy><TrgtCcy>EUR</TrgtCcy><XchgRate>0.94</XchgRate></CcyXchg></InstdAmt></AmtDtls>
<RltdPties><Dbtr><Pty><Nm>Payer</Nm></Pty></Dbtr><DbtrAcct><Id><IBAN>fr76 3000 6000 0112 3456 7890 189</IBAN></Id></DbtrAcct><UltmtDbtr><Pty><Nm>Ult</Nm></Pty></UltmtDbtr>
<Cdtr><Nm>Us</Nm></Cdtr><CdtrAcct><Id><Othr><Id>12345</Id></Othr></Id></CdtrAcct></RltdPties>
<RltdAgts><DbtrAgt><FinInstnId><BICFI>bnpafrpp</BICFI></FinInstnId></DbtrAgt></RltdAgts>
<RmtInf><Ustrd>line 1</Ustrd><Ustrd>line 2</Ustrd>
<Strd><RfrdDocInf><Tp><CdOrPrtry><Cd>CINV</Cd></CdOrPrtry></Tp><Nb>INV-1</Nb></RfrdDocInf><RfrdDocAmt><RmtdAmt Ccy="EUR">0.23</RmtdAmt></RfrdDocAmt>
<CdtrRefInf><Tp><CdOrPrtry><Cd>SCOR</Cd></CdOrPrtry><Issr>ISO</Issr></Tp><Ref>RF18539007547034</Ref></CdtrRefInf><AddtlRmtInf>more</AddtlRmtInf></Strd>
<Strd><CdtrRefInf><Tp><CdOrPrtry><Prtry>QRR</Prtry></CdOrPrtry></Tp><Ref>210000000003139471430009017</Ref></CdtrRefInf></Strd></RmtInf>
<RtrInf><Rsn><Cd>AC04</Cd></Rsn><AddtlInf>closed</AddtlInf></RtrInf><AddtlTxInf>tx info</AddtlTxInf></TxDtls></NtryDtls>
<AddtlNtryInf>entry info</AddtlNtryInf></Ntry>`)
	d, err := readAllString(t, doc)
	if err != nil {
		t.Fatal(err)
	}
	e := d.Statements[0].Entries[0]
	if e.Amount.String() != "0.23" || !e.Reversal || e.Status != "BOOK" || e.BookingDate == nil || e.BookingDate.Nanosecond() != 123456789 {
		t.Errorf("entry %+v", e)
	}
	if e.ValueDate == nil || e.ValueDate.Format("2006-01-02") != "2024-01-03" {
		t.Errorf("value date %v", e.ValueDate)
	}
	if e.BankTxCode != (BankTxCode{"PMNT", "RCDT", "ESCT", "166", "DK"}) {
		t.Errorf("bank tx code %+v", e.BankTxCode)
	}
	if e.Charges == nil || e.Charges.Total.Amount.String() != "1.5" || len(e.Charges.Records) != 1 || !*e.Charges.Records[0].Included {
		t.Errorf("charges %+v", e.Charges)
	}
	tx := e.Transactions[0]
	if tx.Refs != (Refs{MsgID: "M", AcctSvcrRef: "T", PmtInfID: "P", InstrID: "I", EndToEndID: "E", UETR: "U", TxID: "X", MndtID: "MD"}) {
		t.Errorf("refs %+v", tx.Refs)
	}
	if len(tx.Warnings) != 1 || !strings.Contains(tx.Warnings[0], "3 fraction digits") {
		t.Errorf("warnings %q", tx.Warnings)
	}
	if tx.Instructed == nil || tx.Instructed.Currency != "USD" || tx.Instructed.Exchange.Rate != "0.94" {
		t.Errorf("instructed %+v", tx.Instructed)
	}
	if tx.Return == nil || tx.Return.Reason != "AC04" {
		t.Errorf("return %+v", tx.Return)
	}
	p := e.Projected[0]
	want := domain.Party{Name: "Payer", IBAN: "FR7630006000011234567890189", BIC: "BNPAFRPP", UltimateName: "Ult"}
	if p.Counterparty != want {
		t.Errorf("counterparty %+v", p.Counterparty)
	}
	if p.Ref != "T" || p.Amount.String() != "0.235" || !p.Return || !p.Reversal || p.EndToEndID != "E" {
		t.Errorf("projected %+v", p)
	}
	if fmt.Sprint(p.Structured) != "[{SCOR ISO RF18539007547034} {QRR  210000000003139471430009017}]" ||
		fmt.Sprint(p.Documents) != "[INV-1]" || fmt.Sprint(p.Unstructured) != "[line 1 line 2]" ||
		fmt.Sprint(p.Additional) != "[tx info more entry info]" {
		t.Errorf("remittance %v %v %v %v", p.Structured, p.Documents, p.Unstructured, p.Additional)
	}
}

func TestChecks(t *testing.T) {
	bal := func(code, amt, cd string) string {
		return `<Bal><Tp><CdOrPrtry><Cd>` + code + `</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">` + amt + `</Amt><CdtDbtInd>` + cd + `</CdtDbtInd><Dt><Dt>2024-01-02</Dt></Dt></Bal>`
	}
	sum := `<TxsSummry><TtlNtries><NbOfNtries>2</NbOfNtries><Sum>150</Sum></TtlNtries><TtlCdtNtries><NbOfNtries>1</NbOfNtries><Sum>100</Sum></TtlCdtNtries><TtlDbtNtries><NbOfNtries>1</NbOfNtries><Sum>50</Sum></TtlDbtNtries></TxsSummry>`
	debit := strings.Replace(strings.Replace(ntry(""), "CRDT", "DBIT", 1), "100.00", "50", 1)
	pending := strings.Replace(ntry(""), "BOOK", "PDNG", 1)
	tests := []struct {
		name, body string
		want       string
	}{
		{"consistent", bal("OPBD", "10", "DBIT") + bal("CLBD", "40", "CRDT") + sum + ntry("") + debit,
			"entry_count:true entry_sum:true credit_count:true credit_sum:true debit_count:true debit_sum:true balance:true"},
		{"wrong closing", bal("PRCD", "10", "CRDT") + bal("CLBD", "40", "CRDT") + ntry("") + debit, "balance:false"},
		{"pending not booked", bal("OPBD", "10", "CRDT") + bal("CLBD", "10", "CRDT") + pending, "balance:true"},
		{"summary mismatch", sum + ntry(""), "entry_count:false entry_sum:false credit_count:true credit_sum:true debit_count:false debit_sum:false"},
		{"batch count", ntry(`<NtryDtls><Btch><NbOfTxs>3</NbOfTxs></Btch>` + txd(`<Amt Ccy="EUR">60</Amt>`) + txd(`<Amt Ccy="EUR">40</Amt>`) + `</NtryDtls>`), "batch_count:false"},
		{"batch summary detail", ntry(`<NtryDtls><Btch><NbOfTxs>3</NbOfTxs></Btch>` + txd(`<Refs><PmtInfId>P</PmtInfId></Refs>`) + `</NtryDtls>`), ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := readAllString(t, stmt053("02", tc.body))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, c := range d.Statements[0].Checks {
				got = append(got, fmt.Sprintf("%s:%v", c.Name, c.OK))
			}
			if strings.Join(got, " ") != tc.want {
				t.Errorf("checks %q, want %q", strings.Join(got, " "), tc.want)
			}
		})
	}
}

func TestSniff(t *testing.T) {
	for _, rel := range testFiles(t) {
		data := readCorpus(t, rel)
		if len(data) > 4096 {
			data = data[:4096]
		}
		if !Sniff(data) {
			t.Errorf("Sniff(%s) = false", rel)
		}
	}
	utf16 := []byte{0xFF, 0xFE}
	for _, r := range `<?xml version="1.0" encoding="UTF-16"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">` {
		utf16 = append(utf16, byte(r), 0)
	}
	if !Sniff(utf16) {
		t.Error("Sniff(UTF-16LE camt.053) = false")
	}
	for _, s := range []string{"", "date;amount\n", "%PDF-1.4", `<?xml version="1.0"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.03">`,
		"hello camt.053.001.02", `{"camt.053.001.02": 1}`} {
		if Sniff([]byte(s)) {
			t.Errorf("Sniff(%q) = true", s)
		}
	}
}

func TestReadErrors(t *testing.T) {
	boom := errors.New("connection reset")
	doc := stmt053("02", ntry("")+ntry(""))
	for _, cut := range []int{0, 50, len(doc) / 2, len(doc) - 5} {
		r := io.MultiReader(strings.NewReader(doc[:cut]), iotest.ErrReader(boom))
		_, err := Parse(r, "r.xml", DefaultOptions(), nil)
		if !errors.Is(err, boom) {
			t.Errorf("cut %d: err = %v, want the reader's error", cut, err)
		}
		if errors.Is(err, ErrNotCAMT) || errors.Is(err, ErrMalformed) || errors.Is(err, ErrTruncated) {
			t.Errorf("cut %d: a read error is classified as a document error: %v", cut, err)
		}
	}
	// A reader handing out one byte at a time reads the same document.
	d, err := ReadAll(iotest.OneByteReader(strings.NewReader(doc)), "one.xml", DefaultOptions())
	if err != nil || len(d.Statements[0].Entries) != 2 {
		t.Fatalf("one byte reader: %v", err)
	}
}

// TestBatchWithoutDetailAmounts: a batch entry whose details carry no
// amount is one transaction with every detail's remittance; it keeps the
// end-to-end id only when one detail gives it and the counterparty only
// when the details name one — read in three layers and in one alike.
func TestBatchWithoutDetailAmounts(t *testing.T) {
	dbtr := func(nm string) string {
		return `<RltdPties><Dbtr><Nm>` + nm + `</Nm></Dbtr></RltdPties>`
	}
	e2e := func(id string) string { return `<Refs><EndToEndId>` + id + `</EndToEndId></Refs>` }
	tests := []struct {
		name, details string
		e2e, payer    string
	}{
		{"one id, one payer", txd(e2e("E-1")+dbtr("ACME")) + txd(e2e("NOTPROVIDED")+dbtr("ACME")), "E-1", "ACME"},
		{"two ids, two payers", txd(e2e("E-1")+dbtr("ACME")) + txd(e2e("E-2")+dbtr("BETA")), "", ""},
		{"no id", txd(dbtr("ACME")) + txd(dbtr("ACME")), "", "ACME"},
	}
	for _, tc := range tests {
		for _, headers := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/one-layer=%v", tc.name, headers), func(t *testing.T) {
				doc := stmt053("08", ntry(`<AcctSvcrRef>E1</AcctSvcrRef><NtryDtls><Btch><NbOfTxs>2</NbOfTxs></Btch>`+tc.details+`</NtryDtls>`))
				opts := DefaultOptions()
				opts.EntryHeaders = headers
				var txs []domain.Transaction
				p, err := newParser(strings.NewReader(doc), "x.xml", opts)
				if err != nil {
					t.Fatal(err)
				}
				p.fn = func(_ *Statement, _ *Entry, got []domain.Transaction) error {
					txs = append(txs, got...)
					return nil
				}
				if err := p.run(); err != nil {
					t.Fatal(err)
				}
				if len(txs) != 1 {
					t.Fatalf("%d transactions, want 1", len(txs))
				}
				if txs[0].EndToEndID != tc.e2e || txs[0].Counterparty.Name != tc.payer {
					t.Errorf("end-to-end %q payer %q, want %q %q", txs[0].EndToEndID, txs[0].Counterparty.Name, tc.e2e, tc.payer)
				}
			})
		}
	}
}
