package camt

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/lettrage/lettrage/internal/textchunk"
)

func readBoth(t testing.TB, data []byte, opts Options) (fast, ref []byte, ferr, rerr error) {
	t.Helper()
	opts.reference = false
	fd, ferr := ReadAll(bytes.NewReader(data), "x.xml", opts)
	opts.reference = true
	rd, rerr := ReadAll(bytes.NewReader(data), "x.xml", opts)
	if ferr == nil {
		fast = renderJSON(t, fd)
	}
	if rerr == nil {
		ref = renderJSON(t, rd)
	}
	return fast, ref, ferr, rerr
}

func firstDiff(a, b []byte) string {
	al, bl := strings.Split(string(a), "\n"), strings.Split(string(b), "\n")
	for i := 0; i < len(al) && i < len(bl); i++ {
		if al[i] != bl[i] {
			return "line " + al[i] + " | " + bl[i]
		}
	}
	return "length differs"
}

// TestFastPathEquivalence: the fast entry path and the encoding/xml reader
// give the same documents for every corpus file, in every shape the hand
// made tests use, and fail alike on the negative inputs.
func TestFastPathEquivalence(t *testing.T) {
	var inputs [][]byte
	for _, rel := range testFiles(t) {
		inputs = append(inputs, readCorpus(t, rel))
	}
	for _, s := range equivalenceSeeds() {
		inputs = append(inputs, []byte(s))
	}
	tight := DefaultOptions()
	tight.Limits = Limits{MaxDepth: 12, MaxEntryBytes: 2000, MaxTxDtls: 3}
	fastOnly := 0
	for i, data := range append(inputs, inputs...) {
		opts := DefaultOptions()
		if i >= len(inputs) {
			opts = tight // limits hit at the same place on both paths
		}
		fast, ref, ferr, rerr := readBoth(t, data, opts)
		if (ferr == nil) != (rerr == nil) {
			t.Fatalf("input %d: fast err %v, reference err %v", i, ferr, rerr)
		}
		if ferr != nil {
			for _, s := range []error{ErrNotCAMT, ErrTruncated, ErrMalformed, ErrLimit, ErrBadValue, ErrNoStatement, ErrUnsupportedMessage} {
				if errors.Is(ferr, s) != errors.Is(rerr, s) {
					t.Errorf("input %d: fast err %v, reference err %v", i, ferr, rerr)
				}
			}
			if ferr.Error() != rerr.Error() {
				t.Logf("input %d: messages differ:\n fast %v\n ref  %v", i, ferr, rerr)
			}
			continue
		}
		if !bytes.Equal(fast, ref) {
			t.Errorf("input %d differs: %s", i, firstDiff(fast, ref))
		}
		fastOnly++
	}
	t.Logf("%d inputs parsed alike", fastOnly)
}

// equivalenceSeeds are hand-made documents that exercise the fast
// scanner's edges and its fallbacks.
func equivalenceSeeds() []string {
	amt := `<Amt Ccy="EUR">1</Amt>`
	return []string{
		stmt053("02", ntry(`<AddtlNtryInf>a &amp; b &lt;c&gt; &quot;d&quot; &apos;e&apos;</AddtlNtryInf>`)),
		stmt053("02", ntry(`<AddtlNtryInf>char ref &#x41;&#66;</AddtlNtryInf>`)),
		stmt053("02", ntry(`<AddtlNtryInf><![CDATA[x <y> z]]></AddtlNtryInf>`)),
		stmt053("02", ntry(`<!-- comment --><AddtlNtryInf>x</AddtlNtryInf><?pi x?>`)),
		stmt053("02", ntry("<AddtlNtryInf>crlf\r\nline\rend</AddtlNtryInf>")),
		stmt053("02", ntry(`<AddtlNtryInf>Zürich — 東京 😀</AddtlNtryInf>`)),
		stmt053("02", ntry("<AddtlNtryInf>bad \xff utf8</AddtlNtryInf>")),
		stmt053("02", ntry("<AddtlNtryInf>ctl \x01</AddtlNtryInf>")),
		stmt053("02", ntry(`<AddtlNtryInf>]]> in text</AddtlNtryInf>`)),
		stmt053("02", ntry(`<AddtlNtryInf>undeclared &nbsp;</AddtlNtryInf>`)),
		stmt053("02", ntry(`<NtryDtls><TxDtls><Amt  Ccy = 'EUR' >2.5</Amt ><Unknown a="1" b='2'/></TxDtls></NtryDtls>`)),
		stmt053("02", ntry(`<NtryDtls><TxDtls><Amt Ccy="EUR" Ccy="USD">2.5</Amt></TxDtls></NtryDtls>`)),
		stmt053("02", ntry(`<NtryDtls><TxDtls><Amt x:Ccy="USD" Ccy="EUR">2.5</Amt></TxDtls></NtryDtls>`)),
		stmt053("02", ntry(`<NtryDtls><TxDtls><Amt Ccy="EUR">2.5</Amt></TxDtls></NtryDtls>`+`<NtryDtls><TxDtls>`+amt+`</TxDtls></NtryDtls>`)),
		stmt053("02", ntry(`<NtryDtls><TxDtls><Amt Ccy="EUR">2.5</Amt><RltdPties><Dbtr><Nm>A</Nm><Pty><Nm>B</Nm></Pty></Dbtr><Dbtr><Nm>C</Nm></Dbtr></RltdPties></TxDtls></NtryDtls>`)),
		stmt053("02", ntry(`<NtryDtls><TxDtls>`+amt+`<RmtInf><Ustrd>a<b>x</b>c</Ustrd><Ustrd/></RmtInf></TxDtls></NtryDtls>`)),
		stmt053("02", ntry(`<Sts>BO<Cd>X</Cd>OK</Sts>`)),
		stmt053("02", ntry(`<NtryDtls><TxDtls>`+amt+`</TxDtl></NtryDtls>`)),
		stmt053("02", ntry(`<NtryDtls><TxDtls>`+amt+`</TxDtls></NtryDtls></Ntry><Ntry/><Ntry>`)),
		stmt053("02", ntry(`<a:NtryDtls xmlns:a="urn:x"><a:TxDtls>`+amt+`</a:TxDtls></a:NtryDtls>`)),
		stmt053("02", ntry(`<NtryDtls><TxDtls><Amt Ccy="EUR">1</Amt><Amt Ccy="USD">2</Amt></TxDtls></NtryDtls>`)),
		stmt053("02", ntry(`<Chrgs><Amt Ccy="EUR">1</Amt><Tp>x<Cd>C</Cd></Tp></Chrgs><Chrgs><Rcrd><Amt Ccy="EUR">2</Amt></Rcrd></Chrgs>`)),
		stmt053("02", ntry(`<BkTxCd><Domn><Cd>A</Cd><Fmly><Cd>B</Cd></Fmly><Cd>Z</Cd></Domn></BkTxCd>`)),
		stmt053("02", strings.Replace(ntry(""), "<Ntry>", `<Ntry attr="1" xmlns="urn:x">`, 1)),
		stmt053("02", ntry(`<Ünïcode>x</Ünïcode>`)),
		stmt053("02", ntry(`<a.b-c_d>x</a.b-c_d>`)),
		stmt053("02", ntry(`<AddtlNtryInf>unterminated`)),
		strings.NewReplacer("</", "</p:", "<?", "<?", "<", "<p:").Replace(stmt053("08", ntry(`<NtryDtls><TxDtls>`+amt+`</TxDtls></NtryDtls>`))),
		strings.NewReplacer("</", "</p:", "<?", "<?", "<!", "<!", "<", "<p:").Replace(stmt053("08", ntry(`<NtryDtls><!-- c --><TxDtls>`+amt+`</TxDtls></NtryDtls>`))),
		strings.Replace(stmt053("02", ntry(`<AddtlNtryInf>x</AddtlNtryInf>`)), "<Ntry>", "<Ntry/><Ntry>", 1),
		"\xEF\xBB\xBF" + stmt053("02", ntry(`<AddtlNtryInf>bom</AddtlNtryInf>`)),
		strings.Replace(stmt053("02", ntry(`<AddtlNtryInf>latin \xe9</AddtlNtryInf>`)), "UTF-8", "ISO-8859-1", 1),
		stmt053("02", ntry(`<NtryDtls>`+strings.Repeat(txd(amt), 5)+`</NtryDtls>`)),
		stmt053("02", ntry(strings.Repeat("<X>", 20)+strings.Repeat("</X>", 20))),
		stmt053("02", ntry(`<AddtlNtryInf>`+strings.Repeat("long ", 600)+`</AddtlNtryInf>`)),
		// Remittance amounts, flat (.02) and structured (.03 on).
		strdDoc("02", `<DuePyblAmt Ccy="EUR">100</DuePyblAmt><DscntApldAmt Ccy="EUR">2</DscntApldAmt><TaxAmt Ccy="EUR"> 16.00 </TaxAmt>`+
			`<AdjstmntAmtAndRsn><Amt Ccy="EUR">1</Amt><CdtDbtInd>DBIT</CdtDbtInd><Rsn>PRIC</Rsn><AddtlInf>x</AddtlInf></AdjstmntAmtAndRsn><RmtdAmt Ccy="EUR">82</RmtdAmt>`),
		strdDoc("08", `<DscntApldAmt><Tp><Cd>TMDS</Cd></Tp><Amt Ccy="EUR">1.50</Amt></DscntApldAmt><DscntApldAmt><Tp><Prtry>P</Prtry></Tp><Amt Ccy="USD">1</Amt></DscntApldAmt>`+
			`<TaxAmt><Amt Ccy="EUR">3</Amt></TaxAmt><TaxAmt>`+"\n  "+`<Tp><Cd>STAT</Cd></Tp>`+"\n  "+`<Amt Ccy="EUR">15</Amt>`+"\n"+`</TaxAmt>`+
			`<AdjstmntAmtAndRsn><Amt Ccy="EUR">1</Amt></AdjstmntAmtAndRsn><AdjstmntAmtAndRsn><Amt Ccy="EUR">2</Amt><CdtDbtInd>CRDT</CdtDbtInd></AdjstmntAmtAndRsn>`),
		strdDoc("08", `<TaxAmt Ccy="EUR">1<Amt Ccy="EUR">1</Amt></TaxAmt>`),
		strdDoc("08", `<TaxAmt><!-- c --><Amt Ccy="EUR">1</Amt></TaxAmt><DscntApldAmt/>`),
		strdDoc("08", `<TaxAmt><Tp><Cd>A</Cd></Tp><Tp><Prtry>B</Prtry></Tp><Amt Ccy="EUR">1</Amt><Amt Ccy="EUR">2</Amt></TaxAmt>`),
		// Several documents, and what may not follow them.
		stmt053("02", ntry(`<AcctSvcrRef>A</AcctSvcrRef>`)) + "\n\xEF\xBB\xBF" + ntfctn054("08", "M2", ntry(`<AcctSvcrRef>B</AcctSvcrRef>`)),
		stmt053("02", ntry("")) + stmt053("02", ntry("")),
		"<message><AppHdr/>" + stmt053("08", ntry(""))[39:] + "<AppHdr/>" + stmt053("02", ntry(""))[39:] + "</message>",
		stmt053("02", ntry("")) + "\ntrailing text",
		stmt053("02", ntry("")) + "<x/>",
		stmt053("02", ntry("")) + `<?xml version="1.0"?>`,
		strings.Replace(stmt053("02", ntry("")), "UTF-8", "ISO-8859-1", 1) + stmt053("02", ntry("")),
	}
}

// FuzzFastPath: the fast entry path agrees with the encoding/xml reader.
func FuzzFastPath(f *testing.F) {
	for _, rel := range testFiles(f) {
		if b := readCorpus(f, rel); len(b) <= 16<<10 {
			f.Add(b)
		}
	}
	for _, s := range equivalenceSeeds() {
		f.Add([]byte(s))
	}
	opts := DefaultOptions()
	opts.Limits = Limits{MaxDepth: 40, MaxEntryBytes: 1 << 20, MaxTxDtls: 1000}
	f.Fuzz(func(t *testing.T, data []byte) {
		fast, ref, ferr, rerr := readBoth(t, data, opts)
		if (ferr == nil) != (rerr == nil) {
			t.Fatalf("fast err %v, reference err %v", ferr, rerr)
		}
		if ferr == nil && !bytes.Equal(fast, ref) {
			t.Fatalf("results differ: %s", firstDiff(fast, ref))
		}
	})
}

// TestKeepSharesChunks: the strings str keeps are their bytes, stay so
// while later texts fill the chunk and the next ones, and cost one
// allocation per chunk, not one each; a long text is a string of its own.
func TestKeepSharesChunks(t *testing.T) {
	var st fastState
	var kept, want []string
	for i := range 5000 {
		b := []byte(fmt.Sprintf("RF18 5390 0754 7034 line %d of the remittance", i))
		kept = append(kept, st.str(b))
		want = append(want, string(b))
		for k := range b {
			b[k] = 'x' // the caller's buffer is reused
		}
	}
	for i := range kept {
		if kept[i] != want[i] {
			t.Fatalf("text %d: %q, want %q", i, kept[i], want[i])
		}
	}
	line := []byte("INVOICE FA-2025-00560 AND FA-2025-00561, LESS 2 % DISCOUNT")
	allocs := testing.AllocsPerRun(10, func() {
		for range 1000 {
			st.str(line)
		}
	})
	if perChunk := float64(1000*len(line))/textchunk.Size + 1; allocs > perChunk {
		t.Errorf("%v allocations for 1000 texts of %d bytes; want at most %.0f (one per chunk)", allocs, len(line), perChunk)
	}
	long := bytes.Repeat([]byte("LONG REMITTANCE "), textchunk.Size/16)
	used := st.texts.Len()
	if s := st.str(long); s != string(long) || st.texts.Len() != used {
		t.Errorf("a long text is not kept apart (chunk %d → %d bytes)", used, st.texts.Len())
	}
}

// TestOnceLeavesTheChunk: a text parsed and dropped (a date, an amount)
// is its bytes and takes no room in the chunk of the texts kept.
func TestOnceLeavesTheChunk(t *testing.T) {
	st := fastState{strs: map[string]string{}}
	st.str([]byte("a name kept with its transaction"))
	used := st.texts.Len()
	for _, v := range []string{"2025-11-03", "2025-11-03T10:15:00", "123456.78", "12.50"} {
		if got := st.once([]byte(v)); got != v {
			t.Errorf("once(%q) = %q", v, got)
		}
	}
	if st.texts.Len() != used {
		t.Errorf("dates and amounts took %d bytes of the chunk", st.texts.Len()-used)
	}
}

// TestDatesAllocateNothing: a booking or value date read again (the same
// Dt text, its string shared) is parsed into the decode's own time
// without an allocation.
func TestDatesAllocateNothing(t *testing.T) {
	st := fastState{strs: map[string]string{}}
	var keep time.Time
	text := []byte("2025-11-03")
	if got, ok := oneDate(st.date(text), "", &keep); !ok || got == nil || !got.Equal(time.Date(2025, 11, 3, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("oneDate = %v, %v", got, ok)
	}
	if allocs := testing.AllocsPerRun(100, func() { oneDate(st.date(text), "", &keep) }); allocs != 0 {
		t.Errorf("%v allocations a date read again, want 0", allocs)
	}
}
