// Package report renders what accountants read and parses what they send
// back: exceptions.csv (the contract columns of docs/FORMATS.md), the
// exceptions workbook (exceptions.xlsx: the exceptions, a guide, a summary
// and the set-aside sheet) and the French CSV, in the locales of
// locale.go; and the resolutions workbook or CSV an accountant fills in
// (ReadResolutions) with the result file of applying it. It renders
// records (pipeline/decide) given to it: it reads no state store, calls
// no connector and knows nothing of the daemon.
package report

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/lettrage/lettrage/domain"
	"github.com/lettrage/lettrage/internal/csvsafe"
	"github.com/lettrage/lettrage/internal/durable"
	"github.com/lettrage/lettrage/pipeline/decide"
)

// ExceptionsHeader is the header of exceptions.csv: the contract columns
// (docs/FORMATS.md) followed by Lettrage's additions.
var ExceptionsHeader = []string{
	"tx_ref", "account_iban", "booking_date", "amount", "currency", "counterparty_name",
	"counterparty_iban", "remittance", "reason", "candidates",
	"unallocated_amount", "outcome", "explanation",
}

// exceptionsNotText tells the columns of exceptions.csv that are amounts
// or dates; the others are text cells, neutralised against formula
// injection when written (internal/csvsafe, docs/FORMATS.md "Text cells").
var exceptionsNotText = csvsafe.Columns(ExceptionsHeader, "booking_date", "amount", "unallocated_amount")

// ExceptionRow renders one stored transaction as an exceptions.csv row.
func ExceptionRow(st decide.StoredTx) []string {
	tx, d := st.Tx, st.Decision
	var cands []string
	for _, c := range d.Candidates {
		cands = append(cands, c.ItemID+":"+strconv.FormatFloat(c.Score, 'f', 2, 64))
	}
	return []string{
		tx.Ref, tx.Account, dateText(tx.BookingDate), tx.Amount.String(), tx.Currency,
		tx.Counterparty.Name, tx.Counterparty.IBAN, Remittance(tx), reasonCode(d), strings.Join(cands, ";"),
		decide.Unallocated(st).String(), string(d.Outcome), d.Explanation,
	}
}

// reasonCode is the reason column of exceptions.csv: the decision's
// reason, "overpayment" for a letter with an excess.
func reasonCode(d domain.Decision) string {
	if d.Reason == "" && d.Outcome == domain.Auto {
		return "overpayment"
	}
	return d.Reason
}

// Remittance joins what the payer wrote: structured references, referred
// document numbers and the unstructured lines, with " | ".
func Remittance(tx domain.Transaction) string {
	var parts []string
	for _, r := range tx.Structured {
		parts = append(parts, r.Value)
	}
	parts = append(parts, tx.Documents...)
	parts = append(parts, tx.Unstructured...)
	return strings.Join(parts, " | ")
}

// ExceptionsCSV renders exceptions.csv.
func ExceptionsCSV(exc []decide.StoredTx) ([]byte, error) {
	var buf bytes.Buffer
	buf.Grow(256 * (len(exc) + 1))
	w := csv.NewWriter(&buf)
	_ = w.Write(ExceptionsHeader)
	for _, st := range exc {
		_ = w.Write(csvsafe.Row(ExceptionRow(st), exceptionsNotText))
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return nil, fmt.Errorf("rendering exceptions: %w", err)
	}
	return buf.Bytes(), nil
}

// WriteFiles writes the exceptions reports: exceptions.csv (csvData,
// rendered by renderExceptionsCSV) atomically — a reader never sees a
// half-written snapshot — and the XLSX and French CSV the options ask for,
// replaced in that order. xlsxData is the workbook when the caller
// rendered it (RenderWorkbook), nil to render it here: then beside the
// CSV's replacing (its fsyncs) and the French CSV's rendering, on another
// core; an error of the CSV still comes before the workbook's.
//
// items are the open items the candidates name (nil: shown by id only).
func WriteFiles(dir string, opts Options, exc []decide.StoredTx, csvData, xlsxData []byte, accountName func(string) string,
	items map[string]domain.OpenItem, setAside ...decide.StoredTx) error {
	type rendered struct {
		data []byte
		err  error
	}
	var book chan rendered
	if opts.XLSX && xlsxData == nil {
		book = make(chan rendered, 1)
		go func() {
			var r rendered
			r.data, r.err = RenderWorkbook(opts, exc, accountName, items, setAside...)
			book <- r
		}()
	}
	err := WriteFileAtomic(filepath.Join(dir, "exceptions.csv"), csvData)
	var french []byte
	var frenchErr error
	if err == nil && opts.FrenchCSV {
		french, frenchErr = renderExceptionsFrenchCSV(exc, items)
	}
	if book != nil {
		r := <-book
		if err == nil {
			xlsxData, err = r.data, r.err
		}
	}
	if err != nil {
		return err
	}
	if opts.XLSX {
		if err := WriteFileAtomic(filepath.Join(dir, "exceptions.xlsx"), xlsxData); err != nil {
			return err
		}
	}
	if opts.FrenchCSV {
		if frenchErr != nil {
			return frenchErr
		}
		if err := WriteFileAtomic(filepath.Join(dir, "exceptions-fr.csv"), french); err != nil {
			return err
		}
	}
	return nil
}

// WriteFileAtomic replaces path with data (through a temporary file, fsync
// and rename). Reports hold payers' names and IBANs: they are readable by
// the group, not by all.
func WriteFileAtomic(path string, data []byte) error {
	return durable.ReplaceFile(path, data, durable.FileMode)
}

// dateText is a date as the reports write it (2026-11-02), "" when unknown.
func dateText(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format("2006-01-02")
}
