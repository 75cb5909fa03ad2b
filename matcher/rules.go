package matcher

import (
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/lettrage/lettrage/domain"
)

// settleKind says how a payment compares with the residuals it settles.
type settleKind int

const (
	settleNone     settleKind = iota
	settleExact               // amount = residual(s)
	settleWriteOff            // amount below, within tolerance: difference written off
	settlePartial             // amount below: all of it allocated, items stay open
	settleOver                // amount above: residuals allocated, excess reported
)

// settle allocates tx's amount over items (already eligible). Credit notes
// (negative residuals) are netted in full; invoices are paid oldest first.
func (e *engine) settle(tx *domain.Transaction, items []int32) ([]domain.Allocation, domain.Amount, settleKind) {
	ix := e.ix
	var total domain.Amount
	for _, n := range items {
		total = total.Add(ix.resid[n])
	}
	if total.Sign() <= 0 {
		return nil, domain.Amount{}, settleNone
	}
	ordered := append([]int32(nil), items...)
	sort.SliceStable(ordered, func(a, b int) bool {
		sa, sb := ix.resid[ordered[a]].Sign(), ix.resid[ordered[b]].Sign()
		if sa != sb {
			return sa < sb // credit notes first
		}
		return ix.older(ordered[a], ordered[b])
	})
	A := tx.Amount
	allocs := make([]domain.Allocation, 0, len(ordered))
	switch c := A.Cmp(total); {
	case c == 0:
		for _, n := range ordered {
			allocs = append(allocs, domain.Allocation{ItemID: ix.items[n].ID, Amount: ix.resid[n]})
		}
		return allocs, domain.Amount{}, settleExact
	case c > 0:
		for _, n := range ordered {
			allocs = append(allocs, domain.Allocation{ItemID: ix.items[n].ID, Amount: ix.resid[n]})
		}
		return allocs, A.Sub(total), settleOver
	}
	if e.withinTolerance(tx.Currency, total, A) {
		// the write-off goes to the item with the largest residual
		wo := total.Sub(A)
		big := 0
		for k, n := range ordered {
			if ix.resid[n].Cmp(ix.resid[ordered[big]]) > 0 {
				big = k
			}
		}
		for k, n := range ordered {
			a := domain.Allocation{ItemID: ix.items[n].ID, Amount: ix.resid[n]}
			if k == big {
				a.Amount, a.WriteOff = a.Amount.Sub(wo), wo
			}
			allocs = append(allocs, a)
		}
		return allocs, domain.Amount{}, settleWriteOff
	}
	remaining := A
	for _, n := range ordered {
		r := ix.resid[n]
		if r.Sign() < 0 {
			allocs = append(allocs, domain.Allocation{ItemID: ix.items[n].ID, Amount: r})
			remaining = remaining.Sub(r)
			continue
		}
		if remaining.Sign() <= 0 {
			break
		}
		take := r.Min(remaining)
		allocs = append(allocs, domain.Allocation{ItemID: ix.items[n].ID, Amount: take})
		remaining = remaining.Sub(take)
	}
	return allocs, domain.Amount{}, settlePartial
}

// describeSettle explains the amount part of a settlement.
func (e *engine) describeSettle(tx *domain.Transaction, items []int32, allocs []domain.Allocation, excess domain.Amount, k settleKind) string {
	var total domain.Amount
	for _, n := range items {
		total = total.Add(e.ix.resid[n])
	}
	ccy := tx.Currency
	what := "residual"
	if len(items) > 1 {
		what = "sum of residuals"
	}
	switch k {
	case settleExact:
		return fmt.Sprintf("amount %s = %s", fmtAmount(tx.Amount, ccy), what)
	case settleWriteOff:
		return fmt.Sprintf("amount %s = %s %s less %s written off (within tolerance)",
			fmtAmount(tx.Amount, ccy), what, fmtAmount(total, ccy), fmtAmount(total.Sub(tx.Amount), ccy))
	case settlePartial:
		return fmt.Sprintf("partial payment: %s of %s %s allocated, %s stays open",
			fmtAmount(tx.Amount, ccy), what, fmtAmount(total, ccy), fmtAmount(total.Sub(tx.Amount), ccy))
	case settleOver:
		return fmt.Sprintf("overpayment: %s %s allocated, excess %s to review",
			what, fmtAmount(total, ccy), fmtAmount(excess, ccy))
	}
	return ""
}

func (e *engine) sum(items []int32) domain.Amount {
	var t domain.Amount
	for _, n := range items {
		t = t.Add(e.ix.resid[n])
	}
	return t
}

func contains(list []int32, n int32) bool {
	for _, x := range list {
		if x == n {
			return true
		}
	}
	return false
}

func (e *engine) docList(items []int32) string {
	names := make([]string, len(items))
	for i, n := range items {
		names[i] = e.doc(n)
	}
	return strings.Join(names, ", ")
}

// auto builds an automatic decision made in situation sit, with its
// calibrated confidence.
func (e *engine) auto(rule, sit string, allocs []domain.Allocation, excess domain.Amount, why string) domain.Decision {
	d := domain.Decision{Outcome: domain.Auto, Rule: rule, Confidence: confidenceOf(sit), Allocations: allocs, Excess: excess,
		Explanation: why, Situation: sit}
	if excess.Sign() > 0 {
		d.Reason = domain.ReasonOverpayment
	}
	return d
}

// payerContradicts reports whether the payer is identified as customers
// none of which owns any of items (a third party paying, or a wrong hit).
func (e *engine) payerContradicts(ev *evidence, items []int32) bool {
	if len(ev.payer) == 0 || !ev.payerStrong {
		return false
	}
	for _, n := range items {
		for _, c := range ev.payer {
			if e.ix.items[n].CustomerID == c {
				return false
			}
		}
	}
	return true
}

// ruleReference letters on a checksum-valid structured reference equal to
// open items' payment references.
func (e *engine) ruleReference(tx *domain.Transaction, ev *evidence) (domain.Decision, bool) {
	var open, settled, other, fx []int32
	var shown, fxShown []string
	for _, r := range ev.refs {
		if !r.valid {
			continue
		}
		it := e.ix.items[r.item]
		switch {
		case it.Currency != tx.Currency && e.fxOpen(tx, r.item):
			if !contains(fx, r.item) {
				fx = append(fx, r.item)
			}
			fxShown = appendUnique(fxShown, r.value)
		case it.Currency != tx.Currency && e.fxRule(it.Currency, tx.Currency) != nil:
			settled = append(settled, r.item)
		case it.Currency != tx.Currency:
			other = append(other, r.item)
		case !e.eligible(tx, r.item):
			settled = append(settled, r.item)
		default:
			open = append(open, r.item)
			shown = appendUnique(shown, r.value)
		}
	}
	if len(open) == 0 {
		switch {
		case len(settled) > 0:
			d := domain.Decision{Outcome: domain.Suggested, Rule: RuleReference, Reason: domain.ReasonItemSettled,
				Candidates:  e.itemCandidates(settled, 0.5),
				Explanation: fmt.Sprintf("valid reference names %s, already settled (paid twice?)", e.docList(settled))}
			return e.duplicateOnAccount(tx, d, settled), true
		case len(fx) > 0:
			what := "payment reference of " + e.docList(fx)
			if len(fx) > 1 {
				what = "payment references of " + e.docList(fx)
			}
			how := fmt.Sprintf("%s valid and equal to %s", strings.Join(fxShown, ", "), what)
			return e.fxDecision(tx, fx, RuleReference, how), true
		case len(other) > 0:
			d := domain.Decision{Outcome: domain.Suggested, Rule: RuleReference, Reason: domain.ReasonCurrencyMismatch,
				Candidates: e.itemCandidates(other, 0.5),
				Explanation: fmt.Sprintf("valid reference names %s, invoiced in %s, paid in %s",
					e.docList(other), e.ix.items[other[0]].Currency, tx.Currency)}
			return d, true
		}
		return domain.Decision{}, false
	}
	// the remittance may name further documents paid together with the
	// referenced ones: take them when the sum is then exact
	if total := e.sum(open); !tx.Amount.Equal(total) {
		union := append([]int32(nil), open...)
		for _, d := range ev.docs {
			if !d.loose && e.eligible(tx, d.item) && !contains(union, d.item) {
				union = append(union, d.item)
			}
		}
		if len(union) > len(open) && tx.Amount.Equal(e.sum(union)) {
			allocs, excess, k := e.settle(tx, union)
			why := fmt.Sprintf("%s valid and equal to the payment reference of %s, with %s also named; %s",
				strings.Join(shown, ", "), e.docList(open), e.docList(union[len(open):]),
				e.describeSettle(tx, union, allocs, excess, k))
			return e.auto(RuleReference, sitRefNamed, allocs, excess, why), true
		}
	}
	allocs, excess, k := e.settle(tx, open)
	if k == settleNone {
		return domain.Decision{}, false
	}
	sit := map[settleKind]string{settleExact: sitRefExact, settleWriteOff: sitRefWriteOff, settlePartial: sitRefPartial,
		settleOver: sitRefOver}[k]
	what := "payment reference of " + e.docList(open)
	if len(open) > 1 {
		what = "payment references of " + e.docList(open)
	}
	why := fmt.Sprintf("%s valid and equal to %s; %s", strings.Join(shown, ", "), what,
		e.describeSettle(tx, open, allocs, excess, k))
	if e.payerContradicts(ev, open) {
		sit = sitRefOtherPaid
		why += "; paid from an account of another customer"
	}
	return e.auto(RuleReference, sit, allocs, excess, why), true
}

// ruleDocument letters on document numbers found in the remittance text
// when the amount confirms them.
func (e *engine) ruleDocument(tx *domain.Transaction, ev *evidence) (domain.Decision, bool) {
	// the eligible items the document numbers and invalid references
	// name, once each, with the texts that name them
	var named []int32
	seen := map[int32]bool{}
	var shown []string
	add := func(n int32, text string) {
		if seen[n] || !e.eligible(tx, n) {
			return
		}
		seen[n] = true
		named = append(named, n)
		shown = append(shown, text)
	}
	for _, d := range ev.docs {
		add(d.item, e.doc(d.item))
	}
	for _, r := range ev.refs {
		if !r.valid {
			add(r.item, r.value)
		}
	}
	if len(named) == 0 {
		return e.ruleDocumentFX(tx, ev)
	}
	found := "found in remittance"
	if len(named) == 1 {
		found = shown[0] + " " + found
	} else {
		found = strings.Join(shown, ", ") + " " + found
	}
	var total domain.Amount
	positive := 0
	for _, n := range named {
		total = total.Add(e.ix.resid[n])
		if e.ix.resid[n].Sign() > 0 {
			positive++
		}
	}
	nd := namedDocs{tx: tx, ev: ev, found: found, contra: e.payerContradicts(ev, named)}
	if total.Sign() > 0 && tx.Amount.Equal(total) {
		if len(named) > 1 {
			return e.letterNamed(nd, named, named, sitDocExactMulti)
		}
		return e.letterNamed(nd, named, named, sitDocExact)
	}
	// a subset of the named items, credit notes included, that sums exactly
	if len(named) > 1 && len(named) <= 12 {
		if sol, ok := e.namedSubset(named, tx.Amount); ok {
			return e.letterNamed(nd, named, sol, sitDocSubset)
		}
	}
	if total.Sign() > 0 && e.withinTolerance(tx.Currency, total, tx.Amount) {
		return e.letterNamedInexact(nd, named, named, sitDocWriteOff)
	}
	// partial or over payment: only when the payer is known to own the items
	if total.Sign() > 0 && positive > 0 && len(ev.payer) > 0 && ev.payerStrong && !nd.contra && e.ownedByPayer(ev, named) {
		if tx.Amount.Cmp(total) > 0 {
			return e.namedOverpaid(nd, named, total)
		}
		return e.letterNamedInexact(nd, named, named, sitDocPartial)
	}
	return domain.Decision{}, false
}

// namedDocs is what ruleDocument found: how the remittance names its
// items (found), and whether the payer's account belongs to another
// customer (contra). The items named are passed beside it: in one value
// with the evidence, they would escape to the heap with it.
type namedDocs struct {
	tx     *domain.Transaction
	ev     *evidence
	found  string
	contra bool
}

// letterNamed letters items (the named ones, or those of them that fit
// the amount) in situation sit, another customer's account making it
// sitDocOtherPayer.
func (e *engine) letterNamed(nd namedDocs, named, items []int32, sit string) (domain.Decision, bool) {
	allocs, excess, k := e.settle(nd.tx, items)
	why := nd.found + "; " + e.describeSettle(nd.tx, items, allocs, excess, k)
	if len(items) < len(named) {
		why += fmt.Sprintf(" (of the %d named, %s fit the amount)", len(named), e.docList(items))
	}
	if nd.contra {
		sit = sitDocOtherPayer
		why += "; paid from an account of another customer"
	}
	return e.auto(RuleDocument, sit, allocs, excess, why), true
}

// letterNamedInexact letters items the amount confirms only approximately
// (written off, partial, over), unless an open item of exactly the amount
// whose number is one character away from the text may be the one meant,
// the typo having hit another document's number (or the same with its
// leading zeros dropped): that one is suggested.
func (e *engine) letterNamedInexact(nd namedDocs, named, items []int32, sit string) (domain.Decision, bool) {
	if d, ok := e.typoRivalSuggestion(nd.tx, nd.ev, items, nd.found); ok {
		return d, true
	}
	return e.letterNamed(nd, named, items, sit)
}

// namedOverpaid decides on a payment of more than the named items' total
// by a payer known to own them: a typo'd rival of exactly the amount is
// suggested; the rest may pay unnamed items of the same customer (one, or
// one combination); else the named items are lettered for their residuals
// with an excess, unless the excess may be meant for the customer's other
// open items (no decision: an accountant decides).
func (e *engine) namedOverpaid(nd namedDocs, named []int32, total domain.Amount) (domain.Decision, bool) {
	tx, ev := nd.tx, nd.ev
	if d, ok := e.typoRivalSuggestion(tx, ev, named, nd.found); ok {
		return d, true
	}
	// more than the named documents: the rest may pay unnamed
	// items of the same customer (one, or one combination)
	if more, oldest, ok := e.unnamedRest(tx, ev, named, tx.Amount.Sub(total)); ok {
		union := append(append([]int32(nil), named...), more...)
		allocs, excess, _ := e.settle(tx, union)
		why := fmt.Sprintf("%s; %s; the rest %s pays %s, not named", nd.found, ev.payerHow,
			fmtAmount(tx.Amount.Sub(total), tx.Currency), e.docList(more))
		sit := sitDocRest
		if oldest {
			sit = sitDocRestOldest
			if len(more) == 1 {
				why += " (the oldest of its open items of that amount)"
			} else {
				why += " (the oldest of its open items of those amounts)"
			}
		}
		return e.auto(RuleDocument, sit, allocs, excess, why), true
	}
	// an overpayment while the customer has other open items: when
	// the excess is less than each of them (it pays none in full),
	// the invoices its own customer names are lettered for their
	// residuals and the excess is reported or put on its account
	// (Config.Overpayment); otherwise the excess may be meant for
	// them: an accountant decides
	if e.payerHasOtherOpen(tx, ev, named) {
		if e.excessPaysOther(tx, ev, named, tx.Amount.Sub(total)) {
			return domain.Decision{}, false
		}
		return e.letterNamed(nd, named, named, sitDocOverOpen)
	}
	return e.letterNamed(nd, named, named, sitDocOver)
}

// typoRivalSuggestion suggests, instead of lettering the named documents
// an amount confirms only approximately, the open items of exactly the
// amount (outside named, not designated by another payment) whose
// document number is one character away from a text of the remittance.
// ok is false when there is none.
func (e *engine) typoRivalSuggestion(tx *domain.Transaction, ev *evidence, named []int32, found string) (domain.Decision, bool) {
	var rival []int32
	var near string
	for _, n := range e.ix.byAmount.get(ev.akey) {
		if contains(named, n) || !e.eligible(tx, n) || !e.ix.resid[n].Equal(tx.Amount) || e.claimedByOther(ev, n) {
			continue
		}
		if g, ok := e.typoMatch(ev, n); ok {
			rival = append(rival, n)
			near = g
		}
	}
	if len(rival) == 0 {
		return domain.Decision{}, false
	}
	cands := e.itemCandidates(rival, 0.6)
	for _, c := range e.itemCandidates(named, 0.5) {
		if len(cands) < e.cfg.MaxCandidates {
			cands = append(cands, c)
		}
	}
	what := fmt.Sprintf("%s, one character away from %s in remittance, has", e.docList(rival), near)
	if len(rival) > 1 {
		what = fmt.Sprintf("%s, one character away from the remittance, have", e.docList(rival))
	}
	return domain.Decision{Outcome: domain.Suggested, Rule: RuleDocument, Reason: domain.ReasonAmountMismatch, Candidates: cands,
		Explanation: fmt.Sprintf("%s but residual %s is not the amount; %s exactly %s (a typo?)",
			found, fmtAmount(e.sum(named), tx.Currency), what, fmtAmount(tx.Amount, tx.Currency))}, true
}

// unnamedRest finds the open items of the payer, outside named, that pay
// rest exactly: a single item when only one has that residual, else the
// only combination of amounts found by a complete search. oldest is true
// when the customer has other open items of the same amounts, so the
// oldest due were taken (Config.SameAmount "oldest"; none with "suggest").
func (e *engine) unnamedRest(tx *domain.Transaction, ev *evidence, named []int32, rest domain.Amount) (items []int32, oldest, ok bool) {
	var single []int32
	for _, n := range e.ix.byAmount.get(amountKey(tx.Currency, rest)) {
		if !contains(named, n) && e.isPayer(ev, e.ix.items[n].CustomerID) && e.eligible(tx, n) && e.ix.resid[n].Equal(rest) &&
			!e.claimedByOther(ev, n) {
			single = append(single, n)
		}
	}
	// an item of the rest that another payment's text designates only
	// approximately may be the one meant: nothing is certain then
	for _, n := range e.ix.byAmount.get(amountKey(tx.Currency, rest)) {
		if !contains(named, n) && e.isPayer(ev, e.ix.items[n].CustomerID) && e.eligible(tx, n) && e.ix.resid[n].Equal(rest) &&
			e.heldLoosely(ev, n) {
			return nil, false, false
		}
	}
	if len(single) == 1 {
		return single, false, true
	}
	if len(single) > 1 {
		// several of one customer: the oldest first, as for recurring
		// invoices; several customers: nothing separates them
		for _, n := range single[1:] {
			if e.ix.items[n].CustomerID != e.ix.items[single[0]].CustomerID {
				return nil, false, false
			}
		}
		if e.cfg.SameAmount != "oldest" {
			return nil, false, false
		}
		sort.SliceStable(single, func(a, b int) bool { return e.ix.older(single[a], single[b]) })
		return single[:1], true, true
	}
	if len(ev.payer) != 1 {
		return nil, false, false
	}
	var pool, all []int32
	for _, n := range e.ix.byCustomer[ev.payer[0]] {
		if !contains(named, n) {
			if !e.claimedByOther(ev, n) {
				pool = append(pool, n)
				all = append(all, n)
			} else if e.heldLoosely(ev, n) {
				all = append(all, n)
			}
		}
	}
	sub := *tx
	sub.Amount = rest
	sols, complete := e.combinations(&sub, pool, nil)
	if len(sols) == 1 && complete && (!sols[0].choice || e.cfg.SameAmount == "oldest") && !e.claimsHideCombos(&sub, all, pool, 1) {
		return sols[0].items, sols[0].choice, true
	}
	return nil, false, false
}

// payerHasOtherOpen reports whether the payer's customers have open items
// in the payment's currency besides named.
func (e *engine) payerHasOtherOpen(tx *domain.Transaction, ev *evidence, named []int32) bool {
	for _, c := range ev.payer {
		for _, n := range e.ix.byCustomer[c] {
			if !contains(named, n) && e.eligible(tx, n) && e.ix.resid[n].Sign() > 0 {
				return true
			}
		}
	}
	return false
}

// excessPaysOther reports whether an excess may be the payment of the
// payer's other open items in the payment's currency: one of them owes it
// (or a little more, within tolerance: charges deducted), or a combination
// of them sums to it, or the bounded search for one was cut short. It is
// then not known to be an overpayment.
func (e *engine) excessPaysOther(tx *domain.Transaction, ev *evidence, named []int32, excess domain.Amount) bool {
	var others []int32
	for _, c := range ev.payer {
		for _, n := range e.ix.byCustomer[c] {
			if contains(named, n) || !e.eligible(tx, n) || e.ix.resid[n].Sign() <= 0 {
				continue
			}
			if r := e.ix.resid[n]; r.Equal(excess) || e.withinTolerance(tx.Currency, r, excess) {
				return true
			}
			others = append(others, n)
		}
	}
	sub := *tx
	sub.Amount = excess
	sols, complete := e.combinations(&sub, others, nil)
	return len(sols) > 0 || !complete
}

func (e *engine) ownedByPayer(ev *evidence, items []int32) bool {
	for _, n := range items {
		ok := false
		for _, c := range ev.payer {
			ok = ok || e.ix.items[n].CustomerID == c
		}
		if !ok {
			return false
		}
	}
	return true
}

// namedSubset finds the unique non-empty subset of items (at most 12,
// credit notes allowed) whose residuals sum to target.
func (e *engine) namedSubset(items []int32, target domain.Amount) ([]int32, bool) {
	var sol []int32
	count := 0
	for mask := 1; mask < 1<<len(items); mask++ {
		var s domain.Amount
		pos := false
		for b, n := range items {
			if mask&(1<<b) != 0 {
				s = s.Add(e.ix.resid[n])
				pos = pos || e.ix.resid[n].Sign() > 0
			}
		}
		if pos && s.Equal(target) {
			count++
			if count > 1 {
				return nil, false
			}
			sol = sol[:0]
			for b, n := range items {
				if mask&(1<<b) != 0 {
					sol = append(sol, n)
				}
			}
		}
	}
	return sol, count == 1
}

// claimedByOther reports whether item n is designated by the text of
// another transaction of this run (and not by this one's): inferred
// allocations (same amount, combinations, the rest of a payment) leave it
// to the payment that names it.
func (e *engine) claimedByOther(ev *evidence, n int32) bool {
	return e.claimed[n] > 0 && !ev.designates(n)
}

// heldLoosely reports whether item n is designated by the text of another
// transaction only approximately (one character away from its number):
// it is not taken by this payment's inferred allocation, but it may be
// the one meant, so its presence rules out certainty.
func (e *engine) heldLoosely(ev *evidence, n int32) bool {
	return e.claimedByOther(ev, n) && e.claimedExact[n] == 0
}

func (e *engine) unclaimed(ev *evidence, items []int32) []int32 {
	var out []int32
	for _, n := range items {
		if !e.claimedByOther(ev, n) {
			out = append(out, n)
		}
	}
	return out
}

// payerSituation is the situation of a payer identified by IBAN, learned
// IBAN, equal name or similar name, with one open item of the amount.
func payerSituation(ev *evidence) string {
	switch {
	case len(ev.ibanCust) > 0 && !ev.ibanLearned:
		return sitPayerIBAN
	case len(ev.ibanCust) > 0:
		return sitPayerLearned
	case len(ev.names) > 0 && ev.names[0].score == 1:
		return sitPayerNameEqual
	}
	return sitPayerNameLike
}

func (e *engine) isPayer(ev *evidence, customer string) bool {
	i := sort.SearchStrings(ev.payer, customer)
	return i < len(ev.payer) && ev.payer[i] == customer
}

// rulePayer letters on an identified payer (IBAN or name) and the amount:
// one open item of that amount, the oldest of several equal ones, one
// within tolerance, or a combination of the customer's items. When the
// remittance names, as written, open documents the allocation does not
// take, the decision is in a situation of its own (sitPayerTextOther),
// below the automatic threshold by default.
func (e *engine) rulePayer(tx *domain.Transaction, ev *evidence) (domain.Decision, bool) {
	d, ok := e.payerDecision(tx, ev)
	if len(ev.r().longer) > 0 && !e.payerHasExact(tx, ev) {
		// no open item of exactly the amount for the customers the payer's
		// name designates: one of a customer whose longer name it may be
		// cut from is better evidence than a tolerance or a combination
		if c, cok := e.payerLonger(tx, ev); cok {
			return c, true
		}
	}
	if ok && d.Outcome == domain.Auto && e.textNamesOthers(ev, d.Allocations) {
		d.Situation = sitPayerTextOther
		d.Confidence = confidenceOf(d.Situation)
		d.Explanation += "; but the remittance names another document"
	} else if ok && d.Outcome == domain.Auto {
		if n, named := e.namesSettledOfPayer(tx, ev); named {
			// the payer may be paying that invoice a second time
			d.Situation = sitPayerTextOther
			d.Confidence = confidenceOf(d.Situation)
			d.Explanation += fmt.Sprintf("; but the remittance names %s, already settled (paid twice?)", e.doc(n))
		}
	}
	return d, ok
}

// namesSettledOfPayer reports whether the remittance names (by a valid
// reference or its number, with or without the zeros of its groups) an
// item of the payer's customers, in the payment's currency, that is
// settled already, and which.
func (e *engine) namesSettledOfPayer(tx *domain.Transaction, ev *evidence) (int32, bool) {
	settled := func(n int32) bool {
		it := e.ix.items[n]
		return it.Currency == tx.Currency && !e.openFor(tx, n) && e.isPayer(ev, it.CustomerID)
	}
	for _, r := range ev.refs {
		if r.valid && settled(r.item) {
			return r.item, true
		}
	}
	for _, d := range ev.docs {
		if settled(d.item) {
			return d.item, true
		}
	}
	return -1, false
}

// payerHasExact reports whether the payer's customers have an open item of
// exactly the amount that no other payment's text designates.
func (e *engine) payerHasExact(tx *domain.Transaction, ev *evidence) bool {
	for _, n := range e.ix.byAmount.get(ev.akey) {
		if e.isPayer(ev, e.ix.items[n].CustomerID) && e.eligible(tx, n) && e.ix.resid[n].Equal(tx.Amount) &&
			!e.claimedByOther(ev, n) {
			return true
		}
	}
	return false
}

// payerLonger decides on the customers whose longer names the payer's
// name may be cut from (ev.r().longer) when they have open items of exactly
// the amount: one item of a customer whose name is similar enough to
// identify it (strongName) is lettered; anything else, or one of a
// customer too unlike to be identified, is suggested. ok is false when
// none of them has such an item.
func (e *engine) payerLonger(tx *domain.Transaction, ev *evidence) (domain.Decision, bool) {
	if len(ev.r().longer) == 0 || len(ev.ibanCust) > 0 {
		return domain.Decision{}, false
	}
	var exact []int32
	strong := true
	for _, m := range ev.r().longer {
		for _, n := range e.ix.byAmount.get(ev.akey) {
			if e.ix.items[n].CustomerID == m.customer && e.eligible(tx, n) && e.ix.resid[n].Equal(tx.Amount) &&
				!e.claimedByOther(ev, n) {
				exact = append(exact, n)
				strong = strong && m.score >= strongName
			}
		}
	}
	if len(exact) == 0 {
		return domain.Decision{}, false
	}
	amt := fmtAmount(tx.Amount, tx.Currency)
	cust := e.ix.items[exact[0]].CustomerID
	if len(exact) == 1 && strong {
		n := exact[0]
		allocs := []domain.Allocation{{ItemID: e.ix.items[n].ID, Amount: tx.Amount}}
		why := fmt.Sprintf("%s, which has no open item of %s, or cut from the longer name of %s; %s is its only open item of %s",
			ev.payerHow, amt, cust, e.doc(n), amt)
		return e.auto(RulePayerAmount, sitPayerNameLike, allocs, domain.Amount{}, why), true
	}
	return domain.Decision{Outcome: domain.Suggested, Rule: RulePayerAmount, Reason: domain.ReasonAmbiguousCustomers,
		Candidates: e.itemCandidates(exact, 0.6),
		Explanation: fmt.Sprintf("%s, which has no open item of %s; the name may be cut from the longer name of %s, with %s of %s",
			ev.payerHow, amt, cust, e.docList(exact), amt)}, true
}

// payerDecision is rulePayer's decision before the text is checked: the
// payer's only open item of exactly the amount, or one of several
// (payerSameAmount); else, when no other payment's text holds one, a
// combination of the payer's items (payerCombination) or one item within
// tolerance (payerTolerance).
func (e *engine) payerDecision(tx *domain.Transaction, ev *evidence) (domain.Decision, bool) {
	if len(ev.payer) == 0 {
		return domain.Decision{}, false
	}
	var exact []int32
	for _, n := range e.ix.byAmount.get(ev.akey) {
		if e.isPayer(ev, e.ix.items[n].CustomerID) && e.eligible(tx, n) && e.ix.resid[n].Equal(tx.Amount) &&
			!e.claimedByOther(ev, n) {
			exact = append(exact, n)
		}
	}
	amt := fmtAmount(tx.Amount, tx.Currency)
	if len(exact) == 1 {
		n := exact[0]
		allocs := []domain.Allocation{{ItemID: e.ix.items[n].ID, Amount: tx.Amount}}
		why := fmt.Sprintf("%s; %s is its only open item of %s", ev.payerHow, e.doc(n), amt)
		return e.auto(RulePayerAmount, payerSituation(ev), allocs, domain.Amount{}, why), true
	}
	if len(exact) > 1 {
		return e.payerSameAmount(tx, ev, exact, amt), true
	}
	// an open item of exactly the amount that another payment's text
	// designates is not taken here, but it may be the one meant: nothing
	// else (a combination, a tolerance) is certain then
	if held := e.claimedOfPayer(tx, ev, func(n int32) bool { return e.ix.resid[n].Equal(tx.Amount) }); len(held) > 0 {
		return e.heldSuggestion(ev, held, RulePayerAmount, domain.ReasonSameAmount, fmt.Sprintf("%s of %s", e.docList(held), amt)), true
	}
	pc := e.payerCombos(tx, ev)
	if pc.customers > 1 {
		var all []int32
		for _, s := range pc.combos {
			all = append(all, s.items...)
		}
		return domain.Decision{Outcome: domain.Suggested, Rule: RuleCombination, Reason: domain.ReasonAmbiguousCustomers,
			Candidates:  e.itemCandidates(all, 0.5),
			Explanation: fmt.Sprintf("%s; items of several customers combine to %s", ev.payerHow, amt)}, true
	}
	if len(pc.combos) == 0 {
		// no exact combination: one item a little above, within tolerance
		return e.payerTolerance(tx, ev, amt)
	}
	return e.payerCombination(tx, ev, pc, amt), true
}

// payerSameAmount decides among several open items of the payer's of
// exactly the amount (exact): customers that nothing separates are
// suggested; one the remittance nearly names (a typo, or the number
// without its prefix and zeros) is lettered; else the oldest due is
// lettered (Config.SameAmount "oldest") or all are suggested. amt is the
// amount as explanations show it.
func (e *engine) payerSameAmount(tx *domain.Transaction, ev *evidence, exact []int32, amt string) domain.Decision {
	custs := map[string]bool{}
	for _, n := range exact {
		custs[e.ix.items[n].CustomerID] = true
	}
	if len(custs) > 1 {
		return domain.Decision{Outcome: domain.Suggested, Rule: RulePayerAmount, Reason: domain.ReasonAmbiguousCustomers,
			Candidates:  e.itemCandidates(exact, 0.6),
			Explanation: fmt.Sprintf("%s; %d customers have an open item of %s and nothing separates them", ev.payerHow, len(custs), amt)}
	}
	// a typo'd document number, or one written without its prefix and
	// zeros, may tell them apart
	var typo []int32
	for _, n := range exact {
		if _, ok := e.typoMatch(ev, n); ok || contains(ev.r().digits, n) {
			typo = append(typo, n)
		}
	}
	if len(typo) == 1 {
		n := typo[0]
		allocs := []domain.Allocation{{ItemID: e.ix.items[n].ID, Amount: tx.Amount}}
		why := fmt.Sprintf("%s; of %d open items of %s, the remittance nearly names %s", ev.payerHow, len(exact), amt, e.doc(n))
		return e.auto(RuleSameAmount, sitSameTypo, allocs, domain.Amount{}, why)
	}
	sort.SliceStable(exact, func(a, b int) bool { return e.ix.older(exact[a], exact[b]) })
	if e.cfg.SameAmount != "oldest" {
		return domain.Decision{Outcome: domain.Suggested, Rule: RuleSameAmount, Reason: domain.ReasonSameAmount,
			Candidates:  e.itemCandidates(exact, 0.6),
			Explanation: fmt.Sprintf("%s; %d open items of %s and nothing tells them apart", ev.payerHow, len(exact), amt)}
	}
	n := exact[0]
	allocs := []domain.Allocation{{ItemID: e.ix.items[n].ID, Amount: tx.Amount}}
	why := fmt.Sprintf("%s; %d open items of %s and nothing tells them apart: the oldest due (%s, due %s) is lettered first",
		ev.payerHow, len(exact), amt, e.doc(n), e.ix.items[n].DueDate.Format("2006-01-02"))
	return e.auto(RuleSameAmount, sitSameOldest, allocs, domain.Amount{}, why)
}

// payerCombos are the combinations of the payer's open items that sum to
// a payment (payerCombos).
type payerCombos struct {
	combos    []combo
	customers int  // how many of the payer's customers have one
	complete  bool // no bound cut a search short
	// hidden is true when combinations taking items other payments'
	// texts nearly name were left out (claimsHideCombos)
	hidden bool
}

// payerCombos searches, per customer of the payer, the combinations of
// its open items that no other payment's text designates (the items the
// text supports taken first).
func (e *engine) payerCombos(tx *domain.Transaction, ev *evidence) payerCombos {
	pc := payerCombos{complete: true}
	prefer := func(n int32) bool { return e.textSupports(ev, n) }
	for _, c := range ev.payer {
		var free, all []int32
		for _, n := range e.ix.byCustomer[c] {
			if !e.claimedByOther(ev, n) {
				free = append(free, n)
				all = append(all, n)
			} else if e.heldLoosely(ev, n) {
				all = append(all, n)
			}
		}
		sols, done := e.combinations(tx, free, prefer)
		pc.complete = pc.complete && done
		if len(sols) > 0 {
			pc.customers++
			pc.combos = append(pc.combos, sols...)
			pc.hidden = pc.hidden || e.claimsHideCombos(tx, all, free, len(sols))
		}
	}
	return pc
}

// payerTolerance letters the one open item of the payer's whose residual
// is within tolerance of the amount (or the oldest due of several of one
// customer with one residual, Config.SameAmount "oldest"); items other
// payments nearly name make it a suggestion. ok is false when there is
// none, or several that are not alike. amt is the amount as explanations
// show it.
func (e *engine) payerTolerance(tx *domain.Transaction, ev *evidence, amt string) (domain.Decision, bool) {
	var near []int32
	for _, c := range ev.payer {
		for _, n := range e.ix.byCustomer[c] {
			if e.eligible(tx, n) && e.withinTolerance(tx.Currency, e.ix.resid[n], tx.Amount) && !e.claimedByOther(ev, n) {
				near = append(near, n)
			}
		}
	}
	if len(near) == 0 {
		return domain.Decision{}, false
	}
	if held := e.claimedOfPayer(tx, ev, func(n int32) bool {
		return e.withinTolerance(tx.Currency, e.ix.resid[n], tx.Amount)
	}); len(held) > 0 {
		return e.heldSuggestion(ev, append(near, held...), RuleTolerance, domain.ReasonAmountMismatch,
			fmt.Sprintf("%s within tolerance of %s", e.docList(held), amt)), true
	}
	tol, oldest := sitTolerance, ""
	if payerSituation(ev) == sitPayerNameLike {
		tol = sitToleranceLike
	}
	if len(near) > 1 {
		// several of one customer with one residual (recurring
		// invoices): the oldest first, as for exact amounts
		for _, n := range near[1:] {
			if e.ix.items[n].CustomerID != e.ix.items[near[0]].CustomerID || !e.ix.resid[n].Equal(e.ix.resid[near[0]]) {
				return domain.Decision{}, false
			}
		}
		if e.cfg.SameAmount != "oldest" {
			return domain.Decision{}, false
		}
		sort.SliceStable(near, func(a, b int) bool { return e.ix.older(near[a], near[b]) })
		near = near[:1]
		tol, oldest = sitToleranceOld, "; the oldest due of its open items of that residual"
	}
	allocs, excess, k := e.settle(tx, near)
	why := fmt.Sprintf("%s; %s: %s%s", ev.payerHow, e.doc(near[0]), e.describeSettle(tx, near, allocs, excess, k), oldest)
	return e.auto(RuleTolerance, tol, allocs, excess, why), true
}

// payerCombination letters the combination of one customer's items that
// chooseCombination picks; when it picks none, or when combinations with
// items other payments nearly name were left out (pc.hidden), it suggests
// one: the one the text supports best, else the one due oldest. amt is
// the amount as explanations show it.
func (e *engine) payerCombination(tx *domain.Transaction, ev *evidence, pc payerCombos, amt string) domain.Decision {
	pick, csit, why := e.chooseCombination(ev, pc.combos, pc.complete)
	var show []int32
	if pick != nil && pc.hidden {
		// the combinations found are not all: others take items the texts
		// of other payments designate, and one of them may be the one meant
		// (the accountant sees the one the text supports best, if any)
		pick, why = nil, fmt.Sprintf("%d combinations of its open items fit the amount, and more with items other payments nearly name", len(pc.combos))
		var all []combo
		for _, c := range ev.payer {
			var items []int32
			for _, n := range e.ix.byCustomer[c] {
				if !e.claimedByOther(ev, n) || e.heldLoosely(ev, n) {
					items = append(items, n)
				}
			}
			sols, _ := e.combinations(tx, items, func(n int32) bool { return e.textSupports(ev, n) })
			all = append(all, sols...)
		}
		if best, _, _ := e.chooseCombination(ev, all, true); best != nil {
			show = best
		}
	}
	if pick == nil {
		// the accountant sees the combination due oldest first
		if show == nil {
			show = pc.combos[0].items
			for _, c := range pc.combos[1:] {
				if e.olderSet(c.items, show) {
					show = c.items
				}
			}
		}
		return domain.Decision{Outcome: domain.Suggested, Rule: RuleCombination, Reason: domain.ReasonAmbiguousCombo,
			Candidates:  e.itemCandidates(show, 0.5),
			Explanation: fmt.Sprintf("%s; %s", ev.payerHow, why)}
	}
	sort.Slice(pick, func(a, b int) bool { return e.ix.older(pick[a], pick[b]) })
	allocs, excess, _ := e.settle(tx, pick)
	return e.auto(RuleCombination, csit, allocs, excess,
		fmt.Sprintf("%s; amount %s = %s (%s)", ev.payerHow, amt, e.docList(pick), why))
}

// claimedOfPayer lists the eligible open items of the payer's customers
// that fit (by their residual) and that another payment's text designates
// only approximately (heldLoosely).
func (e *engine) claimedOfPayer(tx *domain.Transaction, ev *evidence, fit func(int32) bool) []int32 {
	var out []int32
	for _, c := range ev.payer {
		for _, n := range e.ix.byCustomer[c] {
			if e.heldLoosely(ev, n) && e.eligible(tx, n) && fit(n) {
				out = append(out, n)
			}
		}
	}
	return out
}

// heldSuggestion suggests items of the payer when open items another
// payment's text designates (described by what) also fit the amount.
func (e *engine) heldSuggestion(ev *evidence, items []int32, rule, reason, what string) domain.Decision {
	return domain.Decision{Outcome: domain.Suggested, Rule: rule, Reason: reason,
		Candidates:  e.itemCandidates(items, 0.5),
		Explanation: fmt.Sprintf("%s; %s fits too but another payment's remittance nearly names it", ev.payerHow, what)}
}

// claimsHideCombos reports whether items of one customer (all) that other
// payments' texts designate only approximately, left out of free, make
// combinations of the amount that the search over free (found of them)
// did not see.
func (e *engine) claimsHideCombos(tx *domain.Transaction, all, free []int32, found int) bool {
	if len(free) == len(all) {
		return false
	}
	sols, done := e.combinations(tx, all, nil)
	return !done || len(sols) > found
}

// textSupports reports whether the remittance names item n: its document
// number, as written or with leading zeros dropped, or with one wrong
// character.
func (e *engine) textSupports(ev *evidence, n int32) bool {
	for _, d := range ev.docs {
		if d.item == n {
			return true
		}
	}
	if contains(ev.r().digits, n) {
		return true
	}
	_, ok := e.typoMatch(ev, n)
	return ok
}

// chooseCombination picks among the combinations of one customer's open
// items that pay the amount (combos, from a search that finished when
// complete): the only one; else the one the remittance text supports best
// (names most of its items); else, when Config.SameAmount is "oldest", the
// oldest due — compared as the lists of their items' due dates sorted
// oldest first, lexicographically (then issue dates, then ids: olderSet) —
// among those the text supports best when it supports several equally.
// It returns the items, the situation and why; nil items when it cannot
// choose. Different customers never reach it (rulePayer suggests them).
func (e *engine) chooseCombination(ev *evidence, combos []combo, complete bool) ([]int32, string, string) {
	if !complete {
		// The bounded search was cut short (too many items, solutions or
		// nodes): combinations it did not reach may fit too, and one of
		// them may be the text's or older. "The only", "the text's" or
		// "the oldest" among those found would be an artefact of the
		// search order and its bounds, not of the data: suggest.
		return nil, "", fmt.Sprintf("%d combinations of its open items fit the amount and the bounded search for more was cut short",
			len(combos))
	}
	if len(combos) == 1 && !combos[0].choice {
		return combos[0].items, sitComboOnly, "the only combination of its open items"
	}
	support := func(c combo) int {
		k := 0
		for _, n := range c.items {
			if e.textSupports(ev, n) {
				k++
			}
		}
		return k
	}
	var best []combo
	bestK := 0
	for _, c := range combos {
		switch k := support(c); {
		case k > bestK:
			best, bestK = []combo{c}, k
		case k == bestK && k > 0:
			best = append(best, c)
		}
	}
	if len(best) == 1 {
		return best[0].items, sitComboText, "the combination the remittance text supports"
	}
	pool, text := combos, ""
	if len(best) > 1 {
		pool, text = best, fmt.Sprintf("the remittance names items of %d of them equally", len(best))
	}
	if e.cfg.SameAmount != "oldest" {
		if len(pool) == 1 {
			return nil, "", "several open items of equal amounts could make the combination and nothing tells them apart"
		}
		if text != "" {
			return nil, "", fmt.Sprintf("%d combinations of its open items fit the amount and %s", len(combos), text)
		}
		return nil, "", fmt.Sprintf("%d combinations of its open items fit the amount and nothing tells them apart", len(combos))
	}
	if len(pool) == 1 {
		return pool[0].items, sitComboEqual, "several combinations of equal amounts: the oldest due are lettered first"
	}
	oldest := pool[0].items
	for _, c := range pool[1:] {
		if e.olderSet(c.items, oldest) {
			oldest = c.items
		}
	}
	why := fmt.Sprintf("%d combinations of its open items fit the amount and nothing tells them apart: the one due oldest is lettered first", len(pool))
	if text != "" {
		why = fmt.Sprintf("%d combinations of its open items fit the amount, %s: the one due oldest is lettered first", len(combos), text)
	}
	return oldest, sitComboOldest, why
}

// olderSet compares two item sets by their due dates, oldest first.
func (e *engine) olderSet(a, b []int32) bool {
	x := append([]int32(nil), a...)
	y := append([]int32(nil), b...)
	sort.Slice(x, func(i, j int) bool { return e.ix.older(x[i], x[j]) })
	sort.Slice(y, func(i, j int) bool { return e.ix.older(y[i], y[j]) })
	for i := 0; i < len(x) && i < len(y); i++ {
		if x[i] != y[i] {
			return e.ix.older(x[i], y[i])
		}
	}
	return len(x) < len(y)
}

// ruleTypo letters an unknown or known payer's payment whose remittance
// names a document number with one wrong character, when exactly one open
// item of exactly that amount has it.
func (e *engine) ruleTypo(tx *domain.Transaction, ev *evidence) (domain.Decision, bool) {
	// a number found as written rules typos out; one found only with its
	// leading zeros dropped may be a typo's accidental neighbour
	if ev.strongDoc() || len(ev.r().typos) == 0 {
		return domain.Decision{}, false
	}
	var hits []int32
	var text string
	for _, n := range ev.r().typos {
		if !e.eligible(tx, n) || !e.ix.resid[n].Equal(tx.Amount) {
			continue
		}
		g, _ := e.typoMatch(ev, n)
		hits = append(hits, n)
		text = g
	}
	if len(hits) != 1 {
		return domain.Decision{}, false
	}
	n := hits[0]
	sit := sitTypo
	why := fmt.Sprintf("%s in remittance is one character away from %s; amount %s = residual confirms it",
		text, e.doc(n), fmtAmount(tx.Amount, tx.Currency))
	if e.payerContradicts(ev, hits) {
		sit = sitTypoOtherPayer
		why += "; paid from an account of another customer"
	}
	return e.auto(RuleDocTypo, sit, []domain.Allocation{{ItemID: e.ix.items[n].ID, Amount: tx.Amount}}, domain.Amount{}, why), true
}

// ruleCut letters a payment whose remittance ends with a document number
// cut at a 35/140-character boundary when exactly one open item whose
// number starts so has exactly the amount.
func (e *engine) ruleCut(tx *domain.Transaction, ev *evidence) (domain.Decision, bool) {
	if len(ev.r().cut) == 0 || ev.strongDoc() {
		return domain.Decision{}, false
	}
	var hits []int32
	for _, n := range ev.r().cut {
		if e.eligible(tx, n) && e.ix.resid[n].Equal(tx.Amount) {
			hits = append(hits, n)
		}
	}
	if len(hits) != 1 {
		return domain.Decision{}, false
	}
	n := hits[0]
	why := fmt.Sprintf("remittance cut at %d characters ends with %s…; of the documents starting so, only %s has residual %s = amount",
		utf8.RuneCountInString(tx.Unstructured[len(tx.Unstructured)-1]), ev.r().cutText, e.doc(n), fmtAmount(tx.Amount, tx.Currency))
	sit := sitCut
	if e.payerContradicts(ev, hits) {
		sit = sitCutOtherPayer
		why += "; paid from an account of another customer"
	}
	return e.auto(RuleDocCut, sit, []domain.Allocation{{ItemID: e.ix.items[n].ID, Amount: tx.Amount}}, domain.Amount{}, why), true
}

// itemCandidates lists items as candidates with one score, oldest first.
func (e *engine) itemCandidates(items []int32, score float64) []domain.Candidate {
	list := append([]int32(nil), items...)
	sort.SliceStable(list, func(a, b int) bool { return e.ix.older(list[a], list[b]) })
	var out []domain.Candidate
	seen := map[int32]bool{}
	for _, n := range list {
		if seen[n] || len(out) >= e.cfg.MaxCandidates {
			continue
		}
		seen[n] = true
		out = append(out, domain.Candidate{ItemID: e.ix.items[n].ID, CustomerID: e.ix.items[n].CustomerID, Score: score})
	}
	return out
}

// maxPayerCandidates bounds the items of an identified payer scored as
// candidates.
const maxPayerCandidates = 50

// candidates scores the items any evidence points to, for exceptions.
func (e *engine) candidates(tx *domain.Transaction, ev *evidence) []domain.Candidate {
	score := map[int32]float64{}
	bump := func(n int32, s float64) {
		if e.eligible(tx, n) {
			score[n] += s
		}
	}
	for _, r := range ev.refs {
		if r.valid {
			bump(r.item, 0.6)
		} else {
			bump(r.item, 0.4)
		}
	}
	for _, d := range ev.docs {
		bump(d.item, 0.45)
	}
	for _, c := range ev.payer {
		for k, n := range e.ix.byCustomer[c] {
			if k >= maxPayerCandidates {
				break
			}
			bump(n, 0.2)
		}
	}
	for _, m := range ev.names {
		if m.score < 0.5 || m.score >= strongName {
			continue
		}
		for k, n := range e.ix.byCustomer[m.customer] {
			if k >= maxPayerCandidates {
				break
			}
			bump(n, 0.15*m.score)
		}
	}
	for _, n := range e.ix.byAmount.get(ev.akey) {
		if e.ix.resid[n].Equal(tx.Amount) {
			bump(n, 0.1)
			if _, ok := e.typoMatch(ev, n); ok && !ev.strongDoc() {
				bump(n, 0.25)
			}
		}
	}
	// the amount confirms whatever else points to an item
	for n := range score {
		switch {
		case e.ix.resid[n].Equal(tx.Amount):
			score[n] += 0.2
		case e.withinTolerance(tx.Currency, e.ix.resid[n], tx.Amount):
			score[n] += 0.15
		case e.ix.resid[n].Cmp(tx.Amount) > 0:
			score[n] += 0.05
		}
	}
	list := make([]int32, 0, len(score))
	for n, s := range score {
		if s >= e.cfg.SuggestThreshold {
			list = append(list, n)
		}
	}
	sort.Slice(list, func(a, b int) bool {
		sa, sb := score[list[a]], score[list[b]]
		if sa != sb {
			return sa > sb
		}
		return e.ix.older(list[a], list[b])
	})
	var out []domain.Candidate
	for _, n := range list {
		if len(out) >= e.cfg.MaxCandidates {
			break
		}
		s := score[n]
		if s > 0.99 {
			s = 0.99
		}
		out = append(out, domain.Candidate{ItemID: e.ix.items[n].ID, CustomerID: e.ix.items[n].CustomerID, Score: round2(s)})
	}
	return out
}

func round2(f float64) float64 { return float64(int(f*100+0.5)) / 100 }

// learn returns the payer facts a confident automatic decision teaches.
func (e *engine) learn(tx *domain.Transaction, ev *evidence, d domain.Decision) []Learning {
	if !learnsFrom(d) {
		return nil
	}
	cust := ""
	for _, a := range d.Allocations {
		n := e.itemByID(a.ItemID)
		if n < 0 {
			return nil
		}
		c := e.ix.items[n].CustomerID
		if cust != "" && c != cust {
			return nil
		}
		cust = c
	}
	if cust == "" {
		return nil
	}
	var out []Learning
	// learn only what is new and uncontested: an IBAN or a name already
	// known for another customer (a third party paying) is not re-learned
	if ev.iban != "" {
		if len(ev.ibanCust) == 0 {
			out = append(out, Learning{Kind: "iban", Value: ev.iban, CustomerID: cust})
		}
	}
	if name := NormaliseName(tx.Counterparty.Name); name != "" {
		known := false
		for _, m := range ev.names {
			known = known || m.score >= strongName
		}
		if !known {
			out = append(out, Learning{Kind: "name", Value: name, CustomerID: cust})
		}
	}
	return out
}
