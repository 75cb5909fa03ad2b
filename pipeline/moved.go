package pipeline

import (
	"github.com/lettrage/lettrage/pipeline/decide"
	"github.com/lettrage/lettrage/pipeline/report"
)

// The decision state machine lives in pipeline/decide; these names keep
// the pass and the stores reading as before while the stores move out of
// this package (issue 15), and go with that move.
type (
	StoredTx        = decide.StoredTx
	PendingDecision = decide.PendingDecision
	DecisionRecord  = decide.DecisionRecord
	AutoDecision    = decide.AutoDecision
	Rejection       = decide.Rejection
)

// Transaction and decision states (decide.TxOpen…).
const (
	txOpen      = decide.TxOpen
	txLettered  = decide.TxLettered
	txIgnored   = decide.TxIgnored
	txHeld      = decide.TxHeld
	txWaiting   = decide.TxWaiting
	txCovered   = decide.TxCovered
	decPending  = decide.DecPending
	decApplied  = decide.DecApplied
	decRecord   = decide.DecRecord
	decRejected = decide.DecRejected
)

// Exception reasons and the rule of a bank reversal, as decide names them.
const (
	ReasonLedgerRejected        = decide.ReasonLedgerRejected
	ReasonLedgerRejectedPartial = decide.ReasonLedgerRejectedPartial
	RuleBankReversal            = decide.RuleBankReversal
)

var (
	shown            = decide.Shown
	refusedState     = decide.RefusedState
	refusedException = decide.RefusedException
	standing         = decide.Standing
	standingChain    = decide.StandingChain
	withRemainder    = decide.WithRemainder
	sortLetters      = decide.SortLetters
	unallocated      = decide.Unallocated
	// IsException reports whether a decision leaves cash for an accountant.
	IsException = decide.IsException
)

// Why a transaction is set aside (decide/setaside.go).
const (
	SetAsideDebit           = decide.SetAsideDebit
	SetAsideNotBooked       = decide.SetAsideNotBooked
	SetAsideReversal        = decide.SetAsideReversal
	SetAsideByHand          = decide.SetAsideByHand
	ReasonDuplicateDelivery = decide.ReasonDuplicateDelivery
	ReasonPossibleDuplicate = decide.ReasonPossibleDuplicate
	ReasonCoveredByDetails  = decide.ReasonCoveredByDetails
	ReasonDetailsOfLettered = decide.ReasonDetailsOfLettered
	ReasonAwaitingDetails   = decide.ReasonAwaitingDetails
	ReasonBatchNoDetails    = decide.ReasonBatchNoDetails
)

var ignoredReason = decide.IgnoredReason

// Personal data (decide/personal.go).
var (
	// MaskIBAN keeps the country, check digits and last four characters.
	MaskIBAN = decide.MaskIBAN
	// MaskIBANs masks every IBAN-shaped token of s.
	MaskIBANs = decide.MaskIBANs
	redactTx  = decide.RedactTx
)

// ReportOptions says which exception reports a job writes (report.Options).
type ReportOptions = report.Options

var (
	renderExceptionsCSV = report.ExceptionsCSV
	writeReportFiles    = report.WriteFiles
)

// Transaction identity keys and decision keys (decide/identity.go, hash.go).
const (
	linkBatch  = decide.LinkBatch
	linkDetail = decide.LinkDetail
)

var (
	booked     = decide.Booked
	identClass = decide.IdentClass
	linkKeys   = decide.LinkKeys
	shortHash  = decide.ShortHash
	// DecisionKey is the idempotency key of the generation-th automatic
	// decision on a transaction.
	DecisionKey = decide.DecisionKey
)

// RejectedRetryAfter is how long the same automatic letter the ledger
// refused is left alone before it is tried again (decide).
const RejectedRetryAfter = decide.RejectedRetryAfter

// Currencies returns the keys of m sorted, for stable printing (decide).
var Currencies = decide.Currencies

var unmatchedCash = decide.UnmatchedCash
