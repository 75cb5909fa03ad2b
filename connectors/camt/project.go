package camt

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"
	"time"

	"github.com/lettrage/lettrage/domain"
)

// projector turns entries into matcher transactions. It keeps, for the
// whole file, the occurrence counts that make hashed references unique and
// the keys already handed out.
//
// Both maps are keyed by a 64-bit FNV-1a hash, not by the strings, so that
// memory per transaction stays small (about 20 bytes); a hash collision can
// only add an unneeded, still deterministic, suffix.
type projector struct {
	occ  map[uint64]int
	keys map[uint64]int
	// message is the message type of the document being read (camt.053…).
	message string
	// out holds the projected transactions of the last entry: reused from
	// one entry to the next (the callback copies what it keeps)
	out []domain.Transaction
}

func (p *projector) init() {
	p.occ = map[uint64]int{}
	p.keys = map[uint64]int{}
}

func fnv64(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
}

func dateOnly(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// project returns the transactions of one entry:
//   - one per TxDtls, in order;
//   - one for the whole entry when it has no TxDtls (also when Btch says
//     NbOfTxs > 1: the bank did not detail the batch);
//   - one for the whole entry when it has several TxDtls none of which
//     carries an amount (a batch whose details only list references): the
//     references and remittance of every detail are merged into it, since
//     the cash cannot be split.
//
// A TxDtls without any amount in an entry where others have one gets a
// zero amount and a warning.
func (p *projector) project(st *Statement, e *Entry) []domain.Transaction {
	n := len(e.Transactions)
	if n == 0 {
		t := p.base(st, e)
		t.Additional = appendNonEmpty(t.Additional, e.AdditionalInfo)
		t.Amount, t.Currency = e.Amount, e.Currency
		setInstructed(&t, e.Instructed, "")
		t.Ref = p.ref(st, e, "", 0, 1, &t)
		t.Key = st.Account + "|" + t.Ref
		t.Origin = p.origin(st, e, &t, "", 0, 0)
		p.out = append(p.out[:0], t)
		return p.out
	}
	withAmount := 0
	for _, tx := range e.Transactions {
		if txCash(tx) != nil {
			withAmount++
		}
	}
	if n > 1 && withAmount == 0 {
		t := p.base(st, e)
		t.Amount, t.Currency = e.Amount, e.Currency
		var e2e []string
		names := map[string]bool{}
		for _, tx := range e.Transactions {
			fillRemittance(&t, tx)
			if !domain.IsPlaceholderRef(tx.Refs.EndToEndID) {
				e2e = append(e2e, tx.Refs.EndToEndID)
			}
			cp := counterparty(tx, t.Credit)
			names[cp.Name+"|"+cp.IBAN] = true
			if len(names) == 1 {
				t.Counterparty = cp
			}
		}
		return p.mergedDetails(st, e, &t, len(names), e2e, n)
	}
	// Several details may carry the same bank reference (some banks repeat
	// the entry's): then the entry reference with /n is used instead.
	ownCount := map[string]int{}
	for _, tx := range e.Transactions {
		if r := tx.Refs.AcctSvcrRef; !domain.IsPlaceholderRef(r) {
			ownCount[r]++
		}
	}
	out := p.out[:0]
	for i, tx := range e.Transactions {
		t := p.base(st, e)
		if tx.Credit != nil {
			t.Credit = *tx.Credit
		}
		if m := txCash(tx); m != nil {
			t.Amount, t.Currency = m.Amount, m.Currency
		} else if n == 1 {
			t.Amount, t.Currency = e.Amount, e.Currency
		} else {
			t.Currency = e.Currency
			tx.Warnings = append(tx.Warnings, "no amount in a detail of a batch entry: projected with amount 0")
		}
		if t.Currency == "" {
			t.Currency = e.Currency
		}
		switch {
		case tx.Instructed != nil:
			setInstructed(&t, &tx.Instructed.Money, exchangeRate(tx))
		case n == 1:
			setInstructed(&t, e.Instructed, "")
		}
		t.Return = tx.Return != nil
		t.Counterparty = counterparty(tx, t.Credit)
		t.EndToEndID = realRef(tx.Refs.EndToEndID)
		fillRemittance(&t, tx)
		t.Additional = appendNonEmpty(t.Additional, e.AdditionalInfo)
		p.identifyDetail(st, e, &t, tx.Refs.AcctSvcrRef, ownCount, i, n)
		out = append(out, t)
	}
	p.out = out
	return out
}

func (p *projector) base(st *Statement, e *Entry) domain.Transaction {
	return domain.Transaction{
		Account:     st.Account,
		Credit:      e.Credit,
		Status:      e.Status,
		Reversal:    e.Reversal,
		BookingDate: dateOnly(firstDate(e.BookingDate, e.ValueDate)),
		ValueDate:   dateOnly(firstDate(e.ValueDate, e.BookingDate)),
	}
}

// firstDate: an entry without BookgDt (Mercury/ClearBank) is projected
// with its value date as booking date, and the other way round.
func firstDate(a, b *time.Time) *time.Time {
	if a != nil {
		return a
	}
	return b
}

// txCash is the cash amount of a detail: Amt, else AmtDtls/TxAmt. InstdAmt
// is what the payer instructed, never the cash.
// exchangeRate is the bank's exchange rate of a TxDtls as written: the
// CcyXchg/XchgRate of InstdAmt, else of TxAmt, else of CntrValAmt.
func exchangeRate(tx *TxDetail) string {
	for _, d := range []*AmountDetail{tx.Instructed, tx.TxAmount, tx.CounterValue} {
		if d != nil && d.Exchange != nil && d.Exchange.Rate != "" {
			return d.Exchange.Rate
		}
	}
	return ""
}

// setInstructed sets the instructed amount (AmtDtls/InstdAmt) of t, with
// the bank's exchange rate as written, when it is in another currency than
// the cash.
func setInstructed(t *domain.Transaction, m *Money, rate string) {
	if m == nil || m.Currency == "" || m.Currency == t.Currency || m.Amount.Sign() <= 0 {
		return
	}
	t.Conversion = &domain.Conversion{Instructed: m.Amount, InstructedCurrency: m.Currency, ExchangeRate: rate}
}

func txCash(tx *TxDetail) *Money {
	if tx.Amount != nil {
		return tx.Amount
	}
	if tx.TxAmount != nil {
		return &tx.TxAmount.Money
	}
	return nil
}

func counterparty(tx *TxDetail, credit bool) domain.Party {
	p, u := tx.Creditor, tx.UltimateCreditor
	if credit {
		p, u = tx.Debtor, tx.UltimateDebtor
	}
	var out domain.Party
	if p != nil {
		out = domain.Party{Name: p.Name, IBAN: p.IBAN, Account: p.Account, BIC: p.BIC}
	}
	if u != nil {
		out.UltimateName = u.Name
	}
	return out
}

func fillRemittance(t *domain.Transaction, tx *TxDetail) {
	for _, s := range tx.Remittance.Structured {
		if s.CreditorRef != nil && s.CreditorRef.Value != "" {
			t.Structured = append(t.Structured, *s.CreditorRef)
		}
		for _, d := range s.Documents {
			if d.Number != "" {
				t.Documents = append(t.Documents, d.Number)
			}
		}
		if r, ok := remittedDocument(s); ok {
			t.Remitted = append(t.Remitted, r)
		}
	}
	t.Unstructured = append(t.Unstructured, tx.Remittance.Unstructured...)
	t.Additional = appendNonEmpty(t.Additional, tx.AdditionalInfo)
	for _, s := range tx.Remittance.Structured {
		t.Additional = append(t.Additional, s.Additional...)
	}
}

// remittedDocument is the payer's amounts of one Strd block that names one
// document (by RfrdDocInf/Nb, or by its CdtrRefInf when it names none),
// for the matcher to allocate by; ok is false when the block has no
// amounts or names several documents or none (the amounts of several
// documents together cannot be split among them).
func remittedDocument(s Structured) (domain.RemittedDocument, bool) {
	a := s.Amounts
	if a == nil {
		return domain.RemittedDocument{}, false
	}
	var r domain.RemittedDocument
	numbered := 0
	for _, d := range s.Documents {
		if d.Number != "" {
			numbered++
			r.Number, r.Type = d.Number, d.Type
		}
	}
	if s.CreditorRef != nil {
		r.Reference = s.CreditorRef.Value
	}
	if numbered > 1 || (numbered == 0 && r.Reference == "") {
		return domain.RemittedDocument{}, false
	}
	ccy := ""
	same := true
	money := func(m *Money) *domain.Amount {
		if m == nil {
			return nil
		}
		if ccy == "" {
			ccy = m.Currency
		} else if m.Currency != "" && m.Currency != ccy {
			same = false
		}
		v := m.Amount
		return &v
	}
	r.Remitted, r.Due = money(a.Remitted), money(a.DuePayable)
	for _, x := range []struct {
		m   *Money
		dst *domain.Amount
	}{{a.Discount, &r.Discount}, {a.CreditNote, &r.CreditNote}, {a.Tax, &r.Tax}} {
		if v := money(x.m); v != nil {
			*x.dst = *v
		}
	}
	if len(a.Taxes) > 0 {
		r.TaxType = firstNonEmpty(a.Taxes[0].Code, a.Taxes[0].Proprietary)
	}
	if (len(a.Discounts) > 0 && a.Discount == nil) || (len(a.Taxes) > 0 && a.Tax == nil) {
		same = false // in several currencies
	}
	for _, adj := range a.Adjustments {
		v := money(&adj.Money)
		r.Adjustments = append(r.Adjustments, domain.DocumentAdjustment{Amount: *v,
			Added: adj.Credit != nil && *adj.Credit, Reason: adj.Reason, Info: adj.AdditionalInfo})
	}
	if !same {
		return domain.RemittedDocument{}, false
	}
	r.Currency = ccy
	return r, true
}

func appendNonEmpty(ss []string, s string) []string {
	if s == "" {
		return ss
	}
	return append(ss, s)
}

// ref builds the tx_ref of the i-th (1-based) of n transactions of an
// entry; own is the detail's Refs/AcctSvcrRef. When the same reference
// occurs again in the file (a bank reusing references), "#"+NtryRef (or
// "#k", k the occurrence) is appended so that keys stay unique within the
// file; this is reported in the entry's Warnings.
func (p *projector) ref(st *Statement, e *Entry, own string, i, n int, t *domain.Transaction) string {
	suffix := func(r string) string {
		if n > 1 {
			return fmt.Sprintf("%s/%d", r, i)
		}
		return r
	}
	var r string
	switch {
	case own != "":
		r = own
	case !domain.IsPlaceholderRef(e.AcctSvcrRef):
		r = suffix(e.AcctSvcrRef)
	case !domain.IsPlaceholderRef(e.NtryRef):
		r = suffix(e.NtryRef)
	default:
		r = p.hash(t)
	}
	k := fnv64(st.Account + "|" + r)
	p.keys[k]++
	if c := p.keys[k]; c > 1 {
		// A bank reusing a reference for distinct bookings: qualify the
		// later ones with their NtryRef when they have one, else with the
		// occurrence number.
		alt := fmt.Sprintf("%s#%d", r, c)
		if e.NtryRef != "" && !strings.HasPrefix(r, e.NtryRef) {
			if q := r + "#" + e.NtryRef; p.keys[fnv64(st.Account+"|"+q)] == 0 {
				alt = q
			}
		}
		p.keys[fnv64(st.Account+"|"+alt)]++
		e.Warnings = append(e.Warnings, fmt.Sprintf("reference %q already used in this file: made unique as %q", r, alt))
		r = alt
	}
	return r
}

// hash is the fallback reference: 16 hex digits of the SHA-256 of what
// identifies the transaction and the occurrence number of that tuple in the
// file (identical lines get different refs; the same file read twice gives
// the same refs).
func (p *projector) hash(t *domain.Transaction) string {
	cd := "D"
	if t.Credit {
		cd = "C"
	}
	tuple := strings.Join([]string{t.Account, t.BookingDate.Format("2006-01-02"), t.Amount.Key(), t.Currency,
		cd, t.EndToEndID, t.Counterparty.Name, t.Counterparty.IBAN, t.Counterparty.Account}, "\x1f")
	h := fnv64(tuple)
	p.occ[h]++
	full := sha256.Sum256([]byte(fmt.Sprintf("%s\x1f%d", tuple, p.occ[h])))
	return hex.EncodeToString(full[:8])
}

// origin is the bank-side provenance of a transaction projected from e:
// own is the detail's usable AcctSvcrRef ("" when none), details the number
// of TxDtls the entry was split into (0: the transaction is the whole
// entry), merged the number of TxDtls merged into it.
func (p *projector) origin(st *Statement, e *Entry, t *domain.Transaction, own string, details, merged int) *domain.Origin {
	o := &domain.Origin{Message: p.message, CopyDuplicate: st.CopyDuplicate, Document: st.Document,
		EntryAmount: e.Amount, Batch: e.BatchCount, Details: details, Merged: merged}
	switch {
	case own != "":
		o.BankRef = own
	case !domain.IsPlaceholderRef(e.AcctSvcrRef):
		o.BankRef = e.AcctSvcrRef
	case !domain.IsPlaceholderRef(e.NtryRef):
		o.BankRef = e.NtryRef
	}
	switch {
	case o.BankRef != "" && own == "" && sequenceRef(o.BankRef, e.Index):
		// The entry's number in its statement (000001, 000002… again in
		// every statement): it tells entries apart within the statement,
		// not across deliveries, where the same payment has another number
		// and another payment this one.
		o.BankRef = ""
	case o.BankRef != "":
		// What tx_ref was built from (with its /n), without the suffix a
		// reference reused in the same file gets.
		o.BankRef, _, _ = strings.Cut(t.Ref, "#")
	}
	// The links are gathered on the stack, then copied once to their size.
	var buf [8]string
	links := buf[:0]
	for _, r := range [2]string{e.AcctSvcrRef, e.NtryRef} {
		if !sequenceRef(r, e.Index) {
			links = appendLink(links, r)
		}
	}
	for _, b := range e.Batches {
		links = appendLink(links, b.MsgID)
		links = appendLink(links, b.PmtInfID)
	}
	if len(links) > 0 {
		o.Links = slices.Clone(links)
	}
	return o
}

// appendLink appends r, trimmed, to links unless it is a placeholder or
// there already.
func appendLink(links []string, r string) []string {
	r = strings.TrimSpace(r)
	if domain.IsPlaceholderRef(r) || slices.Contains(links, r) {
		return links
	}
	return append(links, r)
}

// sequenceRef reports whether an entry reference is the entry's position
// in its statement (index, 1-based), written as a number with or without
// leading zeros: a bank numbering the entries of each statement from 1.
func sequenceRef(r string, index int) bool {
	r = strings.TrimSpace(r)
	if index <= 0 || r == "" || len(r) > 9 {
		return false
	}
	n := 0
	for _, c := range r {
		if c < '0' || c > '9' {
			return false
		}
		n = n*10 + int(c-'0')
	}
	return n == index
}

// mergedDetails ends the projection of an entry whose n details carry no
// amount of their own (project's and projectOne's batch case): t, the
// entry's transaction holding every detail's remittance, keeps the
// counterparty only when the details name one (parties is how many
// distinct ones they name) and the end-to-end id only when one detail
// gives it.
func (p *projector) mergedDetails(st *Statement, e *Entry, t *domain.Transaction, parties int, e2e []string, n int) []domain.Transaction {
	if parties > 1 {
		t.Counterparty = domain.Party{}
	}
	if len(e2e) == 1 {
		t.EndToEndID = e2e[0]
	}
	t.Additional = appendNonEmpty(t.Additional, e.AdditionalInfo)
	t.Ref = p.ref(st, e, "", 0, 1, t)
	t.Key = st.Account + "|" + t.Ref
	t.Origin = p.origin(st, e, t, "", 0, n)
	p.out = append(p.out[:0], *t)
	return p.out
}

// realRef is ref, or "" when it is a placeholder (NOTPROVIDED…).
func realRef(ref string) string {
	if domain.IsPlaceholderRef(ref) {
		return ""
	}
	return ref
}

// identifyDetail gives t, the i-th of an entry's n details with their own
// amounts, its reference, key and origin: the detail's own bank reference
// own when it is real and no other detail of the entry repeats it
// (ownCount), else the entry's with /i+1.
func (p *projector) identifyDetail(st *Statement, e *Entry, t *domain.Transaction, own string, ownCount map[string]int, i, n int) {
	if domain.IsPlaceholderRef(own) || ownCount[own] > 1 {
		own = ""
	}
	t.Ref = p.ref(st, e, own, i+1, n, t)
	t.Key = st.Account + "|" + t.Ref
	t.Origin = p.origin(st, e, t, own, n, 0)
}
