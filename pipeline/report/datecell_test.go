package report

import (
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

// TestDateCellsAsSetCellValue holds setDateCell's reuse of a date's
// serial number and style to what SetCellValue writes in every cell: the
// same value and the same style, for repeated dates, in styled and
// unstyled columns.
func TestDateCellsAsSetCellValue(t *testing.T) {
	build := func(reuse bool) *excelize.File {
		f := excelize.NewFile()
		sh := "Sheet1"
		fm := "dd/mm/yyyy"
		st, err := f.NewStyle(&excelize.Style{CustomNumFmt: &fm})
		if err != nil {
			t.Fatal(err)
		}
		if err := f.SetColStyle(sh, "A", st); err != nil {
			t.Fatal(err)
		}
		seen := map[dateCellKey]dateCell{}
		for r, v := range []string{"2026-01-05", "2026-01-05", "2025-12-31", "2026-01-05", "2025-12-31"} {
			for c, col := range []string{"A", "B"} {
				cell := col + string(rune('1'+r))
				if reuse {
					if err := setDateCell(f, sh, cell, dateCellKey{c, v}, seen); err != nil {
						t.Fatal(err)
					}
					continue
				}
				d, _ := time.Parse("2006-01-02", v)
				if err := f.SetCellValue(sh, cell, d); err != nil {
					t.Fatal(err)
				}
			}
		}
		return f
	}
	want, got := build(false), build(true)
	for r := 1; r <= 5; r++ {
		for _, col := range []string{"A", "B"} {
			cell := col + string(rune('0'+r))
			wv, _ := want.GetCellValue("Sheet1", cell, excelize.Options{RawCellValue: true})
			gv, _ := got.GetCellValue("Sheet1", cell, excelize.Options{RawCellValue: true})
			ws, _ := want.GetCellStyle("Sheet1", cell)
			gs, _ := got.GetCellStyle("Sheet1", cell)
			if wv != gv || ws != gs {
				t.Errorf("%s: value %q style %d, want %q style %d", cell, gv, gs, wv, ws)
			}
			if wv == "" {
				t.Errorf("%s: empty", cell)
			}
		}
	}
}
