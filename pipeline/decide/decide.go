// Package decide is the decision state machine of Lettrage, pure: what a
// decision, a refusal, a resolution or a settlement leaves a transaction
// showing, and in which state it and its letter are (open, lettered,
// ignored, held, waiting, covered; pending, applied, record, rejected).
// The records a pass hands its state store (DecisionRecord, Rejection)
// and those it reads back (StoredTx, PendingDecision, AutoDecision) are
// its vocabulary. It does no I/O and imports only the domain: the stores
// (pipeline/state) and the pass (pipeline) apply these rules, the reports
// (pipeline/report) render their result.
package decide

import (
	"sort"
	"strings"
	"time"

	"github.com/lettrage/lettrage/domain"
)

// Transaction states in the store.
const (
	TxOpen     = "open"     // an exception: re-matched on every run
	TxLettered = "lettered" // auto-lettered (possibly with an excess left as an exception)
	TxIgnored  = "ignored"  // not a lettering matter (debit, not booked)
	// TxHeld: an exception the ledger refused after writing part of it
	// (RejectedError.Partial): reported, never re-matched automatically.
	TxHeld = "held"
	// TxWaiting: a batch entry waiting for the notification that details
	// it; matched (as an exception) when the wait is over.
	TxWaiting = "waiting"
	// TxCovered: set aside because other transactions account for its
	// cash (a batch entry and its details).
	TxCovered = "covered"
)

// Decision states in the outbox.
const (
	DecPending = "pending" // committed, not yet confirmed in the ledger
	DecApplied = "applied" // the ledger holds it
	DecRecord  = "record"  // an exception or ignored decision: nothing to write back
	// DecRejected: the ledger refused it for a business reason
	// (connectors.RejectedError); the transaction is an exception again.
	DecRejected = "rejected"
)

// StoredTx is a transaction as the state store keeps it.
type StoredTx struct {
	Tx       domain.Transaction
	FileHash string
	State    string
	Decision domain.Decision // the current decision
}

// PendingDecision is an automatic decision committed but not yet confirmed
// as written to the ledger.
type PendingDecision struct {
	Key       string
	FileHash  string
	Tx        domain.Transaction
	Decision  domain.Decision
	Items     map[string]domain.OpenItem
	DecidedAt time.Time
	Reverses  string // for a reversal (Outcome Unletter)
}

// DecisionRecord is one decision to commit.
type DecisionRecord struct {
	Key string // idempotency key of an auto decision; generated for others
	// Tx is the transaction decided, by reference: a pass's records name
	// the transactions it matched (a copy each would be 448 bytes more
	// per record, beside the pass's own slice while the records are
	// built: 450 MB at 1,000,000 payments). It must not change until the
	// commit and the write-back are done.
	Tx       *domain.Transaction
	FileHash string
	Decision domain.Decision
	// Items are the open items the allocations name, as they were when
	// decided (the ledger write-back needs their numbers and customers).
	// An automatic decision may leave them nil when its commit has
	// Snapshots: read them with ItemsOf.
	Items map[string]domain.OpenItem
	// New is true when the transaction is seen for the first time.
	New bool
	// Reverses is, for an Unletter decision, the key of the automatic
	// decision it undoes; the transaction becomes an open exception again.
	Reverses string
	// Shows, when set, is what the transaction shows from now on instead of
	// Decision: for a decision that settles the remainder of a lettered
	// payment, the letter and the remainder together (Decision holds only
	// what is written to the ledger under Key).
	Shows *domain.Decision
	// State, when set, is the transaction's state instead of the one its
	// outcome gives (TxWaiting, TxCovered).
	State string
}

// ItemSnapshots gives the open items a decision's allocations name, as they
// were when decided: what DecisionRecord.Items would hold. A pass keeps
// its open items once and hands them to its commit this way instead of a
// map of copies per letter (≈ 480 bytes a letter: 370 MB at 1,000,000
// payments).
type ItemSnapshots interface {
	Named(d *domain.Decision) map[string]domain.OpenItem
}

// ItemsOf is rec's Items: its own, or, for an automatic decision that has
// none, those snap names (a fresh map; nil snap: its own, nil).
func ItemsOf(rec *DecisionRecord, snap ItemSnapshots) map[string]domain.OpenItem {
	if rec.Items != nil || snap == nil || rec.Decision.Outcome != domain.Auto {
		return rec.Items
	}
	return snap.Named(&rec.Decision)
}

// AutoDecision is an automatic (or manual) letter recorded for a transaction.
type AutoDecision struct {
	Key      string
	Decision domain.Decision
	Items    map[string]domain.OpenItem
	State    string // pending, applied or rejected
	// DecidedAt is when it was committed.
	DecidedAt time.Time
	// Reversal is the outbox state of the reversal that undoes it ("" when
	// none was committed).
	Reversal string
}

// SortLetters puts a transaction's letters in the order they were made
// (the order the stores list them in).
func SortLetters(all []AutoDecision) {
	sort.SliceStable(all, func(a, b int) bool {
		x, y := all[a], all[b]
		if !x.DecidedAt.Equal(y.DecidedAt) {
			return x.DecidedAt.Before(y.DecidedAt)
		}
		if c := x.Decision.Excess.Abs().Cmp(y.Decision.Excess.Abs()); c != 0 {
			return c > 0
		}
		return x.Key < y.Key
	})
}

// StandingChain is the letters of all (in the order they were made) that
// stand and that no reversal undoes, oldest first (what the stores' Letters return).
func StandingChain(all []AutoDecision) (chain []AutoDecision) {
	for i := len(all) - 1; i >= 0; i-- {
		if all[i].State == DecRejected {
			continue // never written: not a letter to undo
		}
		if all[i].Reversal != "" {
			break // reversed (or its reversal refused): nothing older to undo
		}
		chain = append([]AutoDecision{all[i]}, chain...)
	}
	return chain
}

// Standing is the picture of a transaction's letters that the ledger
// holds: those written (not rejected) whose reversal, if any, the ledger
// refused — merged into the one decision the transaction shows. ok is
// false when no letter stands.
func Standing(all []AutoDecision) (d domain.Decision, ok bool) {
	for _, a := range all {
		if a.State == DecRejected || (a.Reversal != "" && a.Reversal != DecRejected) {
			continue
		}
		if !ok {
			d, ok = a.Decision, true
			continue
		}
		d = WithRemainder(d, a.Decision)
	}
	return d, ok
}

// WithRemainder is what a lettered transaction shows once a later decision
// settled (part of) its remainder: the letter's allocations and postings
// and the later ones, the cash the later one left unallocated, and both
// explanations. The rule and confidence stay those of the first letter.
func WithRemainder(shown, later domain.Decision) domain.Decision {
	out := shown
	out.Allocations = append(append([]domain.Allocation(nil), shown.Allocations...), later.Allocations...)
	out.Postings = append(append([]domain.Posting(nil), shown.Postings...), later.Postings...)
	out.Excess, out.Reason = later.Excess, later.Reason
	out.Explanation = strings.TrimSpace(shown.Explanation + "; then " + later.Explanation)
	return out
}

// Shown is the state a decision leaves its transaction in, the outbox
// state of the decision, and what the transaction shows from now on.
func Shown(d DecisionRecord) (state, decState string, current domain.Decision) {
	state, decState, current = TxOpen, DecRecord, d.Decision
	switch d.Decision.Outcome {
	case domain.Auto:
		state, decState = TxLettered, DecPending
		if d.Shows != nil {
			current = *d.Shows
		}
	case domain.Ignored:
		state = TxIgnored
	case domain.Unletter:
		switch {
		case d.Reverses != "" && d.Decision.Rule == RuleBankReversal:
			// The bank took the cash back: the letter is undone and the
			// payment is no cash to letter any more.
			decState, state = DecPending, TxIgnored
			current = domain.Decision{TxKey: d.Tx.Key, Outcome: domain.Ignored, Reason: domain.ReasonReversedByBank,
				Explanation: d.Decision.Explanation}
		case d.Reverses != "":
			// The reversal is written back like a letter; the payment is
			// an open exception again, for an accountant to letter.
			decState = DecPending
			current = domain.Decision{TxKey: d.Tx.Key, Outcome: domain.Unmatched, Reason: domain.ReasonUnlettered,
				Explanation: d.Decision.Explanation}
		default:
			state = TxIgnored // a bank reversal entry: nothing to letter
		}
	}
	if d.State != "" {
		state = d.State
	}
	return state, decState, current
}

// Rejection is a pending decision the ledger refused for a business reason
// (a connectors.RejectedError).
type Rejection struct {
	Key    string
	Reason string // the ledger's message
	// Hold: the ledger wrote part of the decision before refusing; the
	// transaction is reported but not re-matched (an accountant decides).
	Hold bool
}

// ReasonLedgerRejected is the exception reason of a transaction whose
// automatic letter the ledger refused; ReasonLedgerRejectedPartial when the
// ledger had written part of it.
const (
	ReasonLedgerRejected        = "ledger_rejected"
	ReasonLedgerRejectedPartial = "ledger_rejected_partial"
)

// RefusedException is the exception a decision the ledger refused
// becomes: a suggestion of the items it named, carrying the ledger's
// reason; what names the decision ("the automatic letter"); partial is
// true when the ledger wrote part of it (the payment is then held).
func RefusedException(d domain.Decision, items map[string]domain.OpenItem, what, reason string, partial bool) domain.Decision {
	exc := domain.Decision{TxKey: d.TxKey, Outcome: domain.Suggested, Rule: d.Rule, Confidence: d.Confidence,
		Reason: ReasonLedgerRejected, Explanation: "The ledger refused " + what + ": " + reason + ". It was: " + d.Explanation}
	if partial {
		exc.Reason = ReasonLedgerRejectedPartial
		exc.Explanation = "The ledger refused " + what + " after writing part of it (check the ledger): " + reason + ". It was: " + d.Explanation
	}
	for _, a := range d.Allocations {
		exc.Candidates = append(exc.Candidates, domain.Candidate{ItemID: a.ItemID, CustomerID: items[a.ItemID].CustomerID, Score: d.Confidence})
	}
	return exc
}

// RefusedState is what the transaction of a decision d (naming items)
// that the ledger refused (r) shows from now on, and its state; all are
// the transaction's letters, the refused one marked rejected (read only
// when the ledger wrote nothing of it). The resolution of a lettered
// payment's remainder leaves the letter before it standing, its remainder
// an exception again; anything else becomes an exception carrying the
// ledger's message and the refused allocations as candidates, held when
// the ledger wrote part of it.
func RefusedState(d domain.Decision, items map[string]domain.OpenItem, r Rejection, all []AutoDecision) (string, domain.Decision) {
	what := "the automatic letter"
	if strings.HasPrefix(d.Rule, "manual:") {
		what = "the accountant's resolution"
	}
	if !r.Hold {
		if shown, ok := Standing(all); ok {
			shown.Reason = ReasonLedgerRejected
			shown.Explanation += " — the ledger refused " + what + " of the remainder: " + r.Reason + ". It was: " + d.Explanation
			return TxLettered, shown
		}
	}
	state := TxOpen
	if r.Hold {
		state = TxHeld
	}
	return state, RefusedException(d, items, what, r.Reason, r.Hold)
}

// IsException reports whether a decision leaves cash for an accountant:
// unmatched or suggested, or lettered with an excess.
func IsException(d domain.Decision) bool {
	switch d.Outcome {
	case domain.Unmatched, domain.Suggested:
		return true
	case domain.Auto:
		return !d.Excess.IsZero()
	}
	return false
}

// RuleBankReversal marks the reversal of a letter whose payment the bank
// reversed or returned: the cash went back, so neither the payment nor the
// reversal entry is cash to letter.
const RuleBankReversal = "bank_reversal"

// Unallocated is the cash of tx that no allocation took.
func Unallocated(st StoredTx) domain.Amount {
	if st.Decision.Outcome == domain.Auto {
		return st.Decision.Excess
	}
	return st.Tx.Amount
}

// RejectedRetryAfter is how long the same automatic letter the ledger
// refused is left alone before it is tried again.
const RejectedRetryAfter = 24 * time.Hour

// Currencies returns the keys of m sorted, for stable printing.
func Currencies(m map[string]domain.Amount) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// UnmatchedCash totals, per currency, the cash the exceptions leave
// unallocated.
func UnmatchedCash(exc []StoredTx) map[string]domain.Amount {
	out := map[string]domain.Amount{}
	for _, st := range exc {
		out[st.Tx.Currency] = out[st.Tx.Currency].Add(Unallocated(st))
	}
	return out
}
