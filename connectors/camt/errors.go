package camt

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel causes carried by *ParseError; test them with errors.Is.
var (
	// ErrNotCAMT: the input is not a camt.052/053/054 document at all.
	ErrNotCAMT = errors.New("not a camt.052/053/054 document")
	// ErrUnsupportedMessage: an ISO 20022 camt message of another type, or
	// a version outside .001.01–.001.14 (a later version is refused until
	// the reader has been checked against it).
	ErrUnsupportedMessage = errors.New("unsupported camt message")
	// ErrTruncated: the input ends before the document does.
	ErrTruncated = errors.New("truncated document")
	// ErrMalformed: the input is not well-formed XML or breaks the
	// structure a camt document must have.
	ErrMalformed = errors.New("malformed document")
	// ErrTrailingContent: something other than a further document follows
	// a document (text, an element that holds no camt Document, a non-camt
	// document, a lone XML declaration). It wraps ErrMalformed.
	ErrTrailingContent = fmt.Errorf("%w: content after the last document", ErrMalformed)
	// ErrLimit: a configured limit (depth, entry size, details per entry)
	// was exceeded.
	ErrLimit = errors.New("limit exceeded")
	// ErrNoStatement: the message holds no Stmt, Rpt or Ntfctn block.
	ErrNoStatement = errors.New("no statement, report or notification in message")
	// ErrBadValue: an element holds a value that cannot be read (an amount,
	// a date, a credit/debit indicator).
	ErrBadValue = errors.New("bad value")
	// ErrCallback: the caller's per-entry function returned an error; it is
	// wrapped next to this sentinel.
	ErrCallback = errors.New("entry handler failed")
)

// ParseError locates a failure inside a CAMT file. Err wraps one of the
// sentinel causes above (and possibly a more precise error).
type ParseError struct {
	File        string // file name given to Parse, may be empty
	Offset      int64  // byte offset in the (decoded) input
	Line        int    // 1-based line, 0 when unknown
	StatementID string // Stmt/Rpt/Ntfctn Id when inside one
	EntryIndex  int    // 1-based entry index inside the statement, 0 when none
	Path        string // element path such as Document/BkToCstmrStmt/Stmt[1]/Ntry[3]/Amt
	Err         error
}

// Error names everything that is known about the location.
func (e *ParseError) Error() string {
	var b strings.Builder
	b.WriteString("camt")
	if e.File != "" {
		fmt.Fprintf(&b, " %q", e.File)
	}
	if e.Line > 0 {
		fmt.Fprintf(&b, " line %d", e.Line)
	}
	fmt.Fprintf(&b, " (byte %d)", e.Offset)
	if e.StatementID != "" {
		fmt.Fprintf(&b, " statement %q", e.StatementID)
	}
	if e.EntryIndex > 0 {
		fmt.Fprintf(&b, " entry %d", e.EntryIndex)
	}
	if e.Path != "" {
		fmt.Fprintf(&b, " at %s", e.Path)
	}
	b.WriteString(": ")
	if e.Err != nil {
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the cause.
func (e *ParseError) Unwrap() error { return e.Err }

// valueError is a bad value found while converting a decoded entry; path is
// relative to the entry.
type valueError struct {
	path string
	err  error
}

func (e *valueError) Error() string { return e.err.Error() }
func (e *valueError) Unwrap() error { return e.err }

func badValue(path, format string, args ...any) error {
	return &valueError{path: path, err: fmt.Errorf("%w: %s", ErrBadValue, fmt.Sprintf(format, args...))}
}
