package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/lettrage/lettrage/connectors/camt"
	"github.com/lettrage/lettrage/connectors/ledger/file"
	"github.com/lettrage/lettrage/connectors/source/local"
	"github.com/lettrage/lettrage/domain"
	"github.com/lettrage/lettrage/internal/gen"
	"github.com/lettrage/lettrage/matcher"
	"github.com/lettrage/lettrage/pipeline"
	"github.com/lettrage/lettrage/pipeline/state"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// parseDir reads every statement of dir with the CAMT reader.
func parseDir(t *testing.T, dir string, opts camt.Options) (map[string]domain.Transaction, []*camt.File, int) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.xml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no statements in %s (%v)", dir, err)
	}
	got := map[string]domain.Transaction{}
	var parsed []*camt.File
	batches := 0
	for _, path := range files {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		cf, err := camt.Parse(f, path, opts, func(_ *camt.Statement, _ *camt.Entry, txs []domain.Transaction) error {
			if len(txs) > 1 {
				batches++
			}
			for _, tx := range txs {
				if _, dup := got[tx.Ref]; dup {
					return fmt.Errorf("tx_ref %q twice", tx.Ref)
				}
				got[tx.Ref] = tx
			}
			return nil
		})
		f.Close()
		if err != nil {
			t.Fatalf("parsing %s: %v", path, err)
		}
		parsed = append(parsed, cf)
	}
	return got, parsed, batches
}

// TestStatementsRoundTrip checks that the CAMT reader gives back, for every
// generated transaction, the tx_ref of truth.csv and the fields the
// matcher uses, and that the statements pass their consistency checks.
func TestStatementsRoundTrip(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	// small files and many batches, to cover file splitting and batches
	if code := run([]string{"gen", "--seed", "5", "--n", "1500", "--out", dir, "--per-file", "400", "--batch-percent", "30"}, &out, io.Discard); code != 0 {
		t.Fatalf("gen exit %d: %s", code, out.String())
	}
	ds := gen.Generate(5, 1500)
	uniqueRefs(ds.Transactions)
	got, parsed, batches := parseDir(t, filepath.Join(dir, "statements"), camt.DefaultOptions())
	// the encoding/xml reference reader (lettrage inspect --reference)
	// reads the same transactions
	ref := camt.DefaultOptions()
	ref.Reference = true
	if again, _, _ := parseDir(t, filepath.Join(dir, "statements"), ref); !reflect.DeepEqual(again, got) {
		t.Errorf("the reference reader reads other transactions than the fast path")
	}
	if batches < 50 {
		t.Errorf("%d batch entries, want many with --batch-percent 30", batches)
	}
	if len(parsed) < 4 {
		t.Errorf("%d statement files, want ≥ 4 with --per-file 400", len(parsed))
	}
	for _, f := range parsed {
		if f.Type != "camt.053" || f.Version != "08" {
			t.Errorf("%s: %s.%s, want camt.053 .08", f.Name, f.Type, f.Version)
		}
		if len(f.Statements) != 1 {
			t.Errorf("%s: %d statements, want 1", f.Name, len(f.Statements))
		}
		for _, st := range f.Statements {
			if st.EntryCount > 400 {
				t.Errorf("%s: %d entries > --per-file 400", f.Name, st.EntryCount)
			}
			for _, c := range st.Checks {
				if !c.OK {
					t.Errorf("%s: check %s failed: expected %s, got %s", f.Name, c.Name, c.Expected, c.Actual)
				}
			}
		}
	}
	if len(got) != len(ds.Transactions) {
		t.Fatalf("read %d transactions, generated %d", len(got), len(ds.Transactions))
	}
	fx := 0
	for _, want := range ds.Transactions {
		if want.FX().InstructedCurrency != "" {
			fx++
		}
		g, ok := got[want.Ref]
		if !ok {
			t.Errorf("tx_ref %s not read back", want.Ref)
			continue
		}
		if !g.Amount.Equal(want.Amount) || g.Currency != want.Currency || g.Credit != want.Credit ||
			g.Status != want.Status || !g.BookingDate.Equal(want.BookingDate) || g.EndToEndID != strings.TrimPrefix(want.EndToEndID, "NOTPROVIDED") ||
			g.Counterparty.Name != strings.TrimSpace(want.Counterparty.Name) || g.Counterparty.IBAN != want.Counterparty.IBAN ||
			!reflect.DeepEqual(g.Unstructured, want.Unstructured) || len(g.Documents) != 0 ||
			!g.FX().Instructed.Equal(want.FX().Instructed) || g.FX().InstructedCurrency != want.FX().InstructedCurrency ||
			g.FX().ExchangeRate != want.FX().ExchangeRate {
			t.Errorf("tx %s:\n got  %+v\n want %+v", want.Ref, g, want)
			continue
		}
		if len(g.Structured) != len(want.Structured) {
			t.Errorf("tx %s: structured %v, want %v", want.Ref, g.Structured, want.Structured)
			continue
		}
		for k := range want.Structured {
			if g.Structured[k] != want.Structured[k] {
				t.Errorf("tx %s: structured %v, want %v", want.Ref, g.Structured[k], want.Structured[k])
			}
		}
	}
	if fx == 0 {
		t.Error("no transaction with an instructed amount in another currency: AmtDtls/InstdAmt untested")
	}
	// the truth file names the same tx_refs
	rows, err := readCSV(filepath.Join(dir, "truth.csv"), truthHeader...)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if _, ok := got[r["tx_ref"]]; !ok {
			t.Errorf("truth tx_ref %s not in the statements", r["tx_ref"])
		}
	}
}

// matchInProcess runs what `lettrage match` ran before pipeline.MatchFiles
// (local source, file ledger, scratch SQLite state, one job pass) with the
// given matching configuration; matchOneShot runs what it runs now.
func matchInProcess(t testing.TB, dir, outDir string, mc matcher.Config) pipeline.Result {
	t.Helper()
	store, err := state.OpenScratchSQLite(filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	src, err := local.New("statements", local.Config{Dir: filepath.Join(dir, "statements"), Recursive: true})
	if err != nil {
		t.Fatal(err)
	}
	led, err := file.New(file.Config{OpenItems: filepath.Join(dir, "open_items.csv"), Journal: filepath.Join(outDir, "matches.csv")})
	if err != nil {
		t.Fatal(err)
	}
	defer led.Close()
	job := &pipeline.Job{Name: "match", Source: src, Ledger: led, Store: store, Matching: mc,
		Parse: camt.DefaultOptions(), ReportDir: outDir, OnlyCAMT: true,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	res, err := job.Run(context.Background())
	if err != nil {
		t.Fatalf("running the job: %v", err)
	}
	return res
}

// TestGenMatchScore generates a book and statements, letters them through
// the pipeline as `lettrage match` does, and scores the journal: the
// quality targets must hold. With the matcher's defaults (no bank-charge
// tolerance, what `lettrage match` uses) the fee scenarios are missed, and
// score must say so.
func TestGenMatchScore(t *testing.T) {
	dir := t.TempDir()
	if code := run([]string{"gen", "--seed", "3", "--n", "2000", "--out", dir}, io.Discard, io.Discard); code != 0 {
		t.Fatalf("gen exit %d", code)
	}
	ds := gen.Generate(3, 2000)
	for _, tc := range []struct {
		name     string
		cfg      matcher.Config
		wantCode int
		want     string
	}{
		{"generator config", ds.Config, exitOK, "TOTAL"},
		{"defaults, no tolerance", matcher.DefaultConfig(), exitFailed, "auto-match rate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			outDir := t.TempDir()
			res := matchOneShot(t, dir, outDir, tc.cfg)
			if res.Transactions != 2000 {
				t.Fatalf("%d transactions read, want 2000", res.Transactions)
			}
			var out, errb bytes.Buffer
			code := run([]string{"score", "--truth", filepath.Join(dir, "truth.csv"), "--matches", filepath.Join(outDir, "matches.csv")}, &out, &errb)
			t.Logf("\n%s%s", out.String(), errb.String())
			if code != tc.wantCode {
				t.Fatalf("score exit %d, want %d", code, tc.wantCode)
			}
			if !strings.Contains(out.String()+errb.String(), tc.want) {
				t.Errorf("score output lacks %q", tc.want)
			}
			rep, err := scoreFiles(filepath.Join(dir, "truth.csv"), filepath.Join(outDir, "matches.csv"), filepath.Join(dir, "open_items.csv"))
			if err != nil {
				t.Fatal(err)
			}
			if rep.Extra != 0 || rep.Total.AutoUnknown != 0 || rep.Total.precision() < 0.999 {
				t.Errorf("extra %d, unknown auto %d, precision %.4f", rep.Extra, rep.Total.AutoUnknown, rep.Total.precision())
			}
			if tc.wantCode == exitOK && rep.Total.autoRate() < 0.97 {
				t.Errorf("auto-match rate %.4f < 0.97", rep.Total.autoRate())
			}
		})
	}
}

// TestScoreCounts scores a hand-written truth and journal.
func TestScoreCounts(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	items := write("open_items.csv", `id,customer_id,customer_name,document_number,issue_date,due_date,currency,amount,residual,payment_reference,customer_iban
I1,C1,A SARL,FA-1,2025-01-01,2025-02-01,EUR,100.00,100.00,,
I2,C1,A SARL,FA-2,2025-01-02,2025-02-02,EUR,100.00,100.00,,
I3,C2,B SAS,FA-3,2025-01-03,2025-02-03,EUR,50.00,50.00,,
I4,C2,B SAS,FA-4,2025-01-04,2025-02-04,EUR,70.00,70.00,,
`)
	truth := write("truth.csv", `tx_ref,scenario,matchable,unknown,allocations
T1,ref,true,false,I1:100
T2,ref,true,false,I3:50
T3,multi,true,false,I3:50|I4:70
T4,unknown,false,true,
T5,multi,true,false,I4:70
`)
	// T1 lettered to the interchangeable I2 (right), T2 to the wrong
	// item, T3 missed (an accountant put it on account: not a letter), T4
	// an unknown payer lettered, T5 right.
	matches := write("matches.csv", `tx_ref,open_item_id,allocated_amount,posting_kind
T1,I2,100.00,
T2,I4,50.00,
T3,,120.00,on_account
T4,I1,100.00,
T5,I4,70.00,
`)
	rep, err := scoreFiles(truth, matches, items)
	if err != nil {
		t.Fatal(err)
	}
	want := tally{N: 5, Matchable: 4, Auto: 4, AutoRight: 2, AutoUnknown: 1}
	if rep.Total != want {
		t.Errorf("total %+v, want %+v", rep.Total, want)
	}
	if got := *rep.Scenarios["multi"]; got != (tally{N: 2, Matchable: 2, Auto: 1, AutoRight: 1}) {
		t.Errorf("multi %+v", got)
	}
	var printed strings.Builder
	rep.print(&printed)
	if !strings.Contains(printed.String(), "wrong automatic letters: 2 (the first 2:)") {
		t.Errorf("printed report lacks the count of wrong letters:\n%s", printed.String())
	}
	err = rep.check(0.999, 0.97)
	for _, s := range []string{"precision 0.5000", "auto-match rate 0.5000", "1 unknown payer"} {
		if err == nil || !strings.Contains(err.Error(), s) {
			t.Errorf("check error %v lacks %q", err, s)
		}
	}
}

// TestScoreCrossCurrency scores FX letters: the cash (allocated_amount)
// and what the allocation settles in the item's currency (item_amount)
// must both be the truth's.
func TestScoreCrossCurrency(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	items := write("open_items.csv", `id,customer_id,customer_name,document_number,issue_date,due_date,currency,amount,residual,payment_reference,customer_iban
U1,C1,Acme Inc,FA-1,2025-01-01,2025-02-01,USD,1000.00,1000.00,,
U2,C1,Acme Inc,FA-2,2025-01-02,2025-02-02,USD,500.00,500.00,,
U3,C2,Beta Ltd,FA-3,2025-01-03,2025-02-03,USD,200.00,200.00,,
`)
	truth := write("truth.csv", `tx_ref,scenario,matchable,unknown,allocations,settles
T1,fx,true,false,U1:920.00,U1:1000.00
T2,fx,true,false,U2:460.00,U2:500.00
T3,fx,true,false,U3:184.00,U3:200.00
`)
	// T1 right; T2 takes the right cash but settles only part of the
	// item; T3 is lettered as a same-currency allocation (no item_amount)
	matches := write("matches.csv", `tx_ref,open_item_id,allocated_amount,posting_kind,item_amount,item_currency
T1,U1,920.00,,1000.00,USD
T2,U2,460.00,,450.00,USD
T3,U3,184.00,,,
`)
	rep, err := scoreFiles(truth, matches, items)
	if err != nil {
		t.Fatal(err)
	}
	if want := (tally{N: 3, Matchable: 3, Auto: 3, AutoRight: 1}); rep.Total != want {
		t.Errorf("total %+v, want %+v (wrong: %v)", rep.Total, want, rep.Wrong)
	}
	bad := write("bad.csv", "tx_ref,open_item_id,allocated_amount,item_amount,item_currency\nT1,U1,920.00,x,USD\n")
	if _, err := scoreFiles(truth, bad, items); err == nil || !strings.Contains(err.Error(), "item_amount") {
		t.Errorf("bad item_amount: error %v", err)
	}
}

func TestScoreErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	items := write("open_items.csv", "id,customer_id,customer_name,document_number,issue_date,due_date,currency,amount,residual,payment_reference,customer_iban\nI1,C1,A,FA-1,2025-01-01,2025-02-01,EUR,1,1,,\n")
	goodTruth := write("truth.csv", "tx_ref,scenario,matchable,unknown,allocations\nT1,x,true,false,I1:1\n")
	goodMatches := write("m.csv", "tx_ref,open_item_id,allocated_amount\nT1,I1,1\n")
	for _, tc := range []struct {
		name, truth, matches, items, errContains string
	}{
		{"truth lacks a column", write("t1.csv", "tx_ref,scenario\nT1,x\n"), goodMatches, items, `missing column "matchable"`},
		{"bad allocation", write("t2.csv", "tx_ref,scenario,matchable,unknown,allocations\nT1,x,true,false,I1\n"), goodMatches, items, "want item:amount"},
		{"bad allocation amount", write("t3.csv", "tx_ref,scenario,matchable,unknown,allocations\nT1,x,true,false,I1:1x\n"), goodMatches, items, "line 2"},
		{"matches lacks a column", goodTruth, write("m1.csv", "tx_ref,open_item_id\nT1,I1\n"), items, `missing column "allocated_amount"`},
		{"bad matches amount", goodTruth, write("m2.csv", "tx_ref,open_item_id,allocated_amount\nT1,I1,abc\n"), items, "line 2"},
		{"no matches file", goodTruth, filepath.Join(dir, "absent.csv"), items, "absent.csv"},
		{"no open items", goodTruth, goodMatches, filepath.Join(dir, "none.csv"), "reading open items"},
		{"good", goodTruth, goodMatches, items, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := scoreFiles(tc.truth, tc.matches, tc.items)
			if tc.errContains == "" {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.errContains) {
				t.Fatalf("error %v, want one containing %q", err, tc.errContains)
			}
		})
	}
}

// TestBigCAMT writes a 2 MB benchmark statement and reads it back.
func TestBigCAMT(t *testing.T) {
	var buf bytes.Buffer
	entries, txs, err := writeBigCAMT(&buf, 2<<20)
	if err != nil {
		t.Fatal(err)
	}
	if size := buf.Len(); size < 1900<<10 || size > 2100<<10 {
		t.Errorf("%d bytes, want about 2 MB", size)
	}
	if per := buf.Len() / entries; per < 3000 || per > 3800 {
		t.Errorf("%d bytes per entry, want about 3.4 KB", per)
	}
	got, batches := 0, 0
	f, err := camt.Parse(bytes.NewReader(buf.Bytes()), "big.xml", camt.DefaultOptions(), func(_ *camt.Statement, e *camt.Entry, tx []domain.Transaction) error {
		got += len(tx)
		if len(tx) > 1 {
			batches++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got != txs || f.Statements[0].EntryCount != entries {
		t.Errorf("read %d transactions in %d entries, wrote %d in %d", got, f.Statements[0].EntryCount, txs, entries)
	}
	if batches != entries/10 {
		t.Errorf("%d batch entries, want %d", batches, entries/10)
	}
	for _, c := range f.Statements[0].Checks {
		if !c.OK {
			t.Errorf("check %s failed: expected %s, got %s", c.Name, c.Expected, c.Actual)
		}
	}
}

// TestGolden keeps the generated files of a small seed byte for byte: the
// data behind docs/BENCHMARKS.md must not drift silently.
// go test ./cmd/lettrage-bench -run TestGolden -update rewrites them.
func TestGolden(t *testing.T) {
	dir := t.TempDir()
	if code := run([]string{"gen", "--seed", "7", "--n", "40", "--out", dir, "--per-file", "20"}, io.Discard, io.Discard); code != 0 {
		t.Fatalf("gen exit %d", code)
	}
	golden := filepath.Join("testdata", "golden", "seed7-n40")
	var names []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		names = append(names, rel)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		os.RemoveAll(golden)
	}
	for _, rel := range names {
		got, err := os.ReadFile(filepath.Join(dir, rel))
		if err != nil {
			t.Fatal(err)
		}
		gp := filepath.Join(golden, rel)
		if *update {
			if err := os.MkdirAll(filepath.Dir(gp), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(gp, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(gp)
		if err != nil {
			t.Fatalf("%v (run with -update)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from %s (run with -update if intended)", rel, gp)
		}
	}
	want, _ := filepath.Glob(filepath.Join(golden, "statements", "*.xml"))
	gotXML, _ := filepath.Glob(filepath.Join(dir, "statements", "*.xml"))
	if len(want) != len(gotXML) {
		t.Errorf("%d statement files, golden has %d", len(gotXML), len(want))
	}
}

func TestUniqueRefs(t *testing.T) {
	txs := []domain.Transaction{{Ref: "A", Key: "X/A"}, {Ref: "B", Key: "X/B"}, {Ref: "A", Key: "X/A"}, {Ref: "A", Key: "X/A"}, {Ref: "A-2", Key: "X/A-2"}}
	uniqueRefs(txs)
	var got []string
	for _, tx := range txs {
		got = append(got, tx.Ref+" "+tx.Key)
	}
	want := []string{"A X/A", "B X/B", "A-2 X/A-2", "A-3 X/A-3", "A-2-2 X/A-2-2"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestParseSize(t *testing.T) {
	for _, tc := range []struct {
		in          string
		want        int64
		errContains string
	}{
		{"300MB", 300 << 20, ""},
		{"1.5GB", 3 << 29, ""},
		{"512kb", 512 << 10, ""},
		{"1000", 1000, ""},
		{"2 MiB", 2 << 20, ""},
		{"", 0, "want a positive size"},
		{"-1MB", 0, "want a positive size"},
		{"tenMB", 0, "want a positive size"},
	} {
		got, err := parseSize(tc.in)
		if tc.errContains != "" {
			if err == nil || !strings.Contains(err.Error(), tc.errContains) {
				t.Errorf("parseSize(%q) error %v, want %q", tc.in, err, tc.errContains)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
}

func TestUsage(t *testing.T) {
	for _, tc := range []struct {
		args        []string
		code        int
		errContains string
	}{
		{nil, exitUsage, "Usage"},
		{[]string{"nope"}, exitUsage, "unknown command"},
		{[]string{"gen"}, exitUsage, "--out DIR"},
		{[]string{"gen", "--out", "x", "--n", "0"}, exitUsage, "positive --n"},
		{[]string{"score"}, exitUsage, "--truth and --matches"},
		{[]string{"camt", "--out", "x", "--size", "big"}, exitUsage, "want a positive size"},
		{[]string{"camt", "extra"}, exitUsage, "unexpected argument"},
		{[]string{"help"}, exitOK, ""},
	} {
		var errb bytes.Buffer
		if code := run(tc.args, io.Discard, &errb); code != tc.code || !strings.Contains(errb.String(), tc.errContains) {
			t.Errorf("run(%q) = %d, %q; want %d and %q", tc.args, code, errb.String(), tc.code, tc.errContains)
		}
	}
}

// FuzzParseSize: never panics; a size it accepts is positive.
func FuzzParseSize(f *testing.F) {
	for _, s := range []string{"300MB", "1.5GB", "1", "0", "-3K", "1e3MB", "NaNMB", "Inf"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := parseSize(s)
		if err == nil && (n < 1 || n > 1<<50) {
			t.Fatalf("parseSize(%q) = %d without error", s, n)
		}
	})
}

// FuzzParseAllocs: never panics, and what it accepts formats back to the
// same allocations.
func FuzzParseAllocs(f *testing.F) {
	for _, s := range []string{"", "I1:100", "I1:1.5|I2:-3", "I1", "I1:x", ":1", "I1:1|I1:2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := parseAllocs(s)
		if err != nil {
			return
		}
		var parts []string
		for id, a := range m {
			parts = append(parts, id+":"+a.String())
		}
		back, err := parseAllocs(strings.Join(parts, "|"))
		if err != nil {
			t.Fatalf("re-parsing %q: %v", parts, err)
		}
		if len(back) != len(m) {
			t.Fatalf("%q: %v then %v", s, m, back)
		}
		for id, a := range m {
			if !back[id].Equal(a) {
				t.Fatalf("%q: %v then %v", s, m, back)
			}
		}
	})
}

// BenchmarkMatchEndToEnd runs what `lettrage match` runs, in process, on
// LETTRAGE_E2E_N transactions × 2n items (default 10,000; LETTRAGE_E2E_ITEMS
// sets the items), or on the data set already generated in LETTRAGE_E2E_DIR,
// so that it can be profiled. "stateless" is pipeline.MatchFiles (the
// command today), "job" a Job pass on a scratch SQLite store (the command
// before):
//
//	LETTRAGE_E2E_N=100000 go test ./cmd/lettrage-bench -run '^$' -bench MatchEndToEnd/stateless \
//	    -benchtime 1x -cpuprofile cpu.out -memprofile mem.out
func BenchmarkMatchEndToEnd(b *testing.B) {
	dir := os.Getenv("LETTRAGE_E2E_DIR")
	n := 10000
	if v := os.Getenv("LETTRAGE_E2E_N"); v != "" {
		if _, err := fmt.Sscan(v, &n); err != nil || n <= 0 {
			b.Fatalf("LETTRAGE_E2E_N=%q: want a positive count", v)
		}
	}
	if dir == "" {
		dir = b.TempDir()
		args := []string{"gen", "--seed", "42", "--n", fmt.Sprint(n), "--out", dir}
		if v := os.Getenv("LETTRAGE_E2E_ITEMS"); v != "" {
			args = append(args, "--items", v)
		}
		if code := run(args, io.Discard, os.Stderr); code != 0 {
			b.Fatalf("gen exit %d", code)
		}
	}
	mc := matcher.DefaultConfig()
	for _, bc := range []struct {
		name string
		run  func(testing.TB, string, string, matcher.Config) pipeline.Result
	}{{"stateless", matchOneShot}, {"job", matchInProcess}} {
		b.Run(bc.name, func(b *testing.B) {
			var txs int
			for b.Loop() {
				out := b.TempDir()
				res := bc.run(b, dir, out, mc)
				txs = res.Transactions
			}
			if txs == 0 {
				b.Fatal("no transaction read")
			}
			b.ReportMetric(float64(txs)*float64(b.N)/b.Elapsed().Seconds(), "tx/s")
		})
	}
}
