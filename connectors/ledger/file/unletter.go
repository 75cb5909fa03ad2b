package file

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/lettrage/lettrage/connectors"
	"github.com/lettrage/lettrage/domain"
	"github.com/lettrage/lettrage/internal/csvsafe"
	"github.com/lettrage/lettrage/internal/durable"
)

var _ connectors.Unletterer = (*Ledger)(nil)

// UnletteringsHeader is the header of the unletterings journal, kept beside
// the allocations journal (matches.csv never holds unletterings): one row
// per reversal, written in one append, so a torn write loses a whole
// reversal or nothing. The last column, postings, lists the postings
// reversed as kind:account:amount separated by ';' (on_account:411C1:50.00),
// the account as in the journal's customer_account column.
var UnletteringsHeader = []string{
	"decision_key", "reverses_key", "tx_ref", "account_iban", "customer_id",
	"items", "lettering_code", "reason", "unlettered_at", "postings",
}

// oldUnletteringsWidth is the width of unletterings journals written before
// the postings column: rows of that shape are still appended to them.
const oldUnletteringsWidth = 9

// unletteringsPath is NAME.unletterings.csv beside the journal NAME.csv.
func (l *Ledger) unletteringsPath() string {
	j := l.cfg.Journal
	return strings.TrimSuffix(j, filepath.Ext(j)) + ".unletterings.csv"
}

type unletterings struct {
	keys map[string]bool
	back map[string]domain.Amount // item id → amount given back to it
	// backs holds, per item id, each amount given back with its
	// unlettered_at (the re-export rule adds back only what an export
	// does not reflect).
	backs map[string][]use
	width int // fields per row; 0 when the file has no header yet
}

// loadUnletterings reads the unletterings journal (a missing file is an
// empty one). A torn last line (no newline: a crash in the middle of the
// append) is ignored, and cut off by the next append.
func loadUnletterings(path string) (*unletterings, error) {
	u := &unletterings{keys: map[string]bool{}, back: map[string]domain.Amount{}, backs: map[string][]use{}}
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return u, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading unletterings %q: %w", path, err)
	}
	if i := bytes.LastIndexByte(data, '\n'); i >= 0 {
		data = data[:i+1]
	} else {
		data = nil
	}
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1
	for line := 1; ; line++ {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("reading unletterings %q: %w", path, err)
		}
		if line == 1 {
			switch {
			case equalStrings(rec, UnletteringsHeader), equalStrings(rec, UnletteringsHeader[:oldUnletteringsWidth]):
				u.width = len(rec)
			default:
				return nil, fmt.Errorf("reading unletterings %q: %w: header is not the unletterings header", path, ErrJournal)
			}
			continue
		}
		if len(rec) != u.width {
			return nil, fmt.Errorf("reading unletterings %q line %d: %w: want %d fields, got %d", path, line, ErrJournal, u.width, len(rec))
		}
		rec = unescapeRow(rec)
		u.keys[rec[0]] = true
		at, _ := time.Parse(time.RFC3339, rec[8]) // zero when unreadable: never taken as reflected
		for _, part := range strings.Split(rec[5], ";") {
			id, amt, ok := strings.Cut(part, ":")
			if !ok {
				continue
			}
			a, err := domain.ParseAmount(amt)
			if err != nil {
				return nil, fmt.Errorf("reading unletterings %q line %d: %w", path, line, err)
			}
			u.back[id] = u.back[id].Add(a)
			u.backs[id] = append(u.backs[id], use{amount: a, at: at})
		}
	}
	return u, nil
}

// Unletter records the reversal of the decision r.Reverses: its allocations
// and write-offs go back to their items (OpenItems adds them back), and the
// postings the journal holds under r.Reverses are listed as reversed,
// under r.Key, once. An unletterings journal from an earlier version
// (without the postings column) refuses reversals of postings with a
// *connectors.RejectedError.
func (l *Ledger) Unletter(ctx context.Context, r connectors.Reversal) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("unlettering: %w", err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	path := l.unletteringsPath()
	done, err := loadUnletterings(path)
	if err != nil {
		return fmt.Errorf("unlettering: %w", err)
	}
	if done.keys[r.Key] {
		return nil
	}
	st, err := l.state()
	if err != nil {
		return fmt.Errorf("unlettering: %w", err)
	}
	reject := func(reason string) error {
		return fmt.Errorf("unlettering %s: %w", r.Tx.Ref, &connectors.RejectedError{Key: r.Key, Reason: reason, Err: errors.New(reason)})
	}
	if !st.keys[r.Reverses] {
		return reject(fmt.Sprintf("the journal holds no decision %s", r.Reverses))
	}
	back := map[string]domain.Amount{} // what goes back to each item, in its currency
	var order []string
	customer := ""
	for _, a := range r.Allocations {
		if _, seen := back[a.ItemID]; !seen {
			order = append(order, a.ItemID)
		}
		back[a.ItemID] = back[a.ItemID].Add(a.Settles())
		if it, ok := r.Items[a.ItemID]; ok {
			customer = it.CustomerID
		}
	}
	// a cash discount the decision closed goes back to its item too
	for _, p := range st.postings[r.Reverses] {
		if p.Kind == domain.CashDiscountPosting && p.ItemID != "" {
			if _, seen := back[p.ItemID]; !seen {
				order = append(order, p.ItemID)
			}
			back[p.ItemID] = back[p.ItemID].Add(p.Amount)
		}
	}
	var parts []string
	for _, id := range order {
		parts = append(parts, id+":"+back[id].String())
	}
	sort.Strings(parts)
	// The postings reversed are those the journal holds: what was written.
	var posted []string
	for _, p := range st.postings[r.Reverses] {
		posted = append(posted, string(p.Kind)+":"+p.account+":"+p.Amount.String())
		if customer == "" && p.Kind == domain.OnAccount {
			customer = p.CustomerID
		}
	}
	if len(posted) > 0 && done.width == oldUnletteringsWidth {
		return reject(fmt.Sprintf("the unletterings file %s was created by an earlier version without the postings column: "+
			"rotate it with the journal to reverse on-account and write-off postings", path))
	}
	at := r.At
	if at.IsZero() {
		at = time.Now()
	}
	reason := strings.Join(strings.Fields(r.Reason), " ") // one line: a row is one record
	rec := []string{r.Key, r.Reverses, r.Tx.Ref, r.Tx.Account, customer, strings.Join(parts, ";"),
		st.codes[r.Reverses], reason, at.UTC().Format(time.RFC3339), strings.Join(posted, ";")}
	if done.width != 0 {
		rec = rec[:done.width]
	}
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	_ = w.Write(csvsafe.Row(rec, csvsafe.Columns(UnletteringsHeader, "unlettered_at")))
	w.Flush()
	if err := appendRecord(path, buf.Bytes()); err != nil {
		return fmt.Errorf("unlettering %s: %w", r.Tx.Ref, err)
	}
	return nil
}

// appendRecord appends one record to the unletterings journal (created with
// its header), first cutting a torn last line, then fsyncs it.
func appendRecord(path string, rec []byte) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, durable.FileMode)
	if err != nil {
		return fmt.Errorf("opening %q: %w", path, err)
	}
	defer f.Close()
	data, err := io.ReadAll(f)
	if err != nil {
		return fmt.Errorf("reading %q: %w", path, err)
	}
	keep := int64(bytes.LastIndexByte(data, '\n') + 1)
	if keep == 0 {
		var hdr bytes.Buffer
		w := csv.NewWriter(&hdr)
		_ = w.Write(UnletteringsHeader)
		w.Flush()
		rec = append(hdr.Bytes(), rec...)
	}
	if err := f.Truncate(keep); err != nil {
		return fmt.Errorf("repairing %q: %w", path, err)
	}
	if _, err := f.WriteAt(rec, keep); err != nil {
		return fmt.Errorf("appending to %q: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("syncing %q: %w", path, err)
	}
	return durable.SyncDir(filepath.Dir(path))
}
