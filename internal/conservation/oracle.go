package conservation

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode"

	"github.com/lettrage/lettrage/domain"
)

// States of an observed transaction (a booked credit the passes recorded).
const (
	Lettered  = "lettered"  // written to the ledger; an excess, if any, reported
	Exception = "exception" // reported whole: nothing allocated
	Waiting   = "waiting"   // a batch entry waiting for its details (set aside)
	Covered   = "covered"   // set aside: other transactions carry its cash
)

// Reasons the oracle expects (the pipeline's Reason* constants).
const (
	ReasonCoveredByDetails  = "covered_by_details"
	ReasonDetailsOfLettered = "details_of_lettered"
	ReasonBatchNoDetails    = "batch_without_details"
)

// Mode is how the deliveries were read.
type Mode int

const (
	// JobMode: the passes of a job over one state store, on the schedule's
	// clock (a batch entry whose details never come is reported once the
	// wait is over).
	JobMode Mode = iota
	// MatchMode: one stateless pass over a folder holding every delivery:
	// a batch entry without details in the folder is reported at once.
	MatchMode
	// OnceMode: passes of the binary on the real clock: the wait for a
	// batch's details is never over.
	OnceMode
)

// Tx is a booked credit as the passes left it.
type Tx struct {
	Account, Currency string
	Day               string // booking date YYYY-MM-DD
	Ref               string // tx_ref
	Amount            domain.Amount
	Payer, Remittance string // "" when unknown
	State             string // Lettered, Exception, Waiting, Covered (anything else is wrong)
	Reason            string // the exception's or set-aside's reason
	// Letters is how many decisions the ledger holds for it.
	Letters int
	// Allocated is the cash the ledger's letters allocate (or post).
	Allocated domain.Amount
	// Reported: in the exceptions report, with Unallocated.
	Reported    bool
	Unallocated domain.Amount
}

func (t Tx) String() string {
	s := fmt.Sprintf("%s %s %s %s %s payer=%q remittance=%q %s", t.Account, t.Day, t.Ref, t.Amount, t.Currency, t.Payer, t.Remittance, t.State)
	if t.Reason != "" {
		s += "(" + t.Reason + ")"
	}
	s += fmt.Sprintf(" letters=%d allocated=%s", t.Letters, t.Allocated)
	if t.Reported {
		s += " reported unallocated=" + t.Unallocated.String()
	}
	return s
}

// Observed is what the passes left, as a harness reads it.
type Observed struct {
	// Txs are the booked credits recorded: lettered and reported ones
	// always, waiting and covered ones when ListsSetAside.
	Txs           []Tx
	ListsSetAside bool
	// SetAside counts what the passes set aside, by reason, summed over the
	// passes (Result.SetAside or the summaries); nil when unknown.
	SetAside map[string]int
	// UnmatchedCash is what the last pass reports (nil when unknown).
	UnmatchedCash map[string]domain.Amount
	// Settled is, by item, what the ledger's letters take off it (cash and
	// write-offs).
	Settled map[string]domain.Amount
	// Read transactions were either delivered again (Redelivered) or
	// recorded as new (Recorded); Read 0: not counted.
	Read, Redelivered, Recorded int
	// Problems the harness found itself (a letter of no recorded credit…).
	Problems []string
}

// unit is a truth the observed transactions must account for.
type unit struct {
	desc     string
	account  int
	day      int
	amount   domain.Amount
	payers   []string // the payer is one of these, or unknown
	remit    string
	states   []string
	reason   string // required reason ("" any)
	setAside bool   // wants Waiting or Covered
}

func fold(s string) string {
	var b strings.Builder
	for _, r := range strings.ToUpper(s) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func (s *Schedule) compatible(u unit, t Tx) bool {
	acc := s.Accounts[u.account]
	if t.Account != acc.IBAN || t.Currency != acc.Currency || t.Day != s.Days[u.day] || !t.Amount.Equal(u.amount) {
		return false
	}
	ok := false
	for _, st := range u.states {
		ok = ok || st == t.State
	}
	if !ok || (u.reason != "" && t.Reason != u.reason) {
		return false
	}
	// The payer, not the remittance: a delivery that says less than the
	// day's statement may be taken for another payment of the same payer,
	// amount and day (the rule cannot tell them apart), and enrich that
	// one with its remittance; the cash is still accounted for once.
	if t.Payer == "" {
		return true
	}
	for _, p := range u.payers {
		if strings.Contains(fold(p), fold(t.Payer)) {
			return true
		}
	}
	return false
}

// firstRun is the first pass that reads a file carrying b's entry booked
// without details.
func (s *Schedule) firstRun(b *Batch) int {
	first := -1
	for _, f := range s.Files {
		for _, x := range f.summaries {
			if x == b && (first < 0 || f.Run < first) {
				first = f.Run
			}
		}
	}
	return first
}

// units are the truth to account for; choice[i] picks, for the i-th
// batch booked without details and detailed by a notification, whether
// its entry is covered by the details (false) or was lettered whole, its
// details set aside (true).
func (s *Schedule) units(mode Mode, wait time.Duration, choice []bool) []unit {
	var out []unit
	accounted := []string{Lettered, Exception}
	pay := func(p *Payment, states []string, reason string) {
		out = append(out, unit{desc: fmt.Sprintf("P%d", p.ID), account: p.Account, day: p.Day, amount: p.Amount,
			payers: []string{p.Payer}, remit: p.Remittance(), states: states, reason: reason, setAside: states[0] == Covered})
	}
	for _, p := range s.Payments {
		if p.Credit {
			pay(p, accounted, "")
		}
	}
	k := 0
	for _, b := range s.Batches {
		entry := func(states []string, reason string) {
			// A batch entry listing its details (without amounts) names
			// their payer when they share one.
			var payers []string
			for _, d := range b.Details {
				payers = append(payers, d.Payer)
			}
			out = append(out, unit{desc: fmt.Sprintf("B%d entry", b.ID), account: b.Account, day: b.Day, amount: b.Amount,
				payers: payers, states: states, reason: reason, setAside: states[0] == Covered || states[0] == Waiting})
		}
		switch {
		case b.Inline:
			for _, d := range b.Details {
				pay(d, accounted, "")
			}
		case b.Listed && !b.Notified:
			entry(accounted, "")
		case b.Notified:
			whole := choice[k]
			k++
			if whole {
				entry(accounted, "")
				for _, d := range b.Details {
					pay(d, []string{Covered}, ReasonDetailsOfLettered)
				}
			} else {
				entry([]string{Covered}, ReasonCoveredByDetails)
				for _, d := range b.Details {
					pay(d, accounted, "")
				}
			}
		case mode == MatchMode:
			entry([]string{Exception}, ReasonBatchNoDetails)
		case mode == JobMode && s.Clock[s.Runs-1].Sub(s.Clock[s.firstRun(b)]) > wait:
			entry([]string{Exception}, ReasonBatchNoDetails)
		default:
			entry([]string{Waiting}, "")
		}
	}
	return out
}

// Check applies the oracle: nil when every booked credit of the truth is
// accounted for exactly once in o. wait is the job's batch wait.
func Check(s *Schedule, o Observed, mode Mode, wait time.Duration) error {
	errs := append([]string(nil), o.Problems...)
	reported, observedCash := cashOf(o.Txs)
	for _, t := range o.Txs {
		errs = append(errs, txProblems(t)...)
	}
	errs = append(errs, unmatchedProblems(o, reported)...)
	errs = append(errs, settledProblems(s, o)...)
	// Every transaction read is a re-delivery or a new one.
	if o.Read > 0 && o.Read != o.Redelivered+o.Recorded {
		errs = append(errs, fmt.Sprintf("%d transactions read, but %d delivered again + %d recorded", o.Read, o.Redelivered, o.Recorded))
	}
	if o.ListsSetAside || mode == MatchMode {
		errs = append(errs, cashProblems(s, observedCash)...)
	}
	errs = append(errs, identityProblems(s, o, mode, wait)...)
	if len(errs) == 0 {
		return nil
	}
	return problemsError(errs, o)
}

// txProblems checks one transaction on its own: its cash, once, as its
// state says.
func txProblems(t Tx) []string {
	var errs []string
	fail := func(format string, a ...any) { errs = append(errs, fmt.Sprintf(format, a...)) }
	switch t.State {
	case Lettered:
		if t.Letters != 1 {
			fail("lettered %d times in the ledger, want once: %s", t.Letters, t)
		}
		if t.Allocated.Sign() <= 0 {
			fail("lettered without cash allocated: %s", t)
		}
		if !t.Allocated.Add(t.Unallocated).Equal(t.Amount) {
			fail("allocated %s + unallocated %s ≠ amount: %s", t.Allocated, t.Unallocated, t)
		}
		if t.Reported == t.Unallocated.IsZero() {
			fail("excess %s and reported=%v disagree: %s", t.Unallocated, t.Reported, t)
		}
	case Exception:
		if t.Letters != 0 || !t.Allocated.IsZero() {
			fail("an exception with letters in the ledger: %s", t)
		}
		if !t.Reported || !t.Unallocated.Equal(t.Amount) {
			fail("an exception not reported for its whole amount: %s", t)
		}
	case Waiting, Covered:
		if t.Letters != 0 || t.Reported {
			fail("set aside but lettered or reported: %s", t)
		}
	default:
		fail("a booked credit in state %q: %s", t.State, t)
	}
	return errs
}

// cashOf sums, by currency, the cash the transactions report unallocated
// (reported) and the cash they account for (observed: allocated and
// unallocated, or the whole amount of a waiting one).
func cashOf(txs []Tx) (reported, observed map[string]domain.Amount) {
	reported, observed = map[string]domain.Amount{}, map[string]domain.Amount{}
	for _, t := range txs {
		if t.Reported {
			reported[t.Currency] = reported[t.Currency].Add(t.Unallocated)
		}
		switch t.State {
		case Waiting:
			observed[t.Currency] = observed[t.Currency].Add(t.Amount)
		case Lettered, Exception:
			observed[t.Currency] = observed[t.Currency].Add(t.Allocated).Add(t.Unallocated)
		}
	}
	return reported, observed
}

// unmatchedProblems checks the unmatched cash o reports (when it does)
// against what the transactions report unallocated.
func unmatchedProblems(o Observed, reported map[string]domain.Amount) []string {
	if o.UnmatchedCash == nil {
		return nil
	}
	var errs []string
	ccys := map[string]bool{}
	for c := range o.UnmatchedCash {
		ccys[c] = true
	}
	for c := range reported {
		ccys[c] = true
	}
	for c := range ccys {
		if !o.UnmatchedCash[c].Equal(reported[c]) {
			errs = append(errs, fmt.Sprintf("unmatched cash %s %s, but the exceptions leave %s unallocated", o.UnmatchedCash[c], c, reported[c]))
		}
	}
	return errs
}

// settledProblems checks that nothing is allocated beyond an item's
// residual, and only to items of the schedule.
func settledProblems(s *Schedule, o Observed) []string {
	var errs []string
	for _, it := range s.Items {
		if got := o.Settled[it.ID]; got.Cmp(it.Residual) > 0 {
			errs = append(errs, fmt.Sprintf("item %s (residual %s) settled for %s", it.ID, it.Residual, got))
		}
	}
	for id := range o.Settled {
		known := false
		for _, it := range s.Items {
			known = known || it.ID == id
		}
		if !known {
			errs = append(errs, fmt.Sprintf("the ledger settles an unknown item %q", id))
		}
	}
	return errs
}

// cashProblems checks the cash of the truth (its booked credits and
// batches, by currency) against what the passes account for (observed:
// allocated + reported + waiting).
func cashProblems(s *Schedule, observed map[string]domain.Amount) []string {
	truth := map[string]domain.Amount{}
	for _, p := range s.Payments {
		if p.Credit {
			c := s.Accounts[p.Account].Currency
			truth[c] = truth[c].Add(p.Amount)
		}
	}
	for _, b := range s.Batches {
		c := s.Accounts[b.Account].Currency
		truth[c] = truth[c].Add(b.Amount)
	}
	var errs []string
	for c := range truth {
		if !truth[c].Equal(observed[c]) {
			errs = append(errs, fmt.Sprintf("%s: the booked credits bring %s, the passes account for %s (allocated + reported + waiting)", c, truth[c], observed[c]))
		}
	}
	for c := range observed {
		if _, ok := truth[c]; !ok {
			errs = append(errs, fmt.Sprintf("%s: the passes account for %s of no booked credit", c, observed[c]))
		}
	}
	return errs
}

// identityProblems checks the identities: the truth and the transactions,
// one for one. A notified batch booked whole may be read either way (its
// entry, or its details): every choice is tried, and the misses of the
// best one are returned (none when one fits).
func identityProblems(s *Schedule, o Observed, mode Mode, wait time.Duration) []string {
	var whole []*Batch
	for _, b := range s.Batches {
		if !b.Inline && b.Notified {
			whole = append(whole, b)
		}
	}
	var best []string
	for mask := 0; mask < 1<<len(whole); mask++ {
		choice := make([]bool, len(whole))
		for i := range choice {
			choice[i] = mask&(1<<i) != 0
		}
		miss := s.matchUnits(s.units(mode, wait, choice), o)
		if len(miss) == 0 {
			return nil
		}
		if best == nil || len(miss) < len(best) {
			best = miss
		}
	}
	return best
}

// problemsError is the oracle's error: the problems, then what was
// observed.
func problemsError(errs []string, o Observed) error {
	var b strings.Builder
	for _, e := range errs {
		b.WriteString("  " + e + "\n")
	}
	b.WriteString("observed:\n")
	txs := append([]Tx(nil), o.Txs...)
	sort.Slice(txs, func(i, j int) bool { return txs[i].String() < txs[j].String() })
	for _, t := range txs {
		b.WriteString("    " + t.String() + "\n")
	}
	fmt.Fprintf(&b, "    set aside %v, unmatched cash %v, read %d = %d again + %d new\n", o.SetAside, o.UnmatchedCash, o.Read, o.Redelivered, o.Recorded)
	return errors.New(b.String())
}

// matchUnits pairs units and transactions one for one (a maximum
// bipartite matching); it returns what is left over on either side.
func (s *Schedule) matchUnits(units []unit, o Observed) []string {
	var miss []string
	if !o.ListsSetAside {
		// Only counted: the set-aside units are compared with the counts.
		want := map[string]int{}
		kept := units[:0:0]
		for _, u := range units {
			if u.setAside {
				want[u.reason]++
				continue
			}
			kept = append(kept, u)
		}
		units = kept
		if o.SetAside != nil {
			for _, r := range []string{ReasonCoveredByDetails, ReasonDetailsOfLettered} {
				if want[r] != o.SetAside[r] {
					miss = append(miss, fmt.Sprintf("set aside %d for %s, want %d", o.SetAside[r], r, want[r]))
				}
			}
		}
	} else if o.SetAside != nil {
		got := map[string]int{}
		for _, t := range o.Txs {
			if t.State == Covered {
				got[t.Reason]++
			}
		}
		for _, r := range []string{ReasonCoveredByDetails, ReasonDetailsOfLettered} {
			if got[r] != o.SetAside[r] {
				miss = append(miss, fmt.Sprintf("the passes say %d set aside for %s, the transactions show %d", o.SetAside[r], r, got[r]))
			}
		}
	}
	adj := make([][]int, len(units))
	for i, u := range units {
		for j, t := range o.Txs {
			if s.compatible(u, t) {
				adj[i] = append(adj[i], j)
			}
		}
	}
	matchTx := make([]int, len(o.Txs))
	for j := range matchTx {
		matchTx[j] = -1
	}
	var try func(i int, seen []bool) bool
	try = func(i int, seen []bool) bool {
		for _, j := range adj[i] {
			if seen[j] {
				continue
			}
			seen[j] = true
			if matchTx[j] < 0 || try(matchTx[j], seen) {
				matchTx[j] = i
				return true
			}
		}
		return false
	}
	matched := make([]bool, len(units))
	for i := range units {
		matched[i] = try(i, make([]bool, len(o.Txs)))
	}
	for i, u := range units {
		if !matched[i] {
			miss = append(miss, fmt.Sprintf("not accounted for: %s (%s %s %s payer %q remittance=%q, want %s %s)", u.desc,
				s.Accounts[u.account].IBAN, s.Days[u.day], u.amount, u.payers, u.remit, strings.Join(u.states, "/"), u.reason))
		}
	}
	for j, t := range o.Txs {
		if matchTx[j] < 0 && !(t.State == Covered && !o.ListsSetAside) {
			miss = append(miss, "no booked credit of the truth: "+t.String())
		}
	}
	return miss
}
