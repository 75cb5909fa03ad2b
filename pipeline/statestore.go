package pipeline

import (
	"context"
	"time"

	"github.com/lettrage/lettrage/domain"
	"github.com/lettrage/lettrage/matcher"
	"github.com/lettrage/lettrage/pipeline/decide"
	"github.com/lettrage/lettrage/pipeline/state"
)

// StateStore is what a Job's pass reads and records: the files seen, the
// transactions and their decisions, the outbox of decisions to write back,
// the refused files and the incremental bookkeeping. Two implement it: the
// durable SQL Store (SQLite or PostgreSQL, `lettrage run` and `once`) and
// the memoryStore of one stateless pass (`lettrage match`). Both list
// transactions in txOrder and pending decisions in writeBackOrder
// (order.go), and give a decision's transaction the state shown (store.go)
// computes: nothing about the pass depends on which store it runs over.
type StateStore interface {
	// Files.
	SeenListing(ctx context.Context, job, source, path string, size int64, mod time.Time) (bool, error)
	FileDone(ctx context.Context, job, hash string) (bool, error)

	// Transactions and decisions.
	Transactions(ctx context.Context, job string, states ...string) ([]decide.StoredTx, error)
	Transaction(ctx context.Context, job, key string) (decide.StoredTx, bool, error)
	DueWaiting(ctx context.Context, job string, cutoff time.Time) ([]decide.StoredTx, error)
	Exceptions(ctx context.Context, job string) ([]decide.StoredTx, error)
	SetAsideTxs(ctx context.Context, job string, since time.Time) ([]decide.StoredTx, error)
	Memory(ctx context.Context, job string, since time.Time) (matcher.Memory, error)
	SaveCommit(ctx context.Context, c state.Commit) error
	LastLetter(ctx context.Context, job, txKey string) (*decide.AutoDecision, int, error)
	Letters(ctx context.Context, job, txKey string) ([]decide.AutoDecision, int, error)
	LastRejected(ctx context.Context, job, txKey string) (*domain.Decision, time.Time, error)
	DecisionState(ctx context.Context, job, key string) (string, bool, error)
	RedactPersonalData(ctx context.Context, job string, cutoff, now time.Time) (int, error)
	// CompactHistory compacts the settled history booked before cutoff
	// (state.retention_days, compact.go), at most once a day.
	CompactHistory(ctx context.Context, job string, cutoff, now time.Time) (int, error)

	// The outbox.
	Pending(ctx context.Context, job string) ([]decide.PendingDecision, error)
	MarkApplied(ctx context.Context, job string, keys []string, at time.Time) error
	MarkRejected(ctx context.Context, job string, rejected []decide.Rejection, at time.Time) error
	MarkReversalsRejected(ctx context.Context, job string, keys []string, reason string, at time.Time) error

	// Refused files (refused.go).
	Refuse(ctx context.Context, job string, f state.RefusedFile) error
	Held(ctx context.Context, job, hash string) (bool, error)
	HeldListing(ctx context.Context, job, source, path string, size int64, mod time.Time) (bool, error)
	ForgetOtherVersions(ctx context.Context, job, source, path, hash string) (int, error)
	CountHeld(ctx context.Context, job string) (int, error)

	// AllLetters is every letter of a transaction, rejected and reversed
	// ones included, in the order they were made (see Store.letters).
	AllLetters(ctx context.Context, job, txKey string) ([]decide.AutoDecision, error)
	// Prior is what the identity rule (identity.go) looks up of earlier
	// passes; nil when there were none.
	Prior(job string) state.Prior

	// Incremental bookkeeping (incremental.go).
	ExamState(ctx context.Context, job string, now, waitCutoff time.Time) (state.ExamInputs, string, error)
	RecordExamined(ctx context.Context, job string, e state.ExamInputs, settled bool, at time.Time) error
	ReportState(ctx context.Context, job string) (int64, state.ReportedFigures, error)
	RecordReported(ctx context.Context, job string, revision int64, f state.ReportedFigures) error
}

var _ StateStore = (*state.Store)(nil)
