package pipeline

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/lettrage/lettrage/pipeline/state"
)

// passRecord is what a pass showed: its result and error, its debug-level
// log, its metrics, the reports, the journal and the quarantine.
type passRecord struct {
	res                          Result
	err, log, metrics            string
	exceptions, journal, quarant string
}

// runEarlyIntakePasses runs the daemon's pass three times over a SQLite
// store, taking the transactions in as they are read or (late) after:
// the example statements with a copy and an unreadable file; then a copy
// of a file processed before under another name (the store's file
// records), the same statement delivered again with a line more (the
// recorded transactions), an unreadable file first and the one refused
// before put back (held); then nothing new.
func runEarlyIntakePasses(t *testing.T, late bool) []passRecord {
	t.Helper()
	f := newHeldFixture(t, "quarantine", 0)
	var logBuf bytes.Buffer
	f.job.Log = slog.New(slog.NewTextHandler(&logBuf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	f.job.Workers = 3
	f.job.takeInLate = late
	stmt16 := exampleFile(t, filepath.Join("statements", "2026-11-16_camt053_v02.xml"))
	stmt17 := exampleFile(t, filepath.Join("statements", "2026-11-17_camt053_v08.xml"))
	resent := append(append([]byte(nil), stmt17...), "\n<!-- resent -->\n"...)
	bad := truncated(t)
	steps := []map[string][]byte{
		{"0-copy-16.xml": stmt16, "2026-11-16z-bad.xml": bad},
		{"00-bad.xml": append(append([]byte(nil), bad...), ' '), "1-again-16.xml": stmt16,
			"2026-11-17z-resent.xml": resent, "3-bad-back.xml": bad},
		{},
	}
	took := regexp.MustCompile(`(took|time)=\S+`) // the ledger's time, the clock
	created := regexp.MustCompile(`created_timestamp:\{[^}]*\}`)
	var out []passRecord
	for _, files := range steps {
		for name, b := range files {
			writeAt(t, filepath.Join(f.dir, name), b)
		}
		logBuf.Reset()
		res, err := f.run(t)
		r := passRecord{res: res, err: fmt.Sprint(err), log: took.ReplaceAllString(logBuf.String(), "$1=T")}
		if err != nil && !errors.Is(err, ErrFilesSkipped) {
			t.Fatalf("pass failed: %v\n%s", err, r.log)
		}
		families, gerr := f.job.Metrics.Registry.Gather()
		if gerr != nil {
			t.Fatal(gerr)
		}
		for _, fam := range families {
			if strings.HasPrefix(fam.GetName(), "lettrage_") && !strings.Contains(fam.GetName(), "seconds") {
				r.metrics += created.ReplaceAllString(fam.String(), "") + "\n"
			}
		}
		r.exceptions = readOut(t, filepath.Dir(f.dir), "exceptions.csv")
		r.journal = readOut(t, filepath.Dir(f.dir), "matches.csv")
		entries, _ := os.ReadDir(filepath.Join(filepath.Dir(f.dir), "quarantine"))
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		sort.Strings(names)
		r.quarant = strings.Join(names, " ")
		out = append(out, r)
	}
	return out
}

// TestPassEarlyIntake: the daemon's pass takes the statements'
// transactions in as they are read (earlyintake.go) and shows exactly
// what it showed taking them in after the open items: the same result,
// the same log line by line, the same metrics, reports, journal and
// quarantine, pass after pass (fails when the intake takes a file in that
// takeIn would not, or twice, or logs or counts anything).
func TestPassEarlyIntake(t *testing.T) {
	early := runEarlyIntakePasses(t, false)
	late := runEarlyIntakePasses(t, true)
	for i := range early {
		e, l := early[i], late[i]
		if !reflect.DeepEqual(e.res, l.res) {
			t.Errorf("pass %d: result\n%+v\ntaken in late:\n%+v", i+1, e.res, l.res)
		}
		for _, c := range []struct{ what, e, l string }{
			{"error", e.err, l.err}, {"log", e.log, l.log}, {"metrics", e.metrics, l.metrics},
			{"exceptions.csv", e.exceptions, l.exceptions}, {"journal", e.journal, l.journal},
			{"quarantine", e.quarant, l.quarant},
		} {
			if c.e != c.l {
				t.Errorf("pass %d: %s\n%s\ntaken in late:\n%s", i+1, c.what, c.e, c.l)
			}
		}
	}
	// The passes did what they are meant to: files read, copies known,
	// a redelivery seen, a quarantine, a file held.
	if r := early[0].res; r.FilesProcessed != 2 || r.FilesDuplicate != 1 || r.FilesQuarantined != 1 {
		t.Errorf("first pass: %+v", r)
	}
	if r := early[1].res; r.FilesProcessed != 1 || r.FilesDuplicate < 2 || r.FilesHeld != 1 || r.FilesQuarantined != 1 || r.Duplicates == 0 {
		t.Errorf("second pass: %+v\n%s", r, early[1].log)
	}
	if early[0].quarant == "" || !strings.Contains(early[1].log, "statement read") {
		t.Errorf("nothing quarantined or read:\n%s", early[1].log)
	}
}

// slowPriorStore is a store whose identity lookups take a while: the
// early intake is still looking up the last file when readStatements has
// them all and stops the reader.
type slowPriorStore struct {
	*state.Store
}

func (s slowPriorStore) Prior(job string) state.Prior { return slowPrior{s.Store.Prior(job)} }

type slowPrior struct{ state.Prior }

func (p slowPrior) ByClass(ctx context.Context, classes []string) ([]state.Recorded, error) {
	time.Sleep(100 * time.Millisecond)
	return p.Prior.ByClass(ctx, classes)
}

// TestEarlyIntakeOutlivesTheReader: the intake's lookups are not cut
// short when the reader stops (fails when they run under the reader's
// context: "context canceled").
func TestEarlyIntakeOutlivesTheReader(t *testing.T) {
	f := newHeldFixture(t, "", 0)
	f.job.Store = slowPriorStore{f.store}
	res, err := f.run(t)
	if err != nil {
		t.Fatal(err)
	}
	if res.FilesProcessed != 2 || res.Transactions == 0 {
		t.Fatalf("%+v", res)
	}
}
