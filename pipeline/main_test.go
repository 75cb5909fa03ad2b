package pipeline

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/lettrage/lettrage/connectors/source/local"
	"github.com/lettrage/lettrage/domain"
	"github.com/lettrage/lettrage/internal/testenv"
	"github.com/lettrage/lettrage/pipeline/state"
)

// pg is the package's PostgreSQL server, started by the first test that
// asks it for a database (pg.Database(t)).
var pg = testenv.SharedPostgres{Prefix: "lettrage-pipeline-pg-"}

func TestMain(m *testing.M) {
	// Every pass of the package's tests checks that the exceptions it
	// hands the reports are the store's (handover.go).
	checkHanded = true
	code := m.Run()
	pg.Stop()
	os.Exit(code)
}

// forEachStore runs a state-store test against SQLite and PostgreSQL: the
// same suite for both backends. open returns a new handle on the same
// database each time it is called.
func forEachStore(t *testing.T, test func(t *testing.T, open func() (*state.Store, error))) {
	t.Run("sqlite", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "state.db")
		test(t, func() (*state.Store, error) { return state.OpenSQLite(path) })
	})
	t.Run("postgres", func(t *testing.T) {
		dsn := pg.Database(t)
		test(t, func() (*state.Store, error) { return state.OpenPostgres(t.Context(), dsn) })
	})
}

// passFolder is the set-up of a pass test on a store: the folders
// statements/ and out/ in a new temporary directory, the store open gives
// (closed when the test ends) and a local source on statements/.
func passFolder(t *testing.T, open func() (*state.Store, error)) (stmts, out string, store *state.Store, src *local.Source) {
	t.Helper()
	dir := t.TempDir()
	stmts, out = filepath.Join(dir, "statements"), filepath.Join(dir, "out")
	for _, d := range []string{stmts, out} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	store, err := open()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if src, err = local.New("statements", local.Config{Dir: stmts}); err != nil {
		t.Fatal(err)
	}
	return stmts, out, store, src
}

// sqliteIn opens a SQLite state store at dir/state.db, closed when the
// test ends.
func sqliteIn(t *testing.T, dir string) *state.Store {
	t.Helper()
	store, err := state.OpenSQLite(filepath.Join(dir, "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	return store
}

// sqlOf is the store's database with the placeholders of its dialect
// rebound: what the pass's tests read and touch the tables through.
func sqlOf(s *state.Store) sqlOn { return sqlOn{s} }

type sqlOn struct{ s *state.Store }

func (q sqlOn) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return q.s.DB().QueryRowContext(ctx, q.s.Rebind(query), args...)
}

func (q sqlOn) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return q.s.DB().ExecContext(ctx, q.s.Rebind(query), args...)
}

func testTx(ref, amount string) domain.Transaction {
	return domain.Transaction{
		Key: "FR7630006000011234567890189|" + ref, Ref: ref, Account: "FR7630006000011234567890189",
		Amount: domain.MustAmount(amount), Currency: "EUR", Credit: true, Status: "BOOK",
		BookingDate: time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC),
	}
}
