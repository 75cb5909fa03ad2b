package pipeline

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"github.com/lettrage/lettrage/internal/durable"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/lettrage/lettrage/matcher"
)

// ExceptionsHeader is the header of exceptions.csv: the contract columns
// (docs/FORMATS.md) followed by Lettrage's additions.
var ExceptionsHeader = []string{
	"tx_ref", "account_iban", "booking_date", "amount", "currency", "counterparty_name",
	"counterparty_iban", "remittance", "reason", "candidates",
	"unallocated_amount", "outcome", "explanation",
}

// ExceptionRow renders one stored transaction as an exceptions.csv row.
func ExceptionRow(st StoredTx) []string {
	tx, d := st.Tx, st.Decision
	var cands []string
	for _, c := range d.Candidates {
		cands = append(cands, c.ItemID+":"+strconv.FormatFloat(c.Score, 'f', 2, 64))
	}
	reason := d.Reason
	if reason == "" && d.Outcome == matcher.Auto {
		reason = "overpayment"
	}
	return []string{
		tx.Ref, tx.Account, dateText(tx.BookingDate), tx.Amount.String(), tx.Currency,
		tx.Counterparty.Name, tx.Counterparty.IBAN, Remittance(tx), reason, strings.Join(cands, ";"),
		unallocated(st).String(), string(d.Outcome), d.Explanation,
	}
}

// Remittance joins what the payer wrote: structured references, referred
// document numbers and the unstructured lines, with " | ".
func Remittance(tx matcher.Transaction) string {
	var parts []string
	for _, r := range tx.Structured {
		parts = append(parts, r.Value)
	}
	parts = append(parts, tx.Documents...)
	parts = append(parts, tx.Unstructured...)
	return strings.Join(parts, " | ")
}

// writeExceptionsCSV rewrites dir/exceptions.csv atomically (a reader never
// sees a half-written snapshot).
func writeExceptionsCSV(dir string, exc []StoredTx) error {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	_ = w.Write(ExceptionsHeader)
	for _, st := range exc {
		_ = w.Write(ExceptionRow(st))
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return fmt.Errorf("rendering exceptions: %w", err)
	}
	return WriteFileAtomic(filepath.Join(dir, "exceptions.csv"), buf.Bytes())
}

// WriteFileAtomic replaces path with data (through a temporary file, fsync
// and rename). Reports hold payers' names and IBANs: they are readable by
// the group, not by all.
func WriteFileAtomic(path string, data []byte) error {
	return durable.ReplaceFile(path, data, 0o640)
}
