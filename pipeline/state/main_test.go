package state

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/lettrage/lettrage/internal/testenv"
)

// pg is the package's PostgreSQL server, started by the first test that
// asks it for a database (pg.Database(t)).
var pg = testenv.SharedPostgres{Prefix: "lettrage-state-pg-"}

func TestMain(m *testing.M) {
	code := m.Run()
	pg.Stop()
	os.Exit(code)
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
		dsn := pg.Database(t)
		test(t, func() (*Store, error) { return OpenPostgres(t.Context(), dsn) })
	})
}

// forEachOpenStore is forEachStore for a test that opens its store once:
// it is given the store open (closed when the test ends) and a context.
func forEachOpenStore(t *testing.T, test func(t *testing.T, ctx context.Context, s *Store)) {
	forEachStore(t, func(t *testing.T, open func() (*Store, error)) {
		s, err := open()
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		test(t, context.Background(), s)
	})
}
