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
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/lettrage/lettrage/config"
	"github.com/lettrage/lettrage/connectors/camt"
	"github.com/lettrage/lettrage/connectors/ledger/file"
	"github.com/lettrage/lettrage/connectors/source/local"
	"github.com/lettrage/lettrage/matcher"
	"github.com/lettrage/lettrage/pipeline"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

// Exit codes of once and match (README, docs/FORMATS.md).
const (
	exitOK      = 0 // everything went through
	exitPartial = 1 // finished, but some files were skipped or quarantined
	exitUsage   = 2 // usage, config or open-items error: nothing written
)

const usage = `Usage: lettrage <command> [flags]

Commands:
  once    -c FILE           run every job of the config once, print a summary
  run     -c FILE           run the daemon: jobs on their schedules, /metrics, /healthz, /readyz
  check   [--connect] -c FILE
                            validate a config file; --connect also reaches every source and ledger
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
  inspect [--summary] FILE...
                            print the transactions of CAMT files as JSON Lines
  version                   print the version
`

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "once":
		return cmdOnce(rest, stdout, stderr)
	case "run":
		return cmdRun(rest, stderr)
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

func versionString() string {
	v := "lettrage " + version
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				v += " (" + s.Value[:12] + ")"
			}
		}
		v += " " + bi.GoVersion
	}
	return v
}

// loadConfig parses the -c flag (and any flags extra registers) and loads
// the config, reporting errors.
func loadConfig(name string, args []string, stderr io.Writer, extra ...func(*flag.FlagSet)) (*config.Config, *flag.FlagSet, bool) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	for _, e := range extra {
		e(fs)
	}
	path := fs.String("c", "", "config file (YAML)")
	fs.StringVar(path, "config", "", "config file (YAML)")
	if err := fs.Parse(args); err != nil {
		return nil, fs, false
	}
	if *path == "" {
		fmt.Fprintf(stderr, "lettrage %s: -c FILE is required\n", name)
		return nil, fs, false
	}
	cfg, err := config.Load(*path)
	if err != nil {
		fmt.Fprintf(stderr, "lettrage %s: %v\n", name, err)
		return nil, fs, false
	}
	return cfg, fs, true
}

func newLogger(cfg config.Log, w io.Writer) *slog.Logger {
	return pipeline.NewLogger(w, cfg.Level, cfg.Format)
}

func signalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

func cmdCheck(args []string, stdout, stderr io.Writer) int {
	var connect bool
	cfg, _, ok := loadConfig("check", args, stderr, func(fs *flag.FlagSet) {
		fs.BoolVar(&connect, "connect", false, "also connect to the state store, every source and ledger, and report what they hold")
	})
	if !ok {
		return exitUsage
	}
	fmt.Fprintf(stdout, "config OK: %d job(s)", len(cfg.Jobs))
	for _, j := range cfg.Jobs {
		fmt.Fprintf(stdout, "\n  %s: %s source, %s ledger, schedule %q", j.Name, j.Source.Type, j.Ledger.Type, j.Schedule)
	}
	fmt.Fprintln(stdout)
	if connect {
		ctx, stop := signalContext()
		defer stop()
		if err := pipeline.Probe(ctx, cfg, stdout); err != nil {
			fmt.Fprintf(stderr, "lettrage check: %v\n", pipeline.MaskIBANs(err.Error()))
			return 1
		}
	}
	return exitOK
}

func cmdOnce(args []string, stdout, stderr io.Writer) int {
	cfg, _, ok := loadConfig("once", args, stderr)
	if !ok {
		return exitUsage
	}
	ctx, stop := signalContext()
	defer stop()
	svc, err := pipeline.NewService(cfg, newLogger(cfg.Log, stderr), version)
	if err != nil {
		fmt.Fprintf(stderr, "lettrage once: %v\n", err)
		return exitUsage
	}
	defer svc.Close()
	results, err := svc.RunOnce(ctx)
	for i, res := range results {
		printSummary(stdout, svc.Jobs[i].Name, res, svc.Jobs[i].ReportDir, svc.Jobs[i].Reports.XLSX)
	}
	return exitCode("once", results, err, stderr)
}

func exitCode(cmd string, results []pipeline.Result, err error, stderr io.Writer) int {
	for _, res := range results {
		for _, p := range res.Problems {
			fmt.Fprintf(stderr, "lettrage %s: skipped %s: %v\n", cmd, p.Path, p.Err)
		}
	}
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, pipeline.ErrOpenItems):
		fmt.Fprintf(stderr, "lettrage %s: %v\n", cmd, err)
		return exitUsage
	case onlySkipped(err):
		return exitPartial
	case errors.Is(err, pipeline.ErrBusy):
		fmt.Fprintf(stderr, "lettrage %s: %v (nothing done; try again when it has finished)\n", cmd, err)
		return exitPartial
	}
	fmt.Fprintf(stderr, "lettrage %s: %v\n", cmd, err)
	return exitPartial
}

// onlySkipped reports whether every joined error is ErrFilesSkipped.
func onlySkipped(err error) bool {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			if !onlySkipped(e) {
				return false
			}
		}
		return true
	}
	return errors.Is(err, pipeline.ErrFilesSkipped)
}

// setAsideLine says what a pass set aside, by reason, with the cash.
func setAsideLine(sa map[string]*pipeline.SetAside) string {
	labels := []struct{ reason, label string }{
		{pipeline.ReasonCoveredByDetails, "batch entries covered by their details"},
		{pipeline.ReasonDetailsOfLettered, "details of batch entries lettered whole"},
		{pipeline.ReasonAwaitingDetails, "batch entries awaiting their details"},
		{pipeline.SetAsideDebit, "debits"},
		{pipeline.SetAsideNotBooked, "entries not booked (pending, information)"},
		{pipeline.SetAsideReversal, "reversal or return entries"},
		{pipeline.SetAsideByHand, "ignored by an accountant"},
	}
	var parts []string
	for _, l := range labels {
		s := sa[l.reason]
		if s == nil || s.Count == 0 {
			continue
		}
		var cash []string
		for _, c := range pipeline.Currencies(s.Cash) {
			cash = append(cash, s.Cash[c].StringFixed(matcher.CurrencyDigits(c))+" "+c)
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
		parts = append(parts, fmt.Sprintf("%d REFUSED (%s)", n, pipeline.MaskIBANs(strings.Join(in.Refused, "; "))))
	}
	if in.Waiting > 0 {
		parts = append(parts, fmt.Sprintf("%d waiting (still being written)", in.Waiting))
	}
	if in.Ignored > 0 {
		parts = append(parts, fmt.Sprintf("%d lock or temporary file(s) ignored", in.Ignored))
	}
	return strings.Join(parts, ", ")
}

func printSummary(w io.Writer, job string, r pipeline.Result, reportDir string, xlsx bool) {
	fmt.Fprintf(w, "job %s (run %s)\n", job, r.RunID)
	if r.OpenItemsNote != "" {
		fmt.Fprintf(w, "  open items    %s\n", r.OpenItemsNote)
	}
	for _, a := range r.OpenItemsAnnouncements {
		fmt.Fprintf(w, "  ANNOUNCED     %s\n", pipeline.MaskIBANs(a))
	}
	fmt.Fprintf(w, "  files         %d listed, %d read, %d duplicate, %d quarantined", r.Files, r.FilesProcessed, r.FilesDuplicate, r.FilesQuarantined)
	if r.FilesSkipped > 0 {
		fmt.Fprintf(w, ", %d skipped (source unavailable, retried next run)", r.FilesSkipped)
	}
	if r.FilesNotCAMT > 0 {
		fmt.Fprintf(w, ", %d not CAMT", r.FilesNotCAMT)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "  transactions  %d read, %d delivered again, %d exceptions re-matched", r.Transactions, r.Duplicates, r.Rematched)
	if r.PossibleDuplicates > 0 {
		fmt.Fprintf(w, ", %d possible duplicates (exceptions)", r.PossibleDuplicates)
	}
	fmt.Fprintln(w)
	if line := setAsideLine(r.AllSetAside()); line != "" {
		fmt.Fprintf(w, "  set aside     %s\n", line)
	}
	if line := inboxLine(r.Inbox); line != "" {
		fmt.Fprintf(w, "  resolutions   %s\n", line)
	}
	fmt.Fprintf(w, "  decisions     %d lettered, %d suggested, %d unmatched, %d ignored\n",
		r.Outcomes[matcher.Auto], r.Outcomes[matcher.Suggested], r.Outcomes[matcher.Unmatched], r.Outcomes[matcher.Ignored])
	fmt.Fprintf(w, "  written back  %d decisions\n", r.Applied)
	fmt.Fprintf(w, "  exceptions    %d open", r.Exceptions)
	if ccys := pipeline.Currencies(r.UnmatchedCash); len(ccys) > 0 {
		var parts []string
		for _, c := range ccys {
			parts = append(parts, r.UnmatchedCash[c].StringFixed(matcher.CurrencyDigits(c))+" "+c)
		}
		fmt.Fprintf(w, ", unmatched cash %s", strings.Join(parts, ", "))
	}
	fmt.Fprintln(w)
	if reportDir != "" {
		fmt.Fprintf(w, "  report        %s", filepath.Join(reportDir, "exceptions.csv"))
		if xlsx {
			fmt.Fprint(w, " and exceptions.xlsx")
		}
		fmt.Fprintln(w)
	}
}

func cmdRun(args []string, stderr io.Writer) int {
	cfg, _, ok := loadConfig("run", args, stderr)
	if !ok {
		return exitUsage
	}
	log := newLogger(cfg.Log, stderr)
	ctx, stop := signalContext()
	defer stop()
	svc, err := pipeline.NewService(cfg, log, version)
	if err != nil {
		fmt.Fprintf(stderr, "lettrage run: %v\n", err)
		return exitUsage
	}
	defer svc.Close()
	if err := svc.Serve(ctx); err != nil {
		fmt.Fprintf(stderr, "lettrage run: %v\n", err)
		return 1
	}
	log.Info("stopped")
	return exitOK
}

func cmdMatch(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("match", flag.ContinueOnError)
	fs.SetOutput(stderr)
	itemsPath := fs.String("open-items", "", "open items, CSV or XLSX (docs/FORMATS.md)")
	stmtDir := fs.String("statements", "", "folder of CAMT statements (read recursively)")
	outDir := fs.String("out", "", "output folder for matches.csv and exceptions.csv")
	cfgPath := fs.String("c", "", "optional config file whose matching settings (tolerances, thresholds) and file ledger layout (columns, dialect) to use")
	jobName := fs.String("job", "", "with -c: the job whose matching settings to use (default: the first)")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if *itemsPath == "" || *stmtDir == "" || *outDir == "" || fs.NArg() > 0 {
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
				if j.Ledger.Type == "file" && j.Ledger.File != nil {
					ledgerCfg = *j.Ledger.File
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
	readItems := func(context.Context) ([]matcher.OpenItem, error) {
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
	if v, ok := os.LookupEnv("GOMEMLIMIT"); !ok || v == "" {
		// Keep the peak resident set near what the pass needs (the
		// collector alone lets the heap reach twice that).
		var input int64
		if st, err := os.Stat(*itemsPath); err == nil {
			input += st.Size()
		}
		_ = filepath.WalkDir(*stmtDir, func(_ string, d os.DirEntry, err error) error {
			if err == nil && d.Type().IsRegular() {
				if info, err := d.Info(); err == nil {
					input += info.Size()
				}
			}
			return nil
		})
		debug.SetMemoryLimit(pipeline.MatchMemoryLimit(input))
	}
	ctx, stop := signalContext()
	defer stop()
	// Stateless: nothing is recorded, so no state store (MatchFiles gives
	// what a Job pass on an empty store gives).
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
	printSummary(stdout, "match", res, *outDir, false)
	return exitCode("match", []pipeline.Result{res}, err, stderr)
}

func cmdInspect(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("inspect", flag.ContinueOnError)
	fs.SetOutput(stderr)
	summary := fs.Bool("summary", false, "print only one summary line per file")
	// Hidden (not in the usage text): read with the encoding/xml reference
	// reader only, to benchmark it against the fast path (docs/BENCHMARKS.md).
	reference := fs.Bool("reference", false, "read with the encoding/xml reference reader only (benchmarks)")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "lettrage inspect: name at least one file")
		return exitUsage
	}
	opts := camt.DefaultOptions()
	opts.Reference = *reference
	enc := json.NewEncoder(stdout)
	code := exitOK
	trail := pipeline.NewIdentityTrail()
	for _, path := range fs.Args() {
		if err := inspectFile(path, opts, *summary, trail, enc, stderr); err != nil {
			fmt.Fprintf(stderr, "lettrage inspect: %v\n", err)
			code = exitPartial
		}
	}
	return code
}

func cmdUnletter(args []string, stdout, stderr io.Writer) int {
	var jobName, by, account, reason string
	cfg, fs, ok := loadConfig("unletter", args, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&jobName, "job", "", "the job that lettered the payment (default: the only job)")
		fs.StringVar(&by, "by", "", "who unletters (recorded in the audit trail)")
		fs.StringVar(&account, "account", "", "the statement account (IBAN), when the tx_ref exists on several")
		fs.StringVar(&reason, "reason", "", "why (recorded, and shown in the ledger where it can)")
	})
	if !ok {
		return exitUsage
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(stderr, "lettrage unletter: name one TX_REF")
		return exitUsage
	}
	ref := fs.Arg(0)
	ctx, stop := signalContext()
	defer stop()
	svc, err := pipeline.NewService(cfg, newLogger(cfg.Log, stderr), version)
	if err != nil {
		fmt.Fprintf(stderr, "lettrage unletter: %v\n", err)
		return exitUsage
	}
	defer svc.Close()
	job := pickJob(svc, jobName)
	if job == nil {
		fmt.Fprintf(stderr, "lettrage unletter: name the job with --job (one of %d)\n", len(svc.Jobs))
		return exitUsage
	}
	if account == "" {
		keys, err := svc.Store.KeysByRef(ctx, job.Name, ref)
		if err != nil || len(keys) != 1 {
			fmt.Fprintf(stderr, "lettrage unletter: %s matches %d transaction(s) in job %q; give --account\n", ref, len(keys), job.Name)
			return exitUsage
		}
		account, _, _ = strings.Cut(keys[0], "|")
	}
	if by == "" {
		by = "unknown"
	}
	results, err := job.Resolve(ctx, []pipeline.Resolution{{Row: 1, TxRef: ref, Account: account, Action: "unletter", Comment: reason}},
		pipeline.ResolveOptions{Actor: by, Origin: "lettrage unletter"})
	if err != nil {
		fmt.Fprintf(stderr, "lettrage unletter: %v\n", pipeline.MaskIBANs(err.Error()))
		return exitPartial
	}
	r := results[0]
	if r.Status == "refused" {
		fmt.Fprintf(stderr, "lettrage unletter: %s: %s\n", ref, r.Message)
		return exitPartial
	}
	fmt.Fprintf(stdout, "%s: %s\n", ref, r.Message)
	return exitOK
}

func pickJob(svc *pipeline.Service, name string) *pipeline.Job {
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
	cfg, fs, ok := loadConfig("resolve", args, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&jobName, "job", "", "the job whose exceptions the files resolve (default: the only job)")
		fs.StringVar(&by, "by", "", "who resolves (default: the file's last author)")
		fs.BoolVar(&multi, "allow-multi-customer", false, "allow lettering one payment to items of several customers")
		fs.BoolVar(&largeWriteOff, "allow-large-write-off", false,
			fmt.Sprintf("allow write_off rows above the write-off limit (%s per currency)", pipeline.DefaultWriteOffLimit))
	})
	if !ok {
		return exitUsage
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "lettrage resolve: name at least one workbook")
		return exitUsage
	}
	ctx, stop := signalContext()
	defer stop()
	svc, err := pipeline.NewService(cfg, newLogger(cfg.Log, stderr), version)
	if err != nil {
		fmt.Fprintf(stderr, "lettrage resolve: %v\n", err)
		return exitUsage
	}
	defer svc.Close()
	job := pickJob(svc, jobName)
	if job == nil {
		fmt.Fprintf(stderr, "lettrage resolve: name the job with --job (one of %d)\n", len(svc.Jobs))
		return exitUsage
	}
	code := exitOK
	for _, path := range fs.Args() {
		wb, err := pipeline.ReadResolutions(path)
		if err != nil {
			fmt.Fprintf(stderr, "lettrage resolve: %v\n", err)
			code = exitUsage
			continue
		}
		actor := by
		if actor == "" {
			actor = pipeline.AuthorOf(wb, job.InboxDefaultAuthor)
		}
		abs, _ := filepath.Abs(path)
		results, err := job.Resolve(ctx, wb.Rows, pipeline.ResolveOptions{Actor: actor, Origin: abs,
			AllowMultiCustomer: multi, AllowLargeWriteOff: largeWriteOff})
		if err != nil {
			fmt.Fprintf(stderr, "lettrage resolve: %s: %v\n", path, err)
			code = max(code, exitPartial)
			if results == nil {
				continue
			}
		}
		counts := map[string]int{}
		for _, r := range results {
			counts[r.Status]++
			if r.Status == "refused" {
				fmt.Fprintf(stderr, "lettrage resolve: %s row %d (%s): refused: %s\n", path, r.Row, r.TxRef, pipeline.MaskIBANs(r.Message))
				code = max(code, exitPartial)
			}
		}
		out := pipeline.ResultPath(path)
		if err := pipeline.WriteResolveResults(out, results); err != nil {
			fmt.Fprintf(stderr, "lettrage resolve: %v\n", err)
			code = max(code, exitPartial)
		}
		fmt.Fprintf(stdout, "%s: %d row(s): %d applied, %d already applied, %d refused (by %s) → %s\n",
			path, len(results), counts["applied"], counts["already_applied"], counts["refused"], actor, out)
	}
	return code
}
