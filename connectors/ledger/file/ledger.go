// Package file is the embedded default ledger: open items come from a CSV
// export of the ERP, and automatic allocations are appended to a CSV
// journal (matches.csv) that the ERP imports.
//
// # Open items and the journal
//
// The open-items file is the ERP's export from before Lettrage's journal
// was imported. OpenItems therefore subtracts from each item's residual what
// the journal already allocated (and wrote off) to it, so that a re-run
// never lets a second payment take an invoice this ledger already lettered.
// Once the journal has been imported into the ERP and the open items are
// exported again, rotate the journal (move it away): otherwise those
// allocations would be subtracted twice.
//
// # Exactly once
//
// Apply is idempotent per decision key: keys already in the journal are not
// written again, and a batch is appended in one write followed by fsync. A
// torn tail left by a crash is repaired before the next append (see
// loadJournal).
package file

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"

	"github.com/lettrage/lettrage/connectors"
	"github.com/lettrage/lettrage/matcher"
)

// Config is the `file` block of a job's ledger. Room is left for a format
// (csv, xlsx) and a column mapping.
type Config struct {
	// OpenItems is the CSV export of the open receivables.
	OpenItems string `yaml:"open_items" lettrage:"path"`
	// Journal is the matches.csv file allocations are appended to; it and
	// its folders are created when missing.
	Journal string `yaml:"journal" lettrage:"path"`
}

// Validate checks the configuration. The error joins one error per
// problem, each starting with the YAML key it is about.
func (c *Config) Validate() error {
	var errs []error
	if c.OpenItems == "" {
		errs = append(errs, errors.New("open_items: required"))
	}
	if c.Journal == "" {
		errs = append(errs, errors.New("journal: required"))
	}
	if c.OpenItems != "" && c.Journal != "" && filepath.Clean(c.OpenItems) == filepath.Clean(c.Journal) {
		errs = append(errs, errors.New("journal: must not be the open_items file"))
	}
	return errors.Join(errs...)
}

// Ledger is the CSV file ledger. It is safe for concurrent use.
type Ledger struct {
	cfg Config

	mu      sync.Mutex
	journal *journalState // nil until first read
}

var _ connectors.Ledger = (*Ledger)(nil)

// New validates cfg and returns the ledger. Files are only touched when
// the ledger is used.
func New(cfg Config) (*Ledger, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("configuring file ledger: %w", err)
	}
	return &Ledger{cfg: cfg}, nil
}

// state returns the cached journal state, (re)reading the journal when it
// was never read or was changed behind the ledger's back (rotated,
// truncated, appended by someone else). l.mu must be held.
func (l *Ledger) state() (*journalState, error) {
	if l.journal != nil {
		info, err := os.Stat(l.cfg.Journal)
		if err == nil && os.SameFile(info, l.journal.info) && info.Size() == l.journal.size {
			return l.journal, nil
		}
	}
	st, err := loadJournal(l.cfg.Journal)
	if err != nil {
		l.journal = nil
		return nil, err
	}
	l.journal = st
	return st, nil
}

// OpenItems reads the open-items file and returns the items still open
// after subtracting what the journal already allocated and wrote off.
// Items left with nothing open (zero, or past zero) are dropped.
func (l *Ledger) OpenItems(ctx context.Context) ([]matcher.OpenItem, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("reading open items: %w", err)
	}
	f, err := os.Open(l.cfg.OpenItems)
	if err != nil {
		return nil, fmt.Errorf("reading open items: %w", err)
	}
	items, err := ReadOpenItems(f, l.cfg.OpenItems)
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("reading open items: %w", err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	st, err := l.state()
	if err != nil {
		return nil, fmt.Errorf("reading open items: %w", err)
	}
	kept := items[:0]
	for _, it := range items {
		if used, ok := st.used[it.ID]; ok {
			eff := it.Residual.Sub(used)
			if eff.Sign() != it.Residual.Sign() {
				continue
			}
			it.Residual = eff
		}
		kept = append(kept, it)
	}
	return kept, nil
}

// Apply appends the rows of every decision whose key is not yet in the
// journal (a key repeated within the batch is written once), in one write
// followed by fsync. Decisions without allocations write nothing.
func (l *Ledger) Apply(ctx context.Context, batch []connectors.KeyedDecision) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("applying to the journal: %w", err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	st, err := l.state()
	if err != nil {
		return fmt.Errorf("applying to the journal: %w", err)
	}
	var rows [][]string
	seen := map[string]bool{}
	for _, d := range batch {
		if d.Key == "" {
			return fmt.Errorf("applying to the journal: decision for transaction %q has no key", d.Tx.Ref)
		}
		if st.keys[d.Key] || seen[d.Key] {
			continue
		}
		seen[d.Key] = true
		rows = append(rows, MatchRows(d)...)
	}
	if len(rows) == 0 {
		return nil
	}
	n, err := appendRows(l.cfg.Journal, rows)
	if err != nil {
		l.journal = nil // re-read (and repair) before the next use
		return fmt.Errorf("applying to the journal: %w", err)
	}
	for _, r := range rows {
		if err := st.add(r); err != nil {
			l.journal = nil
			return fmt.Errorf("applying to the journal: %w", err)
		}
	}
	st.size += n
	return nil
}

// Applied reports, for each of keys, whether the journal holds it.
func (l *Ledger) Applied(ctx context.Context, keys []string) (map[string]bool, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("checking the journal: %w", err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	st, err := l.state()
	if err != nil {
		return nil, fmt.Errorf("checking the journal: %w", err)
	}
	out := make(map[string]bool, len(keys))
	for _, k := range keys {
		out[k] = st.keys[k]
	}
	return out, nil
}

// Close releases nothing: files are opened per call.
func (l *Ledger) Close() error { return nil }

func dirOf(path string) string { return filepath.Dir(path) }

// syncDir fsyncs a folder so that a new file in it survives a crash.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("syncing %q: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) && !errors.Is(err, syscall.ENOTSUP) {
		return fmt.Errorf("syncing %q: %w", dir, err)
	}
	return nil
}
