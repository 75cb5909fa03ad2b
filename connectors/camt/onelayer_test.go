package camt

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/lettrage/lettrage/domain"
)

// entryHead is what Options.EntryHeaders promises of the Entry given to
// the callback.
type entryHead struct {
	Index          int
	Offset         int64
	Amount         string
	Currency       string
	Credit         bool
	Reversal       bool
	Status         string
	BookingDate    *time.Time
	ValueDate      *time.Time
	AcctSvcrRef    string
	NtryRef        string
	Instructed     *Money
	AdditionalInfo string
	Batches        []Batch
	BatchCount     int
}

// parsedRun is one Parse of an input, rendered for comparison.
type parsedRun struct {
	out      []byte // every entry's header and transactions, then the file
	err      string
	oneLayer int // entries decoded in one layer
}

func parseRun(t testing.TB, data []byte, opts Options, headers bool) parsedRun {
	t.Helper()
	opts.EntryHeaders = headers
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	var r parsedRun
	p, err := newParser(bytes.NewReader(data), "x.xml", opts)
	if err == nil {
		p.fn = func(st *Statement, e *Entry, txs []domain.Transaction) error {
			h := entryHead{Index: e.Index, Offset: e.Offset, Amount: e.Amount.Key(), Currency: e.Currency,
				Credit: e.Credit, Reversal: e.Reversal, Status: e.Status, BookingDate: e.BookingDate,
				ValueDate: e.ValueDate, AcctSvcrRef: e.AcctSvcrRef, NtryRef: e.NtryRef, Instructed: e.Instructed,
				AdditionalInfo: e.AdditionalInfo, Batches: e.Batches, BatchCount: e.BatchCount}
			if len(h.Batches) == 0 {
				h.Batches = nil
			}
			return enc.Encode(struct {
				Statement int
				Head      entryHead
				Txs       []domain.Transaction
			}{st.Index, h, txs})
		}
		err = p.run()
		r.oneLayer = p.one.count
		if err == nil {
			if err := enc.Encode(p.file); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err != nil {
		r.err = err.Error()
	}
	r.out = buf.Bytes()
	return r
}

// checkOneLayer parses data both ways and fails on any difference: the
// entries' headers and transactions, the statements and their checks, the
// error (message, file, statement, element, offset alike).
func checkOneLayer(t testing.TB, data []byte, opts Options) parsedRun {
	t.Helper()
	three := parseRun(t, data, opts, false)
	one := parseRun(t, data, opts, true)
	if three.oneLayer != 0 {
		t.Fatalf("%d entries decoded in one layer without EntryHeaders", three.oneLayer)
	}
	if one.err != three.err {
		t.Fatalf("errors differ:\n one   %s\n three %s", one.err, three.err)
	}
	if !bytes.Equal(one.out, three.out) {
		t.Fatalf("results differ: %s", shortDiff(one.out, three.out))
	}
	return one
}

// oneLayerSeeds exercise the one-layer decode's edges: repeated singular
// elements (merged as encoding/xml does), every element it reads, and the
// values and shapes it leaves to the three-layer path.
func oneLayerSeeds() []string {
	amt := `<Amt Ccy="EUR">1</Amt>`
	pty := `<RltdPties><Dbtr><Nm> A </Nm><Pty><Nm>B</Nm></Pty></Dbtr><DbtrAcct><Id><IBAN>de89 3704 0044 0532 0130 00</IBAN></Id></DbtrAcct>` +
		`<UltmtDbtr><Nm>U</Nm></UltmtDbtr><Cdtr><Pty><Nm>C</Nm></Pty></Cdtr><CdtrAcct><Id><Othr><Id>O-1</Id></Othr></Id></CdtrAcct><UltmtCdtr><Pty><Nm>V</Nm></Pty></UltmtCdtr></RltdPties>` +
		`<RltdAgts><DbtrAgt><FinInstnId><BIC>abcdefgh</BIC></FinInstnId></DbtrAgt><CdtrAgt><FinInstnId><BICFI>CDEFGHIJ</BICFI><BIC>X</BIC></FinInstnId></CdtrAgt></RltdAgts>`
	strd := `<Strd><RfrdDocInf><Tp><CdOrPrtry><Cd>CINV</Cd></CdOrPrtry></Tp><Nb>INV-1</Nb></RfrdDocInf>` +
		`<RfrdDocAmt><DuePyblAmt Ccy="EUR">10</DuePyblAmt><RmtdAmt Ccy="EUR">9</RmtdAmt><CdtNoteAmt Ccy="EUR">0.5</CdtNoteAmt>` +
		`<DscntApldAmt Ccy="EUR">0.5</DscntApldAmt><TaxAmt><Tp><Cd>VAT</Cd></Tp><Amt Ccy="EUR">1</Amt></TaxAmt>` +
		`<AdjstmntAmtAndRsn><Amt Ccy="EUR">0.1</Amt><CdtDbtInd>CRDT</CdtDbtInd><Rsn>R</Rsn><AddtlInf>I</AddtlInf></AdjstmntAmtAndRsn></RfrdDocAmt>` +
		`<CdtrRefInf><Tp><CdOrPrtry><Cd>SCOR</Cd></CdOrPrtry><Issr>ISO</Issr></Tp><Ref>RF18 1</Ref></CdtrRefInf><AddtlRmtInf> more </AddtlRmtInf></Strd>`
	xchg := `<AmtDtls><InstdAmt><Amt Ccy="USD">1.2</Amt><CcyXchg><SrcCcy>USD</SrcCcy><XchgRate>1.1</XchgRate></CcyXchg></InstdAmt>` +
		`<TxAmt><Amt Ccy="EUR">1</Amt><CcyXchg><XchgRate>9</XchgRate></CcyXchg></TxAmt></AmtDtls>`
	full := `<Refs><AcctSvcrRef>R1</AcctSvcrRef><EndToEndId>E1</EndToEndId></Refs>` + amt + `<CdtDbtInd>CRDT</CdtDbtInd>` + xchg + pty +
		`<RmtInf><Ustrd> u1 </Ustrd>` + strd + `<Ustrd/><Ustrd>u2</Ustrd></RmtInf><RtrInf><Rsn><Cd>AC01</Cd></Rsn></RtrInf><AddtlTxInf>t1</AddtlTxInf><AddtlTxInf> t2</AddtlTxInf>`
	return []string{
		stmt053("08", ntry(`<NtryDtls>`+txd(full)+`</NtryDtls><AddtlNtryInf>n1</AddtlNtryInf><AddtlNtryInf>n2</AddtlNtryInf>`)),
		stmt053("08", ntry(`<NtryDtls>`+txd(full)+txd(strings.Replace(full, "CRDT", "DBIT", 1))+`</NtryDtls>`)),
		stmt053("08", ntry(`<NtryDtls>`+txd(`<Refs><EndToEndId>E1</EndToEndId></Refs>`+pty)+txd(`<Refs><EndToEndId>NOTPROVIDED</EndToEndId></Refs><RmtInf>`+strd+`</RmtInf>`)+`</NtryDtls>`)),
		stmt053("08", ntry(`<NtryDtls><Btch><MsgId>M</MsgId><PmtInfId>P</PmtInfId><NbOfTxs>2</NbOfTxs><TtlAmt Ccy="EUR">2</TtlAmt><CdtDbtInd>CRDT</CdtDbtInd></Btch>`+txd(amt)+txd(amt)+`</NtryDtls>`)),
		stmt053("08", ntry(`<NtryDtls><Btch><NbOfTxs>3</NbOfTxs></Btch><Btch><MsgId>M2</MsgId></Btch>`+txd(`<Refs><AcctSvcrRef>S</AcctSvcrRef></Refs>`+amt)+txd(`<Refs><AcctSvcrRef>S</AcctSvcrRef></Refs>`+amt)+`</NtryDtls>`)),
		stmt053("02", ntry(`<NtryDtls><Btch><NbOfTxs>1</NbOfTxs></Btch>`+txd(`<Refs><EndToEndId>E</EndToEndId></Refs>`)+`</NtryDtls>`)),
		// .01: Btch and TxDtls directly under Ntry, before the NtryDtls ones.
		stmt053("01", ntry(`<NtryDtls>`+txd(`<Refs><AcctSvcrRef>B</AcctSvcrRef></Refs>`+amt)+`</NtryDtls><Btch><PmtInfId>P1</PmtInfId><NbOfTxs>2</NbOfTxs></Btch>`+txd(`<Refs><AcctSvcrRef>A</AcctSvcrRef></Refs>`+amt))),
		// Repeated singular elements: merged, last text wins.
		stmt053("08", ntry(`<NtryRef>X</NtryRef><NtryRef>Y</NtryRef><Sts>t<Cd>BOOK</Cd></Sts><Sts><Prtry>P</Prtry></Sts><RvslInd>TRUE</RvslInd>`+
			`<AmtDtls><InstdAmt><Amt Ccy="USD">3</Amt></InstdAmt></AmtDtls><AmtDtls><InstdAmt><Amt>4</Amt></InstdAmt></AmtDtls>`)),
		stmt053("08", ntry(`<NtryDtls>`+txd(`<Amt Ccy="USD">1</Amt><Amt>2</Amt><Refs><AcctSvcrRef>A</AcctSvcrRef></Refs><Refs><EndToEndId>E</EndToEndId></Refs>`+
			`<RltdPties><Dbtr><Nm>A</Nm></Dbtr></RltdPties><RltdPties><Dbtr><Pty><Nm>B</Nm></Pty></Dbtr><DbtrAcct><Id><BBAN>1</BBAN></Id></DbtrAcct></RltdPties>`+
			`<RmtInf><Strd><RfrdDocInf><Nb>1</Nb></RfrdDocInf><RfrdDocAmt><RmtdAmt Ccy="EUR">1</RmtdAmt></RfrdDocAmt><RfrdDocAmt><RmtdAmt>2</RmtdAmt><TaxAmt Ccy="EUR">1</TaxAmt></RfrdDocAmt></Strd></RmtInf><RmtInf><Ustrd>x</Ustrd><Strd><CdtrRefInf><Ref>R</Ref></CdtrRefInf><CdtrRefInf><Tp><Issr>I</Issr></Tp></CdtrRefInf></Strd></RmtInf>`)+`</NtryDtls>`)),
		// Documents that give no remitted document: two numbers, none,
		// several currencies, no amounts.
		stmt053("08", ntry(`<NtryDtls>`+txd(amt+`<RmtInf><Strd><RfrdDocInf><Nb>1</Nb></RfrdDocInf><RfrdDocInf><Nb>2</Nb></RfrdDocInf><RfrdDocAmt><RmtdAmt Ccy="EUR">1</RmtdAmt></RfrdDocAmt></Strd>`+
			`<Strd><RfrdDocAmt><RmtdAmt Ccy="EUR">1</RmtdAmt></RfrdDocAmt></Strd><Strd><RfrdDocInf><Nb>3</Nb></RfrdDocInf><RfrdDocAmt><RmtdAmt Ccy="EUR">1</RmtdAmt><DuePyblAmt Ccy="USD">1</DuePyblAmt></RfrdDocAmt></Strd>`+
			`<Strd><RfrdDocInf><Nb>4</Nb></RfrdDocInf><RfrdDocAmt/></Strd><Strd><RfrdDocInf><Nb>5</Nb></RfrdDocInf><RfrdDocAmt><TaxAmt Ccy="EUR">1</TaxAmt><TaxAmt Ccy="USD">1</TaxAmt></RfrdDocAmt></Strd>`+
			`<Strd><CdtrRefInf><Ref>R</Ref></CdtrRefInf><RfrdDocAmt><DscntApldAmt><Amt Ccy="EUR">1</Amt></DscntApldAmt><DscntApldAmt Ccy="EUR">2</DscntApldAmt><AdjstmntAmtAndRsn><Amt>1</Amt></AdjstmntAmtAndRsn></RfrdDocAmt></Strd></RmtInf>`)+`</NtryDtls>`)),
		// Dates: DtTm, end of day, Dt over DtTm, no booking date.
		strings.Replace(stmt053("08", ntry("")), "<BookgDt><Dt>2024-01-02</Dt></BookgDt>", "<BookgDt><DtTm>2024-01-01T24:00:00+01:00</DtTm></BookgDt><ValDt><Dt> 2024-01-03 </Dt><DtTm>x</DtTm></ValDt>", 1),
		strings.Replace(stmt053("08", ntry("")), "<BookgDt><Dt>2024-01-02</Dt></BookgDt>", "<BookgDt/><ValDt><DtTm>2024-01-03T10:00:00</DtTm></ValDt>", 1),
		// Left to the three-layer path: charges, bad values (their errors
		// must be the same), too many details.
		stmt053("08", ntry(`<Chrgs><Amt Ccy="EUR">1</Amt></Chrgs>`)),
		stmt053("08", ntry(`<NtryDtls>`+txd(amt+`<Chrgs><Amt Ccy="EUR">1</Amt></Chrgs>`)+`</NtryDtls>`)),
		stmt053("08", ntry(`<NtryDtls>`+txd(`<Amt Ccy="EUR">x</Amt>`)+`</NtryDtls>`)),
		stmt053("08", ntry(`<NtryDtls>`+txd(amt+`<CdtDbtInd>X</CdtDbtInd>`)+`</NtryDtls>`)),
		stmt053("08", ntry(`<NtryDtls>`+txd(amt+`<AmtDtls><CntrValAmt><Amt>y</Amt></CntrValAmt></AmtDtls>`)+`</NtryDtls>`)),
		stmt053("08", ntry(`<NtryDtls><Btch><NbOfTxs>-1</NbOfTxs></Btch></NtryDtls>`)),
		stmt053("08", ntry(`<NtryDtls><Btch><NbOfTxs>x</NbOfTxs></Btch><Btch><NbOfTxs>1</NbOfTxs></Btch></NtryDtls>`)),
		stmt053("08", ntry(`<NtryDtls><Btch><TtlAmt>z</TtlAmt></Btch></NtryDtls>`)),
		stmt053("08", ntry(`<NtryDtls>`+txd(amt+`<RmtInf><Strd><RfrdDocAmt><TaxAmt Ccy="EUR">1<Amt Ccy="EUR">1</Amt></TaxAmt></RfrdDocAmt></Strd></RmtInf>`)+`</NtryDtls>`)),
		stmt053("08", ntry(`<NtryDtls>`+txd(amt+`<RmtInf><Strd><RfrdDocAmt><AdjstmntAmtAndRsn><Rsn>X</Rsn></AdjstmntAmtAndRsn></RfrdDocAmt></Strd></RmtInf>`)+`</NtryDtls>`)),
		stmt053("08", ntry(`<NtryDtls>`+txd(amt+`<RmtInf><Strd><RfrdDocAmt><DuePyblAmt>?</DuePyblAmt></RfrdDocAmt></Strd></RmtInf>`)+`</NtryDtls>`)),
		stmt053("08", strings.Replace(ntry(""), "<CdtDbtInd>CRDT</CdtDbtInd>", "<CdtDbtInd>crdt</CdtDbtInd>", 1)),
		stmt053("08", strings.Replace(ntry(""), "<CdtDbtInd>CRDT</CdtDbtInd>", "", 1)),
		stmt053("08", strings.Replace(ntry(""), `<Amt Ccy="EUR">100.00</Amt>`, "", 1)),
		strings.Replace(stmt053("08", ntry("")), "<BookgDt><Dt>2024-01-02</Dt></BookgDt>", "<BookgDt><Dt>2024-13-02</Dt></BookgDt>", 1),
		stmt053("08", ntry(`<NtryDtls>`+strings.Repeat(txd(amt), 4)+`</NtryDtls>`)),
	}
}

// TestOneLayerEquivalence: with Options.EntryHeaders, every corpus file
// (real bank files of every version), every hand-made edge of the fast
// scanner and of the one-layer decode, and a generated statement give the
// same transactions, entry headers, statements, checks and errors as the
// three-layer path; and the one-layer decode does take the common entries.
func TestOneLayerEquivalence(t *testing.T) {
	type input struct {
		name string
		data []byte
	}
	var inputs []input
	for _, rel := range testFiles(t) {
		inputs = append(inputs, input{rel, readCorpus(t, rel)})
	}
	for i, s := range equivalenceSeeds() {
		inputs = append(inputs, input{fmt.Sprintf("fast seed %d", i), []byte(s)})
	}
	for i, s := range oneLayerSeeds() {
		inputs = append(inputs, input{fmt.Sprintf("one-layer seed %d", i), []byte(s)})
	}
	var gen bytes.Buffer
	genStatement(&gen, 200)
	inputs = append(inputs, input{"generated", gen.Bytes()})
	tight := DefaultOptions()
	tight.Limits = Limits{MaxDepth: 12, MaxEntryBytes: 2000, MaxTxDtls: 3}
	extra := DefaultOptions() // the extras' values go to the one-layer transactions too
	extra.Extra = []string{"NtryDtls/TxDtls/Refs/EndToEndId", "string(AcctSvcrRef)", "count(NtryDtls/TxDtls)"}
	total := 0
	for _, in := range inputs {
		for _, opts := range []Options{DefaultOptions(), tight, extra} {
			t.Run(in.name, func(t *testing.T) {
				total += checkOneLayer(t, in.data, opts).oneLayer
			})
		}
	}
	// The one-layer decode must be what runs, not the fallback.
	if r := parseRun(t, gen.Bytes(), DefaultOptions(), true); r.err != "" || r.oneLayer != 200 {
		t.Errorf("generated statement: %d of 200 entries in one layer (err %q)", r.oneLayer, r.err)
	}
	if total < 500 {
		t.Errorf("only %d entries decoded in one layer over the corpus", total)
	}
	t.Logf("%d entries decoded in one layer", total)
}

// FuzzOneLayer: the one-layer decode agrees with the three-layer path on
// anything (transactions, headers, checks, errors).
func FuzzOneLayer(f *testing.F) {
	for _, rel := range testFiles(f) {
		if b := readCorpus(f, rel); len(b) <= 16<<10 {
			f.Add(b)
		}
	}
	for _, s := range equivalenceSeeds() {
		f.Add([]byte(s))
	}
	for _, s := range oneLayerSeeds() {
		f.Add([]byte(s))
	}
	opts := DefaultOptions()
	opts.Limits = Limits{MaxDepth: 40, MaxEntryBytes: 1 << 20, MaxTxDtls: 5}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkOneLayer(t, data, opts)
	})
}

// shortDiff shows where a and b first differ, with some context.
func shortDiff(a, b []byte) string {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	from := max(0, i-200)
	return fmt.Sprintf("at byte %d:\n one   …%s…\n three …%s…", i, a[from:min(len(a), i+200)], b[from:min(len(b), i+200)])
}
