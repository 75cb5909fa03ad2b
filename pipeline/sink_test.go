package pipeline

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/lettrage/lettrage/connectors"
	"github.com/lettrage/lettrage/connectors/camt"
	"github.com/lettrage/lettrage/matcher"
)

// sinkLedger is a ledger that records the exceptions (an ExceptionSink):
// it counts the hand-overs and refuses them all, for a business reason,
// while refuse is set.
type sinkLedger struct {
	connectors.Ledger
	calls  int
	refuse bool
}

func (l *sinkLedger) RecordExceptions(_ context.Context, exc []connectors.Exception) error {
	l.calls++
	if !l.refuse || len(exc) == 0 {
		return nil
	}
	rej := make([]error, len(exc))
	for i, e := range exc {
		rej[i] = &connectors.RejectedError{Key: e.Tx.Key, Reason: "the period is closed"}
	}
	return errors.Join(rej...)
}

// TestSinkHandedExceptionsWithTheReports: a ledger that records the
// exceptions is handed them when the reports are rewritten, not on a pass
// that finds them current; a hand-over it partly refused is done again by
// the next pass until it takes them all.
func TestSinkHandedExceptionsWithTheReports(t *testing.T) {
	dir := t.TempDir()
	fl, src, store := exampleParts(t, dir, filepath.Join(dir, "matches.csv"))
	led := &sinkLedger{Ledger: fl}
	now := time.Date(2026, 11, 18, 9, 0, 0, 0, time.UTC)
	job := &Job{Name: "sink", Source: src, Ledger: led, Store: store, Matching: matcher.DefaultConfig(),
		Parse: camt.DefaultOptions(), ReportDir: dir, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Now: func() time.Time { return now }}
	ctx := context.Background()
	run := func(step string) (handed bool) {
		t.Helper()
		before := led.calls
		now = now.Add(time.Minute)
		res, err := job.Run(ctx)
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		if handed = led.calls > before; handed == res.ReportsUnchanged {
			t.Fatalf("%s: exceptions handed over %v, reports unchanged %v", step, handed, res.ReportsUnchanged)
		}
		return handed
	}
	if !run("first pass") {
		t.Fatal("the first pass did not hand the exceptions over")
	}
	for i := 0; run("settling"); i++ {
		if i == 4 {
			t.Fatal("every pass hands the exceptions over")
		}
	}
	if run("idle pass") {
		t.Fatal("an idle pass handed the exceptions over")
	}
	// A new day rewrites the reports; the ledger refuses the exceptions:
	// the next passes hand them over again, until it takes them.
	led.refuse = true
	now = now.Add(24 * time.Hour)
	if !run("new day, refused") {
		t.Fatal("a new day did not hand the exceptions over")
	}
	if !run("after a refusal") {
		t.Fatal("the pass after a refusal did not hand the exceptions over again")
	}
	led.refuse = false
	if !run("taken") {
		t.Fatal("the pass after a refusal did not hand the exceptions over again")
	}
	if run("idle pass after") {
		t.Fatal("an idle pass handed the exceptions over")
	}
}
