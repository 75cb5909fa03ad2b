package connectors

import (
	"context"
	"time"

	"github.com/lettrage/lettrage/domain"
)

// Reversal undoes a lettering the ledger holds: the allocations written
// under the decision Reverses go back to their items.
type Reversal struct {
	Key         string // idempotency key of the reversal itself
	Reverses    string // key of the decision whose allocations are undone
	Tx          domain.Transaction
	Allocations []domain.Allocation        // as written by the reversed decision
	Postings    []domain.Posting           // on-account and write-off postings it wrote
	Items       map[string]domain.OpenItem // the items they named
	Reason      string                     // why (shown in the ledger where it can)
	At          time.Time
}

// Unletterer is implemented by ledgers that can reverse a lettering. It is
// idempotent under Reversal.Key, and Ledger.Applied reports reversal keys
// like decision keys.
type Unletterer interface {
	Unletter(ctx context.Context, r Reversal) error
}
