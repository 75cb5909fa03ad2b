package pipeline

import (
	"errors"
	"strings"

	"github.com/lettrage/lettrage/connectors/ledger/file"
	"github.com/lettrage/lettrage/connectors/ledger/postgres"
)

// Exit codes of the commands, from the cause of a failure (README "Exit
// codes", docs/FORMATS.md). With several jobs each job's failure is its
// own and the highest code wins.
const (
	// ExitOK: everything went through.
	ExitOK = 0
	// ExitPartial: the run finished but some statement files (or workbook
	// rows) were refused, or the job was running elsewhere.
	ExitPartial = 1
	// ExitUsage: usage, configuration, or an input file a person must fix
	// (the open-items export): nothing was decided.
	ExitUsage = 2
	// ExitUnavailable: a source, a ledger or the state store could not be
	// reached (or failed): nothing was decided for that job, and the next
	// run resumes. Page someone.
	ExitUnavailable = 3
	// ExitInterrupted: stopped by SIGINT or SIGTERM (the pass in progress
	// was rolled back).
	ExitInterrupted = 130
)

// ExitCode classifies a job's Run (or a command's) error.
func ExitCode(err error) int {
	switch {
	case err == nil:
		return ExitOK
	case IsMalformedInput(err):
		return ExitUsage
	case onlyFilesSkipped(err), errors.Is(err, ErrBusy):
		return ExitPartial
	}
	return ExitUnavailable
}

// IsMalformedInput reports whether err comes from input a person must fix
// before anything can be decided: a row or the workbook of the open-items
// export, a row or the columns of the PostgreSQL ledger's
// open_items_query. Retrying changes nothing.
func IsMalformedInput(err error) bool {
	var fileRow *file.RowError
	var pgRow *postgres.RowError
	return errors.As(err, &fileRow) || errors.Is(err, file.ErrWorkbook) || errors.Is(err, file.ErrNoSheet) ||
		errors.As(err, &pgRow) || errors.Is(err, postgres.ErrMissingColumn)
}

// onlyFilesSkipped reports whether err is, or only joins, ErrFilesSkipped.
func onlyFilesSkipped(err error) bool {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			if !onlyFilesSkipped(e) {
				return false
			}
		}
		return len(j.Unwrap()) > 0
	}
	return errors.Is(err, ErrFilesSkipped)
}

// stepError marks an error with the step that failed (errors.Is finds
// both) without repeating the step's words when the error already starts
// with them: "reading open items: open …", not "reading open items:
// reading open items: open …".
type stepError struct {
	step error
	err  error
}

func (e *stepError) Error() string {
	msg := e.err.Error()
	if strings.HasPrefix(msg, e.step.Error()) {
		return msg
	}
	return e.step.Error() + ": " + msg
}

func (e *stepError) Unwrap() []error { return []error{e.step, e.err} }

// openItemsError wraps an error of Ledger.OpenItems with ErrOpenItems.
func openItemsError(err error) error { return &stepError{step: ErrOpenItems, err: err} }

// NothingChanged is Result.ExaminedWhy when the pass skipped the
// re-examination.
const NothingChanged = "nothing changed since the last examination"
