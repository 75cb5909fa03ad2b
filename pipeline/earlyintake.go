package pipeline

import (
	"context"
	"fmt"
)

// earlyIntake passes the statements' transactions through the identity rule
// (intake.addFile) as the reader hands them over, in listing order, while
// the pass is still reading the open items (Job.takeInEarly): takeIn then
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
}

// startEarlyIntake starts taking in what rd reads (ctx: the reader's, which
// stop cancels).
func (p *pass) startEarlyIntake(ctx context.Context, rd *statementReader) *earlyIntake {
	j := p.j
	ids := newIntake(j.Store.Prior(j.Name))
	_, forgets := j.Store.(deliveriesForgetter)
	ids.recordDeliveries = !forgets
	ei := &earlyIntake{ids: ids, done: make(chan struct{})}
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
