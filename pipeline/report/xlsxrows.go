package report

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/xuri/excelize/v2"

	"github.com/lettrage/lettrage/internal/csvsafe"
	"github.com/lettrage/lettrage/pipeline/decide"
)

// The Exceptions sheet's rows are not built in excelize's cell model (a
// struct per cell, kept whole until the workbook is written: most of the
// reports' time and memory at a million payments). excelize writes the
// workbook with the sheet's header, columns, panes, validation and filter;
// the rows are then written straight into that sheet's XML as the workbook
// is copied to its file, in the SpreadsheetML excelize's cell model writes
// for the same cells: the same references, styles, numbers and shared
// strings (TestStreamedWorkbookAsCellModel compares every cell).

// Parts of the workbook the rows go into: the Exceptions sheet (the first
// sheet of a new workbook, renamed) and the shared strings.
const (
	exceptionsSheetPart = "xl/worksheets/sheet1.xml"
	sharedStringsPart   = "xl/sharedStrings.xml"
)

// maxCellChars is the most UTF-16 units a cell holds (excelize truncates
// longer text the same way).
const maxCellChars = 32767

// exceptionRows renders the Exceptions sheet's data rows.
type exceptionRows struct {
	v      *view
	styles []int          // the cell style of each column (xlsxColumns)
	dates  map[int]int    // the style of a date cell by its number format (14 a day, 17 a month's first)
	sst    map[string]int // the shared strings added, by text
	si     bytes.Buffer   // their <si> elements
	first  int            // the index of the first shared string added
	cols   []string       // the column names (A, B…)
	num    []byte         // scratch for numbers
}

// exceptionsFrame writes what the Exceptions sheet holds besides its data
// rows (the header, column widths and styles, frozen pane, the action
// drop-down and the filter, sized for the rows) and makes the styles of
// the date cells in the order the cell model made them: a date cell takes
// its column's style with the date's number format (excelize's
// SetCellValue of a time). It returns the renderer of the rows.
func exceptionsFrame(f *excelize.File, st xlsxStyles, v *view, exc []decide.StoredTx) (*exceptionRows, error) {
	sh := SheetExceptions
	rows := &exceptionRows{v: v, styles: make([]int, len(xlsxColumns)), dates: map[int]int{}, sst: map[string]int{},
		cols: make([]string, len(xlsxColumns))}
	dateCol := -1
	for c, col := range xlsxColumns {
		name, _ := excelize.ColumnNumberToName(c + 1)
		rows.cols[c] = name
		if err := f.SetCellStr(sh, name+"1", v.loc.Titles[col.name]); err != nil {
			return nil, err
		}
		if err := f.SetColWidth(sh, name, name, col.width); err != nil {
			return nil, err
		}
		style := map[byte]int{'t': st.text, 'n': st.amount, 'd': st.date, 'e': st.edit}[col.kind]
		if col.name == "candidates" || col.name == "explanation" {
			style = st.wrap
		}
		if err := f.SetColStyle(sh, name, style); err != nil {
			return nil, err
		}
		rows.styles[c] = style
		if col.kind == 'd' {
			dateCol = c
		}
	}
	last := rows.cols[len(rows.cols)-1]
	if err := f.SetCellStyle(sh, "A1", last+"1", st.header); err != nil {
		return nil, err
	}
	if dateCol >= 0 {
		for _, x := range exc {
			d := x.Tx.BookingDate
			if d.IsZero() {
				continue
			}
			d, _ = time.Parse(time.DateOnly, dateText(d))
			if _, ok := excelSerial(d); !ok {
				continue
			}
			nf := dateNumFmt(d)
			if _, ok := rows.dates[nf]; ok {
				continue
			}
			s, err := f.GetStyle(rows.styles[dateCol])
			if err != nil {
				return nil, err
			}
			s.NumFmt = nf
			if rows.dates[nf], err = f.NewStyle(s); err != nil {
				return nil, err
			}
		}
	}
	if err := f.SetPanes(sh, &excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return nil, err
	}
	if err := addActionDropDown(f, v, len(exc)); err != nil {
		return nil, err
	}
	if err := f.AutoFilter(sh, fmt.Sprintf("A1:%s%d", last, len(exc)+1), nil); err != nil {
		return nil, err
	}
	return rows, nil
}

// addActionDropDown puts a drop-down of the actions (in the locale) on the
// action column of n exceptions, with the rule in a prompt.
func addActionDropDown(f *excelize.File, v *view, n int) error {
	for c, col := range xlsxColumns {
		if col.name != ColAction || n == 0 {
			continue
		}
		name, _ := excelize.ColumnNumberToName(c + 1)
		labels := make([]string, len(Actions))
		for i, a := range Actions {
			labels[i] = v.loc.Actions[a]
		}
		dv := excelize.NewDataValidation(true)
		dv.Sqref = fmt.Sprintf("%s2:%s%d", name, name, n+1)
		if err := dv.SetDropList(labels); err != nil {
			return err
		}
		prompt := v.loc.SheetGuide + ": " + strings.Join(labels, ", ")
		dv.SetInput(v.loc.Titles[ColAction], prompt)
		dv.SetError(excelize.DataValidationErrorStyleStop, v.loc.Titles[ColAction], strings.Join(labels, ", "))
		if err := f.AddDataValidation(SheetExceptions, dv); err != nil {
			return err
		}
	}
	return nil
}

// excel1900 is the day before the first of the 1900 date system.
var excel1900 = time.Date(1899, time.December, 31, 0, 0, 0, 0, time.UTC)

// excelSerial is the serial number of the day d (midnight UTC) in the
// 1900 date system, with its fictitious 29 February 1900; false before
// 1900.
func excelSerial(d time.Time) (int64, bool) {
	n := (d.Unix() - excel1900.Unix()) / 86400
	if d.Unix() >= time.Date(1900, time.March, 1, 0, 0, 0, 0, time.UTC).Unix() {
		n++
	}
	return n, n > 0
}

// dateNumFmt is the built-in number format excelize gives a date: 17 (a
// month) on a month's first, else 14 (a day).
func dateNumFmt(d time.Time) int {
	if d.Day() == 1 {
		return 17
	}
	return 14
}

// write renders the rows of exc into w.
func (r *exceptionRows) write(w io.Writer, exc []decide.StoredTx) error {
	var b []byte
	for i, x := range exc {
		row := strconv.Itoa(i + 2)
		b = append(b[:0], `<row r="`...)
		b = append(b, row...)
		b = append(b, `">`...)
		for c, col := range xlsxColumns {
			val := col.value(r.v, x)
			if val == "" {
				continue
			}
			b = append(b, `<c r="`...)
			b = append(b, r.cols[c]...)
			b = append(b, row...)
			b = append(b, '"')
			var err error
			switch col.kind {
			case 'n':
				b, err = r.number(b, c, val)
			case 'd':
				b, err = r.date(b, c, val)
			default:
				b = r.text(b, c, csvsafe.ShowBidi(val))
			}
			if err != nil {
				return err
			}
		}
		b = append(b, `</row>`...)
		if _, err := w.Write(b); err != nil {
			return err
		}
	}
	return nil
}

// style appends the style attribute of style s (none for 0).
func style(b []byte, s int) []byte {
	if s == 0 {
		return b
	}
	b = append(b, ` s="`...)
	b = strconv.AppendInt(b, int64(s), 10)
	return append(b, '"')
}

// number appends the rest of an amount cell: the exact decimal text is
// the cell's number.
func (r *exceptionRows) number(b []byte, c int, val string) ([]byte, error) {
	if _, err := strconv.ParseFloat(val, 64); err != nil {
		return b, fmt.Errorf("writing amount %q: %w", val, err)
	}
	b = style(b, r.styles[c])
	b = append(b, `><v>`...)
	b = append(b, val...)
	return append(b, `</v></c>`...), nil
}

// date appends the rest of a date cell: its serial number in the style
// of its number format; a date before 1900 is its text, as excelize
// writes it.
func (r *exceptionRows) date(b []byte, c int, val string) ([]byte, error) {
	d, err := time.Parse(time.DateOnly, val)
	if err != nil {
		return b, fmt.Errorf("writing date %q: %w", val, err)
	}
	n, ok := excelSerial(d)
	if !ok {
		b = style(b, r.styles[c])
		b = append(b, ` t="inlineStr"><is><t>`...)
		b = appendEscaped(b, d.Format(time.RFC3339Nano))
		return append(b, `</t></is></c>`...), nil
	}
	b = style(b, r.dates[dateNumFmt(d)])
	b = append(b, `><v>`...)
	b = strconv.AppendInt(b, n, 10)
	return append(b, `</v></c>`...), nil
}

// text appends the rest of a text cell: a shared string (never a
// formula).
func (r *exceptionRows) text(b []byte, c int, val string) []byte {
	if n := 0; len(val) > maxCellChars/3 { // a UTF-16 unit is at least one byte in three
		for i, ru := range val {
			if n += utf16.RuneLen(ru); n > maxCellChars {
				val = val[:i]
				break
			}
		}
	}
	i, ok := r.sst[val]
	if !ok {
		i = r.first + len(r.sst)
		r.sst[val] = i
		r.si.WriteString(`<si><t`)
		if space(val) {
			r.si.WriteString(` xml:space="preserve"`)
		}
		r.si.WriteByte('>')
		r.si.Write(appendEscaped(r.num[:0], val))
		r.si.WriteString(`</t></si>`)
	}
	b = style(b, r.styles[c])
	b = append(b, ` t="s"><v>`...)
	b = strconv.AppendInt(b, int64(i), 10)
	return append(b, `</v></c>`...)
}

// space reports whether a text's leading or trailing blank must be kept
// (xml:space="preserve").
func space(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte{'\t', '\n', '\r', ' '} {
		if s[0] == c || s[len(s)-1] == c {
			return true
		}
	}
	return false
}

// appendEscaped appends s as XML character data.
func appendEscaped(b []byte, s string) []byte {
	w := bytes.NewBuffer(b)
	_ = xml.EscapeText(w, []byte(s))
	return w.Bytes()
}

// sstHead is the start tag of the shared strings, with its counts.
var sstHead = regexp.MustCompile(`<sst [^>]*count="(\d+)"[^>]*uniqueCount="(\d+)"[^>]*>`)

// writeWorkbook copies the workbook excelize wrote (book) to out, the
// Exceptions sheet's rows written into its sheet and their text into its
// shared strings. The other parts are copied as they are, compressed.
func writeWorkbook(out io.Writer, book []byte, rows *exceptionRows, exc []decide.StoredTx) error {
	zr, err := zip.NewReader(bytes.NewReader(book), int64(len(book)))
	if err != nil {
		return err
	}
	var sst []byte
	for _, zf := range zr.File {
		if zf.Name == sharedStringsPart {
			if sst, err = readPart(zf); err != nil {
				return err
			}
			m := sstHead.FindSubmatch(sst)
			if m == nil {
				return errors.New("reading the shared strings: no counts")
			}
			if rows.first, err = strconv.Atoi(string(m[2])); err != nil {
				return err
			}
		}
	}
	if sst == nil {
		return errors.New("reading the workbook: no shared strings")
	}
	zw := zip.NewWriter(out)
	sheet := false
	for _, zf := range zr.File {
		switch zf.Name {
		case sharedStringsPart:
			continue // last: the rows add to them
		case exceptionsSheetPart:
			sheet = true
			if err := writeSheet(zw, zf, rows, exc); err != nil {
				return err
			}
		default:
			if err := zw.Copy(zf); err != nil {
				return err
			}
		}
	}
	if !sheet {
		return errors.New("reading the workbook: no exceptions sheet")
	}
	w, err := zw.CreateHeader(&zip.FileHeader{Name: sharedStringsPart, Method: zip.Deflate})
	if err != nil {
		return err
	}
	m := sstHead.FindSubmatchIndex(sst)
	n := strconv.Itoa(rows.first + len(rows.sst))
	end := bytes.LastIndex(sst, []byte("</sst>"))
	if end < m[1] {
		return errors.New("reading the shared strings: no end")
	}
	for _, part := range [][]byte{sst[:m[2]], []byte(n), sst[m[3]:m[4]], []byte(n), sst[m[5]:end], rows.si.Bytes(), sst[end:]} {
		if _, err := w.Write(part); err != nil {
			return err
		}
	}
	return zw.Close()
}

// writeSheet writes the Exceptions sheet's part with the rows after its
// header row.
func writeSheet(zw *zip.Writer, zf *zip.File, rows *exceptionRows, exc []decide.StoredTx) error {
	xmlText, err := readPart(zf)
	if err != nil {
		return err
	}
	at := bytes.Index(xmlText, []byte("</sheetData>"))
	if at < 0 {
		return errors.New("reading the exceptions sheet: no sheet data")
	}
	w, err := zw.CreateHeader(&zip.FileHeader{Name: zf.Name, Method: zip.Deflate}) // no time, as excelize writes its parts
	if err != nil {
		return err
	}
	if _, err := w.Write(xmlText[:at]); err != nil {
		return err
	}
	if err := rows.write(w, exc); err != nil {
		return err
	}
	_, err = w.Write(xmlText[at:])
	return err
}

// readPart reads a part of the workbook.
func readPart(zf *zip.File) ([]byte, error) {
	r, err := zf.Open()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(r)
}
