package pipeline

import (
	"context"
	"log/slog"
	"slices"
	"testing"

	"github.com/lettrage/lettrage/connectors/camt"
	"github.com/lettrage/lettrage/domain"
	"github.com/lettrage/lettrage/pipeline/state"
)

// TestIdlePassLeavesOpenItemsUnread: a pass whose ledger stamps its items
// as when they were last read, under the same configuration, does not read
// them and says what the ledger said of them then; a new stamp, a new
// configuration, or items the clock decided are read again. On SQLite and
// PostgreSQL.
func TestIdlePassLeavesOpenItemsUnread(t *testing.T) {
	forEachStore(t, testIdlePassLeavesOpenItemsUnread)
}

func testIdlePassLeavesOpenItemsUnread(t *testing.T, open func() (*state.Store, error)) {
	ctx := context.Background()
	_, out, store, src := passFolder(t, open)
	item := domain.OpenItem{ID: "INV-1", CustomerID: "C1", CustomerName: "Alpha", DocumentNumber: "D-1", Currency: "EUR",
		Amount: domain.MustAmount("100.00"), Residual: domain.MustAmount("100.00")}
	led := &stampingLedger{postingLedger: newPostingLedger(item)}
	job := &Job{Name: "stamp", Source: src, Ledger: led, Store: store, ConfigHash: "h1", Parse: camt.DefaultOptions(),
		ReportDir: out, Log: slog.New(slog.DiscardHandler)}
	wantNote := "1 items read"
	pass := func(step string, wantRead bool) Result {
		t.Helper()
		before := led.reads
		res, err := job.Run(ctx)
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		if read := led.reads > before; read != wantRead {
			t.Errorf("%s: open items read %v, want %v", step, read, wantRead)
		}
		if res.OpenItemsNote != wantNote || !slices.Equal(res.OpenItemsAnnouncements, []string{"announced"}) {
			t.Errorf("%s: the ledger's note %q %q", step, res.OpenItemsNote, res.OpenItemsAnnouncements)
		}
		return res
	}
	pass("first pass", true)
	pass("idle pass", false)
	job.ConfigHash, led.rule, wantNote = "h2", ", rule never", "1 items read, rule never" // the ledger's configuration too
	pass("new configuration", true)
	pass("idle pass under it", false)
	led.notLasting = true
	pass("still unchanged", false)
	led.items = append(led.items, item) // a new stamp
	led.items = led.items[:1]
	led.writes++
	pass("new stamp, the clock deciding", true)
	pass("after items the clock decided", true)
	led.notLasting = false
	pass("lasting again", true)
	pass("idle again", false)
}
