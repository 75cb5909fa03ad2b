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
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lettrage/lettrage/connectors"
	"github.com/lettrage/lettrage/connectors/camt"
	"github.com/lettrage/lettrage/connectors/ledger/file"
	"github.com/lettrage/lettrage/connectors/source/local"
	"github.com/lettrage/lettrage/domain"
	"github.com/lettrage/lettrage/matcher"
	"github.com/lettrage/lettrage/pipeline/decide"
	"github.com/lettrage/lettrage/pipeline/report"
)

// oneShotCase is a statements folder and a ledger to run through
// MatchFiles.
type oneShotCase struct {
	name string
	// files are added to the example statements (path → content).
	files map[string][]byte
	// ledger wraps the file ledger (nil: as it is).
	ledger   func(connectors.Ledger) connectors.Ledger
	source   func(connectors.StatementSource) connectors.StatementSource
	onlyCAMT bool
	reports  report.Options
	matching func() matcher.Config
	wantErr  error
	// verbose logs at the debug level (else: warnings); late sets
	// MatchOptions.late.
	verbose, late bool
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
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
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

// oneShotRun is what runOneShotCase returns: the output folder, the
// result, the error and the warn-level log of a MatchFiles pass over a copy
// of the case's folder.
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

func runOneShotCase(t *testing.T, tc oneShotCase) oneShotRun {
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
	level := slog.LevelWarn
	if tc.verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: level, ReplaceAttr: noTime}))
	clock := time.Date(2026, 11, 18, 9, 30, 0, 0, time.UTC)
	now := func() time.Time { return clock }
	mc := matcher.DefaultConfig()
	if tc.matching != nil {
		mc = tc.matching()
	}
	var r oneShotRun
	r.out = out
	r.res, r.err = MatchFiles(context.Background(), MatchOptions{Name: "match", Source: src, Ledger: led,
		Matching: mc, Parse: camt.DefaultOptions(), ReportDir: out, Reports: tc.reports, OnlyCAMT: tc.onlyCAMT,
		Log: log, Now: now, Workers: 3, late: tc.late})
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

// TestMatchFilesCases: what one pass makes of the trouble real deliveries
// have — the same content twice, a gzip copy, an overlapping statement, an
// unreadable file, a file that is not CAMT, an unavailable source, a
// ledger that refuses decisions.
func TestMatchFilesCases(t *testing.T) {
	stmt16 := exampleFile(t, filepath.Join("statements", "2026-11-16_camt053_v02.xml"))
	stmt17 := exampleFile(t, filepath.Join("statements", "2026-11-17_camt053_v08.xml"))
	truncated := exampleFile(t, filepath.Join("testdata", "truncated.xml"))
	for _, tc := range []struct {
		oneShotCase
		want func(Result) bool
		// exceptions and journal say what exceptions.csv holds and what
		// matches.csv does not.
		exceptions, notJournal string
	}{
		{oneShotCase: oneShotCase{name: "examples", onlyCAMT: true},
			want: func(r Result) bool {
				return r.Files == 2 && r.FilesProcessed == 2 && r.Transactions == 15 && r.Committed
			}},
		{oneShotCase: oneShotCase{name: "same content twice and a gzip copy", onlyCAMT: true, files: map[string][]byte{
			"copies/dup-16.053": stmt16, "copies/zz-17.xml.gz": gzipped(t, stmt17)}},
			want: func(r Result) bool {
				return r.Files == 4 && r.FilesProcessed == 3 && r.FilesDuplicate == 1 && r.Duplicates == 6 &&
					r.SetAside[decide.ReasonDuplicateDelivery].Count == 6
			}},
		{oneShotCase: oneShotCase{name: "overlapping statement under another name", onlyCAMT: true, files: map[string][]byte{
			"again/17-resent.xml": append(append([]byte(nil), stmt17...), "\n<!-- resent -->\n"...)}},
			want: func(r Result) bool { return r.FilesProcessed == 3 && r.FilesDuplicate == 0 && r.Duplicates == 6 }},
		{oneShotCase: oneShotCase{name: "unreadable and not CAMT", onlyCAMT: true, wantErr: ErrFilesSkipped, files: map[string][]byte{
			"zz-truncated.xml": truncated, "README.txt": []byte("not a statement\n")}},
			want: func(r Result) bool { return r.FilesQuarantined == 1 && r.FilesNotCAMT == 1 && len(r.Problems) == 1 }},
		{oneShotCase: oneShotCase{name: "source unavailable for one file", onlyCAMT: true, wantErr: ErrFilesSkipped,
			source: func(s connectors.StatementSource) connectors.StatementSource {
				return &failingSource{StatementSource: s, fail: map[string]error{"2026-11-16_camt053_v02.xml": connectors.ErrUnavailable}}
			}},
			want: func(r Result) bool { return r.FilesSkipped == 1 && r.FilesProcessed == 1 }},
		{oneShotCase: oneShotCase{name: "ledger refuses some decisions", onlyCAMT: true, ledger: func(l connectors.Ledger) connectors.Ledger {
			return &refusingLedger{Ledger: l, refuse: map[string]bool{"OI-1012": true}}
		}}, exceptions: decide.ReasonLedgerRejected, notJournal: "OI-1012",
			want: func(r Result) bool { return r.Applied == r.Outcomes[domain.Auto]-1 }},
		{oneShotCase: oneShotCase{name: "ledger refuses after a partial write", onlyCAMT: true, ledger: func(l connectors.Ledger) connectors.Ledger {
			return &refusingLedger{Ledger: l, refuse: map[string]bool{"OI-1012": true}, partial: true}
		}}, exceptions: decide.ReasonLedgerRejectedPartial, notJournal: "OI-1012",
			want: func(r Result) bool { return r.Applied == r.Outcomes[domain.Auto]-1 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runOneShotCase(t, tc.oneShotCase)
			if !errors.Is(r.err, tc.wantErr) || tc.wantErr == nil && r.err != nil {
				t.Fatalf("error %v, want %v", r.err, tc.wantErr)
			}
			if !tc.want(r.res) || r.res.Outcomes[domain.Auto] == 0 || !r.res.ReportsWritten {
				t.Errorf("result %+v", r.res)
			}
			if exc := readOut(t, r.out, "exceptions.csv"); !strings.Contains(exc, tc.exceptions) {
				t.Errorf("exceptions.csv without %q:\n%s", tc.exceptions, exc)
			}
			if j := readOut(t, r.out, "matches.csv"); tc.notJournal != "" && strings.Contains(j, ","+tc.notJournal+",") {
				t.Errorf("matches.csv letters %s:\n%s", tc.notJournal, j)
			}
		})
	}
}

// TestMatchFilesEarlyIntake: taking the transactions in as the statements
// are read and indexing the open items meanwhile changes nothing a pass
// does — its result, its log (every line, in order), its outputs — whatever
// the files: copies, an overlapping statement, unreadable ones, one not
// CAMT, one the source fails to open, before and after the others.
func TestMatchFilesEarlyIntake(t *testing.T) {
	stmt16 := exampleFile(t, filepath.Join("statements", "2026-11-16_camt053_v02.xml"))
	stmt17 := exampleFile(t, filepath.Join("statements", "2026-11-17_camt053_v08.xml"))
	truncated := exampleFile(t, filepath.Join("testdata", "truncated.xml"))
	resent := append(append([]byte(nil), stmt17...), "\n<!-- resent -->\n"...)
	for _, tc := range []oneShotCase{
		{name: "examples"},
		{name: "copies and an overlapping statement", files: map[string][]byte{
			"0/dup-16.xml": stmt16, "copies/dup-16.053": stmt16, "copies/zz-17.xml.gz": gzipped(t, stmt17),
			"again/17-resent.xml": resent}},
		{name: "unreadable first", wantErr: ErrFilesSkipped, files: map[string][]byte{
			"0-truncated.xml": truncated, "zz/17-resent.xml": resent}},
		{name: "unreadable between", wantErr: ErrFilesSkipped, files: map[string][]byte{
			"2026-11-16z.xml": truncated, "README.txt": []byte("not a statement\n"), "zz/17-resent.xml": resent}},
		{name: "source unavailable for one file", wantErr: ErrFilesSkipped, files: map[string][]byte{"zz/16.xml": stmt16},
			source: func(s connectors.StatementSource) connectors.StatementSource {
				return &failingSource{StatementSource: s, fail: map[string]error{"2026-11-17_camt053_v08.xml": connectors.ErrUnavailable}}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.verbose = true
			early := runOneShotCase(t, tc)
			tc.late = true
			late := runOneShotCase(t, tc)
			if !errors.Is(early.err, tc.wantErr) || tc.wantErr == nil && early.err != nil {
				t.Fatalf("error %v, want %v", early.err, tc.wantErr)
			}
			if fmt.Sprint(early.err) != fmt.Sprint(late.err) {
				t.Errorf("error %v, taken in late: %v", early.err, late.err)
			}
			if !reflect.DeepEqual(early.res, late.res) {
				t.Errorf("result\n%+v\ntaken in late:\n%+v", early.res, late.res)
			}
			took := regexp.MustCompile(`took=\S+`) // the ledger's time
			if e, l := took.ReplaceAllString(early.log, "took=T"), took.ReplaceAllString(late.log, "took=T"); e != l {
				t.Errorf("log\n%s\ntaken in late:\n%s", e, l)
			}
			for _, name := range []string{"matches.csv", "exceptions.csv"} {
				if e, l := readOut(t, early.out, name), readOut(t, late.out, name); e != l {
					t.Errorf("%s\n%s\ntaken in late:\n%s", name, e, l)
				}
			}
			if early.res.Transactions == 0 || !strings.Contains(early.log, "statement read") {
				t.Fatalf("nothing read: %+v\n%s", early.res, early.log)
			}
		})
	}
}

// TestMatchFilesLogsInListingOrder: the statements are read in parallel,
// and what reading them logs comes out in listing order, after the files
// before them.
func TestMatchFilesLogsInListingOrder(t *testing.T) {
	stmt17 := exampleFile(t, filepath.Join("statements", "2026-11-17_camt053_v08.xml"))
	tc := oneShotCase{onlyCAMT: true, files: map[string][]byte{
		"a/17-bad-balance.xml": bytes.Replace(stmt17, []byte(">79319.89<"), []byte(">79319.99<"), 1),
		"b/17-bad-balance.xml": bytes.Replace(stmt17, []byte(">67099.49<"), []byte(">67000.00<"), 1),
		"c/17-bad-balance.xml": bytes.Replace(stmt17, []byte(">79319.89<"), []byte(">1.00<"), 1),
	}}
	for range 5 {
		r := runOneShotCase(t, tc)
		if r.err != nil {
			t.Fatal(r.err)
		}
		a, b, c := strings.Index(r.log, "file=a/"), strings.Index(r.log, "file=b/"), strings.Index(r.log, "file=c/")
		if a < 0 || !(a < b && b < c) {
			t.Fatalf("warnings not in listing order:\n%s", r.log)
		}
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
	a := runOneShotCase(t, tc)
	b := runOneShotCase(t, tc)
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
		stmts, items int64
		want         int64
	}{
		{0, 0, 3 << 30},
		// 100,000 remittance payments × 200,000 items: the floor
		{260_523_635, 24_841_962, 3 << 30},
		// 1,000,000 × 1,000,000, remittance: (0.7 × 2,576,727,780 +
		// 12 × 124,861,156) × 1.1 = 3,632,247,649 (3,464 MiB)
		{2_576_727_780, 124_861_156, 3_632_247_649},
		// 1,000,000 × 1,000,000, classic (seed 9): the floor
		{751_391_011, 124_796_583, 3 << 30},
		{0, 1 << 30, 14_173_392_076},
	} {
		if got := MatchMemoryLimit(MatchInput{StatementBytes: tc.stmts, ItemBytes: tc.items}); got != tc.want {
			t.Errorf("MatchMemoryLimit(%d, %d) = %d, want %d", tc.stmts, tc.items, got, tc.want)
		}
	}
}

// Compressed files count for more than their size; the open items weigh
// more than the statements.
func TestMatchInputAdd(t *testing.T) {
	var in MatchInput
	in.Add("a/s1.xml", 100, false)
	in.Add("a/s2.XML.GZ", 100, false)
	in.Add("items.csv", 10, true)
	in.Add("items.xlsx", 10, true)
	want := MatchInput{StatementBytes: 100 + 100*matchCompressedFactor, ItemBytes: 10 + 10*matchCompressedFactor}
	if in != want {
		t.Fatalf("input %+v, want %+v", in, want)
	}
	if got, want := in.Live(), int64(1100*7/10+110*12); got != want {
		t.Errorf("live %d, want %d", got, want)
	}
}
