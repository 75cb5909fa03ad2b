package file

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode"

	"github.com/lettrage/lettrage/matcher"
)

// The columns of the open-items CSV contract, in any order in a file.
const (
	ColID               = "id"
	ColCustomerID       = "customer_id"
	ColCustomerName     = "customer_name"
	ColDocumentNumber   = "document_number"
	ColIssueDate        = "issue_date"
	ColDueDate          = "due_date"
	ColCurrency         = "currency"
	ColAmount           = "amount"
	ColResidual         = "residual"
	ColPaymentReference = "payment_reference"
	ColCustomerIBAN     = "customer_iban"
)

// OpenItemColumns lists every column of the open-items contract in the
// documented order; all must be present in a file's header (extra columns
// are ignored).
var OpenItemColumns = []string{
	ColID, ColCustomerID, ColCustomerName, ColDocumentNumber, ColIssueDate, ColDueDate,
	ColCurrency, ColAmount, ColResidual, ColPaymentReference, ColCustomerIBAN,
}

// Sentinel errors wrapped in a RowError's Err.
var (
	// ErrMissingColumn: a contract column is absent from the header.
	ErrMissingColumn = errors.New("missing column")
	// ErrRequired: a required value is empty.
	ErrRequired = errors.New("value required")
	// ErrDuplicateID: two rows carry the same id.
	ErrDuplicateID = errors.New("duplicate id")
	// ErrBadDate: a date is not YYYY-MM-DD.
	ErrBadDate = errors.New("not a YYYY-MM-DD date")
	// ErrBadCurrency: a currency is not three letters.
	ErrBadCurrency = errors.New("not a three-letter currency code")
	// ErrBadIBAN: an IBAN holds other characters than letters and digits.
	ErrBadIBAN = errors.New("not an IBAN")
	// ErrFieldCount: a row has more or fewer fields than the header.
	ErrFieldCount = errors.New("wrong number of fields")
	// ErrNoHeader: the file is empty.
	ErrNoHeader = errors.New("no header row")
)

// RowError locates a problem in an open-items file. Line is 1-based (the
// header is line 1); Column is the header name, "" when the problem is
// about the whole row.
type RowError struct {
	File   string
	Line   int
	Column string
	Err    error
}

func (e *RowError) Error() string {
	if e.Column == "" {
		return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err)
	}
	return fmt.Sprintf("%s:%d: column %q: %v", e.File, e.Line, e.Column, e.Err)
}

func (e *RowError) Unwrap() error { return e.Err }

// maxRowErrors bounds how many problems ReadOpenItems reports at once.
const maxRowErrors = 20

// bom is the UTF-8 byte order mark some spreadsheet exports start with.
var bom = []byte{0xEF, 0xBB, 0xBF}

// ReadOpenItems reads an open-items CSV export (the contract: UTF-8, comma
// separated, RFC 4180 quoting, a header row naming the columns in any order,
// '.' decimal point, YYYY-MM-DD dates). name is used in error messages.
//
// Every row is validated; on any problem it returns nil items and an error
// joining up to 20 *RowError values (errors.As finds the first). Items whose
// residual is zero are dropped after validation.
func ReadOpenItems(r io.Reader, name string) ([]matcher.OpenItem, error) {
	br := bufio.NewReader(r)
	if head, err := br.Peek(len(bom)); err == nil && bytes.Equal(head, bom) {
		_, _ = br.Discard(len(bom))
	}
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true

	header, err := cr.Read()
	if err == io.EOF {
		return nil, &RowError{File: name, Line: 1, Err: ErrNoHeader}
	}
	if err != nil {
		return nil, csvError(name, err)
	}
	idx := map[string]int{}
	var errs []error
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(h))
		if _, dup := idx[h]; dup && h != "" {
			errs = append(errs, &RowError{File: name, Line: 1, Column: h, Err: errors.New("column appears twice in the header")})
			continue
		}
		idx[h] = i
	}
	for _, c := range OpenItemColumns {
		if _, ok := idx[c]; !ok {
			errs = append(errs, &RowError{File: name, Line: 1, Column: c, Err: ErrMissingColumn})
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	width := len(header)

	var items []matcher.OpenItem
	firstLine := map[string]int{}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			errs = append(errs, csvError(name, err))
			break // the reader cannot resynchronise after a quoting error
		}
		line, _ := cr.FieldPos(0)
		if len(rec) != width {
			errs = append(errs, &RowError{File: name, Line: line,
				Err: fmt.Errorf("%w: want %d as in the header, got %d", ErrFieldCount, width, len(rec))})
		} else {
			it, rowErrs := parseRow(rec, idx, func(col string) *RowError {
				l, _ := cr.FieldPos(idx[col])
				return &RowError{File: name, Line: l, Column: col}
			})
			if len(rowErrs) == 0 {
				if first, dup := firstLine[it.ID]; dup {
					l, _ := cr.FieldPos(idx[ColID])
					rowErrs = append(rowErrs, &RowError{File: name, Line: l, Column: ColID,
						Err: fmt.Errorf("%w %q (first on line %d)", ErrDuplicateID, it.ID, first)})
				} else {
					firstLine[it.ID] = line
				}
			}
			errs = append(errs, rowErrs...)
			if len(errs) == 0 {
				items = append(items, it)
			}
		}
		if len(errs) >= maxRowErrors {
			break
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	kept := items[:0]
	for _, it := range items {
		if !it.Residual.IsZero() {
			kept = append(kept, it)
		}
	}
	return kept, nil
}

// csvError turns an encoding/csv error into a located RowError.
func csvError(name string, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return &RowError{File: name, Line: pe.StartLine, Err: fmt.Errorf("reading CSV: %w", pe.Err)}
	}
	return fmt.Errorf("reading %s: %w", name, err)
}

// parseRow validates one record; at makes a RowError for a column, to which
// parseRow adds the cause.
func parseRow(rec []string, idx map[string]int, at func(col string) *RowError) (matcher.OpenItem, []error) {
	var errs []error
	fail := func(col string, err error) {
		e := at(col)
		e.Err = err
		errs = append(errs, e)
	}
	get := func(col string) string { return strings.TrimSpace(rec[idx[col]]) }
	required := func(col string) string {
		v := get(col)
		if v == "" {
			fail(col, ErrRequired)
		}
		return v
	}
	it := matcher.OpenItem{
		ID:               required(ColID),
		CustomerID:       required(ColCustomerID),
		CustomerName:     get(ColCustomerName),
		DocumentNumber:   get(ColDocumentNumber),
		PaymentReference: get(ColPaymentReference),
	}
	if ccy := required(ColCurrency); ccy != "" {
		if !isCurrency(ccy) {
			fail(ColCurrency, fmt.Errorf("parsing currency %q: %w", ccy, ErrBadCurrency))
		}
		it.Currency = strings.ToUpper(ccy)
	}
	for _, c := range []struct {
		col string
		dst *matcher.Amount
	}{{ColAmount, &it.Amount}, {ColResidual, &it.Residual}} {
		if v := required(c.col); v != "" {
			a, err := matcher.ParseAmount(v)
			if err != nil {
				fail(c.col, err)
			}
			*c.dst = a
		}
	}
	for _, c := range []struct {
		col string
		dst *time.Time
	}{{ColIssueDate, &it.IssueDate}, {ColDueDate, &it.DueDate}} {
		if v := get(c.col); v != "" {
			d, err := time.Parse(time.DateOnly, v)
			if err != nil {
				fail(c.col, fmt.Errorf("parsing date %q: %w", v, ErrBadDate))
			}
			*c.dst = d
		}
	}
	ibans, err := ParseIBANs(get(ColCustomerIBAN))
	if err != nil {
		fail(ColCustomerIBAN, err)
	}
	it.IBANs = ibans
	return it, errs
}

func isCurrency(s string) bool {
	if len(s) != 3 {
		return false
	}
	for i := 0; i < 3; i++ {
		c := s[i] | 0x20 // ASCII lower case
		if c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}

// ParseIBANs splits a customer_iban value on '|' and normalises each IBAN
// (spaces removed, upper case). Empty parts are skipped; a part that is not
// two letters, two digits and letters or digits (5 to 34 in all) is an error
// wrapping ErrBadIBAN. The check digits are not verified: the value is
// compared with what the bank reports, not trusted.
func ParseIBANs(s string) ([]string, error) {
	var out []string
	for _, part := range strings.Split(s, "|") {
		iban := strings.ToUpper(strings.Map(func(r rune) rune {
			if unicode.IsSpace(r) {
				return -1
			}
			return r
		}, part))
		if iban == "" {
			continue
		}
		if !isIBAN(iban) {
			return nil, fmt.Errorf("parsing IBAN %q: %w", strings.TrimSpace(part), ErrBadIBAN)
		}
		out = append(out, iban)
	}
	return out, nil
}

func isIBAN(s string) bool {
	if len(s) < 5 || len(s) > 34 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		letter, digit := c >= 'A' && c <= 'Z', c >= '0' && c <= '9'
		switch {
		case i < 2 && !letter, i >= 2 && i < 4 && !digit, !letter && !digit:
			return false
		}
	}
	return true
}
