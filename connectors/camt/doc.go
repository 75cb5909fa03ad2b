// Package camt reads ISO 20022 bank-to-customer cash management messages —
// camt.052 account reports, camt.053 statements and camt.054 debit/credit
// notifications, versions .001.01 to .001.13 — and projects their entries
// onto matcher.Transaction values.
//
// The reader streams: it walks the document with encoding/xml tokens and
// decodes one <Ntry> at a time into small private structs, so memory stays
// bounded whatever the file size. DTDs and entities are never resolved;
// nesting depth, the size of an entry (and of any token outside entries) and
// the number of transaction details per entry are bounded by Limits.
//
// Errors are *ParseError values that locate the problem (file, byte offset,
// line, statement, entry, element path) and wrap a sentinel cause such as
// ErrNotCAMT, ErrTruncated or ErrLimit, usable with errors.Is.
package camt
