// Package state is the durable state of Lettrage: the SQL store (SQLite or
// PostgreSQL) with its schema, migrations and dialects, the records a pass
// commits to it (files, transactions and their decisions, the outbox of
// letters to write back, learned facts) and what it reads back, in the one
// ordering of order.go. The pass (pipeline) reads and records through its
// StateStore interface; the decision rules it applies are pipeline/decide's.
// It imports neither the pass, the reports nor the daemon.
package state

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/lettrage/lettrage/domain"
	"github.com/lettrage/lettrage/matcher"
	"github.com/lettrage/lettrage/pipeline/decide"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	_ "modernc.org/sqlite"             // registers the "sqlite" database/sql driver (pure Go, no cgo)
)

// FileRecord is one statement file the store has seen.
type FileRecord struct {
	Hash, Source, Path, Status, Error string
	Transactions                      int
	Size                              int64     // as listed (-1 unknown)
	ModTime                           time.Time // as listed (zero unknown)
}

// Delivery is what one file said of a transaction already recorded (a
// re-delivery), kept for the audit trail.
type Delivery struct {
	FileHash string
	Seq      int
	TxKey    string
	Verdict  string
	Tx       domain.Transaction
}

// Commit is everything one run commits in a single database transaction.
type Commit struct {
	Job        string
	ConfigHash string
	At         time.Time
	Files      []FileRecord
	Decisions  []decide.DecisionRecord
	Learned    []matcher.Learning
	// Actor and Origin record who decided and from where (a resolutions
	// file); empty for the matcher's own decisions.
	Actor, Origin string
	// Deliveries are the re-deliveries read in this pass.
	Deliveries []Delivery
	// Enriched replace the data of recorded transactions (open exceptions
	// re-delivered with more detail).
	Enriched []domain.Transaction
	// Snapshots, when set, are the Items of the automatic decisions that
	// have none (decide.ItemsOf).
	Snapshots decide.ItemSnapshots
}

// Store is the durable state of Lettrage: files done, transactions
// decided, the decision outbox, open exceptions and learned facts.
type Store struct {
	db      *sql.DB
	dialect Dialect
}

// migrations are applied in order at open, each once, recorded in
// schema_migrations; the statements are portable between SQLite and
// PostgreSQL. Never edit a released migration: append a new one.
var migrations = [][]string{
	1: {
		`CREATE TABLE files (
			job TEXT NOT NULL, hash TEXT NOT NULL, source TEXT NOT NULL, path TEXT NOT NULL,
			status TEXT NOT NULL, transactions INTEGER NOT NULL, error TEXT NOT NULL,
			processed_at TEXT NOT NULL, PRIMARY KEY (job, hash))`,
		`CREATE TABLE transactions (
			job TEXT NOT NULL, key TEXT NOT NULL, ref TEXT NOT NULL, account TEXT NOT NULL,
			booking_date TEXT NOT NULL, currency TEXT NOT NULL, amount TEXT NOT NULL,
			state TEXT NOT NULL, file_hash TEXT NOT NULL, data TEXT NOT NULL,
			decision TEXT NOT NULL, exception INTEGER NOT NULL, first_seen_at TEXT NOT NULL,
			updated_at TEXT NOT NULL, PRIMARY KEY (job, key))`,
		`CREATE INDEX transactions_state ON transactions (job, state)`,
		`CREATE INDEX transactions_exception ON transactions (job, exception)`,
		`CREATE TABLE decisions (
			job TEXT NOT NULL, key TEXT NOT NULL, tx_key TEXT NOT NULL, outcome TEXT NOT NULL,
			rule TEXT NOT NULL, confidence DOUBLE PRECISION NOT NULL, explanation TEXT NOT NULL,
			data TEXT NOT NULL, items TEXT NOT NULL, config_hash TEXT NOT NULL, decided_at TEXT NOT NULL,
			state TEXT NOT NULL, applied_at TEXT NOT NULL DEFAULT '',
			PRIMARY KEY (job, key))`,
		`CREATE INDEX decisions_state ON decisions (job, state)`,
		`CREATE TABLE memory (
			kind TEXT NOT NULL, value TEXT NOT NULL, customer_id TEXT NOT NULL,
			learned_at TEXT NOT NULL, PRIMARY KEY (kind, value, customer_id))`,
	},
	2: {
		// Personal-data retention: when a settled transaction was redacted.
		`ALTER TABLE transactions ADD COLUMN redacted_at TEXT NOT NULL DEFAULT ''`,
	},
	3: {
		// Audit trail of manual decisions: who decided, from which file.
		`ALTER TABLE decisions ADD COLUMN actor TEXT NOT NULL DEFAULT 'lettrage'`,
		`ALTER TABLE decisions ADD COLUMN origin TEXT NOT NULL DEFAULT ''`,
	},
	4: {
		// Unlettering: the key of the decision a reversal undoes.
		`ALTER TABLE decisions ADD COLUMN reverses TEXT NOT NULL DEFAULT ''`,
	},
	5: {
		// A file's listing (size and modification time) so that a file left
		// in place is not downloaded and parsed again on every run.
		`ALTER TABLE files ADD COLUMN size INTEGER NOT NULL DEFAULT -1`,
		`ALTER TABLE files ADD COLUMN mod_time TEXT NOT NULL DEFAULT ''`,
		`CREATE INDEX files_listing ON files (job, source, path)`,
	},
	6: {
		// Transaction identity (docs/FORMATS.md): the class a transaction
		// is matched in across deliveries (filled for older rows when the
		// migration runs), the links between batch entries and their
		// details, and what each delivery said of a transaction already
		// recorded.
		`ALTER TABLE transactions ADD COLUMN ident TEXT NOT NULL DEFAULT ''`,
		`CREATE INDEX transactions_ident ON transactions (job, ident)`,
		`CREATE TABLE tx_links (job TEXT NOT NULL, link TEXT NOT NULL, tx_key TEXT NOT NULL, role TEXT NOT NULL,
			PRIMARY KEY (job, link, tx_key))`,
		`CREATE TABLE deliveries (job TEXT NOT NULL, file_hash TEXT NOT NULL, seq INTEGER NOT NULL,
			tx_key TEXT NOT NULL, verdict TEXT NOT NULL, data TEXT NOT NULL, seen_at TEXT NOT NULL,
			PRIMARY KEY (job, file_hash, seq))`,
		`CREATE INDEX deliveries_tx ON deliveries (job, tx_key)`,
		// Files read before this version were read under the old identity
		// rule (a reused reference could drop a payment): the same content
		// delivered again is read once more (identity 0), its transactions
		// matched by content against those recorded.
		`ALTER TABLE files ADD COLUMN identity_rule INTEGER NOT NULL DEFAULT 0`,
	},
	7:  refusedFilesMigration, // refused statement files, held by content hash (refused.go)
	8:  examinedMigration,     // incremental passes: the job's revision and last examination (incremental.go)
	9:  atScaleMigration,      // the decision stored once, indexes the queries use, compaction (compact.go)
	10: itemsStampMigration,   // the open items' stamp: an idle pass leaves them unread (itemstamp.go)
	11: nil,                   // settled_keys, created and filled by backfillSettledKeys (settled.go)
	12: nil,                   // the outbox's state apart from the decisions, made by migrateOutbox (outbox.go)
	// 13: a transaction row's data leaves out the members its columns
	// hold (txrow.go). No statement: the number keeps an older build,
	// which would read those members from data, off a newer state.
	13: nil,
}

// backfills run in the migration's transaction once the migration of
// their version is applied: what SQL alone cannot compute.
var backfills = map[int]func(ctx context.Context, q dialectQ) error{
	6:  backfillIdent,
	11: backfillSettledKeys,
	12: migrateOutbox,
}

// backfillIdent computes the identity class of transactions recorded
// before version 6.
func backfillIdent(ctx context.Context, q dialectQ) error {
	rows, err := q.QueryContext(ctx, `SELECT job, key, data FROM transactions WHERE ident = ''`)
	if err != nil {
		return fmt.Errorf("reading transactions to classify: %w", err)
	}
	type row struct{ job, key, ident string }
	var todo []row
	for rows.Next() {
		var r row
		var data string
		if err := rows.Scan(&r.job, &r.key, &data); err != nil {
			rows.Close()
			return fmt.Errorf("reading transactions to classify: %w", err)
		}
		var tx domain.Transaction
		if err := json.Unmarshal([]byte(data), &tx); err != nil {
			rows.Close()
			return fmt.Errorf("decoding stored transaction %q: %w", r.key, err)
		}
		r.ident = decide.IdentClass(&tx)
		todo = append(todo, r)
	}
	if err := rows.Close(); err != nil {
		return fmt.Errorf("reading transactions to classify: %w", err)
	}
	for _, r := range todo {
		if _, err := q.ExecContext(ctx, `UPDATE transactions SET ident = ? WHERE job = ? AND key = ?`, r.ident, r.job, r.key); err != nil {
			return fmt.Errorf("classifying transaction %q: %w", r.key, err)
		}
	}
	return nil
}

// identityVersion is the version of the identity rule files are read
// under (docs/FORMATS.md "Transaction identity"): a file recorded under an
// older one is read again when delivered again.
const identityVersion = 1

// SchemaVersion is the newest migration this build knows.
var SchemaVersion = len(migrations) - 1

// Dialect names the SQL database behind a Store.
type Dialect int

const (
	// SQLite is the embedded default (modernc.org/sqlite, no cgo).
	SQLite Dialect = iota
	// Postgres is for several replicas sharing one state.
	Postgres
)

// OpenSQLite opens (creating if needed) the SQLite state store at path.
// ":memory:" gives a private in-memory store (for stateless runs).
func OpenSQLite(path string) (*Store, error) { return openSQLite(path, true) }

// OpenScratchSQLite opens a throwaway SQLite state at path for a stateless
// run (lettrage match): on disk, so that a large run does not hold its whole
// state in memory, and without fsync, since nothing outlives the run.
func OpenScratchSQLite(path string) (*Store, error) { return openSQLite(path, false) }

func openSQLite(path string, durable bool) (*Store, error) {
	dsn := "file::memory:"
	if path != ":memory:" {
		if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
			return nil, fmt.Errorf("creating state directory: %w", err)
		}
		dsn = "file:" + path
		// Created 0640, not the driver's 0644 (its -wal and -shm files
		// take the database's mode).
		if f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o640); err == nil {
			f.Close()
		}
		if err := setPageSize(path); err != nil {
			return nil, err
		}
	}
	// WAL + synchronous=FULL: a committed run survives kill -9 and power loss.
	dsn += "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=foreign_keys(ON)"
	if !durable {
		// Throwaway: no fsync, the rollback journal in memory, a larger page
		// cache (256 MiB) — a run's commit is one big transaction.
		dsn = strings.Replace(dsn, "synchronous(FULL)", "synchronous(OFF)", 1)
		dsn = strings.Replace(dsn, "journal_mode(WAL)", "journal_mode(MEMORY)", 1)
		dsn += "&_pragma=cache_size(-262144)&_pragma=temp_store(MEMORY)"
	} else {
		// A page cache of 128 MiB (the default is 2 MiB): a first pass
		// commits a million rows in one transaction, and a small cache
		// spills dirty pages to the WAL and reads them back (measured in
		// docs/BENCHMARKS.md, "The daemon at scale"). Durability is
		// unchanged: WAL with synchronous=FULL. Temporary files in memory:
		// the statement journal of each multi-row INSERT (undo of one
		// statement inside the transaction, never read after a crash) was
		// written to a temporary file, 11 % of a first pass's CPU.
		dsn += "&_pragma=cache_size(-131072)&_pragma=temp_store(MEMORY)"
	}
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("opening state store %q: %w", path, err)
	}
	db.SetMaxOpenConns(1) // one writer; also keeps ":memory:" a single database
	s := &Store{db: db, dialect: SQLite}
	if err := s.migrate(context.Background()); err != nil {
		db.Close()
		return nil, fmt.Errorf("migrating state store %q: %w", path, err)
	}
	return s, nil
}

// sqlitePageSize is the page size of a new SQLite state store: 8 KiB, 5 %
// smaller and ≈ 5 % less CPU in a first pass of 100,000 payments than the
// default 4 KiB; 16 KiB doubled the system time of the WAL writes
// (docs/BENCHMARKS.md "The daemon at scale"). Stores created before keep
// theirs.
const sqlitePageSize = 8192

// setPageSize gives a new (empty) SQLite file its page size: the driver
// applies its pragmas in name order, journal_mode before page_size, and
// a WAL database's page size is fixed once its header is written.
func setPageSize(path string) error {
	if fi, err := os.Stat(path); err != nil || fi.Size() > 0 {
		return nil
	}
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=page_size("+strconv.Itoa(sqlitePageSize)+")")
	if err != nil {
		return fmt.Errorf("creating state store %q: %w", path, err)
	}
	defer db.Close()
	if _, err := db.Exec(`PRAGMA journal_mode=WAL`); err != nil {
		return fmt.Errorf("creating state store %q: %w", path, err)
	}
	return nil
}

// OpenPostgres opens the PostgreSQL state store at dsn, applying pending
// migrations (serialised between replicas by an advisory lock).
func OpenPostgres(ctx context.Context, dsn string) (*Store, error) {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("opening PostgreSQL state store: %w", err)
	}
	db.SetMaxOpenConns(8)
	db.SetConnMaxIdleTime(5 * time.Minute)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connecting to the PostgreSQL state store: %w", err)
	}
	s := &Store{db: db, dialect: Postgres}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("migrating PostgreSQL state store: %w", err)
	}
	return s, nil
}

// DB exposes the database for the distributed elector (PostgreSQL).
func (s *Store) DB() *sql.DB { return s.db }

// Dialect tells which database the store uses.
func (s *Store) Dialect() Dialect { return s.dialect }

// migrationLock is the advisory-lock key that serialises migrations.
const migrationLock = 0x6c657474 // "lett"

func (s *Store) migrate(ctx context.Context) error { return s.migrateTo(ctx, SchemaVersion) }

// migrateTo applies the migrations up to version last (tests build older
// stores with it).
func (s *Store) migrateTo(ctx context.Context, last int) (err error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("starting migration: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	if s.dialect == Postgres {
		if _, err = tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, migrationLock); err != nil {
			return fmt.Errorf("locking for migration: %w", err)
		}
	}
	if _, err = tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)`); err != nil {
		return fmt.Errorf("creating schema_migrations: %w", err)
	}
	var current int
	if err = s.onTx(tx).QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
		return fmt.Errorf("reading schema version: %w", err)
	}
	if current > SchemaVersion {
		return fmt.Errorf("state store schema version %d is newer than this build's %d: upgrade lettrage", current, SchemaVersion)
	}
	for v := current + 1; v <= last; v++ {
		for _, stmt := range migrations[v] {
			if _, err = tx.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("applying migration %d: %w", v, err)
			}
		}
		if f := backfills[v]; f != nil {
			if err = f(ctx, s.onTx(tx)); err != nil {
				return fmt.Errorf("applying migration %d: %w", v, err)
			}
		}
		if _, err = s.onTx(tx).ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`,
			v, time.Now().UTC().Format(time.RFC3339)); err != nil {
			return fmt.Errorf("recording migration %d: %w", v, err)
		}
	}
	if err = tx.Commit(); err != nil {
		return fmt.Errorf("committing migrations: %w", err)
	}
	return nil
}

type queryer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// dialectQ rewrites the portable "?" placeholders for PostgreSQL ($1, $2…).
type dialectQ struct {
	q  queryer
	pg bool
}

func (s *Store) onDB() dialectQ           { return dialectQ{s.db, s.dialect == Postgres} }
func (s *Store) onTx(tx *sql.Tx) dialectQ { return dialectQ{tx, s.dialect == Postgres} }

// Rebind writes query's ? placeholders as the store's dialect wants them
// (PostgreSQL: $1, $2…): for reading the tables directly (tests, tools).
func (s *Store) Rebind(query string) string { return s.onDB().rebind(query) }

func (d dialectQ) rebind(q string) string {
	if !d.pg || !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}

// preparedTx runs the statements of one database transaction, preparing
// each distinct query once: a commit of many rows parses its SQL a handful
// of times instead of once per row.
type preparedTx struct {
	tx    *sql.Tx
	d     dialectQ
	stmts map[string]*sql.Stmt
	// inflight, when set, receives the outcome of the one statement
	// running on its own goroutine (execBehind); err keeps the first
	// failure, which every later call returns.
	inflight chan error
	err      error
}

func (s *Store) prepared(tx *sql.Tx) *preparedTx {
	return &preparedTx{tx: tx, d: s.onTx(tx), stmts: map[string]*sql.Stmt{}}
}

func (p *preparedTx) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if err := p.settle(); err != nil {
		return nil, err
	}
	st, err := p.stmt(ctx, q)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(ctx, args...)
}

// QueryContext runs a prepared query.
func (p *preparedTx) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if err := p.settle(); err != nil {
		return nil, err
	}
	st, err := p.stmt(ctx, q)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

// execBehind runs the prepared statement q with args on its own
// goroutine and returns at once (its failure says "writing label"), so that the caller prepares the next
// rows while the database writes these (SaveCommit on SQLite: the rows'
// encoding and SQLite's inserts take a core each). One statement at a
// time: it first waits for the one before. args, and the bytes their
// strings share, must stay untouched until the next call to settle,
// which every other method makes first; check, when set, looks at the
// result on that goroutine. A failure is kept and returned by every
// later call: the transaction is then only rolled back.
func (p *preparedTx) execBehind(ctx context.Context, q, label string, args []any, check func(sql.Result) error) error {
	if err := p.settle(); err != nil {
		return err
	}
	st, err := p.stmt(ctx, q)
	if err != nil {
		return err
	}
	done := make(chan error, 1)
	p.inflight = done
	go func() {
		r, err := st.ExecContext(ctx, args...)
		switch {
		case err != nil:
			err = fmt.Errorf("writing %s: %w", label, err)
		case check != nil:
			err = check(r)
		}
		done <- err
	}()
	return nil
}

// settle waits for the statement execBehind started, if any, and returns
// the first failure of the transaction's statements run behind.
func (p *preparedTx) settle() error {
	if p.inflight != nil {
		p.err = cmp.Or(p.err, <-p.inflight)
		p.inflight = nil
	}
	return p.err
}

// stmt is q prepared in the transaction, once.
func (p *preparedTx) stmt(ctx context.Context, q string) (*sql.Stmt, error) {
	if st, ok := p.stmts[q]; ok {
		return st, nil
	}
	st, err := p.tx.PrepareContext(ctx, p.d.rebind(q))
	if err != nil {
		return nil, err
	}
	p.stmts[q] = st
	return st, nil
}

// QueryRowContext runs a prepared query returning at most one row.
func (p *preparedTx) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	// A statement run behind that failed is returned by the next call
	// that can return an error, and by the commit's settle.
	_ = p.settle()
	st, ok := p.stmts[q]
	if !ok {
		var err error
		if st, err = p.tx.PrepareContext(ctx, p.d.rebind(q)); err != nil {
			// The error comes back from Scan, as with a query that fails.
			return p.tx.QueryRowContext(ctx, p.d.rebind(q), args...)
		}
		p.stmts[q] = st
	}
	return st.QueryRowContext(ctx, args...)
}

func (p *preparedTx) Close() {
	_ = p.settle()
	for _, st := range p.stmts {
		st.Close()
	}
}

func (d dialectQ) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return d.q.ExecContext(ctx, d.rebind(q), args...)
}

func (d dialectQ) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return d.q.QueryContext(ctx, d.rebind(q), args...)
}

func (d dialectQ) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	return d.q.QueryRowContext(ctx, d.rebind(q), args...)
}

// Close closes the store.
func (s *Store) Close() error { return s.db.Close() }

// Ping checks the store answers (readiness).
func (s *Store) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }

// FileDone reports whether a file with this content hash was already
// processed (or quarantined) by the job.
func (s *Store) FileDone(ctx context.Context, job, hash string) (bool, error) {
	var n int
	err := s.onDB().QueryRowContext(ctx, `SELECT COUNT(*) FROM files WHERE job = ? AND hash = ? AND identity_rule >= ?`, job, hash, identityVersion).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("looking up file %s: %w", hash, err)
	}
	return n > 0, nil
}

// KnownTransactions returns the subset of keys already decided for the job.
func (s *Store) KnownTransactions(ctx context.Context, job string, keys []string) (map[string]bool, error) {
	known := make(map[string]bool)
	const chunk = 500
	for start := 0; start < len(keys); start += chunk {
		end := min(start+chunk, len(keys))
		part := keys[start:end]
		args := make([]any, 0, len(part)+1)
		args = append(args, job)
		for _, k := range part {
			args = append(args, k)
		}
		q := `SELECT key FROM transactions WHERE job = ? AND key IN (` + placeholders(len(part)) + `)`
		rows, err := s.onDB().QueryContext(ctx, q, args...)
		if err != nil {
			return nil, fmt.Errorf("looking up known transactions: %w", err)
		}
		for rows.Next() {
			var k string
			if err := rows.Scan(&k); err != nil {
				rows.Close()
				return nil, fmt.Errorf("reading known transactions: %w", err)
			}
			known[k] = true
		}
		if err := rows.Close(); err != nil {
			return nil, fmt.Errorf("reading known transactions: %w", err)
		}
	}
	return known, nil
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}

// Transactions returns the job's transactions in the given states, in
// txOrder (order.go).
func (s *Store) Transactions(ctx context.Context, job string, states ...string) ([]decide.StoredTx, error) {
	args := []any{job}
	for _, st := range states {
		args = append(args, st)
	}
	return s.queryTxs(ctx, `WHERE job = ? AND state IN (`+placeholders(len(states))+`)`, args...)
}

// ListingTime is the text form of a listed modification time ("" unknown).
func ListingTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// SeenListing reports whether a file with this source, path, size and
// modification time was processed: the same listing is the same file, so
// it need not be read again. Unknown sizes or times never match.
func (s *Store) SeenListing(ctx context.Context, job, source, path string, size int64, mod time.Time) (bool, error) {
	if size < 0 || mod.IsZero() {
		return false, nil
	}
	var n int
	err := s.onDB().QueryRowContext(ctx, `SELECT COUNT(*) FROM files WHERE job = ? AND source = ? AND path = ? AND size = ? AND mod_time = ? AND identity_rule >= ?`,
		job, source, path, size, ListingTime(mod), identityVersion).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("looking up file %q: %w", path, err)
	}
	return n > 0, nil
}

// Transaction returns one of the job's transactions by key.
func (s *Store) Transaction(ctx context.Context, job, key string) (decide.StoredTx, bool, error) {
	txs, err := s.queryTxs(ctx, `WHERE job = ? AND key = ?`, job, key)
	if err != nil || len(txs) == 0 {
		return decide.StoredTx{}, false, err
	}
	return txs[0], true, nil
}

// letters returns every letter of a transaction (its automatic and manual
// decisions, rejected ones included) in the order they were made, each
// with the state of its reversal. Letters committed at the same instant
// (a test clock, one resolutions file) are ordered by the cash they leave
// unallocated, largest first: a later letter of the same payment only ever
// settles part of what the earlier ones left (the remainder of an
// overpayment).
func (s *Store) letters(ctx context.Context, q dialectQ, job, txKey string) ([]decide.AutoDecision, error) {
	rows, err := q.QueryContext(ctx, `SELECT d.key, d.data, d.items, `+outboxState+`, d.decided_at, d.outcome, d.reverses FROM decisions d`+outboxJoin+`
		WHERE d.job = ? AND d.tx_key = ? AND (d.outcome = ? OR d.reverses <> '')`, job, txKey, string(domain.Auto))
	if err != nil {
		return nil, fmt.Errorf("reading letters of %s: %w", txKey, err)
	}
	var all []decide.AutoDecision
	reversal := map[string]string{}
	for rows.Next() {
		var a decide.AutoDecision
		var data, items, at, outcome, reverses string
		if err := rows.Scan(&a.Key, &data, &items, &a.State, &at, &outcome, &reverses); err != nil {
			rows.Close()
			return nil, fmt.Errorf("reading letters of %s: %w", txKey, err)
		}
		if reverses != "" {
			reversal[reverses] = a.State
			continue
		}
		if err := json.Unmarshal([]byte(data), &a.Decision); err != nil {
			rows.Close()
			return nil, fmt.Errorf("decoding letter %s: %w", a.Key, err)
		}
		_ = json.Unmarshal([]byte(items), &a.Items)
		a.DecidedAt, _ = time.Parse(time.RFC3339Nano, at)
		all = append(all, a)
	}
	if err := rows.Close(); err != nil {
		return nil, fmt.Errorf("reading letters of %s: %w", txKey, err)
	}
	for i := range all {
		all[i].Reversal = reversal[all[i].Key]
	}
	decide.SortLetters(all)
	return all, nil
}

// LastLetter returns the newest letter of a transaction that no reversal
// has undone yet, and how many letters the transaction has had (the
// generation of its next decision key).
func (s *Store) LastLetter(ctx context.Context, job, txKey string) (last *decide.AutoDecision, count int, err error) {
	chain, count, err := s.Letters(ctx, job, txKey)
	if len(chain) > 0 {
		last = &chain[len(chain)-1]
	}
	return last, count, err
}

// Letters returns the letters of a transaction that stand and that no
// reversal undoes, oldest first: the letter of the payment and the
// resolutions of its remainder that followed (an overpayment's excess put
// on account or written off). Unlettering the payment reverses all of them,
// newest first. count is how many letters the transaction has had (the
// generation of its next decision key).
func (s *Store) Letters(ctx context.Context, job, txKey string) (chain []decide.AutoDecision, count int, err error) {
	all, err := s.letters(ctx, s.onDB(), job, txKey)
	if err != nil {
		return nil, 0, err
	}
	return decide.StandingChain(all), len(all), nil
}

// KeysByRef returns the keys of the job's transactions with this tx_ref
// (one per statement account that has it).
func (s *Store) KeysByRef(ctx context.Context, job, ref string) ([]string, error) {
	rows, err := s.onDB().QueryContext(ctx, `SELECT key FROM transactions WHERE job = ? AND ref = ? ORDER BY key`, job, ref)
	if err != nil {
		return nil, fmt.Errorf("looking up %s: %w", ref, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, fmt.Errorf("looking up %s: %w", ref, err)
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// DecisionState returns the outbox state of the decision with this key
// (pending, applied, record or rejected), and whether there is one.
func (s *Store) DecisionState(ctx context.Context, job, key string) (string, bool, error) {
	var state string
	err := s.onDB().QueryRowContext(ctx, `SELECT `+outboxState+` FROM decisions d`+outboxJoin+` WHERE d.job = ? AND d.key = ?`, job, key).Scan(&state)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("looking up decision %s: %w", key, err)
	}
	return state, true, nil
}

// DueWaiting returns the job's batch entries still waiting for their
// details that were first seen before cutoff.
func (s *Store) DueWaiting(ctx context.Context, job string, cutoff time.Time) ([]decide.StoredTx, error) {
	return s.queryTxs(ctx, `WHERE job = ? AND state = ? AND first_seen_at < ?`, job, decide.TxWaiting, cutoff.UTC().Format(time.RFC3339Nano))
}

// Exceptions returns the job's transactions not fully lettered (open
// exceptions and lettered ones with an excess), in txOrder (order.go).
func (s *Store) Exceptions(ctx context.Context, job string) ([]decide.StoredTx, error) {
	return s.queryTxs(ctx, `WHERE job = ? AND exception = 1`, job)
}

func (s *Store) queryTxs(ctx context.Context, where string, args ...any) ([]decide.StoredTx, error) {
	rows, err := s.onDB().QueryContext(ctx, `SELECT `+txCols("t")+`, `+txDecision+`, t.state, t.file_hash FROM transactions t `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("reading transactions: %w", err)
	}
	defer rows.Close()
	var out []decide.StoredTx
	for rows.Next() {
		var r txRow
		var dec string
		var st decide.StoredTx
		if err := rows.Scan(append(r.dest(), &dec, &st.State, &st.FileHash)...); err != nil {
			return nil, fmt.Errorf("reading transactions: %w", err)
		}
		if err := r.decode(&st.Tx); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(dec), &st.Decision); err != nil {
			return nil, fmt.Errorf("decoding stored decision: %w", err)
		}
		out = append(out, st)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading transactions: %w", err)
	}
	SortTxs(out)
	return out, nil
}

// Memory loads what was learned, plus the allocations written per
// transaction first seen since the given time (for reversals).
func (s *Store) Memory(ctx context.Context, job string, since time.Time) (matcher.Memory, error) {
	return s.LoadMemory(ctx, job, since, true)
}

// LoadMemory is Memory, leaving out the lettered payments (Memory.Lettered,
// LetteredRefs) unless lettered (see Job.matcherMemory).
func (s *Store) LoadMemory(ctx context.Context, job string, since time.Time, lettered bool) (matcher.Memory, error) {
	mem, err := s.learnedMemory(ctx, job, since, lettered)
	if err != nil {
		return mem, err
	}
	// the items those letters settled: a payment naming one pays it twice
	if mem.Settled, err = s.SettledItems(ctx, job, since); err != nil {
		return mem, err
	}
	return mem, nil
}

// learnedMemory is LoadMemory without the settled items.
func (s *Store) learnedMemory(ctx context.Context, job string, since time.Time, lettered bool) (matcher.Memory, error) {
	mem := matcher.Memory{
		IBANCustomers: map[string][]string{},
		NameCustomers: map[string][]string{},
		Lettered:      map[string][]domain.Allocation{},
		LetteredRefs:  map[string]string{},
	}
	rows, err := s.onDB().QueryContext(ctx, `SELECT kind, value, customer_id FROM memory ORDER BY kind, value, customer_id`)
	if err != nil {
		return mem, fmt.Errorf("reading learned memory: %w", err)
	}
	for rows.Next() {
		var kind, value, cust string
		if err := rows.Scan(&kind, &value, &cust); err != nil {
			rows.Close()
			return mem, fmt.Errorf("reading learned memory: %w", err)
		}
		switch kind {
		case "iban":
			mem.IBANCustomers[value] = append(mem.IBANCustomers[value], cust)
		case "name":
			mem.NameCustomers[value] = append(mem.NameCustomers[value], cust)
		}
	}
	if err := rows.Close(); err != nil {
		return mem, fmt.Errorf("reading learned memory: %w", err)
	}
	// Only payments lettered recently can come back as a reversal or a
	// return (SEPA direct-debit returns: up to 13 months).
	if lettered {
		if err := s.letteredMemory(ctx, job, since, &mem); err != nil {
			return mem, err
		}
	}
	return mem, nil
}

// letteredMemory fills mem.Lettered and mem.LetteredRefs with the job's
// payments lettered since the given time, in txOrder (order.go: a later
// payment's reference wins, as in the memory store), decoding only the
// fields they need (a full decode of every lettered payment was a third
// of a second pass).
func (s *Store) letteredMemory(ctx context.Context, job string, since time.Time, mem *matcher.Memory) error {
	rows, err := s.onDB().QueryContext(ctx, `SELECT t.key, t.data, t.ref, t.account, `+txDecision+` FROM transactions t
		WHERE t.job = ? AND t.state = ? AND t.first_seen_at >= ?`,
		job, decide.TxLettered, since.UTC().Format(time.RFC3339Nano))
	if err != nil {
		return fmt.Errorf("reading lettered transactions: %w", err)
	}
	defer rows.Close()
	type letteredTx struct {
		order  OrderKey
		e2e    string
		allocs []domain.Allocation
	}
	var all []letteredTx
	for rows.Next() {
		// The reference and account are the columns' when the JSON has
		// no key (txrow.go).
		var key, data, ref, account, dec string
		if err := rows.Scan(&key, &data, &ref, &account, &dec); err != nil {
			return fmt.Errorf("reading lettered transactions: %w", err)
		}
		var tx struct {
			Key         string    `json:"key"`
			Ref         string    `json:"tx_ref"`
			Account     string    `json:"account"`
			BookingDate time.Time `json:"booking_date"`
			EndToEndID  string    `json:"end_to_end_id"`
		}
		var d struct {
			Allocations []domain.Allocation `json:"allocations"`
		}
		if err := json.Unmarshal([]byte(data), &tx); err != nil {
			return fmt.Errorf("decoding stored transaction: %w", err)
		}
		if err := json.Unmarshal([]byte(dec), &d); err != nil {
			return fmt.Errorf("decoding stored decision: %w", err)
		}
		if tx.Key != "" {
			ref, account = tx.Ref, tx.Account
		}
		all = append(all, letteredTx{order: OrderKey{account: account, date: dateOrder(tx.BookingDate), ref: ref, key: key},
			e2e: tx.EndToEndID, allocs: d.Allocations})
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("reading lettered transactions: %w", err)
	}
	for _, i := range OrderBy(len(all), func(i int) OrderKey { return all[i].order }) {
		l := &all[i]
		key := l.order.key
		mem.Lettered[key] = l.allocs
		mem.LetteredRefs[l.order.ref] = key
		if e := l.e2e; e != "" && e != "NOTPROVIDED" {
			mem.LetteredRefs[e] = key
		}
	}
	return nil
}

// SaveCommit writes one run's results atomically: files, transactions and
// their decisions (auto ones as PENDING in the outbox) and learned facts.
// Either all of it is durable or none. New transactions, their links and
// the decisions go in multi-row INSERTs (rowBatch): one statement per
// hundred rows instead of one per row; on PostgreSQL with COPY, thousands
// of rows a round trip (pgcopy.go).
func (s *Store) SaveCommit(ctx context.Context, c Commit) (err error) {
	tx, cp, err := s.beginCommit(ctx) // on PostgreSQL with COPY (pgcopy.go)
	if err != nil {
		return fmt.Errorf("starting state commit: %w", err)
	}
	defer cp.release()
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	pq := s.prepared(tx)
	defer pq.Close()
	w := newCommitWriter(pq, c)
	cp.attach(w)
	var rebuild []string
	if s.dialect == SQLite {
		if rebuild, err = dropIndexesForBulk(ctx, pq, c); err != nil {
			return err
		}
	}
	for _, f := range c.Files {
		if _, err = pq.ExecContext(ctx, `INSERT INTO files (job, hash, source, path, status, transactions, error, processed_at, size, mod_time, identity_rule)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (job, hash) DO UPDATE SET identity_rule = excluded.identity_rule`,
			c.Job, f.Hash, f.Source, f.Path, f.Status, f.Transactions, f.Error, w.at, f.Size, ListingTime(f.ModTime), identityVersion); err != nil {
			return fmt.Errorf("recording file %q: %w", f.Path, err)
		}
	}
	if s.dialect == SQLite {
		err = w.writeInKeyOrder(ctx)
	} else {
		for _, d := range c.Decisions {
			if err = w.decision(ctx, d); err != nil {
				return err
			}
		}
	}
	if err != nil {
		return err
	}
	if err = w.flush(ctx); err != nil {
		return err
	}
	if err = w.rest(ctx); err != nil {
		return err
	}
	if err = createIndexes(ctx, pq, rebuild); err != nil {
		return err
	}
	if !c.Empty() {
		if err = bumpRevision(ctx, pq, c.Job); err != nil {
			return err
		}
	}
	if err = pq.settle(); err != nil {
		return err
	}
	if err = tx.Commit(); err != nil {
		return fmt.Errorf("committing state: %w", err)
	}
	return nil
}

// batchRows is how many rows one multi-row INSERT carries (16 columns:
// 1,600 parameters, under SQLite's and PostgreSQL's limits).
const batchRows = 100

// rowBatch collects the rows of one multi-row INSERT: head is the
// statement up to VALUES, tail what follows the rows (ON CONFLICT …).
// every, when set, makes a batch that inserted fewer rows than it carried
// an error (the statement ignores conflicts, see newCommitWriter).
// copy, when set, writes the rows instead (PostgreSQL's COPY, pgcopy.go),
// limit rows at a time.
type rowBatch struct {
	head, tail string
	width      int
	args       []any
	rows       int
	every      bool
	limit      int
	// buf holds the JSON of the rows collected (txJSON…): reset, not
	// freed, once they are written.
	buf  []byte
	copy func(ctx context.Context, args []any, rows int) error
	// behind: the batch is written by preparedTx.execBehind while the
	// next is collected in the spare arguments and buffer (the two swap at
	// each flush: the ones just handed over stay untouched until the
	// statement is done, which the next execBehind waits for).
	behind     bool
	spareArgs  []any
	spareBuf   []byte
	tableLabel string
}

// add appends one row (width values), writing the batch when it is full.
func (b *rowBatch) add(ctx context.Context, pq *preparedTx, row ...any) error {
	b.args = append(b.args, row...)
	b.rows++
	if b.rows == batchRows && b.copy == nil || b.rows == b.limit {
		return b.flush(ctx, pq)
	}
	return nil
}

// flush writes the rows collected so far.
func (b *rowBatch) flush(ctx context.Context, pq *preparedTx) error {
	if b.rows == 0 {
		return nil
	}
	if b.copy != nil {
		err := b.copy(ctx, b.args, b.rows)
		clear(b.args)
		b.args, b.rows, b.buf = b.args[:0], 0, b.buf[:0]
		return err
	}
	one := "(" + placeholders(b.width) + ")"
	q := b.head + " VALUES " + strings.TrimSuffix(strings.Repeat(one+",", b.rows), ",") + b.tail
	if b.behind {
		return b.flushBehind(ctx, pq, q)
	}
	r, err := pq.ExecContext(ctx, q, b.args...)
	if err == nil && b.every {
		if n, nerr := r.RowsAffected(); nerr != nil || n != int64(b.rows) {
			err = fmt.Errorf("%d of %d rows already recorded (%v)", int64(b.rows)-n, b.rows, nerr)
		}
	}
	b.args, b.rows, b.buf = b.args[:0], 0, b.buf[:0]
	return err
}

// flushBehind hands the rows collected to pq.execBehind and collects the
// next ones in the spare arguments and buffer, free again once execBehind
// has waited for the statement that used them.
func (b *rowBatch) flushBehind(ctx context.Context, pq *preparedTx, q string) error {
	rows, label := b.rows, b.tableLabel
	var check func(sql.Result) error
	if b.every {
		check = func(r sql.Result) error {
			if n, err := r.RowsAffected(); err != nil || n != int64(rows) {
				return fmt.Errorf("writing %s: %d of %d rows already recorded (%v)", label, int64(rows)-n, rows, err)
			}
			return nil
		}
	}
	err := pq.execBehind(ctx, q, label, b.args, check)
	clear(b.spareArgs)
	b.args, b.spareArgs = b.spareArgs[:0], b.args
	b.buf, b.spareBuf = b.spareBuf[:0], b.buf
	b.rows = 0
	return err
}

// commitWriter writes the decisions of one Commit.
type commitWriter struct {
	pq               *preparedTx
	c                Commit
	at, actor        string
	txs, links, decs rowBatch
	keys             rowBatch // settled_keys (settled.go)
	outbox           rowBatch // outbox (outbox.go)
	outboxRows       []outboxRow
	// keyOrder: the rows go in in each table's key order (writeInKeyOrder,
	// SQLite), the links and the settled items' keys collected in linkRows
	// and keyRows and sorted at the end.
	keyOrder bool
	linkRows []linkRow
	keyRows  []keyRow
	scratch  []byte // the JSON of a transaction's update
}

func newCommitWriter(pq *preparedTx, c Commit) *commitWriter {
	actor := c.Actor
	if actor == "" {
		actor = "lettrage"
	}
	w := &commitWriter{pq: pq, c: c, at: c.At.UTC().Format(time.RFC3339Nano), actor: actor,
		txs: rowBatch{head: `INSERT INTO transactions (job, key, ref, account, booking_date, currency, amount,
			state, file_hash, data, decision, exception, first_seen_at, updated_at, ident, decision_key)`, width: 16},
		links: rowBatch{head: `INSERT INTO tx_links (job, link, tx_key, role)`, tail: ` ON CONFLICT (job, link, tx_key) DO NOTHING`, width: 4},
		decs: rowBatch{head: `INSERT INTO decisions (job, key, tx_key, outcome, rule, confidence, explanation,
			data, items, config_hash, decided_at, state, actor, origin, reverses)`, tail: ` ON CONFLICT (job, key) DO NOTHING`, width: 15},
		keys:   settledKeysBatch(),
		outbox: outboxBatch(),
	}
	if !pq.d.pg {
		// SQLite: INSERT OR IGNORE. A multi-row INSERT that may abort
		// half-way (a constraint's default ABORT) is given a statement
		// journal, a copy of every page it changes (1.7 s of a first pass
		// of 100,000 payments); one that ignores conflicts is not. The
		// links and decisions ignored conflicts already; a new
		// transaction already recorded stays an error (rowBatch.every).
		for _, b := range []*rowBatch{&w.txs, &w.links, &w.decs, &w.keys, &w.outbox} {
			b.head, b.tail = strings.Replace(b.head, "INSERT INTO", "INSERT OR IGNORE INTO", 1), ""
			b.behind = true // the next rows are encoded while SQLite writes these
		}
		w.txs.tableLabel, w.links.tableLabel = "transactions", "transaction links"
		w.decs.tableLabel, w.keys.tableLabel, w.outbox.tableLabel = "decisions", "the keys of settled items", "the outbox"
		w.txs.every = true
	}
	return w
}

// flush writes every batched row, in the order the statements were
// issued row by row: transactions, their links, decisions.
func (w *commitWriter) flush(ctx context.Context) error {
	if err := w.txs.flush(ctx, w.pq); err != nil {
		return fmt.Errorf("recording transactions: %w", err)
	}
	if err := w.links.flush(ctx, w.pq); err != nil {
		return fmt.Errorf("recording transaction links: %w", err)
	}
	if err := w.decs.flush(ctx, w.pq); err != nil {
		return fmt.Errorf("recording decisions: %w", err)
	}
	if err := w.keys.flush(ctx, w.pq); err != nil {
		return fmt.Errorf("recording the keys of settled items: %w", err)
	}
	if err := w.outbox.flush(ctx, w.pq); err != nil {
		return fmt.Errorf("recording the outbox: %w", err)
	}
	return nil
}

// decision records one decision and its transaction (inserted when new,
// updated otherwise: the batched inserts are written first).
func (w *commitWriter) decision(ctx context.Context, d decide.DecisionRecord) error {
	if err := w.transaction(ctx, d); err != nil {
		return err
	}
	return w.decisionRow(ctx, d)
}

// transaction records the transaction of one decision: its row batched
// when new (with its links), updated otherwise (the batched inserts are
// written first).
func (w *commitWriter) transaction(ctx context.Context, d decide.DecisionRecord) error {
	c := w.c
	state, _, current := decide.Shown(d)
	same := d.Shows == nil && current.Outcome == d.Decision.Outcome && current.Reason == d.Decision.Reason
	// The text goes into the buffer of the batch it is bound with: the
	// new transaction's, or a scratch one for the update (after the flush
	// below, which resets the batches' buffers).
	shown := &current
	if same {
		shown = &d.Decision
	}
	exception := 0
	if decide.IsException(current) {
		exception = 1
	}
	if d.New {
		// A new transaction shows the decision recorded with it: stored
		// once, in decisions, and named by decision_key (schema 9). Its
		// key is new too (every decision key derives from the transaction
		// key), so the row written with it is this decision.
		ref, cur := d.Key, ""
		if !same {
			ref = ""
			var err error
			if cur, err = decisionJSON(&w.txs.buf, shown); err != nil {
				return fmt.Errorf("encoding decision for %q: %w", d.Tx.Ref, err)
			}
		}
		return w.insertTx(ctx, d, state, cur, ref, exception)
	}
	if err := w.flush(ctx); err != nil {
		return err
	}
	w.scratch = w.scratch[:0]
	cur, err := decisionJSON(&w.scratch, shown)
	if err != nil {
		return fmt.Errorf("encoding decision for %q: %w", d.Tx.Ref, err)
	}
	if _, err := w.pq.ExecContext(ctx, `UPDATE transactions SET state = ?, decision = ?, exception = ?, updated_at = ? WHERE job = ? AND key = ?`,
		state, cur, exception, w.at, c.Job, d.Tx.Key); err != nil {
		return fmt.Errorf("recording transaction %q: %w", d.Tx.Ref, err)
	}
	return nil
}

// decisionRow batches the row of one decision in the outbox.
func (w *commitWriter) decisionRow(ctx context.Context, d decide.DecisionRecord) error {
	c := w.c
	_, decState, _ := decide.Shown(d)
	dec, err := decisionJSON(&w.decs.buf, &d.Decision)
	if err != nil {
		return fmt.Errorf("encoding decision for %q: %w", d.Tx.Ref, err)
	}
	named := decide.ItemsOf(&d, c.Snapshots)
	items, err := itemsJSON(&w.decs.buf, named)
	if err != nil {
		return fmt.Errorf("encoding items for %q: %w", d.Tx.Ref, err)
	}
	if err := w.decs.add(ctx, w.pq, c.Job, d.Key, d.Tx.Key, string(d.Decision.Outcome), d.Decision.Rule, d.Decision.Confidence,
		d.Decision.Explanation, dec, items, c.ConfigHash, w.at, decState, w.actor, c.Origin, d.Reverses); err != nil {
		return fmt.Errorf("recording decisions: %w", err)
	}
	if err := w.outboxEntry(ctx, d, decState); err != nil {
		return err
	}
	return w.settledKeys(ctx, d, named)
}

// insertTx batches the row of a new transaction and its batch links.
func (w *commitWriter) insertTx(ctx context.Context, d decide.DecisionRecord, state, cur, decKey string, exception int) error {
	data, err := txSlimJSON(&w.txs.buf, d.Tx)
	if err != nil {
		return fmt.Errorf("encoding transaction %q: %w", d.Tx.Ref, err)
	}
	if err := w.txs.add(ctx, w.pq, w.c.Job, d.Tx.Key, d.Tx.Ref, d.Tx.Account, DateText(d.Tx.BookingDate), d.Tx.Currency,
		d.Tx.Amount.String(), state, d.FileHash, data, cur, exception, w.at, w.at, decide.IdentClass(d.Tx), decKey); err != nil {
		return fmt.Errorf("recording transactions: %w", err)
	}
	role := ""
	switch {
	case d.Tx.IsBatchEntry():
		role = decide.LinkBatch
	case d.Tx.IsBatchDetail():
		role = decide.LinkDetail
	}
	if role == "" || !d.Tx.Credit {
		return nil
	}
	for _, l := range decide.LinkKeys(d.Tx) {
		if w.keyOrder {
			w.linkRows = append(w.linkRows, linkRow{link: l, tx: d.Tx.Key, role: role})
			continue
		}
		if err := w.links.add(ctx, w.pq, w.c.Job, l, d.Tx.Key, role); err != nil {
			return fmt.Errorf("recording transaction links: %w", err)
		}
	}
	return nil
}

// rest records what new deliveries say of recorded transactions, the
// re-deliveries themselves, and what was learned.
func (w *commitWriter) rest(ctx context.Context) error {
	c, pq := w.c, w.pq
	for _, t := range c.Enriched {
		data, err := json.Marshal(t)
		if err != nil {
			return fmt.Errorf("encoding transaction %q: %w", t.Ref, err)
		}
		if _, err = pq.ExecContext(ctx, `UPDATE transactions SET data = ?, updated_at = ? WHERE job = ? AND key = ?`,
			string(data), w.at, c.Job, t.Key); err != nil {
			return fmt.Errorf("recording what a new delivery says of %q: %w", t.Ref, err)
		}
	}
	for _, dl := range c.Deliveries {
		data, err := json.Marshal(dl.Tx)
		if err != nil {
			return fmt.Errorf("encoding delivery of %q: %w", dl.Tx.Ref, err)
		}
		if _, err = pq.ExecContext(ctx, `INSERT INTO deliveries (job, file_hash, seq, tx_key, verdict, data, seen_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (job, file_hash, seq) DO NOTHING`,
			c.Job, dl.FileHash, dl.Seq, dl.TxKey, dl.Verdict, string(data), w.at); err != nil {
			return fmt.Errorf("recording delivery of %q: %w", dl.Tx.Ref, err)
		}
	}
	for _, l := range c.Learned {
		if _, err := pq.ExecContext(ctx, `INSERT INTO memory (kind, value, customer_id, learned_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (kind, value, customer_id) DO NOTHING`, l.Kind, l.Value, l.CustomerID, w.at); err != nil {
			return fmt.Errorf("recording learned %s: %w", l.Kind, err)
		}
	}
	return nil
}

// pendingQuery reads the job's pending decisions with their transactions.
// SQLite's planner, without statistics, walks the job's whole outbox by
// its primary key rather than the partial index of the pending rows (2.6
// CPU s at a million letters, none pending), or the decisions first: the
// index is named there, and CROSS JOIN keeps the tables in the order
// written (SQLite's documented way to fix a join's order; PostgreSQL
// plans it as the inner join it is).
func (s *Store) pendingQuery() string {
	pending := "outbox o"
	if s.dialect == SQLite {
		pending += " INDEXED BY outbox_pending"
	}
	return `SELECT d.key, d.data, d.items, d.decided_at, d.reverses, ` + txCols("t") + `, t.file_hash
		FROM ` + pending + ` CROSS JOIN decisions d CROSS JOIN transactions t
		WHERE o.job = ? AND o.state = '` + decide.DecPending + `'
		AND d.job = o.job AND d.key = o.key AND t.job = d.job AND t.key = d.tx_key`
}

// Pending returns the job's auto decisions not yet confirmed in the ledger,
// in writeBackOrder (order.go): grouped by the file they came from.
func (s *Store) Pending(ctx context.Context, job string) ([]decide.PendingDecision, error) {
	rows, err := s.onDB().QueryContext(ctx, s.pendingQuery(), job)
	if err != nil {
		return nil, fmt.Errorf("reading pending decisions: %w", err)
	}
	defer rows.Close()
	var out []decide.PendingDecision
	for rows.Next() {
		var p decide.PendingDecision
		var dec, items, at string
		var r txRow
		if err := rows.Scan(append(append([]any{&p.Key, &dec, &items, &at, &p.Reverses}, r.dest()...), &p.FileHash)...); err != nil {
			return nil, fmt.Errorf("reading pending decisions: %w", err)
		}
		if err := json.Unmarshal([]byte(dec), &p.Decision); err != nil {
			return nil, fmt.Errorf("decoding pending decision %s: %w", p.Key, err)
		}
		if err := json.Unmarshal([]byte(items), &p.Items); err != nil {
			return nil, fmt.Errorf("decoding pending items %s: %w", p.Key, err)
		}
		if err := r.decode(&p.Tx); err != nil {
			return nil, fmt.Errorf("decoding pending transaction %s: %w", p.Key, err)
		}
		if p.DecidedAt, err = time.Parse(time.RFC3339Nano, at); err != nil {
			return nil, fmt.Errorf("decoding pending decision time %s: %w", p.Key, err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading pending decisions: %w", err)
	}
	SortPending(out)
	return out, nil
}

// MarkRejected moves refused decisions from PENDING to REJECTED and makes
// their transactions exceptions again, carrying the ledger's message and
// the refused allocations as candidates — in one database transaction.
// Open ones are re-matched by the next runs (a different decision goes
// through; the same one is not retried for a day, see LastRejected).
func (s *Store) MarkRejected(ctx context.Context, job string, rejected []decide.Rejection, at time.Time) (err error) {
	if len(rejected) == 0 {
		return nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("marking decisions rejected: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	when := at.UTC().Format(time.RFC3339Nano)
	for _, r := range rejected {
		var txKey, data, items string
		err = s.onTx(tx).QueryRowContext(ctx, `SELECT d.tx_key, d.data, d.items FROM outbox o JOIN decisions d ON d.job = o.job AND d.key = o.key
			WHERE o.job = ? AND o.key = ? AND o.state = ?`, job, r.Key, decide.DecPending).Scan(&txKey, &data, &items)
		if errors.Is(err, sql.ErrNoRows) {
			err = nil
			continue // not pending any more
		}
		if err != nil {
			return fmt.Errorf("reading rejected decision %s: %w", r.Key, err)
		}
		var d domain.Decision
		var its map[string]domain.OpenItem
		if err = json.Unmarshal([]byte(data), &d); err != nil {
			return fmt.Errorf("decoding rejected decision %s: %w", r.Key, err)
		}
		_ = json.Unmarshal([]byte(items), &its)
		expl := d.Explanation + " — refused by the ledger: " + r.Reason
		if _, err = s.onTx(tx).ExecContext(ctx, `UPDATE decisions SET state = ?, applied_at = ?, explanation = ? WHERE job = ? AND key = ?`,
			decide.DecRejected, when, expl, job, r.Key); err != nil {
			return fmt.Errorf("marking decision %s rejected: %w", r.Key, err)
		}
		if err = markOutbox(ctx, s.onTx(tx), job, r.Key, decide.DecRejected, when); err != nil {
			return err
		}
		var all []decide.AutoDecision
		if !r.Hold {
			if all, err = s.letters(ctx, s.onTx(tx), job, txKey); err != nil {
				return err
			}
		}
		state, exc := decide.RefusedState(d, its, r, all)
		dec, jerr := json.Marshal(exc)
		if jerr != nil {
			return fmt.Errorf("encoding exception of %s: %w", r.Key, jerr)
		}
		exception := 0
		if decide.IsException(exc) {
			exception = 1
		}
		if _, err = s.onTx(tx).ExecContext(ctx, `UPDATE transactions SET state = ?, decision = ?, exception = ?, updated_at = ? WHERE job = ? AND key = ?`,
			state, string(dec), exception, when, job, txKey); err != nil {
			return fmt.Errorf("reopening transaction of %s: %w", r.Key, err)
		}
	}
	if err = bumpRevision(ctx, s.onTx(tx), job); err != nil {
		return err
	}
	if err = tx.Commit(); err != nil {
		return fmt.Errorf("marking decisions rejected: %w", err)
	}
	return nil
}

// LastRejected returns the newest decision on txKey that the ledger
// refused, and when (nil when none).
func (s *Store) LastRejected(ctx context.Context, job, txKey string) (*domain.Decision, time.Time, error) {
	var data, at string
	err := s.onDB().QueryRowContext(ctx, `SELECT data, applied_at FROM decisions WHERE job = ? AND tx_key = ? AND state = ?
		ORDER BY applied_at DESC, key DESC LIMIT 1`, job, txKey, decide.DecRejected).Scan(&data, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, time.Time{}, nil
	}
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("reading rejected decisions of %s: %w", txKey, err)
	}
	var d domain.Decision
	if err := json.Unmarshal([]byte(data), &d); err != nil {
		return nil, time.Time{}, fmt.Errorf("decoding rejected decision of %s: %w", txKey, err)
	}
	t, _ := time.Parse(time.RFC3339Nano, at)
	return &d, t, nil
}

// MarkApplied moves decisions from PENDING to APPLIED: their outbox rows
// (outbox.go), not their decision rows.
func (s *Store) MarkApplied(ctx context.Context, job string, keys []string, at time.Time) error {
	if len(keys) == 0 {
		return nil
	}
	sorted := append([]string(nil), keys...)
	sort.Strings(sorted)
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("marking decisions applied: %w", err)
	}
	pq := s.prepared(tx)
	defer pq.Close()
	when := at.UTC().Format(time.RFC3339Nano)
	if s.dialect == Postgres {
		err = markAppliedIn(ctx, pq, job, sorted, when)
	} else {
		err = markAppliedSet(ctx, pq, job, sorted, when)
	}
	if err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := bumpRevision(ctx, pq, job); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("marking decisions applied: %w", err)
	}
	return nil
}

// markAppliedIn marks the decisions keys (sorted) applied in one statement
// on PostgreSQL, the keys bound as one text array: one pass over the
// pending decisions (their partial index) looking each up in the array's
// hash. In IN lists of 500 keys the planner took the same path once per
// list: 153 statements at 100,000 payments, each reading every decision
// still pending (docs/BENCHMARKS.md, "Round five").
func markAppliedIn(ctx context.Context, pq *preparedTx, job string, keys []string, when string) error {
	if _, err := pq.ExecContext(ctx, `UPDATE outbox SET state = ?, at = ? WHERE job = ? AND state = ? AND key = ANY(?)`,
		decide.DecApplied, when, job, decide.DecPending, keys); err != nil {
		return fmt.Errorf("marking %d decisions applied, from %s: %w", len(keys), keys[0], err)
	}
	return nil
}

// markAppliedChunk is how many keys one of markAppliedSet's statements
// takes: ≈ 300 KB of JSON bound, a few hundred statements at a million (a
// variable for the tests).
var markAppliedChunk = 10000

// markAppliedSet marks the decisions keys (sorted) applied on SQLite, a
// chunk of keys per statement, each chunk bound as one JSON array that
// json_each opens as a table. The outbox is ordered by its key (WITHOUT
// ROWID): the sorted keys update its rows in the order they lie.
//
// OR IGNORE changes nothing of what is written (the only constraints the
// SET can break are state's and at's NOT NULL, and both are bound
// non-null) but spares the statement journal: an UPDATE of many rows that
// may abort halfway keeps, inside the transaction, a copy of every page
// it changes to undo itself (7.4 s of CPU at 100,000 against 0.8 s
// without, docs/BENCHMARKS.md "Round six: the write-back").
func markAppliedSet(ctx context.Context, pq *preparedTx, job string, keys []string, when string) error {
	for start := 0; start < len(keys); start += markAppliedChunk {
		chunk := keys[start:min(start+markAppliedChunk, len(keys))]
		list, err := jsonText(chunk)
		if err != nil {
			return fmt.Errorf("encoding %d decision keys: %w", len(chunk), err)
		}
		if _, err := pq.ExecContext(ctx, `UPDATE OR IGNORE outbox SET state = ?, at = ?
			WHERE job = ? AND key IN (SELECT value FROM json_each(?)) AND state = ?`,
			decide.DecApplied, when, job, list, decide.DecPending); err != nil {
			return fmt.Errorf("marking %d decisions applied, from %s: %w", len(chunk), chunk[0], err)
		}
	}
	return nil
}

// Stats counts the job's transactions by state (for metrics and summaries).
func (s *Store) Stats(ctx context.Context, job string) (map[string]int, error) {
	rows, err := s.onDB().QueryContext(ctx, `SELECT state, COUNT(*) FROM transactions WHERE job = ? GROUP BY state`, job)
	if err != nil {
		return nil, fmt.Errorf("counting transactions: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return nil, fmt.Errorf("counting transactions: %w", err)
		}
		out[st] = n
	}
	return out, rows.Err()
}

// ErrNoStore is returned when a command needs a state store and none is configured.
var ErrNoStore = errors.New("no state store")

func DateText(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format("2006-01-02")
}

// RedactPersonalData erases payers' names, IBANs and remittance text of the
// job's settled (lettered or ignored) transactions first seen before cutoff,
// and masks IBANs in their decisions' explanations. Amounts, references,
// rules, confidences and the config hash stay: the decisions remain
// auditable. It returns how many transactions were redacted.
func (s *Store) RedactPersonalData(ctx context.Context, job string, cutoff, now time.Time) (int, error) {
	rows, err := s.onDB().QueryContext(ctx, `SELECT `+txCols("t")+`, `+txDecision+` FROM transactions t
		WHERE t.job = ? AND t.state <> ? AND t.exception = 0 AND t.redacted_at = '' AND t.first_seen_at < ?`,
		job, decide.TxOpen, cutoff.UTC().Format(time.RFC3339Nano))
	if err != nil {
		return 0, fmt.Errorf("finding transactions to redact: %w", err)
	}
	type red struct {
		txRow
		dec string
	}
	var todo []red
	for rows.Next() {
		var r red
		if err := rows.Scan(append(r.dest(), &r.dec)...); err != nil {
			rows.Close()
			return 0, fmt.Errorf("finding transactions to redact: %w", err)
		}
		todo = append(todo, r)
	}
	if err := rows.Close(); err != nil {
		return 0, fmt.Errorf("finding transactions to redact: %w", err)
	}
	if len(todo) == 0 {
		return 0, nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("redacting: %w", err)
	}
	at := now.UTC().Format(time.RFC3339Nano)
	for _, r := range todo {
		var t domain.Transaction
		var d domain.Decision
		if err := r.decode(&t); err != nil {
			_ = tx.Rollback()
			return 0, fmt.Errorf("redacting %s: %w", r.key, err)
		}
		if err := json.Unmarshal([]byte(r.dec), &d); err != nil {
			_ = tx.Rollback()
			return 0, fmt.Errorf("redacting %s: %w", r.key, err)
		}
		decide.RedactTx(&t)
		d.Explanation = decide.MaskIBANs(d.Explanation)
		var buf []byte
		data, err := txSlimJSON(&buf, &t)
		if err != nil {
			_ = tx.Rollback()
			return 0, fmt.Errorf("redacting %s: %w", r.key, err)
		}
		dec, _ := json.Marshal(d)
		if _, err := s.onTx(tx).ExecContext(ctx, `UPDATE transactions SET data = ?, decision = ?, redacted_at = ? WHERE job = ? AND key = ?`,
			data, string(dec), at, job, r.key); err != nil {
			_ = tx.Rollback()
			return 0, fmt.Errorf("redacting %s: %w", r.key, err)
		}
		drows, err := s.onTx(tx).QueryContext(ctx, `SELECT key, explanation, data FROM decisions WHERE job = ? AND tx_key = ?`, job, r.key)
		if err != nil {
			_ = tx.Rollback()
			return 0, fmt.Errorf("redacting decisions of %s: %w", r.key, err)
		}
		type drec struct{ key, expl, data string }
		var ds []drec
		for drows.Next() {
			var x drec
			if err := drows.Scan(&x.key, &x.expl, &x.data); err == nil {
				ds = append(ds, x)
			}
		}
		drows.Close()
		for _, x := range ds {
			var dd domain.Decision
			_ = json.Unmarshal([]byte(x.data), &dd)
			dd.Explanation = decide.MaskIBANs(dd.Explanation)
			b, _ := json.Marshal(dd)
			if _, err := s.onTx(tx).ExecContext(ctx, `UPDATE decisions SET explanation = ?, data = ? WHERE job = ? AND key = ?`,
				decide.MaskIBANs(x.expl), string(b), job, x.key); err != nil {
				_ = tx.Rollback()
				return 0, fmt.Errorf("redacting decision %s: %w", x.key, err)
			}
		}
	}
	if err := bumpRevision(ctx, s.onTx(tx), job); err != nil {
		_ = tx.Rollback()
		return 0, err
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("redacting: %w", err)
	}
	return len(todo), nil
}

// MarkReversalRejected records that the ledger refused a reversal: the
// reversal is rejected, and the payment is lettered again as the ledger
// still holds it (the letter it tried to undo stands).
func (s *Store) MarkReversalRejected(ctx context.Context, job, key, reason string, at time.Time) error {
	return s.MarkReversalsRejected(ctx, job, []string{key}, reason, at)
}

// MarkReversalsRejected is MarkReversalRejected for the reversals of the
// letters of one payment (the letter and the resolutions of its remainder),
// in one database transaction: the transaction shows again every letter
// that stands.
func (s *Store) MarkReversalsRejected(ctx context.Context, job string, keys []string, reason string, at time.Time) (err error) {
	if len(keys) == 0 {
		return nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("marking reversal %s rejected: %w", keys[0], err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	when := at.UTC().Format(time.RFC3339Nano)
	txKeys := map[string]bool{}
	var order []string
	for _, key := range keys {
		var txKey string
		if err = s.onTx(tx).QueryRowContext(ctx, `SELECT tx_key FROM decisions WHERE job = ? AND key = ?`,
			job, key).Scan(&txKey); err != nil {
			return fmt.Errorf("reading reversal %s: %w", key, err)
		}
		if _, err = s.onTx(tx).ExecContext(ctx, `UPDATE decisions SET state = ?, applied_at = ?, explanation = explanation || ? WHERE job = ? AND key = ?`,
			decide.DecRejected, when, " — refused by the ledger: "+reason, job, key); err != nil {
			return fmt.Errorf("marking reversal %s rejected: %w", key, err)
		}
		if err = markOutbox(ctx, s.onTx(tx), job, key, decide.DecRejected, when); err != nil {
			return err
		}
		if !txKeys[txKey] {
			txKeys[txKey] = true
			order = append(order, txKey)
		}
	}
	for _, txKey := range order {
		var all []decide.AutoDecision
		if all, err = s.letters(ctx, s.onTx(tx), job, txKey); err != nil {
			return err
		}
		d, ok := decide.Standing(all)
		if !ok {
			err = fmt.Errorf("restoring the letter of %s: no letter stands", txKey)
			return err
		}
		d.Explanation += " (unlettering refused by the ledger: " + reason + ")"
		cur, jerr := json.Marshal(d)
		if jerr != nil {
			err = fmt.Errorf("encoding the letter of %s: %w", txKey, jerr)
			return err
		}
		exception := 0
		if decide.IsException(d) {
			exception = 1
		}
		if _, err = s.onTx(tx).ExecContext(ctx, `UPDATE transactions SET state = ?, decision = ?, exception = ?, updated_at = ? WHERE job = ? AND key = ?`,
			decide.TxLettered, string(cur), exception, when, job, txKey); err != nil {
			return fmt.Errorf("restoring the letter of %s: %w", txKey, err)
		}
	}
	if err = bumpRevision(ctx, s.onTx(tx), job); err != nil {
		return err
	}
	if err = tx.Commit(); err != nil {
		return fmt.Errorf("marking reversal %s rejected: %w", keys[0], err)
	}
	return nil
}
