package file

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/lettrage/lettrage/domain"
	"github.com/lettrage/lettrage/internal/textchunk"
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
	ColAsOf             = "as_of"
)

// OpenItemColumns lists every column of the open-items contract in the
// documented order. The required ones must be present in a file's header;
// the optional ones (payment_reference, customer_iban, as_of) may be
// missing unless the configuration names their header. Extra columns are
// ignored.
var OpenItemColumns = []string{
	ColID, ColCustomerID, ColCustomerName, ColDocumentNumber, ColIssueDate, ColDueDate,
	ColCurrency, ColAmount, ColResidual, ColPaymentReference, ColCustomerIBAN, ColAsOf,
}

// Sentinel errors wrapped in a RowError's Err.
var (
	// ErrMissingColumn: a contract column is absent from the header.
	ErrMissingColumn = errors.New("missing column")
	// ErrRequired: a required value is empty.
	ErrRequired = errors.New("value required")
	// ErrDuplicateID: two rows carry the same id.
	ErrDuplicateID = errors.New("duplicate id")
	// ErrBadDate: a date is not in the expected format (YYYY-MM-DD by
	// default), or not a real day.
	ErrBadDate = errors.New("not a valid date")
	// ErrBadCurrency: a currency is not three letters.
	ErrBadCurrency = errors.New("not a three-letter currency code")
	// ErrBadIBAN: an IBAN holds other characters than letters and digits.
	ErrBadIBAN = errors.New("not an IBAN")
	// ErrFieldCount: a row has more or fewer fields than the header.
	ErrFieldCount = errors.New("wrong number of fields")
	// ErrNUL: a value holds a NUL byte (a binary or damaged export).
	ErrNUL = errors.New("holds a NUL byte")
	// ErrImpossible: a row no ledger can hold: a residual above the
	// amount or of the other sign, an amount with more decimals than its
	// currency has.
	ErrImpossible = errors.New("impossible row")
	// ErrCheckDigits: an IBAN or an RF creditor reference whose check
	// digits do not verify (a warning: the value is not used).
	ErrCheckDigits = errors.New("check digits do not verify")
	// ErrNoHeader: the file is empty.
	ErrNoHeader = errors.New("no header row")
)

// RowError locates a problem in an open-items file. Line is 1-based (the
// header is line 1; in a workbook, the sheet's row number); Column is the
// contract column, "" when the problem is about the whole row.
type RowError struct {
	File string
	// Sheet is the worksheet of an XLSX file, "" for CSV.
	Sheet  string
	Line   int
	Column string
	// Header is the export's header for Column when a column mapping
	// gives it another name ("Solde" for residual), else "".
	Header string
	Err    error
}

func (e *RowError) Error() string {
	var b strings.Builder
	if e.Sheet != "" {
		fmt.Fprintf(&b, "%s: sheet %q row %d: ", e.File, e.Sheet, e.Line)
	} else {
		fmt.Fprintf(&b, "%s:%d: ", e.File, e.Line)
	}
	if e.Column != "" {
		fmt.Fprintf(&b, "column %q", e.Column)
		if e.Header != "" && normHeader(e.Header) != e.Column {
			fmt.Fprintf(&b, " (header %q)", e.Header)
		}
		b.WriteString(": ")
	}
	fmt.Fprintf(&b, "%v", e.Err)
	return b.String()
}

func (e *RowError) Unwrap() error { return e.Err }

// maxRowErrors bounds how many problems ReadOpenItems reports at once.
const maxRowErrors = 20

// bom is the UTF-8 byte order mark some spreadsheet exports start with.
var bom = []byte{0xEF, 0xBB, 0xBF}

// ReadOpenItems reads an open-items CSV export in the documented contract:
// UTF-8, comma separated, RFC 4180 quoting, a header row naming the columns
// in any order, '.' decimal point, YYYY-MM-DD dates. name is used in error
// messages.
//
// Every row is validated; on any problem it returns nil items and an error
// joining up to 20 *RowError values (errors.As finds the first). Items whose
// residual is zero are dropped after validation. Rows whose every field is
// empty are skipped.
func ReadOpenItems(r io.Reader, name string) ([]domain.OpenItem, error) {
	return items(contractLayout().readCSV(r, name))
}

// items is the open items of an export read without error.
func items(ex *export, err error) ([]domain.OpenItem, error) {
	if err != nil {
		return nil, err
	}
	return ex.items, nil
}

// ReadOpenItemsCSV reads an open-items CSV export laid out as cfg says
// (columns, delimiter, decimal comma, date format, encoding); cfg's paths
// are not used. Errors are as for ReadOpenItems; a bad layout is an error
// naming its YAML key.
func ReadOpenItemsCSV(r io.Reader, name string, cfg Config) ([]domain.OpenItem, error) {
	lay, err := cfg.layout()
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	return items(lay.readCSV(r, name))
}

func (lay *layout) readCSV(r io.Reader, name string) (*export, error) {
	br := bufio.NewReader(lay.decode(r))
	if head, err := br.Peek(len(bom)); err == nil && bytes.Equal(head, bom) {
		_, _ = br.Discard(len(bom))
	}
	cr := csv.NewReader(br)
	cr.Comma = lay.delimiter
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true

	header, err := cr.Read()
	if err == io.EOF {
		return nil, &RowError{File: name, Line: 1, Err: ErrNoHeader}
	}
	if err != nil {
		return nil, csvError(name, err)
	}
	idx, errs := lay.columnIndex(header, func(col string) *RowError {
		return &RowError{File: name, Line: 1, Column: col, Header: lay.display[col]}
	})
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	width := len(header)
	col := newCollector("line")
	var own owner
	memo := ibanMemo{}
	size := fileSize(r)
	for !col.full() {
		if len(col.items) == sizeHintRows && size > 0 {
			// The first rows tell the bytes per row: the items are
			// allocated once for the whole file instead of doubling. 12 %
			// more, as the first rows may be longer than the rest (7 % on
			// the benchmark's export), and below the eighth unused that
			// export would copy away.
			if off := cr.InputOffset(); off > 0 {
				col.expect(int(float64(size) / float64(off) * sizeHintRows * 1.12))
			}
		}
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			col.errs = append(col.errs, csvError(name, err))
			break // the reader cannot resynchronise after a quoting error
		}
		line, _ := cr.FieldPos(0)
		if blank(rec) {
			continue
		}
		if len(rec) != width {
			col.errs = append(col.errs, &RowError{File: name, Line: line,
				Err: fmt.Errorf("%w: want %d as in the header, got %d", ErrFieldCount, width, len(rec))})
			continue
		}
		at := func(c string) *RowError {
			l, _ := cr.FieldPos(idx[c])
			return &RowError{File: name, Line: l, Column: c, Header: lay.display[c]}
		}
		get := func(c string) cell {
			if i, ok := idx[c]; ok {
				return cell{v: rec[i]}
			}
			return cell{}
		}
		it, rowErrs := lay.parseRow(get, at, memo)
		own.detach(&it.item)
		col.add(it, rowErrs, line, at)
	}
	return col.export()
}

// owner gives the texts of an open item read from a CSV record their own
// memory. The reader makes one string of each line and the record's
// fields are views of it, so an item holding any of them keeps its whole
// line live, dates and amounts included, as long as the items are (the
// whole pass: 114 MB of 125 at 1,000,000 items). Each item's own numbers
// are copied into chunks shared by the items read after it (keep); the
// texts items share (customer, name, currency, IBANs) are copied once per
// reading and shared.
type owner struct {
	texts map[string]string
	chunk textchunk.Chunks
}

// shared returns s in memory of its own, the same for every equal s.
func (o *owner) shared(s string) string {
	if s == "" {
		return ""
	}
	if v, ok := o.texts[s]; ok {
		return v
	}
	s = strings.Clone(s)
	if o.texts == nil {
		o.texts = map[string]string{}
	}
	o.texts[s] = s
	return s
}

// keep returns s in memory of its own, copied into the current chunk
// (textchunk): three texts an item (id, number, reference) cost the
// allocator and the garbage collector one pointer-free object per 32 KiB
// of them rather than one object each. A chunk lives as long as any of
// its texts, that is as long as the items.
func (o *owner) keep(s string) string { return o.chunk.Keep(s) }

// detach copies the item's texts out of the line they were read from.
func (o *owner) detach(it *domain.OpenItem) {
	it.ID = o.keep(it.ID)
	it.DocumentNumber = o.keep(it.DocumentNumber)
	it.PaymentReference = o.keep(it.PaymentReference)
	it.CustomerID = o.shared(it.CustomerID)
	it.CustomerName = o.shared(it.CustomerName)
	it.Currency = o.shared(it.Currency)
	for i, iban := range it.IBANs {
		it.IBANs[i] = o.shared(iban)
	}
}

// columnIndex finds the contract columns in a header row. Columns the
// layout marks absent are left out of the index; at locates header errors.
// A header repeated in the row is an error only when it is one that is
// read.
func (lay *layout) columnIndex(header []string, at func(col string) *RowError) (map[string]int, []error) {
	byHeader := map[string]int{}
	dup := map[string]bool{}
	for i, h := range header {
		n := normHeader(h)
		if _, seen := byHeader[n]; seen {
			dup[n] = true
			continue
		}
		byHeader[n] = i
	}
	idx := map[string]int{}
	var errs []error
	for _, c := range OpenItemColumns {
		h := lay.headers[c]
		if h == "" {
			continue // absent by configuration
		}
		i, ok := byHeader[h]
		switch {
		case !ok && optionalColumns[c] && !lay.explicit[c]:
			// an optional column the export does not have
		case !ok:
			e := at(c)
			e.Err = ErrMissingColumn
			errs = append(errs, e)
		case dup[h]:
			e := at(c)
			e.Err = errors.New("column appears twice in the header")
			errs = append(errs, e)
		default:
			idx[c] = i
		}
	}
	return idx, errs
}

// collector gathers validated rows, checks ids are unique and bounds the
// problems reported.
type collector struct {
	unit  string // "line" (CSV) or "row" (worksheet), for messages
	items []domain.OpenItem
	// asOf is, per item id, the export's as_of for it (absent: none).
	asOf      map[string]time.Time
	errs      []error
	warnings  []string
	firstLine map[string]int
}

func newCollector(unit string) *collector {
	return &collector{unit: unit, firstLine: map[string]int{}, asOf: map[string]time.Time{}}
}

func (c *collector) full() bool { return len(c.errs) >= maxRowErrors }

// sizeHintRows is the number of rows after which readCSV estimates how
// many items the file holds from the bytes they took.
const sizeHintRows = 1024

// expect makes room for n items in all, when that is more than there is:
// one allocation for a whole file whose size is known (an estimate from
// its first rows; export copies the items to their size if it was far
// off, growing beyond it doubles as without it), and for their ids.
func (c *collector) expect(n int) {
	if n > cap(c.items) {
		c.items = slices.Grow(c.items, n-len(c.items))
	}
	if n > 2*len(c.firstLine) {
		// The ids seen, with room for them all: a map grown from empty
		// rehashes itself some twenty times on the way to 1,000,000.
		seen := make(map[string]int, n)
		maps.Copy(seen, c.firstLine)
		c.firstLine = seen
	}
}

// fileSize is the size of r when it is a file (0 otherwise, or when it
// cannot tell).
func fileSize(r io.Reader) int64 {
	f, ok := r.(interface{ Stat() (os.FileInfo, error) })
	if !ok {
		return 0
	}
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		return 0
	}
	return fi.Size()
}

func (c *collector) add(r parsedRow, rowErrs []error, line int, at func(col string) *RowError) {
	it := r.item
	if len(rowErrs) == 0 {
		if first, dup := c.firstLine[it.ID]; dup {
			e := at(ColID)
			e.Err = fmt.Errorf("%w %q (first on %s %d)", ErrDuplicateID, it.ID, c.unit, first)
			rowErrs = append(rowErrs, e)
		} else {
			c.firstLine[it.ID] = line
		}
	}
	c.errs = append(c.errs, rowErrs...)
	if len(c.errs) == 0 {
		if len(c.items) == cap(c.items) {
			// Doubled, not the quarter append grows a large slice by:
			// growing by a quarter allocates and copies five times the
			// final size of the items (hundreds of MB at 1,000,000).
			c.items = slices.Grow(c.items, max(len(c.items), 256))
		}
		c.items = append(c.items, it)
		if !r.asOf.IsZero() {
			c.asOf[it.ID] = r.asOf
		}
		for _, w := range r.warnings {
			c.warnings = append(c.warnings, w.Error())
		}
	}
}

// export is what an open-items file holds once validated.
type export struct {
	items []domain.OpenItem
	// asOf is, per item id, the export's as_of for it (absent: none).
	asOf map[string]time.Time
	// warnings are located problems that refuse nothing (a check digit
	// that does not verify: the value is not used).
	warnings []string
	// modified is when a workbook was last saved, by its own properties
	// (zero for CSV, or when the workbook does not say).
	modified time.Time
}

// export returns the items with a non-zero residual, or every problem.
// The items are filtered in place (the collector is not used afterwards),
// and copied once into a slice of their own size only when the collected
// one is more than an eighth unused.
func (c *collector) export() (*export, error) {
	if len(c.errs) > maxRowErrors {
		c.errs = c.errs[:maxRowErrors]
	}
	if len(c.errs) > 0 {
		return nil, errors.Join(c.errs...)
	}
	kept := c.items[:0]
	for i := range c.items {
		if !c.items[i].Residual.IsZero() {
			kept = append(kept, c.items[i])
		}
	}
	clear(c.items[len(kept):]) // what was dropped is not kept alive
	switch {
	case len(kept) == 0:
		kept = nil // as before: no items is a nil slice
	case cap(kept)-len(kept) > len(kept)/8:
		// The doubling (or the dropped items) left much unused: the items
		// are kept for the whole pass, so in a slice of their own size.
		kept = slices.Clone(kept)
	}
	ex := &export{items: kept, asOf: c.asOf, warnings: c.warnings}
	c.items, c.asOf = nil, nil
	return ex, nil
}

// result is export without the as_of and warnings.
func (c *collector) result() ([]domain.OpenItem, error) {
	ex, err := c.export()
	if err != nil {
		return nil, err
	}
	return ex.items, nil
}

// csvError turns an encoding/csv error into a located RowError.
func csvError(name string, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return &RowError{File: name, Line: pe.StartLine, Err: fmt.Errorf("reading CSV: %w", pe.Err)}
	}
	return fmt.Errorf("reading %s: %w", name, err)
}

// cellKind is how a value was stored: CSV values are all text; a
// workbook types its cells.
type cellKind uint8

const (
	cellText    cellKind = iota
	cellNumber           // the raw <v> of a numeric cell
	cellISODate          // a cell of type "d": ISO 8601 text
	cellBool             // "1" or "0"
	cellError            // an Excel error such as #N/A
)

// cell is one value of a row.
type cell struct {
	v    string
	kind cellKind
}

// parsedRow is one validated record.
type parsedRow struct {
	item domain.OpenItem
	asOf time.Time
	// warnings are located problems that refuse nothing.
	warnings []error
}

// parseRow validates one record; get returns a column's value (the zero
// cell for a column absent from the export) and at makes a RowError for a
// column, to which parseRow adds the cause. The steps run in the order of
// the columns' problems in the result: the texts, the currency, the
// amounts and their agreement, the dates, the IBANs, the creditor
// reference, as_of. memo (nil: none) remembers the IBAN cells read before.
func (lay *layout) parseRow(get func(col string) cell, at func(col string) *RowError, memo ibanMemo) (parsedRow, []error) {
	var out parsedRow
	var errs []error
	p := rowParser{lay: lay, get: get, at: at, errs: &errs, out: &out, memo: memo}
	it := &out.item
	p.texts()
	p.currency()
	amountOK := p.amount(ColAmount, &it.Amount)
	residualOK := p.amount(ColResidual, &it.Residual)
	if amountOK && residualOK {
		p.residualWithinAmount()
	}
	p.date(ColIssueDate, &it.IssueDate)
	p.date(ColDueDate, &it.DueDate)
	p.ibans()
	p.creditorReference()
	p.asOf()
	return out, errs
}

// rowParser is one record being parsed: where its values come from (get),
// how a problem is located (at), the problems found (*errs) and the row
// built so far (*out). Each step reads some columns and writes some fields
// of out.item; a value that fails leaves a located error in *errs.
//
// It is passed by value and holds the results behind pointers: through a
// pointer receiver, escape analysis (blind to fields) would move get and
// at, two closures per row, to the heap.
type rowParser struct {
	lay  *layout
	get  func(col string) cell
	at   func(col string) *RowError
	errs *[]error
	out  *parsedRow
	memo ibanMemo
}

// ibanMemo remembers, for a customer_iban cell already read, its IBANs
// when all were well formed and their check digits verified (a cell with
// a problem is parsed again, its warnings and errors located on its own
// row): the customers' IBANs repeat on each of their items (six items a
// customer in the benchmark's exports), and splitting, normalising and
// checking them was most of what a row cost after the amounts. Its keys
// and IBANs are in memory of their own.
type ibanMemo map[string][]string

// fail records err as a problem of col (appends to errs).
func (p rowParser) fail(col string, err error) {
	e := p.at(col)
	e.Err = err
	*p.errs = append(*p.errs, e)
}

// warn records err as a warning on col: a problem that refuses nothing
// (appends to out.warnings).
func (p rowParser) warn(col string, err error) {
	e := p.at(col)
	e.Err = err
	p.out.warnings = append(p.out.warnings, e)
}

// usable reads the cell of col, trimmed, or ok=false after reporting (in
// errs) a value that cannot be read at all: an Excel error, invalid UTF-8,
// a NUL byte.
func (p rowParser) usable(col string) (cell, bool) {
	c := p.get(col)
	switch {
	case c.kind == cellError:
		p.fail(col, fmt.Errorf("%w: the cell holds the error %s", ErrCell, c.v))
		return c, false
	case !utf8.ValidString(c.v):
		p.fail(col, ErrEncoding)
		return c, false
	case strings.ContainsRune(c.v, 0):
		p.fail(col, ErrNUL)
		return c, false
	}
	c.v = strings.TrimSpace(c.v)
	return c, true
}

// text reads col as text ("" when absent, empty or unusable); a numeric
// workbook cell is read as the text Excel shows.
func (p rowParser) text(col string) string {
	c, ok := p.usable(col)
	if !ok {
		return ""
	}
	if c.kind == cellNumber {
		return excelText(c.v)
	}
	return c.v
}

// required is text, and reports (in errs) a column left empty.
func (p rowParser) required(col string) string {
	c, ok := p.usable(col)
	if !ok {
		return ""
	}
	if c.v == "" {
		p.fail(col, ErrRequired)
		return ""
	}
	if c.kind == cellNumber {
		return excelText(c.v)
	}
	return c.v
}

// texts reads the id, customer id (both required), customer name,
// document number and payment reference into out.item.
func (p rowParser) texts() {
	it := &p.out.item
	it.ID = p.required(ColID)
	it.CustomerID = p.required(ColCustomerID)
	it.CustomerName = p.text(ColCustomerName)
	it.DocumentNumber = p.text(ColDocumentNumber)
	it.PaymentReference = p.text(ColPaymentReference)
}

// currency reads the required currency column into out.item.Currency, in
// upper case; a value that is not three letters is reported but kept.
func (p rowParser) currency() {
	ccy := p.required(ColCurrency)
	if ccy == "" {
		return
	}
	if !isCurrency(ccy) {
		p.fail(ColCurrency, fmt.Errorf("parsing currency %q: %w", ccy, ErrBadCurrency))
	}
	p.out.item.Currency = strings.ToUpper(ccy)
}

// amount reads the required amount column col into *dst (the zero amount
// when it cannot be parsed), checking it has no more decimals than
// out.item.Currency; it reports whether the value was read without
// problem.
func (p rowParser) amount(col string, dst *domain.Amount) bool {
	c, ok := p.usable(col)
	if !ok {
		return false
	}
	ccy := p.out.item.Currency
	var v domain.Amount
	var err error
	switch {
	case c.v == "":
		err = ErrRequired
	case c.kind == cellNumber:
		v, err = excelAmount(c.v, domain.CurrencyDigits(ccy))
	case c.kind == cellText:
		v, err = p.lay.parseAmount(c.v)
	default:
		err = fmt.Errorf("%w: a date or a boolean is not an amount", ErrCell)
	}
	if err != nil {
		p.fail(col, err)
	} else if digits := domain.CurrencyDigits(ccy); ccy != "" && !v.Round(digits).Equal(v) {
		err = fmt.Errorf("%w: %s has more decimals than %s has (%d)", ErrImpossible, v, ccy, digits)
		p.fail(col, err)
	}
	*dst = v
	return err == nil
}

// residualWithinAmount checks out.item's residual against its amount (both
// read): of the same sign, and not above it in absolute value.
func (p rowParser) residualWithinAmount() {
	it := &p.out.item
	switch {
	case it.Residual.Sign() != 0 && it.Amount.Sign() != it.Residual.Sign():
		p.fail(ColResidual, fmt.Errorf("%w: residual %s and amount %s have opposite signs (a credit note is negative in both)",
			ErrImpossible, it.Residual, it.Amount))
	case it.Residual.Abs().Cmp(it.Amount.Abs()) > 0:
		p.fail(ColResidual, fmt.Errorf("%w: residual %s is above the amount %s", ErrImpossible, it.Residual, it.Amount))
	}
}

// date reads the optional date column col into *dst (zero when empty or
// unparsable): a workbook serial number, an ISO 8601 date cell, or text in
// the layout's date format.
func (p rowParser) date(col string, dst *time.Time) {
	c, ok := p.usable(col)
	if !ok || c.v == "" {
		return
	}
	var v time.Time
	var err error
	switch c.kind {
	case cellNumber:
		v, err = p.lay.excelDate(c.v)
	case cellISODate:
		v, err = isoDate(c.v)
	case cellText:
		v, err = p.lay.parseDate(c.v)
	default:
		err = fmt.Errorf("%w: a boolean is not a date", ErrCell)
	}
	if err != nil {
		p.fail(col, err)
	}
	*dst = v
}

// ibans reads the customer IBAN column into out.item.IBANs. A check digit
// that does not verify refuses nothing: the IBAN is left out of the
// evidence, with a located warning.
func (p rowParser) ibans() {
	raw := p.text(ColCustomerIBAN)
	if raw == "" {
		return
	}
	if known, ok := p.memo[raw]; ok {
		p.out.item.IBANs = append(p.out.item.IBANs, known...)
		return
	}
	ibans, err := ParseIBANs(raw)
	if err != nil {
		p.fail(ColCustomerIBAN, err)
	}
	clean := err == nil
	for _, iban := range ibans {
		if ValidIBAN(iban) {
			p.out.item.IBANs = append(p.out.item.IBANs, iban)
		} else {
			clean = false
			p.warn(ColCustomerIBAN, fmt.Errorf("IBAN %s: %w: not used to recognise the payer", maskIBAN(iban), ErrCheckDigits))
		}
	}
	if clean && p.memo != nil {
		known := make([]string, len(ibans))
		for i, iban := range ibans {
			known[i] = strings.Clone(iban)
		}
		p.memo[strings.Clone(raw)] = known
	}
}

// creditorReference checks out.item.PaymentReference when it looks like
// an RF creditor reference: one whose check digits do not verify is
// cleared, with a located warning.
func (p rowParser) creditorReference() {
	if ref := p.out.item.PaymentReference; looksRF(ref) && !domain.ValidRF(ref) {
		p.warn(ColPaymentReference, fmt.Errorf("creditor reference %q: %w: not used as evidence", ref, ErrCheckDigits))
		p.out.item.PaymentReference = ""
	}
}

// asOf reads the optional as_of column into out.asOf.
func (p rowParser) asOf() {
	c, ok := p.usable(ColAsOf)
	if !ok || c.v == "" {
		return
	}
	t, err := p.lay.parseAsOf(c)
	if err != nil {
		p.fail(ColAsOf, err)
	}
	p.out.asOf = t
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

// ValidIBAN reports whether a normalised IBAN's check digits verify
// (ISO 13616: the country and check digits moved to the end, letters as
// 10–35, the number mod 97 is 1).
func ValidIBAN(s string) bool {
	if !isIBAN(s) {
		return false
	}
	r := 0
	for _, c := range []byte(s[4:] + s[:4]) {
		if c >= 'A' && c <= 'Z' {
			r = (r*100 + int(c-'A') + 10) % 97
		} else {
			r = (r*10 + int(c-'0')) % 97
		}
	}
	return r == 1
}

// looksRF reports a value written as an ISO 11649 creditor reference: RF
// and two digits.
func looksRF(s string) bool {
	c := strings.ToUpper(strings.ReplaceAll(s, " ", ""))
	return len(c) >= 4 && c[:2] == "RF" && c[2] >= '0' && c[2] <= '9' && c[3] >= '0' && c[3] <= '9'
}

// maskIBAN shows an IBAN's country and last four characters only: the
// warnings reach logs.
func maskIBAN(s string) string {
	if len(s) <= 8 {
		return s
	}
	return s[:4] + strings.Repeat("•", 4) + s[len(s)-4:]
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
