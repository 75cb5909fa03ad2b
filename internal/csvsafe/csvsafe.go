// Package csvsafe neutralises the text cells of the CSV files Lettrage
// writes, so that a spreadsheet opening them never runs a formula that a
// payer slipped into a name or a remittance (CSV or formula injection,
// OWASP), and never lets a bidirectional control character reorder what
// an accountant reads.
//
// The escape (docs/FORMATS.md, "Text cells"):
//
//   - a text cell whose first character is '=', '+', '-', '@', a tab or a
//     carriage return — or whose first character after leading spaces is
//     one of '=', '+', '-', '@' — gets a single quote (') put before it;
//   - a text cell that already starts with a single quote gets one more, so
//     that the escape can be undone without guessing;
//   - bidirectional control characters (U+061C, U+200E, U+200F, U+202A to
//     U+202E, U+2066 to U+2069) are shown as "<U+202E>" instead of being
//     written raw.
//
// Amounts and dates are never text cells: a credit note's -240.00 stays a
// number. Unescape reverses the escape: it removes one leading single
// quote and turns the "<U+…>" forms of the bidirectional controls back
// into the characters.
package csvsafe

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// triggers are the characters a spreadsheet reads as the start of a
// formula (OWASP CSV injection).
func trigger(c byte) bool {
	switch c {
	case '=', '+', '-', '@', '\t', '\r':
		return true
	}
	return false
}

// bidi reports a bidirectional formatting character.
func bidi(r rune) bool {
	switch {
	case r == 0x061C, r == 0x200E, r == 0x200F:
		return true
	case r >= 0x202A && r <= 0x202E:
		return true
	case r >= 0x2066 && r <= 0x2069:
		return true
	}
	return false
}

// ShowBidi replaces every bidirectional control character of s by its
// visible form "<U+202E>".
func ShowBidi(s string) string {
	if !strings.ContainsFunc(s, bidi) {
		return s
	}
	var b strings.Builder
	for len(s) > 0 {
		r, n := utf8.DecodeRuneInString(s)
		if bidi(r) {
			fmt.Fprintf(&b, "<U+%04X>", r)
		} else {
			b.WriteString(s[:n]) // bytes as they are, valid UTF-8 or not
		}
		s = s[n:]
	}
	return b.String()
}

// needsQuote reports whether a text cell must get the leading quote.
func needsQuote(s string) bool {
	if s == "" {
		return false
	}
	if s[0] == '\'' || trigger(s[0]) {
		return true
	}
	t := strings.TrimLeft(s, " \u00a0")
	return t != s && t != "" && trigger(t[0])
}

// Text neutralises one text cell (see the package documentation).
func Text(s string) string {
	s = ShowBidi(s)
	if needsQuote(s) {
		return "'" + s
	}
	return s
}

// Unescape reverses Text: one leading single quote is removed and the
// visible forms of bidirectional controls become the characters again.
func Unescape(s string) string {
	return UnshowBidi(strings.TrimPrefix(s, "'"))
}

// UnshowBidi reverses ShowBidi: the visible forms "<U+202E>" of the
// bidirectional controls become the characters again (other text in
// angle brackets is left alone).
func UnshowBidi(s string) string {
	if !strings.Contains(s, "<U+") {
		return s
	}
	var b strings.Builder
	for {
		i := strings.Index(s, "<U+")
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i])
		rest := s[i:]
		var r rune
		if end := strings.IndexByte(rest, '>'); end > 3 && end <= 8 {
			if _, err := fmt.Sscanf(rest[3:end], "%X", &r); err == nil && bidi(r) && fmt.Sprintf("<U+%04X>", r) == rest[:end+1] {
				b.WriteRune(r)
				s = rest[end+1:]
				continue
			}
		}
		b.WriteString("<U+")
		s = rest[3:]
	}
}

// Row neutralises the cells of row in place, except those whose index
// numeric reports (amounts, dates, counts), and returns it.
func Row(row []string, numeric func(i int) bool) []string {
	for i, v := range row {
		if numeric != nil && numeric(i) {
			continue
		}
		row[i] = Text(v)
	}
	return row
}

// Columns returns a numeric predicate for Row from the positions of the
// columns of header that are not text.
func Columns(header []string, notText ...string) func(int) bool {
	set := map[string]bool{}
	for _, n := range notText {
		set[n] = true
	}
	idx := make([]bool, len(header))
	for i, h := range header {
		idx[i] = set[h]
	}
	return func(i int) bool { return i >= 0 && i < len(idx) && idx[i] }
}

// AppendRow appends to dst the CSV record (comma-separated, ending in a
// newline) that encoding/csv's Writer, with its defaults, writes for
// Row(row, numeric), without changing row nor building the neutralised
// copy of each cell: the writers of large files format every record into
// one buffer.
func AppendRow(dst []byte, row []string, numeric func(i int) bool) []byte {
	for i, v := range row {
		if i > 0 {
			dst = append(dst, ',')
		}
		if numeric == nil || !numeric(i) {
			v = ShowBidi(v)
			if needsQuote(v) {
				// "'"+v: it no longer starts with a space, so
				// encoding/csv quotes it when v holds a special character
				if csvSpecial(v) {
					dst = append(dst, '"', '\'')
					dst = appendQuotedBody(dst, v)
					dst = append(dst, '"')
				} else {
					dst = append(dst, '\'')
					dst = append(dst, v...)
				}
				continue
			}
		}
		if v == `\.` || v != "" && (csvSpecial(v) || leadingSpace(v)) {
			dst = append(dst, '"')
			dst = appendQuotedBody(dst, v)
			dst = append(dst, '"')
			continue
		}
		dst = append(dst, v...)
	}
	return append(dst, '\n')
}

// csvSpecial reports whether s holds a comma, a double quote, a carriage
// return or a line feed: a cell encoding/csv quotes.
func csvSpecial(s string) bool {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ',', '"', '\r', '\n':
			return true
		}
	}
	return false
}

// leadingSpace reports whether s starts with a Unicode space: a cell
// encoding/csv quotes.
func leadingSpace(s string) bool {
	if s[0] < utf8.RuneSelf {
		switch s[0] {
		case ' ', '\t', '\n', '\v', '\f', '\r':
			return true
		}
		return false
	}
	r, _ := utf8.DecodeRuneInString(s)
	return unicode.IsSpace(r)
}

// appendQuotedBody appends s with its double quotes doubled, as
// encoding/csv writes a quoted cell (without CRLF line ends).
func appendQuotedBody(dst []byte, s string) []byte {
	for {
		i := strings.IndexByte(s, '"')
		if i < 0 {
			return append(dst, s...)
		}
		dst = append(dst, s[:i+1]...)
		dst = append(dst, '"')
		s = s[i+1:]
	}
}
