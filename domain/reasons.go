package domain

// Reasons the matcher reports in Decision.Reason (exceptions and, for
// overpayment, automatic decisions that leave an excess).
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

// Reasons the pipeline gives to decisions it makes or changes itself.
const (
	// ReasonUnlettered: an accountant undid the letter; from then on the
	// payment is only suggested, never lettered again automatically.
	ReasonUnlettered = "unlettered"
	// ReasonReversedByBank: the bank reversed or returned the payment (its
	// letter, if any, was undone); nothing is left to letter.
	ReasonReversedByBank = "reversed_by_bank"
	// ReasonReversalNotUndone: the bank reversed a lettered payment and the
	// ledger cannot undo letters: an accountant undoes it in the ERP.
	ReasonReversalNotUndone = "reversal_not_undone"
)
