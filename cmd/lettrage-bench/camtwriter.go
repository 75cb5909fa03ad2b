package main

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/lettrage/lettrage/domain"
)

// stmtHeader is what the opening of one camt.053 statement declares: the
// account, the period, the booked balances and the transaction summary. It
// is computed before the entries are written, so that a reader can check
// the entries against it.
type stmtHeader struct {
	MsgID, ID       string
	Seq             int
	Created         time.Time
	From, To        time.Time
	Account, Owner  string
	Currency        string
	Opening         domain.Amount // signed
	Entries         int
	Credits, Debits int
	CreditSum       domain.Amount
	DebitSum        domain.Amount
}

// closing is the closing booked balance: every generated entry is booked.
func (h *stmtHeader) closing() domain.Amount {
	return h.Opening.Add(h.CreditSum).Sub(h.DebitSum)
}

// camtWriter streams a camt.053.001.08 document: the header, then entries
// one at a time, then the end. Nothing but the current element is held in
// memory.
type camtWriter struct {
	w   *bufio.Writer
	err error
}

func newCAMTWriter(w io.Writer) *camtWriter {
	return &camtWriter{w: bufio.NewWriterSize(w, 256<<10)}
}

func (c *camtWriter) s(s string) {
	if c.err == nil {
		_, c.err = c.w.WriteString(s)
	}
}

// text writes s escaped as XML character data.
func (c *camtWriter) text(s string) {
	if !strings.ContainsAny(s, "<>&\"'") {
		c.s(s)
		return
	}
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '&':
			b.WriteString("&amp;")
		case '"':
			b.WriteString("&quot;")
		case '\'':
			b.WriteString("&apos;")
		default:
			b.WriteRune(r)
		}
	}
	c.s(b.String())
}

// elem writes <name>text</name>.
// creditorRef writes a structured reference as CdtrRefInf: its type code
// and issuer when known, then the reference.
func (c *camtWriter) creditorRef(r domain.Reference) {
	c.s("<CdtrRefInf>")
	if r.Type != "" || r.Issuer != "" {
		c.s("<Tp>")
		if r.Type != "" {
			c.s("<CdOrPrtry><Cd>")
			c.text(r.Type)
			c.s("</Cd></CdOrPrtry>")
		}
		if r.Issuer != "" {
			c.elem("Issr", r.Issuer)
		}
		c.s("</Tp>")
	}
	c.elem("Ref", r.Value)
	c.s("</CdtrRefInf>")
}

func (c *camtWriter) elem(name, text string) {
	c.s("<" + name + ">")
	c.text(text)
	c.s("</" + name + ">")
}

func (c *camtWriter) amt(name string, a domain.Amount, ccy string) {
	c.s("<" + name + ` Ccy="` + ccy + `">` + a.StringFixed(domain.CurrencyDigits(ccy)) + "</" + name + ">")
}

func (c *camtWriter) indicator(credit bool) {
	if credit {
		c.s("<CdtDbtInd>CRDT</CdtDbtInd>")
	} else {
		c.s("<CdtDbtInd>DBIT</CdtDbtInd>")
	}
}

func day(t time.Time) string { return t.Format("2006-01-02") }

func (c *camtWriter) balance(code string, a domain.Amount, ccy string, d time.Time) {
	c.s("      <Bal><Tp><CdOrPrtry><Cd>" + code + "</Cd></CdOrPrtry></Tp>")
	c.amt("Amt", a.Abs(), ccy)
	c.indicator(a.Sign() >= 0)
	c.s("<Dt><Dt>" + day(d) + "</Dt></Dt></Bal>\n")
}

func (c *camtWriter) sum(name string, n int, s domain.Amount, ccy string) {
	c.s("<" + name + "><NbOfNtries>" + strconv.Itoa(n) + "</NbOfNtries><Sum>" +
		s.StringFixed(domain.CurrencyDigits(ccy)) + "</Sum></" + name + ">")
}

// begin writes the document and statement opening.
func (c *camtWriter) begin(h *stmtHeader) {
	created := h.Created.UTC().Format("2006-01-02T15:04:05Z")
	c.s(`<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <BkToCstmrStmt>
    <GrpHdr><MsgId>`)
	c.text(h.MsgID)
	c.s("</MsgId><CreDtTm>" + created + "</CreDtTm><MsgPgntn><PgNb>1</PgNb><LastPgInd>true</LastPgInd></MsgPgntn></GrpHdr>\n    <Stmt>\n      ")
	c.elem("Id", h.ID)
	c.s("<ElctrncSeqNb>" + strconv.Itoa(h.Seq) + "</ElctrncSeqNb><CreDtTm>" + created + "</CreDtTm>\n")
	c.s("      <FrToDt><FrDtTm>" + day(h.From) + "T00:00:00Z</FrDtTm><ToDtTm>" + day(h.To) + "T23:59:59Z</ToDtTm></FrToDt>\n")
	c.s("      <Acct><Id><IBAN>" + h.Account + "</IBAN></Id><Ccy>" + h.Currency + "</Ccy><Ownr><Nm>")
	c.text(h.Owner)
	c.s("</Nm></Ownr><Svcr><FinInstnId><BICFI>AGRIFRPPXXX</BICFI></FinInstnId></Svcr></Acct>\n")
	c.balance("OPBD", h.Opening, h.Currency, h.From.AddDate(0, 0, -1))
	c.balance("CLBD", h.closing(), h.Currency, h.To)
	net := h.CreditSum.Sub(h.DebitSum)
	c.s("      <TxsSummry><TtlNtries><NbOfNtries>" + strconv.Itoa(h.Entries) + "</NbOfNtries><Sum>" +
		h.CreditSum.Add(h.DebitSum).StringFixed(domain.CurrencyDigits(h.Currency)) + "</Sum><TtlNetNtry><Amt>" +
		net.Abs().StringFixed(domain.CurrencyDigits(h.Currency)) + "</Amt>")
	c.indicator(net.Sign() >= 0)
	c.s("</TtlNetNtry></TtlNtries>")
	c.sum("TtlCdtNtries", h.Credits, h.CreditSum, h.Currency)
	c.sum("TtlDbtNtries", h.Debits, h.DebitSum, h.Currency)
	c.s("</TxsSummry>\n")
}

// end closes the statement and the document and flushes.
func (c *camtWriter) end() error {
	c.s("    </Stmt>\n  </BkToCstmrStmt>\n</Document>\n")
	if c.err == nil {
		c.err = c.w.Flush()
	}
	if c.err != nil {
		return fmt.Errorf("writing statement: %w", c.err)
	}
	return nil
}

// entry is one <Ntry>: a single payment or a batch booking of several.
type entry struct {
	NtryRef, AcctSvcrRef string
	Amount               domain.Amount
	Currency             string
	Credit               bool
	Booking              time.Time
	Txs                  []*domain.Transaction
	// Rich pads every detail with what real banks send and the matcher
	// does not read (postal address, agents, amount details, purpose…),
	// for the ~3.4 KB-per-entry benchmark files.
	Rich bool
	// Seq numbers the entry in its file, for the rich padding.
	Seq int
	// Heavy pads every detail as a remittance-heavy statement does (the
	// payer's postal address and identification, agents, purpose, dates,
	// the instructed amount) without changing what the matcher reads.
	Heavy bool
	// NoDetails writes a batch entry as one amount without its TxDtls:
	// the details come in a camt.054 (see writeNotification).
	NoDetails bool
}

func (c *camtWriter) entry(e *entry) {
	c.s("      <Ntry>\n        <NtryRef>" + e.NtryRef + "</NtryRef>")
	c.amt("Amt", e.Amount, e.Currency)
	c.indicator(e.Credit)
	c.s("<Sts><Cd>BOOK</Cd></Sts>\n        <BookgDt><Dt>" + day(e.Booking) + "</Dt></BookgDt><ValDt><Dt>" + day(e.Booking) +
		"</Dt></ValDt><AcctSvcrRef>" + e.AcctSvcrRef + "</AcctSvcrRef>\n")
	fmly := "RCDT"
	if !e.Credit {
		fmly = "ICDT"
	}
	c.s("        <BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>" + fmly + "</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn></BkTxCd>\n        <NtryDtls>\n")
	if len(e.Txs) > 1 {
		c.s("          <Btch><NbOfTxs>" + strconv.Itoa(len(e.Txs)) + "</NbOfTxs>")
		c.amt("TtlAmt", e.Amount, e.Currency)
		c.indicator(e.Credit)
		c.s("</Btch>\n")
	}
	if !e.NoDetails {
		for j, tx := range e.Txs {
			c.txDtls(e, j, tx)
		}
	}
	c.s("        </NtryDtls>\n")
	if e.Rich {
		c.s("        <AddtlNtryInf>SEPA CREDIT TRANSFER RECEIVED</AddtlNtryInf>\n")
	}
	c.s("      </Ntry>\n")
}

// txDtls writes transaction j of entry e: its references, amounts,
// parties, agents and dates (rich and heavy entries), and remittance.
func (c *camtWriter) txDtls(e *entry, j int, tx *domain.Transaction) {
	c.s("          <TxDtls>\n            ")
	c.txRefs(e, j, tx)
	c.txAmounts(e, tx)
	c.txParties(e, j, tx)
	c.txAgents(e)
	c.txRemittance(tx)
	if e.Rich {
		c.s("            <AddtlTxInf>SEPA Credit Transfer received</AddtlTxInf>\n")
	}
	c.s("          </TxDtls>\n")
}

// txRefs writes the Refs of transaction j of entry e (a rich entry's
// message, payment and instruction ids and UETR besides the bank's
// reference and the end-to-end id).
func (c *camtWriter) txRefs(e *entry, j int, tx *domain.Transaction) {
	c.s("<Refs>")
	if e.Rich {
		c.s(fmt.Sprintf("<MsgId>MSG%08d</MsgId>", e.Seq))
	}
	c.elem("AcctSvcrRef", tx.Ref)
	if e.Rich {
		c.s(fmt.Sprintf("<PmtInfId>PMT%08d</PmtInfId><InstrId>INSTR%08d-%d</InstrId>", e.Seq, e.Seq, j+1))
	}
	if tx.EndToEndID != "" {
		c.elem("EndToEndId", tx.EndToEndID)
	}
	if e.Rich {
		c.s(fmt.Sprintf("<UETR>5d8c2f1e-1a2b-4c3d-8e9f-%012d</UETR>", e.Seq*10+j))
	}
	c.s("</Refs>\n            ")
}

// txAmounts writes tx's amount, its direction, the instructed amount of a
// converted payment (with its rate), and the amount details and bank
// transaction code of rich and heavy entries.
func (c *camtWriter) txAmounts(e *entry, tx *domain.Transaction) {
	ccy, fx := tx.Currency, tx.FX()
	c.amt("Amt", tx.Amount, ccy)
	c.indicator(tx.Credit)
	c.s("\n")
	if fx.InstructedCurrency != "" && !e.Rich {
		// (with Heavy too: the instructed amount is what the FX rule reads)
		// a payment converted by the banks: what the payer instructed, in
		// its currency, with the rate (source → target, per unit of the
		// source), and the cash
		c.s("            <AmtDtls><InstdAmt>")
		c.amt("Amt", fx.Instructed, fx.InstructedCurrency)
		c.s("<CcyXchg><SrcCcy>" + fx.InstructedCurrency + "</SrcCcy><TrgtCcy>" + ccy + "</TrgtCcy><UnitCcy>" +
			fx.InstructedCurrency + "</UnitCcy>")
		c.elem("XchgRate", fx.ExchangeRate)
		c.s("</CcyXchg></InstdAmt><TxAmt>")
		c.amt("Amt", tx.Amount, ccy)
		c.s("</TxAmt></AmtDtls>\n")
	}
	if e.Rich {
		c.s("            <AmtDtls><InstdAmt>")
		c.amt("Amt", tx.Amount, ccy)
		c.s("</InstdAmt><TxAmt>")
		c.amt("Amt", tx.Amount, ccy)
		c.s("</TxAmt></AmtDtls>\n")
		c.s("            <BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn><Prtry><Cd>NTRF+166</Cd><Issr>DK</Issr></Prtry></BkTxCd>\n")
	}
	if e.Heavy && fx.InstructedCurrency == "" {
		c.s("            <AmtDtls><InstdAmt>")
		c.amt("Amt", tx.Amount, ccy)
		c.s("</InstdAmt><TxAmt>")
		c.amt("Amt", tx.Amount, ccy)
		c.s("</TxAmt></AmtDtls>\n")
	}
	if e.Heavy {
		c.s("            <BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn><Prtry><Cd>NTRF+166</Cd><Issr>DK</Issr></Prtry></BkTxCd>\n")
	}
}

// txParties writes tx's related parties: everything a bank sends for a
// heavy entry (heavyParties); else the payer's (or, for a debit, the
// payee's) name and account, with a rich entry's address, id, ultimate
// debtor and creditor.
func (c *camtWriter) txParties(e *entry, j int, tx *domain.Transaction) {
	p := tx.Counterparty
	if e.Heavy {
		c.heavyParties(e, j, tx)
	} else if p.Name != "" || p.IBAN != "" || e.Rich {
		party, acct := "Dbtr", "DbtrAcct"
		if !tx.Credit {
			party, acct = "Cdtr", "CdtrAcct"
		}
		c.s("            <RltdPties>\n")
		if p.Name != "" {
			c.s("              <" + party + "><Pty>")
			c.elem("Nm", p.Name)
			if e.Rich {
				c.s(fmt.Sprintf("<PstlAdr><StrtNm>Musterstrasse</StrtNm><BldgNb>%d</BldgNb><PstCd>10115</PstCd><TwnNm>Berlin</TwnNm><Ctry>DE</Ctry></PstlAdr>", e.Seq%200))
				c.s(fmt.Sprintf("<Id><OrgId><Othr><Id>DE%09d</Id><SchmeNm><Cd>TXID</Cd></SchmeNm></Othr></OrgId></Id><CtryOfRes>DE</CtryOfRes>", e.Seq))
			}
			c.s("</Pty></" + party + ">\n")
		}
		if p.IBAN != "" {
			c.s("              <" + acct + "><Id><IBAN>" + p.IBAN + "</IBAN></Id></" + acct + ">\n")
		}
		if e.Rich {
			c.s(fmt.Sprintf("              <UltmtDbtr><Pty><Nm>Ultimate Payer %d</Nm></Pty></UltmtDbtr>\n", e.Seq))
			c.s("              <Cdtr><Pty><Nm>Lettrage Bench SAS</Nm></Pty></Cdtr>\n              <CdtrAcct><Id><IBAN>DE89370400440532013000</IBAN></Id></CdtrAcct>\n")
		}
		c.s("            </RltdPties>\n")
	}
}

// txAgents writes the agents, purpose and dates of a rich or heavy entry.
func (c *camtWriter) txAgents(e *entry) {
	if e.Rich {
		c.s("            <RltdAgts><DbtrAgt><FinInstnId><BICFI>BYLADEM1001</BICFI><Nm>Bayerische Landesbank</Nm></FinInstnId></DbtrAgt>" +
			"<CdtrAgt><FinInstnId><BICFI>COBADEFFXXX</BICFI><Nm>Commerzbank AG</Nm></FinInstnId></CdtrAgt></RltdAgts>\n            <Purp><Cd>GDDS</Cd></Purp>\n")
		c.s("            <RltdDts><AccptncDtTm>" + day(e.Booking) + "T09:30:00Z</AccptncDtTm><IntrBkSttlmDt>" + day(e.Booking) + "</IntrBkSttlmDt></RltdDts>\n")
	}
	if e.Heavy {
		c.s("            <RltdAgts><DbtrAgt><FinInstnId><BICFI>BYLADEM1001</BICFI><Nm>Bayerische Landesbank</Nm></FinInstnId></DbtrAgt>" +
			"<CdtrAgt><FinInstnId><BICFI>AGRIFRPPXXX</BICFI><Nm>Credit Agricole</Nm></FinInstnId></CdtrAgt></RltdAgts>\n            <Purp><Cd>SUPP</Cd></Purp>\n")
		c.s("            <RltdDts><AccptncDtTm>" + day(e.Booking) + "T09:30:00Z</AccptncDtTm><IntrBkSttlmDt>" + day(e.Booking) + "</IntrBkSttlmDt></RltdDts>\n")
	}
}

// txRemittance writes tx's remittance: the payer's per-document split
// (remittance), else its free text and structured references (with the
// documents they go with).
func (c *camtWriter) txRemittance(tx *domain.Transaction) {
	ccy := tx.Currency
	if len(tx.Remitted) > 0 || len(tx.Documents) > len(tx.Structured) {
		c.remittance(tx)
	} else if len(tx.Unstructured) > 0 || len(tx.Structured) > 0 || len(tx.Documents) > 0 {
		c.s("            <RmtInf>\n")
		for _, u := range tx.Unstructured {
			c.s("              ")
			c.elem("Ustrd", u)
			c.s("\n")
		}
		for k, r := range tx.Structured {
			c.s("              <Strd>")
			if k < len(tx.Documents) {
				c.s("<RfrdDocInf><Tp><CdOrPrtry><Cd>CINV</Cd></CdOrPrtry></Tp>")
				c.elem("Nb", tx.Documents[k])
				c.s("<RltdDt>" + day(tx.BookingDate.AddDate(0, -1, 0)) + "</RltdDt></RfrdDocInf><RfrdDocAmt>")
				c.amt("DuePyblAmt", tx.Amount, ccy)
				c.amt("RmtdAmt", tx.Amount, ccy)
				c.s("</RfrdDocAmt>")
			}
			c.creditorRef(r)
			c.s("</Strd>\n")
		}
		c.s("            </RmtInf>\n")
	}
}

// heavyParties writes the related parties with everything a bank sends:
// the payer's postal address and organisation id, the creditor and its
// account. The payer's name and IBAN are the transaction's.
func (c *camtWriter) heavyParties(e *entry, j int, tx *domain.Transaction) {
	p := tx.Counterparty
	party, acct, other, otherAcct := "Dbtr", "DbtrAcct", "Cdtr", "CdtrAcct"
	if !tx.Credit {
		party, acct, other, otherAcct = "Cdtr", "CdtrAcct", "Dbtr", "DbtrAcct"
	}
	c.s("            <RltdPties>\n              <" + party + "><Pty>")
	if p.Name != "" {
		c.elem("Nm", p.Name)
	}
	c.s(fmt.Sprintf("<PstlAdr><StrtNm>Rue de la Republique</StrtNm><BldgNb>%d</BldgNb><PstCd>69002</PstCd><TwnNm>Lyon</TwnNm><Ctry>FR</Ctry></PstlAdr>", (e.Seq+j)%200+1))
	c.s(fmt.Sprintf("<Id><OrgId><Othr><Id>FR%011d</Id><SchmeNm><Cd>TXID</Cd></SchmeNm></Othr></OrgId></Id>", e.Seq*10+j))
	c.s("</Pty></" + party + ">\n")
	if p.IBAN != "" {
		c.s("              <" + acct + "><Id><IBAN>" + p.IBAN + "</IBAN></Id></" + acct + ">\n")
	}
	c.s("              <" + other + "><Pty><Nm>Lettrage Bench SAS</Nm></Pty></" + other + ">\n              <" + otherAcct +
		"><Id><IBAN>" + accountFor(tx.Currency) + "</IBAN></Id></" + otherAcct + ">\n            </RltdPties>\n")
}

// remittance writes RmtInf as a payment run does: the Ustrd lines, then one
// Strd per remitted document with its RfrdDocAmt (and the creditor
// reference of the document when it has one), then the documents named
// without amounts, then the other creditor references.
func (c *camtWriter) remittance(tx *domain.Transaction) {
	ccy := tx.Currency
	c.s("            <RmtInf>\n")
	for _, u := range tx.Unstructured {
		c.s("              ")
		c.elem("Ustrd", u)
		c.s("\n")
	}
	written := map[string]bool{}
	refWritten := map[string]bool{}
	amt := func(name string, a *domain.Amount) {
		if a != nil {
			c.amt(name, *a, ccy)
		}
	}
	for _, d := range tx.Remitted {
		c.s("              <Strd>")
		if d.Number != "" {
			written[d.Number] = true
			c.s("<RfrdDocInf>")
			if d.Type != "" {
				c.s("<Tp><CdOrPrtry><Cd>" + d.Type + "</Cd></CdOrPrtry></Tp>")
			}
			c.elem("Nb", d.Number)
			c.s("<RltdDt>" + day(tx.BookingDate.AddDate(0, -1, 0)) + "</RltdDt></RfrdDocInf>")
		}
		c.s("<RfrdDocAmt>")
		amt("DuePyblAmt", d.Due)
		if !d.Discount.IsZero() {
			c.s("<DscntApldAmt><Tp><Cd>TMDS</Cd></Tp>")
			c.amt("Amt", d.Discount, ccy)
			c.s("</DscntApldAmt>")
		}
		if !d.CreditNote.IsZero() {
			c.amt("CdtNoteAmt", d.CreditNote, ccy)
		}
		if !d.Tax.IsZero() {
			c.s("<TaxAmt>")
			if d.TaxType != "" {
				c.s("<Tp><Cd>" + d.TaxType + "</Cd></Tp>")
			}
			c.amt("Amt", d.Tax, ccy)
			c.s("</TaxAmt>")
		}
		for _, a := range d.Adjustments {
			c.s("<AdjstmntAmtAndRsn>")
			c.amt("Amt", a.Amount, ccy)
			if a.Added {
				c.s("<CdtDbtInd>CRDT</CdtDbtInd>")
			} else {
				c.s("<CdtDbtInd>DBIT</CdtDbtInd>")
			}
			if a.Reason != "" {
				c.elem("Rsn", a.Reason)
			}
			if a.Info != "" {
				c.elem("AddtlInf", a.Info)
			}
			c.s("</AdjstmntAmtAndRsn>")
		}
		amt("RmtdAmt", d.Remitted)
		c.s("</RfrdDocAmt>")
		if d.Reference != "" {
			refWritten[d.Reference] = true
			c.s("<CdtrRefInf><Tp><CdOrPrtry><Cd>SCOR</Cd></CdOrPrtry></Tp>")
			c.elem("Ref", d.Reference)
			c.s("</CdtrRefInf>")
		}
		c.s("</Strd>\n")
	}
	for _, n := range tx.Documents {
		if written[n] {
			continue
		}
		c.s("              <Strd><RfrdDocInf><Tp><CdOrPrtry><Cd>CINV</Cd></CdOrPrtry></Tp>")
		c.elem("Nb", n)
		c.s("</RfrdDocInf></Strd>\n")
	}
	for _, r := range tx.Structured {
		if refWritten[r.Value] {
			continue
		}
		c.s("              <Strd>")
		c.creditorRef(r)
		c.s("</Strd>\n")
	}
	c.s("            </RmtInf>\n")
}

// beginReport writes the opening of a camt.052 intraday report (kind
// "camt.052") or a camt.054 notification ("camt.054") for one account:
// no balances (they are optional there), the entries follow.
func (c *camtWriter) beginReport(kind string, h *stmtHeader) {
	created := h.Created.UTC().Format("2006-01-02T15:04:05Z")
	doc, block := "BkToCstmrAcctRpt", "Rpt"
	if kind == "camt.054" {
		doc, block = "BkToCstmrDbtCdtNtfctn", "Ntfctn"
	}
	c.s(`<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:` + kind + `.001.08" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <` + doc + `>
    <GrpHdr><MsgId>`)
	c.text(h.MsgID)
	c.s("</MsgId><CreDtTm>" + created + "</CreDtTm></GrpHdr>\n    <" + block + ">\n      ")
	c.elem("Id", h.ID)
	c.s("<ElctrncSeqNb>" + strconv.Itoa(h.Seq) + "</ElctrncSeqNb><CreDtTm>" + created + "</CreDtTm>\n")
	c.s("      <Acct><Id><IBAN>" + h.Account + "</IBAN></Id><Ccy>" + h.Currency + "</Ccy><Ownr><Nm>")
	c.text(h.Owner)
	c.s("</Nm></Ownr><Svcr><FinInstnId><BICFI>AGRIFRPPXXX</BICFI></FinInstnId></Svcr></Acct>\n")
}

// endReport closes what beginReport opened and flushes.
func (c *camtWriter) endReport(kind string) error {
	doc, block := "BkToCstmrAcctRpt", "Rpt"
	if kind == "camt.054" {
		doc, block = "BkToCstmrDbtCdtNtfctn", "Ntfctn"
	}
	c.s("    </" + block + ">\n  </" + doc + ">\n</Document>\n")
	if c.err == nil {
		c.err = c.w.Flush()
	}
	if c.err != nil {
		return fmt.Errorf("writing %s: %w", kind, c.err)
	}
	return nil
}
