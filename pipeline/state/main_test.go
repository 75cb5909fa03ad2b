package state

import (
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/lettrage/lettrage/internal/testenv"
)

var (
	pgOnce sync.Once
	pg     *testenv.Postgres
	pgErr  error
	pgDir  string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if pg != nil {
		pg.Stop()
	}
	if pgDir != "" {
		os.RemoveAll(pgDir)
	}
	os.Exit(code)
}

// postgresDSN gives the test a fresh database on the package's PostgreSQL
// server, started on first use.
func postgresDSN(t *testing.T) string {
	t.Helper()
	pgOnce.Do(func() {
		pgDir, pgErr = os.MkdirTemp("", "lettrage-state-pg-")
		if pgErr == nil {
			pg, pgErr = testenv.NewPostgres(pgDir)
		}
	})
	testenv.Need(t, "PostgreSQL", pgErr)
	return pg.Database(t)
}

// forEachStore runs a state-store test against SQLite and PostgreSQL: the
// same suite for both backends. open returns a new handle on the same
// database each time it is called.
func forEachStore(t *testing.T, test func(t *testing.T, open func() (*Store, error))) {
	t.Run("sqlite", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "state.db")
		test(t, func() (*Store, error) { return OpenSQLite(path) })
	})
	t.Run("postgres", func(t *testing.T) {
		dsn := postgresDSN(t)
		test(t, func() (*Store, error) { return OpenPostgres(t.Context(), dsn) })
	})
}
