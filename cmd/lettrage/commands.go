package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"

	"github.com/lettrage/lettrage/config"
	"github.com/lettrage/lettrage/connectors/camt"
	"github.com/lettrage/lettrage/connectors/ledger/file"
	"github.com/lettrage/lettrage/connectors/source/local"
	"github.com/lettrage/lettrage/domain"
	"github.com/lettrage/lettrage/matcher"
	"github.com/lettrage/lettrage/pipeline"
	"github.com/lettrage/lettrage/pipeline/daemon"
	"github.com/lettrage/lettrage/pipeline/decide"
	"github.com/lettrage/lettrage/pipeline/report"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

// Exit codes (README "Exit codes", docs/FORMATS.md): pipeline.ExitCode
// maps a failure's cause to its code.
const (
	exitOK          = pipeline.ExitOK          // everything went through
	exitPartial     = pipeline.ExitPartial     // finished, but some files or rows were refused
	exitUsage       = pipeline.ExitUsage       // usage, config or a malformed input file: nothing decided
	exitUnavailable = pipeline.ExitUnavailable // a source, ledger or state store unreachable: nothing decided for that job
	exitInterrupted = pipeline.ExitInterrupted // SIGINT/SIGTERM: the pass was rolled back
)

const usage = `Usage: lettrage <command> [flags] [arguments]

Flags may come before or after the arguments; -c defaults to $LETTRAGE_CONFIG;
<command> -h prints the command's flags.

Commands:
  once    -c FILE           run every job of the config once, print a summary
  run     -c FILE           run the daemon: jobs on their schedules, /metrics, /healthz, /readyz;
                            SIGHUP reloads the config (validated first), SIGTERM stops
  check   [--connect] -c FILE
                            validate a config file; --connect also reaches every source and ledger
                            (read-only)
  match   --open-items FILE.csv|FILE.xlsx --statements DIR --out OUTDIR [-c FILE [--job NAME]]
                            stateless one-shot run: writes OUTDIR/matches.csv and OUTDIR/exceptions.csv
                            (-c takes the matching settings of a config's job)
  resolve -c FILE [--job NAME] [--by WHO] [--allow-multi-customer] [--allow-large-write-off] WORKBOOK...
                            apply accountants' decisions from an edited exceptions workbook (or CSV):
                            letters, payments on account, write-offs; writes WORKBOOK.result.csv next to each file
  unletter -c FILE [--job NAME] [--by WHO] [--account IBAN] [--reason TEXT] TX_REF
                            reverse a lettering in the ledger; the payment becomes an exception again
  history -c FILE [--job NAME] [--account IBAN] TX_REF
  history -c FILE [--job NAME] [--from DATE] [--to DATE] [--customer ID]
                            print payments' decisions (when, rule or who, config, ledger state) and deliveries
  release -c FILE [--job NAME] [--all | PATH|SHA256...]
                            list the refused statement files a job holds, or release them (read again)
  inspect [--summary] FILE...
                            print the transactions of CAMT files as JSON Lines
  version                   print the version

Exit codes: 0 ok; 1 partial (some files or rows refused); 2 usage, config or a malformed
input file (nothing decided); 3 a source, ledger or state store unreachable (nothing
decided for that job); 130 interrupted. With several jobs the highest code wins.
`

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	cmd, rest := args[0], args[1:]
	stop := startProfiles(stderr)
	defer stop()
	switch cmd {
	case "once":
		return cmdOnce(rest, stdout, stderr)
	case "run":
		return cmdRun(rest, stdout, stderr)
	case "check":
		return cmdCheck(rest, stdout, stderr)
	case "match":
		return cmdMatch(rest, stdout, stderr)
	case "inspect":
		return cmdInspect(rest, stdout, stderr)
	case "resolve":
		return cmdResolve(rest, stdout, stderr)
	case "unletter":
		return cmdUnletter(rest, stdout, stderr)
	case "history":
		return cmdHistory(rest, stdout, stderr)
	case "release":
		return cmdRelease(rest, stdout, stderr)
	case "version", "--version", "-version":
		fmt.Fprintln(stdout, versionString())
		return exitOK
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	fmt.Fprintf(stderr, "lettrage: unknown command %q\n\n%s", cmd, usage)
	return exitUsage
}

// versionString is `lettrage version`: the version (stamped, or from the
// module's VCS tag), the revision and the Go version.
func versionString() string {
	b := pipeline.ReadBuild(version)
	v := "lettrage " + b.Version
	if b.Revision != "unknown" {
		v += " (" + b.Revision[:min(12, len(b.Revision))]
		if strings.HasSuffix(b.Revision, "-dirty") {
			v += "-dirty"
		}
		v += ")"
	}
	return v + " " + b.GoVersion
}

// command is a parsed command line: the loaded config, the positional
// arguments and the config path.
type command struct {
	cfg  *config.Config
	args []string
	path string
}

// loadConfig parses the flags (those extra registers, and -c) and loads
// the config. When it returns false, the command exits with code.
func loadConfig(name string, args []string, stdout, stderr io.Writer, extra ...func(*flag.FlagSet)) (command, int, bool) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	for _, e := range extra {
		e(fs)
	}
	path := configFlag(fs)
	pos, code, ok := parseArgs(fs, args, stdout, stderr)
	if !ok {
		return command{}, code, false
	}
	if *path == "" {
		fmt.Fprintf(stderr, "lettrage %s: -c FILE (or $%s) is required\n", name, ConfigEnv)
		return command{}, exitUsage, false
	}
	cfg, err := config.Load(*path)
	if err != nil {
		fmt.Fprintf(stderr, "lettrage %s: %v\n", name, err)
		return command{}, exitUsage, false
	}
	return command{cfg: cfg, args: pos, path: *path}, exitOK, true
}

// newService opens the state store and builds the jobs, reporting a
// failure with its exit code (3 for a state store out of reach, 2 for the
// rest: a source or ledger the configuration describes wrongly).
func newService(name string, cfg *config.Config, log *slog.Logger, stderr io.Writer) (*daemon.Service, int) {
	svc, err := daemon.NewService(cfg, log, version)
	if err == nil {
		return svc, exitOK
	}
	code := exitUsage
	if errors.Is(err, daemon.ErrStateStore) {
		code = exitUnavailable
	}
	fmt.Fprintf(stderr, "lettrage %s: %s%s\n", name, decide.MaskIBANs(err.Error()), exitHint(code))
	return nil, code
}

func newLogger(cfg config.Log, w io.Writer) *slog.Logger {
	return pipeline.NewLogger(w, cfg.Level, cfg.Format)
}

func cmdCheck(args []string, stdout, stderr io.Writer) int {
	var connect bool
	c, code, ok := loadConfig("check", args, stdout, stderr, func(fs *flag.FlagSet) {
		fs.BoolVar(&connect, "connect", false, "also connect to the state store, every source and ledger, and report what they hold (read-only)")
	})
	if !ok {
		return code
	}
	if len(c.args) > 0 {
		fmt.Fprintf(stderr, "lettrage check: unexpected argument %q\n", c.args[0])
		return exitUsage
	}
	cfg := c.cfg
	log := useLogger(cfg.Log, stderr)
	fmt.Fprintf(stdout, "config OK: %d job(s), config hash %s", len(cfg.Jobs), cfg.Hash())
	for _, j := range cfg.Jobs {
		fmt.Fprintf(stdout, "\n  %s: %s source, %s ledger, schedule %q", j.Name, j.Source.Type, j.Ledger.Type, j.Schedule)
	}
	fmt.Fprintln(stdout)
	if connect {
		ctx, stop := signalContext()
		defer stop()
		log.Debug("probing the state store, sources and ledgers (read-only)", "jobs", len(cfg.Jobs))
		if err := daemon.Probe(ctx, cfg, stdout); err != nil {
			return exitFor("check", err, ctx.Err() != nil, stderr)
		}
	}
	return exitOK
}

func cmdOnce(args []string, stdout, stderr io.Writer) int {
	c, code, ok := loadConfig("once", args, stdout, stderr)
	if !ok {
		return code
	}
	if len(c.args) > 0 {
		fmt.Fprintf(stderr, "lettrage once: unexpected argument %q\n", c.args[0])
		return exitUsage
	}
	ctx, stop := signalContext()
	defer stop()
	defer followLiveHeap()()
	svc, code := newService("once", c.cfg, useLogger(c.cfg.Log, stderr), stderr)
	if svc == nil {
		return code
	}
	defer svc.Close()
	results, errs := svc.RunOnce(ctx)
	code = exitOK
	for i, res := range results {
		jobCode := jobExit("once", svc.Jobs[i].Name, res, errs[i], ctx.Err() != nil, stderr)
		printSummary(stdout, svc.Jobs[i].Name, res, errs[i], jobCode, svc.Jobs[i].ReportDir, svc.Jobs[i].Reports.XLSX)
		code = max(code, jobCode)
	}
	return code
}

// jobExit reports a job's refused files and failure on stderr and returns
// its exit code.
func jobExit(cmd, job string, res pipeline.Result, err error, interrupted bool, stderr io.Writer) int {
	where := cmd // "once: job bank-a"; `match` has no job of its own
	if job != cmd {
		where += ": job " + job
	}
	for _, p := range res.Problems {
		fmt.Fprintf(stderr, "lettrage %s: skipped %s: %s\n", where, p.Path, decide.MaskIBANs(p.Err.Error()))
	}
	if err == nil {
		return exitOK
	}
	if errors.Is(err, pipeline.ErrFilesSkipped) && !interrupted {
		return exitPartial // each file reported above
	}
	if errors.Is(err, pipeline.ErrBusy) {
		fmt.Fprintf(stderr, "lettrage %s: %v (nothing done; it runs there)\n", where, err)
		return exitPartial
	}
	return exitFor(where, err, interrupted, stderr)
}

// setAsideLine says what a pass set aside, by reason, with the cash.
func setAsideLine(sa map[string]*pipeline.SetAside) string {
	labels := []struct{ reason, label string }{
		{decide.ReasonCoveredByDetails, "batch entries covered by their details"},
		{decide.ReasonDetailsOfLettered, "details of batch entries lettered whole"},
		{decide.ReasonAwaitingDetails, "batch entries awaiting their details"},
		{decide.SetAsideDebit, "debits"},
		{decide.SetAsideNotBooked, "entries not booked (pending, information)"},
		{decide.SetAsideReversal, "reversal or return entries"},
		{decide.SetAsideByHand, "ignored by an accountant"},
	}
	var parts []string
	for _, l := range labels {
		s := sa[l.reason]
		if s == nil || s.Count == 0 {
			continue
		}
		var cash []string
		for _, c := range decide.Currencies(s.Cash) {
			cash = append(cash, s.Cash[c].StringFixed(domain.CurrencyDigits(c))+" "+c)
		}
		parts = append(parts, fmt.Sprintf("%d %s (%s)", s.Count, l.label, strings.Join(cash, ", ")))
	}
	return strings.Join(parts, "; ")
}

// inboxLine says what the resolutions inbox took in, refusals with why.
func inboxLine(in pipeline.InboxResult) string {
	var parts []string
	if in.Applied > 0 {
		parts = append(parts, fmt.Sprintf("%d workbook(s) applied", in.Applied))
	}
	if n := len(in.Refused); n > 0 {
		parts = append(parts, fmt.Sprintf("%d REFUSED (%s)", n, decide.MaskIBANs(strings.Join(in.Refused, "; "))))
	}
	if in.Waiting > 0 {
		parts = append(parts, fmt.Sprintf("%d waiting (still being written)", in.Waiting))
	}
	if in.Ignored > 0 {
		parts = append(parts, fmt.Sprintf("%d lock or temporary file(s) ignored", in.Ignored))
	}
	return strings.Join(parts, ", ")
}

// printSummary prints what a job's pass did — only what happened: a pass
// that failed before committing decided nothing, and reports are named
// only when they were written.
func printSummary(w io.Writer, job string, r pipeline.Result, err error, code int, reportDir string, xlsx bool) {
	fmt.Fprintf(w, "job %s (run %s)\n", job, r.RunID)
	switch {
	case err == nil:
		fmt.Fprintln(w, "  result        ok")
	case code == exitPartial && errors.Is(err, pipeline.ErrFilesSkipped):
		fmt.Fprintf(w, "  result        partial: %d file(s) refused or left for the next run (exit 1)\n", r.FilesQuarantined+r.FilesSkipped+len(r.Inbox.Refused))
	case errors.Is(err, pipeline.ErrBusy):
		fmt.Fprintln(w, "  result        skipped: the job is running in another process (exit 1)")
		return
	default:
		what := "failed"
		switch code {
		case exitUsage:
			what = "failed: input to fix"
		case exitUnavailable:
			what = "failed: unreachable"
		case exitInterrupted:
			what = "interrupted"
		}
		fmt.Fprintf(w, "  result        %s (exit %d); see stderr\n", what, code)
	}
	if r.OpenItemsNote != "" {
		fmt.Fprintf(w, "  open items    %s\n", r.OpenItemsNote)
	}
	for _, a := range r.OpenItemsAnnouncements {
		fmt.Fprintf(w, "  ANNOUNCED     %s\n", decide.MaskIBANs(a))
	}
	if err != nil && !errors.Is(err, pipeline.ErrFilesSkipped) && !r.Committed {
		if r.Applied > 0 {
			fmt.Fprintf(w, "  written back  %d decisions left pending by an earlier run\n", r.Applied)
		}
		fmt.Fprintln(w, "  decisions     none (nothing was committed; the next run starts over)")
		return
	}
	fmt.Fprintf(w, "  files         %d listed, %d read, %d duplicate, %d quarantined", r.Files, r.FilesProcessed, r.FilesDuplicate, r.FilesQuarantined)
	if r.FilesHeld > 0 {
		fmt.Fprintf(w, ", %d held (refused before: `lettrage release`)", r.FilesHeld)
	}
	if r.FilesSkipped > 0 {
		fmt.Fprintf(w, ", %d skipped (source unavailable, retried next run)", r.FilesSkipped)
	}
	if r.FilesNotCAMT > 0 {
		fmt.Fprintf(w, ", %d not CAMT", r.FilesNotCAMT)
	}
	fmt.Fprintln(w)
	// Rematched: earlier exceptions this pass lettered (of those the
	// "examined" line counts as matched again)
	fmt.Fprintf(w, "  transactions  %d read, %d delivered again, %d earlier exceptions lettered", r.Transactions, r.Duplicates, r.Rematched)
	if r.PossibleDuplicates > 0 {
		fmt.Fprintf(w, ", %d possible duplicates (exceptions)", r.PossibleDuplicates)
	}
	fmt.Fprintln(w)
	// what the pass matched again, or that nothing changed; nothing when
	// there was nothing open to match again (a first pass, `match`)
	if r.Examined > 0 || r.ExaminedWhy == pipeline.NothingChanged {
		fmt.Fprintf(w, "  examined      %d open exceptions matched again (%s)\n", r.Examined, r.ExaminedWhy)
	}
	if line := setAsideLine(r.AllSetAside()); line != "" {
		fmt.Fprintf(w, "  set aside     %s\n", line)
	}
	if line := inboxLine(r.Inbox); line != "" {
		fmt.Fprintf(w, "  resolutions   %s\n", line)
	}
	fmt.Fprintf(w, "  decisions     %d lettered, %d suggested, %d unmatched, %d ignored\n",
		r.Outcomes[domain.Auto], r.Outcomes[domain.Suggested], r.Outcomes[domain.Unmatched], r.Outcomes[domain.Ignored])
	fmt.Fprintf(w, "  written back  %d decisions\n", r.Applied)
	if !r.ReportsWritten && !r.ReportsUnchanged {
		fmt.Fprintln(w, "  report        not written (the pass stopped before)")
		return
	}
	fmt.Fprintf(w, "  exceptions    %d open", r.Exceptions)
	if ccys := decide.Currencies(r.UnmatchedCash); len(ccys) > 0 {
		var parts []string
		for _, c := range ccys {
			parts = append(parts, r.UnmatchedCash[c].StringFixed(domain.CurrencyDigits(c))+" "+c)
		}
		fmt.Fprintf(w, ", unmatched cash %s", strings.Join(parts, ", "))
	}
	fmt.Fprintln(w)
	if reportDir != "" {
		fmt.Fprintf(w, "  report        %s", filepath.Join(reportDir, "exceptions.csv"))
		if xlsx {
			fmt.Fprint(w, " and exceptions.xlsx")
		}
		if r.ReportsUnchanged {
			fmt.Fprint(w, " (current: nothing they show changed, not rewritten)")
		}
		fmt.Fprintln(w)
	}
}

func cmdRun(args []string, stdout, stderr io.Writer) int {
	c, code, ok := loadConfig("run", args, stdout, stderr)
	if !ok {
		return code
	}
	if len(c.args) > 0 {
		fmt.Fprintf(stderr, "lettrage run: unexpected argument %q\n", c.args[0])
		return exitUsage
	}
	level := new(slog.LevelVar)
	_ = level.UnmarshalText([]byte(c.cfg.Log.Level))
	log := pipeline.NewLevelLogger(stderr, level, c.cfg.Log.Format)
	slog.SetDefault(log)
	ctx, stop := signalContext()
	defer stop()
	defer followLiveHeap()()
	svc, code := newService("run", c.cfg, log, stderr)
	if svc == nil {
		return code
	}
	defer svc.Close()
	log.Info("starting", "version", pipeline.ReadBuild(version).Version, "config_hash", c.cfg.Hash(), "jobs", len(c.cfg.Jobs))
	stopReload := onReload(func() { reload(svc, c.path, level, log) })
	defer stopReload()
	if err := svc.Serve(ctx); err != nil {
		code := exitUnavailable
		if errors.Is(err, daemon.ErrSchedule) {
			code = exitUsage
		}
		fmt.Fprintf(stderr, "lettrage run: %v\n", err)
		return code
	}
	log.Info("stopped")
	return exitOK
}

// reload loads and validates the configuration again (SIGHUP) and hands it
// to the running service; a configuration that does not load, or whose
// jobs cannot be built, is refused and the running one stays.
func reload(svc *daemon.Service, path string, level *slog.LevelVar, log *slog.Logger) {
	log.Info("reloading the configuration", "config", path)
	cfg, err := config.Load(path)
	if err == nil {
		err = svc.Reload(cfg)
	}
	if err != nil {
		log.Error("configuration not reloaded; the running one stays", "err", err)
		return
	}
	_ = level.UnmarshalText([]byte(cfg.Log.Level))
	log.Info("configuration reloaded", "config_hash", cfg.Hash(), "jobs", len(cfg.Jobs))
}

func cmdMatch(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("match", flag.ContinueOnError)
	itemsPath := fs.String("open-items", "", "open items, CSV or XLSX (docs/FORMATS.md)")
	stmtDir := fs.String("statements", "", "folder of CAMT statements (read recursively)")
	outDir := fs.String("out", "", "output folder for matches.csv and exceptions.csv")
	cfgPath := fs.String("c", "", "optional config file whose matching settings (tolerances, thresholds) and file ledger layout (columns, dialect) to use")
	jobName := fs.String("job", "", "with -c: the job whose matching settings to use (default: the first)")
	pos, code, ok := parseArgs(fs, args, stdout, stderr)
	if !ok {
		return code
	}
	if *itemsPath == "" || *stmtDir == "" || *outDir == "" || len(pos) > 0 {
		fmt.Fprintln(stderr, "lettrage match: --open-items, --statements and --out are required")
		return exitUsage
	}
	matching := matcher.DefaultConfig()
	journal := filepath.Join(*outDir, "matches.csv")
	// The open items are read as the job's file ledger reads them (its
	// column mapping, CSV dialect, sheet) when -c names one; an .xlsx is
	// a workbook either way.
	ledgerCfg := file.Config{OpenItems: *itemsPath, Journal: journal}
	if *cfgPath != "" {
		cfg, err := config.Load(*cfgPath)
		if err != nil {
			fmt.Fprintf(stderr, "lettrage match: %v\n", err)
			return exitUsage
		}
		found := false
		for _, j := range cfg.Jobs {
			if !found && (*jobName == "" || j.Name == *jobName) {
				matching, found = j.Matching.MatcherConfig(), true
				if fc, ok := j.Ledger.Settings().(*file.Config); ok {
					ledgerCfg = *fc
					ledgerCfg.OpenItems, ledgerCfg.Journal = *itemsPath, journal
					if ledgerCfg.Format != "" && !strings.EqualFold(filepath.Ext(*itemsPath), "."+ledgerCfg.Format) {
						ledgerCfg.Format = "" // the file named here says what it is
					}
				}
			}
		}
		if !found {
			fmt.Fprintf(stderr, "lettrage match: no job %q in %s\n", *jobName, *cfgPath)
			return exitUsage
		}
	}
	if st, err := os.Stat(*stmtDir); err != nil || !st.IsDir() {
		fmt.Fprintf(stderr, "lettrage match: --statements %q is not a folder\n", *stmtDir)
		return exitUsage
	}
	ledgerCfg.AsOf = file.AsOfNever // a fresh journal: nothing to reconcile
	src, err := local.New("statements", local.Config{Dir: *stmtDir, Recursive: true})
	if err != nil {
		fmt.Fprintf(stderr, "lettrage match: %v\n", err)
		return exitUsage
	}
	led, err := file.New(ledgerCfg)
	if err != nil {
		fmt.Fprintf(stderr, "lettrage match: %v\n", err)
		return exitUsage
	}
	defer led.Close()
	// The open items are read (and validated) while the statements are
	// parsed; the output folder is made only once they are valid, so that a
	// bad file writes nothing.
	var outErr error
	readItems := func(context.Context) ([]domain.OpenItem, error) {
		items, warnings, err := file.ReadExport(ledgerCfg)
		if err != nil {
			return nil, err
		}
		for _, w := range warnings {
			fmt.Fprintf(stderr, "lettrage match: warning: %s\n", w)
		}
		if err := os.MkdirAll(*outDir, 0o750); err != nil {
			outErr = err
			return nil, err
		}
		if err := os.Remove(journal); err != nil && !errors.Is(err, os.ErrNotExist) {
			outErr = err
			return nil, err
		}
		return items, nil
	}
	setMatchMemoryLimit(*itemsPath, *stmtDir)
	ctx, stop := signalContext()
	defer stop()
	// Stateless: the daemon's pass over a state store in memory, dropped at
	// the end (pipeline.MatchFiles).
	res, err := pipeline.MatchFiles(ctx, pipeline.MatchOptions{
		Name: "match", Source: src, Ledger: led, OpenItems: readItems,
		Matching: matching, Parse: camt.DefaultOptions(),
		ReportDir: *outDir, OnlyCAMT: true,
		Log: pipeline.NewLogger(stderr, "warn", "text"),
	})
	if outErr != nil {
		fmt.Fprintf(stderr, "lettrage match: %v\n", outErr)
		return exitUsage
	}
	if errors.Is(err, pipeline.ErrOpenItems) {
		// Nothing was done: no summary.
		fmt.Fprintf(stderr, "lettrage match: %v\n", err)
		return exitUsage
	}
	code = jobExit("match", "match", res, err, ctx.Err() != nil, stderr)
	printSummary(stdout, "match", res, err, code, *outDir, false)
	return code
}

// setMatchMemoryLimit keeps the peak resident set of `match` near what
// the pass needs (the collector alone lets the heap reach twice that): a
// soft limit from the sizes of the open items and the statements
// (pipeline.MatchMemoryLimit), unless GOMEMLIMIT sets one.
func setMatchMemoryLimit(itemsPath, stmtDir string) {
	if v, ok := os.LookupEnv("GOMEMLIMIT"); ok && v != "" {
		return
	}
	var input pipeline.MatchInput
	if st, err := os.Stat(itemsPath); err == nil {
		input.Add(itemsPath, st.Size(), true)
	}
	_ = filepath.WalkDir(stmtDir, func(path string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if info, err := d.Info(); err == nil {
				input.Add(path, info.Size(), false)
			}
		}
		return nil
	})
	debug.SetMemoryLimit(pipeline.MatchMemoryLimit(input))
}

func cmdInspect(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("inspect", flag.ContinueOnError)
	summary := fs.Bool("summary", false, "print only one summary line per file")
	// Hidden (not in the usage text): read with the encoding/xml reference
	// reader only, to benchmark it against the fast path (docs/BENCHMARKS.md).
	reference := fs.Bool("reference", false, "read with the encoding/xml reference reader only (benchmarks)")
	files, code, ok := parseArgs(fs, args, stdout, stderr)
	if !ok {
		return code
	}
	if len(files) == 0 {
		fmt.Fprintln(stderr, "lettrage inspect: name at least one file")
		return exitUsage
	}
	opts := camt.DefaultOptions()
	opts.Reference = *reference
	enc := json.NewEncoder(stdout)
	code = exitOK
	trail := pipeline.NewIdentityTrail()
	for _, path := range files {
		if err := inspectFile(path, opts, *summary, trail, enc, stderr); err != nil {
			fmt.Fprintf(stderr, "lettrage inspect: %v\n", err)
			code = exitPartial
		}
	}
	return code
}

func cmdUnletter(args []string, stdout, stderr io.Writer) int {
	var jobName, by, account, reason string
	c, code, ok := loadConfig("unletter", args, stdout, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&jobName, "job", "", "the job that lettered the payment (default: the only job)")
		fs.StringVar(&by, "by", "", "who unletters (recorded in the audit trail)")
		fs.StringVar(&account, "account", "", "the statement account (IBAN), when the tx_ref exists on several")
		fs.StringVar(&reason, "reason", "", "why (recorded, and shown in the ledger where it can)")
	})
	if !ok {
		return code
	}
	if len(c.args) != 1 {
		fmt.Fprintln(stderr, "lettrage unletter: name one TX_REF")
		return exitUsage
	}
	ref := c.args[0]
	ctx, stop := signalContext()
	defer stop()
	svc, code := newService("unletter", c.cfg, useLogger(c.cfg.Log, stderr), stderr)
	if svc == nil {
		return code
	}
	defer svc.Close()
	job := pickJob(svc, jobName)
	if job == nil {
		fmt.Fprintf(stderr, "lettrage unletter: name the job with --job (one of %d)\n", len(svc.Jobs))
		return exitUsage
	}
	if account == "" {
		keys, err := svc.Store.KeysByRef(ctx, job.Name, ref)
		if err != nil {
			return exitFor("unletter", err, ctx.Err() != nil, stderr)
		}
		switch len(keys) {
		case 0:
			fmt.Fprintf(stderr, "lettrage unletter: no payment with the reference %q in job %q (the tx_ref column of matches.csv or exceptions.csv)\n", ref, job.Name)
			return exitUsage
		case 1:
			account, _, _ = strings.Cut(keys[0], "|")
		default:
			fmt.Fprintf(stderr, "lettrage unletter: %d payments of job %q have the reference %q, on different accounts; name one with --account IBAN\n", len(keys), job.Name, ref)
			return exitUsage
		}
	}
	if by == "" {
		by = "unknown"
	}
	results, err := job.Resolve(ctx, []report.Resolution{{Row: 1, TxRef: ref, Account: account, Action: "unletter", Comment: reason}},
		pipeline.ResolveOptions{Actor: by, Origin: "lettrage unletter"})
	if err != nil {
		return exitFor("unletter", err, ctx.Err() != nil, stderr)
	}
	r := results[0]
	if r.Status == "refused" {
		fmt.Fprintf(stderr, "lettrage unletter: %s: %s\n", ref, decide.MaskIBANs(r.Message))
		return exitPartial
	}
	fmt.Fprintf(stdout, "%s: %s\n", ref, r.Message)
	return exitOK
}

func pickJob(svc *daemon.Service, name string) *pipeline.Job {
	for _, j := range svc.Jobs {
		if j.Name == name || (name == "" && len(svc.Jobs) == 1) {
			return j
		}
	}
	return nil
}

func cmdResolve(args []string, stdout, stderr io.Writer) int {
	var jobName, by string
	var multi, largeWriteOff bool
	c, code, ok := loadConfig("resolve", args, stdout, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&jobName, "job", "", "the job whose exceptions the files resolve (default: the only job)")
		fs.StringVar(&by, "by", "", "who resolves (default: the file's last author)")
		fs.BoolVar(&multi, "allow-multi-customer", false, "allow lettering one payment to items of several customers")
		fs.BoolVar(&largeWriteOff, "allow-large-write-off", false,
			fmt.Sprintf("allow write_off rows above the write-off limit (%s per currency)", pipeline.DefaultWriteOffLimit))
	})
	if !ok {
		return code
	}
	if len(c.args) == 0 {
		fmt.Fprintln(stderr, "lettrage resolve: name at least one workbook")
		return exitUsage
	}
	ctx, stop := signalContext()
	defer stop()
	svc, code := newService("resolve", c.cfg, useLogger(c.cfg.Log, stderr), stderr)
	if svc == nil {
		return code
	}
	defer svc.Close()
	job := pickJob(svc, jobName)
	if job == nil {
		fmt.Fprintf(stderr, "lettrage resolve: name the job with --job (one of %d)\n", len(svc.Jobs))
		return exitUsage
	}
	code = exitOK
	for _, path := range c.args {
		wb, err := report.ReadResolutions(path)
		if err != nil {
			fmt.Fprintf(stderr, "lettrage resolve: %v\n", err)
			code = exitUsage
			continue
		}
		actor := by
		if actor == "" {
			actor = report.AuthorOf(wb, job.InboxDefaultAuthor)
		}
		abs, _ := filepath.Abs(path)
		results, err := job.Resolve(ctx, wb.Rows, pipeline.ResolveOptions{Actor: actor, Origin: abs,
			AllowMultiCustomer: multi, AllowLargeWriteOff: largeWriteOff})
		if err != nil {
			code = max(code, exitFor("resolve: "+path, err, ctx.Err() != nil, stderr))
			if results == nil {
				continue
			}
		}
		counts := map[string]int{}
		for _, r := range results {
			counts[r.Status]++
			if r.Status == "refused" {
				fmt.Fprintf(stderr, "lettrage resolve: %s row %d (%s): refused: %s\n", path, r.Row, r.TxRef, decide.MaskIBANs(r.Message))
				code = max(code, exitPartial)
			}
		}
		out := report.ResultPath(path)
		if err := report.WriteResolveResults(out, results); err != nil {
			fmt.Fprintf(stderr, "lettrage resolve: %v\n", err)
			code = max(code, exitPartial)
		}
		fmt.Fprintf(stdout, "%s: %d row(s): %d applied, %d already applied, %d refused (by %s) → %s\n",
			path, len(results), counts["applied"], counts["already_applied"], counts["refused"], actor, out)
	}
	return code
}
