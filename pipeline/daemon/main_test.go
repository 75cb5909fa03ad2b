package daemon

import (
	"os"
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
// server, started on first use (the locks' and the elector's tests).
func postgresDSN(t *testing.T) string {
	t.Helper()
	pgOnce.Do(func() {
		pgDir, pgErr = os.MkdirTemp("", "lettrage-daemon-pg-")
		if pgErr == nil {
			pg, pgErr = testenv.NewPostgres(pgDir)
		}
	})
	testenv.Need(t, "PostgreSQL", pgErr)
	return pg.Database(t)
}
