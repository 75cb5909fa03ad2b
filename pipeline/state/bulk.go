package state

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
)

// How a SQLite commit writes many rows (issue 18, docs/BENCHMARKS.md
// "Round five: the first pass's commit"). The keys of transactions and
// decisions are hashes: inserted in the order the pass decided them, each
// row lands at a random place of the primary key's b-tree and of the
// secondary indexes, and once those outgrow the page cache (a first pass
// of a million payments: ≈ 250 MB of indexes against a 128 MiB cache)
// every insert reads a page back and spills another. So:
//
//   - writeInKeyOrder inserts the new transactions and their decisions in
//     the order of the transaction key, and the links in theirs: the
//     primary key of transactions and decisions_tx are filled left to
//     right, a page at a time, and the rowids of both tables follow the
//     transaction key, in step (the exceptions, read with their decision,
//     and MarkApplied, which updates the decisions in rowid order, walk
//     both tables in order). Only the decisions' primary key takes its
//     entries at random: ≈ 45 MB at a million, within the page cache;
//   - dropIndexesForBulk, when a commit brings at least as many new
//     transactions as the store holds (a first pass), drops the secondary
//     index whose entries come in random order (bulkIndex, with the indexes
//     of its table created after it) inside the commit's transaction, and
//     createIndexes builds them again, in their order, with the very
//     SQL that made them, before it commits: SQLite builds an index by
//     sorting its entries, far cheaper than as many random inserts. Same
//     transaction: a crash leaves the old state or the new, indexes
//     included, and the schema after is the schema before;
//   - each multi-row INSERT is written behind (rowBatch.behind,
//     preparedTx.execBehind): SQLite runs it on a goroutine of its own
//     while the next batch's rows are encoded in a second set of
//     arguments and buffer, one statement at a time, in the same order;
//     every other statement of the transaction, and its commit, waits for
//     it first, and a failure behind fails the commit as before.

// linkRow is one batch link a commit records.
type linkRow struct{ link, tx, role string }

// keyRow is one settled_keys row a commit records: the key k of an item
// the letter settled.
type keyRow struct{ k, letter string }

// writeInKeyOrder writes the commit's transactions, then their decisions,
// both in the order of the transaction key, then its links and the settled
// items' keys in theirs. The order of the rows a
// commit writes is otherwise free: the transactions, links and decisions
// are separate tables, a decision's row names its transaction by key only
// (no foreign key), and rows with the same key keep the order the pass
// gave them (equal keys sorted by their place in the commit), so a transaction updated after its insert is
// still updated after it, and the first of two equal decisions or links
// is still the one kept.
func (w *commitWriter) writeInKeyOrder(ctx context.Context) error {
	ds := w.c.Decisions
	order := make([]int32, len(ds))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int { return cmp.Or(strings.Compare(ds[a].Tx.Key, ds[b].Tx.Key), cmp.Compare(a, b)) })
	w.keyOrder = true
	for _, i := range order {
		if err := w.transaction(ctx, ds[i]); err != nil {
			return err
		}
	}
	if err := w.txs.flush(ctx, w.pq); err != nil {
		return fmt.Errorf("recording transactions: %w", err)
	}
	for _, i := range order {
		if err := w.decisionRow(ctx, ds[i]); err != nil {
			return err
		}
	}
	if err := w.decs.flush(ctx, w.pq); err != nil {
		return fmt.Errorf("recording decisions: %w", err)
	}
	if err := w.flushOutboxRows(ctx); err != nil {
		return err
	}
	slices.SortStableFunc(w.linkRows, func(a, b linkRow) int {
		return cmp.Or(strings.Compare(a.link, b.link), strings.Compare(a.tx, b.tx))
	})
	for _, l := range w.linkRows {
		if err := w.links.add(ctx, w.pq, w.c.Job, l.link, l.tx, l.role); err != nil {
			return fmt.Errorf("recording transaction links: %w", err)
		}
	}
	w.linkRows = nil
	// settled_keys is keyed by (job, k, letter): its rows go in in that
	// order too (at a million letters, ≈ 3 million keys inserted at
	// random were 9 % of a first pass's CPU: docs/BENCHMARKS.md, "After
	// round five's merges").
	slices.SortFunc(w.keyRows, func(a, b keyRow) int {
		return cmp.Or(strings.Compare(a.k, b.k), strings.Compare(a.letter, b.letter))
	})
	for _, r := range w.keyRows {
		if err := w.keys.add(ctx, w.pq, w.c.Job, r.k, r.letter); err != nil {
			return fmt.Errorf("recording the keys of settled items: %w", err)
		}
	}
	w.keyRows = nil
	return nil
}

// bulkIndex is the secondary index a bulk commit builds again: the one
// whose entries arrive in random order (identity classes are hashes). The
// others follow the transaction key (decisions_tx), lead with the job and
// then follow the rowid (the partial indexes of exceptions, pending,
// refused and reversal decisions) or a handful of states: their entries
// are appended. The indexes of its table created after it are built again
// with it, in their order: SQLite's planner, between two indexes it
// cannot tell apart (no ANALYZE), takes the one created last, and the
// exceptions must still be read through transactions_exception, not by
// walking transactions_ident (docs/BENCHMARKS.md "Round five").
const bulkIndex = "transactions_ident"

// bulkMinRows is the fewest new transactions for which a commit rebuilds
// the indexes rather than inserting into them (a variable for the tests).
// One: building the two indexes again reads at most twice the rows the
// commit inserts, so a small first commit (every end-to-end and crash
// test's first pass) takes the same path as a first pass of a million.
var bulkMinRows = 1

// dropIndexesForBulk drops bulkIndex (and the indexes of its table
// created after it) when the commit c brings at least bulkMinRows new
// transactions and at least as many as the store holds (the highest rowid
// of transactions: no count of the table), and returns the SQL that made
// them, for createIndexes; nil when it dropped nothing. The primary keys
// stay (their unique checks are the commit's own).
func dropIndexesForBulk(ctx context.Context, pq *preparedTx, c Commit) ([]string, error) {
	n := 0
	for i := range c.Decisions {
		if c.Decisions[i].New {
			n++
		}
	}
	if n < bulkMinRows {
		return nil, nil
	}
	var held int64
	if err := pq.tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(rowid), 0) FROM transactions`).Scan(&held); err != nil {
		return nil, fmt.Errorf("counting recorded transactions: %w", err)
	}
	if held > int64(n) {
		return nil, nil
	}
	rows, err := pq.tx.QueryContext(ctx, `SELECT name, sql FROM sqlite_master m
		WHERE type = 'index' AND sql IS NOT NULL AND tbl_name = (SELECT tbl_name FROM sqlite_master WHERE name = ?)
		AND rowid >= (SELECT rowid FROM sqlite_master WHERE name = ?) ORDER BY rowid`, bulkIndex, bulkIndex)
	if err != nil {
		return nil, fmt.Errorf("listing the indexes to rebuild: %w", err)
	}
	var names, sqls []string
	for rows.Next() {
		var name, sql string
		if err := rows.Scan(&name, &sql); err != nil {
			rows.Close()
			return nil, fmt.Errorf("listing the indexes to rebuild: %w", err)
		}
		names, sqls = append(names, name), append(sqls, sql)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing the indexes to rebuild: %w", err)
	}
	for _, name := range names {
		if _, err := pq.tx.ExecContext(ctx, `DROP INDEX "`+name+`"`); err != nil {
			return nil, fmt.Errorf("dropping index %s for a bulk commit: %w", name, err)
		}
	}
	return sqls, nil
}

// createIndexes runs the SQL dropIndexesForBulk returned.
func createIndexes(ctx context.Context, pq *preparedTx, sqls []string) error {
	if err := pq.settle(); err != nil { // the rows written behind, first
		return err
	}
	for _, q := range sqls {
		if _, err := pq.tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("building index again after a bulk commit (%s): %w", q, err)
		}
	}
	return nil
}
