package report

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/lettrage/lettrage/domain"
	"github.com/lettrage/lettrage/pipeline/decide"
)

// awkwardExceptions are exceptions whose cells test the streamed rows:
// repeated and month-first dates, dates of 1900 and before, no date,
// amounts of every shape, texts with blanks around them, line breaks,
// markup, control and bidi characters, formulas, repeats, a text longer
// than a cell holds, and candidates with and without their items.
func awkwardExceptions() ([]decide.StoredTx, map[string]domain.OpenItem) {
	dates := []time.Time{
		time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC), time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC),
		time.Date(1900, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(1900, 2, 28, 0, 0, 0, 0, time.UTC),
		time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(1899, 12, 31, 0, 0, 0, 0, time.UTC),
		time.Date(1899, 12, 30, 0, 0, 0, 0, time.UTC), {}, time.Date(2400, 2, 29, 0, 0, 0, 0, time.UTC),
	}
	texts := []string{
		"SCI Les Tilleuls", " leading", "trailing ", "\tTAB", "line\nbreak\r\nCRLF", `<b>&amp;"quote'</b>`,
		"ctrl\x01\x1f\x7f", "bidi \u202Eevil", formulaPayloads[0], "@SUM(1)", "é ü 漢字 😀", "_x0041_ literal",
		"SCI Les Tilleuls", strings.Repeat("é", 40000), "",
	}
	amounts := []string{"3333.33", "-240.00", "0.01", "150.125", "1000000000.5", "7"}
	items := map[string]domain.OpenItem{
		"OI-1": {ID: "OI-1", DocumentNumber: "FA-2026-00137", CustomerID: "C1", CustomerName: "Tilleuls",
			Residual: domain.MustAmount("100.00"), Currency: "EUR", DueDate: dates[0]},
		"OI-2": {ID: "OI-2", CustomerID: "C2", Residual: domain.MustAmount("5.5"), Currency: "USD"},
	}
	var exc []decide.StoredTx
	for i := 0; i < 60; i++ {
		tx := testTx(fmt.Sprintf("REF-%03d", i%17), amounts[i%len(amounts)])
		tx.BookingDate = dates[i%len(dates)]
		tx.Counterparty = domain.Party{Name: texts[i%len(texts)], IBAN: "FR7610096180000007412589665"}
		if i%3 == 0 {
			tx.Counterparty.IBAN = ""
		}
		tx.Unstructured = []string{texts[(i+5)%len(texts)]}
		if i%4 == 0 {
			tx.Documents = []string{"FA-2026-00137", texts[(i+7)%len(texts)]}
		}
		if i%5 == 0 {
			tx.Account, tx.Currency = "DE89370400440532013000", "USD"
		}
		d := domain.Decision{Outcome: domain.Unmatched, Reason: []string{"no_candidate", "ambiguous", "amount_mismatch", ""}[i%4],
			Explanation: texts[(i+3)%len(texts)]}
		if i%6 == 1 {
			d.Outcome, d.Excess = domain.Auto, domain.MustAmount("1.25")
		}
		if i%2 == 0 {
			d.Outcome = domain.Suggested
			d.Candidates = []domain.Candidate{{ItemID: "OI-1", Score: 0.82}, {ItemID: "OI-2", Score: 0.5}, {ItemID: "OI-9", Score: 0.125}}
		}
		exc = append(exc, decide.StoredTx{Tx: tx, Decision: d})
	}
	return exc, items
}

// TestStreamedWorkbookAsCellModel holds the streamed Exceptions sheet to
// the workbook excelize's cell model wrote: in both locales, every cell of
// every sheet read back by excelize has the same value (raw), type and
// style; the columns their widths and styles; the sheets their panes,
// filter and validations; and every part of the workbook but the
// exceptions sheet and the shared strings is the same, byte for byte, as
// is the exceptions sheet outside its rows.
func TestStreamedWorkbookAsCellModel(t *testing.T) {
	exc, items := awkwardExceptions()
	for _, loc := range []*Locale{localeEN, localeFR} {
		for _, n := range []int{0, 1, len(exc)} {
			t.Run(fmt.Sprintf("%s/%d", loc.Code, n), func(t *testing.T) {
				setAside := []decide.StoredTx{exc[1], exc[2]}
				v := &view{loc: loc, items: items, setAside: setAside}
				dir := t.TempDir()
				if err := writeExceptionsXLSX(dir, exc[:n], accountSuffix, v); err != nil {
					t.Fatal(err)
				}
				got, err := os.ReadFile(filepath.Join(dir, "exceptions.xlsx"))
				if err != nil {
					t.Fatal(err)
				}
				want := cellModelWorkbook(t, exc[:n], v)
				compareWorkbooks(t, want, got, true)
			})
		}
	}
}

// cellModelWorkbook is the workbook as the cell model writes it.
func cellModelWorkbook(t *testing.T, exc []decide.StoredTx, v *view) []byte {
	t.Helper()
	f, err := exceptionsWorkbook(exc, accountSuffix, v, func(f *excelize.File, st xlsxStyles) error {
		return fillExceptionsCellModel(f, st, v, exc)
	})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestCompareWorkbookFiles compares two exceptions workbooks given as
// LETTRAGE_COMPARE_XLSX=want.xlsx,got.xlsx cell by cell, as
// TestStreamedWorkbookAsCellModel does (the parts are not compared: the
// document properties hold the time of writing): how the benchmark's
// workbooks of two builds were compared (docs/BENCHMARKS.md).
func TestCompareWorkbookFiles(t *testing.T) {
	files := strings.Split(os.Getenv("LETTRAGE_COMPARE_XLSX"), ",")
	if len(files) != 2 {
		t.Skip("LETTRAGE_COMPARE_XLSX=want.xlsx,got.xlsx not set")
	}
	want, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(files[1])
	if err != nil {
		t.Fatal(err)
	}
	compareWorkbooks(t, want, got, false)
}

// compareWorkbooks compares two workbooks' sheets, cells, columns, panes
// and validations, and, with allParts, every part.
func compareWorkbooks(t *testing.T, want, got []byte, allParts bool) {
	t.Helper()
	wf, err := excelize.OpenReader(bytes.NewReader(want))
	if err != nil {
		t.Fatal(err)
	}
	defer wf.Close()
	gf, err := excelize.OpenReader(bytes.NewReader(got))
	if err != nil {
		t.Fatal(err)
	}
	defer gf.Close()
	sheets := wf.GetSheetList()
	if g := gf.GetSheetList(); fmt.Sprint(g) != fmt.Sprint(sheets) {
		t.Fatalf("sheets %v, want %v", g, sheets)
	}
	cells := 0
	for _, sh := range sheets {
		wrows, err := wf.GetRows(sh, excelize.Options{RawCellValue: true})
		if err != nil {
			t.Fatal(err)
		}
		grows, err := gf.GetRows(sh, excelize.Options{RawCellValue: true})
		if err != nil {
			t.Fatal(err)
		}
		if len(grows) != len(wrows) {
			t.Errorf("%s: %d rows, want %d", sh, len(grows), len(wrows))
		}
		width := 0
		for _, r := range append(wrows, grows...) {
			width = max(width, len(r))
		}
		for r := 1; r <= max(len(wrows), len(grows)); r++ {
			for c := 1; c <= width+1; c++ {
				cell, _ := excelize.CoordinatesToCellName(c, r)
				cells++
				wv, werr := wf.GetCellValue(sh, cell, excelize.Options{RawCellValue: true})
				gv, gerr := gf.GetCellValue(sh, cell, excelize.Options{RawCellValue: true})
				wd, _ := wf.GetCellValue(sh, cell)
				gd, _ := gf.GetCellValue(sh, cell)
				wt, _ := wf.GetCellType(sh, cell)
				gt, _ := gf.GetCellType(sh, cell)
				ws, _ := wf.GetCellStyle(sh, cell)
				gs, _ := gf.GetCellStyle(sh, cell)
				if wv != gv || wd != gd || wt != gt || ws != gs || (werr == nil) != (gerr == nil) {
					t.Errorf("%s!%s: value %.40q (shown %.40q) type %v style %d, want %.40q (%.40q) type %v style %d",
						sh, cell, gv, gd, gt, gs, wv, wd, wt, ws)
				}
			}
			if r > 1 {
				continue
			}
		}
		for c := 1; c <= width+1; c++ {
			name, _ := excelize.ColumnNumberToName(c)
			ww, _ := wf.GetColWidth(sh, name)
			gw, _ := gf.GetColWidth(sh, name)
			ws, _ := wf.GetColStyle(sh, name)
			gs, _ := gf.GetColStyle(sh, name)
			if ww != gw || ws != gs {
				t.Errorf("%s column %s: width %v style %d, want %v %d", sh, name, gw, gs, ww, ws)
			}
		}
		wp, _ := wf.GetPanes(sh)
		gp, _ := gf.GetPanes(sh)
		if fmt.Sprintf("%+v", wp) != fmt.Sprintf("%+v", gp) {
			t.Errorf("%s: panes %+v, want %+v", sh, gp, wp)
		}
		wdv, _ := wf.GetDataValidations(sh)
		gdv, _ := gf.GetDataValidations(sh)
		if a, b := jsonText(wdv), jsonText(gdv); a != b || (sh == SheetExceptions && len(wrows) > 1 && len(wdv) == 0) {
			t.Errorf("%s: validations %s, want %s", sh, b, a)
		}
	}
	if cells == 0 {
		t.Fatal("no cell compared")
	}
	t.Logf("%d cells compared", cells)
	if !allParts {
		return
	}
	wp, gp := parts(t, want), parts(t, got)
	for name, w := range wp {
		g, ok := gp[name]
		if strings.HasPrefix(name, "xl/worksheets/") {
			w, g = sharedText(w, wp[sharedStringsPart]), sharedText(g, gp[sharedStringsPart])
		}
		switch {
		case !ok:
			t.Errorf("part %s missing", name)
		case name == sharedStringsPart:
		case name == exceptionsSheetPart:
			if a, b := outsideRows(w), outsideRows(g); a != b {
				t.Errorf("%s outside its rows:\n%s\nwant\n%s", name, b, a)
			}
		case !bytes.Equal(w, g):
			t.Errorf("part %s differs:\n%.600s\nwant\n%.600s", name, g, w)
		}
	}
	if len(gp) != len(wp) {
		t.Errorf("%d parts, want %d", len(gp), len(wp))
	}
}

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// sharedText is a sheet's XML with its shared strings' indices replaced
// by the strings (as the shared strings part sst writes them).
func sharedText(sheet, sst []byte) []byte {
	si := regexp.MustCompile(`(?s)<si>(.*?)</si>`).FindAllSubmatch(sst, -1)
	return regexp.MustCompile(`t="s"><v>(\d+)</v>`).ReplaceAllFunc(sheet, func(m []byte) []byte {
		var i int
		_, _ = fmt.Sscanf(string(m), `t="s"><v>%d</v>`, &i)
		if i >= len(si) {
			return m
		}
		return append([]byte(`t="s"><v>`), append(si[i][1], `</v>`...)...)
	})
}

// outsideRows is a sheet's XML with the rows after the header left out.
func outsideRows(x []byte) string {
	return regexp.MustCompile(`<row r="([2-9]|\d\d+)".*</sheetData>`).ReplaceAllString(string(x), "</sheetData>")
}

// parts reads every part of a workbook.
func parts(t *testing.T, book []byte) map[string][]byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(book), int64(len(book)))
	if err != nil {
		t.Fatal(err)
	}
	m := map[string][]byte{}
	for _, zf := range zr.File {
		if zf.ModifiedDate != 0 || zf.ModifiedTime != 0 { //nolint:staticcheck // the MS-DOS time as written
			t.Errorf("part %s dated %v: excelize dates none", zf.Name, zf.Modified)
		}
		r, err := zf.Open()
		if err != nil {
			t.Fatal(err)
		}
		if m[zf.Name], err = io.ReadAll(r); err != nil {
			t.Fatal(err)
		}
		r.Close()
	}
	return m
}
