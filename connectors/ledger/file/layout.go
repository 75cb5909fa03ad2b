package file

import (
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/shopspring/decimal"
	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	xunicode "golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"

	"github.com/lettrage/lettrage/domain"
)

// Columns maps each column of the open-items contract to the header the
// export uses for it (`residual: "Solde"`). An empty field keeps the
// contract name. "-" marks an optional column (payment_reference,
// customer_iban) as absent from the export. Headers are compared ignoring
// case, surrounding spaces and repeated or non-breaking spaces.
type Columns struct {
	ID               string `yaml:"id"`
	CustomerID       string `yaml:"customer_id"`
	CustomerName     string `yaml:"customer_name"`
	DocumentNumber   string `yaml:"document_number"`
	IssueDate        string `yaml:"issue_date"`
	DueDate          string `yaml:"due_date"`
	Currency         string `yaml:"currency"`
	Amount           string `yaml:"amount"`
	Residual         string `yaml:"residual"`
	PaymentReference string `yaml:"payment_reference"`
	CustomerIBAN     string `yaml:"customer_iban"`
	// AsOf is the export's timestamp column (optional): when the ERP
	// extracted the row, so the journal rows it already reflects are not
	// subtracted again (see the re-export rule).
	AsOf string `yaml:"as_of"`
}

// Absent is the Columns value that marks an optional column as missing
// from the export.
const Absent = "-"

// optionalColumns may be mapped to Absent, and may be missing from an
// export's header when the configuration does not name their header.
var optionalColumns = map[string]bool{ColPaymentReference: true, ColCustomerIBAN: true, ColAsOf: true}

// field returns a pointer to the mapping of contract column col.
func (c *Columns) field(col string) *string {
	switch col {
	case ColID:
		return &c.ID
	case ColCustomerID:
		return &c.CustomerID
	case ColCustomerName:
		return &c.CustomerName
	case ColDocumentNumber:
		return &c.DocumentNumber
	case ColIssueDate:
		return &c.IssueDate
	case ColDueDate:
		return &c.DueDate
	case ColCurrency:
		return &c.Currency
	case ColAmount:
		return &c.Amount
	case ColResidual:
		return &c.Residual
	case ColPaymentReference:
		return &c.PaymentReference
	case ColCustomerIBAN:
		return &c.CustomerIBAN
	case ColAsOf:
		return &c.AsOf
	}
	return nil
}

// Header returns the export's header for contract column col: the
// mapping when set, else col itself ("" for an unknown column).
func (c Columns) Header(col string) string {
	p := c.field(col)
	if p == nil {
		return ""
	}
	if h := strings.TrimSpace(*p); h != "" {
		return h
	}
	return col
}

// Format names.
const (
	FormatCSV  = "csv"
	FormatXLSX = "xlsx"
)

// Defaults of the layout keys.
const (
	DefaultDateFormat = time.DateOnly
	DefaultEncoding   = "utf-8"
)

// ErrEncoding: a CSV value is not valid UTF-8 (a legacy export read with
// the default encoding).
var ErrEncoding = errors.New("not valid UTF-8 (is the export windows-1252? set encoding)")

// ErrCell: an XLSX cell holds an Excel error (#N/A, #VALUE!…) or a value of
// a type the column cannot take (a boolean as an amount).
var ErrCell = errors.New("unusable cell")

// layout is how an export is written, compiled from a Config.
type layout struct {
	headers      map[string]string // contract column → normalised export header ("" when absent)
	explicit     map[string]bool   // the configuration names the column's header
	display      map[string]string // contract column → export header as configured
	delimiter    rune
	decimalComma bool
	dateFormat   string // Go layout
	encoding     encoding.Encoding
	date1904     bool // XLSX: the workbook counts days from 1904
}

// contractLayout is the documented CSV contract.
func contractLayout() *layout {
	lay, _ := Config{}.layout()
	return lay
}

// layout compiles the open-items layout keys of c; the error joins one
// error per problem, each starting with its YAML key.
func (c Config) layout() (*layout, error) {
	lay := &layout{
		headers:      map[string]string{},
		explicit:     map[string]bool{},
		display:      map[string]string{},
		delimiter:    ',',
		decimalComma: c.DecimalComma,
		dateFormat:   DefaultDateFormat,
		encoding:     encoding.Nop,
	}
	var errs []error
	owner := map[string]string{} // normalised header → contract column
	for _, col := range OpenItemColumns {
		h := c.Columns.Header(col)
		if h == Absent {
			if !optionalColumns[col] {
				errs = append(errs, fmt.Errorf("columns.%s: %q (absent) is only allowed for payment_reference, customer_iban and as_of", col, Absent))
			}
			lay.headers[col], lay.display[col] = "", ""
			continue
		}
		if p := c.Columns.field(col); p != nil && strings.TrimSpace(*p) != "" {
			lay.explicit[col] = true
		}
		n := normHeader(h)
		if other, dup := owner[n]; dup {
			errs = append(errs, fmt.Errorf("columns.%s: header %q is already the header of %s", col, h, other))
		}
		owner[n] = col
		lay.headers[col], lay.display[col] = n, h
	}
	switch strings.ToLower(c.Delimiter) {
	case "", ",":
	case ";":
		lay.delimiter = ';'
	case "tab", "\t":
		lay.delimiter = '\t'
	default:
		errs = append(errs, fmt.Errorf("delimiter: unknown delimiter %q (want \",\", \";\" or tab)", c.Delimiter))
	}
	if c.DateFormat != "" {
		f := goDateLayout(c.DateFormat)
		ref := time.Date(2031, 12, 25, 0, 0, 0, 0, time.UTC)
		if back, err := time.Parse(f, ref.Format(f)); err != nil || !back.Equal(ref) {
			errs = append(errs, fmt.Errorf("date_format: %q does not hold a day, a month and a year (want a Go layout such as 02/01/2006, or DD/MM/YYYY)", c.DateFormat))
		}
		lay.dateFormat = f
	}
	enc, err := lookupEncoding(c.Encoding)
	if err != nil {
		errs = append(errs, err)
	}
	lay.encoding = enc
	return lay, errors.Join(errs...)
}

// lookupEncoding maps an encoding key to its decoder.
func lookupEncoding(name string) (encoding.Encoding, error) {
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "", "utf-8", "utf8":
		return encoding.Nop, nil
	case "windows-1252", "cp1252":
		return charmap.Windows1252, nil
	case "iso-8859-1", "latin1", "latin-1":
		return charmap.ISO8859_1, nil
	case "iso-8859-15", "latin9", "latin-9":
		return charmap.ISO8859_15, nil
	case "utf-16":
		return xunicode.UTF16(xunicode.LittleEndian, xunicode.UseBOM), nil
	}
	return encoding.Nop, fmt.Errorf("encoding: unknown encoding %q (want utf-8, windows-1252, iso-8859-1, iso-8859-15 or utf-16)", name)
}

// decode wraps r with the layout's character decoding.
func (lay *layout) decode(r io.Reader) io.Reader {
	if lay.encoding == encoding.Nop {
		return r
	}
	return transform.NewReader(r, lay.encoding.NewDecoder())
}

// goDateLayout turns the human tokens YYYY, MM and DD into a Go layout;
// a Go layout passes unchanged.
func goDateLayout(s string) string {
	if !strings.Contains(s, "YYYY") && !strings.Contains(s, "DD") && !strings.Contains(s, "MM") {
		return s
	}
	return strings.NewReplacer("YYYY", "2006", "MM", "01", "DD", "02").Replace(s)
}

// humanDateLayout writes a Go date layout with YYYY, MM and DD, for
// messages read by accountants.
func humanDateLayout(s string) string {
	return strings.NewReplacer("2006", "YYYY", "01", "MM", "02", "DD").Replace(s)
}

// normHeader normalises a header for comparison: NFC, lower case, spaces
// (non-breaking ones included) trimmed and collapsed.
func normHeader(s string) string {
	s = strings.TrimPrefix(s, "\ufeff")
	return strings.ToLower(norm.NFC.String(strings.Join(strings.Fields(s), " ")))
}

// parseAmount parses an amount written as text in the export.
func (lay *layout) parseAmount(s string) (domain.Amount, error) {
	if !lay.decimalComma {
		return domain.ParseAmount(s)
	}
	return ParseDecimalComma(s)
}

// ParseDecimalComma parses an amount written with a decimal comma, as
// French exports do: "1 234,56", "-1.234,56", "1234,5", "12". Thousands
// separators — a space, a non-breaking or narrow non-breaking space, or a
// '.' — must separate groups of three digits, so that a '.' decimal point
// ("1.5") is an error rather than fifteen. Errors wrap
// domain.ErrBadAmount.
func ParseDecimalComma(s string) (domain.Amount, error) {
	bad := func() (domain.Amount, error) {
		return domain.Amount{}, fmt.Errorf("parsing amount %q: %w", s, domain.ErrBadAmount)
	}
	body := s
	sign := ""
	if body != "" && (body[0] == '-' || body[0] == '+') {
		sign, body = body[:1], body[1:]
	}
	intPart, frac, hasComma := strings.Cut(body, ",")
	if hasComma && (frac == "" || strings.ContainsFunc(frac, func(r rune) bool { return r < '0' || r > '9' })) {
		return bad()
	}
	var digits strings.Builder
	group, groups := 0, 0 // digits in the current group; completed groups
	var sep rune
	for _, r := range intPart {
		switch {
		case r >= '0' && r <= '9':
			digits.WriteRune(r)
			group++
		case r == ' ' || r == '\u00a0' || r == '\u202f' || r == '.':
			if sep != 0 && r != sep || group == 0 || groups > 0 && group != 3 || groups == 0 && group > 3 {
				return bad()
			}
			sep = r
			groups++
			group = 0
		default:
			return bad()
		}
	}
	if group == 0 && (groups > 0 || !hasComma) || groups > 0 && group != 3 {
		return bad()
	}
	num := sign + digits.String()
	if hasComma {
		num += "." + frac
	}
	a, err := domain.ParseAmount(num)
	if err != nil {
		return bad()
	}
	return a, nil
}

// parseDate parses a date written as text in the export.
func (lay *layout) parseDate(s string) (time.Time, error) {
	d, err := time.Parse(lay.dateFormat, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("parsing date %q: %w (want %s)", s, ErrBadDate, humanDateLayout(lay.dateFormat))
	}
	return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, time.UTC), nil
}

// excelSignificant is the precision Excel shows and computes with: digits
// beyond it in a stored number are binary floating-point noise.
const excelSignificant = 15

// excelDecimal parses the raw text of a numeric XLSX cell (its <v>, as
// written by the spreadsheet: "1234.5", "0.30000000000000004", "1E-3")
// exactly, without going through a float, and rounds it to the 15
// significant digits Excel itself keeps.
func excelDecimal(raw string) (decimal.Decimal, bool) {
	raw = strings.TrimSpace(raw)
	if raw == "" || len(raw) > 64 {
		return decimal.Decimal{}, false
	}
	mant, exp, hasExp := strings.Cut(strings.ToUpper(raw), "E")
	if hasExp {
		e, err := strconv.Atoi(exp)
		if err != nil || e < -400 || e > 400 {
			return decimal.Decimal{}, false
		}
	}
	if _, err := domain.ParseAmount(mant); err != nil {
		return decimal.Decimal{}, false
	}
	d, err := decimal.NewFromString(raw)
	if err != nil {
		return decimal.Decimal{}, false
	}
	if d.IsZero() {
		return decimal.Zero, true
	}
	n := int32(len(d.Coefficient().String()))
	if d.Sign() < 0 {
		n-- // the minus sign
	}
	if n > excelSignificant {
		d = d.Round(excelSignificant - (n + d.Exponent()))
	}
	return d, true
}

// excelAmount is the amount of a numeric XLSX cell: exact, rounded to
// Excel's 15 significant digits, and padded to at least the currency's
// minor-unit digits (1234.5 in EUR is 1234.50).
func excelAmount(raw string, digits int32) (domain.Amount, error) {
	d, ok := excelDecimal(raw)
	if !ok || d.Abs().GreaterThanOrEqual(decimal.New(1, 21)) {
		return domain.Amount{}, fmt.Errorf("parsing amount %q: %w", raw, domain.ErrBadAmount)
	}
	scale := int32(0)
	if s := d.String(); strings.Contains(s, ".") {
		scale = int32(len(s) - strings.IndexByte(s, '.') - 1)
	}
	if scale < digits {
		scale = digits
	}
	a, err := domain.ParseAmount(d.StringFixed(scale))
	if err != nil {
		return domain.Amount{}, fmt.Errorf("parsing amount %q: %w", raw, domain.ErrBadAmount)
	}
	return a, nil
}

// excelText is the text of a numeric XLSX cell in a text column (an id or
// a document number stored as a number): "1001", never "1.001E+3".
func excelText(raw string) string {
	d, ok := excelDecimal(raw)
	if !ok || d.Abs().GreaterThanOrEqual(decimal.New(1, 40)) {
		return strings.TrimSpace(raw)
	}
	return d.String()
}

// maxExcelSerial is 9999-12-31, the last day Excel knows.
const maxExcelSerial = 2958465

// excelDate is the date of a numeric XLSX cell (a date serial; a time of
// day is dropped).
func (lay *layout) excelDate(raw string) (time.Time, error) {
	f, err := strconv.ParseFloat(strings.TrimSpace(raw), 64)
	if err != nil || math.IsNaN(f) || f < 1 || f > maxExcelSerial {
		return time.Time{}, fmt.Errorf("parsing date serial %q: %w", raw, ErrBadDate)
	}
	if r := math.Round(f); math.Abs(f-r) < 1e-6 {
		f = r // 45999.99999999 from a formula is 46000
	}
	t, err := excelize.ExcelDateToTime(math.Floor(f), lay.date1904)
	if err != nil {
		return time.Time{}, fmt.Errorf("parsing date serial %q: %w", raw, ErrBadDate)
	}
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC), nil
}

// isoDate is the date of an XLSX cell of type "d" (an ISO 8601 text).
func isoDate(raw string) (time.Time, error) {
	s := strings.TrimSpace(raw)
	if len(s) >= 10 {
		if d, err := time.Parse(time.DateOnly, s[:10]); err == nil {
			return d, nil
		}
	}
	return time.Time{}, fmt.Errorf("parsing date %q: %w", raw, ErrBadDate)
}

// blank reports whether every value of a record is empty or spaces.
func blank(rec []string) bool {
	for _, v := range rec {
		if strings.TrimFunc(v, unicode.IsSpace) != "" {
			return false
		}
	}
	return true
}
