package matcher

// CheckInvariants and CheckShuffled expose the golden-test property checks
// to the external benchmark tests.
var (
	CheckInvariants = checkInvariants
	CheckShuffled   = checkShuffled
)

// TypoBench builds the index of in and returns, for the typo benchmark,
// a function that gathers transaction i's evidence without its typo step
// (once, outside the timed loop) and one that runs the typo step on it,
// returning how many items it found.
func TypoBench(in Input) (prepare func(i int), typos func(i int) int) {
	e := &engine{cfg: in.Config, ix: newIndex(in.Items, in.Memory), mem: in.Memory}
	evs := make([]*evidence, len(in.Transactions))
	texts := make([][]string, len(in.Transactions))
	sc := newScratch()
	prepare = func(i int) {
		tx := &in.Transactions[i]
		ev := e.gatherWith(tx, sc)
		ev.typos, ev.payerTypos = nil, nil
		evs[i], texts[i] = ev, txTexts(tx)
	}
	typos = func(i int) int {
		ev := evs[i]
		if ev == nil || ev.strongDoc() {
			return 0
		}
		ev.typos, ev.payerTypos = ev.typos[:0], ev.payerTypos[:0]
		e.gatherTypos(ev, texts[i], sc)
		return len(ev.typos) + len(ev.payerTypos)
	}
	return prepare, typos
}
