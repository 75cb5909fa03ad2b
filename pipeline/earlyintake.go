package pipeline

import (
	"context"
	"fmt"
)

// earlyIntake passes the statements' transactions through the identity rule
// (intake.addFile) as the reader hands them over, in listing order, while
// the pass is still reading the open items (unless Job.takeInLate): takeIn then
// finds the files taken in. It takes in only what takeIn would, in the same
// order, and nothing else: a file read without error, not known, not a
// second copy of a file of this pass nor one processed before. At the first
// file it cannot settle so (unreadable, held, or its store lookups failing)
// it stops, and takeIn goes on from there as it would have. It logs
// nothing, counts nothing, and writes neither the source nor the store: the
// pass's log lines, metrics and quarantines stay where and in the order
// they were.
type earlyIntake struct {
	ids *intake
	// hashes are the files taken in, in order; err is addFile's failure
	// on the file after them (takeIn returns it on reaching that file).
	hashes []string
	err    error
	done   chan struct{} // closed once it has stopped
	cancel context.CancelFunc
}

// startEarlyIntake starts taking in what rd reads. Its store lookups run
// under a context of their own, derived from the pass's (ctx) and
// cancelled by stop only: the reader's is cancelled as soon as
// readStatements has every file (statementReader.stop), while the lookups
// of the last files may still be running — a lookup cut short would fail
// the pass. It waits for the reader under either.
//
// The lookups read what only the steps before startReading write (the
// file records, the recorded transactions and their links: recover and
// the inbox); the steps it runs beside write the items record
// (loadItems), the refusals and the quarantines (readStatements), never
// those. The SQL store's database/sql pool serializes its queries with
// theirs (SQLite: one connection), and no step holds a connection while
// it waits for the intake (readStatements waits for taken, which is closed
// before the file's lookups).
func (p *pass) startEarlyIntake(ctx context.Context, rd *statementReader) *earlyIntake {
	j := p.j
	ids := newIntake(j.Store.Prior(j.Name))
	_, forgets := j.Store.(deliveriesForgetter)
	ids.recordDeliveries = !forgets
	ctx, cancel := context.WithCancel(ctx)
	ei := &earlyIntake{ids: ids, done: make(chan struct{}), cancel: cancel}
	go func() {
		defer close(ei.done)
		if _, err := rd.listed(); err != nil {
			return
		}
		// readStatements takes a file's staging once it is let go (taken
		// closed): files [0, let) are.
		let := 0
		defer func() {
			for ; let < len(rd.files); let++ {
				close(rd.files[let].taken)
			}
		}()
		seenHash := map[string]bool{}
		for i := range rd.files {
			r := &rd.files[i]
			select {
			case <-r.done:
			case <-rd.ctx.Done():
				// Stopped (or the pass cancelled): the reader may not
				// get to r; readStatements stops at the same point.
				select {
				case <-r.done:
				default:
					return
				}
			case <-ctx.Done():
				return
			}
			if r.lookErr != nil || r.held || r.err != nil {
				return
			}
			hash, txs := r.sf.hash, r.sf.txs
			close(r.taken)
			let++
			if r.seen {
				continue
			}
			if seenHash[hash] {
				continue
			}
			if done, err := j.Store.FileDone(ctx, j.Name, hash); err != nil {
				return
			} else if done {
				continue
			}
			seenHash[hash] = true
			if err := ids.addFile(ctx, hash, txs); err != nil {
				ei.err = err
				return
			}
			ei.hashes = append(ei.hashes, hash)
		}
	}()
	return ei
}

// stop cancels the intake's lookups and waits for it to stop (nil:
// none started): at the end of the pass, so that nothing reads the store
// after Run returned.
func (ei *earlyIntake) stop() {
	if ei == nil {
		return
	}
	ei.cancel()
	<-ei.done
}

// taken reports whether the k-th file takeIn takes in (hash) was taken in
// early (never, ei nil); the error is the early intake's failure on that file, or its
// being another file than the early intake's k-th (which would be a defect
// of the early intake).
func (ei *earlyIntake) taken(k int, hash string) (bool, error) {
	switch {
	case ei == nil:
		return false, nil
	case k < len(ei.hashes) && ei.hashes[k] == hash:
		return true, nil
	case k < len(ei.hashes):
		return false, fmt.Errorf("taking in statement %s: the identity rule took in %s in its place", shortHashText(hash), shortHashText(ei.hashes[k]))
	case k == len(ei.hashes) && ei.err != nil:
		return false, ei.err
	}
	return false, nil
}
