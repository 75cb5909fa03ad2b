package report

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/lettrage/lettrage/internal/csvsafe"

	"github.com/lettrage/lettrage/domain"
	"github.com/lettrage/lettrage/pipeline/decide"
)

// Options says which exception reports a job writes besides
// exceptions.csv.
type Options struct {
	XLSX      bool   // exceptions.xlsx
	FrenchCSV bool   // exceptions-fr.csv
	Locale    string // language of exceptions.xlsx: "en" (default) or "fr"
}

// Sheet names of exceptions.xlsx.
const (
	SheetExceptions = "Exceptions"
	SheetSummary    = "Summary"
)

// xlsxColumn is one column of the Exceptions sheet (and of the French
// CSV): its canonical name (the title comes from the locale).
type xlsxColumn struct {
	name  string
	width float64
	kind  byte // 't' text, 'n' exact amount, 'd' date, 'e' editable
	value func(v *view, st decide.StoredTx) string
}

// Resolution columns: what an accountant fills in (see Resolve).
const (
	ColAction   = "action"   // accept | letter | on_account | write_off | ignore | unletter
	ColItems    = "items"    // open item ids or document numbers, optionally with amounts: OI1:100.00;FA-2026-00137
	ColCustomer = "customer" // for on_account: the customer credited
	ColComment  = "comment"  // free text; the reason code for write_off and ignore
)

// Actions an accountant may choose in the workbook.
var Actions = []string{"accept", "letter", "on_account", "write_off", "ignore", "unletter"}

// view is what the accountants' views of the exceptions are rendered
// with: the locale and the open items the candidates name.
type view struct {
	loc   *Locale
	items map[string]domain.OpenItem
	// setAside are the transactions set aside lately, for the workbook's
	// set-aside sheet (nil: the sheet lists none).
	setAside []decide.StoredTx
}

// candidates renders the candidates of an exception, best first, one per
// line: document number (and id), customer, what is still open, due date,
// score — or the id and score for an item no longer open.
func (v *view) candidates(st decide.StoredTx) string {
	var lines []string
	for _, c := range st.Decision.Candidates {
		score := strings.Replace(strconv.FormatFloat(c.Score, 'f', 2, 64), ".", v.loc.Decimal, 1)
		it, ok := v.items[c.ItemID]
		if !ok {
			lines = append(lines, fmt.Sprintf("%s · %s %s", c.ItemID, v.loc.Score, score))
			continue
		}
		name := it.DocumentNumber
		if name == "" {
			name = it.ID
		} else if name != it.ID {
			name += " (" + it.ID + ")"
		}
		parts := []string{name, strings.TrimSpace(it.CustomerID + " " + it.CustomerName),
			v.loc.Left + " " + v.loc.Amount(it.Residual, it.Currency) + " " + it.Currency}
		if d := v.loc.Date(it.DueDate); d != "" {
			parts = append(parts, v.loc.Due+" "+d)
		}
		parts = append(parts, v.loc.Score+" "+score)
		lines = append(lines, strings.Join(parts, " · "))
	}
	return strings.Join(lines, "\n")
}

// reason is the exception's reason label.
func (v *view) reason(st decide.StoredTx) string { return v.loc.Reason(reasonCode(st.Decision)) }

// explanation frames the matcher's explanation: in French, what the
// reason means before why the matcher decided so.
func (v *view) explanation(st decide.StoredTx) string {
	if v.loc.Code == "en" {
		return st.Decision.Explanation
	}
	help := v.loc.ReasonHelp[reasonCode(st.Decision)]
	if help == "" {
		return v.loc.Why + st.Decision.Explanation
	}
	return help + "\n" + v.loc.Why + st.Decision.Explanation
}

// outcomeLabels are the outcomes in French.
var outcomeLabels = map[string]map[domain.Outcome]string{
	"fr": {domain.Suggested: "proposé", domain.Unmatched: "non lettré", domain.Auto: "lettré avec un reste"},
}

func (v *view) outcome(st decide.StoredTx) string {
	if l, ok := outcomeLabels[v.loc.Code][st.Decision.Outcome]; ok {
		return l
	}
	return string(st.Decision.Outcome)
}

var xlsxColumns = []xlsxColumn{
	{"tx_ref", 22, 't', func(_ *view, st decide.StoredTx) string { return st.Tx.Ref }},
	{"booking_date", 12, 'd', func(_ *view, st decide.StoredTx) string { return dateText(st.Tx.BookingDate) }},
	{"amount", 14, 'n', func(_ *view, st decide.StoredTx) string { return st.Tx.Amount.String() }},
	{"unallocated_amount", 14, 'n', func(_ *view, st decide.StoredTx) string { return decide.Unallocated(st).String() }},
	{"currency", 9, 't', func(_ *view, st decide.StoredTx) string { return st.Tx.Currency }},
	{"counterparty_name", 32, 't', func(_ *view, st decide.StoredTx) string { return st.Tx.Counterparty.Name }},
	{"remittance", 48, 't', func(_ *view, st decide.StoredTx) string { return Remittance(st.Tx) }},
	{"candidates", 60, 't', (*view).candidates},
	{ColAction, 14, 'e', func(*view, decide.StoredTx) string { return "" }},
	{ColItems, 26, 'e', func(*view, decide.StoredTx) string { return "" }},
	{ColCustomer, 14, 'e', func(*view, decide.StoredTx) string { return "" }},
	{ColComment, 30, 'e', func(*view, decide.StoredTx) string { return "" }},
	{"reason", 22, 't', (*view).reason},
	{"outcome", 13, 't', (*view).outcome},
	{"explanation", 70, 't', (*view).explanation},
	{"account_iban", 30, 't', func(_ *view, st decide.StoredTx) string { return st.Tx.Account }},
	{"counterparty_iban", 30, 't', func(_ *view, st decide.StoredTx) string { return st.Tx.Counterparty.IBAN }},
}

// writeExceptionsXLSX writes dir/exceptions.xlsx in the locale of opts:
// the exceptions with a frozen header, filters, amounts as exact numbers,
// IBANs and references as text, dates as dates, candidates as document
// numbers with their customer, residual, due date and score, a Summary
// sheet of unmatched cash per account and currency and a Guide sheet
// explaining every action and reason. The exceptions' rows are written
// straight into the sheet's XML (xlsxrows.go).
func writeExceptionsXLSX(dir string, exc []decide.StoredTx, accountName func(string) string, v *view) error {
	data, err := renderExceptionsXLSX(exc, accountName, v)
	if err != nil {
		return err
	}
	return WriteFileAtomic(filepath.Join(dir, "exceptions.xlsx"), data)
}

// RenderWorkbook renders exceptions.xlsx as WriteFiles writes it (opts'
// locale; items and setAside as for WriteFiles), for a caller that
// renders it beside other work and hands it to WriteFiles.
func RenderWorkbook(opts Options, exc []decide.StoredTx, accountName func(string) string,
	items map[string]domain.OpenItem, setAside ...decide.StoredTx) ([]byte, error) {
	return renderExceptionsXLSX(exc, accountName, &view{loc: LocaleFor(opts.Locale), items: items, setAside: setAside})
}

// renderExceptionsXLSX is the exceptions workbook's bytes.
func renderExceptionsXLSX(exc []decide.StoredTx, accountName func(string) string, v *view) ([]byte, error) {
	var rows *exceptionRows
	f, err := exceptionsWorkbook(exc, accountName, v, func(f *excelize.File, st xlsxStyles) (err error) {
		rows, err = exceptionsFrame(f, st, v, exc)
		return err
	})
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var book, buf bytes.Buffer
	if err := f.Write(&book); err != nil {
		return nil, fmt.Errorf("writing exceptions workbook: %w", err)
	}
	buf.Grow(book.Len() + 128*len(exc))
	if err := writeWorkbook(&buf, book.Bytes(), rows, exc); err != nil {
		return nil, fmt.Errorf("writing exceptions workbook: %w", err)
	}
	return buf.Bytes(), nil
}

// exceptionsWorkbook builds the exceptions workbook, its Exceptions sheet
// filled by fill (with the workbook's styles), the other sheets here.
func exceptionsWorkbook(exc []decide.StoredTx, accountName func(string) string, v *view,
	fill func(*excelize.File, xlsxStyles) error) (*excelize.File, error) {
	f := excelize.NewFile()
	fail := func(what string, err error) (*excelize.File, error) {
		_ = f.Close()
		return nil, fmt.Errorf("writing exceptions workbook%s: %w", what, err)
	}
	if err := f.SetSheetName("Sheet1", SheetExceptions); err != nil {
		return fail("", err)
	}
	for _, sh := range []string{v.loc.SheetSummary, v.loc.SheetGuide} {
		if _, err := f.NewSheet(sh); err != nil {
			return fail("", err)
		}
	}
	styles, err := newXLSXStyles(f, v.loc)
	if err != nil {
		return fail("", err)
	}
	if err := fill(f, styles); err != nil {
		return fail("", err)
	}
	if err := fillSummary(f, styles, v, exc, accountName); err != nil {
		return fail("", err)
	}
	if err := fillSetAside(f, styles, v, v.setAside); err != nil {
		return fail("", err)
	}
	if err := fillGuide(f, styles, v.loc); err != nil {
		return fail("", err)
	}
	f.SetActiveSheet(0)
	if err := f.SetDocProps(&excelize.DocProperties{Creator: WorkbookCreator, Title: "Lettrage exceptions", Language: v.loc.Code}); err != nil {
		return fail(" properties", err)
	}
	return f, nil
}

type xlsxStyles struct{ header, text, wrap, amount, date, edit int }

func newXLSXStyles(f *excelize.File, loc *Locale) (xlsxStyles, error) {
	var s xlsxStyles
	var err error
	if s.header, err = f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true},
		Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"#DDE6F0"}}}); err != nil {
		return s, err
	}
	if s.text, err = f.NewStyle(&excelize.Style{NumFmt: 49}); err != nil { // "@": text
		return s, err
	}
	if s.wrap, err = f.NewStyle(&excelize.Style{NumFmt: 49, Alignment: &excelize.Alignment{WrapText: true, Vertical: "top"}}); err != nil {
		return s, err
	}
	// Grouping and decimal marks follow the reader's own locale in the
	// spreadsheet; the format only fixes the digits.
	amountFmt := "#,##0.00###########;-#,##0.00###########"
	if s.amount, err = f.NewStyle(&excelize.Style{CustomNumFmt: &amountFmt}); err != nil {
		return s, err
	}
	dateFmt := loc.XLSXDate
	if s.date, err = f.NewStyle(&excelize.Style{CustomNumFmt: &dateFmt}); err != nil {
		return s, err
	}
	// Editable resolution cells: text (ids keep their leading zeros),
	// tinted so that accountants see where to type.
	if s.edit, err = f.NewStyle(&excelize.Style{NumFmt: 49,
		Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"#FFF6D5"}}}); err != nil {
		return s, err
	}
	return s, nil
}

// fillGuide writes the Guide (Légende) sheet: how to resolve, then every
// action and every reason with its label and what it means.
func fillGuide(f *excelize.File, st xlsxStyles, loc *Locale) error {
	sh := loc.SheetGuide
	row := 1
	put := func(vals ...string) error {
		for c, val := range vals {
			cell, _ := excelize.CoordinatesToCellName(c+1, row)
			if err := f.SetCellStr(sh, cell, val); err != nil {
				return err
			}
		}
		row++
		return nil
	}
	if err := put(loc.GuideTitle); err != nil {
		return err
	}
	row++
	for _, sec := range []struct {
		title string
		codes []string
		label func(string) string
		help  map[string]string
	}{
		{loc.Titles[ColAction], Actions, func(a string) string { return loc.Actions[a] }, loc.ActionHelp},
		{loc.Titles["reason"], reasonCodes, loc.Reason, loc.ReasonHelp},
	} {
		start := row
		if err := put(sec.title+" — "+loc.GuideCode, loc.GuideLabel, loc.GuideMeaning); err != nil {
			return err
		}
		if err := f.SetCellStyle(sh, fmt.Sprintf("A%d", start), fmt.Sprintf("C%d", start), st.header); err != nil {
			return err
		}
		for _, code := range sec.codes {
			if err := put(code, sec.label(code), sec.help[code]); err != nil {
				return err
			}
		}
		row++
	}
	for col, w := range map[string]float64{"A": 28, "B": 30, "C": 110} {
		if err := f.SetColWidth(sh, col, col, w); err != nil {
			return err
		}
	}
	return nil
}

func fillSummary(f *excelize.File, st xlsxStyles, v *view, exc []decide.StoredTx, accountName func(string) string) error {
	type key struct{ account, ccy string }
	type agg struct {
		n      int
		cash   domain.Amount
		oldest time.Time
	}
	sums := map[key]*agg{}
	for _, x := range exc {
		k := key{x.Tx.Account, x.Tx.Currency}
		a := sums[k]
		if a == nil {
			a = &agg{}
			sums[k] = a
		}
		a.n++
		a.cash = a.cash.Add(decide.Unallocated(x))
		if d := x.Tx.BookingDate; !d.IsZero() && (a.oldest.IsZero() || d.Before(a.oldest)) {
			a.oldest = d
		}
	}
	keys := make([]key, 0, len(sums))
	for k := range sums {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].account != keys[j].account {
			return keys[i].account < keys[j].account
		}
		return keys[i].ccy < keys[j].ccy
	})
	sh := v.loc.SheetSummary
	header := v.loc.SummaryTitles
	widths := []float64{16, 30, 9, 13, 16, 20}
	for c, h := range header {
		name, _ := excelize.ColumnNumberToName(c + 1)
		if err := f.SetCellStr(sh, name+"1", h); err != nil {
			return err
		}
		if err := f.SetColWidth(sh, name, name, widths[c]); err != nil {
			return err
		}
	}
	if err := f.SetCellStyle(sh, "A1", "F1", st.header); err != nil {
		return err
	}
	for i, k := range keys {
		a, row := sums[k], i+2
		cells := []struct {
			col   string
			set   func(string) error
			style int
		}{
			{"A", func(c string) error { return f.SetCellStr(sh, c, accountName(k.account)) }, st.text},
			{"B", func(c string) error { return f.SetCellStr(sh, c, k.account) }, st.text},
			{"C", func(c string) error { return f.SetCellStr(sh, c, k.ccy) }, st.text},
			{"D", func(c string) error { return f.SetCellInt(sh, c, int64(a.n)) }, 0},
			{"E", func(c string) error { return f.SetCellDefault(sh, c, a.cash.String()) }, st.amount},
			{"F", func(c string) error {
				if a.oldest.IsZero() {
					return nil
				}
				return f.SetCellValue(sh, c, a.oldest)
			}, st.date},
		}
		for _, c := range cells {
			ref := fmt.Sprintf("%s%d", c.col, row)
			if err := c.set(ref); err != nil {
				return err
			}
			if c.style != 0 {
				if err := f.SetCellStyle(sh, ref, ref, c.style); err != nil {
					return err
				}
			}
		}
	}
	return f.SetPanes(sh, &excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"})
}

// writeExceptionsFrenchCSV writes dir/exceptions-fr.csv: the French view
// of the exceptions for French-locale Excel — a full resolution sheet with
// the workbook's columns and French titles (Action, Pièces, Client,
// Commentaire to fill in), ";" separated, "," as decimal mark, dates
// DD/MM/YYYY, candidates as document numbers, UTF-8 with a byte-order mark
// so accents survive. Text cells are escaped against formulas; amounts
// never are.
func writeExceptionsFrenchCSV(dir string, exc []decide.StoredTx, items map[string]domain.OpenItem) error {
	data, err := renderExceptionsFrenchCSV(exc, items)
	if err != nil {
		return err
	}
	return WriteFileAtomic(filepath.Join(dir, "exceptions-fr.csv"), data)
}

// renderExceptionsFrenchCSV is exceptions-fr.csv's bytes.
func renderExceptionsFrenchCSV(exc []decide.StoredTx, items map[string]domain.OpenItem) ([]byte, error) {
	v := &view{loc: localeFR, items: items}
	var buf bytes.Buffer
	buf.WriteString("\ufeff")
	w := csv.NewWriter(&buf)
	w.Comma = ';'
	header := make([]string, len(xlsxColumns))
	for i, col := range xlsxColumns {
		header[i] = v.loc.Titles[col.name]
	}
	_ = w.Write(header)
	for _, st := range exc {
		row := make([]string, len(xlsxColumns))
		for i, col := range xlsxColumns {
			val := col.value(v, st)
			switch col.kind {
			case 'n':
				row[i] = strings.Replace(val, ".", ",", 1)
				continue
			case 'd':
				row[i] = v.loc.Date(st.Tx.BookingDate)
				continue
			}
			row[i] = csvsafe.Text(val)
		}
		_ = w.Write(row)
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return nil, fmt.Errorf("rendering French exceptions: %w", err)
	}
	return buf.Bytes(), nil
}
