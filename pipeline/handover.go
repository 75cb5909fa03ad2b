package pipeline

import (
	"context"
	"fmt"
	"reflect"
	"sync/atomic"

	"github.com/lettrage/lettrage/pipeline/decide"
	"github.com/lettrage/lettrage/pipeline/state"
)

// handedExceptions is what a pass over the SQL store hands its exceptions
// reports instead of their reading every exception again after the commit
// (issue 18: at 1,000,000 payments, ≈ 180,000 rows read and decoded twice,
// the second time through SQLite's page cache, which the store then frees
// at close). gatherOpen reads the open transactions with the other
// exceptions in one query (Store.OpenAndExceptions); what the pass then
// writes of the transactions — the rows of its decisions (new, matched
// again, reversed), what a new delivery says of a recorded one, the
// entries detailed by a camt.054 — is read again by key after the commit
// (Store.ExceptionsAmong); every other row is as it was read. A ledger's
// refusal rewrites rows outside the pass's commit: the reports then read
// the store whole, as before. The rows the commit inserts (a new
// transaction's, written once by its one record) are not read again at
// all: their exceptions are handed as the commit wrote them (written). A
// first pass writes only such rows; it read back its ≈ 195,000 exceptions
// at 1,000,000 payments before (8.3 s of CPU: decoding the JSON the
// commit had just encoded).
type handedExceptions struct {
	// open is the pass's open exceptions as read (p.open's array: the
	// rows it enriches or drops are touched, so read again); others the
	// exceptions in other states; notException the open rows not flagged.
	open, others []decide.StoredTx
	notException map[string]bool
	// touched are the keys of the rows the pass writes (or whose copy in
	// open it changed) and reads again, the rows of written excepted.
	touched map[string]bool
	// written are the exceptions among the rows the commit inserted and
	// wrote nothing else to, as it wrote them (exceptionWritten).
	written []decide.StoredTx
}

// checkHanded, set by the package's tests, compares every list handed to
// the reports with the store's own (Store.Exceptions) and fails the pass
// when they differ; handedLists counts the lists handed.
var (
	checkHanded bool
	handedLists atomic.Int64
)

// touch records that the pass writes the row of key.
func (h *handedExceptions) touch(key string) {
	h.touched[key] = true
}

// touchCommit records the rows c writes: a row the commit inserts with
// its one record and writes nothing else to is handed as written (in
// written when an exception); any other is read again.
func (h *handedExceptions) touchCommit(c *state.Commit) {
	// A transaction is inserted by one record (a second insert of its key
	// fails the commit); the others update it.
	for i := range c.Decisions {
		if d := &c.Decisions[i]; d.Tx != nil && !d.New {
			h.touch(d.Tx.Key)
		}
	}
	for i := range c.Enriched {
		h.touch(c.Enriched[i].Key)
	}
	for i := range c.Deliveries {
		h.touch(c.Deliveries[i].TxKey)
	}
	for i := range c.Decisions {
		d := &c.Decisions[i]
		if d.Tx == nil || !d.New || h.touched[d.Tx.Key] {
			continue
		}
		if st, ok := exceptionWritten(d); ok {
			h.written = append(h.written, st)
		}
	}
}

// exceptionWritten is the row the commit inserts for the new transaction
// of d as Store.Exceptions reads it back, and whether it is an exception
// (state.Store's commitWriter.transaction: the state and decision shown,
// decide.Shown; the row flagged when decide.IsException), less what the
// store does not keep (domain.Decision's Situation).
func exceptionWritten(d *decide.DecisionRecord) (decide.StoredTx, bool) {
	txState, _, current := decide.Shown(*d)
	if !decide.IsException(current) {
		return decide.StoredTx{}, false
	}
	shown := current
	if d.Shows == nil && current.Outcome == d.Decision.Outcome && current.Reason == d.Decision.Reason {
		shown = d.Decision
	}
	shown.Situation = "" // not stored (json:"-")
	return decide.StoredTx{Tx: *d.Tx, FileHash: d.FileHash, State: txState, Decision: shown}, true
}

// list is the store's exceptions as the commit left them, in txOrder:
// what was read and not written since, and what was written, read again.
func (h *handedExceptions) list(ctx context.Context, s *state.Store, job string) ([]decide.StoredTx, error) {
	if h.readWhole() {
		h.open, h.others, h.written = nil, nil, nil
		return s.Exceptions(ctx, job)
	}
	keys := make([]string, 0, len(h.touched))
	for k := range h.touched {
		keys = append(keys, k)
	}
	again, err := s.ExceptionsAmong(ctx, job, keys)
	if err != nil {
		return nil, err
	}
	// Each part is in txOrder (filtered in place: h.open is the pass's own
	// and read no more), merged rather than sorted again.
	open := h.open[:0]
	for i := range h.open {
		// p.open also holds the batch entries whose wait is over (not in
		// state open): if exceptions, they are among others.
		if st := &h.open[i]; st.State == decide.TxOpen && !h.touched[st.Tx.Key] && !h.notException[st.Tx.Key] {
			open = append(open, *st)
		}
	}
	others := make([]decide.StoredTx, 0, len(h.others))
	for i := range h.others {
		if st := &h.others[i]; !h.touched[st.Tx.Key] {
			others = append(others, *st)
		}
	}
	out := state.MergeTxs(open, others, state.InTxOrder(again), state.InTxOrder(h.written))
	h.open, h.others, h.written = nil, nil, nil
	handedLists.Add(1)
	if checkHanded {
		want, err := s.Exceptions(ctx, job)
		if err != nil {
			return nil, err
		}
		if len(out) != len(want) {
			return nil, fmt.Errorf("handing the exceptions to the reports: %d handed, the store has %d", len(out), len(want))
		}
		for i := range out {
			if !reflect.DeepEqual(out[i], want[i]) {
				return nil, fmt.Errorf("handing the exceptions to the reports: exception %d differs from the store's:\n%+v\n%+v", i, out[i], want[i])
			}
		}
	}
	return out, nil
}

// readWhole reports whether the pass reads again more rows than it read:
// then reading the store's exceptions whole costs less than reading those
// rows again by key (1,000,000 keys looked up in lists of keysPerQuery
// cost 24.6 s of CPU, against ≈ 3 s for the whole read of their ≈ 195,000
// exceptions). The rows handed as written are not read again.
func (h *handedExceptions) readWhole() bool {
	return len(h.touched) > len(h.open)+len(h.others)
}

// exceptions is the store's exceptions for the reports: handed when the
// pass read them (p.handed), else read.
func (p *pass) exceptions(ctx context.Context) ([]decide.StoredTx, error) {
	if s, ok := p.j.Store.(*state.Store); ok && p.handed != nil {
		return p.handed.list(ctx, s, p.j.Name)
	}
	return p.j.Store.Exceptions(ctx, p.j.Name)
}
