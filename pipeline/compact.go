package pipeline

import "context"

// atScaleMigration (schema 9) makes the store smaller and cheaper to
// write at a million payments (issue 18, docs/BENCHMARKS.md "The daemon at
// scale"):
//   - a transaction's decision is stored once: a new transaction's row
//     names the decision recorded with it (decision_key) and leaves its
//     decision column empty instead of holding a second copy of the JSON
//     (txDecision reads either form; rows written before keep theirs);
//   - the exceptions and the outbox are found through partial indexes
//     holding only those rows (an index entry per exception, per pending
//     and per refused decision, not one per transaction and decision);
//   - compacted_at: when the settled transaction was compacted (retention).
var atScaleMigration = []string{
	`ALTER TABLE transactions ADD COLUMN decision_key TEXT NOT NULL DEFAULT ''`,
	`ALTER TABLE transactions ADD COLUMN compacted_at TEXT NOT NULL DEFAULT ''`,
	`DROP INDEX transactions_exception`,
	`CREATE INDEX transactions_exception ON transactions (job) WHERE exception = 1`,
	`DROP INDEX decisions_state`,
	`CREATE INDEX decisions_pending ON decisions (job) WHERE state = 'pending'`,
	`CREATE INDEX decisions_rejected ON decisions (job) WHERE state = 'rejected'`,
	`CREATE INDEX decisions_reversals ON decisions (job) WHERE reverses <> ''`,
}

// txDecision is the SQL of the decision a transaction row (alias t) shows:
// its decision column, or when that is empty the data of the decision
// decision_key names (schema 9: stored once).
const txDecision = `COALESCE(NULLIF(t.decision, ''), (SELECT dk.data FROM decisions dk WHERE dk.job = t.job AND dk.key = t.decision_key), '')`

// collect reads every row of a query of text columns.
func collect(ctx context.Context, q dialectQ, query string, args ...any) ([][]string, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	var out [][]string
	for rows.Next() {
		r := make([]string, len(cols))
		ptrs := make([]any, len(cols))
		for i := range r {
			ptrs[i] = &r[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
