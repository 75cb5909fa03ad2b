package pipeline

import (
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"time"

	"github.com/lettrage/lettrage/connectors"
	"github.com/lettrage/lettrage/connectors/camt"
	"github.com/lettrage/lettrage/connectors/source/compress"
	"github.com/lettrage/lettrage/domain"
	"github.com/lettrage/lettrage/matcher"
	"github.com/lettrage/lettrage/pipeline/report"
)

// MatchOptions configure MatchFiles, one stateless pass (`lettrage match`).
type MatchOptions struct {
	// Name labels the run in logs and its RunID (default "match"); it also
	// enters the decision keys written to the ledger, as a Job's name does.
	Name   string
	Source connectors.StatementSource
	Ledger connectors.Ledger
	// OpenItems reads the open items (nil: Ledger.OpenItems). It runs while
	// the statements are being read; nothing is written or filed away
	// before it returns, and nothing at all when it fails (the `match`
	// command validates the file and only then creates its output folder).
	OpenItems func(context.Context) ([]domain.OpenItem, error)
	Matching  matcher.Config
	Parse     camt.Options
	// ReportDir receives exceptions.csv (and the Reports options' files).
	ReportDir    string
	Reports      report.Options
	AccountNames map[string]string
	// MaxFileBytes bounds one statement file (0: no limit).
	MaxFileBytes int64
	// Compression bounds .gz and .zip deliveries (zero: defaults).
	Compression compress.Limits
	// OnlyCAMT makes files that do not look like CAMT be skipped silently
	// instead of quarantined.
	OnlyCAMT bool
	// Workers is how many statement files are read at once (0: GOMAXPROCS).
	Workers int
	Log     *slog.Logger
	// Now is the clock (tests set it); nil means time.Now.
	Now func() time.Time
	// late makes the pass take the transactions in and index the open
	// items only once both are read (Job.Run indexes them so; tests
	// compare).
	late bool
}

// The live heap of a MatchFiles pass peaks while the matcher gathers the
// evidence of every transaction against the index of the open items. It
// grows with both inputs, and far faster with the open items (the items,
// their texts and the index's documents, payers, amounts and typo keys)
// than with the statements (XML of which a transaction keeps a fraction):
// about 0.7 byte per byte of statements and 12 bytes per byte of open
// items (measured with LETTRAGE_HEAPPEAK and GODEBUG=gctrace=1:
// docs/BENCHMARKS.md, "The live heap at 1M"; 0.8 and 13 before the
// evidence's rare fields moved to a side record and the open items let go
// of their CSV records). Compressed files (.gz, .zip, .xlsx) count for ten times
// their size.
const (
	matchLivePerStatementByteX10 = 7 // tenths of a byte
	matchLivePerItemByte         = 12
	matchCompressedFactor        = 10
	// matchMinMemoryLimit: below it, no limit is worth the collector's
	// extra work.
	matchMinMemoryLimit = 3 << 30
)

// MatchInput is the size of what a MatchFiles pass reads.
type MatchInput struct {
	StatementBytes, ItemBytes int64
}

// Add counts a file of size bytes, of the statements or the open items;
// a compressed file (by its name's extension) counts for ten times its
// size.
func (in *MatchInput) Add(name string, size int64, item bool) {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".gz", ".zip", ".xlsx":
		size *= matchCompressedFactor
	}
	if item {
		in.ItemBytes += size
	} else {
		in.StatementBytes += size
	}
}

// Live is the estimated peak live heap of a MatchFiles pass over in.
func (in MatchInput) Live() int64 {
	return in.StatementBytes*matchLivePerStatementByteX10/10 + in.ItemBytes*matchLivePerItemByte
}

// MatchMemoryLimit is a soft memory limit (runtime/debug.SetMemoryLimit)
// for a MatchFiles pass over in: the estimated live heap and a tenth more,
// at least 3 GiB. Left alone, the collector lets the heap grow to twice
// what is live before it runs; under this limit it runs more often near
// the peak instead (1,000,000 × 1,000,000 remittance: see
// docs/BENCHMARKS.md). A pass that keeps more than the limit live is not
// stopped: the collector only works harder (at most half the CPU).
func MatchMemoryLimit(in MatchInput) int64 {
	return max(matchMinMemoryLimit, in.Live()*11/10)
}

// MatchFiles performs one pass without a durable state store (`lettrage
// match`): the daemon's pass (Job.Run) over a memoryStore, empty at the
// start and dropped at the end. It reads the open items and every
// statement of the source, drops files with the same content and
// transactions delivered twice, matches everything once, writes the
// automatic decisions to the ledger and the exceptions reports, and files
// the statements away; nothing is recorded. Being the only pass, it
// reports batch entries whose details did not come at once (BatchWait < 0)
// and keeps no refused file for later.
//
// The error is nil when everything went through, wraps ErrFilesSkipped when
// some files were quarantined or skipped (the others went through), wraps
// ErrOpenItems when the open items could not be read (nothing was written)
// and is anything else when the pass failed.
func MatchFiles(ctx context.Context, opt MatchOptions) (Result, error) {
	if opt.Name == "" {
		opt.Name = "match"
	}
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	j := &Job{Name: opt.Name, Source: opt.Source, Ledger: opt.Ledger, Store: newMemoryStore(), Matching: opt.Matching,
		Parse: opt.Parse, ReportDir: opt.ReportDir, Reports: opt.Reports, AccountNames: opt.AccountNames,
		MaxFileBytes: opt.MaxFileBytes, Compression: opt.Compression, OnlyCAMT: opt.OnlyCAMT, Log: opt.Log,
		Now: opt.Now, BatchWait: -1, OpenItems: opt.OpenItems, Workers: opt.Workers, indexEarly: !opt.late,
		takeInLate: opt.late}
	res, err := j.Run(ctx)
	// Why open exceptions were examined is the daemon's (incremental
	// passes over a durable store); one pass has nothing to say of it.
	res.ExaminedWhy = ""
	return res, err
}
