package daemon

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/lettrage/lettrage/config"
	"github.com/lettrage/lettrage/connectors"
	"github.com/lettrage/lettrage/domain"
	"github.com/lettrage/lettrage/pipeline/decide"
)

// Probe connects to the state store and to every job's statement source and
// ledger, and prints what it finds — files waiting, open items — without
// changing anything (no file is moved, nothing is written, no migration
// runs, no table is created: the PostgreSQL ledger is opened without its
// bookkeeping tables). The error joins every connection that failed.
func Probe(ctx context.Context, cfg *config.Config, w io.Writer) error {
	var errs []error
	fail := func(what string, err error) {
		fmt.Fprintf(w, "  %-14s FAILED: %s\n", what, decide.MaskIBANs(err.Error()))
		errs = append(errs, fmt.Errorf("%s: %w", what, err))
	}
	fmt.Fprintln(w, "state store")
	switch cfg.State.Driver {
	case "postgres":
		db, err := sql.Open("pgx", cfg.State.Postgres.DSN)
		if err == nil {
			err = db.PingContext(ctx)
			db.Close()
		}
		if err != nil {
			fail("postgres", err)
		} else {
			fmt.Fprintln(w, "  postgres       reachable")
		}
	default:
		if _, err := os.Stat(cfg.State.SQLite.Path); errors.Is(err, os.ErrNotExist) {
			fmt.Fprintf(w, "  sqlite         %s (not created yet: the first run creates it)\n", cfg.State.SQLite.Path)
		} else if err != nil {
			fail("sqlite", err)
		} else {
			fmt.Fprintf(w, "  sqlite         %s\n", cfg.State.SQLite.Path)
		}
	}
	for i, jc := range cfg.Jobs {
		fmt.Fprintf(w, "job %s\n", jc.Name)
		src, err := NewSource(jc.Name, jc.Source)
		if err != nil {
			fail(jc.Source.Type+" source", fmt.Errorf("jobs[%d].source: %w", i, err))
		} else {
			refs, err := src.List(ctx)
			if err != nil {
				fail(jc.Source.Type+" source", err)
			} else {
				var bytes int64
				for _, r := range refs {
					if r.Size > 0 {
						bytes += r.Size
					}
				}
				fmt.Fprintf(w, "  %-14s %d statement file(s) listed, %d bytes\n", jc.Source.Type+" source", len(refs), bytes)
			}
			if c, ok := src.(io.Closer); ok {
				c.Close()
			}
		}
		led, err := newProbeLedger(jc.Ledger)
		if err != nil {
			fail(jc.Ledger.Type+" ledger", fmt.Errorf("jobs[%d].ledger: %w", i, err))
			continue
		}
		items, err := led.OpenItems(ctx)
		var note string
		var announced []string
		if n, ok := led.(connectors.OpenItemsNoter); ok && err == nil {
			note, announced = n.OpenItemsNote()
		}
		led.Close()
		if err != nil {
			fail(jc.Ledger.Type+" ledger", err)
			continue
		}
		totals := map[string]domain.Amount{}
		customers := map[string]bool{}
		for _, it := range items {
			totals[it.Currency] = totals[it.Currency].Add(it.Residual)
			customers[it.CustomerID] = true
		}
		var parts []string
		for _, c := range decide.Currencies(totals) {
			parts = append(parts, totals[c].String()+" "+c)
		}
		sort.Strings(parts)
		fmt.Fprintf(w, "  %-14s %d open item(s) of %d customer(s), open %s\n", jc.Ledger.Type+" ledger",
			len(items), len(customers), strings.Join(parts, ", "))
		if note != "" {
			fmt.Fprintf(w, "  %-14s %s\n", "open items", note)
		}
		for _, a := range announced {
			fmt.Fprintf(w, "  %-14s %s\n", "ANNOUNCED", decide.MaskIBANs(a))
		}
	}
	return errors.Join(errs...)
}

// newProbeLedger is NewLedger for reading open items only: the PostgreSQL
// ledger, for one, does not create its bookkeeping tables.
func newProbeLedger(c config.Ledger) (connectors.Ledger, error) {
	return connectors.Ledgers.New(c.Type, c.Settings(), connectors.LedgerOptions{ReadOnly: true})
}
