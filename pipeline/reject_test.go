package pipeline

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
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
	"github.com/lettrage/lettrage/pipeline/state"
)

// refusingLedger refuses, as a ledger would for business reasons, every
// decision that allocates to one of its items, and writes the others.
type refusingLedger struct {
	connectors.Ledger
	refuse  map[string]bool
	partial bool
}

func (l *refusingLedger) Apply(ctx context.Context, batch []connectors.KeyedDecision) error {
	var ok []connectors.KeyedDecision
	var rej []error
	for _, kd := range batch {
		bad := false
		for _, a := range kd.Decision.Allocations {
			bad = bad || l.refuse[a.ItemID]
		}
		if bad {
			rej = append(rej, &connectors.RejectedError{Key: kd.Key, Reason: "The invoice is already paid.", Partial: l.partial})
			continue
		}
		ok = append(ok, kd)
	}
	if err := l.Ledger.Apply(ctx, ok); err != nil {
		return err
	}
	if len(rej) == 0 {
		return nil
	}
	return errors.Join(rej...)
}

func journalRows(t *testing.T, path, item string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(string(b), ","+item+",")
}

func TestLedgerRejectionsBecomeExceptions(t *testing.T) {
	dir := t.TempDir()
	journal := filepath.Join(dir, "matches.csv")
	fl, src, store := exampleParts(t, dir, journal)
	led := &refusingLedger{Ledger: fl, refuse: map[string]bool{"OI-1012": true}}
	now := time.Date(2026, 11, 18, 9, 0, 0, 0, time.UTC)
	job := &Job{Name: "rej", Source: src, Ledger: led, Store: store, Matching: matcher.DefaultConfig(),
		Parse: camt.DefaultOptions(), ReportDir: dir, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Now: func() time.Time { return now }}
	ctx := context.Background()
	const ref = "SGFR2611160001A" // scenario a: RF reference of OI-1012

	exception := func() *decide.StoredTx {
		t.Helper()
		exc, err := store.Exceptions(ctx, "rej")
		if err != nil {
			t.Fatal(err)
		}
		for i := range exc {
			if exc[i].Tx.Ref == ref {
				return &exc[i]
			}
		}
		return nil
	}

	// 1. The ledger refuses the letter of OI-1012: the run succeeds, the
	// others are written, the payment is an exception with the message.
	res, err := job.Run(ctx)
	if err != nil {
		t.Fatalf("run 1: %v", err)
	}
	if res.Applied == 0 {
		t.Fatal("run 1 wrote nothing")
	}
	e := exception()
	if e == nil || e.Decision.Reason != decide.ReasonLedgerRejected || !strings.Contains(e.Decision.Explanation, "already paid") ||
		len(e.Decision.Candidates) != 1 || e.Decision.Candidates[0].ItemID != "OI-1012" || e.State != decide.TxOpen {
		t.Fatalf("payment %s after the refusal: %+v", ref, e)
	}
	if n := journalRows(t, journal, "OI-1012"); n != 0 {
		t.Errorf("OI-1012 in the journal %d times, want 0", n)
	}
	if p, err := store.Pending(ctx, "rej"); err != nil || len(p) != 0 {
		t.Errorf("pending after the run = %d, %v; want none", len(p), err)
	}
	// 2. Within a day the same letter is not tried again.
	led.refuse = nil
	now = now.Add(time.Hour)
	if _, err := job.Run(ctx); err != nil {
		t.Fatalf("run 2: %v", err)
	}
	if e := exception(); e == nil || e.Decision.Reason != decide.ReasonLedgerRejected {
		t.Fatalf("run 2 retried the refused letter at once: %+v", e)
	}
	// 3. A day later it is, under a new key, and lands once.
	now = now.Add(decide.RejectedRetryAfter)
	res, err = job.Run(ctx)
	if err != nil {
		t.Fatalf("run 3: %v", err)
	}
	if e := exception(); e != nil {
		t.Fatalf("run 3: still an exception: %+v", e)
	}
	if res.Rematched != 1 || journalRows(t, journal, "OI-1012") != 1 {
		t.Errorf("run 3: rematched %d, OI-1012 in the journal %d times; want 1 and 1", res.Rematched, journalRows(t, journal, "OI-1012"))
	}
}

func TestPartialRejectionIsHeld(t *testing.T) {
	dir := t.TempDir()
	fl, src, store := exampleParts(t, dir, filepath.Join(dir, "m.csv"))
	job := &Job{Name: "rej", Source: src, Ledger: &refusingLedger{Ledger: fl, refuse: map[string]bool{"OI-1012": true}, partial: true},
		Store: store, Matching: matcher.DefaultConfig(), Parse: camt.DefaultOptions(), ReportDir: dir,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	for i := 0; i < 2; i++ {
		if _, err := job.Run(context.Background()); err != nil {
			t.Fatalf("run %d: %v", i, err)
		}
	}
	exc, err := store.Exceptions(context.Background(), "rej")
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range exc {
		if e.Tx.Ref == "SGFR2611160001A" {
			found = true
			if e.State != decide.TxHeld || e.Decision.Reason != decide.ReasonLedgerRejectedPartial {
				t.Errorf("partially refused payment: state %s reason %s, want held/%s", e.State, e.Decision.Reason, decide.ReasonLedgerRejectedPartial)
			}
		}
	}
	if !found {
		t.Error("partially refused payment is not reported")
	}
}

// TestRefusedUnletteringKeepsTheLetter: when the ledger refuses to undo a
// letter (it does not hold it, a closed period…), the letter stands: the
// payment is lettered again in the state, nothing stays pending, the run
// goes on.
func TestRefusedUnletteringKeepsTheLetter(t *testing.T) {
	dir := t.TempDir()
	ex := filepath.Join("..", "deploy", "examples")
	fl, err := file.New(file.Config{OpenItems: filepath.Join(ex, "open_items.csv"), Journal: filepath.Join(dir, "matches.csv")})
	if err != nil {
		t.Fatal(err)
	}
	store := sqliteIn(t, dir)
	ctx := context.Background()
	job := &Job{Name: "unl", Ledger: fl, Store: store, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	tx := domain.Transaction{Key: "FR76|R1", Ref: "R1", Account: "FR76", Amount: domain.MustAmount("10"), Currency: "EUR", Credit: true}
	letter := domain.Decision{TxKey: tx.Key, Outcome: domain.Auto, Rule: "reference", Explanation: "RF ok",
		Allocations: []domain.Allocation{{ItemID: "OI-1012", Amount: domain.MustAmount("10")}}}
	// A letter recorded as applied although the journal never got it (the
	// ledger's truth differs), then an accountant's reversal of it.
	if err := store.SaveCommit(ctx, state.Commit{Job: "unl", At: time.Now(), Decisions: []decide.DecisionRecord{
		{Key: "ltr-1", Tx: &tx, New: true, Decision: letter}}}); err != nil {
		t.Fatal(err)
	}
	if err := store.MarkApplied(ctx, "unl", []string{"ltr-1"}, time.Now()); err != nil {
		t.Fatal(err)
	}
	revs, why, err := job.reversals(ctx, tx.Key, "wrong invoice")
	if err != nil || len(revs) != 1 {
		t.Fatalf("reversals: %d %v %s", len(revs), err, why)
	}
	if err := store.SaveCommit(ctx, state.Commit{Job: "unl", At: time.Now(), Decisions: revs}); err != nil {
		t.Fatal(err)
	}
	if _, err := job.applyPending(ctx, job.Log); err != nil {
		t.Fatalf("applyPending: %v (a refused reversal must not fail the run)", err)
	}
	st, _, _ := store.Transaction(ctx, "unl", tx.Key)
	if st.State != decide.TxLettered || !strings.Contains(st.Decision.Explanation, "unlettering refused by the ledger") {
		t.Errorf("after the refusal: state %s, decision %+v", st.State, st.Decision)
	}
	if p, _ := store.Pending(ctx, "unl"); len(p) != 0 {
		t.Errorf("%d decisions still pending", len(p))
	}
}

// exampleParts opens the parts of a pass over deploy/examples in dir: the
// file ledger over the example open items with its journal at journal,
// the example statements' folder, and a SQLite state store closed when
// the test ends.
func exampleParts(t *testing.T, dir, journal string) (*file.Ledger, connectors.StatementSource, *state.Store) {
	t.Helper()
	ex := filepath.Join("..", "deploy", "examples")
	fl, err := file.New(file.Config{OpenItems: filepath.Join(ex, "open_items.csv"), Journal: journal})
	if err != nil {
		t.Fatal(err)
	}
	src, err := local.New("s", local.Config{Dir: filepath.Join(ex, "statements"), Pattern: "*.xml"})
	if err != nil {
		t.Fatal(err)
	}
	return fl, src, sqliteIn(t, dir)
}
