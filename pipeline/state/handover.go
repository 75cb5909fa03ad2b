package state

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/lettrage/lettrage/pipeline/decide"
)

// OpenRows is what OpenAndExceptions reads in one query: the open
// transactions a pass matches again and the other exceptions, so that a
// pass can hand the exceptions reports what it read instead of the
// reports reading every exception a second time (issue 18).
type OpenRows struct {
	// Open are the transactions in state open (Transactions(TxOpen)), in
	// txOrder.
	Open []decide.StoredTx
	// NotException are the keys of the rows of Open whose row is not
	// flagged an exception (none, as the commit writes them; kept exact).
	NotException map[string]bool
	// Others are the exceptions in any other state (lettered with an
	// excess, held…), in txOrder.
	Others []decide.StoredTx
}

// OpenAndExceptions reads the job's open transactions and its other
// exceptions in one query: Open is what Transactions(ctx, job, TxOpen)
// gives, and Open without NotException, with Others, is what Exceptions
// gives, at the same instant.
func (s *Store) OpenAndExceptions(ctx context.Context, job string) (OpenRows, error) {
	var r OpenRows
	// The rows are counted first (on the indexes alone), so that the
	// slices are made once: grown by doubling, 180,000 rows of 700 bytes
	// were copied over and over (2.3 s of a 1M delta).
	var open, exceptions int
	if err := s.onDB().QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM transactions WHERE job = ? AND state = ?),
		(SELECT COUNT(*) FROM transactions WHERE job = ? AND exception = 1)`, job, decide.TxOpen, job).Scan(&open, &exceptions); err != nil {
		return OpenRows{}, fmt.Errorf("counting open transactions: %w", err)
	}
	r.Open = make([]decide.StoredTx, 0, open)
	r.Others = make([]decide.StoredTx, 0, max(exceptions-open, 0))
	// One statement, one snapshot; two parts, so that each is searched
	// by its index (the open rows by transactions_state, the other
	// exceptions by the partial index transactions_exception): SQLite
	// answers an OR of the two by walking every row of the job.
	err := s.scanTxs(ctx, selectTxs+`WHERE t.job = ? AND t.state = ? UNION ALL `+selectTxs+`WHERE t.job = ? AND t.exception = 1 AND t.state <> ?`,
		[]any{job, decide.TxOpen, job, decide.TxOpen},
		func(st decide.StoredTx, exception bool) {
			if st.State != decide.TxOpen {
				r.Others = append(r.Others, st)
				return
			}
			if !exception {
				if r.NotException == nil {
					r.NotException = map[string]bool{}
				}
				r.NotException[st.Tx.Key] = true
			}
			r.Open = append(r.Open, st)
		})
	if err != nil {
		return OpenRows{}, err
	}
	r.Open, r.Others = InTxOrder(r.Open), InTxOrder(r.Others)
	return r, nil
}

// InTxOrder returns txs in txOrder: txs itself when they are, else a new
// slice (SortTxs without copying them back into txs).
func InTxOrder(txs []decide.StoredTx) []decide.StoredTx {
	perm := OrderBy(len(txs), func(i int) OrderKey { return txOrderKey(&txs[i].Tx) })
	if slices.IsSorted(perm) {
		return txs
	}
	out := make([]decide.StoredTx, len(txs))
	for k, i := range perm {
		out[k] = txs[i]
	}
	return out
}

// MergeTxs merges lists each in txOrder into one in txOrder, made once.
func MergeTxs(lists ...[]decide.StoredTx) []decide.StoredTx {
	n := 0
	for _, l := range lists {
		n += len(l)
	}
	out := make([]decide.StoredTx, 0, n)
	heads := make([]OrderKey, len(lists))
	for i, l := range lists {
		if len(l) > 0 {
			heads[i] = txOrderKey(&l[0].Tx)
		}
	}
	for len(out) < n {
		best := -1
		for i, l := range lists {
			if len(l) > 0 && (best < 0 || compareOrder(&heads[i], &heads[best]) < 0) {
				best = i
			}
		}
		out = append(out, lists[best][0])
		if lists[best] = lists[best][1:]; len(lists[best]) > 0 {
			heads[best] = txOrderKey(&lists[best][0].Tx)
		}
	}
	return out
}

// keysPerQuery bounds the keys of one ExceptionsAmong query (SQLite's
// host parameters, and one statement's size).
const keysPerQuery = 500

// ExceptionsAmong returns the exceptions among the job's transactions
// keyed keys (those whose row is flagged an exception), as Exceptions
// gives them, in no particular order.
func (s *Store) ExceptionsAmong(ctx context.Context, job string, keys []string) ([]decide.StoredTx, error) {
	var out []decide.StoredTx
	for len(keys) > 0 {
		n := min(len(keys), keysPerQuery)
		args := make([]any, 0, n+1)
		args = append(args, job)
		for _, k := range keys[:n] {
			args = append(args, k)
		}
		err := s.scanTxs(ctx, selectTxs+`WHERE t.job = ? AND t.exception = 1 AND t.key IN (`+placeholders(n)+`)`, args,
			func(st decide.StoredTx, _ bool) { out = append(out, st) })
		if err != nil {
			return nil, err
		}
		keys = keys[n:]
	}
	return out, nil
}

// selectTxs is what scanTxs reads of a transaction row (alias t).
var selectTxs = `SELECT ` + txCols("t") + `, ` + txDecision + `, t.state, t.file_hash, t.exception FROM transactions t `

// scanTxs is queryTxs's reading of the rows query selects (selectTxs),
// with each row's exception flag, handed to each as it is decoded.
func (s *Store) scanTxs(ctx context.Context, query string, args []any, each func(st decide.StoredTx, exception bool)) error {
	rows, err := s.onDB().QueryContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("reading transactions: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r txRow
		var dec string
		var exception int
		var st decide.StoredTx
		if err := rows.Scan(append(r.dest(), &dec, &st.State, &st.FileHash, &exception)...); err != nil {
			return fmt.Errorf("reading transactions: %w", err)
		}
		if err := r.decode(&st.Tx); err != nil {
			return err
		}
		if err := json.Unmarshal([]byte(dec), &st.Decision); err != nil {
			return fmt.Errorf("decoding stored decision: %w", err)
		}
		each(st, exception == 1)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("reading transactions: %w", err)
	}
	return nil
}
