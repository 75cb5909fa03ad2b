package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lettrage/lettrage/domain"
	"github.com/lettrage/lettrage/internal/conservation"
	"github.com/lettrage/lettrage/pipeline/report"
	"github.com/lettrage/lettrage/pipeline/state"
)

var (
	conservationN = flag.Int("conservation.n", 1000,
		"schedules of the conservation property (pipeline); TestConservationOnce runs one in 20 of them through the binary")
	conservationSeed = flag.Uint64("conservation.seed", 1,
		"seed of the first conservation schedule (0: from the clock)")
)

// TestConservationOnce is the conservation property of issue 12 end to
// end: the schedules of pipeline.TestConservation with seeds seed, seed+20,
// seed+40… (one in 20: 50 by default), each through passes of `lettrage
// once` (SQLite state, file ledger), on the real clock (a batch's details
// may still come: a batch entry without them waits). The oracle reads the
// journal (matches.csv), exceptions.csv, the summaries and, for what is
// set aside (neither lettered nor reported), the state store.
func TestConservationOnce(t *testing.T) {
	base := *conservationSeed
	if base == 0 {
		base = uint64(time.Now().UnixNano())
	}
	n := (*conservationN + 19) / 20
	t.Logf("conservation end to end: %d schedules, seeds %d, %d… (-conservation.seed=%d -conservation.n=%d)",
		n, base, base+20, base, *conservationN)
	tmp := ""
	if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
		tmp = "/dev/shm" // the journal, the state and the reports fsync
	}
	var failures atomic.Int32
	seeds := make(chan uint64)
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for seed := range seeds {
				s := conservation.Generate(seed)
				if err := conserveOnce(s, tmp); err != nil {
					failures.Add(1)
					t.Errorf("once: conservation fails on seed %d (go test ./cmd/lettrage -run 'TestConservationOnce$' -conservation.seed=%d -conservation.n=1):\n%v\n%s",
						seed, seed, err, s)
				}
			}
		}()
	}
	for i := 0; i < n && failures.Load() < 3; i++ {
		seeds <- base + uint64(20*i)
	}
	close(seeds)
	wg.Wait()
}

const conservationConfig = `log: {level: warn, format: text}
http: {listen: ""}
state:
  driver: sqlite
  sqlite: {path: out/state.db}
jobs:
  - name: cons
    schedule: "@every 15m"
    source:
      type: local
      local: {dir: statements, pattern: "*.xml", archive_dir: "%s", quarantine_dir: ""}
    ledger:
      type: file
      file: {open_items: open_items.csv, journal: out/matches.csv}
    reports: {dir: out, xlsx: false}
    matching:
      tolerances:
        - {currency: EUR, absolute: "%[2]s", percent: "1"}
        - {currency: CHF, absolute: "%[2]s", percent: "1"}
`

// conserveOnce runs the schedule's passes through the binary and applies
// the oracle.
func conserveOnce(s *conservation.Schedule, tmp string) error {
	dir, err := os.MkdirTemp(tmp, "lettrage-conservation-once-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	stmts := filepath.Join(dir, "statements")
	if err := os.MkdirAll(stmts, 0o755); err != nil {
		return err
	}
	archive := ""
	if s.Archive {
		archive = "archive"
	}
	cfg := filepath.Join(dir, "lettrage.yaml")
	if err := os.WriteFile(cfg, fmt.Appendf(nil, conservationConfig, archive, s.Tolerance), 0o644); err != nil {
		return err
	}
	var items bytes.Buffer
	w := csv.NewWriter(&items)
	_ = w.Write([]string{"id", "customer_id", "customer_name", "document_number", "issue_date", "due_date", "currency",
		"amount", "residual", "payment_reference", "customer_iban"})
	for _, it := range s.Items {
		_ = w.Write([]string{it.ID, it.CustomerID, it.CustomerName, it.DocumentNumber, it.IssueDate.Format("2006-01-02"),
			it.DueDate.Format("2006-01-02"), it.Currency, it.Amount.String(), it.Residual.String(), it.PaymentReference, ""})
	}
	w.Flush()
	if err := os.WriteFile(filepath.Join(dir, "open_items.csv"), items.Bytes(), 0o644); err != nil {
		return err
	}

	o := conservation.Observed{ListsSetAside: true, SetAside: map[string]int{}, Settled: map[string]domain.Amount{}}
	for r := range s.Runs {
		for _, f := range s.FilesOfRun(r) {
			if err := os.WriteFile(filepath.Join(stmts, f.Name), f.Data, 0o644); err != nil {
				return err
			}
		}
		cmd := exec.Command(binary, "once", "-c", cfg)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("pass %d: once: %v\n%s%s", r+1, err, out.String(), errb.String())
		}
		if err := readSummary(out.String(), &o, r == s.Runs-1); err != nil {
			return fmt.Errorf("pass %d: %v\n%s", r+1, err, out.String())
		}
	}

	// The journal: one decision key per letter, its rows the allocations.
	out := filepath.Join(dir, "out")
	byRef := map[string]int{} // account|tx_ref → index in o.Txs
	if _, err := os.Stat(filepath.Join(out, "matches.csv")); err == nil {
		rows, err := readRows(filepath.Join(out, "matches.csv"))
		if err != nil {
			return err
		}
		keys := map[string]bool{}
		for _, r := range rows {
			amount, err1 := domain.ParseAmount(r["tx_amount"])
			alloc, err2 := domain.ParseAmount(r["allocated_amount"])
			wo, err3 := domain.ParseAmount(r["writeoff_amount"])
			if err := errors.Join(err1, err2, err3); err != nil {
				return fmt.Errorf("matches.csv: %v", err)
			}
			key := r["account_iban"] + "|" + r["tx_ref"]
			i, ok := byRef[key]
			if !ok {
				i = len(o.Txs)
				byRef[key] = i
				o.Txs = append(o.Txs, conservation.Tx{Account: r["account_iban"], Currency: r["currency"], Day: r["booking_date"],
					Ref: r["tx_ref"], Amount: amount, Payer: r["counterparty_name"], State: conservation.Lettered})
			}
			if !keys[r["decision_key"]] {
				keys[r["decision_key"]] = true
				o.Txs[i].Letters++
			}
			o.Txs[i].Allocated = o.Txs[i].Allocated.Add(alloc)
			if r["open_item_id"] != "" {
				o.Settled[r["open_item_id"]] = o.Settled[r["open_item_id"]].Add(alloc).Add(wo)
			}
		}
	}
	rows, err := readRows(filepath.Join(out, "exceptions.csv"))
	if err != nil {
		return err
	}
	for _, r := range rows {
		amount, err1 := domain.ParseAmount(r["amount"])
		unalloc, err2 := domain.ParseAmount(r["unallocated_amount"])
		if err := errors.Join(err1, err2); err != nil {
			return fmt.Errorf("exceptions.csv: %v", err)
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
		o.Txs = append(o.Txs, conservation.Tx{Account: r["account_iban"], Currency: r["currency"], Day: r["booking_date"],
			Ref: r["tx_ref"], Amount: amount, Payer: r["counterparty_name"], Remittance: r["remittance"],
			State: conservation.Exception, Reason: r["reason"], Reported: true, Unallocated: unalloc})
	}

	// What neither shows: set aside, in the state store.
	store, err := state.OpenSQLite(filepath.Join(out, "state.db"))
	if err != nil {
		return err
	}
	defer store.Close()
	ctx := context.Background()
	for _, state := range []string{"waiting", "covered"} {
		txs, err := store.Transactions(ctx, "cons", state)
		if err != nil {
			return err
		}
		for _, st := range txs {
			if _, ok := byRef[st.Tx.Account+"|"+st.Tx.Ref]; ok {
				o.Problems = append(o.Problems, fmt.Sprintf("%s %s, but in the journal or the report", state, st.Tx.Ref))
			}
			o.Txs = append(o.Txs, conservation.Tx{Account: st.Tx.Account, Currency: st.Tx.Currency,
				Day: st.Tx.BookingDate.Format("2006-01-02"), Ref: st.Tx.Ref, Amount: st.Tx.Amount, Payer: st.Tx.Counterparty.Name,
				Remittance: report.Remittance(st.Tx), State: state, Reason: st.Decision.Reason})
		}
	}
	stats, err := store.Stats(ctx, "cons")
	if err != nil {
		return err
	}
	for _, n := range stats {
		o.Recorded += n
	}
	return conservation.Check(s, o, conservation.OnceMode, 0)
}

var (
	summaryRead      = regexp.MustCompile(`transactions\s+(\d+) read, (\d+) delivered again`)
	summaryCovered   = regexp.MustCompile(`(\d+) batch entries covered by their details`)
	summaryWhole     = regexp.MustCompile(`(\d+) details of batch entries lettered whole`)
	summaryUnmatched = regexp.MustCompile(`unmatched cash (.*)`)
)

// readSummary adds what a pass's summary says to o: transactions read and
// delivered again, set aside, and (last pass) the unmatched cash.
func readSummary(out string, o *conservation.Observed, last bool) error {
	m := summaryRead.FindStringSubmatch(out)
	if m == nil {
		return errors.New("no transactions line in the summary")
	}
	read, _ := strconv.Atoi(m[1])
	again, _ := strconv.Atoi(m[2])
	o.Read += read
	o.Redelivered += again
	for re, reason := range map[*regexp.Regexp]string{summaryCovered: conservation.ReasonCoveredByDetails, summaryWhole: conservation.ReasonDetailsOfLettered} {
		if m := re.FindStringSubmatch(out); m != nil {
			n, _ := strconv.Atoi(m[1])
			o.SetAside[reason] += n
		}
	}
	if last {
		o.UnmatchedCash = map[string]domain.Amount{}
		if m := summaryUnmatched.FindStringSubmatch(out); m != nil {
			for _, part := range strings.Split(strings.TrimSpace(m[1]), ", ") {
				amount, ccy, ok := strings.Cut(part, " ")
				a, err := domain.ParseAmount(amount)
				if !ok || err != nil {
					return fmt.Errorf("unmatched cash %q", m[1])
				}
				o.UnmatchedCash[ccy] = a
			}
		}
	}
	return nil
}

// readRows reads a CSV file with a header: one map (column → value) per row.
func readRows(path string) ([]map[string]string, error) {
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
