package state

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/lettrage/lettrage/domain"
	"github.com/lettrage/lettrage/pipeline/decide"
)

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
//   - compacted_at: when the settled transaction was compacted, and the
//     day the job last compacted (retention, at most once a day).
var atScaleMigration = []string{
	`ALTER TABLE transactions ADD COLUMN decision_key TEXT NOT NULL DEFAULT ''`,
	`ALTER TABLE transactions ADD COLUMN compacted_at TEXT NOT NULL DEFAULT ''`,
	`ALTER TABLE job_state ADD COLUMN compacted_on TEXT NOT NULL DEFAULT ''`,
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

// compactChunk is how many transactions one compaction commit takes.
const compactChunk = 1000

// compactTx keeps of a settled transaction what identifies it and what
// the audit trail and the identity rule read (docs/FORMATS.md
// "Transaction identity"): key, reference, account, amount, currency,
// direction, status, dates, end-to-end id, the bank's references and
// batch origin, the instructed amount and rate. The payer's name and
// account and the remittance information go.
func compactTx(t domain.Transaction) domain.Transaction {
	return domain.Transaction{Key: t.Key, Ref: t.Ref, Account: t.Account, Amount: t.Amount, Currency: t.Currency,
		Credit: t.Credit, Status: t.Status, Reversal: t.Reversal, Return: t.Return, BookingDate: t.BookingDate,
		ValueDate: t.ValueDate, EndToEndID: t.EndToEndID, Conversion: t.Conversion, Origin: t.Origin}
}

// compactItem keeps of an open item, as it was when lettered, what a
// reversal writes back and an auditor reads: its ID, customer, document
// number, currency, amount and residual.
func compactItem(it domain.OpenItem) domain.OpenItem {
	return domain.OpenItem{ID: it.ID, CustomerID: it.CustomerID, DocumentNumber: it.DocumentNumber,
		Currency: it.Currency, Amount: it.Amount, Residual: it.Residual}
}

// Compact compacts the job's settled history: transactions lettered,
// ignored or set aside, no longer exceptions, with nothing pending in the
// outbox, and unchanged since cutoff. Each keeps its identity (key,
// reference, account, amount, dates, bank references: compactTx), its
// file's hash and every decision row — outcome, allocations, rule,
// confidence, config hash, actor, origin, when decided and applied — with
// the items of its letters reduced to compactItem; what the deliveries
// said of it is reduced the same way. A file delivered again after
// compaction is recognised as before (by hash, and its transactions by
// identity) and letters nothing. It commits every compactChunk
// transactions (compaction is idempotent: an interrupted one resumes) and
// returns how many transactions it compacted.
func (s *Store) Compact(ctx context.Context, job string, cutoff, now time.Time) (int, error) {
	total := 0
	for {
		n, err := s.compactSome(ctx, job, cutoff.UTC().Format(time.RFC3339Nano), now.UTC().Format(time.RFC3339Nano))
		total += n
		if err != nil || n < compactChunk {
			return total, err
		}
	}
}

// compactSome compacts up to compactChunk transactions in one commit.
func (s *Store) compactSome(ctx context.Context, job, cutoff, at string) (n int, err error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("starting compaction: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	q := s.onTx(tx)
	rows, err := q.QueryContext(ctx, `SELECT `+txCols("t")+` FROM transactions t
		WHERE t.job = ? AND t.state IN (?, ?, ?) AND t.exception = 0 AND t.compacted_at = '' AND t.updated_at < ?
		AND NOT EXISTS (SELECT 1 FROM decisions d JOIN outbox o ON o.job = d.job AND o.key = d.key
			WHERE d.job = t.job AND d.tx_key = t.key AND o.state = '`+decide.DecPending+`')
		ORDER BY t.key LIMIT `+strconv.Itoa(compactChunk), job, decide.TxLettered, decide.TxIgnored, decide.TxCovered, cutoff)
	if err != nil {
		return 0, fmt.Errorf("finding settled transactions to compact: %w", err)
	}
	var txs []txRow
	for rows.Next() {
		var r txRow
		if err = rows.Scan(r.dest()...); err != nil {
			rows.Close()
			return 0, fmt.Errorf("finding settled transactions to compact: %w", err)
		}
		txs = append(txs, r)
	}
	if err = rows.Close(); err != nil {
		return 0, fmt.Errorf("finding settled transactions to compact: %w", err)
	}
	pq := s.prepared(tx)
	defer pq.Close()
	for _, r := range txs {
		if err = compactOne(ctx, q, pq, job, &r, at); err != nil {
			return 0, err
		}
	}
	if err = tx.Commit(); err != nil {
		return 0, fmt.Errorf("committing compaction: %w", err)
	}
	return len(txs), nil
}

// compactOne compacts one settled transaction, the items of its
// decisions and its deliveries.
func compactOne(ctx context.Context, q dialectQ, pq *preparedTx, job string, r *txRow, at string) error {
	key := r.key
	var t domain.Transaction
	if err := r.decode(&t); err != nil {
		return fmt.Errorf("compacting: %w", err)
	}
	c := compactTx(t)
	var buf []byte
	data, err := txSlimJSON(&buf, &c)
	if err != nil {
		return fmt.Errorf("encoding compacted transaction %q: %w", key, err)
	}
	if _, err := pq.ExecContext(ctx, `UPDATE transactions SET data = ?, compacted_at = ? WHERE job = ? AND key = ?`,
		data, at, job, key); err != nil {
		return fmt.Errorf("compacting transaction %q: %w", key, err)
	}
	items, err := collect(ctx, q, `SELECT key, items FROM decisions WHERE job = ? AND tx_key = ? AND items <> '' AND items <> 'null'`, job, key)
	if err != nil {
		return fmt.Errorf("reading the decisions of %q to compact: %w", key, err)
	}
	for _, d := range items {
		var its map[string]domain.OpenItem
		if err := json.Unmarshal([]byte(d[1]), &its); err != nil {
			return fmt.Errorf("decoding the items of decision %s to compact: %w", d[0], err)
		}
		for id, it := range its {
			its[id] = compactItem(it)
		}
		b, err := json.Marshal(its)
		if err != nil {
			return fmt.Errorf("encoding the items of decision %s: %w", d[0], err)
		}
		if _, err := pq.ExecContext(ctx, `UPDATE decisions SET items = ? WHERE job = ? AND key = ?`, string(b), job, d[0]); err != nil {
			return fmt.Errorf("compacting decision %s: %w", d[0], err)
		}
	}
	dls, err := collect(ctx, q, `SELECT file_hash, seq, data FROM deliveries WHERE job = ? AND tx_key = ?`, job, key)
	if err != nil {
		return fmt.Errorf("reading the deliveries of %q to compact: %w", key, err)
	}
	for _, d := range dls {
		var dt domain.Transaction
		if err := json.Unmarshal([]byte(d[2]), &dt); err != nil {
			return fmt.Errorf("decoding a delivery of %q to compact: %w", key, err)
		}
		b, err := json.Marshal(compactTx(dt))
		if err != nil {
			return fmt.Errorf("encoding a delivery of %q: %w", key, err)
		}
		seq, err := strconv.Atoi(d[1])
		if err != nil {
			return fmt.Errorf("reading a delivery of %q to compact: %w", key, err)
		}
		if _, err := pq.ExecContext(ctx, `UPDATE deliveries SET data = ? WHERE job = ? AND file_hash = ? AND seq = ?`,
			string(b), job, d[0], seq); err != nil {
			return fmt.Errorf("compacting a delivery of %q: %w", key, err)
		}
	}
	return nil
}

// compactedOn returns the day (YYYY-MM-DD) the job last compacted its
// history ("" never).
func (s *Store) compactedOn(ctx context.Context, job string) (string, error) {
	var day string
	err := s.onDB().QueryRowContext(ctx, `SELECT compacted_on FROM job_state WHERE job = ?`, job).Scan(&day)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("reading when the history was compacted: %w", err)
	}
	return day, nil
}

// markCompacted records the day the job compacted its history (nothing
// before the job's first commit: there is nothing to compact then).
func (s *Store) markCompacted(ctx context.Context, job, day string) error {
	if _, err := s.onDB().ExecContext(ctx, `UPDATE job_state SET compacted_on = ? WHERE job = ?`, day, job); err != nil {
		return fmt.Errorf("recording the compaction of the history: %w", err)
	}
	return nil
}

// CompactHistory is Compact at most once a day (the day of now): finding
// what to compact reads every settled transaction, which an idle pass
// should not.
func (s *Store) CompactHistory(ctx context.Context, job string, cutoff, now time.Time) (int, error) {
	today := now.UTC().Format("2006-01-02")
	if last, err := s.compactedOn(ctx, job); err != nil || last == today {
		return 0, err
	}
	n, err := s.Compact(ctx, job, cutoff, now)
	if err != nil {
		return n, err
	}
	return n, s.markCompacted(ctx, job, today)
}
