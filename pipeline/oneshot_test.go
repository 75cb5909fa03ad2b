package pipeline

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/lettrage/lettrage/connectors"
	"github.com/lettrage/lettrage/connectors/camt"
	"github.com/lettrage/lettrage/connectors/ledger/file"
	"github.com/lettrage/lettrage/connectors/source/local"
	"github.com/lettrage/lettrage/domain"
	"github.com/lettrage/lettrage/matcher"
)

// oneShotCase is a statements folder and a ledger to run both through a
// Job on an empty store and through MatchFiles.
type oneShotCase struct {
	name string
	// files are added to the example statements (path → content).
	files map[string][]byte
	// ledger wraps the file ledger (nil: as it is).
	ledger   func(connectors.Ledger) connectors.Ledger
	source   func(connectors.StatementSource) connectors.StatementSource
	onlyCAMT bool
	reports  ReportOptions
	matching func() matcher.Config
	wantErr  error
	warns    bool // warnings are logged even without an error
}

func exampleFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "deploy", "examples", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func gzipped(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(b)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// oneShotDir lays out a run folder: statements (the examples plus files),
// open_items.csv, out/.
func oneShotDir(t *testing.T, files map[string][]byte) string {
	t.Helper()
	dir := t.TempDir()
	ex := filepath.Join("..", "deploy", "examples")
	write := func(rel string, b []byte) {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	entries, err := os.ReadDir(filepath.Join(ex, "statements"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		write(filepath.Join("statements", e.Name()), exampleFile(t, filepath.Join("statements", e.Name())))
	}
	write("open_items.csv", exampleFile(t, "open_items.csv"))
	for rel, b := range files {
		write(filepath.Join("statements", rel), b)
	}
	return dir
}

// runBoth runs the case through Job.Run (scratch store) and MatchFiles, each
// on its own copy of the folder, and returns both outputs folders, results,
// errors and warn-level logs.
type oneShotRun struct {
	out string
	res Result
	err error
	log string
}

func noTime(groups []string, a slog.Attr) slog.Attr {
	if a.Key == slog.TimeKey && len(groups) == 0 {
		return slog.Attr{}
	}
	return a
}

func runOneShotCase(t *testing.T, tc oneShotCase, useJob bool) oneShotRun {
	t.Helper()
	dir := oneShotDir(t, tc.files)
	out := filepath.Join(dir, "out")
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	var src connectors.StatementSource
	src, err := local.New("statements", local.Config{Dir: filepath.Join(dir, "statements"), Recursive: true})
	if err != nil {
		t.Fatal(err)
	}
	if tc.source != nil {
		src = tc.source(src)
	}
	fl, err := file.New(file.Config{OpenItems: filepath.Join(dir, "open_items.csv"), Journal: filepath.Join(out, "matches.csv")})
	if err != nil {
		t.Fatal(err)
	}
	var led connectors.Ledger = fl
	if tc.ledger != nil {
		led = tc.ledger(fl)
	}
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn, ReplaceAttr: noTime}))
	clock := time.Date(2026, 11, 18, 9, 30, 0, 0, time.UTC)
	now := func() time.Time { return clock }
	mc := matcher.DefaultConfig()
	if tc.matching != nil {
		mc = tc.matching()
	}
	var r oneShotRun
	r.out = out
	if useJob {
		store, err := OpenScratchSQLite(filepath.Join(t.TempDir(), "state.db"))
		if err != nil {
			t.Fatal(err)
		}
		defer store.Close()
		job := &Job{Name: "match", Source: src, Ledger: led, Store: store, Matching: mc, Parse: camt.DefaultOptions(),
			ReportDir: out, Reports: tc.reports, OnlyCAMT: tc.onlyCAMT, Log: log, Now: now}
		r.res, r.err = job.Run(context.Background())
	} else {
		r.res, r.err = MatchFiles(context.Background(), MatchOptions{Name: "match", Source: src, Ledger: led,
			Matching: mc, Parse: camt.DefaultOptions(), ReportDir: out, Reports: tc.reports, OnlyCAMT: tc.onlyCAMT,
			Log: log, Now: now, Workers: 3})
	}
	// Paths differ between the two folders.
	r.log = strings.ReplaceAll(logs.String(), dir, "DIR")
	return r
}

func readOut(t *testing.T, dir, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return "<missing>"
		}
		t.Fatal(err)
	}
	return string(b)
}

// sameResult compares results with the problems' errors as text (the paths
// in them are relative to the source).
func sameResult(t *testing.T, job, one Result) {
	t.Helper()
	text := func(ps []FileProblem) []string {
		var out []string
		for _, p := range ps {
			out = append(out, p.Path+": "+p.Err.Error())
		}
		return out
	}
	jp, op := text(job.Problems), text(one.Problems)
	job.Problems, one.Problems = nil, nil
	// why the daemon's pass examined its open exceptions (there are none
	// in a first pass) is the daemon's own summary line
	job.ExaminedWhy = ""
	if !reflect.DeepEqual(job, one) {
		t.Errorf("results differ:\n job %+v\n one %+v", job, one)
	}
	if !reflect.DeepEqual(jp, op) {
		t.Errorf("problems differ:\n job %q\n one %q", jp, op)
	}
}

// failingSource makes Open fail for some paths.
type failingSource struct {
	connectors.StatementSource
	fail map[string]error
}

func (s *failingSource) Open(ctx context.Context, ref connectors.StatementRef) (io.ReadCloser, error) {
	if err := s.fail[ref.Path]; err != nil {
		return nil, fmt.Errorf("opening %q: %w", ref.Path, err)
	}
	return s.StatementSource.Open(ctx, ref)
}

// TestMatchFilesEqualsJob is the differential test: on the same inputs,
// MatchFiles writes the same journal and reports, byte for byte, and gives
// the same result and warnings as a Job pass on an empty state store.
func TestMatchFilesEqualsJob(t *testing.T) {
	stmt16 := exampleFile(t, filepath.Join("statements", "2026-11-16_camt053_v02.xml"))
	stmt17 := exampleFile(t, filepath.Join("statements", "2026-11-17_camt053_v08.xml"))
	truncated := exampleFile(t, filepath.Join("testdata", "truncated.xml"))
	tolerant := func() matcher.Config {
		c := matcher.DefaultConfig()
		c.Tolerances = []matcher.Tolerance{{Absolute: domain.MustAmount("5.00"), Percent: domain.MustAmount("1")}}
		return c
	}
	for _, tc := range []oneShotCase{
		{name: "examples", onlyCAMT: true},
		{name: "examples with a tolerance and every report", onlyCAMT: true, matching: tolerant,
			reports: ReportOptions{XLSX: true, FrenchCSV: true}},
		{name: "same content twice and a gzip copy", onlyCAMT: true, files: map[string][]byte{
			"copies/dup-16.053":   stmt16,
			"copies/zz-17.xml.gz": gzipped(t, stmt17),
		}},
		{name: "overlapping statement under another name", onlyCAMT: true, files: map[string][]byte{
			// Not the same bytes (so not the same file), the same transactions.
			"again/17-resent.xml": append(append([]byte(nil), stmt17...), "\n<!-- resent -->\n"...),
		}},
		{name: "balances that do not add up, logged in listing order", onlyCAMT: true, warns: true, files: map[string][]byte{
			"a/17-bad-balance.xml": bytes.Replace(stmt17, []byte(">79319.89<"), []byte(">79319.99<"), 1),
			"b/17-bad-balance.xml": bytes.Replace(stmt17, []byte(">67099.49<"), []byte(">67000.00<"), 1),
			"c/17-bad-balance.xml": bytes.Replace(stmt17, []byte(">79319.89<"), []byte(">1.00<"), 1),
		}},
		{name: "unreadable and not CAMT, match", onlyCAMT: true, wantErr: ErrFilesSkipped, files: map[string][]byte{
			"zz-truncated.xml": truncated,
			"README.txt":       []byte("not a statement\n"),
		}},
		{name: "unreadable and not CAMT, daemon", onlyCAMT: false, wantErr: ErrFilesSkipped, files: map[string][]byte{
			"zz-truncated.xml": truncated,
			"README.txt":       []byte("not a statement\n"),
		}},
		{name: "source unavailable for one file", onlyCAMT: true, wantErr: ErrFilesSkipped,
			source: func(s connectors.StatementSource) connectors.StatementSource {
				return &failingSource{StatementSource: s, fail: map[string]error{"2026-11-16_camt053_v02.xml": connectors.ErrUnavailable}}
			}},
		{name: "ledger refuses some decisions", onlyCAMT: true, ledger: func(l connectors.Ledger) connectors.Ledger {
			return &refusingLedger{Ledger: l, refuse: map[string]bool{"OI-1012": true}}
		}},
		{name: "ledger refuses after a partial write", onlyCAMT: true, ledger: func(l connectors.Ledger) connectors.Ledger {
			return &refusingLedger{Ledger: l, refuse: map[string]bool{"OI-1012": true}, partial: true}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			job := runOneShotCase(t, tc, true)
			one := runOneShotCase(t, tc, false)
			if !errors.Is(job.err, tc.wantErr) || tc.wantErr == nil && job.err != nil {
				t.Fatalf("the job's error %v, want %v", job.err, tc.wantErr)
			}
			if fmt.Sprint(job.err) != fmt.Sprint(one.err) {
				t.Errorf("errors differ:\n job %v\n one %v", job.err, one.err)
			}
			sameResult(t, job.res, one.res)
			if job.res.Outcomes[domain.Auto] == 0 {
				t.Error("nothing lettered: the case does not test the journal")
			}
			for _, name := range []string{"matches.csv", "exceptions.csv", "exceptions-fr.csv"} {
				if j, o := readOut(t, job.out, name), readOut(t, one.out, name); j != o {
					t.Errorf("%s differs:\n--- job\n%s\n--- MatchFiles\n%s", name, j, o)
				}
			}
			if tc.reports.XLSX {
				if _, err := os.Stat(filepath.Join(one.out, "exceptions.xlsx")); err != nil {
					t.Errorf("exceptions.xlsx: %v", err)
				}
			}
			if (tc.wantErr != nil || tc.ledger != nil || tc.warns) != strings.Contains(one.log, "level=") {
				t.Errorf("warnings %q: want some exactly when files are skipped or decisions refused", one.log)
			}
			if job.log != one.log {
				t.Errorf("warnings differ:\n--- job\n%s--- MatchFiles\n%s", job.log, one.log)
			}
		})
	}
}

// errLedger fails one of its methods.
type errLedger struct {
	connectors.Ledger
	openItems, apply, applied error
}

func (l *errLedger) OpenItems(ctx context.Context) ([]domain.OpenItem, error) {
	if l.openItems != nil {
		return nil, l.openItems
	}
	return l.Ledger.OpenItems(ctx)
}

func (l *errLedger) Apply(ctx context.Context, b []connectors.KeyedDecision) error {
	if l.apply != nil {
		return l.apply
	}
	return l.Ledger.Apply(ctx, b)
}

func (l *errLedger) Applied(ctx context.Context, keys []string) (map[string]bool, error) {
	if l.applied != nil {
		return nil, l.applied
	}
	return l.Ledger.Applied(ctx, keys)
}

// listFails is a source that cannot list.
type listFails struct{ connectors.StatementSource }

func (listFails) List(context.Context) ([]connectors.StatementRef, error) {
	return nil, connectors.ErrUnavailable
}

func noItems(context.Context) ([]domain.OpenItem, error) { return nil, nil }

func badItems(context.Context) ([]domain.OpenItem, error) { return nil, errors.New("bad items") }

func TestMatchFilesErrors(t *testing.T) {
	boom := errors.New("boom")
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	for _, tc := range []struct {
		name        string
		ctx         context.Context
		ledger      func(connectors.Ledger) connectors.Ledger
		source      func(connectors.StatementSource) connectors.StatementSource
		items       func(context.Context) ([]domain.OpenItem, error)
		wantIs      error
		errContains string
		wantJournal bool
	}{
		{name: "open items", ledger: func(l connectors.Ledger) connectors.Ledger { return &errLedger{Ledger: l, openItems: boom} },
			wantIs: ErrOpenItems, errContains: "boom"},
		{name: "listing", source: func(s connectors.StatementSource) connectors.StatementSource { return listFails{s} },
			wantIs: connectors.ErrUnavailable, errContains: "listing statements"},
		{name: "writing back", ledger: func(l connectors.Ledger) connectors.Ledger { return &errLedger{Ledger: l, apply: boom} },
			wantIs: boom, errContains: "decisions back to the ledger: boom"},
		{name: "checking the ledger", ledger: func(l connectors.Ledger) connectors.Ledger { return &errLedger{Ledger: l, applied: boom} },
			wantIs: boom, errContains: "checking pending decisions in the ledger"},
		{name: "cancelled, reading open items", ctx: cancelled, wantIs: ErrOpenItems, errContains: "context canceled"},
		{name: "cancelled, reading statements", ctx: cancelled, items: noItems, wantIs: context.Canceled, errContains: "listing statements"},
		{name: "open items from the option", items: badItems, wantIs: ErrOpenItems, errContains: "bad items"},
		{name: "open items from the option, not the ledger", items: noItems,
			ledger: func(l connectors.Ledger) connectors.Ledger { return &errLedger{Ledger: l, openItems: boom} }, wantJournal: false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := oneShotDir(t, nil)
			out := filepath.Join(dir, "out")
			var src connectors.StatementSource
			src, err := local.New("statements", local.Config{Dir: filepath.Join(dir, "statements")})
			if err != nil {
				t.Fatal(err)
			}
			if tc.source != nil {
				src = tc.source(src)
			}
			fl, err := file.New(file.Config{OpenItems: filepath.Join(dir, "open_items.csv"), Journal: filepath.Join(out, "matches.csv")})
			if err != nil {
				t.Fatal(err)
			}
			var led connectors.Ledger = fl
			if tc.ledger != nil {
				led = tc.ledger(fl)
			}
			ctx := tc.ctx
			if ctx == nil {
				ctx = context.Background()
			}
			if err := os.MkdirAll(out, 0o755); err != nil {
				t.Fatal(err)
			}
			res, err := MatchFiles(ctx, MatchOptions{Source: src, Ledger: led, OpenItems: tc.items, Matching: matcher.DefaultConfig(),
				Parse: camt.DefaultOptions(), ReportDir: out, OnlyCAMT: true})
			if tc.errContains == "" {
				if err != nil {
					t.Fatalf("err %v", err)
				}
				if res.Outcomes[domain.Auto] != 0 || res.Transactions == 0 {
					t.Errorf("without open items: %d read, %d lettered", res.Transactions, res.Outcomes[domain.Auto])
				}
				return
			}
			if err == nil || !errors.Is(err, tc.wantIs) || !strings.Contains(err.Error(), tc.errContains) {
				t.Fatalf("err %v, want one wrapping %v and containing %q", err, tc.wantIs, tc.errContains)
			}
			if _, serr := os.Stat(filepath.Join(out, "exceptions.csv")); serr == nil {
				t.Error("exceptions.csv written by a failed run")
			}
		})
	}
}

// TestMatchFilesIsStateless: a second pass on the same folder (the journal
// removed) gives the same files; files are left in place.
func TestMatchFilesIsStateless(t *testing.T) {
	tc := oneShotCase{name: "twice", onlyCAMT: true}
	a := runOneShotCase(t, tc, false)
	b := runOneShotCase(t, tc, false)
	for _, name := range []string{"matches.csv", "exceptions.csv"} {
		if x, y := readOut(t, a.out, name), readOut(t, b.out, name); x != y {
			t.Errorf("%s differs between two passes", name)
		}
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(a.out), "statements", "2026-11-16_camt053_v02.xml")); err != nil {
		t.Errorf("statement moved: %v", err)
	}
}

// blockingSource holds every Open until the pass is cancelled.
type blockingSource struct{ connectors.StatementSource }

func (s blockingSource) Open(ctx context.Context, ref connectors.StatementRef) (io.ReadCloser, error) {
	<-ctx.Done()
	return nil, fmt.Errorf("opening %q: %w", ref.Path, ctx.Err())
}

// TestMatchFilesCancelledWhileReading: a pass stopped while the statements
// are read returns the cancellation, quarantines nothing and leaves no
// reader behind.
func TestMatchFilesCancelledWhileReading(t *testing.T) {
	dir := oneShotDir(t, nil)
	out := filepath.Join(dir, "out")
	src, err := local.New("statements", local.Config{Dir: filepath.Join(dir, "statements"), QuarantineDir: filepath.Join(dir, "q")})
	if err != nil {
		t.Fatal(err)
	}
	fl, err := file.New(file.Config{OpenItems: filepath.Join(dir, "open_items.csv"), Journal: filepath.Join(out, "matches.csv")})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	items := func(context.Context) ([]domain.OpenItem, error) {
		time.AfterFunc(20*time.Millisecond, cancel)
		return nil, nil
	}
	res, err := MatchFiles(ctx, MatchOptions{Source: blockingSource{src}, Ledger: fl, OpenItems: items,
		Matching: matcher.DefaultConfig(), Parse: camt.DefaultOptions(), ReportDir: out, OnlyCAMT: true})
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "stopping") {
		t.Fatalf("err %v, want the cancellation", err)
	}
	if res.FilesQuarantined != 0 || res.Transactions != 0 {
		t.Errorf("result %+v after a cancellation", res)
	}
	if _, err := os.Stat(filepath.Join(dir, "q")); err == nil {
		t.Error("a file was quarantined")
	}
}

func TestMatchMemoryLimit(t *testing.T) {
	for _, tc := range []struct {
		input, want int64
	}{
		{0, 3 << 30},
		{100 << 20, 3 << 30},
		{870 << 20, 3480 << 20},
		{2 << 30, 8 << 30},
	} {
		if got := MatchMemoryLimit(tc.input); got != tc.want {
			t.Errorf("MatchMemoryLimit(%d) = %d, want %d", tc.input, got, tc.want)
		}
	}
}
