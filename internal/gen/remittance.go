package gen

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/lettrage/lettrage/domain"
	"github.com/lettrage/lettrage/matcher"
)

// Version is the generator's version: the data a seed gives changes only
// with it. Version 2 added ProfileRemittance; the classic profile gives
// the data of version 1, unchanged.
const Version = 2

// Profiles (Options.Profile).
const (
	ProfileClassic    = "classic"
	ProfileRemittance = "remittance"
)

// Scenarios of ProfileRemittance, written as ERPs' payment runs and banks
// write them: a structured remittance (RmtInf/Strd) per document with its
// RfrdDocInf/Nb and RfrdDocAmt (DuePyblAmt, DscntApldAmt, CdtNoteAmt,
// TaxAmt, AdjstmntAmtAndRsn, RmtdAmt), as SAP, Sage and most ERPs write
// them and as EPC and the DK/SIX guides describe them.
const (
	ScRemitDiscount   = "remit_discount"    // several invoices, cash discounts taken on some
	ScRemitCreditNote = "remit_credit_note" // invoices and a credit note (CREN) netted
	ScRemitTax        = "remit_tax"         // VAT shown, or a withholding tax deducted
	ScRemitAdjust     = "remit_adjustment"  // a short payment with its reason (damaged goods…)
	ScRemitMulti      = "remit_multi"       // several invoices paid in full
	ScDocOver         = "doc_overpayment"   // one invoice named, known payer, more than its residual
	ScDocZeros        = "doc_zero_dropped"  // "REF 2025-560" for FA-2025-000560
	ScPaidTwice       = "doc_paid_twice"    // an invoice paid again, named as written (not matchable)
)

// remittanceMix is the classic mix plus the remittance scenarios (per
// mille of the classic total of 1,000, so about 29 % of the payments).
var remittanceMix = append(append([]weighted(nil), mix...),
	weighted{ScRemitDiscount, 90}, weighted{ScRemitCreditNote, 40}, weighted{ScRemitTax, 40},
	weighted{ScRemitAdjust, 30}, weighted{ScRemitMulti, 40}, weighted{ScDocOver, 40},
	weighted{ScDocZeros, 40}, weighted{ScPaidTwice, 15})

func (g *generator) remittanceScenario(sc string) bool {
	switch sc {
	case ScRemitDiscount, ScRemitTax, ScRemitAdjust, ScRemitMulti:
		return g.remitInvoices(sc)
	case ScRemitCreditNote:
		return g.remitCreditNote()
	case ScDocOver:
		return g.docOver()
	case ScDocZeros:
		return g.docZeros()
	case ScPaidTwice:
		return g.paidTwice()
	}
	return false
}

// openOf returns up to k unused open invoices (positive residual, EUR) of
// the customer of item i, other than i, and marks them used.
func (g *generator) openOf(i, k int) []int {
	var out []int
	for _, j := range g.customerOf(&g.items[i]).items {
		if len(out) == k {
			break
		}
		o := &g.items[j]
		if j != i && !g.used[j] && isEUR(o) && o.Residual.Sign() > 0 {
			g.used[j] = true
			out = append(out, j)
		}
	}
	return out
}

// remitPayer sets the payer of a payment run: the customer's IBAN known
// to the book or learned, its name only, or an account nobody knows (a
// payment factory paying for the group).
func (g *generator) remitPayer(tx *domain.Transaction, cu *customer) {
	switch r := g.rng.IntN(10); {
	case r < 6 && (cu.ibanKnown || cu.ibanMemory):
		tx.Counterparty = domain.Party{IBAN: cu.ibans[0], Name: g.nameVariant(cu.name)}
	case r < 8:
		tx.Counterparty = domain.Party{Name: g.nameVariant(cu.name)}
	default:
		tx.Counterparty = domain.Party{IBAN: g.iban("DE"), Name: strings.ToUpper(matcher.Fold(strings.Fields(cu.name)[0])) + " GROUP PAYMENT FACTORY"}
	}
}

// pct returns p per mille of a, rounded to the cent (at least a cent).
func pct(a domain.Amount, perMille int64) domain.Amount {
	return domain.AmountFromCents(max(1, (mustCents(a)*perMille+500)/1000))
}

// docNumber writes an invoice number as a payer's accounts-payable system
// keeps it: mostly as printed, sometimes without separators.
func (g *generator) docNumber(doc string) string {
	if g.rng.IntN(5) == 0 {
		return strings.ReplaceAll(doc, "-", "")
	}
	return doc
}

// remitInvoices: a payment run pays one to four invoices of one customer
// and writes one Strd per invoice with its amounts:
//   - remit_discount: on some invoices a cash discount of 1–3 % taken
//     (DuePyblAmt, DscntApldAmt, RmtdAmt = due − discount);
//   - remit_tax: the VAT shown (TaxAmt VATB, RmtdAmt = due) or a
//     withholding tax deducted (TaxAmt WITH, RmtdAmt = due − tax);
//   - remit_adjustment: a short payment with its reason
//     (AdjstmntAmtAndRsn DBIT DAMG/QUAN/PRIC, RmtdAmt = due − adjustment);
//   - remit_multi: every invoice paid in full (DuePyblAmt = RmtdAmt).
//
// The cash is the sum of RmtdAmt: the truth allocates each invoice what
// the payer remitted for it; what it deducted stays open (a discount may
// also be closed by a cash-discount posting: Truth.Discounts).
func (g *generator) remitInvoices(sc string) bool {
	i := g.take(func(it *domain.OpenItem) bool { return isEUR(it) && mustCents(it.Residual) >= 5000 })
	if i < 0 {
		return false
	}
	cu := g.customerOf(&g.items[i])
	docs := append([]int{i}, g.openOf(i, g.rng.IntN(4))...)
	tx := g.tx(domain.Amount{}, "EUR")
	t := Truth{Scenario: sc, Allocations: map[string]domain.Amount{}, Matchable: true}
	deducted := false
	// some ERPs write their own voucher numbers in RfrdDocInf/Nb and ours
	// in the text only
	own := sc == ScRemitMulti && g.rng.IntN(8) == 0
	var ours []string
	for k, j := range docs {
		it := &g.items[j]
		due := it.Residual
		d := domain.RemittedDocument{Number: g.docNumber(it.DocumentNumber), Type: "CINV", Currency: "EUR", Due: ptr(due)}
		paid := due
		switch sc {
		case ScRemitDiscount:
			if g.rng.IntN(3) > 0 || (k == len(docs)-1 && !deducted) {
				d.Discount = pct(due, int64(10*(1+g.rng.IntN(3))))
				paid = due.Sub(d.Discount)
				if t.Discounts == nil {
					t.Discounts = map[string]domain.Amount{}
				}
				t.Discounts[it.ID] = d.Discount
				deducted = true
			}
		case ScRemitTax:
			if g.rng.IntN(2) == 0 {
				d.Tax = domain.AmountFromCents((mustCents(due)*20 + 60) / 120) // the VAT of a 20 % rate, shown
				d.TaxType = "VATB"
			} else {
				d.Tax = pct(due, int64(10*(1+g.rng.IntN(5)))) // 1–5 % withheld
				d.TaxType = "WITH"
				paid = due.Sub(d.Tax)
			}
		case ScRemitAdjust:
			if k == 0 {
				adj := pct(due, int64(20+g.rng.IntN(130)))
				r := adjustReasons[g.rng.IntN(len(adjustReasons))]
				d.Adjustments = []domain.DocumentAdjustment{{Amount: adj, Reason: r[0], Info: r[1]}}
				paid = due.Sub(adj)
			}
		}
		d.Remitted = ptr(paid)
		if sc == ScRemitMulti && g.rng.IntN(3) == 0 {
			d.Due = nil // only the amount remitted
		}
		if own {
			// the payer's own voucher number, not ours: our number is in
			// the text
			d.Number = fmt.Sprint(5100000000 + g.rng.IntN(99999999))
			ours = append(ours, it.DocumentNumber)
		}
		tx.Amount = tx.Amount.Add(paid)
		tx.Remitted = append(tx.Remitted, d)
		tx.Documents = append(tx.Documents, d.Number)
		t.Allocations[it.ID] = paid
	}
	if own {
		tx.Unstructured = []string{"Ihre Rechnungen " + strings.Join(ours, ", ")}
	}
	g.remitPayer(&tx, cu)
	g.add(tx, t)
	return true
}

var adjustReasons = [][2]string{{"DAMG", "Ware beschaedigt"}, {"QUAN", "manque 2 colis"}, {"PRIC", "price difference as agreed"},
	{"DAMG", "damaged on delivery"}, {"QUAN", "short delivery"}}

func ptr(a domain.Amount) *domain.Amount { return &a }

// remitCreditNote: a payment run pays one or two invoices of a customer
// and nets one of its open credit notes: a Strd per document, the credit
// note with type CREN and its amount in CdtNoteAmt (or, as some ERPs
// write it, in RmtdAmt). The truth nets the credit note in full.
func (g *generator) remitCreditNote() bool {
	cn := -1
	for tries := 0; tries < 300 && cn < 0; tries++ {
		j := g.rng.IntN(len(g.items))
		if it := &g.items[j]; !g.used[j] && isEUR(it) && it.Residual.Sign() < 0 {
			cn = j
		}
	}
	if cn < 0 {
		return false
	}
	g.used[cn] = true
	invs := g.openOf(cn, 1+g.rng.IntN(2))
	var total domain.Amount
	for _, j := range invs {
		total = total.Add(g.items[j].Residual)
	}
	if len(invs) == 0 || total.Add(g.items[cn].Residual).Sign() <= 0 {
		for _, j := range append(invs, cn) {
			g.used[j] = false
		}
		return false
	}
	tx := g.tx(total.Add(g.items[cn].Residual), "EUR")
	t := Truth{Scenario: ScRemitCreditNote, Allocations: map[string]domain.Amount{}, Matchable: true}
	for _, j := range invs {
		it := &g.items[j]
		tx.Remitted = append(tx.Remitted, domain.RemittedDocument{Number: g.docNumber(it.DocumentNumber), Type: "CINV", Currency: "EUR",
			Due: ptr(it.Residual), Remitted: ptr(it.Residual)})
		t.Allocations[it.ID] = it.Residual
	}
	c := &g.items[cn]
	d := domain.RemittedDocument{Number: g.docNumber(c.DocumentNumber), Type: "CREN", Currency: "EUR"}
	if g.rng.IntN(3) == 0 {
		d.Remitted = ptr(c.Residual.Neg())
	} else {
		d.CreditNote = c.Residual.Neg()
	}
	tx.Remitted = append(tx.Remitted, d)
	t.Allocations[c.ID] = c.Residual
	for _, d := range tx.Remitted {
		tx.Documents = append(tx.Documents, d.Number)
	}
	g.remitPayer(&tx, g.customerOf(c))
	g.add(tx, t)
	return true
}

// docOver: a known payer (IBAN or name) pays one invoice it names, as
// written, for more than its residual — rounded up, or with a few euros
// too many — while it has other open items. The truth letters the
// invoice's residual; the excess may be reported or put on its account.
func (g *generator) docOver() bool {
	i := g.take(func(it *domain.OpenItem) bool { return isEUR(it) && len(g.customerOf(it).items) >= 2 })
	if i < 0 {
		return false
	}
	it := &g.items[i]
	cu := g.customerOf(it)
	r := mustCents(it.Residual)
	var cash int64
	if g.rng.IntN(2) == 0 {
		cash = (r/10000 + 1) * 10000 // rounded up to the next hundred
	} else {
		cash = r + int64(1+g.rng.IntN(5000))
	}
	excess := domain.AmountFromCents(cash - r)
	// an open item of the customer owing the excess or the whole would be
	// as good an answer as the truth's
	for _, j := range cu.items {
		o := &g.items[j]
		if j != i && o.Currency == "EUR" && (o.Residual.Equal(excess) || mustCents(o.Residual) == cash) {
			g.used[i] = false
			return false
		}
	}
	tx := g.tx(domain.AmountFromCents(cash), "EUR")
	if (cu.ibanKnown || cu.ibanMemory) && g.rng.IntN(3) > 0 {
		tx.Counterparty = domain.Party{IBAN: cu.ibans[0], Name: g.nameVariant(cu.name)}
	} else {
		tx.Counterparty = domain.Party{Name: cu.name}
	}
	if g.rng.IntN(3) == 0 {
		tx.Documents = []string{it.DocumentNumber}
	} else {
		tx.Unstructured = []string{g.noisyDoc(it.DocumentNumber)}
	}
	g.add(tx, Truth{Scenario: ScDocOver, Allocations: one(it, it.Residual), Matchable: true,
		OnAccount: map[string]domain.Amount{cu.id: excess}})
	return true
}

// zeroForms write an invoice number without its prefix and the leading
// zeros of its serial, as payers type it: "REF 2025-560" for FA-2025-000560.
var zeroForms = []string{"REF %s-%s", "FCT %s/%s", "Facture %s %s", "N° %s-%s", "Rechnung Nr. %s/%s", "INV %s-%s merci"}

// docZeros: the payer names the invoice without its prefix and with the
// zeros of its serial dropped; the amount is exact.
func (g *generator) docZeros() bool {
	i := g.take(func(it *domain.OpenItem) bool { return isEUR(it) && strings.HasPrefix(it.DocumentNumber, "FA-") })
	if i < 0 {
		return false
	}
	it := &g.items[i]
	cu := g.customerOf(it)
	parts := strings.Split(it.DocumentNumber, "-")
	text := fmt.Sprintf(zeroForms[g.rng.IntN(len(zeroForms))], parts[1], strings.TrimLeft(parts[2], "0"))
	tx := g.tx(it.Residual, "EUR")
	tx.Unstructured = []string{text}
	switch g.rng.IntN(3) {
	case 0:
		if cu.ibanKnown || cu.ibanMemory {
			tx.Counterparty = domain.Party{IBAN: cu.ibans[0], Name: g.nameVariant(cu.name)}
		}
	case 1:
		tx.Counterparty = domain.Party{Name: g.nameVariant(cu.name)}
	default:
		g.maybeStranger(&tx)
	}
	t := Truth{Scenario: ScDocZeros, Allocations: one(it, it.Residual), Matchable: true}
	g.add(tx, t)
	return true
}

// paidTwice: a customer pays again an invoice an earlier payment of the
// data paid, naming it as written (its number, or its reference), from its
// own account, some weeks later. Nothing is to be lettered: the invoice is
// settled; the cash may be reported or put on the customer's account.
func (g *generator) paidTwice() bool {
	if len(g.ds.Transactions) == 0 {
		return false
	}
	k := -1
	for range 10 {
		j := g.rng.IntN(len(g.ds.Transactions))
		if t := g.ds.Truth[j]; (t.Scenario == ScDocNoisy || t.Scenario == ScRefStructured) && len(t.Allocations) == 1 {
			k = j
			break
		}
	}
	if k < 0 {
		return false
	}
	t0, tx0 := g.ds.Truth[k], g.ds.Transactions[k]
	var it *domain.OpenItem
	for id := range t0.Allocations {
		it = &g.items[g.itemIndex(id)]
	}
	if !tx0.Amount.Equal(it.Residual) {
		return false
	}
	cu := g.customerOf(it)
	tx := g.tx(it.Residual, "EUR")
	tx.BookingDate, tx.ValueDate = tx0.BookingDate.AddDate(0, 0, 20+g.rng.IntN(40)), tx0.BookingDate.AddDate(0, 0, 20+g.rng.IntN(40))
	tx.ValueDate = tx.BookingDate
	tx.Structured, tx.Unstructured = tx0.Structured, tx0.Unstructured
	if cu.ibanKnown || cu.ibanMemory {
		tx.Counterparty = domain.Party{IBAN: cu.ibans[0], Name: g.nameVariant(cu.name)}
	} else {
		tx.Counterparty = domain.Party{Name: g.nameVariant(cu.name)}
	}
	g.add(tx, Truth{Scenario: ScPaidTwice, OnAccount: map[string]domain.Amount{cu.id: tx.Amount}})
	return true
}

// adviceLines are the payment-advice boilerplate ERPs and banks add to
// the remittance: payment run, vendor number, the payer's own voucher
// numbers, dates and contacts. None names an open item.
var adviceLines = []string{
	"ZAHLUNGSAVIS %s LIEFERANT %07d ZAHLLAUF F110 BUCHUNGSKREIS 1000 BELEG %d",
	"Avis de paiement n. %d du %s - reglement fournisseur compte %07d - contact comptabilite fournisseurs",
	"Remittance advice: payment run %d dated %s, vendor account %07d, for queries contact accounts.payable@payer.example",
	"PAYMENT ADVICE %s OUR VOUCHER %d VENDOR %07d PLEASE QUOTE OUR VOUCHER NUMBER ON ANY CORRESPONDENCE",
	"Beleg %d vom %s Kreditor %07d Zahlung per SEPA-Ueberweisung Rueckfragen an Kreditorenbuchhaltung",
	"Bestellung PO %d-%d Lieferschein %d",
}

// advice makes the remittance heavy, as payment runs write it: most
// credits get one to four lines of payment-advice boilerplate of up to
// 140 characters, with the payer's own numbers and dates.
func (g *generator) advice(tx *domain.Transaction, t Truth) {
	if !tx.Credit || t.Scenario == ScDuplicate || t.Scenario == ScPaidTwice || t.Scenario == ScDocCut140 || t.Scenario == ScDocCut ||
		g.rng.IntN(10) < 3 {
		return
	}
	n := 1 + g.rng.IntN(4)
	date := tx.BookingDate.AddDate(0, 0, -2)
	for range n {
		f := adviceLines[g.rng.IntN(len(adviceLines))]
		voucher := 5100000000 + g.rng.IntN(99999999)
		vendor := g.rng.IntN(9999999)
		var line string
		switch f[:3] {
		case "ZAH":
			line = fmt.Sprintf(f, date.Format("2006-01-02"), vendor, voucher)
		case "PAY":
			line = fmt.Sprintf(f, date.Format("02.01.2006"), voucher, vendor)
		case "Avi":
			line = fmt.Sprintf(f, voucher, date.Format("02/01/2006"), vendor)
		case "Bes":
			// the payer's purchase order, numbered by year as invoices are
			line = fmt.Sprintf(f, date.Year(), 1+g.rng.IntN(9999), 80000000+g.rng.IntN(999999))
		case "Rem":
			line = fmt.Sprintf(f, 4700+g.rng.IntN(300), date.Format("02.01.2006"), vendor)
		default: // Beleg
			line = fmt.Sprintf(f, voucher, date.Format("02.01.2006"), vendor)
		}
		if strings.Contains(line, "%!") {
			panic("gen: advice line " + line)
		}
		if len(line) > 140 {
			line = line[:140]
		}
		if k := len(tx.Unstructured); k > 0 && fullLine(tx.Unstructured[k-1]) {
			break // a number cut at the end of a line continues on the next
		}
		tx.Unstructured = append(tx.Unstructured, line)
	}
}

// fullLine reports whether a remittance line has a length at which banks
// cut text (35 or 140 characters): the next line continues it.
func fullLine(s string) bool { n := utf8.RuneCountInString(s); return n == 35 || n == 140 }
