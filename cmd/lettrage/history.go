package main

import (
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/lettrage/lettrage/pipeline/decide"
	"github.com/lettrage/lettrage/pipeline/state"
)

// cmdHistory prints what the state store holds about payments: one
// payment by its reference, or those a filter selects (booking dates,
// customer). It changes nothing.
func cmdHistory(args []string, stdout, stderr io.Writer) int {
	var jobName, account, from, to, customer string
	c, code, ok := loadConfig("history", args, stdout, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&jobName, "job", "", "the job (default: the only job)")
		fs.StringVar(&account, "account", "", "the statement account (IBAN), when the tx_ref exists on several")
		fs.StringVar(&from, "from", "", "without TX_REF: payments booked on or after this date (YYYY-MM-DD)")
		fs.StringVar(&to, "to", "", "without TX_REF: payments booked on or before this date (YYYY-MM-DD)")
		fs.StringVar(&customer, "customer", "", "without TX_REF: payments lettered or posted to this customer")
	})
	if !ok {
		return code
	}
	cfg := c.cfg
	if len(c.args) > 1 || len(c.args) == 0 && from == "" && to == "" && customer == "" {
		fmt.Fprintln(stderr, "lettrage history: name one TX_REF, or select with --from, --to, --customer")
		return exitUsage
	}
	var filter state.HistoryFilter
	for _, d := range []struct {
		flag, v string
		dst     *time.Time
	}{{"--from", from, &filter.From}, {"--to", to, &filter.To}} {
		if d.v == "" {
			continue
		}
		t, err := time.Parse(time.DateOnly, d.v)
		if err != nil {
			fmt.Fprintf(stderr, "lettrage history: %s %q: want YYYY-MM-DD\n", d.flag, d.v)
			return exitUsage
		}
		*d.dst = t
	}
	filter.Customer = customer
	ctx, stop := signalContext()
	defer stop()
	store, err := state.OpenStore(ctx, cfg.State)
	if err != nil {
		fmt.Fprintf(stderr, "lettrage history: %v\n", decide.MaskIBANs(err.Error()))
		return exitUsage
	}
	defer store.Close()
	if jobName == "" {
		if len(cfg.Jobs) != 1 {
			fmt.Fprintf(stderr, "lettrage history: name the job with --job (one of %d)\n", len(cfg.Jobs))
			return exitUsage
		}
		jobName = cfg.Jobs[0].Name
	}
	if len(c.args) == 1 {
		ref := c.args[0]
		keys, err := store.KeysByRef(ctx, jobName, ref)
		if err != nil {
			return exitFor("history", err, ctx.Err() != nil, stderr)
		}
		if account != "" {
			var kept []string
			for _, k := range keys {
				if acc, _, _ := strings.Cut(k, "|"); strings.EqualFold(acc, strings.ReplaceAll(account, " ", "")) {
					kept = append(kept, k)
				}
			}
			keys = kept
		}
		switch len(keys) {
		case 0:
			fmt.Fprintf(stderr, "lettrage history: no transaction %s in job %q\n", ref, jobName)
			return exitUsage
		case 1:
		default:
			fmt.Fprintf(stderr, "lettrage history: %s matches %d transactions in job %q; give --account\n", ref, len(keys), jobName)
			return exitUsage
		}
		h, _, err := store.History(ctx, jobName, keys[0])
		if err != nil {
			return exitFor("history", err, ctx.Err() != nil, stderr)
		}
		state.WriteHistory(stdout, h)
		return exitOK
	}
	hs, err := store.Histories(ctx, jobName, filter)
	if err != nil {
		return exitFor("history", err, ctx.Err() != nil, stderr)
	}
	for i, h := range hs {
		if i > 0 {
			fmt.Fprintln(stdout)
		}
		state.WriteHistory(stdout, h)
	}
	fmt.Fprintf(stderr, "lettrage history: %d payment(s)\n", len(hs))
	return exitOK
}
