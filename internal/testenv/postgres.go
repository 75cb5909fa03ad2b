package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// Postgres is a throwaway PostgreSQL cluster on 127.0.0.1 (fsync off), its
// socket and data in a temporary folder. The superuser is "postgres" with
// trust authentication; CreateDatabase gives each test its own database.
type Postgres struct {
	Dir  string // data folder and socket folder live below it
	Port int
	// DSN connects to the "postgres" database as the superuser.
	DSN string

	bin  string
	proc *Process
	seq  atomic.Int64
}

// PostgresBinDir finds the folder holding initdb and postgres: $PG_BIN, then
// Debian's /usr/lib/postgresql/<version>/bin, then PATH.
func PostgresBinDir() (string, error) {
	var alts []string
	if d := os.Getenv("PG_BIN"); d != "" {
		alts = append(alts, filepath.Join(d, "initdb"))
	}
	for _, v := range []string{"17", "16", "15", "14", "13"} {
		alts = append(alts, "/usr/lib/postgresql/"+v+"/bin/initdb")
	}
	p, err := LookPath("initdb", alts...)
	if err != nil {
		return "", err
	}
	// PATH may hold a symlink (/usr/local/bin/initdb); psql and postgres
	// live next to the real file.
	if real, err := filepath.EvalSymlinks(p); err == nil {
		p = real
	}
	return filepath.Dir(p), nil
}

// StartPostgres starts a cluster for one test and stops it when the test
// ends. Packages with several tests share one through NewPostgres in
// TestMain.
func StartPostgres(t testing.TB) *Postgres {
	t.Helper()
	return startForTest(t, "PostgreSQL", "lettrage-pg-", NewPostgres)
}

// SharedPostgres is one test package's cluster: the first test that asks
// for a database starts it, the package's TestMain stops it (Stop). Tests
// that never ask start nothing.
type SharedPostgres struct {
	// Prefix names the cluster's temporary folder ("lettrage-state-pg-").
	Prefix string

	once sync.Once
	pg   *Postgres
	err  error
	dir  string
}

// Database gives the test a fresh database on the shared cluster, started on
// first use. Without PostgreSQL the test fails under CI and skips loudly
// elsewhere (Need).
func (s *SharedPostgres) Database(t testing.TB) string {
	t.Helper()
	s.once.Do(func() {
		s.dir, s.err = os.MkdirTemp("", s.Prefix)
		if s.err == nil {
			s.pg, s.err = NewPostgres(s.dir)
		}
	})
	Need(t, "PostgreSQL", s.err)
	return s.pg.Database(t)
}

// Stop stops the cluster, if a test started it, and removes its folder.
func (s *SharedPostgres) Stop() {
	if s.pg != nil {
		s.pg.Stop()
	}
	if s.dir != "" {
		if err := os.RemoveAll(s.dir); err != nil {
			fmt.Fprintf(os.Stderr, "removing PostgreSQL folder: %v\n", err)
		}
	}
}

// NewPostgres initialises a cluster under dir and starts it on a free port.
// When running as root the cluster runs as the "postgres" system user (the
// server refuses root) and dir is handed to it. Call Stop when done.
func NewPostgres(dir string) (*Postgres, error) {
	bin, err := PostgresBinDir()
	if err != nil {
		return nil, &NotInstalledError{Program: "postgres", Err: err}
	}
	pg := &Postgres{Dir: dir, bin: bin}
	data := filepath.Join(dir, "data")
	var cred *syscall.Credential
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, &NotInstalledError{Program: "postgres (system user)", Err: err}
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chown(dir, uid, gid); err != nil {
			return nil, fmt.Errorf("handing %s to postgres: %w", dir, err)
		}
	}
	initdb := exec.Command(filepath.Join(bin, "initdb"), "-D", data, "-U", "postgres", "-A", "trust",
		"-E", "UTF8", "--locale=C", "--no-sync")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if out, err := initdb.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("running initdb: %w\n%s", err, out)
	}
	if err := pg.start(data, cred); err != nil {
		return nil, err
	}
	return pg, nil
}

// start runs the server on data (an initialised cluster) on a free port,
// its socket in pg.Dir, as cred when not nil, and waits until it answers.
func (pg *Postgres) start(data string, cred *syscall.Credential) error {
	port, err := FreePort()
	if err != nil {
		return err
	}
	pg.Port = port
	logPath := filepath.Join(pg.Dir, "postgres.log")
	f, err := os.Create(logPath)
	if err != nil {
		return fmt.Errorf("creating server log: %w", err)
	}
	cmd := exec.Command(filepath.Join(pg.bin, "postgres"), "-D", data, "-p", strconv.Itoa(port), "-k", pg.Dir,
		"-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off",
		"-c", "full_page_writes=off", "-c", "max_connections=50")
	cmd.Stdout, cmd.Stderr = f, f
	// Pdeathsig is a backstop: the server goes when the test binary dies
	// without calling Stop.
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGQUIT}
	if err := cmd.Start(); err != nil {
		f.Close()
		return fmt.Errorf("starting postgres: %w", err)
	}
	pg.proc = watch(cmd, f, logPath)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	if err := WaitPort(addr, 15*time.Second); err != nil {
		pg.Stop()
		return fmt.Errorf("starting postgres: %w\n%s", err, pg.proc.LogTail())
	}
	pg.DSN = pg.dsn("postgres")
	// The port accepts before the server takes queries; wait for it.
	deadline := time.Now().Add(15 * time.Second)
	for {
		if _, err := pg.psql("postgres", "SELECT 1"); err == nil {
			return nil
		} else if time.Now().After(deadline) {
			pg.Stop()
			return fmt.Errorf("waiting for postgres: %w", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (pg *Postgres) dsn(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", pg.Port, db)
}

func (pg *Postgres) psql(db, sql string) (string, error) {
	cmd := exec.Command(filepath.Join(pg.bin, "psql"), "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1",
		"-d", pg.dsn(db), "-c", sql)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("running psql %q: %w: %s", sql, err, out)
	}
	return strings.TrimSpace(string(out)), nil
}

// CreateDatabase creates a fresh database named after prefix and returns
// its DSN.
func (pg *Postgres) CreateDatabase(prefix string) (string, error) {
	name := fmt.Sprintf("%s_%d", sanitizeIdent(prefix), pg.seq.Add(1))
	if _, err := pg.psql("postgres", "CREATE DATABASE "+name); err != nil {
		return "", fmt.Errorf("creating database %s: %w", name, err)
	}
	return pg.dsn(name), nil
}

// Database is CreateDatabase for a test: it fails the test on error.
func (pg *Postgres) Database(t testing.TB) string {
	t.Helper()
	dsn, err := pg.CreateDatabase(t.Name())
	if err != nil {
		t.Fatal(err)
	}
	return dsn
}

// Exec runs SQL in database db (psql, for seeding) and returns its output.
func (pg *Postgres) Exec(dsn, sql string) (string, error) {
	cmd := exec.Command(filepath.Join(pg.bin, "psql"), "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-d", dsn, "-c", sql)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("running psql: %w: %s", err, out)
	}
	return strings.TrimSpace(string(out)), nil
}

// Stop shuts the server down (fast shutdown, by PID); safe to call twice.
func (pg *Postgres) Stop() {
	if pg == nil || pg.proc == nil || pg.proc.Cmd.Process == nil {
		return
	}
	_ = pg.proc.Cmd.Process.Signal(syscall.SIGINT)
	done := make(chan struct{})
	go func() {
		for i := 0; i < 200; i++ {
			if err := pg.proc.Cmd.Process.Signal(syscall.Signal(0)); err != nil {
				break
			}
			time.Sleep(25 * time.Millisecond)
		}
		close(done)
	}()
	<-done
	pg.proc.Stop()
	pg.proc = nil
}

// LogTail is the end of the server log.
func (pg *Postgres) LogTail() string {
	if pg == nil || pg.proc == nil {
		return ""
	}
	return pg.proc.LogTail()
}

func sanitizeIdent(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	out := b.String()
	if len(out) > 40 {
		out = out[:40]
	}
	if out == "" || out[0] >= '0' && out[0] <= '9' {
		out = "db_" + out
	}
	return out
}
