package pipeline

import (
	"context"
	"time"
)

// SetAsideDays is how far back (by booking date) the workbook's set-aside
// sheet lists what was set aside.
const SetAsideDays = 90

// SetAsideTxs returns the transactions of job set aside — ignored (debits,
// entries not booked, reversals, an accountant's ignore), batch entries
// covered by their details or awaiting them — booked since since.
func (s *Store) SetAsideTxs(ctx context.Context, job string, since time.Time) ([]StoredTx, error) {
	return s.queryTxs(ctx, `WHERE job = ? AND state IN (?, ?, ?) AND booking_date >= ?`,
		job, txIgnored, txCovered, txWaiting, since.Format(time.DateOnly))
}
