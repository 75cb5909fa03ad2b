package decide

import "github.com/lettrage/lettrage/domain"

// Reasons a transaction read is not customer cash to letter, counted in
// the summary's set-aside line, the metric and the workbook's set-aside
// sheet besides the identity rule's (ReasonDuplicateDelivery…).
const (
	SetAsideDebit     = "debit"                 // money going out
	SetAsideNotBooked = "not_booked"            // a pending or informational entry
	SetAsideReversal  = "reversal"              // a bank reversal or return entry
	SetAsideByHand    = "ignored_by_accountant" // an accountant's ignore
)

// IgnoredReason classifies a transaction the matcher ignored: "" when the
// identity rule already counted it (set aside by its own reason).
func IgnoredReason(tx domain.Transaction, d domain.Decision) string {
	switch {
	case d.Reason != domain.ReasonNotLetterable:
		return ""
	case tx.Reversal || tx.Return:
		return SetAsideReversal
	case !tx.Credit:
		return SetAsideDebit
	case tx.Status != "" && tx.Status != "BOOK":
		return SetAsideNotBooked
	}
	return ""
}

// Reasons a transaction is set aside or reported by the identity rule.
const (
	ReasonDuplicateDelivery = "duplicate_delivery"  // a re-delivery of a recorded transaction
	ReasonPossibleDuplicate = "possible_duplicate"  // an exception: same reference, contradicting content
	ReasonCoveredByDetails  = "covered_by_details"  // a batch entry whose details were read
	ReasonDetailsOfLettered = "details_of_lettered" // details of a batch entry lettered as a whole
	ReasonAwaitingDetails   = "awaiting_details"    // a batch entry waiting for its camt.054
	ReasonBatchNoDetails    = "batch_without_details"
)

// SetAsideCategory names why a stored transaction is set aside.
func SetAsideCategory(st StoredTx) string {
	d := st.Decision
	switch {
	case st.State == TxWaiting:
		return ReasonAwaitingDetails
	case st.State == TxCovered:
		if d.Reason != "" {
			return d.Reason
		}
		return ReasonCoveredByDetails
	case d.Rule == "manual:ignore":
		return SetAsideByHand
	case d.Reason == domain.ReasonReversedByBank:
		return domain.ReasonReversedByBank
	}
	if r := IgnoredReason(st.Tx, d); r != "" {
		return r
	}
	return d.Reason
}
