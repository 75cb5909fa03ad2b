package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/lettrage/lettrage/connectors/camt"
	"github.com/lettrage/lettrage/connectors/ledger/file"
	"github.com/lettrage/lettrage/connectors/source/local"
	"github.com/lettrage/lettrage/domain"
	"github.com/lettrage/lettrage/internal/gen"
	"github.com/lettrage/lettrage/matcher"
	"github.com/lettrage/lettrage/pipeline"
	"github.com/lettrage/lettrage/pipeline/state"
)

// benchClock is the fixed clock of the differential runs: the journal's
// lettered_at and lettering_date come from it.
var benchClock = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

// matchOneShot runs what `lettrage match` runs today (cmd/lettrage
// cmdMatch: open items read as the statements are, local source, file ledger,
// pipeline.MatchFiles) with the given matching configuration.
func matchOneShot(t testing.TB, dir, outDir string, mc matcher.Config) pipeline.Result {
	t.Helper()
	res, err := oneShot(dir, outDir, mc, nil)
	if err != nil {
		t.Fatalf("matching: %v", err)
	}
	return res
}

func oneShot(dir, outDir string, mc matcher.Config, now func() time.Time) (pipeline.Result, error) {
	itemsPath := filepath.Join(dir, "open_items.csv")
	readItems := func(context.Context) ([]domain.OpenItem, error) {
		f, err := os.Open(itemsPath)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		return file.ReadOpenItems(f, itemsPath)
	}
	src, err := local.New("statements", local.Config{Dir: filepath.Join(dir, "statements"), Recursive: true})
	if err != nil {
		return pipeline.Result{}, err
	}
	led, err := file.New(file.Config{OpenItems: itemsPath, Journal: filepath.Join(outDir, "matches.csv")})
	if err != nil {
		return pipeline.Result{}, err
	}
	defer led.Close()
	if err := os.MkdirAll(outDir, 0o750); err != nil {
		return pipeline.Result{}, err
	}
	return pipeline.MatchFiles(context.Background(), pipeline.MatchOptions{
		Name: "match", Source: src, Ledger: led, OpenItems: readItems, Matching: mc, Parse: camt.DefaultOptions(),
		ReportDir: outDir, OnlyCAMT: true, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: now,
	})
}

// jobPass is matchInProcess with a fixed clock and the error returned.
func jobPass(t testing.TB, dir, outDir string, mc matcher.Config) (pipeline.Result, error) {
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
	if err := os.MkdirAll(outDir, 0o750); err != nil {
		t.Fatal(err)
	}
	job := &pipeline.Job{Name: "match", Source: src, Ledger: led, Store: store, Matching: mc,
		Parse: camt.DefaultOptions(), ReportDir: outDir, OnlyCAMT: true,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: func() time.Time { return benchClock }}
	return job.Run(context.Background())
}

// TestStatelessEqualsJobOnGeneratedData is the differential test of
// pipeline.MatchFiles against the Job pass `lettrage match` ran before, on
// generated data with the trouble real deliveries have: a statement
// delivered twice under another name, one delivered again with other bytes
// (overlapping transactions), a truncated statement and a file that is not
// CAMT. The journal and the exceptions report must be equal byte for byte
// (the clock is fixed), and so must the run's counts.
func TestStatelessEqualsJobOnGeneratedData(t *testing.T) {
	for _, tc := range []struct {
		seed   int
		n      int
		items  int
		config string // "gen": the generator's matching settings; "": defaults
	}{
		{seed: 5, n: 1500, config: "gen"},
		{seed: 11, n: 2500, items: 2000},
		{seed: 23, n: 1000, items: 3000, config: "gen"},
	} {
		t.Run(fmt.Sprintf("seed%d-n%d-items%d", tc.seed, tc.n, tc.items), func(t *testing.T) {
			dir := t.TempDir()
			args := []string{"gen", "--seed", fmt.Sprint(tc.seed), "--n", fmt.Sprint(tc.n), "--out", dir, "--per-file", "300"}
			if tc.items > 0 {
				args = append(args, "--items", fmt.Sprint(tc.items))
			}
			if code := run(args, io.Discard, io.Discard); code != 0 {
				t.Fatalf("gen exit %d", code)
			}
			stmts := filepath.Join(dir, "statements")
			first, err := os.ReadFile(filepath.Join(stmts, "camt053-EUR-0001.xml"))
			if err != nil {
				t.Fatal(err)
			}
			second, err := os.ReadFile(filepath.Join(stmts, "camt053-EUR-0002.xml"))
			if err != nil {
				t.Fatal(err)
			}
			for rel, b := range map[string][]byte{
				"copies/again-0001.xml":  first,
				"resent/0002-bis.xml":    append(append([]byte(nil), second...), "<!-- resent -->\n"...),
				"zz-truncated.xml":       second[:len(second)/2],
				"README.txt":             []byte("not a statement\n"),
				"copies/deeper/0002.xml": second,
			} {
				p := filepath.Join(stmts, rel)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, b, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			mc := matcher.DefaultConfig()
			if tc.config == "gen" {
				mc = gen.Generate(uint64(tc.seed), 1).Config // what lettrage.yaml holds
			}
			jobOut, oneOut := filepath.Join(t.TempDir(), "job"), filepath.Join(t.TempDir(), "one")
			jres, jerr := jobPass(t, dir, jobOut, mc)
			ores, oerr := oneShot(dir, oneOut, mc, func() time.Time { return benchClock })
			if !errors.Is(jerr, pipeline.ErrFilesSkipped) || fmt.Sprint(jerr) != fmt.Sprint(oerr) {
				t.Fatalf("errors: job %v, stateless %v; want both the truncated file skipped", jerr, oerr)
			}
			if jres.FilesQuarantined != 1 || jres.FilesNotCAMT != 1 || jres.FilesDuplicate != 2 || jres.Duplicates == 0 {
				t.Errorf("the job pass did not meet the trouble: %+v", jres)
			}
			if jres.Outcomes[domain.Auto] < tc.n/2 {
				t.Errorf("only %d lettered", jres.Outcomes[domain.Auto])
			}
			jres.Problems, ores.Problems = nil, nil
			// Why the daemon examined what it did is its state's (issue 18's
			// incremental passes); the stateless pass keeps none.
			jres.ExaminedWhy = ""
			if !reflect.DeepEqual(jres, ores) {
				t.Errorf("results differ:\n job       %+v\n stateless %+v", jres, ores)
			}
			for _, name := range []string{"matches.csv", "exceptions.csv"} {
				j, err := os.ReadFile(filepath.Join(jobOut, name))
				if err != nil {
					t.Fatal(err)
				}
				o, err := os.ReadFile(filepath.Join(oneOut, name))
				if err != nil {
					t.Fatal(err)
				}
				if string(j) != string(o) {
					t.Errorf("%s differs (%d and %d bytes)", name, len(j), len(o))
				}
			}
		})
	}
}
