// Package connectors holds the ports between the pipeline and the outside
// world: where statements come from and the ledger that holds open items.
// Each implementation lives in its own package below this one.
package connectors

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/lettrage/lettrage/domain"
)

// StatementRef names one statement file in a source.
type StatementRef struct {
	Source  string    // the source's configured name
	Path    string    // path or key inside the source
	Size    int64     // bytes, -1 when unknown
	ModTime time.Time // zero when unknown
}

// StatementSource lists and opens statement files and files them away once
// the pass that read them is durable.
type StatementSource interface {
	List(ctx context.Context) ([]StatementRef, error)
	Open(ctx context.Context, ref StatementRef) (io.ReadCloser, error)
	// Archive is called only after everything read from the file is
	// committed to the state store and written back.
	Archive(ctx context.Context, ref StatementRef) error
	// Quarantine moves a file that cannot be read out of the way; cause
	// says why (a sidecar file or log keeps it for operators).
	Quarantine(ctx context.Context, ref StatementRef, cause error) error
}

// KeyedDecision is an automatic decision with its idempotency key, ready
// to be written back.
type KeyedDecision struct {
	Key      string // decision key: stable across retries and restarts
	Tx       domain.Transaction
	Decision domain.Decision
	Items    map[string]domain.OpenItem // the items the allocations name
	// DecidedAt is when the decision was committed (the lettering date).
	DecidedAt time.Time
}

// Ledger reads open items and writes allocations back.
type Ledger interface {
	OpenItems(ctx context.Context) ([]domain.OpenItem, error)
	// Apply writes a batch (one bank statement's decisions) idempotently:
	// a decision whose key the ledger already holds is not written again.
	Apply(ctx context.Context, batch []KeyedDecision) error
	// Applied reports which of keys the ledger already holds, so that
	// PENDING decisions can be completed after a crash.
	Applied(ctx context.Context, keys []string) (map[string]bool, error)
	Close() error
}

// ErrNotFound is returned (wrapped) when a statement vanished between List
// and Open.
var ErrNotFound = errors.New("statement not found")

// ErrUnavailable is wrapped by errors of a source that could not be reached
// or dropped the connection (network, timeouts, server restarts): the pass
// should be retried later and the file must not be quarantined.
var ErrUnavailable = errors.New("source temporarily unavailable")

// Exception is a transaction not fully lettered, with its current decision.
type Exception struct {
	Tx       domain.Transaction
	Decision domain.Decision
}

// ExceptionSink is implemented by ledgers that show Lettrage's exceptions in
// their own screens (an exceptions table, open statement lines). The
// pipeline hands over the whole snapshot after every run.
type ExceptionSink interface {
	RecordExceptions(ctx context.Context, exc []Exception) error
}

// OpenItemsNoter is implemented by ledgers that reconcile the open items
// they read with what they wrote themselves (the file ledger's re-export
// rule): after OpenItems, the line to show in the pass's summary (the rule
// applied and what it subtracted) and what must be announced.
type OpenItemsNoter interface {
	OpenItemsNote() (summary string, announcements []string)
}

// OpenItemsStamper is implemented by ledgers that can tell cheaply whether
// their open items may have changed, so that a pass with nothing new need
// not read them (issue 18). OpenItemsStamp, called before OpenItems, is a
// text that differs whenever what OpenItems would return (and what
// OpenItemsNote would say of it) may differ; "" when the ledger cannot
// tell. OpenItemsLasting, after OpenItems, reports whether those items
// stay what OpenItems would return later under the same stamp (false when
// the clock decides some of them).
type OpenItemsStamper interface {
	OpenItemsStamp(ctx context.Context) (string, error)
	OpenItemsLasting() bool
}

// RejectedError is one decision a ledger refused for a business reason: a
// validation error, a closed period, an invoice paid meanwhile by someone
// else, an allocation now above the residual. The ledger wrote nothing of
// that decision; retrying it unchanged would fail again, so the pipeline
// turns it into an exception that carries Reason (the ledger's own message)
// and re-matches it against fresh open items on the next runs.
//
// Apply returns rejections alone — one *RejectedError, or several joined
// with errors.Join, possibly wrapped — only when every other decision of
// the batch WAS written. Any other error means the outcome of the batch is
// unknown or incomplete and the whole batch is retried later. Rejections
// tells the two apart.
type RejectedError struct {
	Key    string // the decision key
	Reason string // the ledger's message, shown to accountants
	Err    error  // the underlying error (a typed ledger error, a sentinel)
	// Partial is true when some allocations of the decision were written
	// before the ledger refused another one (Odoo pays allocation by
	// allocation; Tryton and PostgreSQL never leave a decision partial).
	// The pipeline must then not re-letter the whole cash of the
	// transaction: only an accountant can sort it out.
	Partial bool
}

func (e *RejectedError) Error() string {
	return fmt.Sprintf("ledger rejected decision %q: %s", e.Key, e.Reason)
}

func (e *RejectedError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrRejected) true for every rejection.
func (e *RejectedError) Is(target error) bool { return target == ErrRejected }

// ErrRejected matches every *RejectedError (errors.Is), for callers that
// only need to know that some decision was refused; Rejections returns
// them all.
var ErrRejected = errors.New("decision rejected by the ledger")

// Rejections walks err (wrapped and joined errors included) and returns
// every *RejectedError in it, and onlyRejections = true when err holds
// nothing else: then the rest of the batch was written. A nil err gives
// (nil, false).
func Rejections(err error) (rejected []*RejectedError, onlyRejections bool) {
	if err == nil {
		return nil, false
	}
	other := false
	var walk func(error)
	walk = func(e error) {
		var re *RejectedError
		if r, ok := e.(*RejectedError); ok {
			re = r
		}
		if re != nil {
			rejected = append(rejected, re)
			return
		}
		switch u := e.(type) {
		case interface{ Unwrap() []error }:
			errs := u.Unwrap()
			if len(errs) == 0 {
				other = true
			}
			for _, x := range errs {
				walk(x)
			}
		case interface{ Unwrap() error }:
			if x := u.Unwrap(); x != nil {
				walk(x)
			} else {
				other = true
			}
		default:
			other = true
		}
	}
	walk(err)
	return rejected, len(rejected) > 0 && !other
}
