// Package camt reads ISO 20022 bank-to-customer cash management messages —
// camt.052 account reports, camt.053 statements and camt.054 debit/credit
// notifications, versions .001.01 to .001.14 — and projects their entries
// onto domain.Transaction values.
//
// The reader streams: it walks the document with encoding/xml tokens and
// decodes one <Ntry> at a time into small private structs, so memory stays
// bounded whatever the file size (about 12 MB of heap for a 300 MB file).
// DTDs and entities are never resolved; nesting depth, the size of an entry
// (and of any token outside entries) and the number of transaction details
// per entry are bounded by Limits.
//
// A file may hold several documents, one after the other (cat a.xml b.xml,
// or the members of a multi-member gzip), each with its own XML
// declaration and byte order mark, or several Documents in a wrapper: every
// one is read, in order. Each Statement names its document (Document,
// Message, Version, MsgID); File keeps the first document's header. After
// the last document only white space, comments and processing
// instructions may follow: anything else (text, another element, a lone
// XML declaration, a non-camt document) is ErrTrailingContent and the file
// is refused whole. The documents of a file must share one encoding.
//
// Message type and version come from the Document namespace, matched by
// pattern anywhere in it (so the Austrian
// "ISO:camt.053.001.02:APC:STUZZA:payments:003" works). Prefixed and
// lowercase <document> roots, a <message> wrapper with an AppHdr, a UTF-8
// or UTF-16 byte order mark, CRLF, a missing XML declaration and declared
// single-byte encodings (ISO-8859-1, windows-1252… via the IANA index of
// golang.org/x/text) are accepted.
//
// Entries are decoded by a fast path (fast.go) when the input is read as
// UTF-8: the entry's bytes are scanned to its end tag and decoded by a
// small scanner that handles a plain subset of XML and mirrors
// encoding/xml's unmarshalling rules; any entry outside that subset is
// decoded by encoding/xml from the same bytes. Both paths are kept equal by
// a differential test over the corpus and a differential fuzz target.
//
// With Options.EntryHeaders (what the pipeline uses: it keeps only the
// transactions), an entry the fast scanner takes is decoded in one layer
// (onelayer.go): its elements are read straight into the projected
// transactions and a reused header Entry, without the reflection-filled raw
// structs, the converted Entry and its TxDetails. An entry it does not take
// (charges, a value that does not convert…) goes the three-layer way from
// the same elements. Both are kept equal by TestOneLayerEquivalence and
// FuzzOneLayer.
//
// Errors are *ParseError values that locate the problem (file, byte offset,
// line, statement, entry, element path) and wrap a sentinel cause such as
// ErrNotCAMT, ErrTruncated or ErrLimit, usable with errors.Is.
package camt
