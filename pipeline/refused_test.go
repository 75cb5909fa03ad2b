package pipeline

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lettrage/lettrage/connectors/camt"
	"github.com/lettrage/lettrage/connectors/ledger/file"
	"github.com/lettrage/lettrage/connectors/source/local"
	"github.com/lettrage/lettrage/matcher"
	"github.com/lettrage/lettrage/pipeline/state"
)

// heldFixture is a job on a copy of the example statements, with
// quarantineDir ("" leaves refused files in place).
type heldFixture struct {
	job   *Job
	store *state.Store
	dir   string // the statements folder
	now   time.Time
}

func newHeldFixture(t *testing.T, quarantineDir string, maxBytes int64) *heldFixture {
	t.Helper()
	dir := t.TempDir()
	ex := filepath.Join("..", "deploy", "examples")
	stmts := filepath.Join(dir, "statements")
	if err := os.MkdirAll(stmts, 0o755); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(filepath.Join(ex, "statements"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(ex, "statements", e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		writeAt(t, filepath.Join(stmts, e.Name()), b)
	}
	led, err := file.New(file.Config{OpenItems: filepath.Join(ex, "open_items.csv"), Journal: filepath.Join(dir, "matches.csv")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { led.Close() })
	qdir := ""
	if quarantineDir != "" {
		qdir = filepath.Join(dir, quarantineDir)
	}
	src, err := local.New("s", local.Config{Dir: stmts, Pattern: "*.xml", QuarantineDir: qdir})
	if err != nil {
		t.Fatal(err)
	}
	store := sqliteIn(t, dir)
	f := &heldFixture{store: store, dir: stmts, now: time.Date(2026, 11, 18, 9, 0, 0, 0, time.UTC)}
	f.job = &Job{Name: "held", SourceType: "local", Source: src, Ledger: led, Store: store, Matching: matcher.DefaultConfig(),
		Parse: camt.DefaultOptions(), ReportDir: dir, MaxFileBytes: maxBytes, Metrics: NewMetrics("test"),
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: func() time.Time { return f.now }}
	f.job.Metrics.InitJob("held", "local")
	return f
}

func writeAt(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func (f *heldFixture) run(t *testing.T) (Result, error) {
	t.Helper()
	f.now = f.now.Add(15 * time.Minute)
	return f.job.Run(context.Background())
}

// counter returns the value of a lettrage_* series of the job whose label
// (if given) has the value.
func (f *heldFixture) value(t *testing.T, name, label, value string) float64 {
	t.Helper()
	families, err := f.job.Metrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, fam := range families {
		if fam.GetName() != name {
			continue
		}
		for _, m := range fam.GetMetric() {
			ok := label == ""
			for _, l := range m.GetLabel() {
				ok = ok || (l.GetName() == label && l.GetValue() == value)
			}
			if ok {
				if m.GetCounter() != nil {
					return m.GetCounter().GetValue()
				}
				return m.GetGauge().GetValue()
			}
		}
	}
	return -1
}

// truncated is a statement cut in the middle: not well-formed.
func truncated(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "deploy", "examples", "statements", "2026-11-17_camt053_v08.xml"))
	if err != nil {
		t.Fatal(err)
	}
	return b[:len(b)/2]
}

// TestRefusedFileIsReportedOnceThenHeld is issue 17's scenario: with the
// default quarantine_dir "" a bad file stays in the source. The pass that
// refuses it is partial; the following ones hold it (skip it, count it in
// the held gauge) and succeed, so last_success moves again. The same
// content under another name is held too, without a report; a new version
// under the same name is read and the old refusal forgotten.
func TestRefusedFileIsReportedOnceThenHeld(t *testing.T) {
	f := newHeldFixture(t, "", 0)
	bad := truncated(t)
	writeAt(t, filepath.Join(f.dir, "bad.xml"), bad)

	res, err := f.run(t)
	if !errors.Is(err, ErrFilesSkipped) || res.FilesQuarantined != 1 || len(res.Problems) != 1 ||
		!strings.HasSuffix(res.Problems[0].Path, "bad.xml") {
		t.Fatalf("pass 1: err %v, quarantined %d, problems %v; want one file refused", err, res.FilesQuarantined, res.Problems)
	}
	if got := f.value(t, "lettrage_statement_files_held", "", ""); got != 1 {
		t.Errorf("held gauge after pass 1 = %v, want 1", got)
	}
	if got := f.value(t, "lettrage_runs_total", "result", "partial"); got != 1 {
		t.Errorf("partial runs after pass 1 = %v, want 1", got)
	}
	for pass := 2; pass <= 4; pass++ {
		res, err := f.run(t)
		if err != nil || res.FilesQuarantined != 0 || res.FilesHeld != 1 || len(res.Problems) != 0 {
			t.Fatalf("pass %d: err %v, quarantined %d, held %d, problems %v; want success holding 1",
				pass, err, res.FilesQuarantined, res.FilesHeld, res.Problems)
		}
	}
	if got := f.value(t, "lettrage_statement_files_total", "result", "quarantined"); got != 1 {
		t.Errorf("quarantined counter after 4 passes = %v, want 1 (reported once)", got)
	}
	if got := f.value(t, "lettrage_runs_total", "result", "success"); got != 3 {
		t.Errorf("successful runs = %v, want 3", got)
	}
	if got := f.value(t, "lettrage_last_success_timestamp_seconds", "", ""); got != float64(f.now.Unix()) {
		t.Errorf("last success %v, want the last pass %d", got, f.now.Unix())
	}

	// The same bytes under another name: held, not reported again.
	writeAt(t, filepath.Join(f.dir, "bad-again.xml"), bad)
	res, err = f.run(t)
	if err != nil || res.FilesQuarantined != 0 || res.FilesHeld != 2 {
		t.Fatalf("same content renamed: err %v, quarantined %d, held %d; want held 2, nothing reported", err, res.FilesQuarantined, res.FilesHeld)
	}
	held, err := f.store.HeldFiles(context.Background(), "held")
	sum := sha256.Sum256(bad)
	if err != nil || len(held) != 2 || held[0].Hash != hex.EncodeToString(sum[:]) || !strings.Contains(held[0].Reason, "bad.xml") {
		t.Fatalf("held files %+v, %v; want both names with the content's SHA-256 and the reason", held, err)
	}

	// A new version of bad.xml (good content): read, the refusal forgotten.
	good, err := os.ReadFile(filepath.Join(f.dir, "2026-11-17_camt053_v08.xml"))
	if err != nil {
		t.Fatal(err)
	}
	writeAt(t, filepath.Join(f.dir, "bad.xml"), append(good, '\n'))
	res, err = f.run(t)
	if err != nil || res.FilesHeld != 1 || res.FilesProcessed != 1 {
		t.Fatalf("new version: err %v, held %d, processed %d; want it read and one file still held", err, res.FilesHeld, res.FilesProcessed)
	}
	if got := f.value(t, "lettrage_statement_files_held", "", ""); got != 1 {
		t.Errorf("held gauge after the new version = %v, want 1", got)
	}

	// Released by hand: read again, and reported again since still bad.
	rel, err := f.store.Release(context.Background(), "held", held[0].Hash[:12])
	if err != nil || len(rel) != 1 {
		t.Fatalf("release by hash prefix: %v, %v; want the one file left", rel, err)
	}
	res, err = f.run(t)
	if !errors.Is(err, ErrFilesSkipped) || res.FilesQuarantined != 1 || res.FilesHeld != 0 {
		t.Fatalf("after release: err %v, quarantined %d, held %d; want it read and refused again", err, res.FilesQuarantined, res.FilesHeld)
	}
}

// TestRefusedFilePutBackIsHeld: with a quarantine folder the file moves
// there; put back into the source unchanged, it is held, not reported.
func TestRefusedFilePutBackIsHeld(t *testing.T) {
	f := newHeldFixture(t, "quarantine", 0)
	bad := truncated(t)
	writeAt(t, filepath.Join(f.dir, "bad.xml"), bad)
	if res, err := f.run(t); !errors.Is(err, ErrFilesSkipped) || res.FilesQuarantined != 1 {
		t.Fatalf("pass 1: %v, quarantined %d", err, res.FilesQuarantined)
	}
	if _, err := os.Stat(filepath.Join(f.dir, "bad.xml")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("bad.xml still in the source: %v", err)
	}
	writeAt(t, filepath.Join(f.dir, "bad.xml"), bad)
	res, err := f.run(t)
	if err != nil || res.FilesQuarantined != 0 || res.FilesHeld != 1 {
		t.Fatalf("put back: err %v, quarantined %d, held %d; want held, success", err, res.FilesQuarantined, res.FilesHeld)
	}
}

// TestTooLargeFileIsHeldByItsWholeContent: a file over max_file_bytes is
// hashed whole, so that the same content is held and another is read.
func TestTooLargeFileIsHeldByItsWholeContent(t *testing.T) {
	good, err := os.ReadFile(filepath.Join("..", "deploy", "examples", "statements", "2026-11-16_camt053_v02.xml"))
	if err != nil {
		t.Fatal(err)
	}
	f := newHeldFixture(t, "", int64(len(good))+100)
	big := append(append([]byte{}, good...), []byte(strings.Repeat("<!-- padding -->\n", 100))...)
	writeAt(t, filepath.Join(f.dir, "big.xml"), big)
	res, err := f.run(t)
	if !errors.Is(err, ErrFilesSkipped) || res.FilesQuarantined != 1 || !errors.Is(res.Problems[0].Err, ErrFileTooLarge) {
		t.Fatalf("pass 1: err %v, quarantined %d, problems %v", err, res.FilesQuarantined, res.Problems)
	}
	held, err := f.store.HeldFiles(context.Background(), "held")
	sum := sha256.Sum256(big)
	if err != nil || len(held) != 1 || held[0].Hash != hex.EncodeToString(sum[:]) || held[0].Size != int64(len(big)) {
		t.Fatalf("held %+v, %v; want the SHA-256 of the whole file", held, err)
	}
	if res, err := f.run(t); err != nil || res.FilesHeld != 1 {
		t.Fatalf("pass 2: err %v, held %d", err, res.FilesHeld)
	}
}
