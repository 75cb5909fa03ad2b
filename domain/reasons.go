package domain

// Reasons reported in Decision.Reason.
const (
	ReasonNoCandidate        = "no_candidate"
	ReasonAmbiguousCustomers = "ambiguous_customers"
	ReasonAmountMismatch     = "amount_mismatch"
	ReasonOverpayment        = "overpayment"
	ReasonNotLetterable      = "not_letterable"
	ReasonUnknownPayer       = "unknown_payer"
	ReasonSameAmount         = "same_amount"
	ReasonAmbiguousCombo     = "ambiguous_combination"
	ReasonItemSettled        = "item_settled"
	ReasonCurrencyMismatch   = "currency_mismatch"
	ReasonLowConfidence      = "low_confidence"
)
