package camt

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/lettrage/lettrage/domain"
)

// Conversion from the decoding structs to the exported model. Paths in
// errors are relative to the element being converted.

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s = strings.TrimSpace(s); s != "" {
			return s
		}
	}
	return ""
}

// NormalizeIBAN upper-cases an IBAN and removes white space.
func NormalizeIBAN(s string) string {
	return strings.ToUpper(strings.Join(strings.Fields(s), ""))
}

func accountID(a *xAcctID) (string, bool) {
	if a == nil {
		return "", false
	}
	if iban := NormalizeIBAN(a.IBAN); iban != "" {
		return iban, true
	}
	return firstNonEmpty(a.Othr, a.PrtryAcct, a.BBAN), false
}

var (
	dateLayouts     = []string{"2006-01-02", "2006-01-02Z07:00"}
	dateTimeLayouts = []string{"2006-01-02T15:04:05Z07:00", "2006-01-02T15:04:05", "2006-01-02T15:04Z07:00", "2006-01-02T15:04"}
)

// parseDateTime reads an ISO date or date-time, with or without a zone and
// fraction of seconds; "" gives nil. A time without zone is taken as UTC.
// The end of a day, 24:00:00 (xs:dateTime allows it, with minutes,
// seconds and any fraction zero), is 00:00:00 of the next day.
func parseDateTime(s string) (*time.Time, error) {
	t, ok, err := parseDateTimeValue(s)
	if err != nil || !ok {
		return nil, err
	}
	return &t, nil
}

// parseDateTimeValue is parseDateTime without a pointer: ok is false when
// s is blank (the one-layer decode keeps the time in its own variable).
func parseDateTimeValue(s string) (t time.Time, ok bool, err error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, false, nil
	}
	layouts := dateLayouts
	if strings.IndexByte(s, 'T') >= 0 {
		layouts = dateTimeLayouts
	}
	for _, l := range layouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, true, nil
		}
	}
	if t, ok := endOfDay(s); ok {
		return t, true, nil
	}
	return time.Time{}, false, fmt.Errorf("not an ISO date or date-time: %q", s)
}

// endOfDay reads a date-time at 24:00:00 (with an optional fraction of
// zeros and an optional zone), which Go's time.Parse refuses, as the
// instant 24 hours after 00:00:00 of the same day and zone, that is the
// next day at 00:00:00.
func endOfDay(s string) (time.Time, bool) {
	day, clock, ok := strings.Cut(s, "T")
	rest, ok2 := strings.CutPrefix(clock, "24:00:00")
	if !ok || !ok2 {
		return time.Time{}, false
	}
	if frac, ok := strings.CutPrefix(rest, "."); ok {
		n := len(frac) - len(strings.TrimLeft(frac, "0"))
		if n == 0 {
			return time.Time{}, false // "24:00:00." or "24:00:00.5"
		}
		rest = frac[n:]
	}
	// rest is the zone, if any: the layouts check it.
	for _, l := range dateTimeLayouts[:2] { // with seconds, with and without zone
		if t, err := time.Parse(l, day+"T00:00:00"+rest); err == nil {
			return t.Add(24 * time.Hour), true
		}
	}
	return time.Time{}, false
}

func parseDate(d *xDate, path string) (*time.Time, error) {
	if d == nil {
		return nil, nil
	}
	if s := strings.TrimSpace(d.Dt); s != "" {
		t, err := parseDateTime(s)
		if err != nil {
			return nil, badValue(path+"/Dt", "%v", err)
		}
		return t, nil
	}
	t, err := parseDateTime(d.DtTm)
	if err != nil {
		return nil, badValue(path+"/DtTm", "%v", err)
	}
	return t, nil
}

// money converts an amount element; warns (through warn) when it carries
// more fraction digits than its currency uses, is negative or lacks Ccy.
//
// The path is base + "/" + leaf, joined only when it is needed.
func money(a *xAmt, base, leaf string, warn *[]string) (*Money, error) {
	if a == nil {
		return nil, nil
	}
	path := func() string {
		if base == "" {
			return leaf
		}
		return base + "/" + leaf
	}
	v, err := domain.ParseAmount(strings.TrimSpace(a.Value))
	if err != nil {
		return nil, badValue(path(), "%v", err)
	}
	m := &Money{Amount: v, Currency: strings.TrimSpace(a.Ccy)}
	if warn != nil {
		if m.Currency == "" {
			*warn = append(*warn, fmt.Sprintf("%s: amount %s has no currency", path(), v))
		} else if m.Currency != "XXX" && v.Scale() > domain.CurrencyDigits(m.Currency) {
			*warn = append(*warn, fmt.Sprintf("%s: amount %s has %d fraction digits, %s uses %d",
				path(), v.StringFixed(v.Scale()), v.Scale(), m.Currency, domain.CurrencyDigits(m.Currency)))
		}
		if v.Sign() < 0 {
			*warn = append(*warn, fmt.Sprintf("%s: negative amount %s", path(), v))
		}
	}
	return m, nil
}

func plainAmount(s, path string) (*domain.Amount, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	v, err := domain.ParseAmount(s)
	if err != nil {
		return nil, badValue(path, "%v", err)
	}
	return &v, nil
}

func plainCount(s, path string) (*int, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return nil, badValue(path, "not a count: %q", s)
	}
	return &n, nil
}

// creditDebit reads CRDT/DBIT; "" gives nil. The path of an error is
// base + "/" + leaf (leaf alone when base is empty), joined only then.
func creditDebit(s, base, leaf string) (*bool, error) {
	switch strings.TrimSpace(s) {
	case "":
		return nil, nil
	case "CRDT":
		t := true
		return &t, nil
	case "DBIT":
		f := false
		return &f, nil
	}
	path := leaf
	if base != "" {
		path = base + "/" + leaf
	}
	return nil, badValue(path, "credit/debit indicator %q is neither CRDT nor DBIT", s)
}

func boolInd(s string) *bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "1":
		t := true
		return &t
	case "false", "0":
		f := false
		return &f
	}
	return nil
}

func convertBalance(x *xBal) (Balance, error) {
	var b Balance
	b.Code = firstNonEmpty(x.Tp.xCdOrPrtry.Cd, x.Tp.Prtry, x.Tp.Cd)
	m, err := money(x.Amt, "", "Amt", &b.Warnings)
	if err != nil {
		return b, err
	}
	if m == nil {
		return b, badValue("Amt", "balance without amount")
	}
	b.Amount, b.Currency = m.Amount, m.Currency
	c, err := creditDebit(x.CdtDbtInd, "", "CdtDbtInd")
	if err != nil {
		return b, err
	}
	b.Credit = c == nil || *c
	if b.Date, err = parseDate(&x.Dt, "Dt"); err != nil {
		return b, err
	}
	s := b.Amount
	if !b.Credit {
		s = s.Neg()
	}
	b.signed = &s
	return b, nil
}

func convertNbSum(x *xNbSum, path string) (count *int, sum *domain.Amount, net *domain.Amount, err error) {
	if x == nil {
		return nil, nil, nil, nil
	}
	if count, err = plainCount(x.NbOfNtries, path+"/NbOfNtries"); err != nil {
		return
	}
	if sum, err = plainAmount(x.Sum, path+"/Sum"); err != nil {
		return
	}
	netS, ind, netPath := x.TtlNetNtryAmt, x.CdtDbtInd, path+"/TtlNetNtryAmt"
	if x.TtlNetNtry != nil {
		netS, ind, netPath = x.TtlNetNtry.Amt, x.TtlNetNtry.CdtDbtInd, path+"/TtlNetNtry/Amt"
	}
	if net, err = plainAmount(netS, netPath); err != nil {
		return
	}
	if net != nil {
		c, cerr := creditDebit(ind, path, "TtlNetNtry/CdtDbtInd")
		if cerr != nil {
			err = cerr
			return
		}
		if c != nil && !*c {
			n := net.Neg()
			net = &n
		}
	}
	return
}

func convertSummary(x *xTxsSummry) (*Summary, error) {
	s := &Summary{}
	var err error
	if s.Count, s.Sum, s.Net, err = convertNbSum(x.TtlNtries, "TtlNtries"); err != nil {
		return nil, err
	}
	if s.CreditCount, s.CreditSum, _, err = convertNbSum(x.TtlCdtNtries, "TtlCdtNtries"); err != nil {
		return nil, err
	}
	if s.DebitCount, s.DebitSum, _, err = convertNbSum(x.TtlDbtNtries, "TtlDbtNtries"); err != nil {
		return nil, err
	}
	return s, nil
}

func convertBkTxCd(x *xBkTxCd) BankTxCode {
	if x == nil {
		return BankTxCode{}
	}
	return BankTxCode{
		Domain:      strings.TrimSpace(x.Domn.Cd),
		Family:      strings.TrimSpace(x.Domn.Fmly.Cd),
		SubFamily:   strings.TrimSpace(x.Domn.Fmly.SubFmlyCd),
		Proprietary: strings.TrimSpace(x.Prtry.Cd),
		Issuer:      strings.TrimSpace(x.Prtry.Issr),
	}
}

func convertCharge(x *xChrgRcrd, path string, warn *[]string) (*Charge, error) {
	m, err := money(x.Amt, path, "Amt", warn)
	if err != nil || m == nil {
		return nil, err
	}
	c := &Charge{Amount: *m, Included: boolInd(x.ChrgInclInd),
		Type: firstNonEmpty(x.Tp.Cd, x.Tp.Prtry, x.Tp.Text)}
	if c.Credit, err = creditDebit(x.CdtDbtInd, path, "CdtDbtInd"); err != nil {
		return nil, err
	}
	return c, nil
}

func convertCharges(xs []xChrgs, path string, warn *[]string) (*Charges, error) {
	if len(xs) == 0 {
		return nil, nil
	}
	out := &Charges{}
	for i := range xs {
		x := &xs[i]
		p := path
		if len(xs) > 1 {
			p = fmt.Sprintf("%s[%d]", path, i+1)
		}
		if x.Ttl != nil && out.Total == nil {
			m, err := money(x.Ttl, p, "TtlChrgsAndTaxAmt", warn)
			if err != nil {
				return nil, err
			}
			out.Total = m
		}
		c, err := convertCharge(&x.xChrgRcrd, p, warn)
		if err != nil {
			return nil, err
		}
		if c != nil {
			out.Records = append(out.Records, *c)
		}
		for j := range x.Rcrd {
			c, err := convertCharge(&x.Rcrd[j], p+"/Rcrd["+strconv.Itoa(j+1)+"]", warn)
			if err != nil {
				return nil, err
			}
			if c != nil {
				out.Records = append(out.Records, *c)
			}
		}
	}
	if out.Total == nil && len(out.Records) == 0 {
		return nil, nil
	}
	return out, nil
}

// convertAmtXchg converts an amount with its exchange; amtLeaf is the path
// of its Amt under base (joined only for a warning or an error).
func convertAmtXchg(x *xAmtAndXchg, base, amtLeaf string, warn *[]string) (*AmountDetail, error) {
	if x == nil {
		return nil, nil
	}
	m, err := money(x.Amt, base, amtLeaf, warn)
	if err != nil || m == nil {
		return nil, err
	}
	d := &AmountDetail{Money: *m}
	if x.CcyXchg != nil {
		d.Exchange = &Exchange{
			Source: strings.TrimSpace(x.CcyXchg.SrcCcy), Target: strings.TrimSpace(x.CcyXchg.TrgtCcy),
			Unit: strings.TrimSpace(x.CcyXchg.UnitCcy), Rate: strings.TrimSpace(x.CcyXchg.XchgRate),
		}
	}
	return d, nil
}

func convertParty(p *xParty, acct *xAcctID, agt *xAgent) *Party {
	var out Party // allocated only when not empty (ultimate parties mostly are)
	if p != nil {
		out.Name = firstNonEmpty(p.PtyNm, p.Nm)
	}
	if acct != nil {
		id, isIBAN := accountID(acct)
		if isIBAN {
			out.IBAN = id
		} else {
			out.Account = id
		}
	}
	if agt != nil {
		out.BIC = strings.ToUpper(firstNonEmpty(agt.BICFI, agt.BIC))
	}
	if out == (Party{}) {
		return nil
	}
	kept := new(Party)
	*kept = out
	return kept
}

func trimAll(ss []string) []string {
	var out []string
	for _, s := range ss {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func convertTx(x *xTxDtls, path string) (*TxDetail, error) {
	t := &TxDetail{}
	w := &t.Warnings
	r := &x.Refs
	t.Refs = Refs{
		MsgID: strings.TrimSpace(r.MsgID), AcctSvcrRef: strings.TrimSpace(r.AcctSvcrRef),
		PmtInfID: strings.TrimSpace(r.PmtInfID), InstrID: strings.TrimSpace(r.InstrID),
		EndToEndID: strings.TrimSpace(r.EndToEndID), UETR: strings.TrimSpace(r.UETR),
		TxID: strings.TrimSpace(r.TxID), MndtID: strings.TrimSpace(r.MndtID),
		ChqNb: strings.TrimSpace(r.ChqNb), ClrSysRef: strings.TrimSpace(r.ClrSysRef),
	}
	var err error
	if t.Amount, err = money(x.Amt, path, "Amt", w); err != nil {
		return nil, err
	}
	if t.Credit, err = creditDebit(x.CdtDbtInd, path, "CdtDbtInd"); err != nil {
		return nil, err
	}
	if x.AmtDtls != nil {
		if t.Instructed, err = convertAmtXchg(x.AmtDtls.InstdAmt, path, "AmtDtls/InstdAmt/Amt", w); err != nil {
			return nil, err
		}
		if t.TxAmount, err = convertAmtXchg(x.AmtDtls.TxAmt, path, "AmtDtls/TxAmt/Amt", w); err != nil {
			return nil, err
		}
		if t.CounterValue, err = convertAmtXchg(x.AmtDtls.CntrValAmt, path, "AmtDtls/CntrValAmt/Amt", w); err != nil {
			return nil, err
		}
	}
	if x.BkTxCd != nil {
		c := convertBkTxCd(x.BkTxCd)
		t.BankTxCode = &c
	}
	if len(x.Chrgs) > 0 {
		if t.Charges, err = convertCharges(x.Chrgs, path+"/Chrgs", w); err != nil {
			return nil, err
		}
	}
	rp, ra := &x.RltdPties, &x.RltdAgts
	t.Debtor = convertParty(rp.Dbtr, rp.DbtrAcct, ra.DbtrAgt)
	t.Creditor = convertParty(rp.Cdtr, rp.CdtrAcct, ra.CdtrAgt)
	t.UltimateDebtor = convertParty(rp.UltmtDbtr, nil, nil)
	t.UltimateCreditor = convertParty(rp.UltmtCdtr, nil, nil)

	t.Remittance.Unstructured = trimAll(x.RmtInf.Ustrd)
	for i := range x.RmtInf.Strd {
		xs := &x.RmtInf.Strd[i]
		var s Structured
		for _, d := range xs.RfrdDocInf {
			doc := ReferredDocument{Type: firstNonEmpty(d.Tp.Cd, d.Tp.Prtry),
				Number: strings.TrimSpace(d.Nb), Date: strings.TrimSpace(d.RltdDt)}
			if doc != (ReferredDocument{}) {
				s.Documents = append(s.Documents, doc)
			}
		}
		if a := xs.RfrdDocAmt; a != nil {
			sp := path + "/RmtInf/Strd[" + strconv.Itoa(i+1) + "]"
			if s.Amounts, err = convertDocAmounts(a.DuePyblAmt, a.DscntApldAmt, a.CdtNoteAmt, a.TaxAmt, a.AdjstmntAmtAndRsn, a.RmtdAmt, sp+"/RfrdDocAmt", w); err != nil {
				return nil, err
			}
		}
		if c := xs.CdtrRefInf; c != nil {
			ref := domain.Reference{Type: firstNonEmpty(c.Tp.Cd, c.Tp.Prtry),
				Issuer: strings.TrimSpace(c.Tp.Issr), Value: strings.TrimSpace(c.Ref)}
			if ref != (domain.Reference{}) {
				s.CreditorRef = &ref
			}
		}
		s.Additional = trimAll(xs.AddtlRmtInf)
		t.Remittance.Structured = append(t.Remittance.Structured, s)
	}
	if x.RtrInf != nil {
		t.Return = &Return{Reason: firstNonEmpty(x.RtrInf.Rsn.Cd, x.RtrInf.Rsn.Prtry),
			AdditionalInfo: trimAll(x.RtrInf.AddtlInf)}
	}
	t.AdditionalInfo = strings.Join(trimAll(x.AddtlTxInf), " ")
	return t, nil
}

// convertDocAmounts converts the children of RfrdDocAmt (at base); nil
// when it holds none.
func convertDocAmounts(due *xAmt, discounts []xTypedAmt, creditNote *xAmt, taxes []xTypedAmt, adj []xAdjstmnt, remitted *xAmt,
	base string, warn *[]string) (*DocumentAmounts, error) {
	da := &DocumentAmounts{}
	var err error
	if da.DuePayable, err = money(due, base, "DuePyblAmt", warn); err != nil {
		return nil, err
	}
	if da.Discounts, err = typedAmounts(discounts, base, "DscntApldAmt", warn); err != nil {
		return nil, err
	}
	da.Discount = typedTotal(da.Discounts, base+"/DscntApldAmt", warn)
	if da.CreditNote, err = money(creditNote, base, "CdtNoteAmt", warn); err != nil {
		return nil, err
	}
	if da.Taxes, err = typedAmounts(taxes, base, "TaxAmt", warn); err != nil {
		return nil, err
	}
	da.Tax = typedTotal(da.Taxes, base+"/TaxAmt", warn)
	for i := range adj {
		x := &adj[i]
		leaf := indexed("AdjstmntAmtAndRsn", i, len(adj))
		if x.Amt == nil {
			return nil, badValue(base+"/"+leaf+"/Amt", "no amount in the adjustment")
		}
		m, err := money(x.Amt, base, leaf+"/Amt", warn)
		if err != nil {
			return nil, err
		}
		a := Adjustment{Money: *m, Reason: strings.TrimSpace(x.Rsn), AdditionalInfo: strings.TrimSpace(x.AddtlInf)}
		if a.Credit, err = creditDebit(x.CdtDbtInd, base+"/"+leaf, "CdtDbtInd"); err != nil {
			return nil, err
		}
		da.Adjustments = append(da.Adjustments, a)
	}
	if da.Remitted, err = money(remitted, base, "RmtdAmt", warn); err != nil {
		return nil, err
	}
	if da.DuePayable == nil && da.CreditNote == nil && da.Remitted == nil &&
		len(da.Discounts) == 0 && len(da.Taxes) == 0 && len(da.Adjustments) == 0 {
		return nil, nil
	}
	return da, nil
}

// indexed is name, with [i+1] when it is one of n > 1 siblings.
func indexed(name string, i, n int) string {
	if n > 1 {
		return name + "[" + strconv.Itoa(i+1) + "]"
	}
	return name
}

// typedAmounts converts the DscntApldAmt or TaxAmt elements (name) of
// RfrdDocAmt at base, flat (.01/.02) or structured (.03 on).
func typedAmounts(xs []xTypedAmt, base, name string, warn *[]string) ([]TypedAmount, error) {
	var out []TypedAmount
	for i := range xs {
		x := &xs[i]
		leaf := indexed(name, i, len(xs))
		flat := strings.TrimSpace(x.Value)
		var m *Money
		var err error
		switch {
		case x.Amt != nil && flat != "":
			return nil, badValue(base+"/"+leaf, "both a flat amount %q and Amt", flat)
		case x.Amt != nil:
			m, err = money(x.Amt, base, leaf+"/Amt", warn)
		case flat != "":
			m, err = money(&xAmt{Ccy: x.Ccy, Value: flat}, base, leaf, warn)
		default:
			return nil, badValue(base+"/"+leaf, "no amount (neither a value nor Amt)")
		}
		if err != nil {
			return nil, err
		}
		out = append(out, TypedAmount{Money: *m, Code: strings.TrimSpace(x.Tp.Cd), Proprietary: strings.TrimSpace(x.Tp.Prtry)})
	}
	return out, nil
}

// typedTotal is the sum of items, or nil (with a warning) when they are
// in several currencies.
func typedTotal(items []TypedAmount, path string, warn *[]string) *Money {
	if len(items) == 0 {
		return nil
	}
	t := items[0].Money
	for _, it := range items[1:] {
		if it.Currency != t.Currency {
			*warn = append(*warn, fmt.Sprintf("%s: amounts in %s and %s: no total", path, t.Currency, it.Currency))
			return nil
		}
		t.Amount = t.Amount.Add(it.Amount)
	}
	return &t
}

func convertBatch(x *xBtch, path string, warn *[]string) (Batch, error) {
	b := Batch{MsgID: strings.TrimSpace(x.MsgID), PmtInfID: strings.TrimSpace(x.PmtInfID)}
	n, err := plainCount(x.NbOfTxs, path+"/NbOfTxs")
	if err != nil {
		return b, err
	}
	if n != nil {
		b.Count = *n
	}
	if b.Total, err = money(x.TtlAmt, path, "TtlAmt", warn); err != nil {
		return b, err
	}
	if b.Credit, err = creditDebit(x.CdtDbtInd, path, "CdtDbtInd"); err != nil {
		return b, err
	}
	return b, nil
}

// convertEntry turns a decoded Ntry into an Entry; index is 1-based.
func convertEntry(x *xNtry, index, maxTx int) (*Entry, error) {
	e := &Entry{Index: index}
	w := &e.Warnings
	m, err := money(x.Amt, "", "Amt", w)
	if err != nil {
		return nil, err
	}
	if m == nil {
		return nil, badValue("Amt", "entry without amount")
	}
	e.Amount, e.Currency = m.Amount, m.Currency
	c, err := creditDebit(x.CdtDbtInd, "", "CdtDbtInd")
	if err != nil {
		return nil, err
	}
	if c == nil {
		return nil, badValue("CdtDbtInd", "entry without credit/debit indicator")
	}
	e.Credit = *c
	if r := boolInd(x.RvslInd); r != nil {
		e.Reversal = *r
	}
	e.Status = firstNonEmpty(x.Sts.Cd, x.Sts.Prtry, x.Sts.Text)
	if e.BookingDate, err = parseDate(x.BookgDt, "BookgDt"); err != nil {
		return nil, err
	}
	if e.ValueDate, err = parseDate(x.ValDt, "ValDt"); err != nil {
		return nil, err
	}
	e.AcctSvcrRef = strings.TrimSpace(x.AcctSvcrRef)
	e.NtryRef = strings.TrimSpace(x.NtryRef)
	e.BankTxCode = convertBkTxCd(&x.BkTxCd)
	if e.Charges, err = convertCharges(x.Chrgs, "Chrgs", w); err != nil {
		return nil, err
	}
	if x.AmtDtls != nil && x.AmtDtls.InstdAmt != nil {
		if e.Instructed, err = money(x.AmtDtls.InstdAmt.Amt, "", "AmtDtls/InstdAmt/Amt", w); err != nil {
			return nil, err
		}
	}
	e.AdditionalInfo = strings.Join(trimAll(x.AddtlNtryInf), " ")

	// Gather batches and details: .01 puts them under Ntry, later versions
	// under one or more NtryDtls.
	type txSrc struct {
		x    *xTxDtls
		path string
	}
	var srcs []txSrc
	addBatch := func(b *xBtch, path string) error {
		bb, err := convertBatch(b, path, w)
		if err != nil {
			return err
		}
		e.Batches = append(e.Batches, bb)
		e.BatchCount += bb.Count
		return nil
	}
	for i := range x.Btch {
		if err := addBatch(&x.Btch[i], "Btch["+strconv.Itoa(i+1)+"]"); err != nil {
			return nil, err
		}
	}
	for i := range x.TxDtls {
		srcs = append(srcs, txSrc{&x.TxDtls[i], "TxDtls[" + strconv.Itoa(i+1) + "]"})
	}
	for i := range x.NtryDtls {
		nd := &x.NtryDtls[i]
		base := "NtryDtls"
		if len(x.NtryDtls) > 1 {
			base = "NtryDtls[" + strconv.Itoa(i+1) + "]"
		}
		if nd.Btch != nil {
			if err := addBatch(nd.Btch, base+"/Btch"); err != nil {
				return nil, err
			}
		}
		for j := range nd.TxDtls {
			srcs = append(srcs, txSrc{&nd.TxDtls[j], base + "/TxDtls[" + strconv.Itoa(j+1) + "]"})
		}
	}
	if len(srcs) > maxTx {
		return nil, &valueError{path: "NtryDtls", err: fmt.Errorf("%w: %d transaction details in one entry (max %d)", ErrLimit, len(srcs), maxTx)}
	}
	for _, s := range srcs {
		t, err := convertTx(s.x, s.path)
		if err != nil {
			return nil, err
		}
		e.Transactions = append(e.Transactions, t)
	}
	return e, nil
}
