package matcher

import (
	"fmt"
	"hash/fnv"
	"sort"
	"strings"
	"time"

	"github.com/lettrage/lettrage/domain"
)

// Rule names reported in Decision.Rule.
const (
	RuleReference   = "reference"
	RuleDocument    = "document"
	RuleDocTypo     = "document_typo"
	RuleDocCut      = "document_cut"
	RulePayerAmount = "payer_amount"
	RuleSameAmount  = "payer_same_amount"
	RuleCombination = "payer_combination"
	RuleTolerance   = "payer_tolerance"
	RuleAmountOnly  = "amount_only"
	RuleReversal    = "reversal"
	RuleNone        = "none"
)

// engine is the state of one Match call.
type engine struct {
	cfg Config
	ix  *index
	mem Memory
	// lettered indexes Memory.Lettered for reversals, built on first use
	letteredByItem map[string][]string
	letteredKeys   []string
	// claimed counts, per item, the transactions whose text designates it
	claimed []int32
	// claimedExact counts, per item, the transactions whose text
	// designates it exactly: a valid reference or its number as written
	claimedExact []int32
	// grams are the text n-grams of the evidence gramsOf, for typoMatch
	gramsOf     *evidence
	grams       []string
	gramScratch *scratch
}

// Match decides every transaction of in: one decision per transaction, in
// input order, and the facts learned from confident decisions. It is pure
// and deterministic: the same transactions and items in any order give the
// same decisions.
//
// Open items are indexed once (payment reference, document number in a
// compact and a leading-zeros-dropped form, IBAN, customer, currency and
// residual, customer name tokens); no rule scans every item per payment.
// Each letterable transaction's evidence is gathered first, then the
// transactions are decided strongest evidence first (valid reference, then
// document number, then payer identity, then the rest), then by booking
// date and key; each automatic decision consumes the residuals it
// allocates, so payments competing for one item never over-allocate it and
// the earliest of equally strong ones wins. An item that a transaction's
// text designates is not taken by another payment's inferred allocation;
// when the text only nearly names it (one character away), the item may
// still be the one meant, so another payment whose amount it fits (alone,
// within tolerance or in a combination) is at most suggested.
//
// The rules, in order (the first that decides wins):
//   - remittance: the payer's per-document split (Transaction.Remitted)
//     when every document names an open item of one customer and the
//     amounts add up to the cash: each item takes what the payer remits
//     for it; what it deducted stays open, except a cash discount within a
//     Config.CashDiscounts ceiling, closed by a cash_discount posting.
//   - reference: a checksum-valid structured reference (Strd or free text)
//     equal to open items' payment references: exact, partial, overpaid
//     (Excess) or within tolerance (WriteOff) — automatic.
//   - document: document numbers found as whole tokens in the remittance
//     whose residuals (credit notes included) sum to the amount, a unique
//     subset of them, or within tolerance; partial or overpaid only when
//     the payer is known to own them (overpaid while it has other open
//     items only when the excess cannot pay them).
//   - a payment naming, as written, only settled items (in this run, or
//     by an earlier letter: Memory.Settled) is a payment made twice: an
//     item_settled exception, or cash on account (Config.DuplicatePayment);
//     a payer rule whose text names a settled item of the payer is only
//     suggested.
//   - document (digits): a number written without its prefix and the zeros
//     of its groups ("REF 2025-560") when exactly one item so named has
//     exactly the amount.
//   - payer_amount / payer_same_amount / payer_combination /
//     payer_tolerance: a payer identified by IBAN, learned IBAN or strong
//     name match with exactly one open item of the amount, the oldest of
//     several equal ones (Config.SameAmount), a bounded subset-sum
//     combination of its items, or one item within tolerance.
//   - document_cut, document_typo: a number cut at a 35/140-character line
//     end, or with one wrong character, when exactly one open item of
//     exactly the amount fits.
//
// The excess of an automatic letter is reported, or put on the
// customer's account (Config.Overpayment).
//
// Anything else is an exception: Suggested with ranked candidates when some
// score at least Config.SuggestThreshold (different customers that tie are
// never auto-lettered; an unknown payer is at most suggested), Unmatched
// otherwise. Decisions below Config.AutoThreshold are suggested.
//
// Match uses GOMAXPROCS goroutines to build the index and gather the
// evidence (which read only the inputs); the decisions, which consume
// residuals, are made on one goroutine in the order above, so the output
// does not depend on the number of goroutines.
func Match(in Input) Output { return match(in, 0, gatherChunk) }

// designated lists the items a transaction's text designates, each once.
func designated(ev *evidence) []int32 { return appendDesignated(nil, ev) }

// appendDesignated appends to out the items ev's text designates, each once.
func appendDesignated(out []int32, ev *evidence) []int32 {
	add := func(n int32) {
		for _, x := range out {
			if x == n {
				return
			}
		}
		out = append(out, n)
	}
	for _, r := range ev.refs {
		if r.valid {
			add(r.item)
		}
	}
	for _, d := range ev.docs {
		if !d.loose {
			add(d.item)
		}
	}
	for _, t := range ev.r().typos {
		add(t)
	}
	for _, t := range ev.r().payerTypos {
		add(t)
	}
	return out
}

// txHash separates transactions that share a key (it should not happen) so
// that their order does not depend on the input order.
func txHash(tx *domain.Transaction) uint64 {
	h := fnv.New64a()
	fmt.Fprintf(h, "%s|%s|%s|%s|%s|%s|%v|%v|%v", tx.Ref, tx.Account, tx.Amount.Key(), tx.Currency,
		tx.EndToEndID, tx.Counterparty, tx.Structured, tx.Unstructured, tx.Documents)
	return h.Sum64()
}

// consume lowers the residuals of the items an automatic decision settles.
func (e *engine) consume(d domain.Decision) {
	if d.Outcome != domain.Auto {
		return
	}
	for _, a := range d.Allocations {
		n := e.itemByID(a.ItemID)
		if n >= 0 && a.CrossCurrency() {
			e.ix.resid[n] = e.ix.resid[n].Sub(a.ItemAmount)
			continue
		}
		if n >= 0 {
			r := e.ix.resid[n].Sub(a.Amount)
			// subtracting a zero of no more fraction digits changes nothing
			if !a.WriteOff.IsZero() || a.WriteOff.Exponent() < r.Exponent() {
				r = r.Sub(a.WriteOff)
			}
			e.ix.resid[n] = r
		}
	}
	// a cash discount closes its item without cash
	for _, p := range d.Postings {
		if n := e.itemByID(p.ItemID); n >= 0 && p.Kind == domain.CashDiscountPosting {
			e.ix.resid[n] = e.ix.resid[n].Sub(p.Amount)
		}
	}
}

func (e *engine) itemByID(id string) int32 {
	if n, ok := e.ix.byID[id]; ok {
		return n
	}
	return -1
}

// eligible reports whether item n can take cash from tx now: same
// currency, still open, and inside the configured due window.
func (e *engine) eligible(tx *domain.Transaction, n int32) bool {
	return e.ix.items[n].Currency == tx.Currency && e.openFor(tx, n)
}

// openFor reports whether item n, whatever its currency, is still open and
// inside the configured due window for tx.
func (e *engine) openFor(tx *domain.Transaction, n int32) bool {
	it := e.ix.items[n]
	if e.ix.resid[n].IsZero() {
		return false
	}
	if it.Residual.Sign() > 0 && e.ix.resid[n].Sign() <= 0 {
		return false
	}
	if w := e.cfg.DueWindowDays; w > 0 && !it.DueDate.IsZero() && !tx.BookingDate.IsZero() &&
		it.DueDate.After(tx.BookingDate.Add(time.Duration(w)*24*time.Hour)) {
		return false
	}
	return true
}

// tolerance returns the write-off allowed on residual in ccy, and whether
// one is configured.
func (e *engine) tolerance(ccy string, residual domain.Amount) (domain.Amount, bool) {
	var t *Tolerance
	for i := range e.cfg.Tolerances {
		x := &e.cfg.Tolerances[i]
		if x.Currency == ccy {
			t = x
			break
		}
		if x.Currency == "" && t == nil {
			t = x
		}
	}
	if t == nil {
		return domain.Amount{}, false
	}
	var lim domain.Amount
	set := false
	if t.Absolute.Sign() > 0 {
		lim, set = t.Absolute, true
	}
	if t.Percent.Sign() > 0 {
		p := residual.Abs().Percent(t.Percent, domain.CurrencyDigits(ccy))
		if !set || p.Cmp(lim) < 0 {
			lim = p
		}
		set = true
	}
	return lim, set && lim.Sign() > 0
}

// withinTolerance reports whether paid is below due by at most the
// configured tolerance.
func (e *engine) withinTolerance(ccy string, due, paid domain.Amount) bool {
	diff := due.Sub(paid)
	if diff.Sign() <= 0 {
		return false
	}
	lim, ok := e.tolerance(ccy, due)
	return ok && diff.Cmp(lim) <= 0
}

func (e *engine) notLetterable(tx *domain.Transaction) domain.Decision {
	d := domain.Decision{TxKey: tx.Key, Outcome: domain.Ignored, Reason: domain.ReasonNotLetterable, Rule: RuleNone}
	if tx.Reversal || tx.Return {
		if key, how := e.findLettered(tx); key != "" {
			d.Outcome, d.Reason, d.Rule = domain.Unletter, "", RuleReversal
			d.UnletterKey = key
			d.Confidence = 0.99
			kind := "reversal"
			if tx.Return {
				kind = "return"
			}
			d.Explanation = fmt.Sprintf("%s of lettered payment %s (%s): its allocations are reversed", kind, key, how)
			return d
		}
		d.Explanation = "reversal or return of a payment that was not lettered"
		return d
	}
	switch {
	case !tx.Credit:
		d.Explanation = "debit: not a customer payment"
	default:
		d.Explanation = notBooked(tx.Status)
	}
	return d
}

// notBooked is the explanation of a credit that is not booked: one string
// shared by the decisions of the usual statuses (a decision is kept until
// the outputs are written), built for the others.
func notBooked(status string) string {
	switch status {
	case "PDNG":
		return "status PDNG: not booked"
	case "INFO":
		return "status INFO: not booked"
	}
	return fmt.Sprintf("status %s: not booked", status)
}

// findLettered ties a reversal or return to the lettered transaction it
// undoes: same key, a repeated end-to-end id or bank reference, or a single
// lettered payment of the same amount on the items its text names.
func (e *engine) findLettered(tx *domain.Transaction) (string, string) {
	if len(e.mem.Lettered) == 0 {
		return "", ""
	}
	if _, ok := e.mem.Lettered[tx.Key]; ok {
		return tx.Key, "same bank reference"
	}
	for _, r := range []string{tx.EndToEndID, tx.Ref} {
		if r == "" || strings.EqualFold(r, "NOTPROVIDED") {
			continue
		}
		if k, ok := e.mem.LetteredRefs[r]; ok {
			if _, ok := e.mem.Lettered[k]; ok {
				return k, "same reference " + r
			}
		}
	}
	if e.letteredByItem == nil {
		e.letteredByItem = map[string][]string{}
		for k, allocs := range e.mem.Lettered {
			e.letteredKeys = append(e.letteredKeys, k)
			for _, a := range allocs {
				e.letteredByItem[a.ItemID] = appendUnique(e.letteredByItem[a.ItemID], k)
			}
		}
		sort.Strings(e.letteredKeys)
		for _, v := range e.letteredByItem {
			sort.Strings(v)
		}
	}
	// the items the reversal's text names (references and documents)
	ev := e.gather(tx)
	var named []string
	for _, r := range ev.refs {
		named = append(named, e.ix.items[r.item].ID)
	}
	for _, d := range ev.docs {
		named = append(named, e.ix.items[d.item].ID)
	}
	var found []string
	for _, id := range named {
		for _, k := range e.letteredByItem[id] {
			if cashOf(e.mem.Lettered[k]).Equal(tx.Amount) {
				found = appendUnique(found, k)
			}
		}
	}
	if len(found) == 1 {
		return found[0], "same amount on the items it names"
	}
	return "", ""
}

func cashOf(allocs []domain.Allocation) domain.Amount {
	var s domain.Amount
	for _, a := range allocs {
		s = s.Add(a.Amount)
	}
	return s
}

// decideRules runs the rules in order of strength on one letterable
// transaction (decide, in calibration.go, then sets the confidence).
func (e *engine) decideRules(tx *domain.Transaction, ev *evidence) domain.Decision {
	if tx.Amount.Sign() <= 0 {
		return domain.Decision{Outcome: domain.Unmatched, Rule: RuleNone, Reason: domain.ReasonNoCandidate,
			Explanation: "zero or negative amount: nothing to letter"}
	}
	if d, ok := e.ruleRemittance(tx, ev); ok {
		return e.gate(tx, ev, d)
	}
	if d, ok := e.ruleReference(tx, ev); ok {
		return e.gate(tx, ev, d)
	}
	if d, ok := e.ruleDocument(tx, ev); ok {
		return e.gate(tx, ev, d)
	}
	// documents named as written but all settled already (paid twice?)
	if settled := e.settledDocs(tx, ev); len(settled) > 0 {
		d := domain.Decision{Outcome: domain.Suggested, Rule: RuleDocument, Reason: domain.ReasonItemSettled, Confidence: 0.5,
			Candidates:  e.itemCandidates(settled, 0.5),
			Explanation: fmt.Sprintf("remittance names %s, already settled (paid twice?)", e.docList(settled))}
		return e.gate(tx, ev, e.duplicateOnAccount(tx, d, settled))
	}
	if d, ok := e.ruleDigits(tx, ev); ok {
		return e.gate(tx, ev, d)
	}
	if d, ok := e.rulePayer(tx, ev); ok {
		return e.gate(tx, ev, d)
	}
	if d, ok := e.ruleCut(tx, ev); ok {
		return e.gate(tx, ev, d)
	}
	if d, ok := e.ruleTypo(tx, ev); ok {
		return e.gate(tx, ev, d)
	}
	return e.exception(tx, ev, "", "")
}

// settledDocs returns the items the remittance names when every one of
// them is already settled; nil otherwise. A number found only with the
// zeros of its groups dropped counts unless the text may be another
// number cut at a line end or with one wrong character (an open item of
// exactly the amount, or of the payer, is then one edit away:
// "FA-2025-0000877" is FA-2025-000877 without a zero, and FA-2025-000087
// with one character added).
func (e *engine) settledDocs(tx *domain.Transaction, ev *evidence) []int32 {
	var out []int32
	looseOK := len(ev.r().cut) == 0 && len(ev.r().typos) == 0 && len(ev.r().payerTypos) == 0
	for _, d := range ev.docs {
		if d.loose && !looseOK {
			continue
		}
		it := e.ix.items[d.item]
		if it.Currency == tx.Currency && e.eligible(tx, d.item) {
			return nil
		}
		if it.Currency == tx.Currency && !e.ix.resid[d.item].Equal(it.Residual) {
			out = append(out, d.item)
		}
	}
	return out
}

// textNamesOthers reports whether the remittance names, as written, open
// documents none of which the allocations take.
func (e *engine) textNamesOthers(ev *evidence, allocs []domain.Allocation) bool {
	named := false
	for _, d := range ev.docs {
		if d.loose {
			continue
		}
		named = true
		for _, a := range allocs {
			if a.ItemID == e.ix.items[d.item].ID {
				return false
			}
		}
	}
	return named
}

// gate turns an automatic decision below the configured threshold into a
// suggestion, and fills candidates on exceptions.
func (e *engine) gate(tx *domain.Transaction, ev *evidence, d domain.Decision) domain.Decision {
	if d.Outcome == domain.Auto && d.Confidence >= e.cfg.AutoThreshold {
		e.placeExcess(&d)
	}
	if d.Outcome == domain.Auto && d.Confidence < e.cfg.AutoThreshold {
		s := e.exception(tx, ev, domain.ReasonLowConfidence, d.Explanation+" (below the automatic threshold)")
		s.Rule, s.Confidence = d.Rule, d.Confidence
		s.Outcome = domain.Suggested
		return s
	}
	if d.Outcome != domain.Auto && len(d.Candidates) == 0 {
		d.Candidates = e.candidates(tx, ev)
		if d.Outcome == domain.Suggested && len(d.Candidates) == 0 {
			d.Outcome = domain.Unmatched
		}
	}
	if d.Outcome != domain.Auto {
		d.Allocations, d.Excess, d.Postings = nil, domain.Amount{}, nil
	}
	return d
}

// exception builds a non-automatic decision with ranked candidates.
func (e *engine) exception(tx *domain.Transaction, ev *evidence, reason, why string) domain.Decision {
	cands := e.candidates(tx, ev)
	d := domain.Decision{Outcome: domain.Unmatched, Rule: RuleNone, Reason: reason, Candidates: cands}
	if len(cands) > 0 {
		d.Outcome = domain.Suggested
		d.Confidence = cands[0].Score
	}
	if reason == "" {
		d.Reason = domain.ReasonNoCandidate
		if len(cands) > 0 {
			d.Reason = domain.ReasonAmountMismatch
			if len(ev.payer) == 0 && ev.tier == tierNone {
				d.Reason = domain.ReasonUnknownPayer
			}
			if distinctCustomers(cands) > 1 && cands[0].Score-cands[len(cands)-1].Score < 0.1 {
				d.Reason = domain.ReasonAmbiguousCustomers
			}
		}
	}
	if why == "" {
		switch {
		case len(cands) == 0:
			why = "no open item matches: no reference, document number, known payer or amount"
		case d.Reason == domain.ReasonUnknownPayer:
			why = fmt.Sprintf("unknown payer; amount %s equals the residual of %s — check before lettering",
				fmtAmount(tx.Amount, tx.Currency), e.docOf(cands[0].ItemID))
		case d.Reason == domain.ReasonAmbiguousCustomers:
			why = fmt.Sprintf("candidates of %d customers fit equally; nothing separates them", distinctCustomers(cands))
		default:
			why = fmt.Sprintf("best candidate %s (score %.2f) is not certain enough", e.docOf(cands[0].ItemID), cands[0].Score)
		}
	}
	d.Explanation = why
	return d
}

func distinctCustomers(c []domain.Candidate) int {
	seen := map[string]bool{}
	for _, x := range c {
		seen[x.CustomerID] = true
	}
	return len(seen)
}

// docOf names an item for explanations: its document number, else its ID.
func (e *engine) docOf(id string) string {
	if n := e.itemByID(id); n >= 0 && e.ix.items[n].DocumentNumber != "" {
		return e.ix.items[n].DocumentNumber
	}
	return id
}

func (e *engine) doc(n int32) string {
	if d := e.ix.items[n].DocumentNumber; d != "" {
		return d
	}
	return e.ix.items[n].ID
}

// fmtAmount writes an amount with the currency's fraction digits and
// thousands separators: 1,250.00.
func fmtAmount(a domain.Amount, ccy string) string {
	s := a.StringFixed(domain.CurrencyDigits(ccy))
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	intPart, frac := s, ""
	if i := strings.IndexByte(s, '.'); i >= 0 {
		intPart, frac = s[:i], s[i:]
	}
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i := range len(intPart) {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteByte(intPart[i])
	}
	b.WriteString(frac)
	return b.String()
}
