package pipeline

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/lettrage/lettrage/connectors"
	"github.com/lettrage/lettrage/connectors/camt"
	"github.com/lettrage/lettrage/connectors/source/local"
	"github.com/lettrage/lettrage/domain"
	"github.com/lettrage/lettrage/internal/conservation"
	"github.com/lettrage/lettrage/matcher"
	"github.com/lettrage/lettrage/pipeline/decide"
	"github.com/lettrage/lettrage/pipeline/state"
)

var incrementalN = flag.Int("incremental.n", 60, "delivery schedules TestIncrementalEqualsFull checks")

// TestIncrementalEqualsFull is the property of issue 18: over the same
// delivery schedule, passes that re-examine the open exceptions only when
// something they depend on changed leave, after every pass, the same
// state store, the same letters in the ledger, the same exceptions.csv and
// the same results as passes that re-examine every open exception and
// rewrite the reports. The schedules are the
// conservation ones (internal/conservation), with more between their
// passes: idle passes, invoices created late, the clock moving past the
// batch entries' wait and past a refused letter's retry delay, and (odd
// seeds) a ledger that refuses the on-account posting of overpayments.
func TestIncrementalEqualsFull(t *testing.T) {
	skipped, examined, unread := 0, 0, 0
	handed := handedLists.Load()
	for i := range *incrementalN {
		seed := uint64(1 + i)
		s := conservation.Generate(seed)
		inc, err := runSteps(s, false)
		for k := range inc {
			if inc[k].itemsUnread {
				unread++
			}
		}
		if err != nil {
			t.Fatalf("seed %d, incremental: %v", seed, err)
		}
		full, err := runSteps(s, true)
		if err != nil {
			t.Fatalf("seed %d, full: %v", seed, err)
		}
		for k := range inc {
			if inc[k].state != full[k].state {
				t.Fatalf("seed %d, pass %d (%s): incremental and full passes differ (incremental examined %d: %s)\n%s",
					seed, k+1, inc[k].step, inc[k].res.Examined, inc[k].res.ExaminedWhy, firstDiff(inc[k].state, full[k].state))
			}
			if inc[k].res.Examined == 0 && inc[k].res.ExaminedWhy == NothingChanged {
				skipped++
				if full[k].res.Examined == 0 {
					continue
				}
			}
			if inc[k].res.Examined > 0 {
				examined++
			}
		}
	}
	t.Logf("%d schedules: incremental passes skipped the re-examination %d times, re-examined open exceptions %d times, left the open items unread %d times",
		*incrementalN, skipped, examined, unread)
	if skipped == 0 || examined == 0 || unread == 0 {
		t.Errorf("the schedules never exercised every side (skipped %d, examined %d, items unread %d)", skipped, examined, unread)
	}
	// The reports were handed what the passes read (handover.go), each
	// list checked against the store's (checkHanded).
	if n := handedLists.Load() - handed; n == 0 || !checkHanded {
		t.Errorf("no pass handed its exceptions to the reports (%d lists, checked %v)", n, checkHanded)
	}
}

// stampingLedger is a postingLedger that stamps its open items
// (connectors.OpenItemsStamper) as the file ledger does, by what changes
// them — the items, the letters written, the letters undone — and counts
// its OpenItems calls.
type stampingLedger struct {
	*postingLedger
	reads int
	// notLasting: the clock decides the items (OpenItemsLasting false).
	notLasting bool
	// rule ends the note (as a ledger's configuration would change it).
	rule string
}

func (l *stampingLedger) OpenItems(ctx context.Context) ([]domain.OpenItem, error) {
	l.reads++
	return l.postingLedger.OpenItems(ctx)
}

func (l *stampingLedger) OpenItemsStamp(context.Context) (string, error) {
	return fmt.Sprintf("%d/%d/%d", len(l.items), l.writes, len(l.undone)), nil
}

func (l *stampingLedger) OpenItemsLasting() bool { return !l.notLasting }

// OpenItemsNote says how many items were read (connectors.OpenItemsNoter).
func (l *stampingLedger) OpenItemsNote() (string, []string) {
	return fmt.Sprintf("%d items read%s", len(l.items), l.rule), []string{"announced"}
}

// stepResult is what one pass of runSteps left.
type stepResult struct {
	step  string
	res   Result
	state string // the store's transactions, the ledger's letters, the result's figures
	// itemsUnread: the pass left the open items unread (itemstamp.go).
	itemsUnread bool
}

// runSteps runs s's passes, with idle passes, late invoices and clock
// jumps between them, through one job over an in-memory store, and
// returns what each pass left.
func runSteps(s *conservation.Schedule, full bool) ([]stepResult, error) {
	ctx := context.Background()
	dir, err := os.MkdirTemp(conservationTmp(), "lettrage-incremental-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	stmts := filepath.Join(dir, "statements")
	for _, d := range []string{stmts, filepath.Join(dir, "out")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	store, err := state.OpenSQLite(":memory:")
	if err != nil {
		return nil, err
	}
	defer store.Close()
	src, err := local.New("statements", local.Config{Dir: stmts})
	if err != nil {
		return nil, err
	}
	// Every third invoice is created late: half after the first pass,
	// the rest before the last idle passes.
	var now, late []domain.OpenItem
	for i, it := range s.Items {
		if i%3 == 1 {
			late = append(late, it)
		} else {
			now = append(now, it)
		}
	}
	led := newPostingLedger(now...)
	matching := conservationMatching(s)
	if s.Seed%2 == 1 {
		matching.Overpayment = matcher.PolicyOnAccount
		led.refuse = domain.OnAccount
	}
	var clock time.Time
	// The incremental passes' ledger says cheaply whether its items may
	// have changed (itemstamp.go): they are left unread when not.
	var ledger connectors.Ledger = led
	if !full {
		ledger = &stampingLedger{postingLedger: led}
	}
	job := &Job{Name: "inc", Source: src, Ledger: ledger, Store: store, Matching: matching, ConfigHash: "h",
		Parse: camt.DefaultOptions(), ReportDir: filepath.Join(dir, "out"), FullExamination: full,
		Log: slog.New(slog.DiscardHandler), Now: func() time.Time { return clock }}
	var out []stepResult
	pass := func(step string) error {
		reads := 0
		if sl, ok := ledger.(*stampingLedger); ok {
			reads = sl.reads
		}
		res, err := job.Run(ctx)
		if err != nil {
			return fmt.Errorf("%s: %w", step, err)
		}
		st, err := snapshot(ctx, store, led, res)
		if err != nil {
			return err
		}
		csv, err := os.ReadFile(filepath.Join(dir, "out", "exceptions.csv"))
		unread := false
		if sl, ok := ledger.(*stampingLedger); ok {
			unread = sl.reads == reads
		}
		out = append(out, stepResult{step: step, res: res, state: st + "\nexceptions.csv:\n" + string(csv), itemsUnread: unread})
		return err
	}
	for r := range s.Runs {
		for _, f := range s.FilesOfRun(r) {
			if err := os.WriteFile(filepath.Join(stmts, f.Name), f.Data, 0o644); err != nil {
				return nil, err
			}
		}
		clock = s.Clock[r]
		if err := pass(fmt.Sprintf("schedule pass %d", r+1)); err != nil {
			return nil, err
		}
		clock = clock.Add(time.Minute)
		if err := pass("idle"); err != nil {
			return nil, err
		}
		if r == 0 {
			led.items = append(led.items, late[:len(late)/2]...)
			if err := pass("half the late invoices created"); err != nil {
				return nil, err
			}
		}
	}
	led.items = append(led.items, late[len(late)/2:]...)
	steps := []struct {
		name    string
		advance time.Duration
	}{{"the other late invoices created", time.Minute}, {"idle", time.Minute}, {"idle", time.Minute},
		{"past the batch wait", job.batchWait() + time.Hour}, {"idle", time.Minute},
		{"past the retry delay", decide.RejectedRetryAfter + time.Hour}, {"idle", time.Minute}, {"idle", time.Minute}}
	for _, st := range steps {
		clock = clock.Add(st.advance)
		if err := pass(st.name); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// snapshot renders what a pass left, one line per fact, sorted: every
// stored transaction (state and decision), every letter the ledger holds,
// and the result's decision figures (not how much was examined).
func snapshot(ctx context.Context, store *state.Store, led *postingLedger, res Result) (string, error) {
	all, err := store.Transactions(ctx, "inc", decide.TxOpen, decide.TxLettered, decide.TxIgnored, decide.TxHeld, decide.TxWaiting, decide.TxCovered)
	if err != nil {
		return "", err
	}
	var lines []string
	for _, st := range all {
		d, _ := json.Marshal(st.Decision)
		lines = append(lines, fmt.Sprintf("tx %s %s %s", st.Tx.Key, st.State, d))
	}
	for key, kd := range led.applied {
		d, _ := json.Marshal(kd.Decision)
		lines = append(lines, fmt.Sprintf("letter %s %s %s", key, kd.Tx.Key, d))
	}
	sort.Strings(lines)
	lines = append(lines, fmt.Sprintf("result outcomes=%v applied=%d rematched=%d exceptions=%d cash=%v",
		res.Outcomes, res.Applied, res.Rematched, res.Exceptions, res.UnmatchedCash))
	return strings.Join(lines, "\n"), nil
}

// firstDiff shows the first line where a and b differ.
func firstDiff(a, b string) string {
	la, lb := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < len(la) || i < len(lb); i++ {
		var x, y string
		if i < len(la) {
			x = la[i]
		}
		if i < len(lb) {
			y = lb[i]
		}
		if x != y {
			return "incremental: " + x + "\nfull:        " + y
		}
	}
	return ""
}
