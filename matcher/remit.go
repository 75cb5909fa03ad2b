package matcher

import (
	"fmt"
	"strings"

	"github.com/lettrage/lettrage/domain"
)

// RuleRemittance is the rule that letters by the payer's per-document
// split (Transaction.Remitted).
const RuleRemittance = "remittance"

// remitLine is one document of a payer's split, resolved.
type remitLine struct {
	doc  *domain.RemittedDocument
	item int32
	cash domain.Amount // what the payer remits for it: negative for a credit note
	// withheld is the tax the payer deducted (when its amount due less
	// its deductions only add up with the tax taken off)
	withheld domain.Amount
}

// docCash is what a remitted document says the payer pays on it: RmtdAmt;
// else DuePyblAmt less the discount, the credit note and the adjustments
// (and the tax when withheld); else, for a credit note, CdtNoteAmt.
// Negative for a credit note (netted). ok is false when the document gives
// no amount to allocate by.
func docCash(d *domain.RemittedDocument, withheld bool) (domain.Amount, bool) {
	credit := d.IsCreditNote()
	var c domain.Amount
	switch {
	case d.Remitted != nil:
		c = *d.Remitted
	case d.Due != nil && credit:
		c = *d.Due
	case d.Due != nil:
		c = d.Due.Sub(d.Discount).Sub(d.CreditNote)
		for _, a := range d.Adjustments {
			if a.Added {
				c = c.Add(a.Amount)
			} else {
				c = c.Sub(a.Amount)
			}
		}
		if withheld {
			c = c.Sub(d.Tax)
		}
	case credit:
		c = d.CreditNote
	default:
		return domain.Amount{}, false
	}
	if credit {
		c = c.Abs().Neg()
	}
	return c, true
}

// remitSplit resolves the payer's split of tx: the item each document
// names, one customer's (the payer's when several customers' items fit),
// each still open, none twice. ok is false when a document names no open
// item of the payment's currency, the documents are not one customer's,
// or a document gives no amount.
func (e *engine) remitSplit(tx *domain.Transaction, ev *evidence) ([]remitLine, string, bool) {
	if len(ev.remit) == 0 || len(ev.remit) != len(tx.Remitted) {
		return nil, "", false
	}
	// the customers every document has an item of
	var common []string
	for k, items := range ev.remit {
		var custs []string
		for _, n := range items {
			if e.ix.items[n].Currency == tx.Currency {
				custs = appendUnique(custs, e.ix.items[n].CustomerID)
			}
		}
		if k == 0 {
			common = custs
			continue
		}
		kept := common[:0]
		for _, c := range common {
			for _, x := range custs {
				if x == c {
					kept = append(kept, c)
					break
				}
			}
		}
		common = kept
	}
	if len(common) > 1 {
		// several customers' numbers: the payer's, when it is one of them
		var mine []string
		for _, c := range common {
			if e.isPayer(ev, c) {
				mine = append(mine, c)
			}
		}
		common = mine
	}
	if len(common) != 1 {
		return nil, "", false
	}
	cust := common[0]
	lines := make([]remitLine, 0, len(ev.remit))
	for k, items := range ev.remit {
		d := &tx.Remitted[k]
		if d.Currency != "" && d.Currency != tx.Currency {
			return nil, "", false
		}
		item := int32(-1)
		for _, n := range items {
			if e.ix.items[n].CustomerID != cust || e.ix.items[n].Currency != tx.Currency {
				continue
			}
			if item >= 0 {
				return nil, "", false // two items of the customer with that number
			}
			item = n
		}
		if item < 0 || !e.eligible(tx, item) {
			return nil, "", false // settled already, or out of the due window
		}
		for _, l := range lines {
			if l.item == item {
				return nil, "", false
			}
		}
		lines = append(lines, remitLine{doc: d, item: item})
	}
	return lines, cust, true
}

// ruleRemittance letters by the payer's per-document split: when every
// document of the split names an open item of one customer and the
// amounts add up to the cash (credit notes netted; or within the bank
// charges tolerance; or less than the cash, the rest being an excess),
// each item takes what the payer says it pays on it. What the payer
// deducted (a cash discount, a withheld tax, an adjustment, a credit note
// amount) stays open on the item, except a cash discount within a
// Config.CashDiscounts ceiling, which a cash_discount posting closes.
func (e *engine) ruleRemittance(tx *domain.Transaction, ev *evidence) (domain.Decision, bool) {
	lines, cust, ok := e.remitSplit(tx, ev)
	if !ok {
		return domain.Decision{}, false
	}
	sum, ok := e.remitAmounts(tx, lines)
	if !ok {
		return domain.Decision{}, false
	}
	excess, writeOff, sit := remitBalance(sum, tx.Amount)
	// the bank charges come off the largest amount remitted
	big := largestCash(lines)
	if big < 0 {
		return domain.Decision{}, false
	}
	lt := remitLetter{cust: cust, ccy: tx.Currency, policy: e.cashDiscountPolicy(tx.Currency), big: big,
		excess: excess, writeOff: writeOff, sit: sit}
	for i, l := range lines {
		if !e.letterRemitLine(&lt, i, l) {
			return domain.Decision{}, false
		}
	}
	if len(lt.allocs) == 0 {
		return domain.Decision{}, false
	}
	what := remitExplanation(tx.Amount, lt.ccy, len(lines), lt.parts, lt.sit, lt.excess)
	if e.payerContradicts(ev, []int32{lines[0].item}) {
		lt.sit = sitRemitOtherPayer
		what += "; paid from an account of another customer"
	}
	d := e.auto(RuleRemittance, lt.sit, lt.allocs, lt.excess, what)
	d.Postings = lt.postings
	return d, true
}

// remitAmounts reads the split's documents and writes what each line
// pays (cash, and the tax withheld): as remitted; without RmtdAmt, a tax
// is first taken as shown, then as withheld when only that adds up. It
// returns their sum; ok is false when a document gives no amount or the
// sum fits the cash neither way (remitFits).
func (e *engine) remitAmounts(tx *domain.Transaction, lines []remitLine) (domain.Amount, bool) {
	sum, ok := remitTotal(lines, false)
	if !ok {
		return domain.Amount{}, false
	}
	if e.remitFits(tx, sum) {
		return sum, true
	}
	withTax := false
	for _, l := range lines {
		withTax = withTax || l.doc.Remitted == nil && !l.doc.Tax.IsZero()
	}
	if !withTax {
		return domain.Amount{}, false
	}
	if sum, ok = remitTotal(lines, true); !ok || !e.remitFits(tx, sum) {
		return domain.Amount{}, false
	}
	return sum, true
}

// remitTotal writes each line's cash (docCash) and, with withheld, the tax
// a document without RmtdAmt (not a credit note) had withheld, and returns
// the sum of the cash; ok is false when a document gives no amount.
func remitTotal(lines []remitLine, withheld bool) (domain.Amount, bool) {
	var s domain.Amount
	for i := range lines {
		c, ok := docCash(lines[i].doc, withheld)
		if !ok {
			return domain.Amount{}, false
		}
		lines[i].cash, lines[i].withheld = c, domain.Amount{}
		if withheld && lines[i].doc.Remitted == nil && !lines[i].doc.IsCreditNote() {
			lines[i].withheld = lines[i].doc.Tax
		}
		s = s.Add(c)
	}
	return s, true
}

// remitFits reports whether a split summing to s can explain tx's cash:
// positive, and at most the cash or within the bank charges tolerance.
func (e *engine) remitFits(tx *domain.Transaction, s domain.Amount) bool {
	return s.Sign() > 0 && (s.Cmp(tx.Amount) <= 0 || e.withinTolerance(tx.Currency, s, tx.Amount))
}

// remitBalance compares the split's sum with the cash: the excess (cash
// above the sum), the write-off (sum above the cash: the bank charges)
// and the situation they make.
func remitBalance(sum, cash domain.Amount) (excess, writeOff domain.Amount, sit string) {
	switch c := sum.Cmp(cash); {
	case c < 0:
		return cash.Sub(sum), domain.Amount{}, sitRemitOver
	case c > 0:
		return domain.Amount{}, sum.Sub(cash), sitRemitWriteOff
	}
	return domain.Amount{}, domain.Amount{}, sitRemitExact
}

// largestCash is the index of the line remitting the largest positive
// amount (the first of equals), or -1 when none remits a positive one.
func largestCash(lines []remitLine) int {
	big := -1
	for i, l := range lines {
		if l.cash.Sign() > 0 && (big < 0 || l.cash.Cmp(lines[big].cash) > 0) {
			big = i
		}
	}
	return big
}

// remitLetter is what the lines of a payer's split letter, built line by
// line by letterRemitLine.
type remitLetter struct {
	cust   string        // the customer of the split
	ccy    string        // the cash's currency
	policy *CashDiscount // the cash discount policy of ccy, nil for none
	big    int           // the line the bank charges come off
	// what is lettered: allocations, cash discount postings, one part of
	// the explanation per line
	allocs   []domain.Allocation
	postings []domain.Posting
	parts    []string
	// excess and writeOff are the cash left over and the bank charges,
	// sit the situation (an overpaid item makes it an excess)
	excess, writeOff domain.Amount
	sit              string
}

// letterRemitLine reads line i of the split and the item's residual and
// adds to lt its allocation (a credit note netted, an item overpaid for
// its residual with the rest an excess, the bank charges written off the
// largest line, a shortfall explained or closed by a cash discount), its
// posting and its part of the explanation. ok is false when the line
// cannot be lettered so: a credit note for more than is left, a credit
// note of the payer's on one of our invoices, or an overpaid item while
// charges were deducted.
func (e *engine) letterRemitLine(lt *remitLetter, i int, l remitLine) bool {
	ccy := lt.ccy
	n := l.item
	r := e.ix.resid[n]
	id := e.ix.items[n].ID
	part := e.doc(n) + " " + fmtAmount(l.cash, ccy)
	switch {
	case r.Sign() < 0:
		// a credit note: the payer nets what it says, at most what is left
		if l.cash.Sign() >= 0 || l.cash.Cmp(r) < 0 {
			return false
		}
		lt.allocs = append(lt.allocs, domain.Allocation{ItemID: id, Amount: l.cash})
		if !l.cash.Equal(r) {
			part += fmt.Sprintf(" of credit note %s", fmtAmount(r, ccy))
		} else {
			part += " (credit note netted)"
		}
	case l.cash.Sign() < 0:
		return false // a credit note of the payer's on one of our invoices
	case l.cash.IsZero():
		part += " (nothing remitted)"
	case l.cash.Cmp(r) > 0:
		// more than it owes: the residual, the rest is an excess
		if !lt.writeOff.IsZero() {
			return false // charges deducted and an item overpaid: the split does not explain the cash
		}
		lt.allocs = append(lt.allocs, domain.Allocation{ItemID: id, Amount: r})
		lt.excess = lt.excess.Add(l.cash.Sub(r))
		part += fmt.Sprintf(" for a residual of %s", fmtAmount(r, ccy))
		lt.sit = sitRemitOver
	default:
		a := domain.Allocation{ItemID: id, Amount: l.cash}
		if i == lt.big && !lt.writeOff.IsZero() {
			a.Amount, a.WriteOff = a.Amount.Sub(lt.writeOff), lt.writeOff
			part += fmt.Sprintf(" less bank charges %s written off", fmtAmount(lt.writeOff, ccy))
		}
		lt.allocs = append(lt.allocs, a)
		if short := r.Sub(l.cash); short.Sign() > 0 {
			what, p := e.shortfall(l, short, r, lt.policy, ccy)
			if p != nil {
				p.CustomerID, p.ItemID = lt.cust, id
				lt.postings = append(lt.postings, *p)
			}
			part += " (" + what + ")"
		}
	}
	lt.parts = append(lt.parts, part)
	return true
}

// remitExplanation says how the payer's split of cash over n documents
// (parts, one per line) letters it, and what the situation sit leaves
// (the excess when over).
func remitExplanation(cash domain.Amount, ccy string, n int, parts []string, sit string, excess domain.Amount) string {
	what := fmt.Sprintf("the payer's remittance splits %s over %d documents: %s", fmtAmount(cash, ccy), n, strings.Join(parts, "; "))
	if n == 1 {
		what = fmt.Sprintf("the payer's remittance gives the amount of %s", strings.Join(parts, "; "))
	}
	switch sit {
	case sitRemitExact:
		what += "; the amounts add up to the cash"
	case sitRemitWriteOff:
		what += "; the amounts add up to the cash with the bank charges"
	case sitRemitOver:
		what += fmt.Sprintf("; excess %s", fmtAmount(excess, ccy))
	}
	return what
}

// shortfall explains what the payer did not pay on an item it remitted
// less for (short, of residual r), and returns the cash-discount posting
// that closes the discount when the policy allows it.
func (e *engine) shortfall(l remitLine, short, r domain.Amount, policy *CashDiscount, ccy string) (string, *domain.Posting) {
	d := l.doc
	var why []string
	var post *domain.Posting
	disc := d.Discount
	if disc.Sign() > 0 {
		switch {
		case disc.Cmp(short) > 0:
			why = append(why, fmt.Sprintf("discount %s taken, more than is left open", fmtAmount(disc, ccy)))
		case policy == nil:
			why = append(why, fmt.Sprintf("discount %s taken: stays open, no cash_discount policy for %s", fmtAmount(disc, ccy), ccy))
		default:
			base := r
			if d.Due != nil && d.Due.Sign() > 0 {
				base = *d.Due
			}
			if over := e.discountCeiling(policy, disc, base); over != "" {
				why = append(why, fmt.Sprintf("discount %s taken: stays open, %s", fmtAmount(disc, ccy), over))
			} else {
				post = &domain.Posting{Kind: domain.CashDiscountPosting, Amount: disc, Account: policy.Account, Reason: policy.Reason}
				why = append(why, fmt.Sprintf("discount %s taken: closed as a cash discount to %s (%s)", fmtAmount(disc, ccy), policy.Account, policy.Reason))
				short = short.Sub(disc)
			}
		}
	}
	if !l.withheld.IsZero() {
		why = append(why, fmt.Sprintf("tax %s withheld", fmtAmount(l.withheld, ccy)))
	}
	for _, a := range d.Adjustments {
		if a.Added {
			continue
		}
		s := "adjustment " + fmtAmount(a.Amount, ccy)
		if r := strings.TrimSpace(a.Reason + " " + a.Info); r != "" {
			s += " " + r
		}
		why = append(why, s)
	}
	if d.CreditNote.Sign() > 0 && !d.IsCreditNote() {
		why = append(why, fmt.Sprintf("credit note %s deducted", fmtAmount(d.CreditNote, ccy)))
	}
	if len(why) == 0 {
		why = append(why, "partial")
	}
	if short.Sign() > 0 {
		return fmt.Sprintf("%s; %s stays open", strings.Join(why, ", "), fmtAmount(short, ccy)), post
	}
	return strings.Join(why, ", "), post
}

// cashDiscountPolicy returns the cash-discount policy of ccy (its own
// entry, else the one for every currency), nil when there is none.
func (e *engine) cashDiscountPolicy(ccy string) *CashDiscount {
	var out *CashDiscount
	for i := range e.cfg.CashDiscounts {
		p := &e.cfg.CashDiscounts[i]
		if p.Currency == ccy {
			return p
		}
		if p.Currency == "" && out == nil {
			out = p
		}
	}
	return out
}

// discountCeiling says why a discount is above the policy's ceiling ("" when
// it is within): base is the document's amount due.
func (e *engine) discountCeiling(p *CashDiscount, disc, base domain.Amount) string {
	if p.MaxAmount.Sign() > 0 && disc.Cmp(p.MaxAmount) > 0 {
		return "above the ceiling of " + p.MaxAmount.String()
	}
	if p.MaxPercent.Sign() > 0 && disc.Cmp(base.Percent(p.MaxPercent, 2).Add(domain.AmountFromCents(1))) > 0 {
		// a cent of rounding: payers round the discount either way
		return fmt.Sprintf("above %s %% of %s", p.MaxPercent, base)
	}
	return ""
}

// placeExcess applies Config.Overpayment to an automatic decision with an
// excess: on_account puts it on the account of the customer whose items
// it letters (when they are one customer's); otherwise it is reported.
func (e *engine) placeExcess(d *domain.Decision) {
	if d.Outcome != domain.Auto || d.Excess.Sign() <= 0 || e.cfg.Overpayment != PolicyOnAccount {
		return
	}
	cust := ""
	for _, a := range d.Allocations {
		n := e.itemByID(a.ItemID)
		if n < 0 || cust != "" && e.ix.items[n].CustomerID != cust {
			return
		}
		cust = e.ix.items[n].CustomerID
	}
	if cust == "" {
		return
	}
	d.Postings = append(d.Postings, domain.Posting{Kind: domain.OnAccount, CustomerID: cust, Amount: d.Excess, Reason: domain.ReasonOverpayment})
	d.Explanation += fmt.Sprintf("; the excess %s is put on the account of %s (overpayment: on_account)", d.Excess, cust)
	d.Excess, d.Reason = domain.Amount{}, ""
}

// duplicateOnAccount applies Config.DuplicatePayment to a payment that
// names, as written, only settled items (a suggestion with reason
// item_settled): on_account puts the whole cash on the account of their
// customer when they are one customer's; otherwise d is returned as it is.
func (e *engine) duplicateOnAccount(tx *domain.Transaction, d domain.Decision, settled []int32) domain.Decision {
	if e.cfg.DuplicatePayment != PolicyOnAccount || len(settled) == 0 {
		return d
	}
	cust := e.ix.items[settled[0]].CustomerID
	for _, n := range settled[1:] {
		if e.ix.items[n].CustomerID != cust {
			return d
		}
	}
	if cust == "" {
		return d
	}
	out := e.auto(d.Rule, sitDuplicateOnAccount, nil, domain.Amount{},
		d.Explanation+fmt.Sprintf("; the payment is put on the account of %s (duplicate_payment: on_account)", cust))
	out.Postings = []domain.Posting{{Kind: domain.OnAccount, CustomerID: cust, Amount: tx.Amount, Reason: domain.ReasonItemSettled}}
	return out
}

// ruleDigits letters a payment whose remittance writes a document number
// without its prefix and the leading zeros of its groups ("REF 2025-560"
// for FA-2025-000560) when exactly one open item so named has exactly the
// amount.
func (e *engine) ruleDigits(tx *domain.Transaction, ev *evidence) (domain.Decision, bool) {
	if len(ev.r().digits) == 0 || ev.strongDoc() {
		return domain.Decision{}, false
	}
	var hits []int32
	for _, n := range ev.r().digits {
		if e.eligible(tx, n) && e.ix.resid[n].Equal(tx.Amount) {
			hits = append(hits, n)
		}
	}
	if len(hits) != 1 {
		return domain.Decision{}, false
	}
	n := hits[0]
	sit := sitDigits
	why := fmt.Sprintf("%q in remittance is %s without its prefix and zeros; amount %s = residual confirms it",
		ev.r().digitsText, e.doc(n), fmtAmount(tx.Amount, tx.Currency))
	if e.payerContradicts(ev, hits) {
		sit = sitDigitsOtherPayer
		why += "; paid from an account of another customer"
	}
	return e.auto(RuleDocument, sit, []domain.Allocation{{ItemID: e.ix.items[n].ID, Amount: tx.Amount}}, domain.Amount{}, why), true
}
