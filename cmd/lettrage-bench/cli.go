package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"

	"github.com/lettrage/lettrage/internal/gen"
)

const usage = `Usage: lettrage-bench <command> [flags]

Commands:
  gen   --seed S --n N --out DIR [--items M] [--per-file 50000] [--batch-percent 10]
        [--profile classic|remittance]
          write DIR/open_items.csv (M items, default 2N), DIR/statements/*.xml
          (N transactions, camt.053.001.08; with the remittance profile also
          camt.052 and camt.054) and DIR/truth.csv, from internal/gen
  score --truth DIR/truth.csv --matches OUT/matches.csv [--open-items DIR/open_items.csv]
        [--min-precision 0.999] [--min-auto 0.97]
          precision, auto-match rate and unknown-payer auto-letters per scenario;
          exit 1 when a target is missed
  camt  --size 300MB --out FILE
          one generated camt.053 statement of about that size (~3.4 KB per entry,
          10% batch bookings), written streaming
`

// Exit codes.
const (
	exitOK     = 0
	exitFailed = 1 // a target missed, or an I/O error
	exitUsage  = 2
)

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	var err error
	switch args[0] {
	case "gen":
		err = cmdGen(args[1:], stdout, stderr)
	case "score":
		err = cmdScore(args[1:], stdout, stderr)
	case "camt":
		err = cmdCAMT(args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	default:
		fmt.Fprintf(stderr, "lettrage-bench: unknown command %q\n\n%s", args[0], usage)
		return exitUsage
	}
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.Is(err, errUsage):
		fmt.Fprintf(stderr, "lettrage-bench %s: %v\n", args[0], err)
		return exitUsage
	}
	fmt.Fprintf(stderr, "lettrage-bench %s: %v\n", args[0], err)
	return exitFailed
}

func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("parsing flags: %w", errUsage)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q: %w", fs.Arg(0), errUsage)
	}
	return nil
}

func cmdGen(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("gen", stderr)
	seed := fs.Uint64("seed", 1, "generator seed: the same seed gives the same files")
	n := fs.Int("n", 10000, "transactions")
	items := fs.Int("items", 0, "open items in the book (0: 2n)")
	out := fs.String("out", "", "output folder")
	var opt genOptions
	fs.IntVar(&opt.PerFile, "per-file", 50000, "most entries per statement file")
	fs.IntVar(&opt.BatchPercent, "batch-percent", 10, "share of entries that are batch bookings (percent)")
	profile := fs.String("profile", gen.ProfileClassic, "scenario mix: classic (generator version 1) or remittance "+
		"(per-document remittance amounts, discounts, overpayments…, heavy texts, camt.052 and camt.054 beside the camt.053)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	switch *profile {
	case gen.ProfileClassic:
	case gen.ProfileRemittance:
		opt.Heavy, opt.NotifiedPercent, opt.IntradayPercent = true, 20, 20
	default:
		return fmt.Errorf("--profile %q: want classic or remittance: %w", *profile, errUsage)
	}
	if *out == "" || *n <= 0 || opt.PerFile <= 0 || opt.BatchPercent < 0 || opt.BatchPercent > 100 {
		return fmt.Errorf("--out DIR and a positive --n are required: %w", errUsage)
	}
	if *items < 0 {
		return fmt.Errorf("--items must not be negative: %w", errUsage)
	}
	ds := gen.GenerateWith(*seed, *n, gen.Options{Items: *items, Profile: *profile})
	files, err := writeDataset(*out, *seed, ds, opt)
	if err != nil {
		return fmt.Errorf("generating seed %d: %w", *seed, err)
	}
	fmt.Fprintf(stdout, "seed %d (generator version %d, profile %s): %d open items, %d transactions in %d file(s) under %s\n",
		*seed, gen.Version, *profile, len(ds.Items), len(ds.Transactions), len(files), *out)
	return nil
}

func cmdScore(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("score", stderr)
	truth := fs.String("truth", "", "truth.csv written by gen")
	matches := fs.String("matches", "", "matches.csv written by lettrage match")
	items := fs.String("open-items", "", "open_items.csv (default: next to truth.csv)")
	minPrec := fs.Float64("min-precision", 0.999, "precision target (0 disables)")
	minAuto := fs.Float64("min-auto", 0.97, "auto-match rate target (0 disables)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *truth == "" || *matches == "" {
		return fmt.Errorf("--truth and --matches are required: %w", errUsage)
	}
	if *items == "" {
		*items = filepath.Join(filepath.Dir(*truth), "open_items.csv")
	}
	rep, err := scoreFiles(*truth, *matches, *items)
	if err != nil {
		return fmt.Errorf("scoring: %w", err)
	}
	rep.print(stdout)
	return rep.check(*minPrec, *minAuto)
}

// ErrTargetMissed is returned (wrapped) by score when a quality target is
// missed.
var ErrTargetMissed = errors.New("quality target missed")

func (r *report) check(minPrec, minAuto float64) error {
	var errs []error
	if p := r.Total.precision(); p < minPrec {
		errs = append(errs, fmt.Errorf("precision %.4f < %.4f: %w", p, minPrec, ErrTargetMissed))
	}
	if a := r.Total.autoRate(); a < minAuto {
		errs = append(errs, fmt.Errorf("auto-match rate %.4f < %.4f: %w", a, minAuto, ErrTargetMissed))
	}
	if r.Total.AutoUnknown > 0 {
		errs = append(errs, fmt.Errorf("%d unknown payer(s) auto-lettered: %w", r.Total.AutoUnknown, ErrTargetMissed))
	}
	if r.Extra > 0 {
		errs = append(errs, fmt.Errorf("%d lettered tx_ref(s) unknown to the truth: %w", r.Extra, ErrTargetMissed))
	}
	return errors.Join(errs...)
}

func cmdCAMT(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("camt", stderr)
	sizeText := fs.String("size", "300MB", "approximate file size (KB, MB, GB are powers of 1024)")
	out := fs.String("out", "", "output file")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *out == "" {
		return fmt.Errorf("--out FILE is required: %w", errUsage)
	}
	size, err := parseSize(*sizeText)
	if err != nil {
		return err
	}
	entries, txs, err := writeBigCAMTFile(*out, size)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: %d entries, %d transactions\n", *out, entries, txs)
	return nil
}
