package pipeline

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lettrage/lettrage/domain"
)

// TestMigrationFromSchema8: a store written at schema 8 (every
// transaction holding its own copy of its decision, the full indexes) is
// migrated to 9: what it held reads the same, the queries use the new
// partial indexes (SQLite's plan), and a new transaction stores its
// decision once.
func TestMigrationFromSchema8(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "state.db")
		testMigrationFrom8(t, func(ctx context.Context) (*Store, error) {
			db, err := sql.Open("sqlite", "file:"+path)
			if err != nil {
				return nil, err
			}
			db.SetMaxOpenConns(1)
			return &Store{db: db, dialect: SQLite}, nil
		}, func() (*Store, error) { return OpenSQLite(path) })
	})
	t.Run("postgres", func(t *testing.T) {
		dsn := postgresDSN(t)
		testMigrationFrom8(t, func(ctx context.Context) (*Store, error) {
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
		if _, err := old.x().ExecContext(ctx, `INSERT INTO transactions (job, key, ref, account, booking_date, currency, amount, state,
			file_hash, data, decision, exception, first_seen_at, updated_at, ident) VALUES ('j', ?, ?, 'A', '2026-11-17', 'EUR', '1', ?, 'h', ?, ?, ?, ?, ?, 'c')`,
			r[0], r[0], r[1], r[2], r[3], r[4], at, at); err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range [][]any{{"rec-1", "k-open", "unmatched", exc, "record"}, {"ltr-1", "k-ltr", "auto", ltr, "pending"}} {
		if _, err := old.x().ExecContext(ctx, `INSERT INTO decisions (job, key, tx_key, outcome, rule, confidence, explanation, data, items,
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
	if err := s.x().QueryRowContext(ctx, `SELECT MAX(version) FROM schema_migrations`).Scan(&v); err != nil || v != 9 {
		t.Fatalf("schema version %d (%v), want 9", v, err)
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
			`SELECT key FROM decisions WHERE job = 'j' AND state = 'pending'`:  "decisions_pending",
			`SELECT key FROM decisions WHERE job = 'j' AND state = 'rejected'`: "decisions_rejected",
			`SELECT key FROM decisions WHERE job = 'j' AND reverses <> ''`:     "decisions_reversals",
		} {
			plan, err := collect(ctx, s.x(), `EXPLAIN QUERY PLAN `+q)
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
		Decisions: []DecisionRecord{{Key: "rec-new", Tx: tx, Decision: d, New: true}}}); err != nil {
		t.Fatal(err)
	}
	var own, named string
	if err := s.x().QueryRowContext(ctx, `SELECT decision, decision_key FROM transactions WHERE job = 'j' AND key = ?`, tx.Key).Scan(&own, &named); err != nil {
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
