package state

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// On PostgreSQL a commit's batched rows (new transactions, their links,
// the decisions: rowBatch) go in with binary COPY (pgx's CopyFrom) instead
// of multi-row INSERTs of a hundred rows: no SQL text to parse and no
// 1,600 parameters to bind per hundred rows, thousands of rows per round
// trip. COPY cannot skip a conflicting row, so the batches whose INSERT
// says ON CONFLICT … DO NOTHING (links, decisions) are copied into a
// temporary table of the same columns (dropped at commit) and merged from
// there by one INSERT … SELECT … ON CONFLICT, in the order the rows were
// batched (the order the INSERTs laid them in the table) — unless, for the
// decisions, one look-up of the batch's keys finds none recorded (a first
// pass's decisions: straight in). New transactions are copied straight into their table: a
// key already recorded fails the COPY as it failed the INSERT. All of it
// runs in the commit's database transaction, on its connection (crash
// protocol unchanged, docs/CRASH.md).

// copyRows is how many rows one COPY carries: the rows' values (their
// JSON among them) are held until it is written.
const copyRows = 5000

// pgCopier writes one commit's batched rows with COPY on the connection
// the commit's transaction runs on.
type pgCopier struct {
	conn   *sql.Conn
	staged map[string]bool // staging tables created in this transaction
}

// beginCommit starts a commit's database transaction: on PostgreSQL on a
// connection of its own, with the copier that writes its batches on it;
// on SQLite as before (the copier is nil).
func (s *Store) beginCommit(ctx context.Context) (*sql.Tx, *pgCopier, error) {
	if s.dialect != Postgres {
		tx, err := s.db.BeginTx(ctx, nil)
		return tx, nil, err
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return nil, nil, err
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		_ = conn.Close()
		return nil, nil, err
	}
	return tx, &pgCopier{conn: conn, staged: map[string]bool{}}, nil
}

// release gives the connection back to the pool (after the commit or
// the rollback).
func (p *pgCopier) release() {
	if p != nil {
		_ = p.conn.Close()
	}
}

// attach makes w's batches write with COPY, copyRows rows at a time.
func (p *pgCopier) attach(w *commitWriter) {
	if p == nil {
		return
	}
	for _, b := range []*rowBatch{&w.txs, &w.links, &w.decs, &w.outbox} {
		table, cols := copyTarget(b.head)
		tail := strings.TrimSpace(b.tail)
		byKey := strings.HasPrefix(tail, "ON CONFLICT (job, key) ") && len(cols) > 1 && cols[0] == "job" && cols[1] == "key"
		b.limit = copyRows
		b.copy = func(ctx context.Context, args []any, rows int) error {
			return p.write(ctx, table, cols, tail, byKey, args, rows)
		}
	}
}

// copyTarget reads the table and the columns of an "INSERT INTO table
// (a, b, …)" head.
func copyTarget(head string) (table string, cols []string) {
	open, end := strings.IndexByte(head, '('), strings.LastIndexByte(head, ')')
	table = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(head[:open]), "INSERT INTO"))
	for c := range strings.SplitSeq(head[open+1:end], ",") {
		cols = append(cols, strings.TrimSpace(c))
	}
	return table, cols
}

// write copies rows rows of args (len(cols) values each) into table:
// straight in when onConflict is empty, else through its staging table,
// merged with onConflict. byKey says that the conflicts are on the first
// two columns, job and key (decisions): then rows whose keys are neither
// repeated nor recorded go straight in too (a first pass's decisions are
// all new: their keys derive from their new transactions').
func (p *pgCopier) write(ctx context.Context, table string, cols []string, onConflict string, byKey bool, args []any, rows int) error {
	return p.conn.Raw(func(dc any) error {
		sc, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("copying into %s: not a pgx connection (%T)", table, dc)
		}
		c := sc.Conn()
		src := &flatRows{args: args, width: len(cols), rows: rows}
		straight := onConflict == ""
		if !straight && byKey {
			var err error
			if straight, err = newKeys(ctx, c, table, args, len(cols), rows); err != nil {
				return err
			}
		}
		if straight {
			if _, err := c.CopyFrom(ctx, pgx.Identifier{table}, cols, src); err != nil {
				return fmt.Errorf("copying into %s: %w", table, err)
			}
			return nil
		}
		stage := "lettrage_copy_" + table
		list := strings.Join(cols, ", ")
		if !p.staged[stage] {
			// The staging table has the target's column types (the
			// copy is typed by them) and the rows' order.
			if _, err := c.Exec(ctx, `CREATE TEMP TABLE `+stage+` ON COMMIT DROP AS SELECT 0::bigint AS ord, `+list+
				` FROM `+table+` WITH NO DATA`); err != nil {
				return fmt.Errorf("creating the staging table of %s: %w", table, err)
			}
			p.staged[stage] = true
		}
		src.ordered = true
		if _, err := c.CopyFrom(ctx, pgx.Identifier{stage}, append([]string{"ord"}, cols...), src); err != nil {
			return fmt.Errorf("copying into the staging table of %s: %w", table, err)
		}
		// One round trip (simple protocol: no arguments): merged in the
		// rows' order, then emptied for the next batch.
		if _, err := c.Exec(ctx, `INSERT INTO `+table+` (`+list+`) SELECT `+list+` FROM `+stage+` ORDER BY ord `+onConflict+
			`; TRUNCATE `+stage); err != nil {
			return fmt.Errorf("merging %d rows into %s: %w", rows, table, err)
		}
		return nil
	})
}

// newKeys reports whether the rows (width values each, job and key
// first) all have one job, keys of their own and none recorded in table.
func newKeys(ctx context.Context, c *pgx.Conn, table string, args []any, width, rows int) (bool, error) {
	job, ok := args[0].(string)
	if !ok {
		return false, nil
	}
	keys := make([]string, 0, rows)
	seen := make(map[string]struct{}, rows)
	for i := range rows {
		j, jok := args[i*width].(string)
		k, kok := args[i*width+1].(string)
		if _, dup := seen[k]; !jok || !kok || j != job || dup {
			return false, nil
		}
		seen[k] = struct{}{}
		keys = append(keys, k)
	}
	var recorded bool
	if err := c.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM `+table+` WHERE job = $1 AND key = ANY($2))`, job, keys).Scan(&recorded); err != nil {
		return false, fmt.Errorf("looking up the keys of %d rows in %s: %w", rows, table, err)
	}
	return !recorded, nil
}

// flatRows is a pgx.CopyFromSource over rows of width values laid end to
// end (a rowBatch's args); ordered puts each row's index first.
type flatRows struct {
	args        []any
	width, rows int
	i           int // the next row
	ordered     bool
	row         []any
}

func (r *flatRows) Next() bool {
	if r.i >= r.rows {
		return false
	}
	vals := r.args[r.i*r.width : (r.i+1)*r.width]
	if r.ordered {
		// pgx encodes a row before it asks for the next: one slice serves.
		r.row = append(append(r.row[:0], int64(r.i)), vals...)
	} else {
		r.row = vals
	}
	r.i++
	return true
}

func (r *flatRows) Values() ([]any, error) { return r.row, nil }

func (r *flatRows) Err() error { return nil }
