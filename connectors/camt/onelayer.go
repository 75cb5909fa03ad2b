package camt

import (
	"bytes"
	"strconv"
	"strings"
	"time"

	"github.com/lettrage/lettrage/domain"
)

// The one-layer decode (Options.EntryHeaders). The fast path's element
// tree of an entry (fast.go) is read here straight into what the
// projection needs: the entry's header (a reused Entry without
// Transactions, Charges or Warnings) and, per TxDtls, a dtx holding the
// values the projection reads, whose remittance slices become the
// transactions' own. No reflection, no xNtry, no TxDetail.
//
// It mirrors, for the elements it reads, what fill (encoding/xml's rules)
// then convertEntry and project do: a singular element that repeats is
// merged into the same value (its strings and attributes last-wins), a
// repeated one appended; unknown elements are ignored. Whatever it does not
// take — Chrgs anywhere (their conversion can fail), any value that does not
// convert (a bad amount, date, indicator or count: the slow path then
// reports it, with its path), more details than MaxTxDtls — makes it give
// up before the projector's state is touched, and the entry goes the
// three-layer way (fill, convertEntry, project) from the same tree.
// TestOneLayerEquivalence and FuzzOneLayer hold both ways to the same
// transactions, headers, checks and errors.

// Element names the one-layer decode reads, numbered in every fastState
// before any other name (seedNames), so that they are compared as ints.
const (
	nNtryRef = iota
	nAmt
	nCdtDbtInd
	nRvslInd
	nSts
	nCd
	nPrtry
	nBookgDt
	nValDt
	nDt
	nDtTm
	nAcctSvcrRef
	nChrgs
	nAmtDtls
	nInstdAmt
	nTxAmt
	nCntrValAmt
	nCcyXchg
	nXchgRate
	nBtch
	nMsgID
	nPmtInfID
	nNbOfTxs
	nTtlAmt
	nTxDtls
	nNtryDtls
	nAddtlNtryInf
	nRefs
	nEndToEndID
	nRltdPties
	nDbtr
	nDbtrAcct
	nUltmtDbtr
	nCdtr
	nCdtrAcct
	nUltmtCdtr
	nNm
	nPty
	nID
	nIBAN
	nOthr
	nPrtryAcct
	nBBAN
	nRltdAgts
	nDbtrAgt
	nCdtrAgt
	nFinInstnID
	nBIC
	nBICFI
	nRmtInf
	nUstrd
	nStrd
	nRfrdDocInf
	nTp
	nCdOrPrtry
	nNb
	nRfrdDocAmt
	nDuePyblAmt
	nDscntApldAmt
	nCdtNoteAmt
	nTaxAmt
	nAdjstmntAmtAndRsn
	nRmtdAmt
	nRsn
	nAddtlInf
	nCdtrRefInf
	nIssr
	nRef
	nAddtlRmtInf
	nRtrInf
	nAddtlTxInf
	nKnown // how many
)

var knownNames = [nKnown]string{
	nNtryRef: "NtryRef", nAmt: "Amt", nCdtDbtInd: "CdtDbtInd", nRvslInd: "RvslInd", nSts: "Sts",
	nCd: "Cd", nPrtry: "Prtry", nBookgDt: "BookgDt", nValDt: "ValDt", nDt: "Dt", nDtTm: "DtTm",
	nAcctSvcrRef: "AcctSvcrRef", nChrgs: "Chrgs", nAmtDtls: "AmtDtls", nInstdAmt: "InstdAmt",
	nTxAmt: "TxAmt", nCntrValAmt: "CntrValAmt", nCcyXchg: "CcyXchg", nXchgRate: "XchgRate",
	nBtch: "Btch", nMsgID: "MsgId", nPmtInfID: "PmtInfId", nNbOfTxs: "NbOfTxs", nTtlAmt: "TtlAmt",
	nTxDtls: "TxDtls", nNtryDtls: "NtryDtls", nAddtlNtryInf: "AddtlNtryInf", nRefs: "Refs",
	nEndToEndID: "EndToEndId", nRltdPties: "RltdPties", nDbtr: "Dbtr", nDbtrAcct: "DbtrAcct",
	nUltmtDbtr: "UltmtDbtr", nCdtr: "Cdtr", nCdtrAcct: "CdtrAcct", nUltmtCdtr: "UltmtCdtr",
	nNm: "Nm", nPty: "Pty", nID: "Id", nIBAN: "IBAN", nOthr: "Othr", nPrtryAcct: "PrtryAcct",
	nBBAN: "BBAN", nRltdAgts: "RltdAgts", nDbtrAgt: "DbtrAgt", nCdtrAgt: "CdtrAgt",
	nFinInstnID: "FinInstnId", nBIC: "BIC", nBICFI: "BICFI", nRmtInf: "RmtInf", nUstrd: "Ustrd",
	nStrd: "Strd", nRfrdDocInf: "RfrdDocInf", nTp: "Tp", nCdOrPrtry: "CdOrPrtry", nNb: "Nb",
	nRfrdDocAmt: "RfrdDocAmt", nDuePyblAmt: "DuePyblAmt", nDscntApldAmt: "DscntApldAmt",
	nCdtNoteAmt: "CdtNoteAmt", nTaxAmt: "TaxAmt", nAdjstmntAmtAndRsn: "AdjstmntAmtAndRsn",
	nRmtdAmt: "RmtdAmt", nRsn: "Rsn", nAddtlInf: "AddtlInf", nCdtrRefInf: "CdtrRefInf",
	nIssr: "Issr", nRef: "Ref", nAddtlRmtInf: "AddtlRmtInf", nRtrInf: "RtrInf", nAddtlTxInf: "AddtlTxInf",
}

// seedNames numbers knownNames first in a new name table.
func (st *fastState) seedNames() {
	for i, n := range knownNames {
		st.names = append(st.names, n)
		st.nameIDs[n] = i
	}
}

// leaf is the text of node ni, trimmed, as a string.
func (s *fscanner) leaf(ni int) string {
	return s.st.str(bytes.TrimSpace(s.bytes(s.nodes[ni].text)))
}

// leafOnce is leaf for a text that is parsed and dropped (a date, a
// count): not kept in the chunk of the texts transactions keep.
func (s *fscanner) leafOnce(ni int) string {
	return s.st.once(bytes.TrimSpace(s.bytes(s.nodes[ni].text)))
}

// amtAcc is an amount element (xAmt) as encoding/xml fills it: its Ccy
// attribute when present, its character data always.
type amtAcc struct {
	set bool
	ccy string
	val span
}

func (s *fscanner) amt(a *amtAcc, ni int) {
	n := &s.nodes[ni]
	a.set = true
	a.val = n.text
	for _, at := range s.attrs[n.attrStart:n.attrEnd] {
		if at.name == "Ccy" {
			a.ccy = at.value
		}
	}
}

// money is what money (convert.go) makes of a; false when the value does
// not parse.
func (s *fscanner) money(a *amtAcc) (Money, bool) {
	v, err := domain.ParseAmount(s.st.once(bytes.TrimSpace(s.bytes(a.val))))
	if err != nil {
		return Money{}, false
	}
	return Money{Amount: v, Currency: strings.TrimSpace(a.ccy)}, true
}

// validMoney reports whether a is absent or converts.
func (s *fscanner) validMoney(a *amtAcc) bool {
	if !a.set {
		return true
	}
	_, ok := s.money(a)
	return ok
}

// validCdtDbt reports whether an indicator converts (creditDebit): empty,
// CRDT or DBIT; c is +1, -1 or 0 (none).
func validCdtDbt(v string) (c int8, ok bool) {
	switch v {
	case "":
		return 0, true
	case "CRDT":
		return 1, true
	case "DBIT":
		return -1, true
	}
	return 0, false
}

// dparty is a related party, its account and its agent as the projection
// reads them (xParty, xAcctID, xAgent).
type dparty struct {
	nm, ptyNm                string
	iban, othr, prtry, bban  string
	bic, bicfi               string
	hasName, hasAcct, hasAgt bool
}

func (s *fscanner) party(p *dparty, ni int) {
	p.hasName = true
	for k := s.nodes[ni].first; k != 0; k = s.nodes[k].next {
		name := s.nodes[k].name
		switch name {
		case nNm:
			p.nm = s.leaf(k)
		case nPty:
			for k2 := s.nodes[k].first; k2 != 0; k2 = s.nodes[k2].next {
				name2 := s.nodes[k2].name
				if name2 == nNm {
					p.ptyNm = s.leaf(k2)
				}
			}
		}
	}
}

func (s *fscanner) account(p *dparty, ni int) {
	p.hasAcct = true
	for k := s.nodes[ni].first; k != 0; k = s.nodes[k].next {
		name := s.nodes[k].name
		if name != nID {
			continue
		}
		for k2 := s.nodes[k].first; k2 != 0; k2 = s.nodes[k2].next {
			name2 := s.nodes[k2].name
			switch name2 {
			case nIBAN:
				p.iban = s.leaf(k2)
			case nBBAN:
				p.bban = s.leaf(k2)
			case nOthr, nPrtryAcct:
				for k3 := s.nodes[k2].first; k3 != 0; k3 = s.nodes[k3].next {
					name3 := s.nodes[k3].name
					if name3 == nID {
						if name2 == nOthr {
							p.othr = s.leaf(k3)
						} else {
							p.prtry = s.leaf(k3)
						}
					}
				}
			}
		}
	}
}

func (s *fscanner) agent(p *dparty, ni int) {
	p.hasAgt = true
	for k := s.nodes[ni].first; k != 0; k = s.nodes[k].next {
		name := s.nodes[k].name
		if name != nFinInstnID {
			continue
		}
		for k2 := s.nodes[k].first; k2 != 0; k2 = s.nodes[k2].next {
			name2 := s.nodes[k2].name
			switch name2 {
			case nBIC:
				p.bic = s.leaf(k2)
			case nBICFI:
				p.bicfi = s.leaf(k2)
			}
		}
	}
}

// domainParty is convertParty then counterparty's copy.
func (p *dparty) domainParty() domain.Party {
	var out domain.Party
	if p.hasName {
		out.Name = firstNonEmpty(p.ptyNm, p.nm)
	}
	if p.hasAcct {
		if iban := normalizedIBAN(p.iban); iban != "" {
			out.IBAN = iban
		} else {
			out.Account = firstNonEmpty(p.othr, p.prtry, p.bban)
		}
	}
	if p.hasAgt {
		out.BIC = strings.ToUpper(firstNonEmpty(p.bicfi, p.bic))
	}
	return out
}

// normalizedIBAN is NormalizeIBAN, without allocating for an IBAN already
// written in upper case without spaces.
func normalizedIBAN(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return NormalizeIBAN(s)
		}
	}
	return s
}

// xchgAcc is an AmtDtls amount with its exchange (xAmtAndXchg).
type xchgAcc struct {
	amt     amtAcc
	hasXchg bool
	rate    string
}

func (s *fscanner) amtXchg(x *xchgAcc, ni int) {
	for k := s.nodes[ni].first; k != 0; k = s.nodes[k].next {
		name := s.nodes[k].name
		switch name {
		case nAmt:
			s.amt(&x.amt, k)
		case nCcyXchg:
			x.hasXchg = true
			for k2 := s.nodes[k].first; k2 != 0; k2 = s.nodes[k2].next {
				name2 := s.nodes[k2].name
				if name2 == nXchgRate {
					x.rate = s.leaf(k2)
				}
			}
		}
	}
}

// dtx is one TxDtls as the projection reads it.
type dtx struct {
	own, e2e string // Refs/AcctSvcrRef, Refs/EndToEndId
	credit   int8   // CdtDbtInd: +1, -1, 0 when absent
	hasCash  bool   // Amt, else AmtDtls/TxAmt/Amt (txCash)
	cash     Money
	hasInstd bool // AmtDtls/InstdAmt/Amt
	instd    Money
	rate     string // exchangeRate
	ret      bool   // RtrInf
	dbtr     dparty
	cdtr     dparty
	uDbtr    dparty
	uCdtr    dparty
	// The remittance, as fillRemittance appends it; additional is
	// AddtlTxInf (joined) then every Strd's AddtlRmtInf.
	structured   []domain.Reference
	documents    []string
	remitted     []domain.RemittedDocument
	unstructured []string
	additional   []string
}

// counterparty is counterparty (project.go) for a dtx.
func (d *dtx) counterparty(credit bool) domain.Party {
	p, u := &d.cdtr, &d.uCdtr
	if credit {
		p, u = &d.dbtr, &d.uDbtr
	}
	out := p.domainParty()
	if u.hasName {
		out.UltimateName = firstNonEmpty(u.ptyNm, u.nm)
	}
	return out
}

// typedAcc is one DscntApldAmt or TaxAmt (xTypedAmt).
type typedAcc struct {
	ccy       string
	val       span
	cd, prtry string
	amt       amtAcc
}

// adjAcc is one AdjstmntAmtAndRsn (xAdjstmnt).
type adjAcc struct {
	amt           amtAcc
	cdtDbt        string
	rsn, addtlInf string
}

// oneLayer is the one-layer decode's scratch, reused from entry to entry.
type oneLayer struct {
	hdr     Entry
	booking time.Time
	value   time.Time
	instd   Money
	details []dtx
	nodes   []int // TxDtls nodes, in the order convertEntry takes them
	typed   []typedAcc
	taxes   []typedAcc
	adj     []adjAcc
	addtl   []int
	rmt     []int
	// count is the number of entries decoded in one layer (for tests).
	count int
}

// ntryAcc is a Ntry element being read (the fields of xNtry the one-layer
// decode takes).
type ntryAcc struct {
	amt, instd                 amtAcc
	hasInstd                   bool
	cdtDbt, rvsl               string
	stsText, stsCd, stsPrtry   string
	booking, value             bool
	bkDt, bkDtTm, vlDt, vlDtTm string
	addtl                      []int
	ntryDtls                   []int
}

// decode reads the entry of tree s into o.hdr and o.details; false when
// the entry is left to the three-layer path (nothing was changed but o's
// scratch).
func (o *oneLayer) decode(s *fscanner, index, maxTx int) bool {
	h := &o.hdr
	batches := h.Batches[:0]
	*h = Entry{Index: index}
	o.nodes = o.nodes[:0]
	var x ntryAcc
	var ok bool
	if batches, ok = o.readNtry(s, &x, batches); !ok {
		return false
	}
	for _, nd := range x.ntryDtls {
		var a btchAcc
		hasBatch := false
		for k := s.nodes[nd].first; k != 0; k = s.nodes[k].next {
			name := s.nodes[k].name
			switch name {
			case nBtch:
				hasBatch = true
				if !s.batch(&a, k) {
					return false
				}
			case nTxDtls:
				o.nodes = append(o.nodes, k)
			}
		}
		if hasBatch {
			batches = append(batches, s.batchDone(&a))
		}
	}
	if len(o.nodes) > maxTx || !o.header(s, &x) {
		return false
	}
	for _, b := range batches {
		h.BatchCount += b.Count
	}
	h.Batches = batches
	if len(batches) == 0 {
		h.Batches = nil
	}
	if cap(o.details) < len(o.nodes) {
		o.details = make([]dtx, len(o.nodes))
	}
	o.details = o.details[:len(o.nodes)]
	for i, k := range o.nodes {
		o.details[i] = dtx{}
		if !o.detail(s, &o.details[i], k) {
			return false
		}
	}
	o.count++
	return true
}

// readNtry reads the children of the entry (the root of s) into x, o.hdr's
// references, o.nodes (the TxDtls directly under Ntry, .01) and batches
// (the Btch directly under Ntry, .01).
func (o *oneLayer) readNtry(s *fscanner, x *ntryAcc, batches []Batch) ([]Batch, bool) {
	h := &o.hdr
	for k := s.nodes[0].first; k != 0; k = s.nodes[k].next {
		name := s.nodes[k].name
		switch name {
		case nNtryRef:
			h.NtryRef = s.leaf(k)
		case nAmt:
			s.amt(&x.amt, k)
		case nCdtDbtInd:
			x.cdtDbt = s.leaf(k)
		case nRvslInd:
			x.rvsl = s.leaf(k)
		case nSts:
			x.stsText = s.leaf(k)
			x.stsCd, x.stsPrtry = s.cdPrtry(k, x.stsCd, x.stsPrtry)
		case nBookgDt:
			x.booking = true
			x.bkDt, x.bkDtTm = s.dates(k, x.bkDt, x.bkDtTm)
		case nValDt:
			x.value = true
			x.vlDt, x.vlDtTm = s.dates(k, x.vlDt, x.vlDtTm)
		case nAcctSvcrRef:
			h.AcctSvcrRef = s.leaf(k)
		case nChrgs:
			return batches, false
		case nAmtDtls:
			for k2 := s.nodes[k].first; k2 != 0; k2 = s.nodes[k2].next {
				name2 := s.nodes[k2].name
				if name2 != nInstdAmt {
					continue
				}
				for k3 := s.nodes[k2].first; k3 != 0; k3 = s.nodes[k3].next {
					name3 := s.nodes[k3].name
					if name3 == nAmt {
						x.hasInstd = true
						s.amt(&x.instd, k3)
					}
				}
			}
		case nBtch:
			var a btchAcc
			if !s.batch(&a, k) {
				return batches, false
			}
			batches = append(batches, s.batchDone(&a))
		case nTxDtls:
			o.nodes = append(o.nodes, k)
		case nNtryDtls:
			x.ntryDtls = append(x.ntryDtls, k)
		case nAddtlNtryInf:
			x.addtl = append(x.addtl, k)
		}
	}
	return batches, true
}

// cdPrtry reads the Cd and Prtry children of node ni over cd and prtry.
func (s *fscanner) cdPrtry(ni int, cd, prtry string) (string, string) {
	for k := s.nodes[ni].first; k != 0; k = s.nodes[k].next {
		name := s.nodes[k].name
		switch name {
		case nCd:
			cd = s.leaf(k)
		case nPrtry:
			prtry = s.leaf(k)
		}
	}
	return cd, prtry
}

// dates reads the Dt and DtTm children of node ni over dt and dtTm.
func (s *fscanner) dates(ni int, dt, dtTm string) (string, string) {
	for k := s.nodes[ni].first; k != 0; k = s.nodes[k].next {
		name := s.nodes[k].name
		switch name {
		case nDt:
			dt = s.st.date(bytes.TrimSpace(s.bytes(s.nodes[k].text)))
		case nDtTm:
			dtTm = s.leafOnce(k)
		}
	}
	return dt, dtTm
}

// header converts x into o.hdr as convertEntry does; false when a value
// does not convert.
func (o *oneLayer) header(s *fscanner, x *ntryAcc) bool {
	h := &o.hdr
	if !x.amt.set {
		return false
	}
	m, ok := s.money(&x.amt)
	if !ok {
		return false
	}
	h.Amount, h.Currency = m.Amount, m.Currency
	c, ok := validCdtDbt(x.cdtDbt)
	if !ok || c == 0 {
		return false
	}
	h.Credit = c > 0
	switch strings.ToLower(x.rvsl) {
	case "true", "1":
		h.Reversal = true
	}
	h.Status = firstNonEmpty(x.stsCd, x.stsPrtry, x.stsText)
	if x.booking {
		if h.BookingDate, ok = oneDate(x.bkDt, x.bkDtTm, &o.booking); !ok {
			return false
		}
	}
	if x.value {
		if h.ValueDate, ok = oneDate(x.vlDt, x.vlDtTm, &o.value); !ok {
			return false
		}
	}
	if x.hasInstd {
		if o.instd, ok = s.money(&x.instd); !ok {
			return false
		}
		h.Instructed = &o.instd
	}
	h.AdditionalInfo = s.joined(x.addtl)
	return true
}

// oneDate is parseDate of a BookgDt or ValDt read whole (Dt, else DtTm),
// kept in *keep; nil when both are empty.
func oneDate(dt, dtTm string, keep *time.Time) (*time.Time, bool) {
	s := dt
	if s == "" {
		s = dtTm
	}
	t, ok, err := parseDateTimeValue(s)
	if err != nil {
		return nil, false
	}
	if !ok {
		return nil, true
	}
	*keep = t
	return keep, true
}

// joined is the non-empty texts of nodes, trimmed, joined by spaces.
func (s *fscanner) joined(nodes []int) string {
	switch len(nodes) {
	case 0:
		return ""
	case 1:
		return s.leaf(nodes[0])
	}
	var parts []string
	for _, k := range nodes {
		if v := s.leaf(k); v != "" {
			parts = append(parts, v)
		}
	}
	return strings.Join(parts, " ")
}

// btchAcc is a Btch element (xBtch) being read: NtryDtls/Btch is
// singular, a repeated one merges into the same.
type btchAcc struct {
	b      Batch
	ttlAmt amtAcc
	cdtDbt string
}

// batch reads a Btch element into a; false when a count, amount or
// indicator does not convert. Each occurrence is checked, not only the last
// one that counts (a bad value followed by a good one then goes the
// three-layer way, which takes it: the same result).
func (s *fscanner) batch(a *btchAcc, ni int) bool {
	for k := s.nodes[ni].first; k != 0; k = s.nodes[k].next {
		name := s.nodes[k].name
		switch name {
		case nMsgID:
			a.b.MsgID = s.leaf(k)
		case nPmtInfID:
			a.b.PmtInfID = s.leaf(k)
		case nNbOfTxs:
			n, ok := plainCountOK(s.leafOnce(k))
			if !ok {
				return false
			}
			a.b.Count = n
		case nTtlAmt:
			s.amt(&a.ttlAmt, k)
			if !s.validMoney(&a.ttlAmt) {
				return false
			}
		case nCdtDbtInd:
			a.cdtDbt = s.leaf(k)
			if _, ok := validCdtDbt(a.cdtDbt); !ok {
				return false
			}
		}
	}
	return true
}

// batchDone is convertBatch's Batch of a.
func (s *fscanner) batchDone(a *btchAcc) Batch {
	b := a.b
	if a.ttlAmt.set {
		m, _ := s.money(&a.ttlAmt) // checked by batch
		b.Total = &m
	}
	if c, _ := validCdtDbt(a.cdtDbt); c != 0 {
		credit := c > 0
		b.Credit = &credit
	}
	return b
}

// plainCountOK is plainCount without its error: "" is 0.
func plainCountOK(v string) (int, bool) {
	if v == "" {
		return 0, true
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, false
	}
	return n, true
}

// txAcc is a TxDtls being read: what is converted once it is read whole.
type txAcc struct {
	amt                   amtAcc
	instd, txAmt, cntrVal xchgAcc
	cdtDbt                string
	addtl                 []int // AddtlTxInf nodes (in oneLayer's scratch)
	rmt                   []int // RmtInf nodes (in oneLayer's scratch)
}

// detail reads one TxDtls into d; false when it does not convert.
func (o *oneLayer) detail(s *fscanner, d *dtx, ni int) bool {
	x := txAcc{addtl: o.addtl[:0], rmt: o.rmt[:0]}
	ok := s.readTx(d, &x, ni)
	o.addtl, o.rmt = x.addtl, x.rmt // kept for the next detail
	if !ok {
		return false
	}
	if x.amt.set {
		if d.cash, ok = s.money(&x.amt); !ok {
			return false
		}
		d.hasCash = true
	}
	if d.credit, ok = validCdtDbt(x.cdtDbt); !ok {
		return false
	}
	// convertAmtXchg: each amount of AmtDtls must convert; a rate counts
	// only with its amount (exchangeRate).
	for i, a := range [3]*xchgAcc{&x.instd, &x.txAmt, &x.cntrVal} {
		if !a.amt.set {
			continue
		}
		m, ok := s.money(&a.amt)
		if !ok {
			return false
		}
		switch {
		case i == 0:
			d.hasInstd, d.instd = true, m
		case i == 1 && !d.hasCash:
			d.hasCash, d.cash = true, m
		}
		if d.rate == "" && a.hasXchg && a.rate != "" {
			d.rate = a.rate
		}
	}
	if v := s.joined(x.addtl); v != "" {
		d.additional = append(d.additional, v)
	}
	for _, r := range x.rmt {
		for k := s.nodes[r].first; k != 0; k = s.nodes[k].next {
			name := s.nodes[k].name
			if name == nStrd && !o.strd(s, d, k) {
				return false
			}
		}
	}
	for _, r := range x.rmt {
		for k := s.nodes[r].first; k != 0; k = s.nodes[k].next {
			name := s.nodes[k].name
			if name == nUstrd {
				if v := s.leaf(k); v != "" {
					d.unstructured = append(d.unstructured, v)
				}
			}
		}
	}
	return true
}

// readTx reads the children of a TxDtls: references, parties and the
// return into d, the rest into x.
func (s *fscanner) readTx(d *dtx, x *txAcc, ni int) bool {
	for k := s.nodes[ni].first; k != 0; k = s.nodes[k].next {
		name := s.nodes[k].name
		switch name {
		case nRefs:
			for k2 := s.nodes[k].first; k2 != 0; k2 = s.nodes[k2].next {
				name2 := s.nodes[k2].name
				switch name2 {
				case nAcctSvcrRef:
					d.own = s.leaf(k2)
				case nEndToEndID:
					d.e2e = s.leaf(k2)
				}
			}
		case nAmt:
			s.amt(&x.amt, k)
		case nCdtDbtInd:
			x.cdtDbt = s.leaf(k)
		case nAmtDtls:
			for k2 := s.nodes[k].first; k2 != 0; k2 = s.nodes[k2].next {
				name2 := s.nodes[k2].name
				switch name2 {
				case nInstdAmt:
					s.amtXchg(&x.instd, k2)
				case nTxAmt:
					s.amtXchg(&x.txAmt, k2)
				case nCntrValAmt:
					s.amtXchg(&x.cntrVal, k2)
				}
			}
		case nChrgs:
			return false
		case nRltdPties:
			s.relatedParties(d, k)
		case nRltdAgts:
			for k2 := s.nodes[k].first; k2 != 0; k2 = s.nodes[k2].next {
				name2 := s.nodes[k2].name
				switch name2 {
				case nDbtrAgt:
					s.agent(&d.dbtr, k2)
				case nCdtrAgt:
					s.agent(&d.cdtr, k2)
				}
			}
		case nRmtInf:
			x.rmt = append(x.rmt, k)
		case nRtrInf:
			d.ret = true
		case nAddtlTxInf:
			x.addtl = append(x.addtl, k)
		}
	}
	return true
}

func (s *fscanner) relatedParties(d *dtx, ni int) {
	for k := s.nodes[ni].first; k != 0; k = s.nodes[k].next {
		name := s.nodes[k].name
		switch name {
		case nDbtr:
			s.party(&d.dbtr, k)
		case nDbtrAcct:
			s.account(&d.dbtr, k)
		case nUltmtDbtr:
			s.party(&d.uDbtr, k)
		case nCdtr:
			s.party(&d.cdtr, k)
		case nCdtrAcct:
			s.account(&d.cdtr, k)
		case nUltmtCdtr:
			s.party(&d.uCdtr, k)
		}
	}
}

// strdAcc is a Strd block being read.
type strdAcc struct {
	numbered          int
	number, docType   string // of the last numbered RfrdDocInf
	hasAmts           bool   // RfrdDocAmt
	due, cn, rmtd     amtAcc
	nDisc             int        // the first nDisc of oneLayer.typed are discounts
	taxes             []typedAcc // in oneLayer's scratch
	hasRef            bool       // CdtrRefInf
	refCd, refPrtry   string
	refIssr, refValue string
}

// strd reads one Strd block into d (convertTx's Structured, then
// fillRemittance); false when it does not convert.
func (o *oneLayer) strd(s *fscanner, d *dtx, ni int) bool {
	x := strdAcc{taxes: o.taxes[:0]}
	o.typed, o.adj = o.typed[:0], o.adj[:0]
	for k := s.nodes[ni].first; k != 0; k = s.nodes[k].next {
		name := s.nodes[k].name
		switch name {
		case nRfrdDocInf:
			var cd, prtry, nb string
			for k2 := s.nodes[k].first; k2 != 0; k2 = s.nodes[k2].next {
				name2 := s.nodes[k2].name
				switch name2 {
				case nTp:
					cd, prtry = s.cdOrPrtry(k2, cd, prtry)
				case nNb:
					nb = s.leaf(k2)
				}
			}
			if nb != "" {
				x.numbered++
				x.number, x.docType = nb, firstNonEmpty(cd, prtry)
				d.documents = append(d.documents, nb)
			}
		case nRfrdDocAmt:
			x.hasAmts = true
			o.docAmounts(s, &x, k)
		case nCdtrRefInf:
			x.hasRef = true
			for k2 := s.nodes[k].first; k2 != 0; k2 = s.nodes[k2].next {
				name2 := s.nodes[k2].name
				switch name2 {
				case nTp:
					x.refCd, x.refPrtry = s.cdOrPrtry(k2, x.refCd, x.refPrtry)
					for k3 := s.nodes[k2].first; k3 != 0; k3 = s.nodes[k3].next {
						name3 := s.nodes[k3].name
						if name3 == nIssr {
							x.refIssr = s.leaf(k3)
						}
					}
				case nRef:
					x.refValue = s.leaf(k2)
				}
			}
		case nAddtlRmtInf:
			if v := s.leaf(k); v != "" {
				d.additional = append(d.additional, v)
			}
		}
	}
	o.taxes = x.taxes
	if x.hasRef && x.refValue != "" {
		d.structured = append(d.structured, domain.Reference{Type: firstNonEmpty(x.refCd, x.refPrtry), Issuer: x.refIssr, Value: x.refValue})
	}
	if !x.hasAmts {
		return true
	}
	r, ok, valid := o.remitted(s, &x)
	if !valid {
		return false
	}
	if ok {
		d.remitted = append(d.remitted, r)
	}
	return true
}

// docAmounts reads a RfrdDocAmt element into x (a repeated one merges).
func (o *oneLayer) docAmounts(s *fscanner, x *strdAcc, ni int) {
	for k := s.nodes[ni].first; k != 0; k = s.nodes[k].next {
		name := s.nodes[k].name
		switch name {
		case nDuePyblAmt:
			s.amt(&x.due, k)
		case nCdtNoteAmt:
			s.amt(&x.cn, k)
		case nRmtdAmt:
			s.amt(&x.rmtd, k)
		case nDscntApldAmt:
			o.typed = append(o.typed, s.typedAmt(k))
			x.nDisc++
		case nTaxAmt:
			x.taxes = append(x.taxes, s.typedAmt(k))
		case nAdjstmntAmtAndRsn:
			o.adj = append(o.adj, s.adjustment(k))
		}
	}
}

// strdMoney is the amounts of a Strd block, converted.
type strdMoney struct {
	due, cn, rmtd       Money
	discTotal, taxTotal Money
	discOK, taxOK       bool // the total is valid (one currency)
	adjs                []domain.DocumentAdjustment
	adjMoney            []Money
}

// convertAmounts converts the amounts of a Strd block as
// convertDocAmounts does; false when one does not convert.
func (o *oneLayer) convertAmounts(s *fscanner, x *strdAcc) (m strdMoney, ok bool) {
	for _, a := range [3]struct {
		acc *amtAcc
		m   *Money
	}{{&x.due, &m.due}, {&x.cn, &m.cn}, {&x.rmtd, &m.rmtd}} {
		if a.acc.set {
			if *a.m, ok = s.money(a.acc); !ok {
				return m, false
			}
		}
	}
	if m.discTotal, m.discOK, ok = s.typedTotal(o.typed[:x.nDisc]); !ok {
		return m, false
	}
	if m.taxTotal, m.taxOK, ok = s.typedTotal(x.taxes); !ok {
		return m, false
	}
	m.adjs = make([]domain.DocumentAdjustment, 0, len(o.adj))
	m.adjMoney = make([]Money, 0, len(o.adj))
	for i := range o.adj {
		a := &o.adj[i]
		if !a.amt.set {
			return m, false
		}
		am, ok := s.money(&a.amt)
		if !ok {
			return m, false
		}
		c, ok := validCdtDbt(a.cdtDbt)
		if !ok {
			return m, false
		}
		m.adjMoney = append(m.adjMoney, am)
		m.adjs = append(m.adjs, domain.DocumentAdjustment{Amount: am.Amount, Added: c > 0, Reason: a.rsn, Info: a.addtlInf})
	}
	return m, true
}

// remitted converts the amounts of a Strd block (valid: they all convert,
// whether or not the block names one document) and makes its remitted
// document (remittedDocument: ok).
func (o *oneLayer) remitted(s *fscanner, x *strdAcc) (r domain.RemittedDocument, ok, valid bool) {
	m, valid := o.convertAmounts(s, x)
	if !valid {
		return r, false, false
	}
	nDisc, nTax := x.nDisc, len(x.taxes)
	if !x.due.set && !x.cn.set && !x.rmtd.set && nDisc == 0 && nTax == 0 && len(m.adjs) == 0 {
		return r, false, true // a RfrdDocAmt without amounts
	}
	r.Reference = x.refValue
	if x.numbered > 1 || (x.numbered == 0 && r.Reference == "") {
		return r, false, true
	}
	r.Number, r.Type = x.number, x.docType
	ccy, same := "", true
	take := func(m Money) {
		if ccy == "" {
			ccy = m.Currency
		} else if m.Currency != "" && m.Currency != ccy {
			same = false
		}
	}
	if x.rmtd.set {
		take(m.rmtd)
		v := m.rmtd.Amount
		r.Remitted = &v
	}
	if x.due.set {
		take(m.due)
		v := m.due.Amount
		r.Due = &v
	}
	if nDisc > 0 && m.discOK {
		take(m.discTotal)
		r.Discount = m.discTotal.Amount
	}
	if x.cn.set {
		take(m.cn)
		r.CreditNote = m.cn.Amount
	}
	if nTax > 0 && m.taxOK {
		take(m.taxTotal)
		r.Tax = m.taxTotal.Amount
	}
	if nTax > 0 {
		r.TaxType = firstNonEmpty(x.taxes[0].cd, x.taxes[0].prtry)
	}
	if (nDisc > 0 && !m.discOK) || (nTax > 0 && !m.taxOK) {
		same = false
	}
	for _, am := range m.adjMoney {
		take(am)
	}
	if len(m.adjs) > 0 {
		r.Adjustments = m.adjs
	}
	if !same {
		return r, false, true
	}
	r.Currency = ccy
	return r, true, true
}

// cdOrPrtry reads the CdOrPrtry>Cd and CdOrPrtry>Prtry of a Tp node
// (xCdOrPrtry) over cd and prtry.
func (s *fscanner) cdOrPrtry(ni int, cd, prtry string) (string, string) {
	for k := s.nodes[ni].first; k != 0; k = s.nodes[k].next {
		name := s.nodes[k].name
		if name != nCdOrPrtry {
			continue
		}
		for k2 := s.nodes[k].first; k2 != 0; k2 = s.nodes[k2].next {
			name2 := s.nodes[k2].name
			switch name2 {
			case nCd:
				cd = s.leaf(k2)
			case nPrtry:
				prtry = s.leaf(k2)
			}
		}
	}
	return cd, prtry
}

func (s *fscanner) typedAmt(ni int) typedAcc {
	n := &s.nodes[ni]
	t := typedAcc{val: n.text}
	for _, at := range s.attrs[n.attrStart:n.attrEnd] {
		if at.name == "Ccy" {
			t.ccy = at.value
		}
	}
	for k := s.nodes[ni].first; k != 0; k = s.nodes[k].next {
		name := s.nodes[k].name
		switch name {
		case nTp:
			t.cd, t.prtry = s.cdPrtry(k, t.cd, t.prtry)
		case nAmt:
			s.amt(&t.amt, k)
		}
	}
	return t
}

func (s *fscanner) adjustment(ni int) adjAcc {
	var a adjAcc
	for k := s.nodes[ni].first; k != 0; k = s.nodes[k].next {
		name := s.nodes[k].name
		switch name {
		case nAmt:
			s.amt(&a.amt, k)
		case nCdtDbtInd:
			a.cdtDbt = s.leaf(k)
		case nRsn:
			a.rsn = s.leaf(k)
		case nAddtlInf:
			a.addtlInf = s.leaf(k)
		}
	}
	return a
}

// typedTotal converts typed amounts (typedAmounts) and sums them
// (typedTotal): total is valid when same (one currency); ok is false when
// one does not convert.
func (s *fscanner) typedTotal(items []typedAcc) (total Money, same, ok bool) {
	same = true
	for i := range items {
		x := &items[i]
		flat := bytes.TrimSpace(s.bytes(x.val))
		var m Money
		switch {
		case x.amt.set && len(flat) > 0, !x.amt.set && len(flat) == 0:
			return Money{}, false, false
		case x.amt.set:
			if m, ok = s.money(&x.amt); !ok {
				return Money{}, false, false
			}
		default:
			v, err := domain.ParseAmount(s.st.once(flat))
			if err != nil {
				return Money{}, false, false
			}
			m = Money{Amount: v, Currency: strings.TrimSpace(x.ccy)}
		}
		switch {
		case i == 0:
			total = m
		case m.Currency != total.Currency:
			same = false
		case same:
			total.Amount = total.Amount.Add(m.Amount)
		}
	}
	return total, same, true
}

// projectOne is project (project.go) for an entry decoded in one layer:
// e is the header, ds its details.
func (p *projector) projectOne(st *Statement, e *Entry, ds []dtx) []domain.Transaction {
	n := len(ds)
	if n == 0 {
		return p.project(st, e)
	}
	withAmount := 0
	for i := range ds {
		if ds[i].hasCash {
			withAmount++
		}
	}
	if n > 1 && withAmount == 0 {
		t := p.base(st, e)
		t.Amount, t.Currency = e.Amount, e.Currency
		var e2e []string
		names := map[string]bool{}
		for i := range ds {
			d := &ds[i]
			t.Structured = append(t.Structured, d.structured...)
			t.Documents = append(t.Documents, d.documents...)
			t.Remitted = append(t.Remitted, d.remitted...)
			t.Unstructured = append(t.Unstructured, d.unstructured...)
			t.Additional = append(t.Additional, d.additional...)
			if !domain.IsPlaceholderRef(d.e2e) {
				e2e = append(e2e, d.e2e)
			}
			cp := d.counterparty(t.Credit)
			names[cp.Name+"|"+cp.IBAN] = true
			if len(names) == 1 {
				t.Counterparty = cp
			}
		}
		return p.mergedDetails(st, e, &t, len(names), e2e, n)
	}
	var ownCount map[string]int
	if n > 1 {
		ownCount = map[string]int{}
		for i := range ds {
			if r := ds[i].own; !domain.IsPlaceholderRef(r) {
				ownCount[r]++
			}
		}
	}
	out := p.out[:0]
	for i := range ds {
		d := &ds[i]
		t := p.base(st, e)
		if d.credit != 0 {
			t.Credit = d.credit > 0
		}
		switch {
		case d.hasCash:
			t.Amount, t.Currency = d.cash.Amount, d.cash.Currency
		case n == 1:
			t.Amount, t.Currency = e.Amount, e.Currency
		default:
			t.Currency = e.Currency
		}
		if t.Currency == "" {
			t.Currency = e.Currency
		}
		switch {
		case d.hasInstd:
			setInstructed(&t, &d.instd, d.rate)
		case n == 1:
			setInstructed(&t, e.Instructed, "")
		}
		t.Return = d.ret
		t.Counterparty = d.counterparty(t.Credit)
		t.EndToEndID = realRef(d.e2e)
		t.Structured, t.Documents, t.Remitted, t.Unstructured = d.structured, d.documents, d.remitted, d.unstructured
		t.Additional = appendNonEmpty(d.additional, e.AdditionalInfo)
		p.identifyDetail(st, e, &t, d.own, ownCount, i, n)
		out = append(out, t)
	}
	p.out = out
	return out
}
