package state

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lettrage/lettrage/domain"
	"github.com/lettrage/lettrage/pipeline/decide"
)

// TestMigrationFromSchema8: a store written at schema 8 (every
// transaction holding its own copy of its decision, the full indexes) is
// migrated to 9: what it held reads the same, the queries use the new
// partial indexes (SQLite's plan), and a new transaction stores its
// decision once.
func TestMigrationFromSchema8(t *testing.T) {
	forEachRawStore(t, testMigrationFrom8)
}

// forEachRawStore runs a migration test on SQLite and PostgreSQL, handing
// it raw, a store opened without migrating (for migrateTo an older
// schema), and open, which opens the same database as the product does.
func forEachRawStore(t *testing.T, test func(t *testing.T, raw func(ctx context.Context) (*Store, error), open func() (*Store, error))) {
	t.Run("sqlite", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "state.db")
		test(t, func(ctx context.Context) (*Store, error) {
			db, err := sql.Open("sqlite", "file:"+path)
			if err != nil {
				return nil, err
			}
			db.SetMaxOpenConns(1)
			return &Store{db: db, dialect: SQLite}, nil
		}, func() (*Store, error) { return OpenSQLite(path) })
	})
	t.Run("postgres", func(t *testing.T) {
		dsn := pg.Database(t)
		test(t, func(ctx context.Context) (*Store, error) {
			db, err := sql.Open("pgx", dsn)
			return &Store{db: db, dialect: Postgres}, err
		}, func() (*Store, error) { return OpenPostgres(t.Context(), dsn) })
	})
}

func testMigrationFrom8(t *testing.T, raw func(ctx context.Context) (*Store, error), open func() (*Store, error)) {
	ctx := context.Background()
	old, err := raw(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := old.migrateTo(ctx, 8); err != nil {
		t.Fatal(err)
	}
	at := "2026-11-18T09:00:00Z"
	exc := `{"tx_key":"k-open","outcome":"unmatched","reason":"no_candidate","explanation":"nothing fits"}`
	ltr := `{"tx_key":"k-ltr","outcome":"auto","rule":"R1","confidence":1,"allocations":[{"item_id":"OI-1","customer_id":"C1","amount":"10.00"}]}`
	for _, r := range [][]any{
		{"k-open", "open", `{"key":"k-open","tx_ref":"R-OPEN","amount":"5.00","currency":"EUR","credit":true}`, exc, 1},
		{"k-ltr", "lettered", `{"key":"k-ltr","tx_ref":"R-LTR","amount":"10.00","currency":"EUR","credit":true}`, ltr, 0},
	} {
		if _, err := old.onDB().ExecContext(ctx, `INSERT INTO transactions (job, key, ref, account, booking_date, currency, amount, state,
			file_hash, data, decision, exception, first_seen_at, updated_at, ident) VALUES ('j', ?, ?, 'A', '2026-11-17', 'EUR', '1', ?, 'h', ?, ?, ?, ?, ?, 'c')`,
			r[0], r[0], r[1], r[2], r[3], r[4], at, at); err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range [][]any{{"rec-1", "k-open", "unmatched", exc, "record"}, {"ltr-1", "k-ltr", "auto", ltr, "pending"}} {
		if _, err := old.onDB().ExecContext(ctx, `INSERT INTO decisions (job, key, tx_key, outcome, rule, confidence, explanation, data, items,
			config_hash, decided_at, state) VALUES ('j', ?, ?, ?, '', 1, '', ?, '{}', 'cfg', ?, ?)`, r[0], r[1], r[2], r[3], at, r[4]); err != nil {
			t.Fatal(err)
		}
	}
	old.Close()

	s, err := open()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var v int
	if err := s.onDB().QueryRowContext(ctx, `SELECT MAX(version) FROM schema_migrations`).Scan(&v); err != nil || v != SchemaVersion {
		t.Fatalf("schema version %d (%v), want %d", v, err, SchemaVersion)
	}
	excs, err := s.Exceptions(ctx, "j")
	if err != nil || len(excs) != 1 || excs[0].Tx.Ref != "R-OPEN" || excs[0].Decision.Explanation != "nothing fits" {
		t.Fatalf("exceptions after the migration = %+v, %v", excs, err)
	}
	pend, err := s.Pending(ctx, "j")
	if err != nil || len(pend) != 1 || pend[0].Key != "ltr-1" || pend[0].Decision.Rule != "R1" {
		t.Fatalf("pending after the migration = %+v, %v", pend, err)
	}
	if s.Dialect() == SQLite {
		for q, index := range map[string]string{
			`SELECT key FROM transactions WHERE job = 'j' AND exception = 1`:   "transactions_exception",
			`SELECT key FROM outbox WHERE job = 'j' AND state = 'pending'`:     "outbox_pending",
			`SELECT key FROM decisions WHERE job = 'j' AND state = 'rejected'`: "decisions_rejected",
			`SELECT key FROM decisions WHERE job = 'j' AND reverses <> ''`:     "decisions_reversals",
		} {
			plan, err := collect(ctx, s.onDB(), `EXPLAIN QUERY PLAN `+q)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(fmt.Sprint(plan), index) {
				t.Errorf("%s: plan %v does not use %s", q, plan, index)
			}
		}
	}

	// A new transaction: its decision is stored once and reads back.
	tx := testTx("R-NEW", "7.00")
	d := domain.Decision{TxKey: tx.Key, Outcome: domain.Unmatched, Reason: "no_candidate", Explanation: "new one"}
	if err := s.SaveCommit(ctx, Commit{Job: "j", ConfigHash: "cfg", At: time.Date(2026, 11, 19, 9, 0, 0, 0, time.UTC),
		Decisions: []decide.DecisionRecord{{Key: "rec-new", Tx: &tx, Decision: d, New: true}}}); err != nil {
		t.Fatal(err)
	}
	var own, named string
	if err := s.onDB().QueryRowContext(ctx, `SELECT decision, decision_key FROM transactions WHERE job = 'j' AND key = ?`, tx.Key).Scan(&own, &named); err != nil {
		t.Fatal(err)
	}
	if own != "" || named != "rec-new" {
		t.Errorf("new transaction: decision %q, decision_key %q; want the decision stored once, in decisions", own, named)
	}
	st, ok, err := s.Transaction(ctx, "j", tx.Key)
	if err != nil || !ok || st.Decision.Explanation != "new one" {
		t.Errorf("new transaction reads back %+v, %v, %v", st, ok, err)
	}
	if excs, err := s.Exceptions(ctx, "j"); err != nil || len(excs) != 2 {
		t.Errorf("exceptions = %d, %v; want 2", len(excs), err)
	}
}

// TestCompactStateFile compacts, as if the retention were over, every
// settled transaction of the SQLite state file LETTRAGE_COMPACT_DB (job
// LETTRAGE_COMPACT_JOB, default "bench") and vacuums it: the measurement
// of docs/BENCHMARKS.md "The daemon at scale" (state size before and after
// compaction). Skipped without the variable.
func TestCompactStateFile(t *testing.T) {
	path := os.Getenv("LETTRAGE_COMPACT_DB")
	if path == "" {
		t.Skip("LETTRAGE_COMPACT_DB not set")
	}
	job := os.Getenv("LETTRAGE_COMPACT_JOB")
	if job == "" {
		job = "bench"
	}
	s, err := OpenSQLite(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	size := func() int64 {
		var n int64
		for _, f := range []string{path, path + "-wal"} {
			if fi, err := os.Stat(f); err == nil {
				n += fi.Size()
			}
		}
		return n
	}
	vacuum := func() {
		for _, q := range []string{`PRAGMA wal_checkpoint(TRUNCATE)`, `VACUUM`, `PRAGMA wal_checkpoint(TRUNCATE)`} {
			if _, err := s.onDB().ExecContext(ctx, q); err != nil {
				t.Fatal(err)
			}
		}
	}
	vacuum()
	before := size()
	start := time.Now()
	n, err := s.Compact(ctx, job, time.Now().AddDate(0, 0, 1), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	vacuum()
	var txs int
	if err := s.onDB().QueryRowContext(ctx, `SELECT COUNT(*) FROM transactions WHERE job = ?`, job).Scan(&txs); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d transactions, %d compacted in %s; vacuumed state %d bytes before, %d after (%.0f and %.0f bytes per transaction)",
		txs, n, took.Round(time.Millisecond), before, size(), float64(before)/float64(txs), float64(size())/float64(txs))
}

// TestCommitOfARecordedTransactionFails: a commit that records as new a
// transaction already recorded fails as a whole (SQLite's INSERT OR
// IGNORE must not turn it into a silent no-op).
func TestCommitOfARecordedTransactionFails(t *testing.T) {
	forEachOpenStore(t, func(t *testing.T, ctx context.Context, s *Store) {
		at := time.Date(2026, 11, 18, 9, 0, 0, 0, time.UTC)
		tx := testTx("R-DUP", "7.00")
		rec := func(key, expl string) decide.DecisionRecord {
			return decide.DecisionRecord{Key: key, Tx: &tx, New: true,
				Decision: domain.Decision{TxKey: tx.Key, Outcome: domain.Unmatched, Reason: "no_candidate", Explanation: expl}}
		}
		if err := s.SaveCommit(ctx, Commit{Job: "j", At: at, Decisions: []decide.DecisionRecord{rec("rec-1", "first")}}); err != nil {
			t.Fatal(err)
		}
		err := s.SaveCommit(ctx, Commit{Job: "j", At: at.Add(time.Hour), Files: []FileRecord{{Hash: "h2", Path: "f2", Status: "done"}},
			Decisions: []decide.DecisionRecord{rec("rec-2", "second")}})
		if err == nil {
			t.Fatal("recording a recorded transaction as new succeeded")
		}
		if done, _ := s.FileDone(ctx, "j", "h2"); done {
			t.Error("the failed commit recorded its file")
		}
		if st, _, _ := s.Transaction(ctx, "j", tx.Key); st.Decision.Explanation != "first" {
			t.Errorf("after the failed commit the transaction shows %q, want the first decision", st.Decision.Explanation)
		}
	})
}

// TestSQLiteSettings: a new SQLite store has 8 KiB pages and keeps its
// durability (WAL, synchronous=FULL) with temporary files in memory; an
// existing store keeps the page size it was created with.
func TestSQLiteSettings(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "state.db")
	check := func(wantPage int) {
		t.Helper()
		s, err := OpenSQLite(path)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		var page, sync, temp int
		var mode string
		for q, dst := range map[string]any{`PRAGMA page_size`: &page, `PRAGMA synchronous`: &sync, `PRAGMA temp_store`: &temp, `PRAGMA journal_mode`: &mode} {
			if err := s.onDB().QueryRowContext(ctx, q).Scan(dst); err != nil {
				t.Fatal(err)
			}
		}
		if page != wantPage || mode != "wal" || sync != 2 || temp != 2 {
			t.Errorf("page_size %d (want %d), journal_mode %s, synchronous %d, temp_store %d; want wal, 2 (FULL), 2 (MEMORY)",
				page, wantPage, mode, sync, temp)
		}
	}
	check(sqlitePageSize)
	check(sqlitePageSize) // reopened: unchanged

	old := filepath.Join(t.TempDir(), "old.db")
	db, err := sql.Open("sqlite", "file:"+old+"?_pragma=journal_mode(WAL)")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`CREATE TABLE x (a)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	path = old
	check(4096)
}
