// Package connectors holds the ports between the pipeline and the outside
// world: where statements come from and the ledger that holds open items.
// Each implementation lives in its own package below this one.
package connectors

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/lettrage/lettrage/matcher"
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
	Tx       matcher.Transaction
	Decision matcher.Decision
	Items    map[string]matcher.OpenItem // the items the allocations name
	// DecidedAt is when the decision was committed (the lettering date).
	DecidedAt time.Time
}

// Ledger reads open items and writes allocations back.
type Ledger interface {
	OpenItems(ctx context.Context) ([]matcher.OpenItem, error)
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
	Tx       matcher.Transaction
	Decision matcher.Decision
}

// ExceptionSink is implemented by ledgers that show Lettrage's exceptions in
// their own screens (an exceptions table, open statement lines). The
// pipeline hands over the whole snapshot after every run.
type ExceptionSink interface {
	RecordExceptions(ctx context.Context, exc []Exception) error
}
