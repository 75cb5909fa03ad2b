package matcher

import (
	"fmt"
	"strings"

	"github.com/lettrage/lettrage/domain"
)

// Situations of cross-currency letters (Config.FX).
const (
	sitRefFXExact     = "reference/fx_exact"     // valid reference, instructed amount = residual(s)
	sitRefFXTolerance = "reference/fx_tolerance" // valid reference, instructed within the FX tolerance
	sitRefFXPartial   = "reference/fx_partial"   // valid reference, instructed below the residual of one item
	sitDocFXExact     = "document/fx_exact"      // documents named, instructed amount = residual(s)
	sitDocFXTolerance = "document/fx_tolerance"  // documents named, instructed within the FX tolerance
)

// fxRule returns the FX rule letting items in itemCcy be lettered by cash
// in cashCcy, nil when none is configured.
func (e *engine) fxRule(itemCcy, cashCcy string) *FXRule {
	if itemCcy == cashCcy {
		return nil
	}
	for i := range e.cfg.FX {
		r := &e.cfg.FX[i]
		if r.ItemCurrency == itemCcy && r.CashCurrency == cashCcy {
			return r
		}
	}
	return nil
}

// fxOpen reports whether item n is in another currency than tx, an FX rule
// lets tx letter it, and it is still open.
func (e *engine) fxOpen(tx *domain.Transaction, n int32) bool {
	return e.fxRule(e.ix.items[n].Currency, tx.Currency) != nil && e.openFor(tx, n)
}

// fxDecision letters items (open, in one other currency with an FX rule)
// named by tx's text (how says so: "RF… valid and equal to the payment
// reference of FA-…", "FA-… found in remittance") with the instructed amount the bank
// gave in the items' currency: equal to their residuals, within the rule's
// tolerance (the items close), or below the residual of a single item (a
// partial payment). Anything else is a currency_mismatch suggestion saying
// why. Allocation.Amount is the cash, split over several items in
// proportion to their residuals; ItemAmount is what each settles.
func (e *engine) fxDecision(tx *domain.Transaction, items []int32, rule, how string) domain.Decision {
	ccy := e.ix.items[items[0]].Currency
	suggest := func(why string) domain.Decision {
		return domain.Decision{Outcome: domain.Suggested, Rule: rule, Reason: domain.ReasonCurrencyMismatch,
			Candidates: e.itemCandidates(items, 0.5), Explanation: why}
	}
	for _, n := range items[1:] {
		if e.ix.items[n].Currency != ccy {
			return suggest(fmt.Sprintf("%s, invoiced in several currencies, paid in %s", how, tx.Currency))
		}
	}
	var total domain.Amount
	for _, n := range items {
		if e.ix.resid[n].Sign() < 0 {
			return suggest(fmt.Sprintf("%s, invoiced in %s with a credit note, paid in %s: netted across currencies by an accountant",
				how, ccy, tx.Currency))
		}
		total = total.Add(e.ix.resid[n])
	}
	what := "residual of " + e.docList(items)
	if len(items) > 1 {
		what = "sum of residuals of " + e.docList(items)
	}
	if tx.Conversion == nil || tx.InstructedCurrency != ccy || tx.Instructed.Sign() <= 0 {
		return suggest(fmt.Sprintf("%s, invoiced in %s, paid in %s: an FX rule %s→%s is configured but the bank gave no instructed amount in %s",
			how, ccy, tx.Currency, ccy, tx.Currency, ccy))
	}
	received := fmt.Sprintf("%s %s received", tx.Currency, fmtAmount(tx.Amount, tx.Currency))
	if tx.ExchangeRate != "" {
		received += ", rate " + tx.ExchangeRate + " from the bank"
	}
	head := fmt.Sprintf("%s; %s %s instructed (%s)", how, ccy, fmtAmount(tx.Instructed, ccy), received)
	diff := tx.Instructed.Sub(total)
	exactSit, tolSit := sitRefFXExact, sitRefFXTolerance
	if rule == RuleDocument {
		exactSit, tolSit = sitDocFXExact, sitDocFXTolerance
	}
	switch {
	case diff.IsZero():
		return e.auto(rule, exactSit, e.fxSplit(tx, items, total), domain.Amount{}, fmt.Sprintf("%s = %s", head, what))
	case e.withinFX(ccy, tx.Currency, total, diff):
		why := fmt.Sprintf("%s, %s %s off the %s (%s %s): within the FX tolerance, the item closes",
			head, ccy, fmtAmount(diff.Abs(), ccy), what, ccy, fmtAmount(total, ccy))
		if len(items) > 1 {
			why = strings.TrimSuffix(why, "the item closes") + "the items close"
		}
		return e.auto(rule, tolSit, e.fxSplit(tx, items, total), domain.Amount{}, why)
	case diff.Sign() < 0 && len(items) == 1 && rule == RuleReference:
		n := items[0]
		allocs := []domain.Allocation{{ItemID: e.ix.items[n].ID, Amount: tx.Amount, ItemAmount: tx.Instructed, ItemCurrency: ccy}}
		why := fmt.Sprintf("%s: partial payment of the %s (%s %s), %s %s stays open",
			head, what, ccy, fmtAmount(total, ccy), ccy, fmtAmount(diff.Neg(), ccy))
		return e.auto(rule, sitRefFXPartial, allocs, domain.Amount{}, why)
	}
	return suggest(fmt.Sprintf("%s, not the %s (%s %s)", head, what, ccy, fmtAmount(total, ccy)))
}

// withinFX reports whether the instructed amount differs from total (diff,
// either way) by at most the FX rule's TolerancePercent of total.
func (e *engine) withinFX(itemCcy, cashCcy string, total, diff domain.Amount) bool {
	r := e.fxRule(itemCcy, cashCcy)
	if r == nil || r.TolerancePercent.Sign() <= 0 {
		return false
	}
	lim := total.Abs().Percent(r.TolerancePercent, domain.CurrencyDigits(itemCcy))
	return lim.Sign() > 0 && diff.Abs().Cmp(lim) <= 0
}

// fxSplit allocates the whole cash of tx over items that close (their
// residuals sum to total, in the items' currency): each settles its
// residual, and the cash is split in proportion, rounded to the cash
// currency's digits, the last item taking what rounding left.
func (e *engine) fxSplit(tx *domain.Transaction, items []int32, total domain.Amount) []domain.Allocation {
	ccy := e.ix.items[items[0]].Currency
	allocs := make([]domain.Allocation, 0, len(items))
	left := tx.Amount
	for k, n := range items {
		r := e.ix.resid[n]
		cash := left
		if k < len(items)-1 {
			cash = domain.AmountFromDecimal(tx.Amount.Decimal().Mul(r.Decimal()).Div(total.Decimal()).RoundBank(domain.CurrencyDigits(tx.Currency)))
			left = left.Sub(cash)
		}
		allocs = append(allocs, domain.Allocation{ItemID: e.ix.items[n].ID, Amount: cash, ItemAmount: r, ItemCurrency: ccy})
	}
	return allocs
}

// ruleDocumentFX letters, with an FX rule, the open items in another
// currency whose document numbers the remittance names, when no item in
// the payment's currency is named. A number found only with its leading
// zeros dropped names an item in another currency only when the bank gave
// an instructed amount in that currency: without one it is as likely a
// typo'd or cut number of the payment's currency (FA-2025-0007688 is
// FA-2025-7688 loosely), left to the typo, cut and payer rules.
func (e *engine) ruleDocumentFX(tx *domain.Transaction, ev *evidence) (domain.Decision, bool) {
	if len(e.cfg.FX) == 0 {
		return domain.Decision{}, false
	}
	var named []int32
	for _, d := range ev.docs {
		ccy := e.ix.items[d.item].Currency
		if d.loose && tx.FX().InstructedCurrency != ccy {
			continue
		}
		if !contains(named, d.item) && ccy != tx.Currency && e.fxOpen(tx, d.item) {
			named = append(named, d.item)
		}
	}
	if len(named) == 0 {
		return domain.Decision{}, false
	}
	return e.fxDecision(tx, named, RuleDocument, e.docList(named)+" found in remittance"), true
}
