package report

import (
	"fmt"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/lettrage/lettrage/internal/csvsafe"
	"github.com/lettrage/lettrage/pipeline/decide"
)

// The Exceptions sheet as it was written before its rows were streamed
// (xlsxrows.go): every cell through excelize's cell model. It is the
// reference the streamed workbook is compared with, cell by cell
// (TestStreamedWorkbookAsCellModel).

// fillExceptionsCellModel fills the Exceptions sheet through excelize's
// cell model.
func fillExceptionsCellModel(f *excelize.File, st xlsxStyles, v *view, exc []decide.StoredTx) error {
	sh := SheetExceptions
	for c, col := range xlsxColumns {
		name, _ := excelize.ColumnNumberToName(c + 1)
		if err := f.SetCellStr(sh, name+"1", v.loc.Titles[col.name]); err != nil {
			return err
		}
		if err := f.SetColWidth(sh, name, name, col.width); err != nil {
			return err
		}
		style := map[byte]int{'t': st.text, 'n': st.amount, 'd': st.date, 'e': st.edit}[col.kind]
		if col.name == "candidates" || col.name == "explanation" {
			style = st.wrap
		}
		if err := f.SetColStyle(sh, name, style); err != nil {
			return err
		}
	}
	last, _ := excelize.ColumnNumberToName(len(xlsxColumns))
	if err := f.SetCellStyle(sh, "A1", last+"1", st.header); err != nil {
		return err
	}
	dates := map[dateCellKey]dateCell{}
	for r, x := range exc {
		row := r + 2
		for c, col := range xlsxColumns {
			cell, _ := excelize.CoordinatesToCellName(c+1, row)
			val := col.value(v, x)
			var err error
			switch {
			case val == "":
				continue
			case col.kind == 'n':
				// The exact decimal text becomes the cell's number: no float
				// ever stands between the amount and the workbook.
				err = f.SetCellDefault(sh, cell, val)
			case col.kind == 'd':
				err = setDateCell(f, sh, cell, dateCellKey{c, val}, dates)
			default:
				// A shared string is never a formula; bidi controls are
				// shown, not obeyed.
				err = f.SetCellStr(sh, cell, csvsafe.ShowBidi(val))
			}
			if err != nil {
				return err
			}
		}
	}
	if err := f.SetPanes(sh, &excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return err
	}
	// The drop-down of the actions is the same code in both writers.
	if err := addActionDropDown(f, v, len(exc)); err != nil {
		return err
	}
	return f.AutoFilter(sh, fmt.Sprintf("A1:%s%d", last, len(exc)+1), nil)
}

// dateCellKey is a date column and a date as the exceptions show it.
type dateCellKey struct {
	col int
	val string
}

// dateCell is what excelize made of a date cell: its serial number and
// its style.
type dateCell struct {
	raw   string
	style int
}

// setDateCell writes the date k.val ("2006-01-02") in cell of column k.col.
// The first cell of each date and column is written by SetCellValue, which
// finds its number format from the cell's style (a style look-up and
// parse per cell: a quarter of the workbook's time at 18,000 exceptions);
// the next ones are given the serial number and the style it chose then,
// which is what SetCellValue would write again.
func setDateCell(f *excelize.File, sh, cell string, k dateCellKey, seen map[dateCellKey]dateCell) error {
	if dc, ok := seen[k]; ok {
		if err := f.SetCellDefault(sh, cell, dc.raw); err != nil {
			return err
		}
		return f.SetCellStyle(sh, cell, cell, dc.style)
	}
	d, err := time.Parse("2006-01-02", k.val)
	if err != nil {
		return err
	}
	if err := f.SetCellValue(sh, cell, d); err != nil {
		return err
	}
	var dc dateCell
	if dc.raw, err = f.GetCellValue(sh, cell, excelize.Options{RawCellValue: true}); err != nil {
		return err
	}
	if dc.style, err = f.GetCellStyle(sh, cell); err != nil {
		return err
	}
	seen[k] = dc
	return nil
}
