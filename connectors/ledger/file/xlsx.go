package file

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/lettrage/lettrage/domain"
)

// ErrWorkbook: the file is not a workbook excelize can open (not a ZIP, a
// damaged or encrypted file).
var ErrWorkbook = errors.New("not a readable XLSX workbook")

// ErrNoSheet: the configured worksheet is not in the workbook.
var ErrNoSheet = errors.New("no such sheet")

// maxUnzipBytes bounds what a workbook may expand to (a ZIP bomb guard).
const maxUnzipBytes = 1 << 30

// ReadOpenItemsXLSX reads the open items from a worksheet of an XLSX
// workbook laid out as cfg says (cfg.Sheet, "" for the first visible sheet, its
// columns, decimal comma and date format for amounts and dates stored as
// text); cfg's paths are not used. The header is the first row holding
// every column read, looking past up to 9 title rows above it; completely
// empty rows are skipped.
//
// Cells are read by type. Numeric amounts are read from the number as
// stored (never through float formatting), rounded to the 15 significant
// digits Excel keeps and padded to the currency's minor units: a stored
// 1234.5 in EUR is 1234.50. Numeric dates are date serials (1900 or 1904
// system, as the workbook says). Ids, document numbers and IBANs may be
// text (leading zeros kept) or numbers ("1001"). Errors are *RowError
// values naming the sheet and row, as for ReadOpenItems.
func ReadOpenItemsXLSX(r io.Reader, name string, cfg Config) ([]domain.OpenItem, error) {
	lay, err := cfg.layout()
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	return items(lay.readXLSX(r, name, cfg.Sheet))
}

func (lay *layout) readXLSX(r io.Reader, name, sheet string) (*export, error) {
	f, err := excelize.OpenReader(r, excelize.Options{UnzipSizeLimit: maxUnzipBytes})
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w: %w", name, ErrWorkbook, err)
	}
	defer f.Close()
	sheets := f.GetSheetList()
	switch {
	case sheet == "" && len(sheets) == 0:
		return nil, fmt.Errorf("reading %s: %w: the workbook has no sheet", name, ErrNoSheet)
	case sheet == "":
		sheet = sheets[0]
		for _, s := range sheets { // the first visible one
			if visible, err := f.GetSheetVisible(s); err == nil && visible {
				sheet = s
				break
			}
		}
	case !slices.Contains(sheets, sheet):
		return nil, fmt.Errorf("reading %s: %w %q (the workbook has %s)", name, ErrNoSheet, sheet, quoteList(sheets))
	}
	l := *lay
	if props, err := f.GetWorkbookProps(); err == nil && props.Date1904 != nil {
		l.date1904 = *props.Date1904
	}
	rows, err := f.GetRows(sheet, excelize.Options{RawCellValue: true})
	if err != nil {
		return nil, fmt.Errorf("reading %s: sheet %q: %w: %w", name, sheet, ErrWorkbook, err)
	}
	hi, idx, err := l.findHeader(rows, name, sheet)
	if err != nil {
		return nil, err
	}
	col := newCollector("row")
	memo := ibanMemo{}
	for i := hi + 1; i < len(rows) && !col.full(); i++ {
		rec, line := rows[i], i+1
		if blank(rec) {
			continue
		}
		at := func(c string) *RowError {
			return &RowError{File: name, Sheet: sheet, Line: line, Column: c, Header: l.display[c]}
		}
		get := func(c string) cell {
			j, ok := idx[c]
			if !ok || j >= len(rec) || rec[j] == "" {
				return cell{}
			}
			return cell{v: rec[j], kind: cellKindAt(f, sheet, j+1, line)}
		}
		it, rowErrs := l.parseRow(get, at, memo)
		col.add(it, rowErrs, line, at)
	}
	ex, err := col.export()
	if ex != nil {
		if props, perr := f.GetDocProps(); perr == nil {
			ex.modified, _ = time.Parse(time.RFC3339, props.Modified)
		}
	}
	return ex, err
}

// maxTitleRows bounds the rows above the header (a report title, an
// export date) that findHeader looks past.
const maxTitleRows = 10

// findHeader returns the index in rows of the header row and its column
// index: the first non-empty row holding every column read, among the
// first few non-empty rows. When none does, the errors are about the
// first non-empty row.
func (lay *layout) findHeader(rows [][]string, name, sheet string) (int, map[string]int, error) {
	first := -1
	var firstErrs []error
	seen := 0
	for i := 0; i < len(rows) && seen < maxTitleRows; i++ {
		if blank(rows[i]) {
			continue
		}
		seen++
		idx, errs := lay.columnIndex(rows[i], func(col string) *RowError {
			return &RowError{File: name, Sheet: sheet, Line: i + 1, Column: col, Header: lay.display[col]}
		})
		if len(errs) == 0 {
			return i, idx, nil
		}
		if first < 0 {
			first, firstErrs = i, errs
		}
	}
	if first < 0 {
		return 0, nil, &RowError{File: name, Sheet: sheet, Line: 1, Err: ErrNoHeader}
	}
	return 0, nil, errors.Join(firstErrs...)
}

// cellKindAt returns how the cell at (col, row), both 1-based, is stored.
func cellKindAt(f *excelize.File, sheet string, col, row int) cellKind {
	ref, err := excelize.CoordinatesToCellName(col, row)
	if err != nil {
		return cellText
	}
	t, err := f.GetCellType(sheet, ref)
	if err != nil {
		return cellText
	}
	switch t {
	case excelize.CellTypeUnset, excelize.CellTypeNumber:
		return cellNumber // no type attribute: a number
	case excelize.CellTypeDate:
		return cellISODate
	case excelize.CellTypeBool:
		return cellBool
	case excelize.CellTypeError:
		return cellError
	}
	return cellText // shared or inline string, formula string result
}

func quoteList(s []string) string {
	q := make([]string, len(s))
	for i, v := range s {
		q[i] = fmt.Sprintf("%q", v)
	}
	return strings.Join(q, ", ")
}
