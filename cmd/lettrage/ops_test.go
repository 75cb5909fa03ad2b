package main

// Issue 17: exit codes by cause, held files, CLI habits (-h, flags
// anywhere, LETTRAGE_CONFIG, SIGHUP, SIGTERM), check --connect.

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// secondJob is a job block appended to the example's jobs: the same
// statements, its own ledger block and reports.
func secondJob(name, ledger string) string {
	return `
  - name: ` + name + `
    schedule: "@every 15m"
    source:
      type: local
      local: {dir: statements, pattern: "*.xml"}
    ledger:
` + ledger + `
    reports: {dir: out/` + name + `}
`
}

// unreachablePostgres is a PostgreSQL ledger nobody listens for.
const unreachablePostgres = `      type: postgres
      postgres:
        dsn: "postgres://u:topsecret@127.0.0.1:1/erp?connect_timeout=2"
        open_items_query: "SELECT 1 AS id, 'EUR' AS currency, 1 AS amount, 1 AS residual"`

// addJobs puts extra job blocks before the example job.
func addJobs(c string, blocks ...string) string {
	return strings.Replace(c, "jobs:\n", "jobs:"+strings.Join(blocks, "")+"\n", 1)
}

func TestExitCodesByCause(t *testing.T) {
	t.Run("ok", func(t *testing.T) {
		r := runBin(t, nil, "once", "-c", example(t, nil))
		if r.code != 0 || !strings.Contains(r.stdout, "result        ok") {
			t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
		}
	})

	t.Run("source unreachable: 3, nothing claimed", func(t *testing.T) {
		cfg := example(t, func(c string) string { return strings.Replace(c, "dir: statements", "dir: no-such-mount", 1) })
		r := runBin(t, nil, "once", "-c", cfg)
		if r.code != 3 || !strings.Contains(r.stderr, "listing") || !strings.Contains(r.stderr, "exit 3") {
			t.Fatalf("exit %d, want 3 naming the listing\n%s", r.code, r.stderr)
		}
		if strings.Contains(r.stdout, "exceptions.csv") || strings.Contains(r.stdout, "lettered") ||
			!strings.Contains(r.stdout, "nothing was committed") {
			t.Errorf("the summary claims what did not happen:\n%s", r.stdout)
		}
		if _, err := os.Stat(filepath.Join(filepath.Dir(cfg), "out", "exceptions.csv")); err == nil {
			t.Error("exceptions.csv was written")
		}
	})

	t.Run("open items missing: 3, one prefix", func(t *testing.T) {
		cfg := example(t, nil)
		os.Remove(filepath.Join(filepath.Dir(cfg), "open_items.csv"))
		r := runBin(t, nil, "once", "-c", cfg)
		if r.code != 3 {
			t.Fatalf("exit %d, want 3\n%s", r.code, r.stderr)
		}
		if strings.Count(r.stderr, "reading open items") != 1 {
			t.Errorf("the step is repeated:\n%s", r.stderr)
		}
	})

	t.Run("malformed open items: 2", func(t *testing.T) {
		cfg := example(t, nil)
		f, err := os.OpenFile(filepath.Join(filepath.Dir(cfg), "open_items.csv"), os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.WriteString("OI-BAD,C1,Someone,X,2026-01-01,2026-02-01,EURO,10.00,10.00,,\n"); err != nil {
			t.Fatal(err)
		}
		f.Close()
		if r := runBin(t, nil, "once", "-c", cfg); r.code != 2 {
			t.Fatalf("exit %d, want 2\n%s", r.code, r.stderr)
		}
	})

	t.Run("state store unreachable: 3", func(t *testing.T) {
		cfg := example(t, func(c string) string {
			return strings.Replace(c, "  driver: sqlite\n", "  driver: postgres\n  postgres: {dsn: \"postgres://u:topsecret@127.0.0.1:1/x?connect_timeout=2\"}\n", 1)
		})
		r := runBin(t, nil, "once", "-c", cfg)
		if r.code != 3 || strings.Contains(r.stderr, "topsecret") {
			t.Fatalf("exit %d, want 3 without the password\n%s", r.code, r.stderr)
		}
	})

	t.Run("one ledger down: the other job runs, highest code wins", func(t *testing.T) {
		cfg := example(t, func(c string) string { return addJobs(c, secondJob("erp", unreachablePostgres)) })
		r := runBin(t, nil, "once", "-c", cfg)
		if r.code != 3 {
			t.Fatalf("exit %d, want 3\n%s\n%s", r.code, r.stdout, r.stderr)
		}
		if !strings.Contains(r.stderr, "job erp") || strings.Contains(r.stderr, "job example:") || strings.Contains(r.stderr, "topsecret") {
			t.Errorf("stderr should name the failed job only, without its password:\n%s", r.stderr)
		}
		if !strings.Contains(r.stdout, "job example (run") || !strings.Contains(r.stdout, "11 lettered") {
			t.Errorf("the example job did not run after the failed one:\n%s", r.stdout)
		}
		checkExampleOutputs(t, filepath.Join(filepath.Dir(cfg), "out"))
	})

	t.Run("a bad file: 1 once, then 0 while held", func(t *testing.T) {
		cfg := example(t, nil)
		dir := filepath.Dir(cfg)
		bad, err := os.ReadFile(filepath.Join("..", "..", "deploy", "examples", "testdata", "truncated.xml"))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "statements", "zz-bad.xml"), bad, 0o644); err != nil {
			t.Fatal(err)
		}
		if r := runBin(t, nil, "once", "-c", cfg); r.code != 1 || !strings.Contains(r.stdout, "result        partial") {
			t.Fatalf("pass 1: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
		}
		// The operator puts it back: held, the run succeeds.
		if err := os.WriteFile(filepath.Join(dir, "statements", "zz-bad.xml"), bad, 0o644); err != nil {
			t.Fatal(err)
		}
		r := runBin(t, nil, "once", "-c", cfg)
		if r.code != 0 || !strings.Contains(r.stdout, "1 held") {
			t.Fatalf("pass 2: exit %d, want 0 holding the file\n%s\n%s", r.code, r.stdout, r.stderr)
		}
		// `release` lists it, then releases it: the next pass reports it again.
		r = runBin(t, nil, "release", "-c", cfg)
		if r.code != 0 || !strings.Contains(r.stdout, "zz-bad.xml") || !strings.Contains(r.stdout, "truncated") {
			t.Fatalf("release (list): exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
		}
		if r := runBin(t, nil, "release", "-c", cfg, "zz-bad.xml"); r.code != 0 || !strings.Contains(r.stdout, "released example zz-bad.xml") {
			t.Fatalf("release zz-bad.xml: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
		}
		if r := runBin(t, nil, "release", "-c", cfg, "nope.xml"); r.code != 2 {
			t.Errorf("release of nothing held: exit %d, want 2", r.code)
		}
		if r := runBin(t, nil, "once", "-c", cfg); r.code != 1 {
			t.Fatalf("after release: exit %d, want 1 (read and refused again)\n%s", r.code, r.stderr)
		}
	})
}

func TestHelpExitsZero(t *testing.T) {
	for _, cmd := range []string{"once", "run", "check", "match", "resolve", "unletter", "history", "inspect", "release"} {
		r := runBin(t, nil, cmd, "-h")
		if r.code != 0 || !strings.Contains(r.stdout, "-") {
			t.Errorf("%s -h: exit %d, stdout %q, stderr %q; want 0 and the flags on stdout", cmd, r.code, r.stdout, r.stderr)
		}
	}
	if r := runBin(t, nil, "once", "--no-such-flag"); r.code != 2 || !strings.Contains(r.stderr, "no-such-flag") {
		t.Errorf("a bad flag: exit %d, stderr %q; want 2", r.code, r.stderr)
	}
}

func TestFlagsAnywhereAndConfigFromEnv(t *testing.T) {
	cfg := example(t, nil)
	// LETTRAGE_CONFIG instead of -c.
	if r := runBin(t, []string{"LETTRAGE_CONFIG=" + cfg}, "once"); r.code != 0 {
		t.Fatalf("once with LETTRAGE_CONFIG: exit %d\n%s", r.code, r.stderr)
	}
	if r := runBin(t, []string{"LETTRAGE_CONFIG="}, "once"); r.code != 2 || !strings.Contains(r.stderr, "LETTRAGE_CONFIG") {
		t.Errorf("once without a config: exit %d, stderr %q", r.code, r.stderr)
	}
	// A reference that does not exist: said so, no --account advice.
	r := runBin(t, nil, "unletter", "-c", cfg, "NOPE")
	if r.code != 2 || !strings.Contains(r.stderr, `no payment with the reference "NOPE"`) || strings.Contains(r.stderr, "--account") {
		t.Errorf("unletter NOPE: exit %d, stderr %q", r.code, r.stderr)
	}
	// Flags after the positional argument.
	journal := readCSV(t, filepath.Join(filepath.Dir(cfg), "out", "matches.csv"))
	ref := columns(t, journal, "tx_ref")[0]
	r = runBin(t, nil, "unletter", "-c", cfg, ref, "--reason", "wrong invoice", "--by", "alice")
	if r.code != 0 {
		t.Fatalf("unletter -c F %s --reason …: exit %d\n%s", ref, r.code, r.stderr)
	}
	if b, _ := os.ReadFile(filepath.Join(filepath.Dir(cfg), "out", "matches.unletterings.csv")); !strings.Contains(string(b), ref) ||
		!strings.Contains(string(b), "wrong invoice") {
		t.Errorf("matches.unletterings.csv lacks %s with the reason given after it: %q", ref, b)
	}
	// "--" ends the flags.
	if r := runBin(t, nil, "inspect", "--summary", "--", "--not-a-flag.xml"); r.code != 1 || !strings.Contains(r.stderr, "--not-a-flag.xml") {
		t.Errorf("inspect -- --not-a-flag.xml: exit %d, stderr %q", r.code, r.stderr)
	}
}

func TestCheckPrintsHashAndRefusesCronThatNeverFires(t *testing.T) {
	r := runBin(t, nil, "check", "-c", example(t, nil))
	if r.code != 0 || !regexp.MustCompile(`config hash [0-9a-f]{16,}`).MatchString(r.stdout) {
		t.Errorf("check: exit %d, stdout %q; want the config hash", r.code, r.stdout)
	}
	cfg := example(t, func(c string) string {
		return strings.Replace(c, `schedule: "@every 15m"`, `schedule: "0 0 31 2 *"`, 1)
	})
	for _, cmd := range []string{"check", "run"} {
		r := runBin(t, nil, cmd, "-c", cfg)
		if r.code != 2 || !strings.Contains(r.stderr, "jobs[0].schedule") || !strings.Contains(r.stderr, "never fires") {
			t.Errorf("%s with a cron that never fires: exit %d, stderr %q", cmd, r.code, r.stderr)
		}
	}
}

// TestCheckConnectHonoursLogFormat: with log.format json every line on
// stderr is a JSON object; the debug level says what it probes.
func TestCheckConnectHonoursLogFormat(t *testing.T) {
	cfg := example(t, func(c string) string {
		c = strings.Replace(c, "level: warn", "level: debug", 1)
		return strings.Replace(c, "format: text", "format: json", 1)
	})
	r := runBin(t, nil, "check", "--connect", "-c", cfg)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
	for _, l := range lines {
		var v map[string]any
		if err := json.Unmarshal([]byte(l), &v); err != nil {
			t.Errorf("a log line that is not JSON: %q", l)
		}
	}
	if !strings.Contains(r.stderr, `"level":"DEBUG"`) {
		t.Errorf("no debug line at level debug:\n%s", r.stderr)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(cfg), "out", "state.db")); err == nil {
		t.Error("check --connect created the state store")
	}
}

// TestDebugLevelAddsDetail: at level debug a pass says which files it read
// and what it decided for each payment.
func TestDebugLevelAddsDetail(t *testing.T) {
	cfg := example(t, func(c string) string { return strings.Replace(c, "level: warn", "level: debug", 1) })
	r := runBin(t, nil, "once", "-c", cfg)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	for _, want := range []string{`msg="statement read"`, "transactions=", `msg=decided`, "outcome=auto", "rule=", `msg="ledger batch"`} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("debug log lacks %s", want)
		}
	}
	if strings.Contains(r.stderr, "FR7630003012340005001234509") {
		t.Error("an IBAN in the debug log")
	}
}

// startDaemon runs `lettrage run` on cfg and waits for its first pass.
func startDaemon(t *testing.T, cfg, addr string) (*exec.Cmd, *syncBuffer) {
	t.Helper()
	cmd := exec.Command(binary, "run", "-c", cfg)
	errb := &syncBuffer{}
	cmd.Stderr = errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill() // the daemon may have exited already (SIGTERM by the test)
		_ = cmd.Wait()         // killed, or waited for already by the test: nothing to learn
	})
	waitMetrics(t, addr, `lettrage_last_success_timestamp_seconds{lettrage_job="example"}`, errb)
	return cmd, errb
}

func waitMetrics(t *testing.T, addr, want string, errb *syncBuffer) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get("http://" + addr + "/metrics"); err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if strings.Contains(string(b), want) {
				return string(b)
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("/metrics never showed %s; stderr:\n%s", want, errb.String())
	return ""
}

func waitLog(t *testing.T, errb *syncBuffer, want string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if strings.Contains(errb.String(), want) {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("the log never said %s:\n%s", want, errb.String())
}

// TestDaemonReloadsOnSIGHUPAndStopsQuietly: SIGHUP reloads a valid config
// (a new job is scheduled and runs), refuses an invalid one (the running
// one stays, the error is logged), and SIGTERM stops without an ERROR.
func TestDaemonReloadsOnSIGHUPAndStopsQuietly(t *testing.T) {
	addr := freePort(t)
	cfg := example(t, func(c string) string {
		c = strings.Replace(c, "level: warn", "level: info", 1)
		return strings.Replace(c, "listen: 127.0.0.1:9464", "listen: "+addr, 1)
	})
	orig, _ := os.ReadFile(cfg)
	cmd, errb := startDaemon(t, cfg, addr)

	// A second job, valid: scheduled and run at once.
	second := addJobs(string(orig), secondJob("second", `      type: file
      file: {open_items: open_items.csv, journal: out/second/matches.csv}`))
	if err := os.WriteFile(cfg, []byte(second), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitLog(t, errb, `msg="configuration reloaded"`)
	waitMetrics(t, addr, `lettrage_last_success_timestamp_seconds{lettrage_job="second"}`, errb)

	// An invalid one: refused, the daemon keeps serving.
	bad := strings.Replace(second, `schedule: "@every 15m"`, `schedule: "0 0 31 2 *"`, 1)
	if err := os.WriteFile(cfg, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitLog(t, errb, `msg="configuration not reloaded; the running one stays"`)
	if !strings.Contains(errb.String(), "never fires") {
		t.Errorf("the refusal does not say why:\n%s", errb.String())
	}
	if resp, err := http.Get("http://" + addr + "/readyz"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("not ready after a refused reload: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}

	_ = cmd.Process.Signal(syscall.SIGTERM) // if the daemon has exited already, Wait below says how
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", err, errb.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the daemon did not stop after SIGTERM")
	}
	logs := errb.String()
	if n := strings.Count(logs, "level=ERROR"); n != 1 { // the refused reload only
		t.Errorf("%d ERROR lines, want only the refused reload's:\n%s", n, logs)
	}
	if strings.Contains(logs, "context canceled") {
		t.Errorf("an orderly stop logs context canceled:\n%s", logs)
	}
}

// syncBuffer is a bytes.Buffer safe for a process writing while the test
// reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestOutputFilesAreNotWorldReadable: everything a pass writes — the state
// store, reports, the journal and its unletterings, archived and
// quarantined statements with their sidecars, locks — is created 0640
// (folders 0750): payments and customers' data are not for every local
// user.
func TestOutputFilesAreNotWorldReadable(t *testing.T) {
	cfg := example(t, func(c string) string { return strings.Replace(c, `archive_dir: ""`, `archive_dir: out/archive`, 1) })
	dir := filepath.Dir(cfg)
	bad, err := os.ReadFile(filepath.Join("..", "..", "deploy", "examples", "testdata", "truncated.xml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "statements", "zz-bad.xml"), bad, 0o644); err != nil {
		t.Fatal(err)
	}
	if r := runBin(t, nil, "once", "-c", cfg); r.code != 1 {
		t.Fatalf("once: exit %d\n%s", r.code, r.stderr)
	}
	journal := readCSV(t, filepath.Join(dir, "out", "matches.csv"))
	if r := runBin(t, nil, "unletter", "-c", cfg, columns(t, journal, "tx_ref")[0]); r.code != 0 {
		t.Fatalf("unletter: exit %d\n%s", r.code, r.stderr)
	}
	seen := map[string]bool{}
	if err := filepath.Walk(filepath.Join(dir, "out"), func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if info.Mode().Perm()&0o007 != 0 {
			t.Errorf("%s is %v: open to every user", rel, info.Mode().Perm())
		}
		seen[filepath.Base(p)] = true
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"state.db", "exceptions.csv", "exceptions.xlsx", "matches.csv", "matches.unletterings.csv",
		"zz-bad.xml", "zz-bad.xml" + ".error.txt", "2026-11-16_camt053_v02.xml"} {
		if !seen[want] {
			t.Errorf("%s was not written under out/ (seen %v)", want, seen)
		}
	}
}
