package pipeline

import (
	"context"

	"github.com/lettrage/lettrage/domain"
	"github.com/lettrage/lettrage/matcher"
	"github.com/lettrage/lettrage/pipeline/decide"
	"github.com/lettrage/lettrage/pipeline/state"
)

// matcherMemory reads what the matcher needs of the learned memory to
// decide the new transactions fresh and the stored ones open (issue 18).
// The lettered payments of the last LetteredMemoryDays (Memory.Lettered,
// Memory.LetteredRefs: one row decoded per lettered payment, most of a
// delta pass's reading at scale) are read only when one of them is a
// bank reversal or return: the matcher consults them for nothing else
// (matcher's findLettered, called for those alone), so leaving them out
// otherwise decides exactly the same. The SQL store alone leaves them out;
// the memory store of `lettrage match` holds them anyway. The SQL store
// also gives only the settled items the transactions can name
// (matcher.NamedKeys, Store.SettledItemsNamed): the matcher looks settled
// items up by nothing else.
func (j *Job) matcherMemory(ctx context.Context, fresh []domain.Transaction, open []decide.StoredTx) (matcher.Memory, error) {
	since := j.now().AddDate(0, 0, -LetteredMemoryDays)
	s, ok := j.Store.(*state.Store)
	if !ok {
		return j.Store.Memory(ctx, j.Name, since)
	}
	named := func() []string {
		return matcher.NamedKeysOf(len(fresh)+len(open), func(i int) *domain.Transaction {
			if i < len(fresh) {
				return &fresh[i]
			}
			return &open[i-len(fresh)].Tx
		})
	}
	return s.LoadMemoryNamed(ctx, j.Name, since, undoesLetters(fresh, open), named)
}

// undoesLetters reports whether a transaction of fresh or open is a bank
// reversal or return, which the matcher ties to the lettered payment it
// undoes.
func undoesLetters(fresh []domain.Transaction, open []decide.StoredTx) bool {
	for i := range fresh {
		if fresh[i].Reversal || fresh[i].Return {
			return true
		}
	}
	for i := range open {
		if open[i].Tx.Reversal || open[i].Tx.Return {
			return true
		}
	}
	return false
}

// mapReads is the step that maps the SQLite state file for the pass's
// reading steps (on) and unmaps it before the commit (Store.MapReads).
func (p *pass) mapReads(on bool) func(context.Context) error {
	return func(ctx context.Context) error {
		if s, ok := p.j.Store.(*state.Store); ok {
			return s.MapReads(ctx, on)
		}
		return nil
	}
}
