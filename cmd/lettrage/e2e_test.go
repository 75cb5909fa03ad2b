package main

// End-to-end tests of the lettrage binary on the shipped example data:
// the example pass against its ground truth, re-runs, duplicate deliveries,
// crash recovery at every failpoint, bad input, the stateless match command
// and the daemon's endpoints.

import (
	"bytes"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lettrage/lettrage/pipeline"
)

var binary string

func TestMain(m *testing.M) {
	flag.Parse()
	// Only the Odoo tests run in parallel, and they wait on Odoo, not on
	// the CPU: all of them at once, whatever GOMAXPROCS (unless -parallel).
	parallelSet := false
	flag.Visit(func(f *flag.Flag) { parallelSet = parallelSet || f.Name == "test.parallel" })
	if !parallelSet {
		_ = flag.Set("test.parallel", "5")
	}
	dir, err := os.MkdirTemp("", "lettrage-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "lettrage")
	// The crash tests need the failpoints: they exist only with the tag.
	build := exec.Command("go", "build", "-tags", "failpoint", "-o", binary, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building lettrage:", err)
		os.Exit(1)
	}
	code := m.Run()
	stopSharedOdoo()
	os.RemoveAll(dir)
	os.Exit(code)
}

// example copies the shipped example (config, statements, open items) to a
// temporary folder and returns the config path there.
func example(t *testing.T, edit func(cfg string) string) string {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join("..", "..", "deploy", "examples")
	for _, name := range []string{"local.yaml", "open_items.csv"} {
		copyFile(t, filepath.Join(src, name), filepath.Join(dir, name))
	}
	entries, err := os.ReadDir(filepath.Join(src, "statements"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Type().IsRegular() {
			copyFile(t, filepath.Join(src, "statements", e.Name()), filepath.Join(dir, "statements", e.Name()))
		}
	}
	cfg := filepath.Join(dir, "local.yaml")
	if edit != nil {
		data, err := os.ReadFile(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(cfg, []byte(edit(string(data))), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return cfg
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

type result struct {
	code           int
	killed         bool
	stdout, stderr string
}

func runBin(t *testing.T, env []string, args ...string) result {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errb.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL {
			r.killed = true
		}
	default:
		t.Fatalf("running lettrage %v: %v", args, err)
	}
	return r
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("reading %s: %v", path, err)
	}
	return rows
}

// column returns the values of the named column for every data row.
func columns(t *testing.T, rows [][]string, names ...string) []string {
	t.Helper()
	idx := make([]int, len(names))
	for i, n := range names {
		idx[i] = -1
		for j, h := range rows[0] {
			if h == n {
				idx[i] = j
			}
		}
		if idx[i] < 0 {
			t.Fatalf("no column %q in %v", n, rows[0])
		}
	}
	var out []string
	for _, r := range rows[1:] {
		var parts []string
		for _, i := range idx {
			parts = append(parts, r[i])
		}
		out = append(out, strings.Join(parts, ","))
	}
	sort.Strings(out)
	return out
}

type expectation struct {
	auto       []string // "tx_ref,open_item_id,allocated_amount"
	exceptions []string // tx_ref
	ignored    []string
}

func loadExpected(t *testing.T) expectation {
	rows := readCSV(t, filepath.Join("..", "..", "deploy", "examples", "expected_letters.csv"))
	var e expectation
	for _, r := range rows[1:] {
		switch r[1] {
		case "auto":
			e.auto = append(e.auto, r[0]+","+r[2]+","+canonAmount(r[3]))
		case "exception":
			e.exceptions = append(e.exceptions, r[0])
		case "ignored":
			e.ignored = append(e.ignored, r[0])
		default:
			t.Fatalf("expected_letters.csv: unknown outcome %q", r[1])
		}
	}
	sort.Strings(e.auto)
	sort.Strings(e.exceptions)
	return e
}

// canonAmount drops trailing fraction zeros so "120.50" and "120.5" compare equal.
func canonAmount(s string) string {
	if strings.Contains(s, ".") {
		s = strings.TrimSuffix(strings.TrimRight(s, "0"), ".")
	}
	return s
}

func autoRows(t *testing.T, path string) []string {
	rows := readCSV(t, path)
	var out []string
	for _, r := range columns(t, rows, "tx_ref", "open_item_id", "allocated_amount") {
		p := strings.Split(r, ",")
		out = append(out, p[0]+","+p[1]+","+canonAmount(p[2]))
	}
	sort.Strings(out)
	return out
}

func checkExampleOutputs(t *testing.T, outDir string) {
	t.Helper()
	want := loadExpected(t)
	if got := autoRows(t, filepath.Join(outDir, "matches.csv")); !equal(got, want.auto) {
		t.Errorf("matches.csv allocations:\n got %q\nwant %q", got, want.auto)
	}
	exc := columns(t, readCSV(t, filepath.Join(outDir, "exceptions.csv")), "tx_ref")
	if !equal(exc, want.exceptions) {
		t.Errorf("exceptions.csv tx_refs:\n got %q\nwant %q", exc, want.exceptions)
	}
	for _, ig := range want.ignored {
		for _, e := range exc {
			if e == ig {
				t.Errorf("ignored transaction %s is in exceptions.csv", ig)
			}
		}
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestExampleOnce(t *testing.T) {
	cfg := example(t, nil)
	out := filepath.Join(filepath.Dir(cfg), "out")
	r := runBin(t, nil, "once", "-c", cfg)
	if r.code != 0 {
		t.Fatalf("once exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{"lettered", "suggested", "unmatched", "unmatched cash"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("summary lacks %q:\n%s", want, r.stdout)
		}
	}
	checkExampleOutputs(t, out)
	matches1, _ := os.ReadFile(filepath.Join(out, "matches.csv"))
	exc1, _ := os.ReadFile(filepath.Join(out, "exceptions.csv"))

	// The shipped statements stay where they are…
	if _, err := os.Stat(filepath.Join(filepath.Dir(cfg), "statements")); err != nil {
		t.Fatal(err)
	}
	// …and a second run changes nothing.
	r = runBin(t, nil, "once", "-c", cfg)
	if r.code != 0 {
		t.Fatalf("second once exit %d: %s", r.code, r.stderr)
	}
	if !strings.Contains(r.stdout, "0 lettered") {
		t.Errorf("second run lettered something:\n%s", r.stdout)
	}
	matches2, _ := os.ReadFile(filepath.Join(out, "matches.csv"))
	exc2, _ := os.ReadFile(filepath.Join(out, "exceptions.csv"))
	if !bytes.Equal(matches1, matches2) || !bytes.Equal(exc1, exc2) {
		t.Error("second run changed matches.csv or exceptions.csv")
	}
}

func TestDuplicateDeliveryIsIgnored(t *testing.T) {
	cfg := example(t, nil)
	dir := filepath.Dir(cfg)
	out := filepath.Join(dir, "out")
	if r := runBin(t, nil, "once", "-c", cfg); r.code != 0 {
		t.Fatalf("once exit %d: %s", r.code, r.stderr)
	}
	before, _ := os.ReadFile(filepath.Join(out, "matches.csv"))
	// The bank delivers the same statements again under other names.
	entries, _ := os.ReadDir(filepath.Join(dir, "statements"))
	for _, e := range entries {
		copyFile(t, filepath.Join(dir, "statements", e.Name()), filepath.Join(dir, "statements", "again-"+e.Name()))
	}
	r := runBin(t, nil, "once", "-c", cfg)
	if r.code != 0 {
		t.Fatalf("once exit %d: %s", r.code, r.stderr)
	}
	// The originals and their copies are all recognised by content.
	if !strings.Contains(r.stdout, fmt.Sprintf("%d duplicate", 2*len(entries))) {
		t.Errorf("duplicates not recognised:\n%s", r.stdout)
	}
	after, _ := os.ReadFile(filepath.Join(out, "matches.csv"))
	if !bytes.Equal(before, after) {
		t.Error("a re-delivered statement changed matches.csv")
	}
}

// stable drops the columns holding the wall-clock time of the commit
// (lettered_at, lettering_date), the only things that differ between two
// equivalent runs.
func stable(t *testing.T, path string) string {
	rows := readCSV(t, path)
	drop := map[int]bool{}
	for i, h := range rows[0] {
		if h == "lettered_at" || h == "lettering_date" {
			drop[i] = true
		}
	}
	var b strings.Builder
	for _, r := range rows {
		var kept []string
		for i, v := range r {
			if !drop[i] {
				kept = append(kept, v)
			}
		}
		b.WriteString(strings.Join(kept, "\x1f") + "\n")
	}
	return b.String()
}

func TestCrashRecoveryAtEveryFailpoint(t *testing.T) {
	ref := example(t, nil)
	if r := runBin(t, nil, "once", "-c", ref); r.code != 0 {
		t.Fatalf("reference run exit %d: %s", r.code, r.stderr)
	}
	refOut := filepath.Join(filepath.Dir(ref), "out")
	wantMatches := stable(t, filepath.Join(refOut, "matches.csv"))
	wantExc := stable(t, filepath.Join(refOut, "exceptions.csv"))

	points := []string{pipeline.FailAfterParse, pipeline.FailAfterCommit, pipeline.FailAfterApply,
		pipeline.FailAfterMark, pipeline.FailAfterReports}
	// Single crashes, then two crashes in a row at different points.
	scenarios := [][]string{}
	for _, p := range points {
		scenarios = append(scenarios, []string{p})
	}
	scenarios = append(scenarios, []string{pipeline.FailAfterCommit, pipeline.FailAfterApply},
		[]string{pipeline.FailAfterApply, pipeline.FailAfterApply})
	for _, sc := range scenarios {
		t.Run(strings.Join(sc, "+"), func(t *testing.T) {
			cfg := example(t, nil)
			out := filepath.Join(filepath.Dir(cfg), "out")
			for _, p := range sc {
				r := runBin(t, []string{pipeline.FailpointEnv + "=" + p}, "once", "-c", cfg)
				if !r.killed {
					// A point the run no longer reaches (e.g. nothing left to apply) is fine
					// for the second crash of a scenario, never for the first.
					if p == sc[0] {
						t.Fatalf("run was not killed at %s (exit %d): %s", p, r.code, r.stderr)
					}
				}
			}
			r := runBin(t, nil, "once", "-c", cfg)
			if r.code != 0 {
				t.Fatalf("recovery run exit %d: %s", r.code, r.stderr)
			}
			if got := stable(t, filepath.Join(out, "matches.csv")); got != wantMatches {
				t.Errorf("matches.csv after crash differs:\n got %s\nwant %s", got, wantMatches)
			}
			if got := stable(t, filepath.Join(out, "exceptions.csv")); got != wantExc {
				t.Errorf("exceptions.csv after crash differs:\n got %s\nwant %s", got, wantExc)
			}
			checkExampleOutputs(t, out)
		})
	}
}

func TestUnreadableStatementIsQuarantined(t *testing.T) {
	cfg := example(t, func(c string) string {
		return strings.Replace(c, `quarantine_dir: ""`, `quarantine_dir: out/quarantine`, 1)
	})
	dir := filepath.Dir(cfg)
	copyFile(t, filepath.Join("..", "..", "deploy", "examples", "testdata", "truncated.xml"),
		filepath.Join(dir, "statements", "zz-truncated.xml"))
	r := runBin(t, nil, "once", "-c", cfg)
	if r.code != 1 {
		t.Fatalf("exit %d, want 1 (finished, one file quarantined)\n%s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "zz-truncated.xml") {
		t.Errorf("stderr does not name the file:\n%s", r.stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "out", "quarantine", "zz-truncated.xml")); err != nil {
		t.Errorf("file not quarantined: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "statements", "zz-truncated.xml")); err == nil {
		t.Error("quarantined file still in the statements folder")
	}
	// The good files went through all the same.
	checkExampleOutputs(t, filepath.Join(dir, "out"))
}

func TestBadInputExitsTwoAndWritesNothing(t *testing.T) {
	t.Run("config", func(t *testing.T) {
		cfg := example(t, func(c string) string {
			return strings.Replace(c, `schedule: "@every 15m"`, `schedule: "61 * * * *"`, 1)
		})
		for _, cmd := range []string{"check", "once"} {
			r := runBin(t, nil, cmd, "-c", cfg)
			if r.code != 2 || !strings.Contains(r.stderr, "jobs[0].schedule") {
				t.Errorf("%s: exit %d, stderr %q; want 2 naming jobs[0].schedule", cmd, r.code, r.stderr)
			}
		}
		if _, err := os.Stat(filepath.Join(filepath.Dir(cfg), "out")); err == nil {
			t.Error("out/ written despite a config error")
		}
	})
	t.Run("unknown key", func(t *testing.T) {
		cfg := example(t, func(c string) string {
			return strings.Replace(c, "    reports:", "    report_dir: x\n    reports:", 1)
		})
		r := runBin(t, nil, "check", "-c", cfg)
		if r.code != 2 || !strings.Contains(r.stderr, "jobs[0].report_dir") {
			t.Errorf("exit %d, stderr %q; want 2 naming jobs[0].report_dir", r.code, r.stderr)
		}
	})
	t.Run("open items", func(t *testing.T) {
		cfg := example(t, nil)
		dir := filepath.Dir(cfg)
		items := filepath.Join(dir, "open_items.csv")
		data, _ := os.ReadFile(items)
		lines := strings.SplitAfter(string(data), "\n")
		lines[3] = strings.Replace(lines[3], ",EUR,", ",EUR,12x,", 1)
		if err := os.WriteFile(items, []byte(strings.Join(lines, "")), 0o644); err != nil {
			t.Fatal(err)
		}
		r := runBin(t, nil, "once", "-c", cfg)
		if r.code != 2 || !strings.Contains(r.stderr, "open_items.csv:4") {
			t.Errorf("exit %d, stderr %q; want 2 naming open_items.csv:4", r.code, r.stderr)
		}
		if _, err := os.Stat(filepath.Join(dir, "out", "matches.csv")); err == nil {
			t.Error("matches.csv written despite an open-items error")
		}
		r = runBin(t, nil, "match", "--open-items", items, "--statements", filepath.Join(dir, "statements"),
			"--out", filepath.Join(dir, "m"))
		if r.code != 2 {
			t.Errorf("match exit %d; want 2", r.code)
		}
		if _, err := os.Stat(filepath.Join(dir, "m")); err == nil {
			t.Error("match created its output folder despite an open-items error")
		}
	})
}

func TestMatchCommand(t *testing.T) {
	cfg := example(t, nil)
	dir := filepath.Dir(cfg)
	stmts := filepath.Join(dir, "statements")
	// Files that are not CAMT are ignored; a statement delivered twice under
	// another name in a sub-folder is lettered once.
	if err := os.WriteFile(filepath.Join(stmts, "README.txt"), []byte("not a statement\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(stmts)
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".xml") {
			copyFile(t, filepath.Join(stmts, e.Name()), filepath.Join(stmts, "copies", "dup-"+e.Name()+".053"))
		}
	}
	out := filepath.Join(dir, "match-out", "nested")
	// -c brings the example job's matching settings (its EUR tolerance
	// letters the payment 2.50 short, as the ground truth expects).
	r := runBin(t, nil, "match", "--open-items", filepath.Join(dir, "open_items.csv"), "--statements", stmts, "--out", out, "-c", cfg)
	if r.code != 0 {
		t.Fatalf("match exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	checkExampleOutputs(t, out)
	// Stateless: running it again gives the same files.
	first, _ := os.ReadFile(filepath.Join(out, "exceptions.csv"))
	if r := runBin(t, nil, "match", "--open-items", filepath.Join(dir, "open_items.csv"), "--statements", stmts, "--out", out, "-c", cfg); r.code != 0 {
		t.Fatalf("second match exit %d: %s", r.code, r.stderr)
	}
	checkExampleOutputs(t, out)
	second, _ := os.ReadFile(filepath.Join(out, "exceptions.csv"))
	if !bytes.Equal(first, second) {
		t.Error("match is not repeatable")
	}
}

func freePort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func TestDaemonServesMetricsAndStopsOnSIGTERM(t *testing.T) {
	addr := freePort(t)
	cfg := example(t, func(c string) string {
		return strings.Replace(c, "listen: 127.0.0.1:9464", "listen: "+addr, 1)
	})
	cmd := exec.Command(binary, "run", "-c", cfg)
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill() }() // the daemon has exited already if the test got to its end
	var metrics string
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get("http://" + addr + "/metrics")
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			// Wait until the first run (started immediately) has finished
			// (the run counters exist at zero from the start).
			if strings.Contains(string(b), `lettrage_last_success_timestamp_seconds{lettrage_job="example"}`) {
				metrics = string(b)
				break
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	if metrics == "" {
		t.Fatalf("no run reported on /metrics; stderr:\n%s", errb.String())
	}
	for _, want := range []string{`lettrage_unmatched_amount{account="sg-main",currency="EUR",lettrage_job="example"}`, `lettrage_build_info{`,
		`lettrage_decisions_total{`, `lettrage_last_success_timestamp_seconds{lettrage_job="example"}`,
		`lettrage_source_bytes_total{lettrage_job="example",source="local"}`, `lettrage_exceptions_by_age{age="over_30",lettrage_job="example"}`, `lettrage_open_receivables_amount{bucket=`, `lettrage_source_last_list_success_timestamp_seconds{lettrage_job="example",source="local"}`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if strings.Contains(metrics, "FR76") {
		t.Error("/metrics carries an IBAN")
	}
	for _, path := range []string{"/healthz", "/readyz"} {
		resp, err := http.Get("http://" + addr + path)
		if err != nil || resp.StatusCode != 200 {
			t.Errorf("GET %s: %v %v", path, resp, err)
		}
		if resp != nil {
			resp.Body.Close()
		}
	}
	_ = cmd.Process.Signal(syscall.SIGTERM) // if the daemon has exited already, Wait below says how
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("daemon exit after SIGTERM: %v\n%s", err, errb.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("daemon did not stop after SIGTERM")
	}
}

func TestVersionAndUsage(t *testing.T) {
	if r := runBin(t, nil, "version"); r.code != 0 || !strings.HasPrefix(r.stdout, "lettrage ") {
		t.Errorf("version: %+v", r)
	}
	if r := runBin(t, nil); r.code != 2 || !strings.Contains(r.stderr, "Usage") {
		t.Errorf("no args: %+v", r)
	}
	if r := runBin(t, nil, "frobnicate"); r.code != 2 {
		t.Errorf("unknown command: %+v", r)
	}
}

func TestExceptionLettersWhenTheInvoiceAppearsLater(t *testing.T) {
	cfg := example(t, nil)
	dir := filepath.Dir(cfg)
	out := filepath.Join(dir, "out")
	want := loadExpected(t)
	if len(want.auto) == 0 {
		t.Fatal("no expected allocations")
	}
	// Take out the invoice of a payment that settles one invoice: the
	// payment becomes an exception…
	count := map[string]int{}
	for _, a := range want.auto {
		count[strings.Split(a, ",")[0]]++
	}
	var txRef, itemID string
	for _, a := range want.auto {
		if p := strings.Split(a, ","); count[p[0]] == 1 {
			txRef, itemID = p[0], p[1]
			break
		}
	}
	items := filepath.Join(dir, "open_items.csv")
	full, _ := os.ReadFile(items)
	var kept []string
	for _, line := range strings.SplitAfter(string(full), "\n") {
		if !strings.HasPrefix(line, itemID+",") {
			kept = append(kept, line)
		}
	}
	if err := os.WriteFile(items, []byte(strings.Join(kept, "")), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := runBin(t, nil, "once", "-c", cfg); r.code != 0 {
		t.Fatalf("once exit %d: %s", r.code, r.stderr)
	}
	exc := columns(t, readCSV(t, filepath.Join(out, "exceptions.csv")), "tx_ref")
	found := false
	for _, e := range exc {
		found = found || e == txRef
	}
	if !found {
		t.Fatalf("payment %s is not an exception while its invoice %s is missing (exceptions %v)", txRef, itemID, exc)
	}
	// …and the invoice, exported the next day, letters it on the next run.
	if err := os.WriteFile(items, full, 0o644); err != nil {
		t.Fatal(err)
	}
	r := runBin(t, nil, "once", "-c", cfg)
	if r.code != 0 {
		t.Fatalf("once exit %d: %s", r.code, r.stderr)
	}
	if !strings.Contains(r.stdout, "1 earlier exceptions lettered") {
		t.Errorf("summary does not report the earlier exception lettered:\n%s", r.stdout)
	}
	checkExampleOutputs(t, out)
}
