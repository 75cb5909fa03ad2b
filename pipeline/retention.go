package pipeline

import "context"

// How far back the pass keeps and looks: the retention of settled history
// (compacted by the store, state.retention_days) and the window of the
// workbook's set-aside sheet.

// MinRetentionDays is the shortest retention compaction accepts: the
// window in which a lettered payment can still come back (a SEPA
// direct-debit return, a reversal) and in which the matcher reads what
// was lettered and settled (LetteredMemoryDays).
const MinRetentionDays = LetteredMemoryDays

// retentionDays is the job's effective retention: 0 (keep everything)
// or at least MinRetentionDays.
func (j *Job) retentionDays() int {
	if j.RetentionDays <= 0 {
		return 0
	}
	return max(j.RetentionDays, MinRetentionDays)
}

// compact compacts the settled history older than the job's retention
// (state.retention_days; nothing when 0), once a day.
func (p *pass) compact(ctx context.Context) error {
	j := p.j
	days := j.retentionDays()
	if days == 0 {
		return nil
	}
	now := j.now()
	n, err := j.Store.CompactHistory(ctx, j.Name, now.AddDate(0, 0, -days), now)
	if err != nil {
		return err
	}
	if n > 0 {
		p.log.Info("settled history compacted", "component", "state", "transactions", n, "retention_days", days)
	}
	return nil
}

// SetAsideDays is how far back (by booking date) the workbook's set-aside
// sheet lists what was set aside.
const SetAsideDays = 90
