// Package pipeline runs Lettrage's job: statements in, decisions committed
// to the state store (the outbox), allocations written back to the ledger
// exactly once, exceptions reported, files archived — in that order.
package pipeline

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"reflect"
	"slices"
	"sort"
	"time"

	"github.com/lettrage/lettrage/connectors"
	"github.com/lettrage/lettrage/connectors/camt"
	"github.com/lettrage/lettrage/connectors/source/compress"
	"github.com/lettrage/lettrage/domain"
	"github.com/lettrage/lettrage/matcher"
	"github.com/lettrage/lettrage/pipeline/decide"
	"github.com/lettrage/lettrage/pipeline/report"
	"github.com/lettrage/lettrage/pipeline/state"
)

// Job is one configured lettering job: a statement source, a ledger and the
// matching rules, sharing a state store with the other jobs.
type Job struct {
	Name string
	// SourceType labels the source in metrics (local, sftp, s3).
	SourceType string
	Source     connectors.StatementSource
	Ledger     connectors.Ledger
	// Store is the state store: the SQL Store of the daemon, or the
	// memoryStore of the stateless `match` (MatchFiles).
	Store     StateStore
	Matching  matcher.Config
	Parse     camt.Options
	ReportDir string // exceptions.csv is written here
	Reports   report.Options
	// AccountNames name the company's bank accounts (normalised IBAN →
	// name) in reports and metrics.
	AccountNames map[string]string
	ConfigHash   string // recorded with every decision (audit trail)
	// MaxFileBytes bounds one statement file (0: no limit).
	MaxFileBytes int64
	// Compression bounds .gz and .zip deliveries (zero: defaults).
	Compression compress.Limits
	// OnlyCAMT makes files that do not look like CAMT (by content) be
	// skipped silently instead of quarantined (the `match` command).
	OnlyCAMT bool
	Log      *slog.Logger
	Metrics  *Metrics
	// Now is the clock (tests set it); nil means time.Now.
	Now func() time.Time
	// PersonalDataDays, when > 0, redacts settled transactions' personal
	// data that many days after they were first seen.
	PersonalDataDays int
	// RetentionDays, when > 0, compacts settled history this many days
	// (at least MinRetentionDays) after it last changed (Store.Compact).
	RetentionDays int
	// Resolutions is the inbox of accountants' workbooks (nil: none).
	Resolutions connectors.StatementSource
	// InboxMinAge is how long a workbook must be left unchanged before the
	// inbox reads it (0: DefaultInboxMinAge; negative: no wait).
	InboxMinAge time.Duration
	// InboxDefaultAuthor is who resolved when a workbook does not say.
	InboxDefaultAuthor string
	// reportItems are the open items last read by a resolution, for the
	// reports written after it (the candidates' document numbers).
	reportItems map[string]domain.OpenItem
	// inboxSizes are the inbox's file sizes at the last listing (a size
	// that changed means the file is still being written).
	inboxSizes map[string]int64
	// WriteOffLimits caps, per currency, what one write_off resolution may
	// write off; DefaultWriteOffLimit applies to the currencies it does
	// not name.
	WriteOffLimits map[string]domain.Amount
	// BatchWait is how long a batch entry booked without details waits for
	// them before it is reported (0: DefaultBatchWait; negative: it is
	// reported by the pass that reads it, as the stateless `match` does,
	// which has no later pass).
	BatchWait time.Duration
	// OpenItems reads the open items (nil: Ledger.OpenItems). It runs while
	// the statements are being read; nothing is written or filed away
	// before it returns, and nothing at all when it fails.
	OpenItems func(context.Context) ([]domain.OpenItem, error)
	// Workers is how many statement files are read at once (0:
	// GOMAXPROCS).
	Workers int
	// Locker keeps two processes or replicas from running the job at once
	// (nil: no cross-process lock, e.g. the stateless `match`).
	Locker RunLocker
	// ScrapedGauges: the metrics are served (lettrage run), so a pass sets
	// the exceptions gauges at least once per process even when the
	// reports are current (incremental.go).
	ScrapedGauges bool
	// gaugesKey is the report key the gauges were last set for.
	gaugesKey string
	// FullExamination makes every pass match every open exception again
	// and rewrite the reports, even when nothing they depend on changed
	// (incremental.go): the reference the incremental passes are tested
	// against.
	FullExamination bool
	// indexEarly makes the pass build the matcher's index of the open
	// items as soon as they are read, while the statements are still being
	// read (MatchFiles: its store is empty, so the matcher's memory has no
	// settled item to add to the index, and the index serves).
	indexEarly bool
	// takeInLate makes the pass take the statements' transactions in (the
	// identity rule) only once they are all read, after the open items
	// (takeIn), as before round seven: the tests' reference. Otherwise it
	// takes them in as they are read, while the open items are still being
	// read (earlyintake.go), in MatchFiles and in the daemon's pass alike.
	takeInLate bool
}

// FileProblem is a statement file that could not be read.
type FileProblem struct {
	Path string
	Err  error
}

// Result summarises one run.
type Result struct {
	RunID            string
	Files            int // statement files listed
	FilesProcessed   int // read and committed
	FilesDuplicate   int // same content already processed
	FilesQuarantined int // unreadable
	FilesSkipped     int // source unavailable while reading: retried next run
	FilesNotCAMT     int // skipped: not a CAMT document (OnlyCAMT)
	FilesHeld        int // refused in an earlier pass and held: skipped (refused.go)
	Transactions     int // transactions read from the files
	Duplicates       int // transactions delivered again (overlapping statements, camt.052 then camt.053)
	// PossibleDuplicates are new transactions reported as exceptions because
	// a recorded one has their reference, amount and date but contradicting
	// details.
	PossibleDuplicates int
	// SetAside counts by reason what was read but is accounted for
	// otherwise (ReasonDuplicateDelivery, ReasonCoveredByDetails,
	// ReasonDetailsOfLettered, ReasonAwaitingDetails).
	SetAside  map[string]*SetAside
	Rematched int // open exceptions matched again and lettered
	// Examined is how many open exceptions (and due batch entries) were
	// matched again, ExaminedWhy what made it necessary, or why not
	// (incremental.go).
	Examined      int
	ExaminedWhy   string
	Outcomes      map[domain.Outcome]int
	Applied       int                      // allocations decisions written back this run (incl. recovered)
	Exceptions    int                      // transactions not fully lettered after the run
	UnmatchedCash map[string]domain.Amount // by currency, after the run
	Problems      []FileProblem
	// OpenItemsNote is what the ledger says of the open items it read (the
	// file ledger's re-export rule: which journal rows were subtracted);
	// OpenItemsAnnouncements what it announces (an export older than the
	// journal, one it cannot place).
	OpenItemsNote          string
	OpenItemsAnnouncements []string
	// Inbox is what the resolutions inbox took in.
	Inbox InboxResult
	// Ignored counts by reason (SetAsideDebit, SetAsideNotBooked,
	// SetAsideReversal) the new transactions that are no customer cash to
	// letter (outcome ignored), with their cash: set aside like SetAside,
	// but decided (they are in Outcomes too).
	Ignored map[string]*SetAside
	// Committed: the pass's decisions are in the state store;
	// ReportsWritten: exceptions.csv (and .xlsx) were rewritten. A summary
	// states only what happened.
	Committed, ReportsWritten bool
	// ReportsUnchanged: the reports were current (nothing they show
	// changed since they were written) and were left as they were.
	ReportsUnchanged bool
}

// noteIgnored counts a new transaction ignored for reason.
func (r *Result) noteIgnored(reason string, tx domain.Transaction) {
	if r.Ignored == nil {
		r.Ignored = map[string]*SetAside{}
	}
	sa := r.Ignored[reason]
	if sa == nil {
		sa = &SetAside{Cash: map[string]domain.Amount{}}
		r.Ignored[reason] = sa
	}
	sa.Count++
	sa.Cash[tx.Currency] = sa.Cash[tx.Currency].Add(tx.Amount)
}

// AllSetAside is everything a pass set aside, by reason: the identity
// rule's (SetAside) and the ignored transactions (Ignored).
func (r Result) AllSetAside() map[string]*SetAside {
	out := make(map[string]*SetAside, len(r.SetAside)+len(r.Ignored))
	for _, m := range []map[string]*SetAside{r.SetAside, r.Ignored} {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

// noteOpenItems records (and logs) what a ledger says of the open items it
// just read.
func (r *Result) noteOpenItems(led connectors.Ledger, log *slog.Logger) {
	n, ok := led.(connectors.OpenItemsNoter)
	if !ok {
		return
	}
	note, announced := n.OpenItemsNote()
	r.showOpenItemsNote(note, announced, log)
}

// showOpenItemsNote sets and logs what the ledger said of the open items.
func (r *Result) showOpenItemsNote(note string, announced []string, log *slog.Logger) {
	r.OpenItemsNote, r.OpenItemsAnnouncements = note, announced
	if r.OpenItemsNote != "" {
		log.Info("open items reconciled with the journal", "component", "ledger", "rule", r.OpenItemsNote)
	}
	for _, a := range r.OpenItemsAnnouncements {
		log.Warn("open items: "+decide.MaskIBANs(a), "component", "ledger")
	}
}

// ErrFilesSkipped is returned (wrapped) by Run when the run finished but some
// files were quarantined or skipped.
var ErrFilesSkipped = errors.New("some statement files were skipped")

type stagedFile struct {
	ref  connectors.StatementRef
	hash string
	// known: the listing (path, size, time) matches a processed file, so
	// the file was not read again.
	known bool
	txs   []domain.Transaction
	// failedChecks are the names of the statements' failed consistency checks.
	failedChecks []string
}

func (j *Job) now() time.Time {
	if j.Now != nil {
		return j.Now()
	}
	return time.Now()
}

// finishPass files away the statements a pass read (everything read from
// them is durable and written back), logs the pass's summary and returns
// ErrFilesSkipped (wrapped) when some files were quarantined or left for
// the next run. archiveFailed, when set, hears every failed archive.
func finishPass(ctx context.Context, log *slog.Logger, name string, src connectors.StatementSource, staged []stagedFile,
	res Result, archiveFailed func()) error {
	for _, sf := range staged {
		if err := src.Archive(ctx, sf.ref); err != nil {
			if archiveFailed != nil {
				archiveFailed()
			}
			log.Error("archiving statement", "component", "source", "file", sf.ref.Path, "err", err)
		}
	}
	log.Info("run finished", "files", res.Files, "transactions", res.Transactions,
		"lettered", res.Outcomes[domain.Auto], "exceptions", res.Exceptions, "quarantined", res.FilesQuarantined,
		"held", res.FilesHeld)
	if n := res.FilesQuarantined + res.FilesSkipped; n > 0 {
		return fmt.Errorf("running job %q: %d of %d files: %w", name, n, res.Files, ErrFilesSkipped)
	}
	if n := len(res.Inbox.Refused); n > 0 {
		return fmt.Errorf("running job %q: %d resolutions workbook(s) refused: %w", name, n, ErrFilesSkipped)
	}
	return nil
}

var errNotCAMT = errors.New("not a CAMT document")

// ErrOpenItems is returned (wrapped) by Run when the ledger's open items
// cannot be read; nothing was decided or written.
var ErrOpenItems = errors.New("reading open items")

// settleUnread deals with a statement file that could not be read, the
// same way in every pass: not CAMT (when only CAMT is expected) → counted
// and skipped; the source unavailable → left for the next run; anything
// else → quarantined with its cause. count, when set, hears "retry",
// "quarantined" or "quarantine_failed". A non-nil result stops the pass
// (the context was cancelled while reading).
func settleUnread(ctx context.Context, log *slog.Logger, res *Result, src connectors.StatementSource, onlyCAMT bool,
	ref connectors.StatementRef, err error, count func(outcome string)) error {
	if count == nil {
		count = func(string) {}
	}
	switch {
	case errors.Is(err, errNotCAMT) && onlyCAMT:
		res.FilesNotCAMT++
		log.Debug("not a CAMT statement, skipped", "file", ref.Path)
	case ctx.Err() != nil:
		return fmt.Errorf("stopping while reading %q: %w", ref.Path, ctx.Err())
	case errors.Is(err, connectors.ErrUnavailable):
		// Not the file's fault: leave it for the next run.
		res.FilesSkipped++
		res.Problems = append(res.Problems, FileProblem{Path: ref.Path, Err: err})
		count("retry")
		log.Warn("statement skipped, source unavailable; retried next run", "component", "source", "file", ref.Path, "err", err)
	default:
		res.FilesQuarantined++
		res.Problems = append(res.Problems, FileProblem{Path: ref.Path, Err: err})
		count("quarantined")
		log.Error("statement quarantined", "component", "source", "file", ref.Path, "err", err)
		if qerr := src.Quarantine(ctx, ref, err); qerr != nil {
			count("quarantine_failed")
			log.Error("quarantining statement", "file", ref.Path, "err", qerr)
		}
	}
	return nil
}

// readFile streams one statement through the CAMT reader, staging its
// transactions and hashing the bytes as they go by; what it finds wrong
// with the statements' balances goes to log.
func (j *Job) readFile(ctx context.Context, ref connectors.StatementRef, log *slog.Logger) (stagedFile, error) {
	sf := stagedFile{ref: ref}
	rc, err := j.Source.Open(ctx, ref)
	if err != nil {
		return sf, fmt.Errorf("opening statement %q: %w", ref.Path, err)
	}
	defer rc.Close()
	h := sha256.New()
	var r io.Reader = rc
	if j.MaxFileBytes > 0 {
		r = &limitedReader{r: r, left: j.MaxFileBytes, name: ref.Path}
	}
	counter := &countingWriter{}
	tee := io.TeeReader(r, io.MultiWriter(h, counter))
	// A .gz or .zip delivery holds one or several statements; a plain file
	// is its own single member.
	members := 0
	err = compress.Expand(ref.Path, tee, j.Compression, func(member string, mr io.Reader) error {
		br := bufio.NewReaderSize(mr, 64<<10)
		if j.OnlyCAMT {
			head, _ := br.Peek(4096)
			if !camt.Sniff(head) {
				return nil
			}
		}
		members++
		// Only the transactions are kept: entries may come as headers,
		// decoded in one layer (camt.Options.EntryHeaders).
		opts := j.Parse
		opts.EntryHeaders = true
		file, err := camt.Parse(br, member, opts, func(_ *camt.Statement, _ *camt.Entry, txs []domain.Transaction) error {
			if need := len(sf.txs) + len(txs); need > cap(sf.txs) {
				sf.txs = slices.Grow(sf.txs, stagingCap(len(sf.txs), need, counter.n, ref.Size)-len(sf.txs))
			}
			sf.txs = append(sf.txs, txs...)
			return ctx.Err()
		})
		if err == nil {
			for _, st := range file.Statements {
				for _, c := range st.Checks {
					if !c.OK {
						sf.failedChecks = append(sf.failedChecks, c.Name)
						log.Warn("statement consistency check failed", "component", "camt", "job", j.Name,
							"file", ref.Path, "statement", st.ID, "check", c.Name, "expected", c.Expected, "actual", c.Actual)
					}
				}
			}
		}
		return err
	})
	if err != nil {
		err = fmt.Errorf("reading statement %q: %w", ref.Path, err)
		if refusable(ctx, err) {
			// Refused for its content: hash the rest, so that the same
			// content is known again (refused.go).
			if lr, ok := r.(*limitedReader); ok {
				lr.lifted = true
			}
			if _, derr := io.Copy(io.Discard, tee); derr == nil {
				sf.hash = hex.EncodeToString(h.Sum(nil))
			} else if errors.Is(derr, connectors.ErrUnavailable) {
				err = fmt.Errorf("reading statement %q: %w", ref.Path, derr)
			}
		}
		return sf, err
	}
	if members == 0 {
		return sf, errNotCAMT
	}
	if cap(sf.txs)-len(sf.txs) > len(sf.txs)/8 {
		// The doubling left much unused: the transactions are kept until
		// the pass matches them, so in a slice of their own size.
		sf.txs = slices.Clone(sf.txs)
	}
	// Hash whatever follows the document too, so identity is the whole file.
	if _, err := io.Copy(io.Discard, tee); err != nil {
		return sf, fmt.Errorf("reading statement %q: %w", ref.Path, err)
	}
	sf.hash = hex.EncodeToString(h.Sum(nil))
	j.Metrics.sourceRead(j.Name, j.SourceType, counter.n)
	return sf, nil
}

// stagingCap is the capacity to give a file's staged transactions when
// need of them no longer fit in the n staged. Once the file's first
// megabytes are read (stagingEstimateAfter: the readers' buffers then
// count for a few per cent at most), as many as the file will hold by the
// bytes read so far (read of size, both counted before any decompression,
// so that the ratio holds for .gz too), and a sixteenth more; before that,
// or when the file's size says nothing (unknown, or read whole before its
// first transaction, as a .zip is), doubled. Doubling alone allocates
// about three times a large file's transactions (the doublings, then the
// copy to size); the estimate about once.
func stagingCap(n, need int, read, size int64) int {
	if read < stagingEstimateAfter || size <= 0 || read >= size {
		return max(need, 2*n, 64)
	}
	est := int(min(int64(need)*size/read, math.MaxInt32))
	return max(est+est/16, need+need/8)
}

// stagingEstimateAfter is how many bytes of a file are read before its
// size estimates its number of transactions.
const stagingEstimateAfter = 2 << 20

// ErrFileTooLarge is returned (wrapped) for a statement above MaxFileBytes.
var ErrFileTooLarge = errors.New("statement file too large")

type limitedReader struct {
	r    io.Reader
	left int64
	name string
	// over is the byte read past the limit (to tell a file of exactly the
	// limit from a larger one); lift hands it on and removes the limit.
	over   []byte
	lifted bool
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.lifted {
		if len(l.over) > 0 && len(p) > 0 {
			p[0], l.over = l.over[0], nil
			return 1, nil
		}
		return l.r.Read(p)
	}
	if l.left <= 0 {
		// One more byte tells a file of exactly the limit from a larger one.
		var one [1]byte
		if n, _ := l.r.Read(one[:]); n > 0 {
			l.over = one[:1]
			return 0, ErrFileTooLarge
		}
		return 0, io.EOF
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	return n, err
}

// applyPending writes PENDING decisions to the ledger, one batch per
// statement file, and marks them applied. Decisions the ledger already holds
// (written before a crash) are only marked.
func (j *Job) applyPending(ctx context.Context, log *slog.Logger) (int, error) {
	pending, err := j.Store.Pending(ctx, j.Name)
	if err != nil || len(pending) == 0 {
		return 0, err
	}
	return j.apply(ctx, log, &outbox{list: pending})
}

// outbox is the decisions one write-back writes, in writeBackOrder
// (order.go): read from the store (list), or a commit's records (recs) in
// the order perm gives, which are not copied into a list (a first pass
// writes back hundreds of thousands).
type outbox struct {
	list []decide.PendingDecision
	recs []decide.DecisionRecord
	perm []int32
	at   time.Time // when recs were decided
	// snap gives the items of recs that leave them nil (decide.ItemsOf).
	snap decide.ItemSnapshots
	// src, when set, holds the decisions instead (the memory store's
	// records, memOutbox).
	src outboxSource
}

// outboxSource is an outbox's decisions kept elsewhere, in writeBackOrder.
type outboxSource interface {
	len() int
	get(i int) decide.PendingDecision
	keyed(i int) connectors.KeyedDecision
	head(i int) (key, file, reverses string)
}

// pendingOf is what a commit left PENDING, in writeBackOrder: the run
// writes back what it just committed without reading it back from the
// store.
func pendingOf(c state.Commit) *outbox {
	var idx []int32
	for i := range c.Decisions {
		if d := &c.Decisions[i]; d.Decision.Outcome == domain.Auto || d.Reverses != "" {
			idx = append(idx, int32(i))
		}
	}
	perm := state.OrderBy(len(idx), func(k int) state.OrderKey {
		d := &c.Decisions[idx[k]]
		return state.WriteBackKey(d.FileHash, d.Tx, d.Key)
	})
	for k, i := range perm {
		perm[k] = idx[i]
	}
	return &outbox{recs: c.Decisions, perm: perm, at: c.At.UTC(), snap: c.Snapshots}
}

func (o *outbox) len() int {
	if o.src != nil {
		return o.src.len()
	}
	if o.recs != nil {
		return len(o.perm)
	}
	return len(o.list)
}

// get is the i-th decision.
func (o *outbox) get(i int) decide.PendingDecision {
	if o.src != nil {
		return o.src.get(i)
	}
	if o.recs == nil {
		return o.list[i]
	}
	d := &o.recs[o.perm[i]]
	return decide.PendingDecision{Key: d.Key, FileHash: d.FileHash, Tx: *d.Tx, Decision: d.Decision, Items: decide.ItemsOf(d, o.snap),
		DecidedAt: o.at, Reverses: d.Reverses}
}

// keyed is the i-th decision as the ledger is handed it.
func (o *outbox) keyed(i int) connectors.KeyedDecision {
	if o.src != nil {
		return o.src.keyed(i)
	}
	if o.recs == nil {
		p := &o.list[i]
		return connectors.KeyedDecision{Key: p.Key, Tx: p.Tx, Decision: p.Decision, Items: p.Items, DecidedAt: p.DecidedAt}
	}
	d := &o.recs[o.perm[i]]
	return connectors.KeyedDecision{Key: d.Key, Tx: *d.Tx, Decision: d.Decision, Items: decide.ItemsOf(d, o.snap), DecidedAt: o.at}
}

// head is the i-th decision's key, file and the letter it reverses.
func (o *outbox) head(i int) (key, file, reverses string) {
	if o.src != nil {
		return o.src.head(i)
	}
	if o.recs == nil {
		p := &o.list[i]
		return p.Key, p.FileHash, p.Reverses
	}
	d := &o.recs[o.perm[i]]
	return d.Key, d.FileHash, d.Reverses
}

// apply writes decisions to the ledger (see applyPending).
func (j *Job) apply(ctx context.Context, log *slog.Logger, ob *outbox) (int, error) {
	return j.applyAll(ctx, log, ob, nil)
}

// applyAll is apply that also fills refused (when not nil) with the
// decision keys the ledger refused and its reasons. Reversals go first: a
// payment unlettered and lettered again has its old letter undone before
// the new one is written; then the letters, one batch per statement file.
func (j *Job) applyAll(ctx context.Context, log *slog.Logger, ob *outbox, refused map[string]string) (int, error) {
	n := ob.len()
	if n == 0 {
		return 0, nil
	}
	keys := make([]string, n)
	var revs []decide.PendingDecision
	letters := make([]int32, 0, n)
	for i := range n {
		key, _, reverses := ob.head(i)
		keys[i] = key
		if reverses != "" {
			revs = append(revs, ob.get(i))
		} else {
			letters = append(letters, int32(i))
		}
	}
	have, err := j.Ledger.Applied(ctx, keys)
	if err != nil {
		return 0, fmt.Errorf("checking pending decisions in the ledger: %w", err)
	}
	if revs, err = j.orderReversals(ctx, revs); err != nil {
		return 0, err
	}
	w := &writing{j: j, log: log, have: have, refused: refused, done: make([]string, 0, n)}
	if err := w.reversals(ctx, revs); err != nil {
		return w.applied, w.stop(ctx, err)
	}
	if err := w.letters(ctx, ob, letters); err != nil {
		return w.applied, w.stop(ctx, err)
	}
	crashAt(FailAfterApply)
	if err := j.Store.MarkApplied(ctx, j.Name, w.done, j.now()); err != nil {
		return w.applied, err
	}
	crashAt(FailAfterMark)
	log.Info("decisions written back", "component", "ledger", "applied", w.applied, "confirmed", len(w.done)-w.applied)
	return w.applied, nil
}

// writing is the progress of one write-back: what the ledger held before
// (have), the keys it holds now (done), how many were written (applied)
// and what it refused (refused, when not nil).
type writing struct {
	j       *Job
	log     *slog.Logger
	have    map[string]bool
	done    []string
	applied int
	refused map[string]string
}

func (w *writing) note(key, reason string) {
	if w.refused != nil {
		w.refused[key] = reason
	}
}

// stop ends a write-back that failed: what was confirmed so far stays
// confirmed.
func (w *writing) stop(ctx context.Context, err error) error {
	_ = w.j.Store.MarkApplied(ctx, w.j.Name, w.done, w.j.now())
	return err
}

// reversals undoes letters in the ledger, one by one.
func (w *writing) reversals(ctx context.Context, revs []decide.PendingDecision) error {
	j := w.j
	refusedWith := map[string]bool{} // refused with a later letter of the same payment
	for i, p := range revs {
		switch {
		case w.have[p.Key]:
			w.done = append(w.done, p.Key)
		case refusedWith[p.Key]:
		default:
			err := j.unletterInLedger(ctx, p)
			if rej, only := connectors.Rejections(err); err != nil && only && len(rej) > 0 {
				// The ledger refused to undo the letter: it stands, and so
				// do the older letters of the same payment (the letter
				// whose remainder it resolved): their reversals are not
				// tried.
				w.log.Warn("the ledger refused an unlettering; the letter stands", "component", "ledger",
					"decision", p.Key, "reason", rej[0].Reason)
				keys := []string{p.Key}
				for k := i + 1; k < len(revs); k++ {
					if revs[k].Tx.Key == p.Tx.Key && !w.have[revs[k].Key] {
						keys = append(keys, revs[k].Key)
						refusedWith[revs[k].Key] = true
					}
				}
				if err := j.Store.MarkReversalsRejected(ctx, j.Name, keys, rej[0].Reason, j.now()); err != nil {
					return err
				}
				for _, k := range keys {
					w.note(k, rej[0].Reason)
				}
				continue
			}
			if err != nil {
				return err
			}
			w.done = append(w.done, p.Key)
			w.applied++
		}
	}
	return nil
}

// letters writes the letters (indexes into ob, in its order) one batch per
// statement file. A ledger that refuses some decisions for business
// reasons writes all the others: those become exceptions carrying the
// ledger's message, and the write-back goes on.
//
// The next batch is made (ob.keyed: the decision, its transaction and its
// items, copied out of the outbox) while the ledger writes the current one:
// making a batch only reads the outbox and w.have, which nothing changes
// during the write-back, and everything the write-back records (w.done,
// the refusals in the store) is still recorded here, batch after batch, in
// the order it was. At most two batches are held at once.
func (w *writing) letters(ctx context.Context, ob *outbox, letters []int32) error {
	j := w.j
	next, stop := w.makeBatches(ob, letters)
	defer stop()
	for b := range next {
		w.done = append(w.done, b.held...)
		batch := b.batch
		if len(batch) == 0 {
			continue
		}
		t0 := time.Now()
		err := j.Ledger.Apply(ctx, batch)
		j.Metrics.ledgerWrite(j.Name, time.Since(t0), err)
		w.log.Debug("ledger batch", "component", "ledger", "decisions", len(batch), "took", time.Since(t0).Round(time.Millisecond).String(), "err", err)
		refusedHere := map[string]bool{}
		if rej, only := connectors.Rejections(err); only {
			var rs []decide.Rejection
			for _, r := range rej {
				refusedHere[r.Key] = true
				w.note(r.Key, r.Reason)
				rs = append(rs, decide.Rejection{Key: r.Key, Reason: r.Reason, Hold: r.Partial})
				w.log.Warn("the ledger refused a decision; the payment is an exception again", "component", "ledger",
					"decision", r.Key, "reason", r.Reason, "partial", r.Partial)
			}
			if err := j.Store.MarkRejected(ctx, j.Name, rs, j.now()); err != nil {
				return err
			}
			err = nil
		}
		if err != nil {
			return fmt.Errorf("writing %d decisions back to the ledger: %w", len(batch), err)
		}
		for _, kd := range batch {
			if !refusedHere[kd.Key] {
				w.done = append(w.done, kd.Key)
				w.applied++
			}
		}
	}
	return nil
}

// letterBatch is one statement file's letters as the ledger is handed
// them (batch), and the keys of that file the ledger held already (held),
// in the outbox's order.
type letterBatch struct {
	held  []string
	batch []connectors.KeyedDecision
}

// makeBatches makes letters' batches, one per statement file, in order, on
// a goroutine of its own, one batch ahead of the receiver. stop (after
// which next yields nothing more) ends the goroutine early and waits for it.
func (w *writing) makeBatches(ob *outbox, letters []int32) (next <-chan letterBatch, stop func()) {
	out := make(chan letterBatch)
	quit := make(chan struct{})
	ended := make(chan struct{})
	go func() {
		defer close(ended)
		defer close(out)
		for start := 0; start < len(letters); {
			_, file, _ := ob.head(int(letters[start]))
			end := start + 1
			for ; end < len(letters); end++ {
				if _, f, _ := ob.head(int(letters[end])); f != file {
					break
				}
			}
			b := letterBatch{batch: make([]connectors.KeyedDecision, 0, end-start)}
			for _, i := range letters[start:end] {
				if key, _, _ := ob.head(int(i)); w.have[key] {
					b.held = append(b.held, key)
					continue
				}
				b.batch = append(b.batch, ob.keyed(int(i)))
			}
			start = end
			select {
			case out <- b:
			case <-quit:
				return
			}
		}
	}()
	return out, func() {
		close(quit)
		<-ended
	}
}

// sameAllocations reports whether two decisions allocate the same amounts
// to the same items and post the same amounts.
func sameAllocations(a, b domain.Decision) bool {
	key := func(d domain.Decision) []string {
		var out []string
		for _, al := range d.Allocations {
			k := al.ItemID + "=" + al.Amount.Key() + "+" + al.WriteOff.Key()
			if al.CrossCurrency() {
				k += "/" + al.ItemCurrency + al.ItemAmount.Key()
			}
			out = append(out, k)
		}
		for _, p := range d.Postings {
			out = append(out, string(p.Kind)+":"+p.CustomerID+":"+p.ItemID+"="+p.Amount.Key())
		}
		sort.Strings(out)
		return out
	}
	return reflect.DeepEqual(key(a), key(b))
}

// sameException reports whether a re-matched exception decided the same as before.
func sameException(a, b domain.Decision) bool {
	return a.Outcome == b.Outcome && a.Reason == b.Reason && reflect.DeepEqual(a.Candidates, b.Candidates)
}

func isSkipped(err error) bool { return errors.Is(err, ErrFilesSkipped) }

// accountName is the configured name of a bank account, else its last four
// characters.
func (j *Job) accountName(account string) string {
	if n := j.AccountNames[account]; n != "" {
		return n
	}
	return accountSuffix(account)
}

type countingWriter struct{ n int64 }

func (c *countingWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

// errorKind classifies a statement error for lettrage_source_errors_total.
func errorKind(err error) string {
	switch {
	case errors.Is(err, connectors.ErrUnavailable):
		return "unavailable"
	case errors.Is(err, connectors.ErrNotFound):
		return "not_found"
	case errors.Is(err, ErrFileTooLarge), errors.Is(err, compress.ErrLimit):
		return "too_large"
	}
	return "unreadable"
}

// indexItems indexes open items by id.
func indexItems(items []domain.OpenItem) map[string]domain.OpenItem {
	out := make(map[string]domain.OpenItem, len(items))
	for _, it := range items {
		out[it.ID] = it
	}
	return out
}

// writeReports rewrites the exceptions reports from the state store, hands
// the snapshot to a ledger that shows exceptions, and updates the gauges;
// items (when known) are the open items before allocated was applied. It
// returns the exceptions reported.
func (j *Job) writeReports(ctx context.Context, items []domain.OpenItem, allocated map[string]domain.Amount) ([]decide.StoredTx, error) {
	exc, _, err := j.writeReportsFrom(ctx, items, allocated, nil)
	return exc, err
}

// setAsideShown is what the workbook shows of the transactions set aside:
// those of the last SetAsideDays.
func (j *Job) setAsideShown(ctx context.Context) ([]decide.StoredTx, error) {
	return j.Store.SetAsideTxs(ctx, j.Name, j.now().AddDate(0, 0, -SetAsideDays))
}

// reportLookup is the open items the reports name: items less what this
// run lettered (allocated), else those a resolution last read.
func (j *Job) reportLookup(items []domain.OpenItem, allocated map[string]domain.Amount) map[string]domain.OpenItem {
	lookup := j.reportItems
	if items != nil {
		// what this run lettered is no longer open
		lookup = indexItems(items)
		for id, a := range allocated {
			if it, ok := lookup[id]; ok {
				if it.Residual = it.Residual.Sub(a); it.Residual.IsZero() {
					delete(lookup, id)
				} else {
					lookup[id] = it
				}
			}
		}
	}
	return lookup
}

// writeReportsFrom is writeReports with the exceptions already read and
// rendered (early; nil: read and rendered now; its workbook, when
// rendered, is written as it is). refused reports that the
// ledger refused to record some exceptions (they stay in the reports).
func (j *Job) writeReportsFrom(ctx context.Context, items []domain.OpenItem, allocated map[string]domain.Amount,
	early *renderedExceptions) (exc []decide.StoredTx, refused bool, err error) {
	if early == nil {
		var r renderedExceptions
		if r.exc, r.err = j.Store.Exceptions(ctx, j.Name); r.err == nil {
			r.csv, r.err = report.ExceptionsCSV(r.exc)
		}
		early = &r
	}
	exc, csvData, err := early.exc, early.csv, early.err
	if err != nil {
		return nil, false, err
	}
	var lookup map[string]domain.OpenItem
	if early.xlsx == nil || j.Reports.FrenchCSV {
		lookup = j.reportLookup(items, allocated)
	}
	var setAside []decide.StoredTx
	if j.Reports.XLSX && early.xlsx == nil {
		if setAside, err = j.setAsideShown(ctx); err != nil {
			return nil, false, err
		}
	}
	if err := report.WriteFiles(j.ReportDir, j.Reports, exc, csvData, early.xlsx, j.accountName, lookup, setAside...); err != nil {
		return nil, false, err
	}
	j.Metrics.unmatched(j.Name, exc, j.now())
	if items != nil {
		j.Metrics.receivablesAfter(j.Name, items, allocated, j.now())
	}
	if sink, ok := j.Ledger.(connectors.ExceptionSink); ok {
		crashAt(FailBeforeSink)
		list := make([]connectors.Exception, len(exc))
		for i, st := range exc {
			list[i] = connectors.Exception{Tx: st.Tx, Decision: st.Decision}
		}
		if err := sink.RecordExceptions(ctx, list); err != nil {
			rej, only := connectors.Rejections(err)
			if !only {
				return nil, false, fmt.Errorf("recording exceptions in the ledger: %w", err)
			}
			// The ledger refused some exceptions (a closed period): they
			// stay in the reports; the run goes on, and the next pass
			// hands them over again.
			refused = true
			for _, r := range rej {
				j.Log.Warn("the ledger refused to record an exception", "component", "ledger", "job", j.Name,
					"tx", r.Key, "reason", r.Reason)
			}
		}
	}
	return exc, refused, nil
}

// ErrCannotUnletter is returned (wrapped) when the job's ledger cannot
// reverse a lettering.
var ErrCannotUnletter = errors.New("this ledger cannot reverse a lettering")

// reversals builds the decisions that undo the letters of the transaction
// txKey that stand: its letter and the resolutions of its remainder that
// followed (see Store.Letters), newest first, one per letter, each keyed by
// the letter it undoes. It returns nil and why when there is nothing to
// undo or the ledger cannot.
func (j *Job) reversals(ctx context.Context, txKey, why string) ([]decide.DecisionRecord, string, error) {
	if _, ok := j.Ledger.(connectors.Unletterer); !ok {
		return nil, ErrCannotUnletter.Error() + ": reverse it in the ERP", nil
	}
	st, found, err := j.Store.Transaction(ctx, j.Name, txKey)
	if err != nil {
		return nil, "", err
	}
	if !found || st.State != decide.TxLettered {
		return nil, "the payment is not lettered", nil
	}
	chain, _, err := j.Store.Letters(ctx, j.Name, txKey)
	if err != nil {
		return nil, "", err
	}
	if len(chain) == 0 {
		return nil, "no letter left to undo", nil
	}
	var out []decide.DecisionRecord
	for i := len(chain) - 1; i >= 0; i-- {
		last := chain[i]
		d := domain.Decision{TxKey: txKey, Outcome: domain.Unletter, UnletterKey: txKey, Rule: "unletter",
			Confidence: 1, Allocations: last.Decision.Allocations, Postings: last.Decision.Postings, Explanation: why}
		out = append(out, decide.DecisionRecord{Key: "unl-" + decide.ShortHash(j.Name+"\x00"+last.Key), Tx: &st.Tx, Decision: d,
			Items: last.Items, Reverses: last.Key, FileHash: st.FileHash})
	}
	return out, "", nil
}

// orderReversals puts the reversals of one payment's letters newest letter
// first (the remainder's resolution before the letter it followed), keeping
// everything else in place.
func (j *Job) orderReversals(ctx context.Context, revs []decide.PendingDecision) ([]decide.PendingDecision, error) {
	perTx := map[string]int{}
	for _, p := range revs {
		perTx[p.Tx.Key]++
	}
	rank := map[string]int{} // letter key → its place among the payment's letters
	for txKey, n := range perTx {
		if n < 2 {
			continue
		}
		all, err := j.Store.AllLetters(ctx, j.Name, txKey)
		if err != nil {
			return nil, err
		}
		for i, a := range all {
			rank[a.Key] = i
		}
	}
	if len(rank) == 0 {
		return revs, nil
	}
	first := map[string]int{} // tx key → index of its first reversal
	for i, p := range revs {
		if _, ok := first[p.Tx.Key]; !ok {
			first[p.Tx.Key] = i
		}
	}
	out := append([]decide.PendingDecision(nil), revs...)
	sort.SliceStable(out, func(a, b int) bool {
		x, y := out[a], out[b]
		if fx, fy := first[x.Tx.Key], first[y.Tx.Key]; fx != fy {
			return fx < fy
		}
		return rank[x.Reverses] > rank[y.Reverses]
	})
	return out, nil
}

// unletterInLedger writes one PENDING reversal to the ledger.
func (j *Job) unletterInLedger(ctx context.Context, p decide.PendingDecision) error {
	u, ok := j.Ledger.(connectors.Unletterer)
	if !ok {
		return fmt.Errorf("reversing %s: %w", p.Reverses, ErrCannotUnletter)
	}
	t0 := time.Now()
	err := u.Unletter(ctx, connectors.Reversal{Key: p.Key, Reverses: p.Reverses, Tx: p.Tx,
		Allocations: p.Decision.Allocations, Postings: p.Decision.Postings, Items: p.Items, Reason: p.Decision.Explanation,
		At: p.DecidedAt})
	j.Metrics.ledgerWrite(j.Name, time.Since(t0), err)
	if err != nil {
		return fmt.Errorf("reversing %s in the ledger: %w", p.Reverses, err)
	}
	return nil
}

// suggestInstead turns an automatic decision into a suggestion of the same
// items, for an accountant to confirm.
func suggestInstead(d domain.Decision, reason, why string) domain.Decision {
	s := domain.Decision{TxKey: d.TxKey, Outcome: domain.Suggested, Reason: reason, Confidence: d.Confidence,
		Explanation: why + d.Explanation}
	for _, a := range d.Allocations {
		s.Candidates = append(s.Candidates, domain.Candidate{ItemID: a.ItemID, Score: d.Confidence})
	}
	return s
}

// LetteredMemoryDays is how far back lettered payments are kept in view to
// recognise their reversal or return (SEPA returns come up to 13 months
// later).
const LetteredMemoryDays = 400
