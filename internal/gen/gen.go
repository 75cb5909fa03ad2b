// Package gen generates seed-deterministic benchmark data for the matcher:
// an open-items book, bank transactions with a realistic mix of evidence
// and traps, and the ground truth to score decisions against.
package gen

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"time"

	"github.com/lettrage/lettrage/domain"
	"github.com/lettrage/lettrage/matcher"
)

// Scenario names, one per kind of payment generated.
const (
	ScRefStructured = "ref_structured"   // valid RF in Strd, exact amount
	ScRefText       = "ref_in_text"      // RF or national reference inside Ustrd
	ScRefPartial    = "ref_partial"      // reference, partial payment
	ScRefOver       = "ref_overpayment"  // reference, overpayment
	ScFee           = "fee_deducted"     // reference or document, bank charges deducted
	ScDocNoisy      = "doc_noisy"        // invoice number with noise in Ustrd
	ScDocCut        = "doc_cut_line"     // invoice number cut at a 35-character line
	ScDocMulti      = "doc_multi"        // several invoices (and credit notes) named
	ScDocTypo       = "doc_typo"         // one wrong character, amount exact
	ScDocPlusRest   = "doc_plus_unnamed" // known payer names one invoice, pays two
	ScLookalike     = "name_lookalike"   // name-only payer with a look-alike twin owing the same amount
	ScIBANFee       = "iban_fee"         // known IBAN, no text, bank charges deducted
	ScNameTruncated = "name_truncated"   // name-only, the bank cut the name at 16 characters
	ScIBANOnly      = "iban_only"        // known IBAN, no text
	ScNameOnly      = "name_only"        // no IBAN, name variant
	ScCombination   = "combination"      // known IBAN, several invoices, no text
	ScOtherCurrency = "other_currency"   // USD book and payment with reference
	ScUnknown       = "unknown_payer"    // unknown payer, amount matches nothing
	ScUnknownCoin   = "unknown_coinciding_amount"
	ScDebit         = "debit"     // not a customer payment
	ScDuplicate     = "duplicate" // the same payment delivered twice

	// Situations whose truth does not depend on the engine's policies.
	ScGroupIBAN    = "group_iban"        // IBAN shared by two companies of a group, no text
	ScThirdParty   = "third_party_payer" // a known customer's IBAN pays another customer's reference
	ScComboText    = "combo_text"        // several invoices, another combination fits, the text names one
	ScFXInstructed = "fx_instructed"     // USD invoice paid in EUR, InstdAmt in USD
	ScDocCut140    = "doc_cut_140"       // invoice number cut at a 140-character Ustrd boundary
)

// Truth is the right decision for one transaction.
type Truth struct {
	Scenario string
	// Allocations is item id → cash, for matchable transactions.
	Allocations map[string]domain.Amount
	// Matchable is true when a right automatic letter exists.
	Matchable bool
	// Unknown marks payers nobody knows: they must never be auto-lettered.
	Unknown bool
	// Settles is, for the cross-currency allocations of Allocations (an
	// FX rule), item id → what the allocation settles in the item's
	// currency (Allocations holds the cash, in the payment's currency).
	Settles map[string]domain.Amount
	// Discounts is, per item, a cash discount the payer says it took
	// (DscntApldAmt): not cash. Either answer is right: the discount left
	// open on the item, or closed by a cash_discount posting of exactly
	// that amount on that item.
	Discounts map[string]domain.Amount
	// OnAccount is, per customer, cash that may rightly be put on the
	// customer's account instead of being reported: the excess of an
	// overpayment of an identified invoice, or a payment of an invoice
	// already paid. Either answer is right: reported, or an on_account
	// posting of exactly that amount for that customer.
	OnAccount map[string]domain.Amount
}

// Dataset is a generated book, statement transactions and ground truth.
type Dataset struct {
	Items        []domain.OpenItem
	Transactions []domain.Transaction
	Memory       matcher.Memory
	Config       matcher.Config
	Truth        []Truth // parallel to Transactions
}

type customer struct {
	id, name   string
	ibans      []string
	ibanKnown  bool // in the items' master data
	ibanMemory bool // learned only
	items      []int
	recurring  bool
	// partner is the other company of a group sharing this one's IBAN
	partner *customer
	// combined: a payment of it is a combination of its items (ScCombination);
	// trapped: comboText left two of its items open whose sum is another
	// payment's amount. One would let the other's combination be made with
	// the items left open, which the truth does not know: they exclude each
	// other.
	combined, trapped bool
}

var (
	firstWords = []string{"Dupont", "Martin", "Bernard", "Durand", "Lefebvre", "Moreau", "Laurent", "Simon",
		"Michel", "Garcia", "Roux", "Fournier", "Girard", "Bonnet", "Mercier", "Blanc", "Guerin", "Muller",
		"Schmidt", "Weber", "Wagner", "Becker", "Hoffmann", "Rossi", "Russo", "Bianchi", "Janssens", "Peeters",
		"Maes", "Jacobs", "Smith", "Jones", "Taylor", "Brown", "Wilson", "Evans", "Novak", "Horvat", "Kowalski"}
	secondWords = []string{"Fils", "Frères", "Bâtiment", "Plomberie", "Électricité", "Transports", "Boulangerie",
		"Conseil", "Informatique", "Logistique", "Menuiserie", "Peinture", "Optique", "Pharmacie", "Imprimerie",
		"Distribution", "Automobiles", "Jardins", "Textiles", "Métallerie", "Chauffage", "Couverture", "Traiteur"}
	legal = []string{"SARL", "SAS", "SA", "EURL", "GmbH", "Ltd", "BV", "NV", "SRL", "SpA", "AG", "SASU"}
)

// Generate returns a dataset of n transactions over 2n open items, the same
// for the same seed.
func Generate(seed uint64, n int) *Dataset {
	return GenerateWith(seed, n, Options{})
}

// Options shape a generated dataset; the zero value gives what Generate
// gives.
type Options struct {
	// Items is the number of open items in the book; 0 means 2n. With
	// fewer items than the payments need (about 1.1 per payment), the
	// last payments find no open invoice left for their scenario and
	// become unknown payers instead.
	Items int
	// Profile is the mix of scenarios: "" or ProfileClassic (the data of
	// generator version 1, unchanged), or ProfileRemittance (version 2:
	// the classic scenarios plus per-document remittance amounts, cash
	// discounts, netted credit notes, taxes, adjustments, overpayments,
	// numbers without their zeros, payments made twice, and long payment
	// advice texts: see remittance.go).
	Profile string
}

// GenerateWith returns a dataset of n transactions shaped by opt, the same
// for the same seed and options. GenerateWith(seed, n, Options{}) equals
// Generate(seed, n).
func GenerateWith(seed uint64, n int, opt Options) *Dataset {
	g := &generator{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), n: n, nItems: 2 * n, mix: mix}
	if opt.Items > 0 {
		g.nItems = opt.Items
	}
	if opt.Profile == ProfileRemittance {
		g.mix, g.remittance = remittanceMix, true
	}
	g.book()
	g.payments()
	return g.ds
}

type generator struct {
	rng    *rand.Rand
	n      int
	nItems int // open items in the book
	ds     *Dataset
	custs  []*customer
	items  []domain.OpenItem
	used   []bool
	// pool of item indexes in random order, consumed by scenarios
	pool   []int
	usdIdx []int
	txSeq  int
	base   time.Time
	// amounts used by open invoices, to make unknown payers miss or hit them
	amounts map[string]bool
	// mix is the scenario mix; remittance is true for ProfileRemittance
	mix        []weighted
	remittance bool
}

var syllables = []string{"ka", "ro", "len", "mi", "dor", "ba", "ti", "vel", "su", "ran", "go", "zel",
	"pa", "ri", "mon", "de", "lu", "ker", "sa", "no", "vi", "tan", "bel", "fo", "gar", "li", "mer", "to"}

// surname invents a pronounceable family name of two or three syllables.
func (g *generator) surname() string {
	n := 2 + g.rng.IntN(2)
	var b strings.Builder
	for range n {
		b.WriteString(syllables[g.rng.IntN(len(syllables))])
	}
	s := b.String()
	return strings.ToUpper(s[:1]) + s[1:]
}

func (g *generator) iban(cc string) string {
	// The draw that once made the check digits is kept, so that the
	// generator's random stream (and so every data set) is unchanged but
	// for valid check digits: ledgers refuse IBANs that do not verify.
	_ = g.rng.IntN(89)
	var bban strings.Builder
	for range 20 {
		bban.WriteByte(byte('0' + g.rng.IntN(10)))
	}
	return cc + ibanCheck(cc, bban.String()) + bban.String()
}

// ibanCheck is the ISO 13616 check digits of an IBAN of country cc and
// BBAN (digits): 98 minus the remainder mod 97 of BBAN, the country's
// letters as numbers (A = 10) and "00".
func ibanCheck(cc, bban string) string {
	rem := 0
	for _, c := range bban + cc + "00" {
		d := int(c - '0')
		if c >= 'A' && c <= 'Z' {
			d = int(c-'A') + 10
			rem = (rem*100 + d) % 97
			continue
		}
		rem = (rem*10 + d) % 97
	}
	return fmt.Sprintf("%02d", 98-rem)
}

func (g *generator) book() {
	g.ds = &Dataset{Config: matcher.DefaultConfig(), Memory: matcher.Memory{
		IBANCustomers: map[string][]string{}, NameCustomers: map[string][]string{}}}
	g.ds.Config.Tolerances = []matcher.Tolerance{{Currency: "", Absolute: domain.MustAmount("15.00"), Percent: domain.MustAmount("2")}}
	// USD invoices paid into the EUR account, with the bank's instructed
	// amount in USD (ScFXInstructed)
	g.ds.Config.FX = []matcher.FXRule{{ItemCurrency: "USD", CashCurrency: "EUR", TolerancePercent: domain.MustAmount("0.1")}}
	g.base = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	g.amounts = map[string]bool{}
	nItems := g.nItems
	nCust := max(8, nItems/6)
	usedNames := map[string]bool{}
	for c := range nCust {
		var name string
		for {
			first := firstWords[g.rng.IntN(len(firstWords))]
			if g.rng.IntN(10) < 7 {
				first = g.surname()
			}
			name = first + " " + secondWords[g.rng.IntN(len(secondWords))]
			if !usedNames[matcher.NormaliseName(name)] {
				break
			}
		}
		usedNames[matcher.NormaliseName(name)] = true
		name += " " + legal[g.rng.IntN(len(legal))]
		cu := &customer{id: fmt.Sprintf("C%06d", c), name: name, recurring: g.rng.IntN(10) == 0}
		cu.ibans = []string{g.iban("FR")}
		r := g.rng.IntN(10)
		cu.ibanKnown = r < 7
		cu.ibanMemory = r == 7
		if cu.ibanMemory {
			g.ds.Memory.IBANCustomers[cu.ibans[0]] = []string{cu.id}
		}
		g.custs = append(g.custs, cu)
	}
	// look-alike twins: "X Plomberie SARL" and "X Plomberie Services SAS"
	for k := len(g.custs) - 1; k > len(g.custs)*97/100; k-- {
		src := g.custs[g.rng.IntN(len(g.custs)*9/10)]
		words := strings.Fields(src.name)
		twin := strings.Join(words[:len(words)-1], " ") + " " +
			[]string{"Services", "Groupe", "Holding", "France"}[g.rng.IntN(4)] + " " + legal[g.rng.IntN(len(legal))]
		g.custs[k].name = twin
	}
	// a few groups sharing one IBAN between two companies
	for k := 0; k+1 < len(g.custs) && k < len(g.custs)/50*2; k += 2 {
		a, b := g.custs[k], g.custs[k+1]
		b.ibans = []string{a.ibans[0]}
		b.ibanKnown, a.ibanKnown = true, true
		a.partner, b.partner = b, a
	}
	for i := range nItems {
		cu := g.custs[g.rng.IntN(len(g.custs))]
		if i < len(g.custs) {
			cu = g.custs[i]
		}
		ccy := "EUR"
		if g.rng.IntN(50) == 0 {
			ccy = "USD"
		}
		cents := int64(1000 + g.rng.IntN(400000))
		if cu.recurring && len(cu.items) > 0 {
			cents = mustCents(g.items[cu.items[0]].Amount)
			ccy = g.items[cu.items[0]].Currency
		}
		amt := domain.AmountFromCents(cents)
		resid := amt
		credit := g.rng.IntN(60) == 0 && !cu.recurring
		if credit {
			amt = domain.AmountFromCents(-(cents / 10))
			resid = amt
		} else if g.rng.IntN(20) == 0 {
			resid = domain.AmountFromCents(cents - cents/3) // already partly paid
		}
		issue := g.base.AddDate(0, 0, g.rng.IntN(300))
		doc := fmt.Sprintf("FA-2025-%06d", i+1)
		if credit {
			doc = fmt.Sprintf("AV-2025-%06d", i+1)
		}
		it := domain.OpenItem{
			ID: fmt.Sprintf("I%07d", i+1), CustomerID: cu.id, CustomerName: cu.name,
			DocumentNumber: doc, IssueDate: issue, DueDate: issue.AddDate(0, 0, 30),
			Currency: ccy, Amount: amt, Residual: resid,
		}
		if g.rng.IntN(10) < 4 {
			it.PaymentReference, _ = domain.MakeRF(fmt.Sprintf("2025%08d", i+1))
		}
		if cu.ibanKnown {
			// master data often has spaces
			it.IBANs = []string{spaced(cu.ibans[0])}
		}
		cu.items = append(cu.items, len(g.items))
		g.items = append(g.items, it)
		g.amounts[ccy+"|"+resid.Key()] = true
	}
	g.used = make([]bool, len(g.items))
	g.pool = g.rng.Perm(len(g.items))
	g.ds.Items = g.items
}

func mustCents(a domain.Amount) int64 {
	s := a.StringFixed(2)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(strings.Replace(s, ".", "", 1), "-")
	var v int64
	for _, c := range s {
		v = v*10 + int64(c-'0')
	}
	if neg {
		v = -v
	}
	return v
}

func spaced(iban string) string {
	var b strings.Builder
	for i, c := range iban {
		if i > 0 && i%4 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// take returns an unused invoice satisfying ok, or -1.
func (g *generator) take(ok func(it *domain.OpenItem) bool) int {
	for tries := 0; tries < 200 && len(g.pool) > 0; tries++ {
		k := g.rng.IntN(len(g.pool))
		i := g.pool[k]
		if g.used[i] {
			g.pool[k] = g.pool[len(g.pool)-1]
			g.pool = g.pool[:len(g.pool)-1]
			continue
		}
		it := &g.items[i]
		if it.Residual.Sign() > 0 && ok(it) {
			g.used[i] = true
			return i
		}
	}
	return -1
}

func (g *generator) itemIndex(id string) int {
	var i int
	_, _ = fmt.Sscanf(id, "I%d", &i) // the generator's own ids: I0000001…
	return i - 1
}

func (g *generator) customerOf(it *domain.OpenItem) *customer {
	var c int
	_, _ = fmt.Sscanf(it.CustomerID, "C%d", &c) // the generator's own ids: C000000…
	return g.custs[c]
}

// uniqueAmongOpen reports whether no other unused open item of the same
// customer has the same residual (so that the payment is unambiguous), or,
// when some do, whether i is the oldest of them (what the engine letters).
func (g *generator) oldestOfAmount(i int) bool {
	it := &g.items[i]
	for _, j := range g.customerOf(it).items {
		o := &g.items[j]
		if j != i && !g.used[j] && o.Currency == it.Currency && o.Residual.Equal(it.Residual) &&
			(o.DueDate.Before(it.DueDate) || o.DueDate.Equal(it.DueDate) && o.ID < it.ID) {
			return false
		}
	}
	return true
}

func (g *generator) tx(amount domain.Amount, ccy string) domain.Transaction {
	g.txSeq++
	d := g.base.AddDate(0, 0, 60+g.rng.IntN(300))
	return domain.Transaction{
		Key: fmt.Sprintf("FR7630006000011234567890189/TX%08d", g.txSeq), Ref: fmt.Sprintf("TX%08d", g.txSeq),
		Account: "FR7630006000011234567890189", Amount: amount, Currency: ccy, Credit: true, Status: "BOOK",
		BookingDate: d, ValueDate: d, EndToEndID: "NOTPROVIDED",
	}
}

func (g *generator) payerIBAN(cu *customer) string {
	return cu.ibans[0]
}

// nameVariant writes a customer name as a bank might: other legal form,
// case, accents lost, words swapped, abbreviations.
func (g *generator) nameVariant(name string) string {
	words := strings.Fields(name)
	words = words[:len(words)-1] // drop the legal form
	switch g.rng.IntN(4) {
	case 0:
		words = append(words, legal[g.rng.IntN(len(legal))])
	case 1:
		words[0], words[len(words)-1] = words[len(words)-1], words[0]
	case 2:
		words = append([]string{"Ets"}, words...)
	}
	s := strings.Join(words, " ")
	if g.rng.IntN(2) == 0 {
		s = strings.ToUpper(matcher.Fold(s))
	}
	return s
}

// noisyDoc writes an invoice number with the noise payers add.
func (g *generator) noisyDoc(doc string) string {
	parts := strings.Split(doc, "-") // FA 2025 000123
	num := parts[2]
	short := strings.TrimLeft(num, "0")
	switch g.rng.IntN(8) {
	case 0:
		return "Facture n° " + parts[0] + parts[1] + "/" + num
	case 1:
		return "FACT " + parts[0] + " " + parts[1] + " " + short
	case 2:
		return "INV " + strings.ToLower(doc)
	case 3:
		return "Inv." + parts[0] + parts[1] + num
	case 4:
		return "paiement " + doc + " merci"
	case 5:
		return parts[0] + "-" + parts[1] + "-" + short
	case 6:
		return "Règlement fact. " + doc + " client " + fmt.Sprint(g.rng.IntN(100000))
	}
	return doc
}

func (g *generator) add(tx domain.Transaction, t Truth) {
	if g.remittance {
		g.advice(&tx, t)
	}
	g.ds.Transactions = append(g.ds.Transactions, tx)
	g.ds.Truth = append(g.ds.Truth, t)
}

func one(it *domain.OpenItem, a domain.Amount) map[string]domain.Amount {
	return map[string]domain.Amount{it.ID: a}
}

type weighted struct {
	name string
	w    int
}

// mix is the share (per mille) of each scenario.
var mix = []weighted{
	{ScRefStructured, 200}, {ScRefText, 50}, {ScRefPartial, 30}, {ScRefOver, 20}, {ScFee, 30},
	{ScDocNoisy, 180}, {ScDocCut, 20}, {ScDocMulti, 50}, {ScDocTypo, 20},
	{ScIBANOnly, 100}, {ScNameOnly, 40}, {ScDocPlusRest, 10}, {ScLookalike, 10},
	{ScIBANFee, 10}, {ScNameTruncated, 10}, {ScCombination, 30}, {ScOtherCurrency, 20},
	{ScUnknown, 25}, {ScUnknownCoin, 25}, {ScDebit, 50}, {ScDuplicate, 10},
	{ScGroupIBAN, 10}, {ScThirdParty, 10}, {ScComboText, 10}, {ScFXInstructed, 10}, {ScDocCut140, 10},
}

func (g *generator) pick() string {
	total := 0
	for _, m := range g.mix {
		total += m.w
	}
	r := g.rng.IntN(total)
	for _, m := range g.mix {
		if r < m.w {
			return m.name
		}
		r -= m.w
	}
	return g.mix[0].name
}

func isEUR(it *domain.OpenItem) bool { return it.Currency == "EUR" }

func (g *generator) payments() {
	for len(g.ds.Transactions) < g.n {
		sc := g.pick()
		if !g.scenario(sc) {
			g.scenario(ScUnknown)
		}
	}
	g.ds.Transactions = g.ds.Transactions[:g.n]
	g.ds.Truth = g.ds.Truth[:g.n]
}

// scenario adds one payment of scenario sc (with its truth), each made by
// a function of its own; false when it cannot be made (no item fits).
func (g *generator) scenario(sc string) bool {
	switch sc {
	case ScRefStructured, ScRefText, ScRefPartial, ScRefOver:
		return g.scRef(sc)
	case ScFee:
		return g.scFee(sc)
	case ScDocNoisy, ScDocCut, ScDocTypo:
		return g.scDoc(sc)
	case ScDocMulti:
		return g.scDocMulti(sc)
	case ScIBANOnly, ScNameOnly:
		return g.scPayer(sc)
	case ScCombination:
		return g.scCombination(sc)
	case ScDocPlusRest:
		return g.scDocPlusRest(sc)
	case ScLookalike:
		return g.scLookalike(sc)
	case ScIBANFee:
		return g.scIBANFee(sc)
	case ScNameTruncated:
		return g.scNameTruncated(sc)
	case ScOtherCurrency:
		return g.scOtherCurrency(sc)
	case ScUnknown, ScUnknownCoin:
		return g.scUnknown(sc)
	case ScGroupIBAN:
		return g.groupIBAN()
	case ScThirdParty:
		return g.thirdParty()
	case ScComboText:
		return g.comboText()
	case ScFXInstructed:
		return g.fxInstructed()
	case ScDocCut140:
		return g.docCut140()
	case ScRemitDiscount, ScRemitCreditNote, ScRemitTax, ScRemitAdjust, ScRemitMulti, ScDocOver, ScDocZeros, ScPaidTwice:
		return g.remittanceScenario(sc)
	case ScDebit:
		return g.scDebit(sc)
	case ScDuplicate:
		return g.scDuplicate(sc)
	}
	return true
}

// scRef is scenario ScRefStructured, ScRefText, ScRefPartial, ScRefOver: it
// pays an EUR item by its payment reference, structured or in the text, for
// its residual, half of it or more. It takes the items it pays (g.used) and
// adds the payment with its truth (g.add); false when no item fits.
func (g *generator) scRef(sc string) bool {
	i := g.take(func(it *domain.OpenItem) bool { return isEUR(it) && it.PaymentReference != "" })
	if i < 0 {
		return false
	}
	it := &g.items[i]
	amt := it.Residual
	switch sc {
	case ScRefPartial:
		amt = domain.AmountFromCents(mustCents(amt) / 2)
	case ScRefOver:
		amt = amt.Add(domain.AmountFromCents(int64(100 + g.rng.IntN(5000))))
	}
	tx := g.tx(amt, it.Currency)
	ref := it.PaymentReference
	if sc == ScRefText {
		tx.Unstructured = []string{"Virement " + spaced(ref) + " merci"}
	} else {
		tx.Structured = []domain.Reference{{Type: "SCOR", Issuer: "ISO", Value: ref}}
	}
	g.maybeStranger(&tx)
	alloc := it.Residual.Min(amt)
	t := Truth{Scenario: sc, Allocations: one(it, alloc), Matchable: true}
	if sc == ScRefOver {
		// the excess may rightly go on the customer's account
		t.OnAccount = map[string]domain.Amount{it.CustomerID: amt.Sub(alloc)}
	}
	g.add(tx, t)
	return true
}

// scFee is scenario ScFee: it pays an EUR item of more than 500 by its
// reference or document number, less bank charges. It takes the items it
// pays (g.used) and adds the payment with its truth (g.add); false when no
// item fits.
func (g *generator) scFee(sc string) bool {
	i := g.take(func(it *domain.OpenItem) bool {
		return isEUR(it) && mustCents(it.Residual) > 50000 // 2% of 500 = 10 ≤ 15
	})
	if i < 0 {
		return false
	}
	it := &g.items[i]
	fee := domain.AmountFromCents(int64(150 + g.rng.IntN(800)))
	tx := g.tx(it.Residual.Sub(fee), it.Currency)
	if it.PaymentReference != "" {
		tx.Structured = []domain.Reference{{Value: it.PaymentReference}}
	} else {
		tx.Unstructured = []string{g.noisyDoc(it.DocumentNumber)}
	}
	g.maybeStranger(&tx)
	g.add(tx, Truth{Scenario: sc, Allocations: one(it, tx.Amount), Matchable: true})
	return true
}

// scDoc is scenario ScDocNoisy, ScDocCut, ScDocTypo: it pays an EUR item
// naming its document number in noisy text, cut at 35 characters, or with a
// typo. It takes the items it pays (g.used) and adds the payment with its
// truth (g.add); false when no item fits.
func (g *generator) scDoc(sc string) bool {
	i := g.take(isEUR)
	if i < 0 {
		return false
	}
	it := &g.items[i]
	tx := g.tx(it.Residual, it.Currency)
	switch sc {
	case ScDocNoisy:
		tx.Unstructured = []string{g.noisyDoc(it.DocumentNumber)}
	case ScDocCut:
		prefix := "Reglement de la facture client "
		line := prefix + it.DocumentNumber
		tx.Unstructured = []string{line[:35], line[35:] + " merci"}
	case ScDocTypo:
		d := []byte(it.DocumentNumber)
		// duplicate one digit of the number: FA-2025-001234 → FA-2025-0012334
		k := 8 + g.rng.IntN(len(d)-8)
		typo := string(d[:k]) + string(d[k]) + string(d[k:])
		tx.Unstructured = []string{"facture " + typo}
	}
	g.maybeStranger(&tx)
	g.add(tx, Truth{Scenario: sc, Allocations: one(it, it.Residual), Matchable: true})
	return true
}

// scDocMulti is scenario ScDocMulti: it pays up to three items of one
// customer naming their document numbers. It takes the items it pays
// (g.used) and adds the payment with its truth (g.add); false when no item
// fits.
func (g *generator) scDocMulti(sc string) bool {
	i := g.take(isEUR)
	if i < 0 {
		return false
	}
	it := &g.items[i]
	cu := g.customerOf(it)
	alloc := one(it, it.Residual)
	total := it.Residual
	docs := []string{it.DocumentNumber}
	for _, j := range cu.items {
		o := &g.items[j]
		if j == i || g.used[j] || o.Currency != it.Currency || len(docs) >= 3 {
			continue
		}
		if o.Residual.Sign() < 0 && total.Add(o.Residual).Sign() <= 0 {
			continue
		}
		g.used[j] = true
		alloc[o.ID] = o.Residual
		total = total.Add(o.Residual)
		docs = append(docs, o.DocumentNumber)
	}
	tx := g.tx(total, it.Currency)
	tx.Unstructured = []string{strings.Join(docs, " ")}
	if g.rng.IntN(2) == 0 && len(docs) > 1 {
		tx.Unstructured = []string{"Factures " + strings.Join(docs[:len(docs)-1], ", "), docs[len(docs)-1]}
	}
	g.add(tx, Truth{Scenario: sc, Allocations: alloc, Matchable: true})
	return true
}

// scPayer is scenario ScIBANOnly, ScNameOnly: it pays an EUR item giving
// only the payer (IBAN and name, or name only); the truth is the oldest item
// of the amount. It takes the items it pays (g.used) and adds the payment
// with its truth (g.add); false when no item fits.
func (g *generator) scPayer(sc string) bool {
	i := g.take(func(it *domain.OpenItem) bool {
		cu := g.customerOf(it)
		if sc == ScIBANOnly && !(cu.ibanKnown || cu.ibanMemory) {
			return false
		}
		return isEUR(it)
	})
	if i < 0 {
		return false
	}
	it := &g.items[i]
	cu := g.customerOf(it)
	tx := g.tx(it.Residual, it.Currency)
	if sc == ScIBANOnly {
		tx.Counterparty = domain.Party{IBAN: g.payerIBAN(cu), Name: g.nameVariant(cu.name)}
	} else {
		tx.Counterparty = domain.Party{Name: g.nameVariant(cu.name)}
	}
	g.addPaidInFull(sc, i, tx)
	return true
}

// scCombination is scenario ScCombination: it pays two or three items of a
// customer with a known IBAN in one amount, without text. It takes the items
// it pays (g.used) and adds the payment with its truth (g.add); false when
// no item fits.
func (g *generator) scCombination(sc string) bool {
	i := g.take(func(it *domain.OpenItem) bool {
		cu := g.customerOf(it)
		return isEUR(it) && cu.ibanKnown && len(cu.items) >= 3 && !cu.trapped
	})
	if i < 0 {
		return false
	}
	it := &g.items[i]
	cu := g.customerOf(it)
	alloc := one(it, it.Residual)
	total := it.Residual
	for _, j := range cu.items {
		o := &g.items[j]
		if j == i || g.used[j] || o.Currency != "EUR" || o.Residual.Sign() <= 0 || len(alloc) >= 2+g.rng.IntN(2) {
			continue
		}
		g.used[j] = true
		alloc[o.ID] = o.Residual
		total = total.Add(o.Residual)
	}
	if len(alloc) < 2 {
		return false
	}
	// a single open item of the customer equal to the total would be
	// lettered instead, rightly: such a truth is unknowable
	for _, j := range cu.items {
		if _, in := alloc[g.items[j].ID]; !in && !g.used[j] && g.items[j].Residual.Equal(total) {
			for id := range alloc {
				g.used[g.itemIndex(id)] = false
			}
			return false
		}
	}
	tx := g.tx(total, "EUR")
	tx.Counterparty = domain.Party{IBAN: cu.ibans[0], Name: cu.name}
	cu.combined = true
	g.add(tx, Truth{Scenario: sc, Allocations: alloc, Matchable: true})
	return true
}

// scDocPlusRest is scenario ScDocPlusRest: it pays an item it names and
// another of the same customer it does not name. It takes the items it pays
// (g.used) and adds the payment with its truth (g.add); false when no item
// fits.
func (g *generator) scDocPlusRest(sc string) bool {
	i := g.take(func(it *domain.OpenItem) bool {
		cu := g.customerOf(it)
		return isEUR(it) && cu.ibanKnown && len(cu.items) >= 2
	})
	if i < 0 {
		return false
	}
	it := &g.items[i]
	cu := g.customerOf(it)
	j := -1
	for _, k := range cu.items {
		o := &g.items[k]
		if k != i && !g.used[k] && isEUR(o) && o.Residual.Sign() > 0 {
			j = k
			break
		}
	}
	if j < 0 {
		g.used[i] = false
		return false
	}
	g.used[j] = true
	o := &g.items[j]
	tx := g.tx(it.Residual.Add(o.Residual), "EUR")
	tx.Counterparty = domain.Party{IBAN: cu.ibans[0], Name: cu.name}
	tx.Unstructured = []string{"Facture " + it.DocumentNumber + " et solde"}
	g.add(tx, Truth{Scenario: sc, Allocations: map[string]domain.Amount{it.ID: it.Residual, o.ID: o.Residual}, Matchable: true})
	return true
}

// scLookalike is scenario ScLookalike: it pays an item of a customer whose
// twin (its name plus a word) owes the same amount. It takes the items it
// pays (g.used) and adds the payment with its truth (g.add); false when no
// item fits.
func (g *generator) scLookalike(sc string) bool {
	// a twin is a customer whose name is another's plus a generic word
	k := len(g.custs) - 1 - g.rng.IntN(max(1, len(g.custs)*3/100))
	twin := g.custs[k]
	words := strings.Fields(twin.name)
	base := strings.Join(words[:len(words)-2], " ")
	var src *customer
	for _, c := range g.custs[:len(g.custs)*9/10] {
		if strings.HasPrefix(c.name, base+" ") && len(strings.Fields(c.name)) == len(words)-1 {
			src = c
			break
		}
	}
	if src == nil {
		return false
	}
	i := g.take(func(it *domain.OpenItem) bool { return isEUR(it) && it.CustomerID == src.id })
	if i < 0 {
		return false
	}
	it := &g.items[i]
	// the twin owes exactly the same amount on an open invoice
	for _, j := range twin.items {
		if !g.used[j] && isEUR(&g.items[j]) && g.items[j].Residual.Sign() > 0 {
			g.items[j].Residual, g.items[j].Amount = it.Residual, it.Residual
			g.used[j] = true
			break
		}
	}
	tx := g.tx(it.Residual, "EUR")
	tx.Counterparty = domain.Party{Name: g.nameVariant(src.name)}
	g.addPaidInFull(sc, i, tx)
	return true
}

// scIBANFee is scenario ScIBANFee: it pays an item of a customer with a
// known IBAN, less bank charges, without text. It takes the items it pays
// (g.used) and adds the payment with its truth (g.add); false when no item
// fits.
func (g *generator) scIBANFee(sc string) bool {
	i := g.take(func(it *domain.OpenItem) bool {
		cu := g.customerOf(it)
		return isEUR(it) && cu.ibanKnown && mustCents(it.Residual) > 50000
	})
	if i < 0 {
		return false
	}
	it := &g.items[i]
	cu := g.customerOf(it)
	net := it.Residual.Sub(domain.AmountFromCents(int64(150 + g.rng.IntN(800))))
	// another of the customer's items owing exactly what arrives
	// would rightly be lettered instead
	for _, j := range cu.items {
		if g.items[j].Currency == "EUR" && g.items[j].Residual.Equal(net) {
			g.used[i] = false
			return false
		}
	}
	tx := g.tx(net, "EUR")
	tx.Counterparty = domain.Party{IBAN: cu.ibans[0], Name: cu.name}
	g.add(tx, Truth{Scenario: sc, Allocations: one(it, tx.Amount), Matchable: true})
	return true
}

// scNameTruncated is scenario ScNameTruncated: it pays an item giving the
// payer's name cut at 16 characters. It takes the items it pays (g.used) and
// adds the payment with its truth (g.add); false when no item fits.
func (g *generator) scNameTruncated(sc string) bool {
	i := g.take(isEUR)
	if i < 0 {
		return false
	}
	it := &g.items[i]
	cu := g.customerOf(it)
	name := strings.ToUpper(matcher.Fold(cu.name))
	if len(name) > 16 {
		name = name[:16]
	}
	tx := g.tx(it.Residual, "EUR")
	tx.Counterparty = domain.Party{Name: name}
	g.addPaidInFull(sc, i, tx)
	return true
}

// scOtherCurrency is scenario ScOtherCurrency: it pays a USD item naming its
// document (and reference). It takes the items it pays (g.used) and adds the
// payment with its truth (g.add); false when no item fits.
func (g *generator) scOtherCurrency(sc string) bool {
	i := g.take(func(it *domain.OpenItem) bool { return it.Currency == "USD" })
	if i < 0 {
		return false
	}
	it := &g.items[i]
	tx := g.tx(it.Residual, "USD")
	tx.Unstructured = []string{"INVOICE " + it.DocumentNumber}
	if it.PaymentReference != "" {
		tx.Structured = []domain.Reference{{Value: it.PaymentReference}}
	}
	g.add(tx, Truth{Scenario: sc, Allocations: one(it, it.Residual), Matchable: true})
	return true
}

// scUnknown is scenario ScUnknown, ScUnknownCoin: it adds a payment of an
// unknown payer, of an amount no item has or (coin) of an open item's. It
// takes the items it pays (g.used) and adds the payment with its truth
// (g.add); false when no item fits.
func (g *generator) scUnknown(sc string) bool {
	var amt domain.Amount
	if sc == ScUnknownCoin {
		i := g.take(isEUR)
		if i < 0 {
			return false
		}
		g.used[i] = false // the item stays open for nobody
		amt = g.items[i].Residual
	} else {
		for {
			amt = domain.AmountFromCents(int64(1000 + g.rng.IntN(400000)))
			if !g.amounts["EUR|"+amt.Key()] {
				break
			}
		}
	}
	tx := g.tx(amt, "EUR")
	tx.Counterparty = domain.Party{IBAN: g.iban("DE"), Name: fmt.Sprintf("Unknown Payer %d", g.rng.IntN(1000000))}
	tx.Unstructured = []string{"Payment " + fmt.Sprint(g.rng.IntN(1000000))}
	g.add(tx, Truth{Scenario: sc, Unknown: true})
	return true
}

// scDebit is scenario ScDebit: it adds a debit, which nothing letters
// (g.add).
func (g *generator) scDebit(sc string) bool {
	tx := g.tx(domain.AmountFromCents(int64(1000+g.rng.IntN(100000))), "EUR")
	tx.Credit = false
	g.add(tx, Truth{Scenario: sc})
	return true
}

// scDuplicate is scenario ScDuplicate: it delivers again a payment by
// structured reference made before, under another entry reference, its cash
// rightly going on the customer's account (g.add); false when the payment
// drawn is not one by structured reference.
func (g *generator) scDuplicate(sc string) bool {
	if len(g.ds.Transactions) == 0 {
		return false
	}
	k := g.rng.IntN(len(g.ds.Transactions))
	orig := g.ds.Transactions[k]
	if g.ds.Truth[k].Scenario != ScRefStructured {
		return false
	}
	// the same payment delivered again in another statement: the bank
	// gave it another entry reference, so it has another key
	orig.Key += "/DUP"
	orig.Ref += "/DUP"
	// paid twice: the cash may rightly go on the customer's account
	t := Truth{Scenario: sc}
	for id := range g.ds.Truth[k].Allocations {
		t.OnAccount = map[string]domain.Amount{g.items[g.itemIndex(id)].CustomerID: orig.Amount}
	}
	g.add(orig, t)
	return true
}

// maybeStranger gives some payments a payer the book does not know (a
// third party or a new account) so that references and documents must carry
// them alone.
func (g *generator) maybeStranger(tx *domain.Transaction) {
	if g.rng.IntN(3) == 0 {
		tx.Counterparty = domain.Party{IBAN: g.iban("BE"), Name: "Stranger " + fmt.Sprint(g.rng.IntN(100000))}
	}
}

// addPaidInFull adds tx, a payment of item i's whole residual, with its
// truth: item i, or the customer's older invoice of the same amount when
// there is one — the one an accountant letters (the oldest-first policy).
func (g *generator) addPaidInFull(sc string, i int, tx domain.Transaction) {
	it := &g.items[i]
	t := Truth{Scenario: sc, Allocations: one(it, it.Residual), Matchable: true}
	if !g.oldestOfAmount(i) {
		t.Allocations = g.oldestSame(i)
	}
	g.add(tx, t)
}

// oldestSame returns the allocation to the oldest unused open item of the
// customer of i with the same residual, swapping which item is marked used.
func (g *generator) oldestSame(i int) map[string]domain.Amount {
	it := &g.items[i]
	best := i
	var cands []int
	for _, j := range g.customerOf(it).items {
		o := &g.items[j]
		if (j == i || !g.used[j]) && o.Currency == it.Currency && o.Residual.Equal(it.Residual) {
			cands = append(cands, j)
		}
	}
	sort.Slice(cands, func(a, b int) bool {
		x, y := &g.items[cands[a]], &g.items[cands[b]]
		if !x.DueDate.Equal(y.DueDate) {
			return x.DueDate.Before(y.DueDate)
		}
		if !x.IssueDate.Equal(y.IssueDate) {
			return x.IssueDate.Before(y.IssueDate)
		}
		return x.ID < y.ID
	})
	if len(cands) > 0 {
		best = cands[0]
	}
	g.used[i] = false
	g.used[best] = true
	return one(&g.items[best], g.items[best].Residual)
}
