package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/lettrage/lettrage/domain"
	"github.com/lettrage/lettrage/matcher"
	"github.com/lettrage/lettrage/pipeline/decide"
	"github.com/lettrage/lettrage/pipeline/report"
	"github.com/lettrage/lettrage/pipeline/state"
)

// pass is the working state of one Job.Run: what each step reads from the
// steps before it and hands to the steps after it.
type pass struct {
	j   *Job
	log *slog.Logger
	res *Result
	// items are the ledger's open items at the start of the pass.
	items []domain.OpenItem
	// staged are the files listed and read (or known) this pass.
	staged []stagedFile
	// ids is the identity rule's intake of the new files' transactions.
	ids *intake
	// files are the new files to record; fresh the new transactions to
	// match, freshFile the file each came from (by index); setAside the
	// records of what the identity rule set aside; newTxs how many fresh
	// held (for the log, once decide has let go of them).
	files     []state.FileRecord
	fresh     []domain.Transaction
	freshFile []string
	setAside  []decide.DecisionRecord
	newTxs    int
	// open are the stored transactions matched again (open exceptions,
	// due batch entries); skipped when the examination was not needed.
	open []decide.StoredTx
	// exam is the examination fingerprint, examined whether the open
	// exceptions were matched again this pass.
	exam     state.ExamInputs
	examined bool
	in       matcher.Input
	out      matcher.Output
	commit   state.Commit
	// sharer is the store when it keeps this pass's items, new
	// transactions and decisions once (passSharer); batch is then the
	// records of the new transactions, committed with commit.
	sharer passSharer
	batch  sharedBatch
	// reader reads the statements while the open items load, and intake
	// takes their transactions in meanwhile (unless Job.takeInLate); index, the
	// matcher's index of the items, is built while the statements are
	// read (Job.indexEarly); itemAt (the open items by ID, index into
	// items) is built while the matcher runs; allocated is what the pass's
	// letters take from each item (for the workbook's candidates and the
	// receivables gauges); early is the exceptions report made ready while
	// the ledger writes.
	reader    *statementReader
	intake    *earlyIntake
	index     chan *matcher.ItemsIndex
	itemAt    chan map[string]int32
	allocated map[string]domain.Amount
	early     chan renderedExceptions
	// itemsHash is the hash of the open items (itemsHash); itemsDeferred
	// that they were left unread, itemsStamp the ledger's stamp taken
	// before reading them (itemstamp.go).
	itemsHash     string
	itemsDeferred bool
	itemsStamp    string
	// handed is what the pass read of the exceptions, handed to the
	// reports (handover.go); nil when they read the store.
	handed *handedExceptions
	// ahead is the open exceptions' read started before gatherOpen
	// (openahead.go), nil when none was.
	ahead *openAhead
}

// renderedExceptions is the exceptions list and its CSV.
type renderedExceptions struct {
	exc []decide.StoredTx
	csv []byte
	// xlsx is the workbook, when rendered with them (writeBack).
	xlsx []byte
	err  error
}

// Run performs one pass. The error is nil when everything went through,
// wraps ErrFilesSkipped when some files were quarantined (the others went
// through), and is anything else when the run failed (nothing half-done:
// what was committed is complete and the next run resumes from it).
func (j *Job) Run(ctx context.Context) (res Result, err error) {
	started := j.now()
	res.RunID = decide.ShortHash(fmt.Sprintf("%s\x00%d", j.Name, started.UnixNano()))[:12]
	res.Outcomes = map[domain.Outcome]int{}
	p := &pass{j: j, res: &res, log: j.Log.With("job", j.Name, "run_id", res.RunID)}
	if j.Locker != nil {
		release, ok, err := j.Locker.TryLock(ctx, j.Name)
		if err != nil {
			return res, fmt.Errorf("running job %q: %w", j.Name, err)
		}
		if !ok {
			p.log.Info("job is running in another process or replica; this run is skipped")
			j.Metrics.observeRun(j.Name, started, j.now(), ErrBusy)
			return res, fmt.Errorf("running job %q: %w", j.Name, ErrBusy)
		}
		defer release()
	}
	defer func() {
		j.Metrics.observeRun(j.Name, started, j.now(), err)
	}()
	defer func() { p.intake.stop() }() // after the reader's
	defer func() { p.reader.stop() }()
	defer func() { p.ahead.stop() }()
	for _, step := range []func(context.Context) error{
		p.recover, p.readInbox, p.startReading, p.loadItems, p.readStatements, p.mapReads(true), p.takeIn, p.gatherOpen,
		p.match, p.decide, p.mapReads(false), p.save, p.writeBack, p.report, p.redact,
	} {
		if err := step(ctx); err != nil {
			return res, err
		}
	}
	// Only now are the files filed away.
	return res, finishPass(ctx, p.log, j.Name, j.Source, p.staged, res, func() {
		j.Metrics.sourceError(j.Name, j.SourceType, "archive")
	})
}

// recover completes what a crash left PENDING before the open items are
// read, so that the ledger's residuals already include it. Reads the
// store's outbox; writes the ledger and Result.Applied.
func (p *pass) recover(ctx context.Context) error {
	n, err := p.j.applyPending(ctx, p.log)
	p.res.Applied += n
	return err
}

// readInbox takes in the accountants' resolutions dropped in the inbox
// first: the matcher then sees the state they leave. Reads the inbox;
// writes the store and Result.Inbox.
func (p *pass) readInbox(ctx context.Context) error {
	if p.j.Resolutions == nil {
		return nil
	}
	return p.j.processInbox(ctx, p.log, &p.res.Inbox)
}

// startReading lists the source and starts reading the statements not
// processed or refused before, Job.Workers files at once, while the open
// items load (reading.go). Reads the source and the store's file records;
// writes p.reader.
func (p *pass) startReading(ctx context.Context) error {
	p.reader = p.j.startReading(ctx)
	if !p.j.takeInLate {
		p.intake = p.startEarlyIntake(ctx, p.reader)
	}
	return nil
}

// loadItems reads the open items (Job.OpenItems, else the ledger's) into
// p.items, unless the ledger says they are those last read
// (itemstamp.go: deferItems).
func (p *pass) loadItems(ctx context.Context) error {
	if deferred, err := p.deferItems(ctx); err != nil || deferred {
		return err
	}
	if p.itemsStamp != "" {
		// The stamp changed: the pass examines the open exceptions unless
		// the items hash as before (openahead.go).
		p.readOpenAhead(ctx)
	}
	read := p.j.OpenItems
	if read == nil {
		read = p.j.Ledger.OpenItems
	}
	items, err := read(ctx)
	if err != nil {
		return openItemsError(err)
	}
	p.items = items
	if p.j.indexEarly {
		// On the cores the statement readers leave idle at times, and
		// while the identity rule takes the transactions in on one.
		p.index = make(chan *matcher.ItemsIndex, 1)
		go func() { p.index <- matcher.IndexItems(items, 0) }()
	}
	p.log.Info("open items loaded", "component", "ledger", "items", len(items))
	if p.j.OpenItems == nil {
		p.res.noteOpenItems(p.j.Ledger, p.log)
	}
	p.itemsHash = state.ItemsHash(items)
	return p.recordItemsStamp(ctx)
}

// readStatements stages, in memory and in listing order, the files the
// reader read (nothing is committed yet); files refused before are held,
// unreadable ones quarantined or left for the next run. Reads p.reader and
// the store's refusals; writes p.staged and the file counts of Result.
func (p *pass) readStatements(ctx context.Context) error {
	j, res, log, rd := p.j, p.res, p.log, p.reader
	refs, err := rd.listed()
	if err != nil {
		j.Metrics.sourceError(j.Name, j.SourceType, "list")
		return fmt.Errorf("listing statements: %w", err)
	}
	j.Metrics.listed(j.Name, j.SourceType, j.now())
	log.Debug("statements listed", "component", "source", "files", len(refs))
	res.Files = len(refs)
	p.staged = make([]stagedFile, 0, len(refs))
	for i, ref := range refs {
		r := &rd.files[i]
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("stopping before %q: %w", ref.Path, err)
		}
		select {
		case <-r.done:
		case <-ctx.Done():
			return fmt.Errorf("stopping before %q: %w", ref.Path, ctx.Err())
		}
		switch {
		case r.lookErr != nil:
			return r.lookErr
		case r.seen:
			// Processed before and unchanged (left in place): not read again.
			res.FilesDuplicate++
			j.Metrics.file(j.Name, "duplicate")
			p.staged = append(p.staged, stagedFile{ref: ref, known: true})
			continue
		case r.held:
			// Refused before (same listing): held, skipped (refused.go).
			log.Debug("statement refused before and held: skipped", "component", "source", "file", ref.Path)
			res.FilesHeld++
			continue
		}
		if r.taken != nil {
			<-r.taken // closed by the early intake, at the latest when it stops
		}
		r.logs.replay(ctx)
		sf, err := r.sf, r.err
		r.sf = stagedFile{}
		// Refused before (same content): held, skipped.
		if held, herr := j.heldAgain(ctx, log, ref, sf.hash, err); herr != nil {
			return herr
		} else if held {
			res.FilesHeld++
			continue
		}
		if err != nil {
			if err := p.unread(ctx, sf, err); err != nil {
				return err
			}
			continue
		}
		log.Debug("statement read", "component", "source", "file", ref.Path, "bytes", ref.Size,
			"sha256", shortHashText(sf.hash), "transactions", len(sf.txs), "failed_checks", len(sf.failedChecks))
		p.staged = append(p.staged, sf)
	}
	rd.stop()
	j.countHeld(ctx, log)
	return nil
}

// unread settles a file that could not be read (settleUnread) and
// remembers its refusal.
func (p *pass) unread(ctx context.Context, sf stagedFile, err error) error {
	j := p.j
	if !errors.Is(err, errNotCAMT) && ctx.Err() == nil {
		j.Metrics.sourceError(j.Name, j.SourceType, errorKind(err))
	}
	if stop := settleUnread(ctx, p.log, p.res, j.Source, j.OnlyCAMT, sf.ref, err, func(outcome string) {
		if outcome == "quarantine_failed" {
			j.Metrics.sourceError(j.Name, j.SourceType, "quarantine")
		} else {
			j.Metrics.file(j.Name, outcome)
		}
	}); stop != nil {
		return stop
	}
	return j.rememberRefusal(ctx, sf.ref, sf.hash, err)
}

// takeIn drops the staged files already read (the same content under
// another name) and passes the others' transactions through the identity
// rule (identity.go): re-deliveries, pending entries, possible duplicates,
// batch entries and their details. Reads p.staged and the store; writes
// p.ids, p.files, p.fresh, p.freshFile, p.setAside and Result's counts.
// What the later steps do not need of the intake (the staged files'
// transactions, its indexes) is released before the matcher runs.
func (p *pass) takeIn(ctx context.Context) error {
	j, res := p.j, p.res
	p.ids = newIntake(j.Store.Prior(j.Name))
	_, forgets := j.Store.(deliveriesForgetter)
	p.ids.recordDeliveries = !forgets
	if p.intake != nil {
		<-p.intake.done
		p.ids = p.intake.ids
	}
	seenHash := map[string]bool{}
	for i := range p.staged {
		sf := &p.staged[i]
		if sf.known {
			continue
		}
		done, err := j.Store.FileDone(ctx, j.Name, sf.hash)
		if err != nil {
			return err
		}
		if done || seenHash[sf.hash] {
			res.FilesDuplicate++
			j.Metrics.file(j.Name, "duplicate")
			p.log.Info("statement already processed (same content)", "component", "source", "file", sf.ref.Path, "sha256", sf.hash[:16])
			continue
		}
		seenHash[sf.hash] = true
		for _, c := range sf.failedChecks {
			j.Metrics.checkFailed(j.Name, c)
		}
		res.FilesProcessed++
		j.Metrics.file(j.Name, "processed")
		res.Transactions += len(sf.txs)
		if taken, err := p.intake.taken(len(p.files), sf.hash); err != nil {
			return err
		} else if !taken {
			if err := p.ids.addFile(ctx, sf.hash, sf.txs); err != nil {
				return err
			}
		}
		p.files = append(p.files, state.FileRecord{Hash: sf.hash, Source: sf.ref.Source, Path: sf.ref.Path,
			Status: "processed", Transactions: len(sf.txs), Size: sf.ref.Size, ModTime: sf.ref.ModTime})
		sf.txs = nil // the intake holds what is kept
	}
	p.fresh, p.freshFile = p.ids.kept(j.BatchWait < 0)
	p.setAside = j.setAsideRecords(p.ids, res)
	// Kept: the verdicts (dupOf, awaiting), what the new files say of
	// recorded transactions (enrich, dropped, deliveries). The keys taken
	// and the classes fetched (a map entry per transaction: ≈ 50 MB at
	// 1M) are not read again.
	p.ids.classes, p.ids.links, p.ids.fresh, p.ids.freshFile, p.ids.covers = nil, nil, nil, nil, nil
	p.ids.keys, p.ids.fetched = nil, nil
	res.Duplicates = p.ids.duplicates
	res.noteSetAside(decide.ReasonDuplicateDelivery, p.ids.duplicates, p.ids.dupAmount)
	crashAt(FailAfterParse)
	return nil
}

// gatherOpen decides whether the open exceptions are examined again
// (incremental.go) and, when they are, reads them with the batch entries
// whose wait is over, as the new files enrich or cover them. Reads the
// store, p.items, p.files and p.ids; writes p.exam, p.examined, p.open
// and Result.Examined/ExaminedWhy.
func (p *pass) gatherOpen(ctx context.Context) error {
	j := p.j
	now := j.now()
	exam, recorded, err := j.Store.ExamState(ctx, j.Name, now, now.Add(-j.batchWait()))
	if err != nil {
		return err
	}
	exam.Config, exam.Items = j.ConfigHash, p.itemsHash
	p.exam = exam
	why := exam.ChangedSince(recorded)
	if len(p.files) > 0 {
		why = strings.TrimPrefix(why+", new statements", ", ")
	}
	if why == "" && !j.FullExamination {
		p.res.ExaminedWhy = NothingChanged
		p.ahead.stop() // read for nothing (openahead.go)
		p.ahead = nil
		return nil
	}
	if why == "" {
		why = "full examination configured"
	}
	p.examined, p.res.ExaminedWhy = true, why
	p.readOpenAhead(ctx) // beside needItems (openahead.go)
	if err := p.needItems(ctx); err != nil {
		return err
	}
	var open []decide.StoredTx
	if p.ahead != nil {
		rows, err := p.ahead.wait()
		p.ahead = nil
		if err != nil {
			return err
		}
		open = rows.Open
		p.handed = &handedExceptions{others: rows.Others, notException: rows.NotException, touched: map[string]bool{}}
	} else if open, err = j.Store.Transactions(ctx, j.Name, decide.TxOpen); err != nil {
		return err
	}
	due, err := j.Store.DueWaiting(ctx, j.Name, now.Add(-j.batchWait()))
	if err != nil {
		return err
	}
	open = append(open, due...)
	enriched := map[string]domain.Transaction{}
	for _, t := range p.ids.enrich {
		enriched[t.Key] = t
	}
	kept := open[:0]
	for _, st := range open {
		if p.ids.dropped[st.Tx.Key] {
			if p.handed != nil {
				p.handed.touch(st.Tx.Key)
			}
			continue // covered by details read in this pass
		}
		if t, ok := enriched[st.Tx.Key]; ok {
			st.Tx = t
			if p.handed != nil {
				p.handed.touch(st.Tx.Key)
			}
		}
		kept = append(kept, st)
	}
	p.open = kept
	if p.handed != nil {
		p.handed.open = kept
	}
	p.res.Examined = len(kept)
	return nil
}

// match runs the matcher, pure, over the new transactions and the open
// exceptions together. Reads p.fresh, p.open, p.items and the store's
// LoadMemory; writes p.in and p.out.
func (p *pass) match(ctx context.Context) error {
	j := p.j
	p.in = matcher.Input{Items: p.items, Config: j.Matching}
	// The items' index, for decide, is built meanwhile, on a core the
	// matcher's sequential steps leave idle.
	p.itemAt = make(chan map[string]int32, 1)
	go func(items []domain.OpenItem) {
		at := make(map[string]int32, len(items))
		for i := range items {
			at[items[i].ID] = int32(i)
		}
		p.itemAt <- at
	}(p.items)
	if len(p.fresh) == 0 && len(p.open) == 0 {
		return nil // nothing to decide: the memory is not read
	}
	mem, err := j.matcherMemory(ctx, p.fresh, p.open)
	if err != nil {
		return err
	}
	p.in.Memory = mem
	if len(p.open) == 0 {
		p.in.Transactions = p.fresh // not copied
	} else {
		p.in.Transactions = make([]domain.Transaction, 0, len(p.fresh)+len(p.open))
		p.in.Transactions = append(p.in.Transactions, p.fresh...)
		for _, st := range p.open {
			p.in.Transactions = append(p.in.Transactions, st.Tx)
		}
	}
	if p.index != nil {
		p.in.Index = <-p.index
		p.index = nil
	}
	p.out = matcher.Match(p.in)
	if len(p.out.Decisions) != len(p.in.Transactions) {
		return fmt.Errorf("matching: got %d decisions for %d transactions", len(p.out.Decisions), len(p.in.Transactions))
	}
	return nil
}

// save commits the pass's decisions (automatic ones PENDING) in one state
// transaction, and records an examination that changed nothing
// (incremental.go). Reads p.commit and p.batch; writes the store and
// Result.Committed.
func (p *pass) save(ctx context.Context) error {
	j := p.j
	var err error
	if p.sharer != nil {
		err = p.sharer.saveShared(ctx, p.commit, p.batch)
	} else {
		err = j.Store.SaveCommit(ctx, p.commit)
	}
	if err != nil {
		return err
	}
	if p.handed != nil {
		if p.sharer != nil {
			p.handed = nil
		} else {
			p.handed.touchCommit(&p.commit)
		}
	}
	p.res.Committed = true
	crashAt(FailAfterCommit)
	if p.examined {
		settled := p.commit.Empty() && len(p.batch.recs) == 0
		if err := j.Store.RecordExamined(ctx, j.Name, p.exam, settled, j.now()); err != nil {
			return err
		}
	}
	p.log.Info("decisions committed", "component", "state", "decisions", len(p.commit.Decisions)+len(p.batch.recs),
		"files", len(p.files), "new_transactions", p.newTxs, "rematched", p.res.Rematched,
		"examined", p.res.Examined, "examined_why", p.res.ExaminedWhy)
	return nil
}

// writeBack writes what was just committed to the ledger. A cancelled
// context no longer stops it: what is committed is written back now, or
// by the next run's recovery. Meanwhile the exceptions report is made
// ready (p.early), from the state as committed: the ledger's writing
// changes it only when it refuses decisions, and then report makes it
// again. Reads p.commit (or the sharer's outbox); writes the ledger, the
// store's outbox and Result.Applied.
func (p *pass) writeBack(ctx context.Context) error {
	var ob *outbox
	if p.sharer != nil {
		ob = p.sharer.outbox(p.j.Name)
	} else {
		ob = pendingOf(p.commit)
	}
	p.commit, p.batch = state.Commit{}, sharedBatch{} // not kept while the reports are written
	if ob.len() > 0 {
		p.early = make(chan renderedExceptions, 1)
		// The workbook too, when the items it names are read (p.items or
		// none shown): from the same list, the items less this pass's
		// letters, the set-aside transactions (which the ledger's writing
		// does not change).
		// A failure leaves it to be rendered again, then failing in its
		// place (after exceptions.csv is written).
		xlsx := p.j.Reports.XLSX && (p.allocated == nil || p.items != nil)
		items, allocated := p.items, p.allocated
		go func() {
			var r renderedExceptions
			if r.exc, r.err = p.exceptions(ctx); r.err == nil {
				r.csv, r.err = report.ExceptionsCSV(r.exc)
			}
			if r.err == nil && xlsx {
				if setAside, err := p.j.setAsideShown(ctx); err == nil {
					r.xlsx, _ = report.RenderWorkbook(p.j.Reports, r.exc, p.j.accountName,
						p.j.reportLookup(items, allocated), setAside...)
				}
			}
			p.early <- r
		}()
	}
	refused := map[string]string{}
	n, err := p.j.applyAll(context.WithoutCancel(ctx), p.log, ob, refused)
	p.res.Applied += n
	if len(refused) > 0 {
		if p.early != nil {
			<-p.early // made before the refusals: made again, from the store
			p.early = nil
		}
		p.handed = nil // the refusals rewrote rows the pass did not commit
	}
	return err
}

// report rewrites the exceptions reports and metrics from the state
// store, unless they are current (incremental.go). Reads p.items and
// p.allocated (when the reports show the items), p.exam, p.early and the
// store; writes the reports, job_state.reported and Result's exception
// figures.
func (p *pass) report(ctx context.Context) error {
	j := p.j
	revision, last, err := j.Store.ReportState(ctx, j.Name)
	if err != nil {
		return err
	}
	key := fmt.Sprintf("%d|%s|%s|%s", revision, p.exam.Items, j.now().UTC().Format("2006-01-02"), j.ConfigHash)
	var early *renderedExceptions
	if p.early != nil {
		r := <-p.early
		early, p.early = &r, nil
	}
	if last.Key == key && p.reportsCurrent(key) {
		p.res.ReportsUnchanged = true
		crashAt(FailAfterReports)
		p.res.Exceptions, p.res.UnmatchedCash = last.Exceptions, last.Cash
		return nil
	}
	if p.allocated != nil { // the reports show the items
		if err := p.needItems(ctx); err != nil {
			return err
		}
	}
	if early == nil && p.handed != nil {
		var r renderedExceptions
		if r.exc, r.err = p.exceptions(ctx); r.err == nil {
			r.csv, r.err = report.ExceptionsCSV(r.exc)
		}
		early = &r
	}
	p.handed = nil
	exc, refused, err := j.writeReportsFrom(ctx, p.items, p.allocated, early) // p.items nil: nothing shows them (see decide)
	if err != nil {
		return err // the key is not recorded: the next pass writes them, and hands them to a sink, again
	}
	p.res.ReportsWritten = true
	crashAt(FailAfterReports)
	p.res.Exceptions = len(exc)
	p.res.UnmatchedCash = decide.UnmatchedCash(exc)
	j.gaugesKey = key
	if refused {
		// The ledger refused some exceptions (a closed period): a key no
		// pass makes, so that the next one hands them over again.
		key += "|refused"
	}
	return j.Store.RecordReported(ctx, j.Name, revision, state.ReportedFigures{Key: key, Exceptions: len(exc), Cash: p.res.UnmatchedCash})
}

// reportsCurrent reports whether the reports written for key need not be
// written again: the files are there, the gauges, when scraped, were set
// for key in this process, and the job does not examine everything every
// pass (FullExamination rewrites them). A ledger that records the
// exceptions (connectors.ExceptionSink) is not handed them again either:
// the key is recorded only once the ledger took them all (report), so a
// pass whose sink write failed, was interrupted or refused some leaves a
// key the next pass does not match, and that pass records them again.
func (p *pass) reportsCurrent(key string) bool {
	j := p.j
	if j.FullExamination {
		return false
	}
	if j.ScrapedGauges && j.gaugesKey != key {
		return false
	}
	if j.ReportDir == "" {
		return true
	}
	names := []string{"exceptions.csv"}
	if j.Reports.XLSX {
		names = append(names, "exceptions.xlsx")
	}
	for _, n := range names {
		if _, err := os.Stat(filepath.Join(j.ReportDir, n)); err != nil {
			return false
		}
	}
	return true
}

// redact erases the personal data of settled transactions past the
// configured retention. Reads and writes the store.
func (p *pass) redact(ctx context.Context) error {
	j := p.j
	if err := p.compact(ctx); err != nil {
		return err
	}
	if j.PersonalDataDays <= 0 {
		return nil
	}
	now := j.now()
	n, err := j.Store.RedactPersonalData(ctx, j.Name, now.AddDate(0, 0, -j.PersonalDataDays), now)
	if err != nil {
		return err
	}
	if n > 0 {
		p.log.Info("personal data redacted from settled transactions", "component", "state", "transactions", n)
	}
	return nil
}

// decide turns the matcher's decisions into the records to commit: the
// identity rule's verdicts, the post-processing of re-matched exceptions
// (an accountant's unlettering, a ledger's refusal), decision keys, and
// the reversals a bank reversal calls for. Reads p.in, p.out, p.open,
// p.ids and the store's letters; writes p.commit and Result's outcome
// counts.
func (p *pass) decide(ctx context.Context) error {
	j, res := p.j, p.res
	p.commit = state.Commit{Job: j.Name, ConfigHash: j.ConfigHash, At: j.now(), Files: p.files, Learned: p.out.Learned,
		Deliveries: p.ids.deliveries, Enriched: p.ids.enrich}
	itemAt := <-p.itemAt
	p.itemAt = nil
	mine := len(p.out.Decisions) // the records built here, in p.commit.Decisions
	if sh, ok := j.Store.(passSharer); ok && sh.shareItems(p.items, itemAt) {
		// The store keeps the items, the new transactions and their
		// decisions once: the records of the new transactions name them
		// (p.batch) instead of each keeping copies.
		p.sharer, itemAt = sh, nil
		p.batch = sharedBatch{txs: p.fresh, decs: p.out.Decisions, files: p.freshFile,
			recs: make([]sharedRec, 0, len(p.fresh))}
		mine = len(p.out.Decisions) - len(p.fresh)
	}
	if itemAt != nil {
		// The items the letters name are read from p.items when committed
		// and written back (decide.ItemsOf), not copied into each record:
		// p.items lives until the write-back ends.
		p.commit.Snapshots = sharedItems{items: p.items, at: itemAt}
	}
	p.commit.Decisions = make([]decide.DecisionRecord, 0, len(p.setAside)+mine)
	p.commit.Decisions = append(p.commit.Decisions, p.setAside...)
	p.setAside = nil
	if j.Reports.XLSX || j.Reports.FrenchCSV || j.Metrics != nil {
		// The workbook's candidates and the receivables gauges show the
		// items as this pass's letters leave them.
		p.allocated = map[string]domain.Amount{}
		for _, d := range p.out.Decisions {
			if d.Outcome == domain.Auto {
				for _, a := range d.Allocations {
					p.allocated[a.ItemID] = p.allocated[a.ItemID].Add(a.Settles())
				}
			}
		}
	}
	for i, d := range p.out.Decisions {
		var prev *decide.StoredTx
		if i >= len(p.fresh) {
			prev = &p.open[i-len(p.fresh)]
		}
		file := ""
		if prev == nil {
			file = p.freshFile[i]
		}
		shared := int32(-1)
		if p.sharer != nil && prev == nil {
			shared = int32(i) // p.fresh[i], p.out.Decisions[i]
		}
		// The records name their transactions: a new one in p.fresh
		// (p.in.Transactions[i], or its copy when open exceptions were
		// matched too), an exception matched again in a copy of its own,
		// so that neither the matcher's input nor p.open outlives decide.
		tx := &p.in.Transactions[i]
		if prev == nil {
			tx = &p.fresh[i]
		} else {
			again := *tx
			tx = &again
		}
		recorded, d, err := p.decideOne(ctx, tx, file, d, prev, shared)
		if err != nil {
			return err
		}
		if !recorded {
			continue
		}
		res.Outcomes[d.Outcome]++
		j.Metrics.decision(j.Name, d)
		if d.Outcome == domain.Ignored && prev == nil {
			if why := decide.IgnoredReason(p.in.Transactions[i], d); why != "" {
				res.noteIgnored(why, p.in.Transactions[i])
				j.Metrics.setAside(j.Name, why, 1)
			}
		}
	}
	// The records hold what the later steps need: the matcher's input and
	// output are not kept for the rest of the pass, nor the intake, nor
	// the open items unless the reports show them (allocated). The new
	// transactions stay, once: in p.fresh's array, which the records name
	// (a copy in each record would be 448 bytes more a record, 450 MB at
	// 1,000,000 payments, beside the slice while they are built). A
	// sharing store (p.batch) keeps what it needs.
	p.in, p.open, p.out = matcher.Input{}, nil, matcher.Output{}
	p.newTxs = len(p.fresh)
	p.fresh, p.freshFile, p.ids = nil, nil, nil
	if p.allocated == nil {
		p.items = nil
	}
	return nil
}

// decideOne is decide for one transaction: tx (read from the file hashed
// file), the matcher's decision d, prev the stored transaction when tx is
// an open exception matched again (nil when new). It appends the records
// to commit to p.commit (the decision last, after the reversals it calls
// for) and returns the decision counted, or nothing (recorded false) when
// nothing is to be recorded (an exception decided as before, a refused
// letter not retried yet). shared ≥ 0: tx is p.fresh[shared], and its
// record goes to p.batch (its decision to p.out.Decisions[shared]).
func (p *pass) decideOne(ctx context.Context, tx *domain.Transaction, file string, d domain.Decision, prev *decide.StoredTx,
	shared int32) (recorded bool, _ domain.Decision, err error) {
	j, res := p.j, p.res
	isNew := prev == nil
	prevReason := ""
	if !isNew {
		prevReason = prev.Decision.Reason
	}
	if prevReason == domain.ReasonUnlettered && d.Outcome == domain.Auto {
		// An accountant undid this letter: never letter it again by
		// itself; show what the matcher would do as a suggestion.
		d = suggestInstead(d, domain.ReasonUnlettered, "unlettered by an accountant, so not lettered again automatically; the matcher would choose: ")
	}
	d = identityVerdict(d, *tx, p.ids, !isNew && prev.State == decide.TxWaiting, prevReason)
	if d.Reason == decide.ReasonPossibleDuplicate && isNew {
		res.PossibleDuplicates++
		j.Metrics.setAside(j.Name, decide.ReasonPossibleDuplicate, 1)
	}
	if !isNew {
		var again bool
		if d, again, err = p.againDecision(ctx, *tx, d, prev.Decision); err != nil || !again {
			return false, d, err
		}
	}
	rec := decide.DecisionRecord{Tx: tx, FileHash: file, Decision: d, New: isNew}
	if !isNew {
		rec.FileHash = prev.FileHash
	}
	if d.Outcome == domain.Auto {
		generation := 0
		if !isNew { // an exception, possibly unlettered before: a fresh key
			if _, generation, err = j.Store.LastLetter(ctx, j.Name, tx.Key); err != nil {
				return false, d, err
			}
		}
		rec.Key = decide.DecisionKey(j.Name, tx.Key, generation)
	} else {
		rec.Key = "rec-" + decide.ShortHash(fmt.Sprintf("%s\x00%s\x00%s\x00%s\x00%v", j.Name, tx.Key, d.Outcome, d.Reason, d.Candidates))
	}
	if d.Outcome == domain.Unletter && d.UnletterKey != "" {
		// The bank reversed or returned a payment that was lettered: undo
		// that letter in the ledger; the payment is an exception again.
		revs, why, err := j.reversals(ctx, d.UnletterKey,
			fmt.Sprintf("reversed by the bank (entry %s): %s", tx.Ref, d.Explanation))
		if err != nil {
			return false, d, err
		}
		for i := range revs {
			revs[i].Decision.Rule = decide.RuleBankReversal
		}
		if revs != nil {
			p.commit.Decisions = append(p.commit.Decisions, revs...)
		} else {
			rec.Decision.Outcome, rec.Decision.Reason = domain.Suggested, domain.ReasonReversalNotUndone
			rec.Decision.Explanation = d.Explanation + "; " + why
		}
	}
	if p.log.Enabled(ctx, slog.LevelDebug) {
		p.log.Debug("decided", "component", "matcher", "tx", tx.Ref, "new", isNew, "outcome", string(d.Outcome),
			"rule", d.Rule, "confidence", d.Confidence, "reason", d.Reason, "allocations", len(d.Allocations))
	}
	if shared >= 0 {
		// What the store will read of p.batch is rec (passSharer).
		p.batch.decs[shared] = rec.Decision
		p.batch.recs = append(p.batch.recs, sharedRec{key: rec.Key, at: shared, before: int32(len(p.commit.Decisions))})
		return true, d, nil
	}
	p.commit.Decisions = append(p.commit.Decisions, rec)
	return true, d, nil
}

// againDecision is what becomes of an open exception matched again, whose
// stored decision was prev: the same letter the ledger refused is not
// retried for a day (a closed period, a locked invoice), a different one
// is; an exception still refused keeps the ledger's refusal in view; an
// exception decided as before is not recorded again (again false).
func (p *pass) againDecision(ctx context.Context, tx domain.Transaction, d, prev domain.Decision) (domain.Decision, bool, error) {
	j := p.j
	if d.Outcome == domain.Auto && prev.Reason == decide.ReasonLedgerRejected {
		last, at, err := j.Store.LastRejected(ctx, j.Name, tx.Key)
		if err != nil {
			return d, false, err
		}
		if last != nil && sameAllocations(*last, d) && j.now().Sub(at) < decide.RejectedRetryAfter {
			return d, false, nil
		}
	}
	if d.Outcome != domain.Auto && prev.Reason == decide.ReasonLedgerRejected {
		// Still an exception: keep the ledger's refusal in view (an
		// invoice paid by someone else may be a double payment).
		ledgerSaid, _, _ := strings.Cut(prev.Explanation, " Now: ")
		d.Reason, d.Explanation = decide.ReasonLedgerRejected, ledgerSaid+" Now: "+d.Explanation
	}
	if d.Outcome == domain.Auto {
		p.res.Rematched++
	} else if sameException(prev, d) {
		return d, false, nil
	}
	return d, true, nil
}
