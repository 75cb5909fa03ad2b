package gen

import (
	"fmt"
	"slices"
	"strings"

	"github.com/lettrage/lettrage/domain"
)

// The scenarios of this file put the engine in situations whose truth does
// not follow from any of its policies (the oldest due first…): what the
// payer meant is known from how the payment was made.

// groupIBAN: two companies of a group share one IBAN in master data (both
// companies' items list it); a payment from it, without text, pays one
// invoice of one of them. In half of them the other company has an open
// item of exactly that amount too: nothing tells the two customers apart,
// so no automatic letter is right (the truth keeps the invoice meant, for
// the suggestion's first candidate).
func (g *generator) groupIBAN() bool {
	i := g.take(func(it *domain.OpenItem) bool { return isEUR(it) && g.customerOf(it).partner != nil })
	if i < 0 {
		return false
	}
	it := &g.items[i]
	cu := g.customerOf(it)
	holder := cu // the account holder's name is the group company's that opened it
	if cu.partner.id < cu.id {
		holder = cu.partner
	}
	// the trap: the other company owes exactly the amount too (not when
	// the payer has other items of that amount: its own later payments of
	// it would become ambiguous as well)
	trap := false
	if g.rng.IntN(2) == 0 && !g.repeats(i) {
		for _, j := range cu.partner.items {
			o := &g.items[j]
			if !g.used[j] && isEUR(o) && o.Residual.Sign() > 0 {
				o.Amount, o.Residual = it.Residual, it.Residual
				g.used[j] = true // stays open for nobody
				g.amounts["EUR|"+o.Residual.Key()] = true
				trap = true
				break
			}
		}
	}
	tx := g.tx(it.Residual, "EUR")
	tx.Counterparty = domain.Party{IBAN: g.payerIBAN(cu), Name: g.nameVariant(holder.name)}
	t := Truth{Scenario: ScGroupIBAN, Allocations: one(it, it.Residual), Matchable: !trap}
	if !g.oldestOfAmount(i) {
		t.Allocations = g.oldestSame(i)
	}
	g.add(tx, t)
	return true
}

// repeats reports whether the customer of item i has another item of the
// same currency and residual.
func (g *generator) repeats(i int) bool {
	it := &g.items[i]
	for _, j := range g.customerOf(it).items {
		if o := &g.items[j]; j != i && o.Currency == it.Currency && o.Residual.Equal(it.Residual) {
			return true
		}
	}
	return false
}

// thirdParty: a known customer (by its IBAN in master data) pays another
// customer's invoice by its valid structured reference — a parent paying
// for a subsidiary.
func (g *generator) thirdParty() bool {
	i := g.take(func(it *domain.OpenItem) bool { return isEUR(it) && it.PaymentReference != "" })
	if i < 0 {
		return false
	}
	it := &g.items[i]
	owner := g.customerOf(it)
	var payer *customer
	for range 50 {
		c := g.custs[g.rng.IntN(len(g.custs))]
		if c != owner && c != owner.partner && c.ibanKnown {
			payer = c
			break
		}
	}
	if payer == nil {
		g.used[i] = false
		return false
	}
	tx := g.tx(it.Residual, "EUR")
	tx.Counterparty = domain.Party{IBAN: g.payerIBAN(payer), Name: g.nameVariant(payer.name)}
	if g.rng.IntN(4) == 0 {
		tx.Unstructured = []string{"Pour compte de " + owner.name + " ref " + it.PaymentReference}
	} else {
		tx.Structured = []domain.Reference{{Type: "SCOR", Issuer: "ISO", Value: it.PaymentReference}}
	}
	g.add(tx, Truth{Scenario: ScThirdParty, Allocations: one(it, it.Residual), Matchable: true})
	return true
}

// comboText: a payer known by IBAN pays two or three of its invoices; two
// other open items of its own sum to the same amount; the remittance names
// one invoice of the combination paid (as written with noise, or with one
// character doubled), so the text tells the combinations apart. The
// customer pays no other combination (customer.trapped).
func (g *generator) comboText() bool {
	i := g.take(func(it *domain.OpenItem) bool {
		cu := g.customerOf(it)
		return isEUR(it) && cu.ibanKnown && len(cu.items) >= 5 && !cu.combined && !cu.trapped
	})
	if i < 0 {
		return false
	}
	it := &g.items[i]
	cu := g.customerOf(it)
	var free []int
	for _, j := range cu.items {
		o := &g.items[j]
		if j != i && !g.used[j] && isEUR(o) && o.Residual.Sign() > 0 {
			free = append(free, j)
		}
	}
	k := 1 + g.rng.IntN(2) // further invoices paid
	if len(free) < k+2 {
		g.used[i] = false
		return false
	}
	g.rng.Shuffle(len(free), func(a, b int) { free[a], free[b] = free[b], free[a] })
	paid := append([]int{i}, free[:k]...)
	total := domain.Amount{}
	for _, j := range paid {
		total = total.Add(g.items[j].Residual)
	}
	// the other combination: b as it is, a set to the rest of the total
	a, b := free[k], free[k+1]
	rest := mustCents(total) - mustCents(g.items[b].Residual)
	if rest < 1000 {
		a, b = b, a
		rest = mustCents(total) - mustCents(g.items[b].Residual)
	}
	distinct := rest >= 1000
	for _, j := range paid {
		r := mustCents(g.items[j].Residual)
		distinct = distinct && r != rest && r != mustCents(g.items[b].Residual)
	}
	// a single open item of the customer equal to the total would be
	// lettered instead, rightly
	for _, j := range cu.items {
		distinct = distinct && !g.items[j].Residual.Equal(total)
	}
	// another item of the customer owing what a paid one owes would make
	// an equally valid combination the truth cannot tell from this one
	for _, p := range paid {
		for _, j := range cu.items {
			distinct = distinct && (slices.Contains(paid, j) || !g.items[j].Residual.Equal(g.items[p].Residual))
		}
	}
	if !distinct {
		g.used[i] = false
		return false
	}
	text := ""
	if g.rng.IntN(2) == 0 {
		text = g.noisyDoc(it.DocumentNumber) + " et autres"
	} else {
		// the doubled digit must not also be one character away from
		// another of the customer's numbers (FA-2025-3652201 is both
		// 365201 and 365220 with a digit added): the text would name
		// both combinations equally
		bad := typo(it.DocumentNumber, g.rng.IntN(len(it.DocumentNumber)-8))
		for _, j := range cu.items {
			if j != i && oneAdded(bad, g.items[j].DocumentNumber) {
				g.used[i] = false
				return false
			}
		}
		text = "Reglement " + bad + " et suivantes"
	}
	g.items[a].Amount, g.items[a].Residual = domain.AmountFromCents(rest), domain.AmountFromCents(rest)
	g.amounts["EUR|"+g.items[a].Residual.Key()] = true
	alloc := map[string]domain.Amount{}
	for _, j := range paid {
		g.used[j] = true
		alloc[g.items[j].ID] = g.items[j].Residual
	}
	g.used[a], g.used[b] = true, true // the other combination stays open
	cu.trapped = true
	tx := g.tx(total, "EUR")
	tx.Counterparty = domain.Party{IBAN: cu.ibans[0], Name: cu.name}
	tx.Unstructured = []string{text}
	g.add(tx, Truth{Scenario: ScComboText, Allocations: alloc, Matchable: true})
	return true
}

// oneAdded reports whether removing one character of s gives doc.
func oneAdded(s, doc string) bool {
	if len(s) != len(doc)+1 {
		return false
	}
	for k := range s {
		if s[:k]+s[k+1:] == doc {
			return true
		}
	}
	return false
}

// typo doubles the k-th digit of a document number's last part:
// FA-2025-001234 → FA-2025-0012334 (k = 4).
func typo(doc string, k int) string {
	k += 8
	return doc[:k] + doc[k:k+1] + doc[k:]
}

// fxInstructed: an invoice in USD paid into the EUR account: the cash is
// in EUR, AmtDtls/InstdAmt gives the residual in USD with the bank's rate;
// the payment names the invoice by its reference (or, without one, its
// number). The truth allocates the cash and settles the residual in USD.
func (g *generator) fxInstructed() bool {
	i := g.take(func(it *domain.OpenItem) bool { return it.Currency == "USD" })
	if i < 0 {
		return false
	}
	it := &g.items[i]
	rate := 8500 + g.rng.IntN(1000) // EUR per USD, × 10,000
	cash := domain.AmountFromCents((mustCents(it.Residual)*int64(rate) + 5000) / 10000)
	tx := g.tx(cash, "EUR")
	tx.Conversion = &domain.Conversion{Instructed: it.Residual, InstructedCurrency: "USD", ExchangeRate: fmt.Sprintf("0.%04d", rate)}
	tx.Counterparty = domain.Party{Name: g.nameVariant(g.customerOf(it).name)}
	if it.PaymentReference != "" {
		tx.Structured = []domain.Reference{{Type: "SCOR", Issuer: "ISO", Value: it.PaymentReference}}
	} else {
		tx.Unstructured = []string{"INVOICE " + it.DocumentNumber}
	}
	g.add(tx, Truth{Scenario: ScFXInstructed, Allocations: one(it, cash), Settles: one(it, it.Residual), Matchable: true})
	return true
}

// fillerWords make the text before a number cut at 140 characters.
var fillerWords = []string{"Reglement", "de", "nos", "factures", "selon", "votre", "releve", "du", "mois", "dernier",
	"avec", "nos", "salutations", "distinguees", "objet", "paiement", "fournisseur", "solde", "compte", "virement"}

// docCut140: the invoice number ends a 140-character Ustrd line (the
// longest the standard allows) and is cut there: in half of them the rest
// follows on the next line, in the other half it is lost (only the last
// character: the prefix must still narrow the invoices down).
func (g *generator) docCut140() bool {
	i := g.take(isEUR)
	if i < 0 {
		return false
	}
	it := &g.items[i]
	doc := it.DocumentNumber
	lost := g.rng.IntN(2) == 0
	keep := len(doc) - 1
	if !lost {
		keep = 1 + g.rng.IntN(len(doc)-1)
	}
	need := 140 - keep
	var b strings.Builder
	for b.Len() < need {
		b.WriteString(fillerWords[g.rng.IntN(len(fillerWords))])
		b.WriteByte(' ')
	}
	head := b.String()[:need-1] + " "
	tx := g.tx(it.Residual, "EUR")
	tx.Unstructured = []string{head + doc[:keep]}
	if !lost {
		tx.Unstructured = append(tx.Unstructured, doc[keep:]+" merci")
	}
	g.maybeStranger(&tx)
	g.add(tx, Truth{Scenario: ScDocCut140, Allocations: one(it, it.Residual), Matchable: true})
	return true
}
