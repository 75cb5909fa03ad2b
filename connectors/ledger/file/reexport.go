package file

import (
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/lettrage/lettrage/domain"
)

// The re-export rule: which journal rows an open-items export already
// reflects.
//
// The ERP imports the journal (matches.csv) and later exports the open
// items again, their residuals already reduced by what it imported. Those
// rows must not be subtracted a second time; the rows the ERP had not
// imported when it exported must be. The rule is the export's as_of: the
// moment up to which the export reflects the journal. A journal row
// lettered before as_of is taken as reflected (not subtracted); one
// lettered at or after it is subtracted; a row of the unletterings journal
// gives its amount back likewise only when it is at or after as_of.
//
// Where as_of comes from is Config.AsOf:
//
//   - "column" (the default): the export's as_of column, per row (an
//     RFC 3339 timestamp, "YYYY-MM-DD HH:MM[:SS]" or the date_format followed
//     by a time, in local time unless an offset is given, or a date-time
//     cell of a workbook); an export without the column, or a row with
//     it empty, cannot be placed;
//   - "modified": when the export was saved — a workbook's own "modified"
//     property, else the file's modification time;
//   - "never": the export never reflects the journal (exports taken before
//     the journal is imported, the journal rotated after each import):
//     every row is subtracted.
//
// An item the rule cannot place has every journal row subtracted (the
// conservative side: an invoice may stay hidden, never be lettered twice)
// and this is announced; so is an export older than the journal's last
// write and one whose as_of is in the future.

// AsOf sources (Config.AsOf).
const (
	AsOfColumn   = "column"
	AsOfModified = "modified"
	AsOfNever    = "never"
)

// use is one journal row settling part of an item, or one amount the
// unletterings journal gives back to it, with when it was written (zero
// when the row does not say: then it is never taken as reflected).
type use struct {
	amount domain.Amount
	at     time.Time
}

// reflects reports whether an export as of asOf reflects a row written
// at at.
func reflects(asOf, at time.Time) bool {
	return !asOf.IsZero() && !at.IsZero() && at.Before(asOf)
}

// LoadNote says how the last OpenItems call reconciled the export with the
// journal: the rule, what it subtracted and what it announced.
type LoadNote struct {
	Rule string // AsOfColumn, AsOfModified or AsOfNever
	// AsOfMin and AsOfMax bound the export's as_of over its items (equal
	// for one timestamp; zero when none).
	AsOfMin, AsOfMax time.Time
	// Source says where as_of came from ("the as_of column", "the workbook's
	// modified property", "the file's modification time").
	Source string
	// Subtracted counts the journal rows subtracted and their amounts per
	// currency; Reflected the rows taken as already in the export.
	Subtracted       int
	SubtractedAmount map[string]domain.Amount
	Reflected        int
	// GivenBack counts the unletterings added back.
	GivenBack int
	// Unplaced counts the items the rule could not place (every row
	// subtracted for them).
	Unplaced int
	// Settled are the ids of items the journal settled, left out.
	Settled []string
	// JournalLast is the journal's last lettered_at.
	JournalLast time.Time
	// Announcements are what the pass must say (an export older than the
	// journal's last write, one the rule cannot place, a future as_of) and
	// the export's located warnings.
	Announcements []string
	// future counts the items whose as_of was after the clock (not
	// placed): the clock decided them (OpenItemsLasting).
	future int
}

// String is the one-line account printed in the pass's summary ("" when
// the journal holds no allocation yet).
func (n LoadNote) String() string {
	var b strings.Builder
	switch {
	case n.Subtracted+n.Reflected+n.GivenBack == 0 && n.JournalLast.IsZero():
		return "" // the journal holds no allocation yet: nothing to say
	case n.Rule == AsOfNever:
		b.WriteString("re-export rule never (the export reflects no journal row)")
	case n.AsOfMin.IsZero():
		fmt.Fprintf(&b, "export not placed (rule %s: no as_of)", n.Rule)
	case n.AsOfMin.Equal(n.AsOfMax):
		fmt.Fprintf(&b, "export as of %s (%s)", stamp(n.AsOfMin), n.Source)
	default:
		fmt.Fprintf(&b, "export as of %s to %s (%s)", stamp(n.AsOfMin), stamp(n.AsOfMax), n.Source)
	}
	fmt.Fprintf(&b, ", journal rows subtracted: %d", n.Subtracted)
	if len(n.SubtractedAmount) > 0 {
		var ccys []string
		for c := range n.SubtractedAmount {
			ccys = append(ccys, c)
		}
		sort.Strings(ccys)
		var parts []string
		for _, c := range ccys {
			parts = append(parts, n.SubtractedAmount[c].StringFixed(domain.CurrencyDigits(c))+" "+c)
		}
		fmt.Fprintf(&b, " (%s)", strings.Join(parts, ", "))
	}
	fmt.Fprintf(&b, ", already reflected: %d", n.Reflected)
	if n.GivenBack > 0 {
		fmt.Fprintf(&b, ", unletterings given back: %d", n.GivenBack)
	}
	if len(n.Settled) > 0 {
		ids := n.Settled
		more := ""
		if len(ids) > 5 {
			ids, more = ids[:5], fmt.Sprintf(" and %d more", len(n.Settled)-5)
		}
		fmt.Fprintf(&b, ", %d item(s) settled by the journal left out (%s%s)", len(n.Settled), strings.Join(ids, ", "), more)
	}
	return b.String()
}

func stamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04Z") }

// asOfRule returns the effective as_of source.
func (c *Config) asOfRule() string {
	if c.AsOf == "" {
		return AsOfColumn
	}
	return strings.ToLower(c.AsOf)
}

// reconcile applies the re-export rule to the items of an export: each
// item's residual less the journal rows its export does not reflect, plus
// what the unletterings journal gave back since. Items left with nothing
// open are dropped. now is the clock (a future as_of is announced). The
// items are filtered in ex.items's own array (ex is read once), copied
// out when less than half of it is kept: at 1,000,000 items, the kept
// ones were appended to a slice grown by doubling, beside the export's
// 216 MB (issue 18).
func (l *Ledger) reconcile(ex *export, st *journalState, undone *unletterings, now time.Time) ([]domain.OpenItem, LoadNote) {
	note := LoadNote{Rule: l.cfg.asOfRule(), SubtractedAmount: map[string]domain.Amount{}, JournalLast: st.lastAt}
	global := time.Time{}
	switch note.Rule {
	case AsOfModified:
		if !ex.modified.IsZero() {
			global, note.Source = ex.modified, "the workbook's modified property"
		} else if info, err := os.Stat(l.cfg.OpenItems); err == nil {
			global, note.Source = info.ModTime(), "the file's modification time"
		}
	case AsOfColumn:
		note.Source = "its as_of column"
	}
	future := 0
	kept := ex.items[:0]
	for _, it := range ex.items {
		asOf := global
		if note.Rule == AsOfColumn {
			asOf = ex.asOf[it.ID]
		}
		if asOf.After(now.Add(5 * time.Minute)) {
			future++
			asOf = time.Time{} // a clock or an export we cannot trust: not placed
		}
		uses, backs := st.uses[it.ID], undone.backs[it.ID]
		if note.Rule != AsOfNever && asOf.IsZero() && (len(uses) > 0 || len(backs) > 0) {
			note.Unplaced++
		}
		if !asOf.IsZero() {
			if note.AsOfMin.IsZero() || asOf.Before(note.AsOfMin) {
				note.AsOfMin = asOf
			}
			if asOf.After(note.AsOfMax) {
				note.AsOfMax = asOf
			}
		}
		if len(uses) == 0 && len(backs) == 0 {
			kept = append(kept, it)
			continue
		}
		eff := it.Residual
		for _, u := range uses {
			if reflects(asOf, u.at) {
				note.Reflected++
				continue
			}
			note.Subtracted++
			note.SubtractedAmount[it.Currency] = note.SubtractedAmount[it.Currency].Add(u.amount)
			eff = eff.Sub(u.amount)
		}
		for _, u := range backs {
			if reflects(asOf, u.at) {
				continue
			}
			note.GivenBack++
			eff = eff.Add(u.amount)
		}
		if eff.Sign() != it.Residual.Sign() {
			note.Settled = append(note.Settled, it.ID)
			continue
		}
		it.Residual = eff
		kept = append(kept, it)
	}
	note.future = future
	if future > 0 {
		note.Announcements = append(note.Announcements, fmt.Sprintf(
			"%d item(s) of the export have an as_of in the future: not placed, every journal row subtracted for them (check the ERP's and this machine's clocks)", future))
	}
	if note.Unplaced > 0 {
		why := "the export has no as_of column (or the rows leave it empty)"
		if note.Rule == AsOfModified {
			why = "the export's save time is unknown"
		}
		note.Announcements = append(note.Announcements, fmt.Sprintf(
			"the re-export rule cannot place %d item(s): %s, so every journal row is subtracted for them — "+
				"if the export already reflects the journal, this subtracts it twice: give the export an as_of column, "+
				"set the ledger's as_of: modified, or rotate the journal after the ERP imported it", note.Unplaced, why))
	}
	if !note.AsOfMin.IsZero() && note.AsOfMin.Before(st.lastAt) && note.Subtracted > 0 {
		note.Announcements = append(note.Announcements, fmt.Sprintf(
			"the export (as of %s) is older than the journal's last write (%s): the %d journal row(s) written after it are subtracted",
			stamp(note.AsOfMin), stamp(st.lastAt), note.Subtracted))
	}
	note.Announcements = append(note.Announcements, ex.warnings...)
	return fitted(kept), note
}

// fitted is the items kept in the export's array, in an array of their own
// when they use less than half of it (most settled by the journal: the
// export's array is let go), nil when none is.
func fitted(kept []domain.OpenItem) []domain.OpenItem {
	switch {
	case len(kept) == 0:
		return nil
	case cap(kept) > 2*len(kept):
		return slices.Clone(kept)
	}
	return kept
}

// asOfLayouts are the text forms of as_of besides RFC 3339, read in local
// time; the date_format followed by a time is tried too.
var asOfLayouts = []string{"2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02"}

// ErrBadAsOf: an as_of value is not a timestamp.
var ErrBadAsOf = errors.New("not a timestamp (want RFC 3339, YYYY-MM-DD HH:MM or the date format and a time)")

// parseAsOf reads an as_of cell.
func (lay *layout) parseAsOf(c cell) (time.Time, error) {
	s := strings.TrimSpace(c.v)
	switch c.kind {
	case cellNumber:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(f) || f < 1 || f > maxExcelSerial {
			return time.Time{}, fmt.Errorf("parsing as_of %q: %w", s, ErrBadAsOf)
		}
		t, err := excelize.ExcelDateToTime(f, lay.date1904)
		if err != nil {
			return time.Time{}, fmt.Errorf("parsing as_of %q: %w", s, ErrBadAsOf)
		}
		// a workbook's date-time has no zone: local time
		return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), 0, time.Local), nil
	case cellText, cellISODate:
		if t, err := time.Parse(time.RFC3339, s); err == nil {
			return t, nil
		}
		layouts := append([]string(nil), asOfLayouts...)
		layouts = append(layouts, lay.dateFormat+" 15:04:05", lay.dateFormat+" 15:04", lay.dateFormat)
		for _, f := range layouts {
			if t, err := time.ParseInLocation(f, s, time.Local); err == nil {
				return t, nil
			}
		}
	}
	return time.Time{}, fmt.Errorf("parsing as_of %q: %w", s, ErrBadAsOf)
}
