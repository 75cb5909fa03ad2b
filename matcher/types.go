// Package matcher letters bank transactions to open items. It is pure: it
// imports nothing from this project but the domain package (whose values
// it reads and returns), does no I/O, and is deterministic — the same
// inputs in any order give the same decisions.
package matcher

import "github.com/lettrage/lettrage/domain"

// Memory is what the matcher has learned from earlier confident or manual
// decisions, persisted by the pipeline and passed back in.
type Memory struct {
	IBANCustomers map[string][]string // normalised IBAN → customer ids
	NameCustomers map[string][]string // normalised payer name → customer ids
	// Lettered maps a transaction Key to the item allocations written for
	// it, so that a reversal can be recognised and undone.
	Lettered map[string][]domain.Allocation
	// LetteredRefs maps the end-to-end id and the bank reference (Ref) of
	// a lettered transaction to its Key; optional, it lets a reversal that
	// repeats either be tied to the payment it reverses.
	LetteredRefs map[string]string
	// Settled are open items earlier letters settled, as they were then
	// (the pipeline keeps them with its letters): a payment whose
	// remittance names one of them pays it a second time. Items still open
	// (in Input.Items, by ID) are ignored.
	Settled []domain.OpenItem
}

// Learning is one fact learned by a run, for the pipeline to persist.
type Learning struct {
	Kind       string `json:"kind"` // "iban" or "name"
	Value      string `json:"value"`
	CustomerID string `json:"customer_id"`
}

// Input is everything one matching pass needs.
type Input struct {
	Transactions []domain.Transaction
	Items        []domain.OpenItem
	Memory       Memory
	Config       Config
	// Index, when set, is the index of these Items built ahead
	// (IndexItems); Match uses it, once, instead of building its own
	// (unless Memory has settled items: they enter the index too).
	Index *ItemsIndex
}

// Output is one decision per input transaction, in the order of
// Input.Transactions, and what was learned.
type Output struct {
	Decisions []domain.Decision
	Learned   []Learning
}
