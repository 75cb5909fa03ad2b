package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"sort"
	"sync"
	"time"

	"github.com/lettrage/lettrage/connectors"
	"github.com/lettrage/lettrage/connectors/camt"
	"github.com/lettrage/lettrage/connectors/source/compress"
	"github.com/lettrage/lettrage/matcher"
)

// MatchOptions configure MatchFiles, one stateless pass (`lettrage match`).
type MatchOptions struct {
	// Name labels the run in logs and its RunID (default "match"); it also
	// enters the decision keys written to the ledger, as a Job's name does.
	Name   string
	Source connectors.StatementSource
	Ledger connectors.Ledger
	// Items are the open items when the caller has read them already (the
	// `match` command validates them before it writes anything); nil means
	// Ledger.OpenItems.
	Items    []matcher.OpenItem
	Matching matcher.Config
	Parse    camt.Options
	// ReportDir receives exceptions.csv (and the Reports options' files).
	ReportDir    string
	Reports      ReportOptions
	AccountNames map[string]string
	// MaxFileBytes bounds one statement file (0: no limit).
	MaxFileBytes int64
	// Compression bounds .gz and .zip deliveries (zero: defaults).
	Compression compress.Limits
	// OnlyCAMT makes files that do not look like CAMT be skipped silently
	// instead of quarantined.
	OnlyCAMT bool
	// Workers is how many statement files are read at once (0: GOMAXPROCS).
	Workers int
	Log     *slog.Logger
	// Now is the clock (tests set it); nil means time.Now.
	Now func() time.Time
}

// MatchFiles performs one pass of a Job without a state store: it reads
// the open items and every statement of the source, drops files with the
// same content and transactions delivered twice, matches everything once
// and writes the automatic decisions to the ledger and the exceptions
// reports — what Job.Run does on an empty state store, with the same
// results, without recording anything.
//
// Statement files are read in parallel (Workers) and their results taken
// in listing order, so the outcome does not depend on timing. Only the
// compact matcher.Transaction values of each file are kept.
//
// The error is nil when everything went through, wraps ErrFilesSkipped when
// some files were quarantined or skipped (the others went through), wraps
// ErrOpenItems when the open items could not be read (nothing was written)
// and is anything else when the pass failed.
func MatchFiles(ctx context.Context, opt MatchOptions) (res Result, err error) {
	if opt.Name == "" {
		opt.Name = "match"
	}
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	now := opt.Now
	if now == nil {
		now = time.Now
	}
	started := now()
	res.RunID = shortHash(fmt.Sprintf("%s\x00%d", opt.Name, started.UnixNano()))[:12]
	res.Outcomes = map[matcher.Outcome]int{}
	log := opt.Log.With("job", opt.Name, "run_id", res.RunID)

	// 1. Open items.
	items := opt.Items
	if items == nil {
		if items, err = opt.Ledger.OpenItems(ctx); err != nil {
			return res, fmt.Errorf("%w: %w", ErrOpenItems, err)
		}
	}
	log.Info("open items loaded", "component", "ledger", "items", len(items))

	// 2–3. Statements, read in parallel, taken in listing order.
	refs, err := opt.Source.List(ctx)
	if err != nil {
		return res, fmt.Errorf("listing statements: %w", err)
	}
	res.Files = len(refs)
	staged, err := readAll(ctx, opt, refs, log, &res)
	if err != nil {
		return res, err
	}

	// Drop files with the same content and transactions already seen.
	total := 0
	for _, sf := range staged {
		total += len(sf.txs)
	}
	fresh := make([]matcher.Transaction, 0, total)
	freshFile := make([]string, 0, total) // the hash of the file each fresh transaction came from
	seenKey := make(map[string]struct{}, total)
	seenHash := map[string]bool{}
	for i := range staged {
		sf := &staged[i]
		if seenHash[sf.hash] {
			res.FilesDuplicate++
			log.Info("statement already processed (same content)", "component", "source", "file", sf.ref.Path, "sha256", sf.hash[:16])
			sf.txs = nil
			continue
		}
		seenHash[sf.hash] = true
		res.FilesProcessed++
		res.Transactions += len(sf.txs)
		for _, tx := range sf.txs {
			if _, dup := seenKey[tx.Key]; dup {
				res.Duplicates++
				continue
			}
			seenKey[tx.Key] = struct{}{}
			fresh = append(fresh, tx)
			freshFile = append(freshFile, sf.hash)
		}
		sf.txs = nil // the copy in fresh is the only one kept
	}
	seenKey = nil

	// 4. Match, with nothing learned before (the state is empty).
	in := matcher.Input{Transactions: fresh, Items: items, Config: opt.Matching, Memory: matcher.Memory{
		IBANCustomers: map[string][]string{}, NameCustomers: map[string][]string{},
		Lettered: map[string][]matcher.Allocation{}, LetteredRefs: map[string]string{},
	}}
	out := matcher.Match(in)
	if len(out.Decisions) != len(fresh) {
		return res, fmt.Errorf("matching: got %d decisions for %d transactions", len(out.Decisions), len(fresh))
	}
	decs := out.Decisions
	out = matcher.Output{}

	// 5. What Job.Run would commit: a reversal finds no letter to undo in
	// an empty state, so it is shown as a suggestion.
	_, canUnletter := opt.Ledger.(connectors.Unletterer)
	var pending []int // indexes of automatic decisions
	for i := range decs {
		d := &decs[i]
		res.Outcomes[d.Outcome]++
		switch {
		case d.Outcome == matcher.Auto:
			pending = append(pending, i)
		case d.Outcome == matcher.Unletter && d.UnletterKey != "":
			why := "the payment is not lettered"
			if !canUnletter {
				why = ErrCannotUnletter.Error() + ": reverse it in the ERP"
			}
			d.Outcome, d.Reason = matcher.Suggested, "reversal_not_undone"
			d.Explanation = d.Explanation + "; " + why
		}
	}
	log.Info("decisions made", "component", "state", "decisions", len(decs), "new_transactions", len(fresh))

	// 6. Write back, one batch per statement file, in the order of
	// Store.Pending.
	decidedAt := now().UTC()
	keyOf := func(i int) string { return DecisionKey(opt.Name, fresh[i].Key, 0) }
	sort.SliceStable(pending, func(a, b int) bool {
		i, j := pending[a], pending[b]
		x, y := &fresh[i], &fresh[j]
		switch {
		case freshFile[i] != freshFile[j]:
			return freshFile[i] < freshFile[j]
		case x.Account != y.Account:
			return x.Account < y.Account
		case !x.BookingDate.Equal(y.BookingDate):
			return x.BookingDate.Before(y.BookingDate)
		case x.Ref != y.Ref:
			return x.Ref < y.Ref
		}
		return keyOf(i) < keyOf(j)
	})
	n, refused, err := applyOneShot(ctx, opt, log, items, fresh, freshFile, decs, pending, decidedAt)
	res.Applied += n
	if err != nil {
		return res, err
	}

	// 7. Exceptions reports, ordered as Store.Exceptions orders them.
	exc := oneShotExceptions(fresh, freshFile, decs, refused)
	if err := writeReportFiles(opt.ReportDir, opt.Reports, exc, func(account string) string {
		if n := opt.AccountNames[account]; n != "" {
			return n
		}
		return accountSuffix(account)
	}); err != nil {
		return res, err
	}
	if sink, ok := opt.Ledger.(connectors.ExceptionSink); ok {
		list := make([]connectors.Exception, len(exc))
		for i, st := range exc {
			list[i] = connectors.Exception{Tx: st.Tx, Decision: st.Decision}
		}
		if err := sink.RecordExceptions(ctx, list); err != nil {
			rej, only := connectors.Rejections(err)
			if !only {
				return res, fmt.Errorf("recording exceptions in the ledger: %w", err)
			}
			for _, r := range rej {
				log.Warn("the ledger refused to record an exception", "component", "ledger", "tx", r.Key, "reason", r.Reason)
			}
		}
	}
	res.Exceptions = len(exc)
	res.UnmatchedCash = unmatchedCash(exc)

	// 8. Only now are the files filed away.
	for _, sf := range staged {
		if err := opt.Source.Archive(ctx, sf.ref); err != nil {
			log.Error("archiving statement", "component", "source", "file", sf.ref.Path, "err", err)
		}
	}
	log.Info("run finished", "files", res.Files, "transactions", res.Transactions,
		"lettered", res.Outcomes[matcher.Auto], "exceptions", res.Exceptions, "quarantined", res.FilesQuarantined)
	if n := res.FilesQuarantined + res.FilesSkipped; n > 0 {
		return res, fmt.Errorf("running job %q: %d of %d files: %w", opt.Name, n, res.Files, ErrFilesSkipped)
	}
	return res, nil
}

// readAll reads the statement files with opt.Workers readers and takes
// their results in listing order: files that are not CAMT are counted,
// unreadable ones quarantined, unavailable ones skipped, as Job.Run does.
// It returns the files read.
func readAll(ctx context.Context, opt MatchOptions, refs []connectors.StatementRef, log *slog.Logger, res *Result) ([]stagedFile, error) {
	workers := opt.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	type result struct {
		sf   stagedFile
		err  error
		logs *logRecorder // what reading the file logged, replayed in order
		done chan struct{}
	}
	results := make([]result, len(refs))
	for i := range results {
		results[i].done = make(chan struct{})
	}
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(workers, max(len(refs), 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				r := &results[i]
				r.logs = newLogRecorder(opt.Log.Handler())
				j := &Job{Name: opt.Name, Source: opt.Source, Parse: opt.Parse, MaxFileBytes: opt.MaxFileBytes,
					Compression: opt.Compression, OnlyCAMT: opt.OnlyCAMT, Log: slog.New(r.logs)}
				r.sf, r.err = j.readFile(rctx, refs[i])
				close(r.done)
			}
		}()
	}
	go func() {
		defer close(next)
		for i := range refs {
			select {
			case next <- i:
			case <-rctx.Done():
				return
			}
		}
	}()
	defer wg.Wait()

	staged := make([]stagedFile, 0, len(refs))
	for i, ref := range refs {
		r := &results[i]
		select {
		case <-r.done:
		case <-ctx.Done():
			return nil, fmt.Errorf("stopping before %q: %w", ref.Path, ctx.Err())
		}
		r.logs.replay(ctx)
		sf, err := r.sf, r.err
		r.sf = stagedFile{}
		switch {
		case errors.Is(err, errNotCAMT) && opt.OnlyCAMT:
			res.FilesNotCAMT++
			log.Debug("not a CAMT statement, skipped", "file", ref.Path)
			continue
		case err != nil && ctx.Err() != nil:
			return nil, fmt.Errorf("stopping while reading %q: %w", ref.Path, ctx.Err())
		case errors.Is(err, connectors.ErrUnavailable):
			res.FilesSkipped++
			res.Problems = append(res.Problems, FileProblem{Path: ref.Path, Err: err})
			log.Warn("statement skipped, source unavailable; retried next run", "component", "source", "file", ref.Path, "err", err)
			continue
		case err != nil:
			res.FilesQuarantined++
			res.Problems = append(res.Problems, FileProblem{Path: ref.Path, Err: err})
			log.Error("statement quarantined", "component", "source", "file", ref.Path, "err", err)
			if qerr := opt.Source.Quarantine(ctx, ref, err); qerr != nil {
				log.Error("quarantining statement", "file", ref.Path, "err", qerr)
			}
			continue
		}
		staged = append(staged, sf)
	}
	return staged, nil
}

// applyOneShot writes the automatic decisions pending (indexes into decs,
// in write-back order) to the ledger, one batch per statement file, as
// Job.apply does. It returns how many were written and the ledger's
// refusals (decision index → the exception it becomes).
func applyOneShot(ctx context.Context, opt MatchOptions, log *slog.Logger, items []matcher.OpenItem,
	txs []matcher.Transaction, txFile []string, decs []matcher.Decision, pending []int, at time.Time,
) (int, map[int]refusal, error) {
	if len(pending) == 0 {
		return 0, nil, nil
	}
	// What Job.Run commits is written back even when ctx is cancelled.
	ctx = context.WithoutCancel(ctx)
	itemAt := make(map[string]int, len(items))
	for i := range items {
		itemAt[items[i].ID] = i
	}
	refused := map[int]refusal{}
	applied := 0
	for start := 0; start < len(pending); {
		end := start
		for end < len(pending) && txFile[pending[end]] == txFile[pending[start]] {
			end++
		}
		group := pending[start:end]
		start = end
		keys := make([]string, len(group))
		for k, i := range group {
			keys[k] = DecisionKey(opt.Name, txs[i].Key, 0)
		}
		have, err := opt.Ledger.Applied(ctx, keys)
		if err != nil {
			return applied, refused, fmt.Errorf("checking pending decisions in the ledger: %w", err)
		}
		batch := make([]connectors.KeyedDecision, 0, len(group))
		byKey := make(map[string]int, len(group)) // key → index in batch
		batchDec := make([]int, 0, len(group))    // index in batch → index in decs
		for k, i := range group {
			if have[keys[k]] {
				continue
			}
			d := decs[i]
			its := make(map[string]matcher.OpenItem, len(d.Allocations))
			for _, a := range d.Allocations {
				if x, ok := itemAt[a.ItemID]; ok {
					its[a.ItemID] = items[x]
				} else {
					its[a.ItemID] = matcher.OpenItem{} // as Job.Run records an unknown item
				}
			}
			batch = append(batch, connectors.KeyedDecision{Key: keys[k], Tx: txs[i], Decision: d, Items: its, DecidedAt: at})
			byKey[keys[k]] = len(batch) - 1
			batchDec = append(batchDec, i)
		}
		if len(batch) == 0 {
			continue
		}
		err = opt.Ledger.Apply(ctx, batch)
		refusedHere := map[string]bool{}
		if rej, only := connectors.Rejections(err); only {
			for _, r := range rej {
				refusedHere[r.Key] = true
				if b, ok := byKey[r.Key]; ok {
					refused[batchDec[b]] = refusal{decision: rejectedException(batch[b], r), held: r.Partial}
				}
				log.Warn("the ledger refused a decision; the payment is an exception again", "component", "ledger",
					"decision", r.Key, "reason", r.Reason, "partial", r.Partial)
			}
			err = nil
		}
		if err != nil {
			return applied, refused, fmt.Errorf("writing %d decisions back to the ledger: %w", len(batch), err)
		}
		for _, kd := range batch {
			if !refusedHere[kd.Key] {
				applied++
			}
		}
	}
	log.Info("decisions written back", "component", "ledger", "applied", applied)
	return applied, refused, nil
}

// oneShotExceptions lists the transactions left as exceptions, with their
// current decision, in the order of Store.Exceptions (account, booking
// date, tx_ref, key).
func oneShotExceptions(txs []matcher.Transaction, txFile []string, decs []matcher.Decision,
	refused map[int]refusal,
) []StoredTx {
	var exc []StoredTx
	var dates []string
	for i := range decs {
		d := decs[i]
		state := stateOf(d)
		if r, ok := refused[i]; ok {
			d, state = r.decision, txOpen
			if r.held {
				state = txHeld
			}
		} else if !IsException(d) {
			continue
		}
		exc = append(exc, StoredTx{Tx: txs[i], FileHash: txFile[i], State: state, Decision: d})
		dates = append(dates, dateText(txs[i].BookingDate))
	}
	idx := make([]int, len(exc))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool {
		x, y := &exc[idx[a]].Tx, &exc[idx[b]].Tx
		switch {
		case x.Account != y.Account:
			return x.Account < y.Account
		case dates[idx[a]] != dates[idx[b]]:
			return dates[idx[a]] < dates[idx[b]]
		case x.Ref != y.Ref:
			return x.Ref < y.Ref
		}
		return x.Key < y.Key
	})
	sorted := make([]StoredTx, len(exc))
	for k, i := range idx {
		sorted[k] = exc[i]
	}
	return sorted
}

// stateOf is the state SaveCommit gives a new transaction with decision d.
func stateOf(d matcher.Decision) string {
	switch d.Outcome {
	case matcher.Auto:
		return txLettered
	case matcher.Ignored, matcher.Unletter:
		return txIgnored
	}
	return txOpen
}

// refusal is an automatic decision the ledger refused: the exception it
// becomes, and whether the ledger wrote part of it (the payment is held).
type refusal struct {
	decision matcher.Decision
	held     bool
}

// rejectedException is the exception MarkRejected records for a refused
// automatic decision.
func rejectedException(kd connectors.KeyedDecision, r *connectors.RejectedError) matcher.Decision {
	d := kd.Decision
	exc := matcher.Decision{TxKey: d.TxKey, Outcome: matcher.Suggested, Rule: d.Rule, Confidence: d.Confidence,
		Reason: ReasonLedgerRejected, Explanation: "The ledger refused the automatic letter: " + r.Reason + ". It was: " + d.Explanation}
	if r.Partial {
		exc.Reason = ReasonLedgerRejectedPartial
		exc.Explanation = "The ledger refused the automatic letter after writing part of it (check the ledger): " + r.Reason + ". It was: " + d.Explanation
	}
	for _, a := range d.Allocations {
		exc.Candidates = append(exc.Candidates, matcher.Candidate{ItemID: a.ItemID, CustomerID: kd.Items[a.ItemID].CustomerID, Score: d.Confidence})
	}
	return exc
}

// writeReportFiles writes the exceptions reports the options ask for, as
// Job.writeReports does.
func writeReportFiles(dir string, opts ReportOptions, exc []StoredTx, accountName func(string) string) error {
	if err := writeExceptionsCSV(dir, exc); err != nil {
		return err
	}
	if opts.XLSX {
		if err := writeExceptionsXLSX(dir, exc, accountName); err != nil {
			return err
		}
	}
	if opts.FrenchCSV {
		if err := writeExceptionsFrenchCSV(dir, exc); err != nil {
			return err
		}
	}
	return nil
}

// logRecorder is a slog.Handler that keeps the records of one file's
// reading, to be handed to the real handler in listing order.
type logRecorder struct {
	target  slog.Handler
	entries *[]loggedRecord
	mu      *sync.Mutex
}

type loggedRecord struct {
	h slog.Handler
	r slog.Record
}

func newLogRecorder(target slog.Handler) *logRecorder {
	return &logRecorder{target: target, entries: new([]loggedRecord), mu: new(sync.Mutex)}
}

func (l *logRecorder) Enabled(ctx context.Context, level slog.Level) bool {
	return l.target.Enabled(ctx, level)
}

func (l *logRecorder) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	*l.entries = append(*l.entries, loggedRecord{h: l.target, r: r.Clone()})
	l.mu.Unlock()
	return nil
}

func (l *logRecorder) WithAttrs(as []slog.Attr) slog.Handler {
	return &logRecorder{target: l.target.WithAttrs(as), entries: l.entries, mu: l.mu}
}

func (l *logRecorder) WithGroup(name string) slog.Handler {
	return &logRecorder{target: l.target.WithGroup(name), entries: l.entries, mu: l.mu}
}

// replay hands the recorded records to their handlers, in order.
func (l *logRecorder) replay(ctx context.Context) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, e := range *l.entries {
		_ = e.h.Handle(ctx, e.r)
	}
	*l.entries = nil
}
