package state

import (
	"context"
	"time"

	"github.com/lettrage/lettrage/pipeline/decide"
)

// SetAsideTxs returns the transactions of job set aside — ignored (debits,
// entries not booked, reversals, an accountant's ignore), batch entries
// covered by their details or awaiting them — booked since since.
func (s *Store) SetAsideTxs(ctx context.Context, job string, since time.Time) ([]decide.StoredTx, error) {
	return s.queryTxs(ctx, `WHERE job = ? AND state IN (?, ?, ?) AND booking_date >= ?`,
		job, decide.TxIgnored, decide.TxCovered, decide.TxWaiting, since.Format(time.DateOnly))
}
