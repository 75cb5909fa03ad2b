package pipeline

import (
	"context"
	"log/slog"
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
}

// matchBytesPerInputByte sizes MatchMemoryLimit: a MatchFiles pass keeps
// about 2.7 bytes of heap live per byte of input at its peak (1,000,000
// transactions × 1,000,000 open items: 745 MB of statements and 125 MB of
// open items, 2.35 GB live).
const matchBytesPerInputByte = 4

// MatchMemoryLimit is a soft memory limit (runtime/debug.SetMemoryLimit)
// for a MatchFiles pass over inputBytes of statements and open items: 4
// bytes per byte of input, at least 3 GiB. Left alone, the collector lets
// the heap grow to twice what is live before it runs; under this limit it
// runs a little more often instead (1,000,000 × 1,000,000: peak resident
// set 4.4 GB → 3.3–3.5 GB, CPU time unchanged within the noise). A pass
// that keeps more than the limit live is not stopped: the collector only
// works harder.
func MatchMemoryLimit(inputBytes int64) int64 {
	return max(3<<30, inputBytes*matchBytesPerInputByte)
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
		Now: opt.Now, BatchWait: -1, OpenItems: opt.OpenItems, Workers: opt.Workers}
	res, err := j.Run(ctx)
	// Why open exceptions were examined is the daemon's (incremental
	// passes over a durable store); one pass has nothing to say of it.
	res.ExaminedWhy = ""
	return res, err
}
