package pipeline

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"sort"
	"sync"
	"time"

	"github.com/lettrage/lettrage/connectors"
	"github.com/lettrage/lettrage/connectors/camt"
	"github.com/lettrage/lettrage/connectors/source/compress"
	"github.com/lettrage/lettrage/domain"
	"github.com/lettrage/lettrage/matcher"
)

// MatchOptions configure MatchFiles, one stateless pass (`lettrage match`).
type MatchOptions struct {
	// Name labels the run in logs and its RunID (default "match"); it also
	// enters the decision keys written to the ledger, as a Job's name does.
	Name   string
	Source connectors.StatementSource
	Ledger connectors.Ledger
	// OpenItems reads the open items (nil: Ledger.OpenItems). It runs while
	// the statements are being read; nothing is written or filed away
	// before it returns, and nothing at all when it fails (the `match`
	// command validates the file and only then creates its output folder).
	OpenItems func(context.Context) ([]domain.OpenItem, error)
	Matching  matcher.Config
	Parse     camt.Options
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

// matchBytesPerInputByte sizes MatchMemoryLimit: a MatchFiles pass keeps
// about 2.7 bytes of heap live per byte of input at its peak (1,000,000
// transactions × 1,000,000 open items: 745 MB of statements and 125 MB of
// open items, 2.35 GB live).
const matchBytesPerInputByte = 4

// MatchMemoryLimit is a soft memory limit (runtime/debug.SetMemoryLimit)
// for a MatchFiles pass over inputBytes of statements and open items: 4
// bytes per byte of input, at least 3 GiB. Left alone, the collector lets
// the heap grow to twice what is live before it runs; under this limit it
// runs a little more often instead (1,000,000 × 1,000,000: peak resident
// set 4.4 GB → 3.3–3.5 GB, CPU time unchanged within the noise). A pass
// that keeps more than the limit live is not stopped: the collector only
// works harder.
func MatchMemoryLimit(inputBytes int64) int64 {
	return max(3<<30, inputBytes*matchBytesPerInputByte)
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
// compact domain.Transaction values of each file are kept.
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
	res.Outcomes = map[domain.Outcome]int{}
	log := opt.Log.With("job", opt.Name, "run_id", res.RunID)

	// 1–3. The open items and the statements are read at the same time:
	// the statements in parallel, their results taken in listing order
	// once the open items are in.
	readItems := opt.OpenItems
	if readItems == nil {
		readItems = opt.Ledger.OpenItems
	}
	rd := startReading(ctx, opt)
	defer rd.stop()
	items, err := readItems(ctx)
	if err != nil {
		return res, openItemsError(err)
	}
	log.Info("open items loaded", "component", "ledger", "items", len(items))
	if opt.OpenItems == nil {
		res.noteOpenItems(opt.Ledger, log)
	}
	refs, err := rd.listed()
	if err != nil {
		return res, fmt.Errorf("listing statements: %w", err)
	}
	res.Files = len(refs)
	// Files with the same content and transactions already seen are
	// dropped as the files come in (as Job.Run drops them).
	dd := newDeduper()
	staged, err := rd.collect(ctx, log, &res, func(sf *stagedFile) { dd.add(sf, log, &res) })
	if err != nil {
		return res, err
	}
	rd.stop()
	fresh, freshFile := dd.transactions(&res)
	hashes := dd.hashes

	// 4. Match, with nothing learned before (the state is empty).
	in := matcher.Input{Transactions: fresh, Items: items, Config: opt.Matching, Memory: matcher.Memory{
		IBANCustomers: map[string][]string{}, NameCustomers: map[string][]string{},
		Lettered: map[string][]domain.Allocation{}, LetteredRefs: map[string]string{},
	}}
	// The item lookup of the write-back is built meanwhile, on a core the
	// matcher's sequential steps leave idle.
	itemAtCh := make(chan map[string]int, 1)
	go func() {
		m := make(map[string]int, len(items))
		for i := range items {
			m[items[i].ID] = i
		}
		itemAtCh <- m
	}()
	out := matcher.Match(in)
	itemAt := <-itemAtCh
	if len(out.Decisions) != len(fresh) {
		return res, fmt.Errorf("matching: got %d decisions for %d transactions", len(out.Decisions), len(fresh))
	}
	decs := out.Decisions

	// 5. What Job.Run would commit: a reversal finds no letter to undo in
	// an empty state, so it is shown as a suggestion.
	_, canUnletter := opt.Ledger.(connectors.Unletterer)
	var pending []int // indexes of automatic decisions
	for i := range decs {
		d := &decs[i]
		*d = identityVerdict(*d, fresh[i], dd.ids, false, "")
		if d.Reason == ReasonPossibleDuplicate {
			res.PossibleDuplicates++
		}
		res.Outcomes[d.Outcome]++
		if d.Outcome == domain.Ignored {
			if why := ignoredReason(fresh[i], *d); why != "" {
				res.noteIgnored(why, fresh[i])
			}
		}
		switch {
		case d.Outcome == domain.Auto:
			pending = append(pending, i)
		case d.Outcome == domain.Unletter && d.UnletterKey != "":
			why := "the payment is not lettered"
			if !canUnletter {
				why = ErrCannotUnletter.Error() + ": reverse it in the ERP"
			}
			d.Outcome, d.Reason = domain.Suggested, domain.ReasonReversalNotUndone
			d.Explanation = d.Explanation + "; " + why
		}
	}
	log.Info("decisions made", "component", "state", "decisions", len(decs), "new_transactions", len(fresh))

	// 6. Write back, one batch per statement file, in the order of
	// Store.Pending.
	decidedAt := now().UTC()
	order := writeBackOrder(opt.Name, fresh, freshFile, hashes, pending)
	// The exceptions report is made ready while the ledger writes; it is
	// made again if the ledger refuses decisions (they become exceptions).
	type rendered struct {
		exc []StoredTx
		csv []byte
		err error
	}
	early := make(chan rendered, 1)
	go func() {
		exc := oneShotExceptions(fresh, freshFile, hashes, decs, nil)
		b, err := renderExceptionsCSV(exc)
		early <- rendered{exc, b, err}
	}()
	n, refused, err := applyOneShot(ctx, opt, log, items, itemAt, fresh, freshFile, decs, order, decidedAt)
	res.Applied += n
	rep := <-early
	if err != nil {
		return res, err
	}

	// 7. Exceptions reports, ordered as Store.Exceptions orders them.
	if len(refused) > 0 {
		rep.exc = oneShotExceptions(fresh, freshFile, hashes, decs, refused)
		rep.csv, rep.err = renderExceptionsCSV(rep.exc)
	}
	if rep.err != nil {
		return res, rep.err
	}
	exc := rep.exc
	if err := writeReportFiles(opt.ReportDir, opt.Reports, exc, rep.csv, func(account string) string {
		if n := opt.AccountNames[account]; n != "" {
			return n
		}
		return accountSuffix(account)
	}, indexItems(items)); err != nil {
		return res, err
	}
	res.Committed, res.ReportsWritten = true, true
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
				opt.Log.Warn("the ledger refused to record an exception", "component", "ledger", "job", opt.Name,
					"tx", r.Key, "reason", r.Reason)
			}
		}
	}
	res.Exceptions = len(exc)
	res.UnmatchedCash = unmatchedCash(exc)

	// 8. Only now are the files filed away.
	return res, finishPass(ctx, log, opt.Name, opt.Source, staged, res, nil)
}

// fileReader lists the statements and reads them with opt.Workers
// readers, ahead of collect, which takes their results in listing order.
type fileReader struct {
	opt    MatchOptions
	cancel context.CancelFunc
	wg     sync.WaitGroup
	ready  chan struct{} // closed once refs and err are set
	refs   []connectors.StatementRef
	err    error
	files  []readResult
}

type readResult struct {
	sf   stagedFile
	err  error
	logs *logRecorder // what reading the file logged, replayed in order
	done chan struct{}
}

func startReading(ctx context.Context, opt MatchOptions) *fileReader {
	rctx, cancel := context.WithCancel(ctx)
	rd := &fileReader{opt: opt, cancel: cancel, ready: make(chan struct{})}
	workers := opt.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	rd.wg.Add(1)
	go func() {
		defer rd.wg.Done()
		rd.refs, rd.err = opt.Source.List(rctx)
		rd.files = make([]readResult, len(rd.refs))
		for i := range rd.files {
			rd.files[i].done = make(chan struct{})
		}
		close(rd.ready)
		if rd.err != nil {
			return
		}
		next := make(chan int)
		for range min(workers, max(len(rd.refs), 1)) {
			rd.wg.Add(1)
			go func() {
				defer rd.wg.Done()
				for i := range next {
					r := &rd.files[i]
					r.logs = newLogRecorder(opt.Log.Handler())
					j := &Job{Name: opt.Name, Source: opt.Source, Parse: opt.Parse, MaxFileBytes: opt.MaxFileBytes,
						Compression: opt.Compression, OnlyCAMT: opt.OnlyCAMT, Log: slog.New(r.logs)}
					r.sf, r.err = j.readFile(rctx, rd.refs[i])
					close(r.done)
				}
			}()
		}
		defer close(next)
		for i := range rd.refs {
			select {
			case next <- i:
			case <-rctx.Done():
				return
			}
		}
	}()
	return rd
}

// listed waits for the listing.
func (rd *fileReader) listed() ([]connectors.StatementRef, error) {
	<-rd.ready
	return rd.refs, rd.err
}

// stop cancels what is still being read and waits for the readers.
func (rd *fileReader) stop() {
	rd.cancel()
	rd.wg.Wait()
}

// collect takes the results in listing order: files that are not CAMT are
// counted, unreadable ones quarantined, unavailable ones skipped, as
// Job.Run does. It returns the files read.
func (rd *fileReader) collect(ctx context.Context, log *slog.Logger, res *Result, read func(*stagedFile)) ([]stagedFile, error) {
	opt := rd.opt
	staged := make([]stagedFile, 0, len(rd.refs))
	for i, ref := range rd.refs {
		r := &rd.files[i]
		select {
		case <-r.done:
		case <-ctx.Done():
			return nil, fmt.Errorf("stopping before %q: %w", ref.Path, ctx.Err())
		}
		r.logs.replay(ctx)
		sf, err := r.sf, r.err
		r.sf = stagedFile{}
		if err != nil {
			if stop := settleUnread(ctx, log, res, opt.Source, opt.OnlyCAMT, ref, err, nil); stop != nil {
				return nil, stop
			}
			continue
		}
		staged = append(staged, sf)
		read(&staged[len(staged)-1])
	}
	return staged, nil
}

// deduper drops, as Job.Run does, files whose content was seen already,
// and applies the identity rule (identity.go) to the transactions of the
// others, with nothing recorded before.
type deduper struct {
	ids      *intake
	seenHash map[string]bool
	hashes   []string // the files processed, in order
}

func newDeduper() *deduper {
	return &deduper{ids: newIntake(nil), seenHash: map[string]bool{}}
}

// add takes the transactions of a file read (sf.txs is emptied).
func (d *deduper) add(sf *stagedFile, log *slog.Logger, res *Result) {
	txs := sf.txs
	sf.txs = nil
	if d.seenHash[sf.hash] {
		res.FilesDuplicate++
		log.Info("statement already processed (same content)", "component", "source", "file", sf.ref.Path, "sha256", sf.hash[:16])
		return
	}
	d.seenHash[sf.hash] = true
	res.FilesProcessed++
	res.Transactions += len(txs)
	// With no prior state the rule looks nothing up: it cannot fail.
	_ = d.ids.addFile(context.Background(), sf.hash, txs)
	d.hashes = append(d.hashes, sf.hash)
}

// transactions returns the transactions to match in one slice (batch
// entries without details included: they are reported), and for each the
// index of its file in d.hashes. The identity rule's index is released.
func (d *deduper) transactions(res *Result) ([]domain.Transaction, []int32) {
	ids := d.ids
	res.Duplicates = ids.duplicates
	res.noteSetAside(ReasonDuplicateDelivery, ids.duplicates, ids.dupAmount)
	for _, c := range ids.covers {
		res.noteSetAside(c.reason, 1, map[string]domain.Amount{c.tx.Currency: c.tx.Amount})
	}
	txs, files := ids.kept(true)
	ids.classes, ids.links, ids.fresh, ids.freshFile, ids.covers = nil, nil, nil, nil, nil
	idx := make(map[string]int32, len(d.hashes))
	for i, h := range d.hashes {
		idx[h] = int32(i)
	}
	file := make([]int32, len(files))
	for i, h := range files {
		file[i] = idx[h]
	}
	return txs, file
}

// pendingDecision is an automatic decision to write back: its index in the
// decisions and its key.
type pendingDecision struct {
	i   int
	key string
}

// writeBackOrder returns the automatic decisions (indexes into txs) with
// their keys in the order Store.Pending returns them: by file hash,
// account, booking date, tx_ref, key. txFile[i] is the index in hashes of
// the file txs[i] came from. The keys are hashed on every core.
func writeBackOrder(name string, txs []domain.Transaction, txFile []int32, hashes []string, auto []int) []pendingDecision {
	out := make([]pendingDecision, len(auto))
	forChunks(len(auto), func(lo, hi int) {
		for k := lo; k < hi; k++ {
			out[k] = pendingDecision{i: auto[k], key: DecisionKey(name, txs[auto[k]].Key, 0)}
		}
	})
	// Files by the rank of their hash: integers compare faster.
	byHash := make([]int, len(hashes))
	for f := range byHash {
		byHash[f] = f
	}
	sort.Slice(byHash, func(a, b int) bool { return hashes[byHash[a]] < hashes[byHash[b]] })
	rank := make([]int32, len(hashes))
	for r, f := range byHash {
		rank[f] = int32(r)
	}
	sort.Slice(out, func(a, b int) bool {
		i, j := out[a].i, out[b].i
		x, y := &txs[i], &txs[j]
		switch {
		case rank[txFile[i]] != rank[txFile[j]]:
			return rank[txFile[i]] < rank[txFile[j]]
		case x.Account != y.Account:
			return x.Account < y.Account
		case !x.BookingDate.Equal(y.BookingDate):
			return x.BookingDate.Before(y.BookingDate)
		case x.Ref != y.Ref:
			return x.Ref < y.Ref
		}
		return out[a].key < out[b].key
	})
	return out
}

// forChunks runs fn over [0, n) split in one chunk per core.
func forChunks(n int, fn func(lo, hi int)) {
	workers := min(runtime.GOMAXPROCS(0), max(1, n/1024))
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := n*w/workers, n*(w+1)/workers
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn(lo, hi)
		}()
	}
	wg.Wait()
}

// writeBatch is one statement file's automatic decisions, ready to write.
type writeBatch struct {
	keys  []string
	decs  []int // index in the decisions, per key
	batch []connectors.KeyedDecision
}

// applyOneShot writes the automatic decisions (in write-back order) to the
// ledger, one batch per statement file, as Job.apply does; the next batch
// is made ready while the ledger writes one. It returns how many were
// written and the ledger's refusals (decision index → the exception it
// becomes).
func applyOneShot(ctx context.Context, opt MatchOptions, log *slog.Logger, items []domain.OpenItem, itemAt map[string]int,
	txs []domain.Transaction, txFile []int32, decs []domain.Decision, order []pendingDecision, at time.Time,
) (int, map[int]refusal, error) {
	if len(order) == 0 {
		return 0, nil, nil
	}
	// What Job.Run commits is written back even when ctx is cancelled.
	ctx = context.WithoutCancel(ctx)
	batches := make(chan writeBatch, 1)
	quit := make(chan struct{})
	defer close(quit)
	go func() {
		defer close(batches)
		for start := 0; start < len(order); {
			end := start
			for end < len(order) && txFile[order[end].i] == txFile[order[start].i] {
				end++
			}
			wb := writeBatch{keys: make([]string, end-start), decs: make([]int, end-start),
				batch: make([]connectors.KeyedDecision, end-start)}
			for k, p := range order[start:end] {
				d := decs[p.i]
				its := make(map[string]domain.OpenItem, len(d.Allocations))
				for _, a := range d.Allocations {
					if x, ok := itemAt[a.ItemID]; ok {
						its[a.ItemID] = items[x]
					} else {
						its[a.ItemID] = domain.OpenItem{} // as Job.Run records an unknown item
					}
				}
				wb.keys[k], wb.decs[k] = p.key, p.i
				wb.batch[k] = connectors.KeyedDecision{Key: p.key, Tx: txs[p.i], Decision: d, Items: its, DecidedAt: at}
			}
			start = end
			select {
			case batches <- wb:
			case <-quit:
				return
			}
		}
	}()
	refused := map[int]refusal{}
	applied := 0
	for wb := range batches {
		have, err := opt.Ledger.Applied(ctx, wb.keys)
		if err != nil {
			return applied, refused, fmt.Errorf("checking pending decisions in the ledger: %w", err)
		}
		batch, batchDec := wb.batch[:0], wb.decs[:0]
		for k, kd := range wb.batch {
			if !have[kd.Key] {
				batch = append(batch, kd)
				batchDec = append(batchDec, wb.decs[k])
			}
		}
		if len(batch) == 0 {
			continue
		}
		err = opt.Ledger.Apply(ctx, batch)
		refusedHere := map[string]bool{}
		if rej, only := connectors.Rejections(err); only {
			byKey := make(map[string]int, len(batch))
			for b, kd := range batch {
				byKey[kd.Key] = b
			}
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
func oneShotExceptions(txs []domain.Transaction, txFile []int32, hashes []string, decs []domain.Decision,
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
		exc = append(exc, StoredTx{Tx: txs[i], FileHash: hashes[txFile[i]], State: state, Decision: d})
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
func stateOf(d domain.Decision) string {
	switch d.Outcome {
	case domain.Auto:
		return txLettered
	case domain.Ignored, domain.Unletter:
		return txIgnored
	}
	return txOpen
}

// refusal is an automatic decision the ledger refused: the exception it
// becomes, and whether the ledger wrote part of it (the payment is held).
type refusal struct {
	decision domain.Decision
	held     bool
}

// rejectedException is the exception MarkRejected records for a refused
// automatic decision.
func rejectedException(kd connectors.KeyedDecision, r *connectors.RejectedError) domain.Decision {
	return refusedException(kd.Decision, kd.Items, "the automatic letter", r.Reason, r.Partial)
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
