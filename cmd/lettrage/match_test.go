package main

// End-to-end tests of the stateless `lettrage match` (pipeline.MatchFiles,
// the daemon's pass over a state store in memory): its outputs equal those
// of the same pass over an empty SQLite store, and unreadable files keep
// their semantics.

import (
	"bytes"
	"context"
	"encoding/csv"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/lettrage/lettrage/connectors/camt"
	"github.com/lettrage/lettrage/connectors/ledger/file"
	"github.com/lettrage/lettrage/connectors/source/local"
	"github.com/lettrage/lettrage/matcher"
	"github.com/lettrage/lettrage/pipeline"
	"github.com/lettrage/lettrage/pipeline/state"
)

// matchFolder is the example with the trouble `match` meets: a statement
// delivered twice under another name, one sent again with a trailing
// comment (other bytes, the same transactions), a truncated statement and a
// file that is not CAMT.
func matchFolder(t *testing.T) (items, stmts string) {
	t.Helper()
	cfg := example(t, nil)
	dir := filepath.Dir(cfg)
	stmts = filepath.Join(dir, "statements")
	entries, err := os.ReadDir(stmts)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".xml") {
			continue
		}
		copyFile(t, filepath.Join(stmts, e.Name()), filepath.Join(stmts, "copies", "dup-"+e.Name()))
		b, err := os.ReadFile(filepath.Join(stmts, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(stmts, "resent"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(stmts, "resent", e.Name()), append(b, "<!-- resent -->\n"...), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	copyFile(t, filepath.Join("..", "..", "deploy", "examples", "testdata", "truncated.xml"), filepath.Join(stmts, "zz-truncated.xml"))
	if err := os.WriteFile(filepath.Join(stmts, "README.txt"), []byte("not a statement\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, "open_items.csv"), stmts
}

// maskTimes blanks the columns that hold the time of the run (lettered_at,
// lettering_date) in a journal.
func maskTimes(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) < 2 {
		t.Fatalf("%s: no rows", path)
	}
	for _, r := range rows[1:] {
		for i, h := range rows[0] {
			if h == "lettered_at" || h == "lettering_date" {
				r[i] = "T"
			}
		}
	}
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	_ = w.WriteAll(rows)
	return buf.String()
}

var runIDLine = regexp.MustCompile(`\(run [0-9a-f]+\)`)

func TestMatchEqualsJobPass(t *testing.T) {
	items, stmts := matchFolder(t)
	out := filepath.Join(t.TempDir(), "out")
	r := runBin(t, nil, "match", "--open-items", items, "--statements", stmts, "--out", out)
	if r.code != exitPartial {
		t.Fatalf("match exit %d, want 1 (a file quarantined)\n%s\n%s", r.code, r.stdout, r.stderr)
	}

	// The same pass over an empty SQLite store.
	jobOut := filepath.Join(t.TempDir(), "out")
	store, err := state.OpenScratchSQLite(filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	src, err := local.New("statements", local.Config{Dir: stmts, Recursive: true})
	if err != nil {
		t.Fatal(err)
	}
	led, err := file.New(file.Config{OpenItems: items, Journal: filepath.Join(jobOut, "matches.csv")})
	if err != nil {
		t.Fatal(err)
	}
	job := &pipeline.Job{Name: "match", Source: src, Ledger: led, Store: store, Matching: matcher.DefaultConfig(),
		Parse: camt.DefaultOptions(), ReportDir: jobOut, OnlyCAMT: true, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if err := os.MkdirAll(jobOut, 0o755); err != nil {
		t.Fatal(err)
	}
	res, jerr := job.Run(context.Background())
	var stdout, stderr bytes.Buffer
	code := jobExit("match", "match", res, jerr, false, &stderr)
	printSummary(&stdout, "match", res, jerr, code, out, false)

	if code != r.code {
		t.Errorf("exit %d, the job pass %d", r.code, code)
	}
	if got, want := runIDLine.ReplaceAllString(r.stdout, "(run X)"), runIDLine.ReplaceAllString(stdout.String(), "(run X)"); got != want {
		t.Errorf("summary:\n got %s\nwant %s", got, want)
	}
	// The per-file problems, without the log lines.
	var problems []string
	for _, l := range strings.Split(r.stderr, "\n") {
		if strings.HasPrefix(l, "lettrage match:") {
			problems = append(problems, l)
		}
	}
	if got, want := strings.Join(problems, "\n")+"\n", stderr.String(); got != want {
		t.Errorf("stderr problems:\n got %s\nwant %s", got, want)
	}
	if got, want := maskTimes(t, filepath.Join(out, "matches.csv")), maskTimes(t, filepath.Join(jobOut, "matches.csv")); got != want {
		t.Errorf("matches.csv:\n got %s\nwant %s", got, want)
	}
	got, _ := os.ReadFile(filepath.Join(out, "exceptions.csv"))
	want, _ := os.ReadFile(filepath.Join(jobOut, "exceptions.csv"))
	if len(want) == 0 || !bytes.Equal(got, want) {
		t.Errorf("exceptions.csv:\n got %s\nwant %s", got, want)
	}
}

// TestMatchUnreadableFile: `match` has no quarantine folder; an unreadable
// statement is named on stderr, left where it is, makes the exit code 1,
// and the other files go through all the same; a file that is not CAMT and
// copies of statements are skipped silently.
func TestMatchUnreadableFile(t *testing.T) {
	items, stmts := matchFolder(t)
	out := filepath.Join(t.TempDir(), "out")
	r := runBin(t, nil, "match", "--open-items", items, "--statements", stmts, "--out", out, "-c",
		filepath.Join(filepath.Dir(items), "local.yaml"))
	if r.code != exitPartial {
		t.Fatalf("exit %d, want 1\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stderr, "lettrage match: skipped zz-truncated.xml: ") || strings.Contains(r.stderr, "README") {
		t.Errorf("stderr does not name only the unreadable file:\n%s", r.stderr)
	}
	for _, want := range []string{"8 listed, 4 read, 2 duplicate, 1 quarantined, 1 not CAMT", "30 read, 15 delivered again"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("summary without %q:\n%s", want, r.stdout)
		}
	}
	if _, err := os.Stat(filepath.Join(stmts, "zz-truncated.xml")); err != nil {
		t.Errorf("the unreadable file was moved: %v", err)
	}
	checkExampleOutputs(t, out)
}
