package camt

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"math"
	"strings"
	"testing"

	"github.com/moov-io/iso20022/pkg/camt_v08"
)

// moovEntries decodes every <Ntry> of a document into moov-io/iso20022's
// independent camt_v08 ReportEntry10 type.
func moovEntries(t *testing.T, data []byte) []camt_v08.ReportEntry10 {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(data))
	var out []camt_v08.ReportEntry10
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("moov token: %v", err)
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "Ntry" {
			var e camt_v08.ReportEntry10
			if err := dec.DecodeElement(&e, &se); err != nil {
				t.Fatalf("moov decode: %v", err)
			}
			out = append(out, e)
		}
	}
}

func s35[T ~string](p *T) string {
	if p == nil {
		return ""
	}
	return strings.TrimSpace(string(*p))
}

func sameAmount(t *testing.T, what string, ours interface{ Float() float64 }, theirs float64) {
	t.Helper()
	a := ours.Float()
	if math.Abs(a-theirs) > 1e-9*math.Max(1, math.Abs(a)) {
		t.Errorf("%s: ours %v, moov %v", what, a, theirs)
	}
}

// TestDifferentialMoov compares, for every version .08 file of the corpus,
// each entry as we read it with moov-io/iso20022's camt_v08 decoding of the
// same <Ntry>: amounts, references, debtor names and remittance.
func TestDifferentialMoov(t *testing.T) {
	files := 0
	for _, rel := range testFiles(t) {
		data := readCorpus(t, rel)
		doc, err := ReadAll(bytes.NewReader(data), rel, DefaultOptions())
		if err != nil || doc.Version != "08" {
			continue
		}
		files++
		var ours []*Entry
		for _, st := range doc.Statements {
			ours = append(ours, st.Entries...)
		}
		theirs := moovEntries(t, data)
		if len(ours) != len(theirs) {
			t.Fatalf("%s: %d entries, moov %d", rel, len(ours), len(theirs))
		}
		for i, m := range theirs {
			e := ours[i]
			sameAmount(t, rel+" Ntry/Amt", e.Amount, m.Amt.Value)
			if e.Currency != string(m.Amt.Ccy) || e.AcctSvcrRef != s35(m.AcctSvcrRef) || e.NtryRef != s35(m.NtryRef) {
				t.Errorf("%s entry %d: %s %q %q vs moov %s %q %q", rel, i+1, e.Currency, e.AcctSvcrRef, e.NtryRef, m.Amt.Ccy, s35(m.AcctSvcrRef), s35(m.NtryRef))
			}
			if e.Credit != (m.CdtDbtInd == "CRDT") || e.Reversal != m.RvslInd {
				t.Errorf("%s entry %d: credit/reversal differ", rel, i+1)
			}
			var mtx []camt_v08.EntryTransaction10
			for _, d := range m.NtryDtls {
				mtx = append(mtx, d.TxDtls...)
			}
			if len(mtx) != len(e.Transactions) {
				t.Fatalf("%s entry %d: %d TxDtls, moov %d", rel, i+1, len(e.Transactions), len(mtx))
			}
			for j, mt := range mtx {
				tx := e.Transactions[j]
				if (mt.Amt == nil) != (tx.Amount == nil) {
					t.Errorf("%s entry %d tx %d: amount presence differs", rel, i+1, j+1)
				} else if mt.Amt != nil {
					sameAmount(t, rel+" TxDtls/Amt", tx.Amount.Amount, mt.Amt.Value)
				}
				if r := mt.Refs; r != nil {
					got := []string{tx.Refs.AcctSvcrRef, tx.Refs.EndToEndID, tx.Refs.InstrID, tx.Refs.TxID, tx.Refs.MndtID, tx.Refs.UETR, tx.Refs.PmtInfID, tx.Refs.MsgID}
					want := []string{s35(r.AcctSvcrRef), s35(r.EndToEndId), s35(r.InstrId), s35(r.TxId), s35(r.MndtId), s35(r.UETR), s35(r.PmtInfId), s35(r.MsgId)}
					if strings.Join(got, "|") != strings.Join(want, "|") {
						t.Errorf("%s entry %d tx %d: refs %q, moov %q", rel, i+1, j+1, got, want)
					}
				}
				if p := mt.RltdPties; p != nil && p.Dbtr != nil && p.Dbtr.Pty != nil {
					if tx.Debtor == nil || tx.Debtor.Name != s35(p.Dbtr.Pty.Nm) {
						t.Errorf("%s entry %d tx %d: debtor %+v, moov %q", rel, i+1, j+1, tx.Debtor, s35(p.Dbtr.Pty.Nm))
					}
				}
				var wantUstrd, wantRefs, gotRefs []string
				if mt.RmtInf != nil {
					for _, u := range mt.RmtInf.Ustrd {
						wantUstrd = append(wantUstrd, strings.TrimSpace(string(u)))
					}
					for _, s := range mt.RmtInf.Strd {
						if s.CdtrRefInf != nil {
							wantRefs = append(wantRefs, s35(s.CdtrRefInf.Ref))
						}
					}
				}
				for _, s := range tx.Remittance.Structured {
					if s.CreditorRef != nil {
						gotRefs = append(gotRefs, s.CreditorRef.Value)
					}
				}
				if strings.Join(wantUstrd, "\n") != strings.Join(tx.Remittance.Unstructured, "\n") ||
					strings.Join(wantRefs, "|") != strings.Join(gotRefs, "|") {
					t.Errorf("%s entry %d tx %d: remittance %q %q, moov %q %q", rel, i+1, j+1,
						tx.Remittance.Unstructured, gotRefs, wantUstrd, wantRefs)
				}
			}
		}
	}
	if files < 5 {
		t.Fatalf("only %d version .08 files compared", files)
	}
	t.Logf("%d version .08 files compared with moov-io/iso20022 camt_v08", files)
}
