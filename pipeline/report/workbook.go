package report

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/xuri/excelize/v2"

	"github.com/lettrage/lettrage/internal/csvsafe"
	"github.com/lettrage/lettrage/pipeline/decide"
)

// Resolution is one row of a resolutions workbook: what an accountant
// decided for one exception.
type Resolution struct {
	Row      int // 1-based row in the sheet or file (the header is row 1)
	TxRef    string
	Account  string
	Action   string
	Items    string
	Customer string
	Comment  string
}

// Workbook is a read resolutions file.
type Workbook struct {
	Rows []Resolution
	// LastModifiedBy and Creator are the workbook's document properties
	// (empty for CSV); AuthorOf picks who resolved.
	LastModifiedBy, Creator string
}

// ErrBadWorkbook is returned (wrapped) when a resolutions file cannot be
// used at all (wrong sheet, missing columns, not a workbook).
var ErrBadWorkbook = errors.New("unusable resolutions file")

// ReadResolutions reads the rows with an action from an exceptions workbook
// (.xlsx, the Exceptions sheet) or an exceptions CSV (comma or semicolon),
// whatever the order of its columns.
func ReadResolutions(path string) (*Workbook, error) {
	var table [][]string
	wb := &Workbook{}
	if strings.EqualFold(filepath.Ext(path), ".xlsx") {
		f, err := excelize.OpenFile(path)
		if err != nil {
			return nil, fmt.Errorf("reading %q: %w: %w", path, ErrBadWorkbook, err)
		}
		defer f.Close()
		if idx, _ := f.GetSheetIndex(SheetExceptions); idx < 0 {
			return nil, fmt.Errorf("reading %q: %w: no sheet %q (sheets: %s)", path, ErrBadWorkbook,
				SheetExceptions, strings.Join(f.GetSheetList(), ", "))
		}
		if table, err = f.GetRows(SheetExceptions); err != nil {
			return nil, fmt.Errorf("reading %q: %w: %w", path, ErrBadWorkbook, err)
		}
		// A workbook's cells are never escaped against formulas (shared
		// strings are not formulas), but bidi controls were shown.
		for _, row := range table {
			for i, v := range row {
				row[i] = csvsafe.UnshowBidi(v)
			}
		}
		if props, err := f.GetDocProps(); err == nil {
			wb.LastModifiedBy, wb.Creator = props.LastModifiedBy, props.Creator
		}
	} else {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("reading %q: %w", path, err)
		}
		data = bytes.TrimPrefix(data, []byte("\ufeff"))
		r := csv.NewReader(bytes.NewReader(data))
		if first, _, _ := bytes.Cut(data, []byte("\n")); bytes.Count(first, []byte(";")) > bytes.Count(first, []byte(",")) {
			r.Comma = ';'
		}
		r.FieldsPerRecord = -1
		if table, err = r.ReadAll(); err != nil {
			return nil, fmt.Errorf("reading %q: %w: %w", path, ErrBadWorkbook, err)
		}
		// Text cells were neutralised when the CSV was written (a leading
		// quote before '=', '+', '-', '@'…): undo it.
		for _, row := range table {
			for i, v := range row {
				row[i] = csvsafe.Unescape(v)
			}
		}
	}
	if len(table) == 0 {
		return nil, fmt.Errorf("reading %q: %w: empty", path, ErrBadWorkbook)
	}
	// Columns are found by their title in any locale ("items", "Pièces").
	col := map[string]int{}
	for i, h := range table[0] {
		name, ok := inputTitles[foldKey(h)]
		if !ok {
			name = strings.ToLower(strings.TrimSpace(h))
		}
		if _, dup := col[name]; !dup {
			col[name] = i
		}
	}
	var missing []string
	for _, need := range []string{"tx_ref", "account_iban", ColAction, ColItems} {
		if _, ok := col[need]; !ok {
			missing = append(missing, need)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("reading %q: %w: missing column(s) %s", path, ErrBadWorkbook, strings.Join(missing, ", "))
	}
	get := func(row []string, name string) string {
		i, ok := col[name]
		if !ok || i >= len(row) {
			return ""
		}
		return strings.TrimSpace(row[i])
	}
	for n, row := range table[1:] {
		r := Resolution{Row: n + 2, TxRef: get(row, "tx_ref"), Account: get(row, "account_iban"),
			Action: canonicalAction(get(row, ColAction)), Items: get(row, ColItems),
			Customer: get(row, ColCustomer), Comment: get(row, ColComment)}
		if r.Action == "" {
			continue
		}
		wb.Rows = append(wb.Rows, r)
	}
	return wb, nil
}

// RowResult says what happened to one resolution row.
type RowResult struct {
	Row     int
	TxRef   string
	Action  string
	Status  string // applied, already_applied, refused
	Message string
}

// WriteResolveResults writes one line per row: applied, already_applied or
// refused, with the reason.
func WriteResolveResults(path string, results []RowResult) error {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	_ = w.Write([]string{"row", "tx_ref", "action", "status", "message"})
	sorted := append([]RowResult(nil), results...)
	sort.SliceStable(sorted, func(a, b int) bool { return sorted[a].Row < sorted[b].Row })
	for _, r := range sorted {
		_ = w.Write(csvsafe.Row([]string{fmt.Sprint(r.Row), r.TxRef, r.Action, r.Status, decide.MaskIBANs(r.Message)},
			func(i int) bool { return i == 0 }))
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return fmt.Errorf("writing resolution results: %w", err)
	}
	return WriteFileAtomic(path, buf.Bytes())
}

// ResultPath is where the results of a resolutions file are written: next
// to it, as NAME.result.csv.
func ResultPath(path string) string {
	return strings.TrimSuffix(path, filepath.Ext(path)) + ".result.csv"
}

// IsLockOrTemp reports an office lock, owner or temporary file, which an
// inbox must never read: Excel's owner file ~$book.xlsx, LibreOffice's
// .~lock.book.xlsx#, hidden files, ~WRL0001.tmp and other partial
// downloads.
func IsLockOrTemp(path string) bool {
	base := filepath.Base(path)
	lower := strings.ToLower(base)
	switch {
	case strings.HasPrefix(base, "~"), strings.HasPrefix(base, "."), strings.HasSuffix(base, "#"):
		return true
	}
	for _, ext := range []string{".tmp", ".temp", ".part", ".crdownload", ".partial", ".swp", ".lock"} {
		if strings.HasSuffix(lower, ext) {
			return true
		}
	}
	return false
}

// AuthorOf is who a workbook's resolutions are recorded as coming from:
// who last saved it, else who created it unless that is Lettrage itself
// (the workbook it wrote), else def, else "unknown" — never the tool.
func AuthorOf(wb *Workbook, def string) string {
	for _, a := range []string{wb.LastModifiedBy, wb.Creator, def} {
		if a = strings.TrimSpace(a); a != "" && !strings.EqualFold(a, WorkbookCreator) {
			return a
		}
	}
	return "unknown"
}

// WorkbookCreator is the creator written in the workbooks Lettrage makes.
const WorkbookCreator = "Lettrage"
