package pipeline

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/lettrage/lettrage/connectors/camt"
	"github.com/lettrage/lettrage/domain"
	"github.com/lettrage/lettrage/matcher"
	"github.com/lettrage/lettrage/pipeline/decide"
	"github.com/lettrage/lettrage/pipeline/state"
)

// TestOpenReadAheadFailsThePassAsBefore: the open exceptions read ahead
// (openahead.go), beside the items (their stamp changed) or beside the
// items left unread (a new day), fail the pass with the read's own
// error, where gatherOpen read them; a read ahead the pass turns out not
// to need (the stamp changed, the items did not) fails nothing.
func TestOpenReadAheadFailsThePassAsBefore(t *testing.T) {
	ctx := context.Background()
	stmts, out, store, src := passFolder(t, func() (*state.Store, error) {
		return state.OpenSQLite(filepath.Join(t.TempDir(), "state.db"))
	})
	led := &stampingLedger{postingLedger: newPostingLedger(idItems()...)}
	clock := time.Date(2026, 11, 18, 9, 0, 0, 0, time.UTC)
	job := &Job{Name: "ahead", Source: src, Ledger: led, Store: store, Matching: matcher.DefaultConfig(),
		Parse: camt.DefaultOptions(), ReportDir: out, ConfigHash: "cfg-1",
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: func() time.Time { return clock }}
	deliver := func(name, ref string) {
		t.Helper()
		doc := stmt053("MSG-"+ref, "2026-11-17", credit("2026-11-17", ref, idPay("ZULU LTD", "999.00", rf("9999"))))
		if err := os.WriteFile(filepath.Join(stmts, name), doc.XML(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	deliver("a.xml", "BK-1")
	if res, err := job.Run(ctx); err != nil || res.Exceptions != 1 {
		t.Fatalf("first pass: %v, %d exceptions, want 1", err, res.Exceptions)
	}
	for res, err := job.Run(ctx); res.ExaminedWhy != NothingChanged; res, err = job.Run(ctx) {
		if err != nil || res.Examined == 0 {
			t.Fatalf("settling pass: %v, %q", err, res.ExaminedWhy)
		}
	}
	// The open exception's row no longer decodes: reading it fails.
	if _, err := sqlOf(store).ExecContext(ctx, `UPDATE transactions SET data = ? WHERE job = ? AND state = ?`,
		[]byte("\x00not a row"), "ahead", decide.TxOpen); err != nil {
		t.Fatal(err)
	}
	_, readErr := store.OpenAndExceptions(ctx, "ahead")
	if readErr == nil {
		t.Fatal("reading a damaged row: no error")
	}
	led.writes++ // a new stamp, the same items: not examined, the read ahead dropped
	if res, err := job.Run(ctx); err != nil || res.ExaminedWhy != NothingChanged {
		t.Fatalf("pass after a stamp alone: %v (examined: %q), want no error, nothing examined", err, res.ExaminedWhy)
	}
	led.items = append(led.items, domain.OpenItem{ID: "INV-9", CustomerID: "C9", CustomerName: "Zulu", DocumentNumber: "D-9",
		Currency: "EUR", Amount: domain.MustAmount("5.00"), Residual: domain.MustAmount("5.00")})
	before := led.reads
	if res, err := job.Run(ctx); err == nil || err.Error() != readErr.Error() || res.Committed {
		t.Fatalf("pass with new items: %v (committed %v), want the read's error %v before the commit", err, res.Committed, readErr)
	}
	if led.reads != before+1 {
		t.Fatalf("the items were read %d times, want once", led.reads-before)
	}
	clock = clock.AddDate(0, 0, 1) // the items as recorded: unread, then read beside the exceptions
	before = led.reads
	if res, err := job.Run(ctx); err == nil || err.Error() != readErr.Error() || res.Committed {
		t.Fatalf("pass on a new day: %v (committed %v), want the read's error %v before the commit", err, res.Committed, readErr)
	}
	if led.reads != before+1 {
		t.Fatalf("the items were read %d times, want once (left unread, then needed)", led.reads-before)
	}
}
