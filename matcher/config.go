package matcher

import "github.com/lettrage/lettrage/domain"

// Tolerance is the difference between a payment and the residuals it settles
// that may be written off (bank charges deducted by the payer), per currency.
// The smaller of the two limits applies when both are set.
type Tolerance struct {
	Currency string        `yaml:"currency"` // "" applies to every currency without its own entry
	Absolute domain.Amount `yaml:"absolute"` // e.g. 5.00
	Percent  domain.Amount `yaml:"percent"`  // e.g. 0.5 (half a percent of the residual)
}

// FXRule lets an item in ItemCurrency be lettered by cash in CashCurrency:
// the payment's instructed amount in ItemCurrency (Transaction.Instructed,
// given by the bank) must equal the item's residual, or be within
// TolerancePercent of it (bank rounding). Without an instructed amount in
// ItemCurrency nothing is lettered: the matcher never converts amounts.
type FXRule struct {
	ItemCurrency string `yaml:"item_currency" json:"item_currency"`
	CashCurrency string `yaml:"cash_currency" json:"cash_currency"`
	// TolerancePercent, e.g. 0.1, is the largest difference between the
	// instructed amount and the residual, in percent of the residual, that
	// still closes the item; zero means exact amounts only.
	TolerancePercent domain.Amount `yaml:"tolerance_percent" json:"tolerance_percent"`
}

// CashDiscount is the policy for cash discounts payers take (the
// DscntApldAmt of a structured remittance) in one currency: a discount
// up to the ceiling closes the rest of the item by a cash_discount posting
// to Account with Reason, instead of leaving it open. The smaller of the
// two limits applies when both are set.
type CashDiscount struct {
	Currency string `yaml:"currency" json:"currency"` // "" applies to every currency without its own entry
	// MaxPercent is the largest discount, in percent of the document's
	// amount due (DuePyblAmt, else the item's residual), e.g. 3.
	MaxPercent domain.Amount `yaml:"max_percent" json:"max_percent"`
	// MaxAmount is the largest discount per document, e.g. 500.00.
	MaxAmount domain.Amount `yaml:"max_amount" json:"max_amount"`
	// Account is the ledger account the discount is booked to (e.g. 665
	// "escomptes accordés"), Reason its reason code.
	Account string `yaml:"account" json:"account"`
	Reason  string `yaml:"reason" json:"reason"`
}

// Policies for cash of an identified payment that no open item takes
// (Config.Overpayment, Config.DuplicatePayment).
const (
	// PolicyException reports the cash for an accountant (exceptions.csv).
	PolicyException = "exception"
	// PolicyOnAccount puts the cash on the account of the customer whose
	// invoice the payment names (an on_account posting).
	PolicyOnAccount = "on_account"
)

// Config tunes matching. The zero value is not useful: start from
// DefaultConfig and change what the job's configuration sets.
type Config struct {
	// AutoThreshold is the minimum confidence for an automatic letter.
	// Confidences are calibrated (calibration.go): the threshold is the
	// accuracy a decision's situation must have shown on the benchmark
	// (or, for a situation it does not produce and for the oldest-due
	// policies, its declared confidence). The default 0.90 letters the
	// oldest-due policies (0.90–0.91) and suggests the situations kept
	// below it on purpose (a typo'd or cut number paid from another
	// customer's account, a payer rule while the text names another
	// document, a tolerance on a payer known only by a similar name).
	AutoThreshold float64
	// SuggestThreshold is the minimum score for a candidate to be listed.
	SuggestThreshold float64
	// MaxCandidates is how many candidates an exception lists.
	MaxCandidates int
	// SameAmount decides between several open items of one customer with
	// exactly the paid amount and no other evidence: "oldest" letters the
	// oldest due first, "suggest" leaves it to an accountant. It governs
	// combinations too: when several combinations of one customer's open
	// items pay the amount and the remittance does not single one out,
	// "oldest" letters the one due oldest (at a lower confidence, said in
	// the explanation), "suggest" leaves it to an accountant. Different
	// customers are never chosen between, and a combination search cut
	// short by its bounds always suggests.
	SameAmount string
	// MaxCombination bounds the number of items in a combination search.
	MaxCombination int
	// Tolerances for write-offs; none means exact amounts only.
	Tolerances []Tolerance
	// DueWindowDays, when > 0, only considers items due at most this many
	// days after the booking date (0: every open item is a candidate).
	DueWindowDays int
	// FX lists the currency pairs an item may be lettered across (none:
	// same currency only, a valid reference to an item in another currency
	// is suggested with reason currency_mismatch).
	FX []FXRule
	// CashDiscounts are the cash-discount policies, per currency: none
	// means a discount the payer took stays open on the item (the safe
	// default: the customer still owes it until someone decides).
	CashDiscounts []CashDiscount
	// Overpayment decides the excess of a payment that names its invoice
	// (a valid reference, or its number as written by its own customer)
	// and pays more than it owes: the invoice is lettered for its residual
	// and the excess is reported (PolicyException, the default) or put on
	// the customer's account (PolicyOnAccount).
	Overpayment string
	// DuplicatePayment decides a payment whose remittance names, as
	// written, only invoices already settled (paid twice?): reported for
	// review (PolicyException, the default) or, when they are one
	// customer's, put on its account (PolicyOnAccount). Never lettered to
	// another invoice, whatever was learned since.
	DuplicatePayment string
}

// DefaultConfig returns safe defaults.
func DefaultConfig() Config {
	return Config{
		AutoThreshold:    0.90,
		SuggestThreshold: 0.30,
		MaxCandidates:    3,
		SameAmount:       "oldest",
		MaxCombination:   6,
		Overpayment:      PolicyException,
		DuplicatePayment: PolicyException,
	}
}
