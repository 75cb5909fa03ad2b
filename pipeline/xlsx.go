package pipeline

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/lettrage/lettrage/internal/csvsafe"

	"github.com/lettrage/lettrage/matcher"
)

// ReportOptions says which exception reports a job writes besides
// exceptions.csv.
type ReportOptions struct {
	XLSX      bool // exceptions.xlsx
	FrenchCSV bool // exceptions-fr.csv
}

// Sheet names of exceptions.xlsx.
const (
	SheetExceptions = "Exceptions"
	SheetSummary    = "Summary"
)

// xlsxColumn is one column of the Exceptions sheet.
type xlsxColumn struct {
	title string
	width float64
	kind  byte // 't' text, 'n' exact amount, 'd' date
	value func(st StoredTx) string
}

// Resolution columns: what an accountant fills in (see Resolve).
const (
	ColAction   = "action"   // accept | letter | on_account | write_off | ignore | unletter
	ColItems    = "items"    // open item ids, optionally with amounts: OI1:100.00;OI2:50.00
	ColCustomer = "customer" // for on_account: the customer credited
	ColComment  = "comment"  // free text; the reason code for write_off and ignore
)

// Actions an accountant may choose in the workbook.
var Actions = []string{"accept", "letter", "on_account", "write_off", "ignore", "unletter"}

var xlsxColumns = []xlsxColumn{
	{"tx_ref", 22, 't', func(st StoredTx) string { return st.Tx.Ref }},
	{"booking_date", 12, 'd', func(st StoredTx) string { return dateText(st.Tx.BookingDate) }},
	{"amount", 14, 'n', func(st StoredTx) string { return st.Tx.Amount.String() }},
	{"unallocated_amount", 14, 'n', func(st StoredTx) string { return unallocated(st).String() }},
	{"currency", 9, 't', func(st StoredTx) string { return st.Tx.Currency }},
	{"counterparty_name", 32, 't', func(st StoredTx) string { return st.Tx.Counterparty.Name }},
	{"remittance", 48, 't', func(st StoredTx) string { return Remittance(st.Tx) }},
	{"candidates", 30, 't', func(st StoredTx) string { return ExceptionRow(st)[9] }},
	{ColAction, 12, 'e', func(StoredTx) string { return "" }},
	{ColItems, 26, 'e', func(StoredTx) string { return "" }},
	{ColCustomer, 14, 'e', func(StoredTx) string { return "" }},
	{ColComment, 30, 'e', func(StoredTx) string { return "" }},
	{"reason", 20, 't', func(st StoredTx) string { return ExceptionRow(st)[8] }},
	{"outcome", 11, 't', func(st StoredTx) string { return string(st.Decision.Outcome) }},
	{"explanation", 70, 't', func(st StoredTx) string { return st.Decision.Explanation }},
	{"account_iban", 30, 't', func(st StoredTx) string { return st.Tx.Account }},
	{"counterparty_iban", 30, 't', func(st StoredTx) string { return st.Tx.Counterparty.IBAN }},
}

// writeExceptionsXLSX writes dir/exceptions.xlsx: the exceptions with a
// frozen header, filters, amounts as exact numbers, IBANs and references as
// text, dates as dates, and a Summary sheet of unmatched cash per account
// and currency.
func writeExceptionsXLSX(dir string, exc []StoredTx, accountName func(string) string) error {
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetSheetName("Sheet1", SheetExceptions); err != nil {
		return fmt.Errorf("writing exceptions workbook: %w", err)
	}
	if _, err := f.NewSheet(SheetSummary); err != nil {
		return fmt.Errorf("writing exceptions workbook: %w", err)
	}
	styles, err := newXLSXStyles(f)
	if err != nil {
		return fmt.Errorf("writing exceptions workbook: %w", err)
	}
	if err := fillExceptions(f, styles, exc); err != nil {
		return fmt.Errorf("writing exceptions workbook: %w", err)
	}
	if err := fillSummary(f, styles, exc, accountName); err != nil {
		return fmt.Errorf("writing exceptions workbook: %w", err)
	}
	f.SetActiveSheet(0)
	f.SetDocProps(&excelize.DocProperties{Creator: WorkbookCreator, Title: "Lettrage exceptions"})
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		return fmt.Errorf("writing exceptions workbook: %w", err)
	}
	return WriteFileAtomic(filepath.Join(dir, "exceptions.xlsx"), buf.Bytes())
}

type xlsxStyles struct{ header, text, amount, date, edit int }

func newXLSXStyles(f *excelize.File) (xlsxStyles, error) {
	var s xlsxStyles
	var err error
	if s.header, err = f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true},
		Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"#DDE6F0"}}}); err != nil {
		return s, err
	}
	if s.text, err = f.NewStyle(&excelize.Style{NumFmt: 49}); err != nil { // "@": text
		return s, err
	}
	amountFmt := "#,##0.00###########;-#,##0.00###########"
	if s.amount, err = f.NewStyle(&excelize.Style{CustomNumFmt: &amountFmt}); err != nil {
		return s, err
	}
	dateFmt := "yyyy-mm-dd"
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

func fillExceptions(f *excelize.File, st xlsxStyles, exc []StoredTx) error {
	sh := SheetExceptions
	for c, col := range xlsxColumns {
		name, _ := excelize.ColumnNumberToName(c + 1)
		if err := f.SetCellStr(sh, name+"1", col.title); err != nil {
			return err
		}
		if err := f.SetColWidth(sh, name, name, col.width); err != nil {
			return err
		}
		style := map[byte]int{'t': st.text, 'n': st.amount, 'd': st.date, 'e': st.edit}[col.kind]
		if err := f.SetColStyle(sh, name, style); err != nil {
			return err
		}
	}
	last, _ := excelize.ColumnNumberToName(len(xlsxColumns))
	if err := f.SetCellStyle(sh, "A1", last+"1", st.header); err != nil {
		return err
	}
	for r, x := range exc {
		row := r + 2
		for c, col := range xlsxColumns {
			cell, _ := excelize.CoordinatesToCellName(c+1, row)
			v := col.value(x)
			var err error
			switch {
			case v == "":
				continue
			case col.kind == 'n':
				// The exact decimal text becomes the cell's number: no float
				// ever stands between the amount and the workbook.
				err = f.SetCellDefault(sh, cell, v)
			case col.kind == 'd':
				var d time.Time
				if d, err = time.Parse("2006-01-02", v); err == nil {
					err = f.SetCellValue(sh, cell, d)
				}
			default:
				// A shared string is never a formula; bidi controls are
				// shown, not obeyed.
				err = f.SetCellStr(sh, cell, csvsafe.ShowBidi(v))
			}
			if err != nil {
				return err
			}
		}
	}
	if err := f.SetPanes(sh, &excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return err
	}
	// A drop-down of the actions on the action column, with the rule in a
	// prompt; rows beyond the exceptions stay free for nothing.
	for c, col := range xlsxColumns {
		if col.title != ColAction || len(exc) == 0 {
			continue
		}
		name, _ := excelize.ColumnNumberToName(c + 1)
		dv := excelize.NewDataValidation(true)
		dv.Sqref = fmt.Sprintf("%s2:%s%d", name, name, len(exc)+1)
		if err := dv.SetDropList(Actions); err != nil {
			return err
		}
		dv.SetInput("action", "accept: the first candidate; letter: the ids in items (OI1:100.00;OI2); on_account: customer (items: lettered first); write_off: a reason in comment (items: closed); ignore: a reason in comment")
		dv.SetError(excelize.DataValidationErrorStyleStop, "action", "choose one of: "+strings.Join(Actions, ", "))
		if err := f.AddDataValidation(sh, dv); err != nil {
			return err
		}
	}
	return f.AutoFilter(sh, fmt.Sprintf("A1:%s%d", last, len(exc)+1), nil)
}

func fillSummary(f *excelize.File, st xlsxStyles, exc []StoredTx, accountName func(string) string) error {
	type key struct{ account, ccy string }
	type agg struct {
		n      int
		cash   matcher.Amount
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
		a.cash = a.cash.Add(unallocated(x))
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
	sh := SheetSummary
	header := []string{"account", "account_iban", "currency", "transactions", "unmatched_cash", "oldest_booking_date"}
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

// writeExceptionsFrenchCSV writes dir/exceptions-fr.csv, the same rows as
// exceptions.csv for French-locale Excel: ";" separated, "," as decimal
// mark in amounts, UTF-8 with a byte-order mark so accents survive.
func writeExceptionsFrenchCSV(dir string, exc []StoredTx) error {
	var buf bytes.Buffer
	buf.WriteString("\ufeff")
	w := csv.NewWriter(&buf)
	w.Comma = ';'
	amountCols := map[int]bool{3: true, 10: true}
	_ = w.Write(ExceptionsHeader)
	for _, st := range exc {
		row := ExceptionRow(st)
		for i := range row {
			if amountCols[i] {
				row[i] = strings.Replace(row[i], ".", ",", 1)
			}
		}
		// Candidates' scores use "." in "OI1:0.82": keep them unambiguous.
		_ = w.Write(csvsafe.Row(row, exceptionsNotText))
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return fmt.Errorf("rendering French exceptions: %w", err)
	}
	return WriteFileAtomic(filepath.Join(dir, "exceptions-fr.csv"), buf.Bytes())
}
