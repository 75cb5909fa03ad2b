package state

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/lettrage/lettrage/internal/testenv"
)

var pg = testenv.SharedPostgres{Prefix: "lettrage-state-pg-"}

func TestMain(m *testing.M) {
	code := m.Run()
	pg.Stop()
	os.Exit(code)
}

// postgresDSN gives the test a fresh database on the package's PostgreSQL
// server, started on first use.
func postgresDSN(t *testing.T) string {
	t.Helper()
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
