package camt

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"testing"

	"github.com/lettrage/lettrage/domain"
)

// genStatement writes a camt.053.001.08 statement with n entries of about
// 3 KB each; every tenth entry is a batch booking of 4 TxDtls. Deterministic.
func genStatement(w io.Writer, n int) (txs int) {
	fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <BkToCstmrStmt>
    <GrpHdr><MsgId>BENCH-MSG-1</MsgId><CreDtTm>2024-05-31T22:00:00+02:00</CreDtTm></GrpHdr>
    <Stmt>
      <Id>BENCH-STMT-1</Id><ElctrncSeqNb>1</ElctrncSeqNb><CreDtTm>2024-05-31T22:00:00+02:00</CreDtTm>
      <Acct><Id><IBAN>DE89370400440532013000</IBAN></Id><Ccy>EUR</Ccy><Ownr><Nm>Lettrage Test GmbH</Nm></Ownr></Acct>
      <Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">1000.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2024-05-31</Dt></Dt></Bal>
`)
	tx := func(i, j int, amt string) {
		fmt.Fprintf(w, `            <TxDtls>
              <Refs><MsgId>MSG%08d</MsgId><AcctSvcrRef>TX%08d-%d</AcctSvcrRef><PmtInfId>PMT%08d</PmtInfId><InstrId>INSTR%08d</InstrId><EndToEndId>E2E-%08d-%d</EndToEndId><UETR>5d8c2f1e-1a2b-4c3d-8e9f-%012d</UETR></Refs>
              <Amt Ccy="EUR">%s</Amt><CdtDbtInd>CRDT</CdtDbtInd>
              <AmtDtls><InstdAmt><Amt Ccy="EUR">%s</Amt></InstdAmt><TxAmt><Amt Ccy="EUR">%s</Amt></TxAmt></AmtDtls>
              <BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn><Prtry><Cd>NTRF+166</Cd><Issr>DK</Issr></Prtry></BkTxCd>
              <RltdPties>
                <Dbtr><Pty><Nm>Customer Number %d Handelsgesellschaft mbH</Nm><PstlAdr><StrtNm>Musterstrasse</StrtNm><BldgNb>%d</BldgNb><PstCd>10115</PstCd><TwnNm>Berlin</TwnNm><Ctry>DE</Ctry></PstlAdr></Pty></Dbtr>
                <DbtrAcct><Id><IBAN>DE02120300000000%06d</IBAN></Id></DbtrAcct>
                <UltmtDbtr><Pty><Nm>Ultimate Payer %d</Nm></Pty></UltmtDbtr>
                <Cdtr><Pty><Nm>Lettrage Test GmbH</Nm></Pty></Cdtr>
                <CdtrAcct><Id><IBAN>DE89370400440532013000</IBAN></Id></CdtrAcct>
              </RltdPties>
              <RltdAgts><DbtrAgt><FinInstnId><BICFI>BYLADEM1001</BICFI></FinInstnId></DbtrAgt></RltdAgts>
              <Purp><Cd>GDDS</Cd></Purp>
              <RmtInf>
                <Ustrd>Invoice INV-2024-%06d payment thank you</Ustrd>
                <Strd>
                  <RfrdDocInf><Tp><CdOrPrtry><Cd>CINV</Cd></CdOrPrtry></Tp><Nb>INV-2024-%06d</Nb><RltdDt>2024-05-01</RltdDt></RfrdDocInf>
                  <RfrdDocAmt><DuePyblAmt Ccy="EUR">%s</DuePyblAmt><RmtdAmt Ccy="EUR">%s</RmtdAmt></RfrdDocAmt>
                  <CdtrRefInf><Tp><CdOrPrtry><Cd>SCOR</Cd></CdOrPrtry><Issr>ISO</Issr></Tp><Ref>RF18%011d</Ref></CdtrRefInf>
                </Strd>
              </RmtInf>
              <AddtlTxInf>SEPA Credit Transfer received</AddtlTxInf>
            </TxDtls>
`, i, i, j, i, i, i, j, i*10+j, amt, amt, amt, i, i%200, i%1000000, i, i, i, amt, amt, i)
		txs++
	}
	for i := 1; i <= n; i++ {
		batch := i%10 == 0
		cents := int64(1000 + i%900000)
		one := domain.AmountFromCents(cents).StringFixed(2)
		amt := one
		if batch {
			amt = domain.AmountFromCents(4 * cents).StringFixed(2)
		}
		fmt.Fprintf(w, `      <Ntry>
        <NtryRef>NR%08d</NtryRef>
        <Amt Ccy="EUR">%s</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>
        <BookgDt><Dt>2024-05-31</Dt></BookgDt><ValDt><Dt>2024-05-31</Dt></ValDt>
        <AcctSvcrRef>ASR%08d</AcctSvcrRef>
        <BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn></BkTxCd>
        <NtryDtls>
`, i, amt, i)
		if batch {
			fmt.Fprintf(w, "          <Btch><NbOfTxs>4</NbOfTxs><TtlAmt Ccy=\"EUR\">%s</TtlAmt><CdtDbtInd>CRDT</CdtDbtInd></Btch>\n", amt)
			for j := 1; j <= 4; j++ {
				tx(i, j, one)
			}
		} else {
			tx(i, 1, amt)
		}
		fmt.Fprint(w, "        </NtryDtls>\n        <AddtlNtryInf>SEPA-GUTSCHRIFT</AddtlNtryInf>\n      </Ntry>\n")
	}
	fmt.Fprint(w, "    </Stmt>\n  </BkToCstmrStmt>\n</Document>\n")
	return txs
}

func TestGeneratedStatement(t *testing.T) {
	var buf bytes.Buffer
	want := genStatement(&buf, 50)
	got := 0
	f, err := Parse(bytes.NewReader(buf.Bytes()), "gen.xml", DefaultOptions(), func(_ *Statement, _ *Entry, txs []domain.Transaction) error {
		got += len(txs)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got != want || f.Statements[0].EntryCount != 50 {
		t.Fatalf("%d transactions, want %d", got, want)
	}
	for _, c := range f.Statements[0].Checks {
		if !c.OK {
			t.Errorf("check %+v", c)
		}
	}
	if per := buf.Len() / 50; per < 2500 || per > 4500 {
		t.Errorf("%d bytes per entry, want about 3 KB", per)
	}
}

// BenchmarkParse measures Parse on generated statements, with the fast
// entry path (whole entries), with the one-layer decode
// (Options.EntryHeaders, what the pipeline uses) and with encoding/xml
// alone: MB/s and transactions per second.
func BenchmarkParse(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		var buf bytes.Buffer
		txs := genStatement(&buf, n)
		data := buf.Bytes()
		for _, mode := range []string{"fast", "one-layer", "encoding-xml"} {
			b.Run(fmt.Sprintf("%s/entries=%d/%dMB", mode, n, len(data)>>20), func(b *testing.B) {
				opts := DefaultOptions()
				opts.reference = mode == "encoding-xml"
				opts.EntryHeaders = mode == "one-layer"
				b.SetBytes(int64(len(data)))
				b.ReportAllocs()
				for b.Loop() {
					_, err := Parse(bytes.NewReader(data), "bench.xml", opts, func(*Statement, *Entry, []domain.Transaction) error { return nil })
					if err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(txs)*float64(b.N)/b.Elapsed().Seconds(), "tx/s")
			})
		}
	}
}

// TestMemoryBounded streams a generated statement of CAMT_MEM_ENTRIES
// entries (about 3 KB each) through Parse without ever holding the file,
// and checks that the heap stays small. Skipped unless the variable is set
// (it takes seconds): CAMT_MEM_ENTRIES=100000 go test -run TestMemoryBounded -v
func TestMemoryBounded(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("CAMT_MEM_ENTRIES"))
	if n <= 0 {
		t.Skip("set CAMT_MEM_ENTRIES to run")
	}
	pr, pw := io.Pipe()
	var size int64
	go func() {
		cw := &countWriter{w: pw}
		genStatement(cw, n)
		size = cw.n
		pw.Close()
	}()
	var peak uint64
	var ms runtime.MemStats
	entries := 0
	_, err := Parse(bufio.NewReaderSize(pr, 64<<10), "mem.xml", DefaultOptions(), func(_ *Statement, e *Entry, _ []domain.Transaction) error {
		entries++
		if entries%2000 == 0 {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d entries, %d MB streamed, peak heap in use %.1f MB", entries, size>>20, float64(peak)/(1<<20))
	if peak > 64<<20 {
		t.Errorf("peak heap %d MB", peak>>20)
	}
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// BenchmarkParseFile measures Parse on the file named by CAMT_BENCH_FILE
// (for instance one written by `lettrage-bench camt --size 300MB`, or a
// statement of `lettrage-bench gen`), read from disk as `lettrage inspect`
// does (entries: whole entries) and as the pipeline does (one-layer:
// Options.EntryHeaders). Skipped unless the variable is set.
func BenchmarkParseFile(b *testing.B) {
	path := os.Getenv("CAMT_BENCH_FILE")
	if path == "" {
		b.Skip("set CAMT_BENCH_FILE to run")
	}
	fi, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	for _, headers := range []bool{false, true} {
		mode := "entries"
		if headers {
			mode = "one-layer"
		}
		b.Run(mode, func(b *testing.B) {
			opts := DefaultOptions()
			opts.EntryHeaders = headers
			b.SetBytes(fi.Size())
			b.ReportAllocs()
			for b.Loop() {
				f, err := os.Open(path)
				if err != nil {
					b.Fatal(err)
				}
				_, err = Parse(f, path, opts, func(*Statement, *Entry, []domain.Transaction) error { return nil })
				f.Close()
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
