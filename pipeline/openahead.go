package pipeline

import (
	"context"

	"github.com/lettrage/lettrage/pipeline/state"
)

// The open exceptions read ahead (issue 18). Reading them
// (Store.OpenAndExceptions: every open row and the other exceptions) is
// seconds of SQLite and JSON at scale, and depends neither on the open
// items nor on this pass's statements: on the state recovery and the
// inbox leave, which are done when it starts. The steps between its start
// and gatherOpen write no transaction nor decision (the items' stamp,
// refused files; takeIn only looks up), so the rows read ahead are those
// gatherOpen would read. It starts:
//
//   - in loadItems, beside the ledger's reading, when the ledger's stamp
//     says the items may have changed (itemstamp.go): the pass then
//     examines the open exceptions unless their hash is the one recorded
//     (a file touched but not changed — the one case where the read is
//     wasted, and then it is stopped); a pass that cannot tell (no stamp)
//     does not read ahead, as an idle pass would read them for nothing;
//   - in gatherOpen, once it knows the pass examines them, beside the
//     items it reads then (needItems) when they were left unread.
//
// Its error is returned by gatherOpen, where the read was, with the same
// message; a pass that stops before waits for it (Job.Run).

// openAhead is the open exceptions' read under way.
type openAhead struct {
	cancel context.CancelFunc
	done   chan struct{}
	rows   state.OpenRows
	err    error
}

// readOpenAhead starts reading the open exceptions, when the store is the
// SQL one and they are not being read already. The read maps the state
// file first (Store.MapReads), as the pass does for its reading steps.
func (p *pass) readOpenAhead(ctx context.Context) {
	s, ok := p.j.Store.(*state.Store)
	if !ok || p.ahead != nil {
		return
	}
	actx, cancel := context.WithCancel(ctx)
	a := &openAhead{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(a.done)
		if a.err = s.MapReads(actx, true); a.err == nil {
			a.rows, a.err = s.OpenAndExceptions(actx, p.j.Name)
		}
	}()
	p.ahead = a
}

// wait is the read's outcome, once it is done.
func (a *openAhead) wait() (state.OpenRows, error) {
	<-a.done
	return a.rows, a.err
}

// stop cancels the read and waits for it (nil: nothing was started).
func (a *openAhead) stop() {
	if a == nil {
		return
	}
	a.cancel()
	<-a.done
}
