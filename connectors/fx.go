package connectors

import (
	"errors"
	"fmt"
)

// ErrCrossCurrency is wrapped by the rejection of a decision with a
// cross-currency allocation (domain.Allocation.CrossCurrency, from an FX
// rule) by a ledger that cannot write one yet.
var ErrCrossCurrency = errors.New("cross-currency lettering not supported")

// RefuseCrossCurrency returns the rejection of d by the ledger named
// ledger when one of its allocations settles an item in another currency
// than the cash; nil otherwise. Ledgers that cannot post such a letter call
// it in their Apply pre-checks, so that the payment becomes an exception
// instead of a wrong posting.
func RefuseCrossCurrency(ledger string, d KeyedDecision) *RejectedError {
	for _, a := range d.Decision.Allocations {
		if a.CrossCurrency() {
			return &RejectedError{Key: d.Key, Err: ErrCrossCurrency,
				Reason: fmt.Sprintf("cross-currency lettering is not supported by the %s ledger yet (item %s in %s, paid in %s)",
					ledger, a.ItemID, a.ItemCurrency, d.Tx.Currency)}
		}
	}
	return nil
}
