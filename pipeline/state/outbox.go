package state

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/lettrage/lettrage/pipeline/decide"
)

// The outbox's state (docs/CRASH.md) has a table of its own since schema
// 12: outbox, one narrow row per decision that goes to the ledger (an
// automatic letter, a manual one, a reversal: every decision committed
// PENDING), its state (pending, applied, rejected) and when it last moved
// (at). The commit writes it beside the decision's row; the write-back
// moves it (MarkApplied, MarkRejected, MarkReversalsRejected). A
// decision's row in decisions (≈ 1 KB: its JSON and its items) is no
// longer rewritten when the ledger confirms it: the first pass of
// 1,000,000 payments rewrote ≈ 800 MB of decision pages to change two
// short columns (docs/BENCHMARKS.md, "Round seven: the outbox's state
// apart").
//
// decisions.state keeps what the commit wrote (record, or pending for a
// decision that goes to the ledger) and becomes rejected, with applied_at,
// when the ledger refuses the decision: refusals are rare, rewrite the
// row anyway (its explanation), and the readers that only leave refused
// letters out (the settled items, the reversals, LastRejected, the
// refusals an examination counts) read decisions alone. Whether a
// decision is still pending or was applied is its outbox row's state
// when it has one: outboxState is that SQL. A decision without one is
// of record, or was applied or refused before schema 12 (migrateOutbox),
// when decisions.state said so.

// outboxState is the SQL of the outbox state of a decision row (alias d)
// left-joined to its outbox row (alias o), and of when it was set: the
// outbox's when there is one, else the decision's own (record).
const (
	outboxState = `COALESCE(o.state, d.state)`
	outboxAt    = `COALESCE(o.at, d.applied_at)`
	outboxJoin  = ` LEFT JOIN outbox o ON o.job = d.job AND o.key = d.key`
)

// migrateOutbox creates the outbox (schema 12) and moves into it the
// decisions pending at the time, found by decisions_pending (then dropped:
// the pending decisions are found by outbox_pending; with an ORDER BY the
// key SQLite read every decision row through the primary key instead, 2.4
// CPU s at 100,000 payments, none pending). The decisions
// applied or refused before keep their state in decisions alone, which
// outboxState reads when a decision has no outbox row: copying them would
// read every decision row of the store (≈ 1 GB at 1,000,000 payments) to
// write what the readers already find.
func migrateOutbox(ctx context.Context, q dialectQ) error {
	create := `CREATE TABLE outbox (job TEXT NOT NULL, key TEXT NOT NULL, state TEXT NOT NULL,
		at TEXT NOT NULL DEFAULT '', PRIMARY KEY (job, key))`
	if !q.pg {
		create += ` WITHOUT ROWID`
	}
	for _, stmt := range []string{
		create,
		`INSERT INTO outbox (job, key, state, at) SELECT job, key, state, applied_at FROM decisions
			WHERE state = '` + decide.DecPending + `'`,
		`DROP INDEX decisions_pending`,
		`CREATE INDEX outbox_pending ON outbox (job) WHERE state = '` + decide.DecPending + `'`,
	} {
		if _, err := q.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("moving the outbox's state to its own table: %w", err)
		}
	}
	return nil
}

// outboxRow is one outbox row a commit records on SQLite, collected and
// sorted by key before they go in: the order of the table (WITHOUT ROWID),
// whereas the decisions go in in the order of their transactions' keys.
type outboxRow struct{ key string }

func outboxBatch() rowBatch {
	return rowBatch{head: `INSERT INTO outbox (job, key, state)`, tail: ` ON CONFLICT (job, key) DO NOTHING`, width: 3}
}

// outboxEntry records that decision d goes to the ledger, PENDING, when
// the commit stores it so (decide.Shown).
func (w *commitWriter) outboxEntry(ctx context.Context, d decide.DecisionRecord, decState string) error {
	if decState != decide.DecPending {
		return nil
	}
	if w.keyOrder {
		w.outboxRows = append(w.outboxRows, outboxRow{key: d.Key})
		return nil
	}
	if err := w.outbox.add(ctx, w.pq, w.c.Job, d.Key, decide.DecPending); err != nil {
		return fmt.Errorf("recording the outbox: %w", err)
	}
	return nil
}

// flushOutboxRows writes the outbox rows collected in key order.
func (w *commitWriter) flushOutboxRows(ctx context.Context) error {
	slices.SortFunc(w.outboxRows, func(a, b outboxRow) int { return cmp.Compare(a.key, b.key) })
	for _, r := range w.outboxRows {
		if err := w.outbox.add(ctx, w.pq, w.c.Job, r.key, decide.DecPending); err != nil {
			return fmt.Errorf("recording the outbox: %w", err)
		}
	}
	w.outboxRows = nil
	return nil
}

// markOutbox sets the outbox state of one decision, and when.
func markOutbox(ctx context.Context, q dialectQ, job, key, state, when string) error {
	if _, err := q.ExecContext(ctx, `UPDATE outbox SET state = ?, at = ? WHERE job = ? AND key = ?`, state, when, job, key); err != nil {
		return fmt.Errorf("marking decision %s %s: %w", key, state, err)
	}
	return nil
}
