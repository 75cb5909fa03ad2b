// Package file is the embedded default ledger: open items come from the
// ERP's export — the CSV contract, a CSV in the ERP's own layout (column
// names, ';', decimal comma, DD/MM/YYYY, Windows-1252) or an Excel
// workbook — and automatic allocations are appended to a CSV journal
// (matches.csv) that the ERP imports, with FEC-style lettering columns.
// Cash an accountant put on a customer's account or wrote off
// (domain.Posting) is appended to the same journal, one row per posting,
// told apart by the posting_kind column.
//
// # Open items and the journal
//
// OpenItems subtracts from each item's residual what the journal allocated
// (and wrote off) to it, so that a re-run never lets a second payment take
// an invoice this ledger already lettered — but only the rows the export
// does not already reflect: once the ERP has imported the journal and
// exported again, subtracting them would count them twice. The re-export
// rule (reexport.go) places each export in time with its as_of and says
// what it did (LastLoad, OpenItemsNote).
//
// # Lettering codes
//
// Every decision written gets a lettering code (AAA, AAB, …), the FEC's
// EcritureLet, on each of its rows. The journal is the only record of the
// codes used: the next code follows the highest one in it, so codes never
// repeat within a journal, and Config.LetteringStart carries the sequence
// over a rotation.
//
// # Exactly once
//
// Apply is idempotent per decision key: keys already in the journal are not
// written again, and a batch is appended (one or two writes, between the
// pending marker's creation and its removal) followed by fsync. A
// torn tail left by a crash is repaired before the next append (see
// loadJournal); codes of rows cut off are given again to the same
// decisions when they are re-applied in the same order.
package file

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/lettrage/lettrage/connectors"
	"github.com/lettrage/lettrage/domain"
)

// Config is the `file` block of a job's ledger.
type Config struct {
	// OpenItems is the export of the open receivables: CSV or XLSX.
	OpenItems string `yaml:"open_items" lettrage:"path"`
	// Journal is the matches.csv file allocations are appended to; it and
	// its folders are created when missing.
	Journal string `yaml:"journal" lettrage:"path"`

	// Format of OpenItems: "csv" or "xlsx"; "" infers it from the file
	// name (.xlsx and .xlsm are xlsx, .xls and .ods are refused, anything
	// else is csv).
	Format string `yaml:"format"`
	// Sheet is the worksheet of an XLSX export ("" = the first one).
	Sheet string `yaml:"sheet"`
	// Columns maps contract columns to the export's own headers.
	Columns Columns `yaml:"columns"`
	// Delimiter of a CSV export: "," (default), ";" or "tab".
	Delimiter string `yaml:"delimiter"`
	// DecimalComma reads text amounts written "1 234,56": ',' is the
	// decimal separator and spaces, non-breaking spaces and '.' group
	// thousands.
	DecimalComma bool `yaml:"decimal_comma"`
	// DateFormat of text dates: a Go layout ("2006-01-02", the default;
	// "02/01/2006" for French exports) or the same with YYYY, MM, DD.
	DateFormat string `yaml:"date_format"`
	// Encoding of a CSV export: utf-8 (default), windows-1252,
	// iso-8859-1, iso-8859-15 or utf-16 (with a byte-order mark).
	Encoding string `yaml:"encoding"`

	// BankJournal is the journal_code written on every journal row: the
	// accounting package's bank journal (default BQ).
	BankJournal string `yaml:"bank_journal"`
	// CustomerAccountPrefix is put before the customer id to form the
	// customer_account column (nil: 411, the French receivables class;
	// "" writes the bare customer id).
	CustomerAccountPrefix *string `yaml:"customer_account_prefix"`
	// LetteringStart is the lowest lettering code a journal may use
	// (default AAA): after rotating a journal whose codes were imported,
	// set it past the last code so that codes never repeat.
	LetteringStart string `yaml:"lettering_start"`
	// AsOf says where the export's as_of comes from — which journal rows
	// it already reflects (reexport.go): "column" (default), "modified" or
	// "never".
	AsOf string `yaml:"as_of"`
	// WriteOffAccount is the account written in the customer_account
	// column of write-off postings (cash an accountant wrote off, e.g.
	// 658 or 758). Without it the ledger refuses decisions that write cash
	// off (a *connectors.RejectedError saying so).
	WriteOffAccount string `yaml:"write_off_account"`
}

// Defaults of the journal keys.
const (
	DefaultBankJournal           = "BQ"
	DefaultCustomerAccountPrefix = "411"
	DefaultLetteringStart        = "AAA"
)

// format returns the effective open-items format.
func (c *Config) format() string {
	if c.Format != "" {
		return strings.ToLower(c.Format)
	}
	switch strings.ToLower(filepath.Ext(c.OpenItems)) {
	case ".xlsx", ".xlsm":
		return FormatXLSX
	case ".xls", ".ods":
		return "" // unsupported: Validate says so
	}
	return FormatCSV
}

// bankJournal returns the effective journal code.
func (c *Config) bankJournal() string {
	if c.BankJournal == "" {
		return DefaultBankJournal
	}
	return c.BankJournal
}

// accountPrefix returns the effective customer account prefix.
func (c *Config) accountPrefix() string {
	if c.CustomerAccountPrefix == nil {
		return DefaultCustomerAccountPrefix
	}
	return *c.CustomerAccountPrefix
}

// letteringStart returns the effective first lettering code.
func (c *Config) letteringStart() string {
	if c.LetteringStart == "" {
		return DefaultLetteringStart
	}
	return c.LetteringStart
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
	switch f := c.format(); f {
	case FormatCSV:
		if c.Sheet != "" {
			errs = append(errs, errors.New("sheet: only for the xlsx format"))
		}
	case FormatXLSX:
		if c.Delimiter != "" {
			errs = append(errs, errors.New("delimiter: only for the csv format"))
		}
		if c.Encoding != "" {
			errs = append(errs, errors.New("encoding: only for the csv format (a workbook is always Unicode)"))
		}
	case "":
		errs = append(errs, fmt.Errorf("format: cannot read %s files: export the open items as .xlsx or CSV", filepath.Ext(c.OpenItems)))
	default:
		errs = append(errs, fmt.Errorf("format: unknown format %q (want csv or xlsx)", c.Format))
	}
	if _, err := c.layout(); err != nil {
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			errs = append(errs, j.Unwrap()...)
		} else {
			errs = append(errs, err)
		}
	}
	if j := c.bankJournal(); strings.TrimSpace(j) != j || strings.ContainsFunc(j, unicode.IsControl) {
		errs = append(errs, fmt.Errorf("bank_journal: %q has surrounding spaces or control characters", j))
	}
	if p := c.accountPrefix(); strings.TrimSpace(p) != p || strings.ContainsFunc(p, unicode.IsControl) {
		errs = append(errs, fmt.Errorf("customer_account_prefix: %q has spaces or control characters", p))
	}
	if a := c.WriteOffAccount; strings.TrimSpace(a) != a || strings.ContainsFunc(a, unicode.IsControl) {
		errs = append(errs, fmt.Errorf("write_off_account: %q has surrounding spaces or control characters", a))
	}
	switch c.asOfRule() {
	case AsOfColumn, AsOfModified, AsOfNever:
	default:
		errs = append(errs, fmt.Errorf("as_of: unknown rule %q (want column, modified or never)", c.AsOf))
	}
	if c.LetteringStart != "" && !isCode(c.LetteringStart) {
		errs = append(errs, fmt.Errorf("lettering_start: %q is not a lettering code (at least %d capital letters A-Z)", c.LetteringStart, minCodeLen))
	}
	return errors.Join(errs...)
}

// Ledger is the CSV file ledger. It is safe for concurrent use.
type Ledger struct {
	cfg    Config
	layout *layout

	mu      sync.Mutex
	journal *journalState // nil until first read
	last    *LoadNote     // the last OpenItems' account
	now     func() time.Time
}

var _ connectors.Ledger = (*Ledger)(nil)

// New validates cfg and returns the ledger. Files are only touched when
// the ledger is used.
func New(cfg Config) (*Ledger, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("configuring file ledger: %w", err)
	}
	lay, _ := cfg.layout() // validated above
	return &Ledger{cfg: cfg, layout: lay}, nil
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
// after the re-export rule (reexport.go): what the journal allocated and
// wrote off is subtracted unless the export already reflects it, and what
// the unletterings journal gave back is added likewise. Items left with
// nothing open (zero, or past zero) are dropped. LastLoad says what was
// done.
func (l *Ledger) OpenItems(ctx context.Context) ([]domain.OpenItem, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("reading open items: %w", err)
	}
	f, err := os.Open(l.cfg.OpenItems)
	if err != nil {
		return nil, fmt.Errorf("reading open items: %w", err)
	}
	lay := l.layout
	if lay == nil { // a Ledger not made by New
		if lay, err = l.cfg.layout(); err != nil {
			f.Close()
			return nil, fmt.Errorf("reading open items: %w", err)
		}
	}
	// The journal and the unletterings are read beside the export (two
	// files, two cores: at 1,000,000 items the export and the journal take
	// about as long each), under l.mu as before; their errors come after
	// the export's, as when they were read after it. A journal not there
	// yet is created only once the export is read, as before: a refused
	// export writes nothing.
	l.mu.Lock()
	defer l.mu.Unlock()
	type journalRead struct {
		st     *journalState
		undone *unletterings
		err    error
	}
	read := func() (r journalRead) {
		if r.st, r.err = l.state(); r.err == nil {
			r.undone, r.err = loadUnletterings(l.unletteringsPath())
		}
		return r
	}
	var journal chan journalRead
	if _, serr := os.Stat(l.cfg.Journal); serr == nil {
		journal = make(chan journalRead, 1)
		go func() { journal <- read() }()
	}
	var ex *export
	if l.cfg.format() == FormatXLSX {
		ex, err = lay.readXLSX(f, l.cfg.OpenItems, l.cfg.Sheet)
	} else {
		ex, err = lay.readCSV(f, l.cfg.OpenItems)
	}
	f.Close()
	var jr journalRead
	if journal != nil {
		jr = <-journal
	}
	if err != nil {
		return nil, fmt.Errorf("reading open items: %w", err)
	}
	if journal == nil {
		jr = read()
	}
	if jr.err != nil {
		return nil, fmt.Errorf("reading open items: %w", jr.err)
	}
	st, undone := jr.st, jr.undone
	now := time.Now()
	if l.now != nil {
		now = l.now()
	}
	kept, note := l.reconcile(ex, st, undone, now)
	l.last = &note
	return kept, nil
}

// ReadExport reads and validates the open-items file cfg.OpenItems in
// its format and layout (CSV or XLSX, columns, dialect), without a
// journal: the stateless `lettrage match`. warnings are the located
// problems that refuse nothing (check digits that do not verify).
func ReadExport(cfg Config) (items []domain.OpenItem, warnings []string, err error) {
	lay, err := cfg.layout()
	if err != nil {
		return nil, nil, fmt.Errorf("reading open items: %w", err)
	}
	f, err := os.Open(cfg.OpenItems)
	if err != nil {
		return nil, nil, fmt.Errorf("reading open items: %w", err)
	}
	defer f.Close()
	var ex *export
	if cfg.format() == FormatXLSX {
		ex, err = lay.readXLSX(f, cfg.OpenItems, cfg.Sheet)
	} else {
		ex, err = lay.readCSV(f, cfg.OpenItems)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("reading open items: %w", err)
	}
	return ex.items, ex.warnings, nil
}

// LastLoad is the account of the last OpenItems call (nil before the
// first): the re-export rule applied, what it subtracted, what it
// announces.
func (l *Ledger) LastLoad() *LoadNote {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.last
}

// OpenItemsNote implements connectors.OpenItemsNoter: the summary line and
// the announcements of the last OpenItems call.
func (l *Ledger) OpenItemsNote() (string, []string) {
	n := l.LastLoad()
	if n == nil {
		return "", nil
	}
	return n.String(), n.Announcements
}

// Apply appends the rows of every decision whose key is not yet in the
// journal (a key repeated within the batch is written once), as one
// append followed by fsync (appendRows): one row per allocation, then one per posting.
// Decisions with neither allocations nor postings write nothing. Each
// decision with allocations gets the next lettering code, in batch order;
// a journal with the contract columns only (from an earlier version) keeps
// that shape and gets no codes, and one without the posting columns keeps
// its shape too.
//
// A decision the ledger cannot write whole is refused, alone, with a
// *connectors.RejectedError (the others are written): a write-off without
// write_off_account configured, an on-account posting without customer, a
// posting of unknown kind, any posting into a journal without the
// posting columns, or a cross-currency allocation into a journal without
// the FX columns.
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
	todo := make([]journalDecision, 0, len(batch))
	var rejected []error
	seen := make(map[string]bool, len(batch))
	code := ""
	for i := range batch {
		d := &batch[i]
		if d.Key == "" {
			return fmt.Errorf("applying to the journal: decision for transaction %q has no key", d.Tx.Ref)
		}
		if st.keys[d.Key] || seen[d.Key] || len(d.Decision.Allocations)+len(d.Decision.Postings) == 0 {
			continue
		}
		seen[d.Key] = true
		if reason := l.refusal(st, d.Decision); reason != "" {
			rejected = append(rejected, &connectors.RejectedError{Key: d.Key, Reason: reason, Err: ErrCannotPost})
			continue
		}
		jd := journalDecision{d: d}
		if !st.legacy() && len(d.Decision.Allocations) > 0 {
			if code == "" {
				code = st.nextCode(l.cfg.letteringStart())
			} else {
				code = nextCode(code)
			}
			jd.code = code
		}
		todo = append(todo, jd)
	}
	f := fecFields{journal: l.cfg.bankJournal(), accountPrefix: l.cfg.accountPrefix(), writeOffAccount: l.cfg.WriteOffAccount}
	if rows, text := formatJournal(todo, f, st.width); len(rows) > 0 {
		// the rows are recorded in the state while the file is written
		// and synced; the state is dropped (re-read before the next use)
		// if either fails
		var addErr error
		added := make(chan struct{})
		go func() {
			defer close(added)
			for _, r := range rows {
				if addErr = st.add(r); addErr != nil {
					return
				}
			}
		}()
		n, err := appendRows(l.cfg.Journal, text...)
		<-added
		if err == nil {
			err = addErr
		}
		if err != nil {
			l.journal = nil // re-read (and repair) before the next use
			return fmt.Errorf("applying to the journal: %w", err)
		}
		st.size += n
	}
	if len(rejected) > 0 {
		return fmt.Errorf("applying to the journal: %d of %d decisions refused: %w", len(rejected), len(batch), errors.Join(rejected...))
	}
	return nil
}

// ErrCannotPost is wrapped by the rejection of a decision whose postings
// the journal cannot record (see Ledger.Apply).
var ErrCannotPost = errors.New("cannot post to the journal")

// refusal says why the journal cannot record a decision's postings or
// cross-currency allocations, "" when it can:
// the reason shown to accountants, naming what to configure.
func (l *Ledger) refusal(st *journalState, d domain.Decision) string {
	postings := d.Postings
	for _, a := range d.Allocations {
		if a.CrossCurrency() && !st.canFX() {
			return fmt.Sprintf("the journal %s was created by an earlier version without the item_amount and item_currency columns: "+
				"import it, then rotate it (move it away) so that cross-currency letters can be written", l.cfg.Journal)
		}
	}
	if len(postings) > 0 && !st.canPost() {
		return fmt.Sprintf("the journal %s was created by an earlier version without the posting columns: "+
			"import it, then rotate it (move it away) so that on-account and write-off postings can be written", l.cfg.Journal)
	}
	for _, p := range postings {
		if why := connectors.PostingProblem(p); why != "" {
			return why
		}
		if p.Kind == domain.WriteOffPosting && l.cfg.WriteOffAccount == "" {
			return "no write-off account: set write_off_account in the file ledger's configuration to write cash off"
		}
	}
	return ""
}

// Applied reports, for each of keys, whether the journal holds it, and
// makes room in the journal's cache for that many decisions (a write-back
// asks before it applies them).
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
	undone, err := loadUnletterings(l.unletteringsPath())
	if err != nil {
		return nil, fmt.Errorf("checking the journal: %w", err)
	}
	out := make(map[string]bool, len(keys))
	for _, k := range keys {
		out[k] = st.keys[k] || undone.keys[k]
	}
	// A write-back asks first: its decisions are the rows Apply is about
	// to add.
	st.reserve(len(keys))
	return out, nil
}

// Close releases nothing: files are opened per call.
func (l *Ledger) Close() error { return nil }

func dirOf(path string) string { return filepath.Dir(path) }
