package daemon

import (
	"os"
	"testing"

	"github.com/lettrage/lettrage/internal/testenv"
)

var pg = testenv.SharedPostgres{Prefix: "lettrage-daemon-pg-"}

func TestMain(m *testing.M) {
	code := m.Run()
	pg.Stop()
	os.Exit(code)
}

// postgresDSN gives the test a fresh database on the package's PostgreSQL
// server, started on first use (the locks' and the elector's tests).
func postgresDSN(t *testing.T) string {
	t.Helper()
	return pg.Database(t)
}
