package pipeline

import (
	"context"
	"encoding/csv"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lettrage/lettrage/connectors"
	"github.com/lettrage/lettrage/connectors/camt"
	"github.com/lettrage/lettrage/connectors/source/local"
	"github.com/lettrage/lettrage/domain"
	"github.com/lettrage/lettrage/internal/conservation"
	"github.com/lettrage/lettrage/matcher"
	"github.com/lettrage/lettrage/pipeline/decide"
	"github.com/lettrage/lettrage/pipeline/report"
	"github.com/lettrage/lettrage/pipeline/state"
)

var (
	conservationN = flag.Int("conservation.n", 1000,
		"random delivery schedules TestConservation checks (each through Job.Run and MatchFiles)")
	conservationSeed = flag.Uint64("conservation.seed", 1,
		"seed of the first schedule of TestConservation (0: from the clock); schedule i has seed+i")
)

// TestConservation is the conservation property of issue 12: for random
// bank activity split into camt.052/053/054 deliveries — duplicated,
// overlapping, reordered, spread over several passes — every booked credit
// is accounted for exactly once after the last pass: lettered (allocated,
// written off, excess reported), reported, or set aside with a reason; the
// unmatched cash is the reported total and no item is settled beyond its
// residual. Each schedule runs through Job.Run (passes over one in-memory
// state store, on the schedule's clock) and through MatchFiles (one
// folder holding every delivery). A failure prints the seed and the
// schedule; -conservation.seed=S -conservation.n=1 runs it alone.
func TestConservation(t *testing.T) {
	base := *conservationSeed
	if base == 0 {
		base = uint64(time.Now().UnixNano())
	}
	n := *conservationN
	t.Logf("conservation: %d schedules, seeds %d… (-conservation.seed=%d -conservation.n=%d)", n, base, base, n)
	var failures atomic.Int32
	var mu sync.Mutex
	tally := map[string]int{} // schedules by feature and by outcome
	seeds := make(chan uint64)
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for seed := range seeds {
				s := conservation.Generate(seed)
				seen := map[string]bool{}
				for _, f := range s.Features() {
					seen[f] = true
				}
				for _, run := range []struct {
					name string
					fn   func(*conservation.Schedule, map[string]bool) error
				}{{"job", conserveJob}, {"match", conserveMatch}} {
					if err := run.fn(s, seen); err != nil {
						failures.Add(1)
						t.Errorf("%s: conservation fails on seed %d (go test ./pipeline -run 'TestConservation$' -conservation.seed=%d -conservation.n=1):\n%v\n%s",
							run.name, seed, seed, err, s)
					}
				}
				mu.Lock()
				for f := range seen {
					tally[f]++
				}
				mu.Unlock()
			}
		}()
	}
	for i := 0; i < n && failures.Load() < 3; i++ {
		seeds <- base + uint64(i)
	}
	close(seeds)
	wg.Wait()
	var lines []string
	for f, c := range tally {
		lines = append(lines, fmt.Sprintf("%6d  %s", c, f))
	}
	sort.Strings(lines)
	t.Logf("schedules by what they exercise (features; job: outcomes after the last pass):\n%s", strings.Join(lines, "\n"))
}

// noteOutcomes adds what the passes left to seen: states, reasons, excess
// reported and write-offs.
func noteOutcomes(seen map[string]bool, prefix string, o conservation.Observed, writeOffs int) {
	for _, t := range o.Txs {
		k := prefix + t.State
		if t.Reason != "" {
			k += " " + t.Reason
		}
		seen[k] = true
		if t.State == conservation.Lettered && t.Reported {
			seen[prefix+"lettered with an excess reported"] = true
		}
	}
	if writeOffs > 0 {
		seen[prefix+"allocation with a write-off"] = true
	}
}

// conservationTmp is where the schedules' folders go: /dev/shm when there
// is one (the reports and archives fsync; memory makes that free), else
// the temporary directory.
func conservationTmp() string {
	if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
		return "/dev/shm"
	}
	return ""
}

// conservationMatching is the matching configuration of the schedules:
// the defaults, with a write-off tolerance.
func conservationMatching(s *conservation.Schedule) matcher.Config {
	c := matcher.DefaultConfig()
	for _, ccy := range []string{"EUR", "CHF"} {
		c.Tolerances = append(c.Tolerances, matcher.Tolerance{Currency: ccy, Absolute: s.Tolerance, Percent: domain.MustAmount("1")})
	}
	return c
}

// conserveJob runs the schedule's passes through Job.Run over an
// in-memory state store and a postingLedger, and applies the oracle.
func conserveJob(s *conservation.Schedule, seen map[string]bool) error {
	ctx := context.Background()
	dir, err := os.MkdirTemp(conservationTmp(), "lettrage-conservation-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	stmts := filepath.Join(dir, "statements")
	cfg := local.Config{Dir: stmts}
	if s.Archive {
		cfg.ArchiveDir = filepath.Join(dir, "archive")
	}
	for _, d := range []string{stmts, filepath.Join(dir, "out")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	store, err := state.OpenSQLite(":memory:")
	if err != nil {
		return err
	}
	defer store.Close()
	src, err := local.New("statements", cfg)
	if err != nil {
		return err
	}
	led := newPostingLedger(s.Items...)
	var clock time.Time
	job := &Job{Name: "cons", Source: src, Ledger: led, Store: store, Matching: conservationMatching(s),
		Parse: camt.DefaultOptions(), ReportDir: filepath.Join(dir, "out"),
		Log: slog.New(slog.DiscardHandler), Now: func() time.Time { return clock }}
	var results []Result
	for r := range s.Runs {
		for _, f := range s.FilesOfRun(r) {
			if err := os.WriteFile(filepath.Join(stmts, f.Name), f.Data, 0o644); err != nil {
				return err
			}
		}
		clock = s.Clock[r]
		res, err := job.Run(ctx)
		if err != nil {
			return fmt.Errorf("pass %d: %w", r+1, err)
		}
		results = append(results, res)
	}
	o, err := observeStore(ctx, store, "cons", led, results)
	if err != nil {
		return err
	}
	writeOffs := 0
	for _, kd := range led.applied {
		for _, a := range kd.Decision.Allocations {
			if !a.WriteOff.IsZero() {
				writeOffs++
			}
		}
	}
	noteOutcomes(seen, "job: ", o, writeOffs)
	return conservation.Check(s, o, conservation.JobMode, job.batchWait())
}

// observeStore reads what the passes left: the state store's booked
// credits, the ledger's letters and the passes' results.
func observeStore(ctx context.Context, store *state.Store, job string, led *postingLedger, results []Result) (conservation.Observed, error) {
	o := conservation.Observed{ListsSetAside: true, SetAside: map[string]int{}, Settled: map[string]domain.Amount{}}
	for _, r := range results {
		for reason, sa := range r.SetAside {
			o.SetAside[reason] += sa.Count
		}
		o.Read += r.Transactions
		o.Redelivered += r.Duplicates
	}
	o.UnmatchedCash = results[len(results)-1].UnmatchedCash
	all, err := store.Transactions(ctx, job, decide.TxOpen, decide.TxLettered, decide.TxIgnored, decide.TxHeld, decide.TxWaiting, decide.TxCovered)
	if err != nil {
		return o, err
	}
	o.Recorded = len(all)
	exc, err := store.Exceptions(ctx, job)
	if err != nil {
		return o, err
	}
	reported := map[string]decide.StoredTx{}
	for _, e := range exc {
		reported[e.Tx.Key] = e
		if !e.Tx.IsLetterable() {
			o.Problems = append(o.Problems, fmt.Sprintf("reported, but not a booked credit: %s %s", e.Tx.Ref, e.Tx.Amount))
		}
	}
	letters := map[string][]connectors.KeyedDecision{}
	for _, kd := range led.applied {
		letters[kd.Tx.Key] = append(letters[kd.Tx.Key], kd)
		for _, a := range kd.Decision.Allocations {
			o.Settled[a.ItemID] = o.Settled[a.ItemID].Add(a.Settles())
		}
	}
	if len(led.reversals) > 0 {
		o.Problems = append(o.Problems, fmt.Sprintf("%d letters reversed: the schedules have no reversals", len(led.reversals)))
	}
	recorded := map[string]bool{}
	for _, st := range all {
		recorded[st.Tx.Key] = true
		if !st.Tx.IsLetterable() {
			if len(letters[st.Tx.Key]) > 0 {
				o.Problems = append(o.Problems, fmt.Sprintf("lettered, but not a booked credit: %s %s", st.Tx.Ref, st.Tx.Amount))
			}
			continue
		}
		t := conservation.Tx{Account: st.Tx.Account, Currency: st.Tx.Currency, Day: state.DateText(st.Tx.BookingDate), Ref: st.Tx.Ref,
			Amount: st.Tx.Amount, Payer: st.Tx.Counterparty.Name, Remittance: report.Remittance(st.Tx), Reason: st.Decision.Reason}
		switch st.State {
		case decide.TxLettered:
			t.State = conservation.Lettered
		case decide.TxOpen, decide.TxHeld:
			t.State = conservation.Exception
		case decide.TxWaiting:
			t.State = conservation.Waiting
		case decide.TxCovered:
			t.State = conservation.Covered
		default:
			t.State = st.State
		}
		var stored domain.Amount
		for _, a := range st.Decision.Allocations {
			stored = stored.Add(a.Amount)
		}
		for _, kd := range letters[st.Tx.Key] {
			t.Letters++
			for _, a := range kd.Decision.Allocations {
				t.Allocated = t.Allocated.Add(a.Amount)
			}
			for _, p := range kd.Decision.Postings {
				t.Allocated = t.Allocated.Add(p.Amount)
			}
		}
		if st.State == decide.TxLettered && !stored.Equal(t.Allocated) {
			o.Problems = append(o.Problems, fmt.Sprintf("%s: the store's decision allocates %s, the ledger %s", st.Tx.Ref, stored, t.Allocated))
		}
		if e, ok := reported[st.Tx.Key]; ok {
			t.Reported, t.Unallocated = true, decide.Unallocated(e)
		}
		o.Txs = append(o.Txs, t)
	}
	for key := range letters {
		if !recorded[key] {
			o.Problems = append(o.Problems, fmt.Sprintf("the ledger letters %s, which the store does not hold", key))
		}
	}
	return o, nil
}

// conserveMatch runs MatchFiles once over a folder holding every delivery
// of the schedule, and applies the oracle to the ledger's letters and
// exceptions.csv.
func conserveMatch(s *conservation.Schedule, _ map[string]bool) error {
	ctx := context.Background()
	dir, err := os.MkdirTemp(conservationTmp(), "lettrage-conservation-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	stmts, out := filepath.Join(dir, "statements"), filepath.Join(dir, "out")
	for _, d := range []string{stmts, out} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	for _, f := range s.Files {
		if err := os.WriteFile(filepath.Join(stmts, f.Name), f.Data, 0o644); err != nil {
			return err
		}
	}
	src, err := local.New("statements", local.Config{Dir: stmts})
	if err != nil {
		return err
	}
	led := newPostingLedger(s.Items...)
	res, err := MatchFiles(ctx, MatchOptions{Name: "cons", Source: src, Ledger: led, Matching: conservationMatching(s),
		Parse: camt.DefaultOptions(), ReportDir: out, Workers: 1, Now: func() time.Time { return s.Clock[0] }})
	if err != nil {
		return err
	}
	o := conservation.Observed{SetAside: map[string]int{}, Settled: map[string]domain.Amount{},
		UnmatchedCash: res.UnmatchedCash, Read: res.Transactions, Redelivered: res.Duplicates}
	for reason, sa := range res.SetAside {
		o.SetAside[reason] = sa.Count
		if reason != decide.ReasonDuplicateDelivery {
			o.Recorded += sa.Count
		}
	}
	for _, n := range res.Outcomes {
		o.Recorded += n
	}
	byRef := map[string]int{} // account|tx_ref → index in o.Txs
	for _, kd := range led.applied {
		t := conservation.Tx{Account: kd.Tx.Account, Currency: kd.Tx.Currency, Day: state.DateText(kd.Tx.BookingDate), Ref: kd.Tx.Ref,
			Amount: kd.Tx.Amount, Payer: kd.Tx.Counterparty.Name, Remittance: report.Remittance(kd.Tx), State: conservation.Lettered, Letters: 1}
		for _, a := range kd.Decision.Allocations {
			t.Allocated = t.Allocated.Add(a.Amount)
			o.Settled[a.ItemID] = o.Settled[a.ItemID].Add(a.Settles())
		}
		if i, ok := byRef[t.Account+"|"+t.Ref]; ok {
			o.Txs[i].Letters++
			o.Txs[i].Allocated = o.Txs[i].Allocated.Add(t.Allocated)
			continue
		}
		byRef[t.Account+"|"+t.Ref] = len(o.Txs)
		o.Txs = append(o.Txs, t)
	}
	rows, err := readExceptionsCSV(filepath.Join(out, "exceptions.csv"))
	if err != nil {
		return err
	}
	for _, r := range rows {
		amount, err1 := domain.ParseAmount(r["amount"])
		unalloc, err2 := domain.ParseAmount(r["unallocated_amount"])
		if err1 != nil || err2 != nil {
			return fmt.Errorf("exceptions.csv: amounts %q, %q", r["amount"], r["unallocated_amount"])
		}
		key := r["account_iban"] + "|" + r["tx_ref"]
		if i, ok := byRef[key]; ok {
			if o.Txs[i].Reported {
				o.Problems = append(o.Problems, "reported twice: "+key)
			}
			o.Txs[i].Reported, o.Txs[i].Unallocated = true, unalloc
			continue
		}
		byRef[key] = len(o.Txs)
		o.Txs = append(o.Txs, conservation.Tx{Account: r["account_iban"], Currency: r["currency"], Day: r["booking_date"], Ref: r["tx_ref"],
			Amount: amount, Payer: r["counterparty_name"], Remittance: r["remittance"], State: conservation.Exception, Reason: r["reason"],
			Reported: true, Unallocated: unalloc})
	}
	return conservation.Check(s, o, conservation.MatchMode, 0)
}

// readExceptionsCSV reads exceptions.csv: one map (column → value) per row.
func readExceptionsCSV(path string) ([]map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	var out []map[string]string
	for _, r := range rows[1:] {
		m := map[string]string{}
		for i, h := range rows[0] {
			m[h] = r[i]
		}
		out = append(out, m)
	}
	return out, nil
}
