// Package camtgen writes small ISO 20022 camt.052/053/054 documents for
// tests: statements as banks send them (placeholder references, numbering
// that restarts per statement, pending then booked entries, batch entries
// detailed by a notification). It is test support, not a bank simulator:
// its documents follow the .001.08 schemas (or .001.04 for Version "04").
package camtgen

import (
	"bytes"
	"fmt"
	"html"
	"strings"
)

// Doc is one document.
type Doc struct {
	Message    string // "052", "053" or "054"
	Version    string // "08" (default) or "04"
	MsgID      string
	Created    string // xs:dateTime; default 2026-11-17T20:00:00+01:00
	Statements []Stmt
}

// Stmt is one Stmt (053), Rpt (052) or Ntfctn (054).
type Stmt struct {
	ID            string
	Account       string // IBAN
	Currency      string // default EUR
	CopyDuplicate string // COPY, CODU, DUPL or ""
	Entries       []Entry
}

// Entry is one Ntry.
type Entry struct {
	Amount      string
	Credit      bool
	Reversal    bool
	Status      string // BOOK (default), PDNG, INFO
	BookingDate string // YYYY-MM-DD; "" for none (a pending entry)
	ValueDate   string // default BookingDate
	AcctSvcrRef string
	NtryRef     string
	// Batch, when > 0, writes NtryDtls/Btch/NbOfTxs (with BatchMsgID).
	Batch      int
	BatchMsgID string
	Txs        []Tx
	AddtlInfo  string
}

// Tx is one TxDtls.
type Tx struct {
	AcctSvcrRef string
	EndToEndID  string
	Amount      string // "" writes no Amt
	Name        string
	IBAN        string
	Ustrd       []string
	CdtrRef     string // a structured creditor reference (SCOR)
	Docs        []string
}

func esc(s string) string { return html.EscapeString(s) }

// XML renders the document.
func (d Doc) XML() []byte {
	v := d.Version
	if v == "" {
		v = "08"
	}
	created := d.Created
	if created == "" {
		created = "2026-11-17T20:00:00+01:00"
	}
	root, block := map[string][2]string{
		"052": {"BkToCstmrAcctRpt", "Rpt"},
		"053": {"BkToCstmrStmt", "Stmt"},
		"054": {"BkToCstmrDbtCdtNtfctn", "Ntfctn"},
	}[d.Message][0], map[string][2]string{
		"052": {"BkToCstmrAcctRpt", "Rpt"},
		"053": {"BkToCstmrStmt", "Stmt"},
		"054": {"BkToCstmrDbtCdtNtfctn", "Ntfctn"},
	}[d.Message][1]
	if root == "" {
		panic("camtgen: unknown message " + d.Message)
	}
	var b bytes.Buffer
	w := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	w(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	w(`<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.%s.001.%s">`+"\n", d.Message, v)
	w("<%s><GrpHdr><MsgId>%s</MsgId><CreDtTm>%s</CreDtTm></GrpHdr>\n", root, esc(d.MsgID), created)
	for _, st := range d.Statements {
		ccy := st.Currency
		if ccy == "" {
			ccy = "EUR"
		}
		w("<%s><Id>%s</Id><CreDtTm>%s</CreDtTm>", block, esc(st.ID), created)
		if st.CopyDuplicate != "" {
			w("<CpyDplctInd>%s</CpyDplctInd>", st.CopyDuplicate)
		}
		w("<Acct><Id><IBAN>%s</IBAN></Id><Ccy>%s</Ccy></Acct>\n", st.Account, ccy)
		for _, e := range st.Entries {
			writeEntry(w, v, ccy, e)
		}
		w("</%s>\n", block)
	}
	w("</%s></Document>\n", root)
	return b.Bytes()
}

func writeEntry(w func(string, ...any), v, ccy string, e Entry) {
	cd := "DBIT"
	if e.Credit {
		cd = "CRDT"
	}
	status := e.Status
	if status == "" {
		status = "BOOK"
	}
	w("<Ntry>")
	if e.NtryRef != "" {
		w("<NtryRef>%s</NtryRef>", esc(e.NtryRef))
	}
	w(`<Amt Ccy="%s">%s</Amt><CdtDbtInd>%s</CdtDbtInd>`, ccy, e.Amount, cd)
	if e.Reversal {
		w("<RvslInd>true</RvslInd>")
	}
	if v >= "06" {
		w("<Sts><Cd>%s</Cd></Sts>", status)
	} else {
		w("<Sts>%s</Sts>", status)
	}
	if e.BookingDate != "" {
		w("<BookgDt><Dt>%s</Dt></BookgDt>", e.BookingDate)
	}
	vd := e.ValueDate
	if vd == "" {
		vd = e.BookingDate
	}
	if vd != "" {
		w("<ValDt><Dt>%s</Dt></ValDt>", vd)
	}
	if e.AcctSvcrRef != "" {
		w("<AcctSvcrRef>%s</AcctSvcrRef>", esc(e.AcctSvcrRef))
	}
	w("<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn></BkTxCd>")
	if e.Batch > 0 || len(e.Txs) > 0 {
		w("<NtryDtls>")
		if e.Batch > 0 {
			w("<Btch>")
			if e.BatchMsgID != "" {
				w("<MsgId>%s</MsgId>", esc(e.BatchMsgID))
			}
			w("<NbOfTxs>%d</NbOfTxs></Btch>", e.Batch)
		}
		for _, t := range e.Txs {
			writeTx(w, ccy, e.Credit, t)
		}
		w("</NtryDtls>")
	}
	if e.AddtlInfo != "" {
		w("<AddtlNtryInf>%s</AddtlNtryInf>", esc(e.AddtlInfo))
	}
	w("</Ntry>\n")
}

func writeTx(w func(string, ...any), ccy string, credit bool, t Tx) {
	w("<TxDtls>")
	if t.AcctSvcrRef != "" || t.EndToEndID != "" {
		w("<Refs>")
		if t.AcctSvcrRef != "" {
			w("<AcctSvcrRef>%s</AcctSvcrRef>", esc(t.AcctSvcrRef))
		}
		if t.EndToEndID != "" {
			w("<EndToEndId>%s</EndToEndId>", esc(t.EndToEndID))
		}
		w("</Refs>")
	}
	if t.Amount != "" {
		cd := "DBIT"
		if credit {
			cd = "CRDT"
		}
		w(`<Amt Ccy="%s">%s</Amt><CdtDbtInd>%s</CdtDbtInd>`, ccy, t.Amount, cd)
	}
	if t.Name != "" || t.IBAN != "" {
		party := "Dbtr"
		if !credit {
			party = "Cdtr"
		}
		w("<RltdPties><%s><Pty>", party)
		if t.Name != "" {
			w("<Nm>%s</Nm>", esc(t.Name))
		}
		w("</Pty></%s>", party)
		if t.IBAN != "" {
			w("<%sAcct><Id><IBAN>%s</IBAN></Id></%sAcct>", party, t.IBAN, party)
		}
		w("</RltdPties>")
	}
	if len(t.Ustrd) > 0 || t.CdtrRef != "" || len(t.Docs) > 0 {
		w("<RmtInf>")
		for _, u := range t.Ustrd {
			w("<Ustrd>%s</Ustrd>", esc(u))
		}
		if t.CdtrRef != "" || len(t.Docs) > 0 {
			w("<Strd>")
			for _, d := range t.Docs {
				w("<RfrdDocInf><Nb>%s</Nb></RfrdDocInf>", esc(d))
			}
			if t.CdtrRef != "" {
				w("<CdtrRefInf><Tp><CdOrPrtry><Cd>SCOR</Cd></CdOrPrtry><Issr>ISO</Issr></Tp><Ref>%s</Ref></CdtrRefInf>",
					strings.ReplaceAll(t.CdtrRef, " ", ""))
			}
			w("</Strd>")
		}
		w("</RmtInf>")
	}
	w("</TxDtls>")
}
