package connectors

import (
	"errors"
	"fmt"
)

// The vocabulary every ledger uses to refuse a decision, beside
// RejectedError: one definition, so that errors.Is and errors.As work the
// same whatever the ledger.

// ErrNotAuto is returned (wrapped) by Apply for a decision that is not
// automatic or carries neither allocations nor postings to write.
var ErrNotAuto = errors.New("only automatic decisions with allocations or postings can be applied")

// ErrItemNotOpen is returned (wrapped in an *ItemError) when an invoice an
// allocation names is no longer open in the ledger (paid or cancelled
// meanwhile).
var ErrItemNotOpen = errors.New("invoice is no longer open")

// ItemError locates a write-back problem: the decision and the invoice.
type ItemError struct {
	Key    string
	ItemID string
	Err    error
}

func (e *ItemError) Error() string {
	return fmt.Sprintf("decision %q, invoice %s: %v", e.Key, e.ItemID, e.Err)
}

func (e *ItemError) Unwrap() error { return e.Err }

// ReasonOf is the text for accountants of a refusal (RejectedError.Reason):
// the ledger's own message when own finds one in err, else the invoice an
// *ItemError locates, else err's text.
func ReasonOf(err error, own func(error) (string, bool)) string {
	if own != nil {
		if msg, ok := own(err); ok {
			return msg
		}
	}
	var ie *ItemError
	if errors.As(err, &ie) {
		return fmt.Sprintf("invoice %s: %v", ie.ItemID, ie.Err)
	}
	return err.Error()
}
