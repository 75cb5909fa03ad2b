package camt

// Limits bound what one file may make the reader do. Zero fields take the
// defaults of DefaultLimits.
type Limits struct {
	// MaxDepth bounds element nesting anywhere in the document. camt
	// documents nest about 15 deep.
	MaxDepth int
	// MaxEntryBytes bounds the bytes of one <Ntry>, and of any single
	// token or skipped element outside entries.
	MaxEntryBytes int64
	// MaxTxDtls bounds the transaction details of one entry.
	MaxTxDtls int
}

// DefaultLimits are sane bounds for real bank files: depth 64, 16 MiB per
// entry (a batch of 500 details is about 200 KB), 50,000 details per entry.
func DefaultLimits() Limits {
	return Limits{MaxDepth: 64, MaxEntryBytes: 16 << 20, MaxTxDtls: 50000}
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxDepth <= 0 {
		l.MaxDepth = d.MaxDepth
	}
	if l.MaxEntryBytes <= 0 {
		l.MaxEntryBytes = d.MaxEntryBytes
	}
	if l.MaxTxDtls <= 0 {
		l.MaxTxDtls = d.MaxTxDtls
	}
	return l
}

// Options configure Parse and ReadAll.
type Options struct {
	Limits Limits
	// Extra are XPath expressions evaluated on each <Ntry> element (the
	// context node); their string values are appended to the Additional
	// field of every transaction of that entry. See CompileExtras.
	Extra []string

	// Reference makes every entry go through the encoding/xml reference
	// reader instead of the fast scanner. The results are the same (the
	// differential tests keep them equal); only the speed differs. Meant for
	// benchmarks and for ruling out the fast path when diagnosing a file.
	Reference bool

	// EntryHeaders lets Parse hand its callback an entry's header only,
	// for a caller that reads the transactions (txs) and not the Entry:
	// then an entry the fast scanner takes is decoded in one layer, its
	// elements read straight into the transactions, without building its
	// TxDetails, Charges and Warnings (onelayer.go). The Entry given to the
	// callback then has Index, Offset, Amount, Currency, Credit, Reversal,
	// Status, BookingDate, ValueDate, AcctSvcrRef, NtryRef, Instructed,
	// AdditionalInfo, Batches and BatchCount, and is reused for the next
	// entry; an entry outside the one-layer path (charges, a value that does
	// not convert, …) is still given whole. The transactions, the
	// statements' checks and the errors are the same either way. ReadAll
	// ignores it.
	EntryHeaders bool

	// reference disables the fast entry path (tests compare both).
	reference bool
}

// DefaultOptions returns DefaultLimits and no extras.
func DefaultOptions() Options { return Options{Limits: DefaultLimits()} }
