package pipeline

import (
	"context"
	"errors"
	"log/slog"
	"runtime"
	"sync"

	"github.com/lettrage/lettrage/connectors"
)

// statementReader lists a job's source and reads the files not processed
// or refused before with Job.Workers readers, while the pass reads the open
// items; readStatements takes the results in listing order, so that the
// outcome (and the log) does not depend on timing. Nothing is recorded or
// filed away here: that is readStatements' and the later steps' work.
type statementReader struct {
	ctx    context.Context // cancelled by stop
	cancel context.CancelFunc
	wg     sync.WaitGroup
	ready  chan struct{} // closed once refs and err are set
	refs   []connectors.StatementRef
	err    error
	files  []readResult
}

// readResult is what became of one listed file.
type readResult struct {
	// seen: processed before and unchanged (not read); held: refused
	// before and unchanged (not read); lookErr: looking that up failed.
	seen, held bool
	lookErr    error
	sf         stagedFile
	err        error
	logs       *logRecorder // what reading the file logged, replayed in order
	done       chan struct{}
	// taken, when not nil (unless Job.takeInLate), is closed once the early
	// intake has let go of sf (earlyintake.go).
	taken chan struct{}
}

// errNoSource is the listing error of a job without a statement source.
var errNoSource = errors.New("no statement source")

// startReading lists the source and starts reading.
func (j *Job) startReading(ctx context.Context) *statementReader {
	rctx, cancel := context.WithCancel(ctx)
	rd := &statementReader{ctx: rctx, cancel: cancel, ready: make(chan struct{})}
	workers := j.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	rd.wg.Add(1)
	go func() {
		defer rd.wg.Done()
		if j.Source == nil {
			rd.err = errNoSource
		} else {
			rd.refs, rd.err = j.Source.List(rctx)
		}
		rd.files = make([]readResult, len(rd.refs))
		for i := range rd.files {
			rd.files[i].done = make(chan struct{})
			if !j.takeInLate {
				rd.files[i].taken = make(chan struct{})
			}
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
					r.logs = newLogRecorder(j.Log.Handler())
					r.sf, r.err = j.readFile(rctx, rd.refs[i], slog.New(r.logs))
					close(r.done)
				}
			}()
		}
		defer close(next)
		for i, ref := range rd.refs {
			r := &rd.files[i]
			if r.seen, r.lookErr = j.Store.SeenListing(rctx, j.Name, ref.Source, ref.Path, ref.Size, ref.ModTime); r.seen || r.lookErr != nil {
				close(r.done)
				continue
			}
			if r.held, r.lookErr = j.Store.HeldListing(rctx, j.Name, ref.Source, ref.Path, ref.Size, ref.ModTime); r.held || r.lookErr != nil {
				close(r.done)
				continue
			}
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
func (rd *statementReader) listed() ([]connectors.StatementRef, error) {
	<-rd.ready
	return rd.refs, rd.err
}

// stop cancels what is still being read and waits for the readers (nil:
// nothing was started).
func (rd *statementReader) stop() {
	if rd == nil {
		return
	}
	rd.cancel()
	rd.wg.Wait()
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
