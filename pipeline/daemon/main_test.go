package daemon

import (
	"os"
	"testing"

	"github.com/lettrage/lettrage/internal/testenv"
)

// pg is the package's PostgreSQL server, started by the first test that
// asks it for a database (pg.Database(t)).
var pg = testenv.SharedPostgres{Prefix: "lettrage-daemon-pg-"}

func TestMain(m *testing.M) {
	code := m.Run()
	pg.Stop()
	os.Exit(code)
}
