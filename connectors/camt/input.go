package camt

import (
	"bytes"
	"fmt"
	"io"
)

// input is the io.ByteReader handed to encoding/xml. Because it is a
// ByteReader the decoder does not buffer on its own, so the bytes it hands
// out are exactly the bytes the decoder consumed. On the way it:
//   - counts bytes;
//   - enforces a byte budget (limit), re-armed by the parser before each
//     token, element decode or skip, so no single token, entry or skipped
//     element can exceed Limits.MaxEntryBytes;
//   - tracks element nesting with a tiny lexer and fails as soon as it
//     exceeds Limits.MaxDepth, before encoding/xml builds its stack;
//   - optionally captures the bytes (for XPath extras on one entry).
type input struct {
	r    io.Reader
	buf  []byte
	pos  int
	end  int
	rerr error

	n     int64 // bytes handed out
	limit int64 // error once n would exceed limit
	// budget is the size of the current budget, for the error message.
	budget int64

	maxDepth int
	depth    int
	st       lexState
	prev     byte // previous byte inside a tag, comment or PI
	prev2    byte
	quote    byte
	dirNest  int // '<' nesting inside a <!DOCTYPE …> directive

	capture bool
	capBuf  []byte

	// name is the raw name (with prefix) of the last start tag lexed and
	// selfClose whether it was <name/>; used by the fast entry path.
	name      []byte
	naming    bool
	selfClose bool
	// inject holds bytes handed to the decoder before any input byte,
	// neither counted nor lexed (the end tag of an entry the fast path
	// consumed).
	inject []byte
}

type lexState uint8

const (
	lxText      lexState = iota
	lxLT                 // just after '<'
	lxStart              // inside a start tag
	lxQuote              // inside a quoted attribute value
	lxEnd                // inside an end tag
	lxBang               // just after "<!"
	lxComment            // inside <!-- -->
	lxCDATA              // inside <![CDATA[ ]]>
	lxDirective          // inside <!DOCTYPE …>
	lxPI                 // inside <? ?>
)

const noLimit = int64(1<<63 - 1)

func newInput(r io.Reader, maxDepth int) *input {
	return &input{r: r, buf: make([]byte, 64<<10), limit: noLimit, maxDepth: maxDepth}
}

// arm sets a fresh budget of max bytes from the current position.
func (in *input) arm(max int64) {
	in.budget = max
	if max <= 0 || in.n > noLimit-max {
		in.limit = noLimit
		return
	}
	in.limit = in.n + max
}

// readError is a failure of the caller's reader (not of the document),
// passed through unclassified.
type readError struct{ err error }

func (e *readError) Error() string { return "reading input: " + e.err.Error() }
func (e *readError) Unwrap() error { return e.err }

func wrapRead(err error) error {
	if err == nil || err == io.EOF {
		return err
	}
	return &readError{err: err}
}

func (in *input) fill() error {
	if in.rerr != nil {
		return in.rerr
	}
	for {
		m, err := in.r.Read(in.buf)
		in.pos, in.end = 0, m
		if err != nil {
			in.rerr = wrapRead(err)
		}
		if m > 0 {
			return nil
		}
		if err != nil {
			return in.rerr
		}
	}
}

// peek returns up to n buffered bytes without consuming them.
func (in *input) peek(n int) []byte {
	if in.end-in.pos < n && in.rerr == nil {
		// Move what is left to the front and read more.
		copy(in.buf, in.buf[in.pos:in.end])
		in.end -= in.pos
		in.pos = 0
		for in.end < n && in.rerr == nil {
			m, err := in.r.Read(in.buf[in.end:])
			in.end += m
			if err != nil {
				in.rerr = wrapRead(err)
			}
		}
	}
	if in.end-in.pos < n {
		n = in.end - in.pos
	}
	return in.buf[in.pos : in.pos+n]
}

// discard drops n buffered bytes (a BOM) without lexing them.
func (in *input) discard(n int) { in.pos += n; in.n += int64(n) }

// ReadByte implements io.ByteReader.
func (in *input) ReadByte() (byte, error) {
	if len(in.inject) > 0 {
		c := in.inject[0]
		in.inject = in.inject[1:]
		return c, nil
	}
	if in.pos >= in.end {
		if err := in.fill(); err != nil {
			return 0, err
		}
	}
	if in.n >= in.limit {
		return 0, fmt.Errorf("%w: element or entry larger than %d bytes", ErrLimit, in.budget)
	}
	c := in.buf[in.pos]
	in.pos++
	in.n++
	if err := in.lex(c); err != nil {
		return 0, err
	}
	if in.capture {
		in.capBuf = append(in.capBuf, c)
	}
	return c, nil
}

// Read implements io.Reader (used when a charset decoder wraps the input);
// bytes read this way are counted but not lexed: the charset-decoded input
// that encoding/xml then reads is lexed instead.
func (in *input) Read(p []byte) (int, error) {
	if in.pos >= in.end {
		if err := in.fill(); err != nil {
			return 0, err
		}
	}
	m := copy(p, in.buf[in.pos:in.end])
	in.pos += m
	in.n += int64(m)
	return m, nil
}

// lex follows element nesting. It is not a validator: encoding/xml is; it
// only has to count depth correctly on well-formed input and never
// undercount on malformed input before encoding/xml rejects it.
func (in *input) lex(c byte) error {
	switch in.st {
	case lxText:
		if c == '<' {
			in.st = lxLT
		}
	case lxLT:
		switch c {
		case '/':
			in.st = lxEnd
		case '!':
			in.st = lxBang
		case '?':
			in.st = lxPI
			in.prev = 0
		default:
			in.depth++
			if in.depth > in.maxDepth {
				return fmt.Errorf("%w: elements nested deeper than %d", ErrLimit, in.maxDepth)
			}
			in.st = lxStart
			in.prev = c
			in.name = append(in.name[:0], c)
			in.naming = true
		}
	case lxStart:
		if in.naming {
			if c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '>' || c == '/' {
				in.naming = false
			} else {
				in.name = append(in.name, c)
			}
		}
		switch c {
		case '"', '\'':
			in.quote = c
			in.st = lxQuote
		case '>':
			in.selfClose = in.prev == '/'
			if in.selfClose {
				in.depth--
			}
			in.st = lxText
		}
		in.prev = c
	case lxQuote:
		if c == in.quote {
			in.st = lxStart
			in.prev = c
		}
	case lxEnd:
		if c == '>' {
			in.depth--
			in.st = lxText
		}
	case lxBang:
		switch c {
		case '-':
			in.st = lxComment
			in.prev, in.prev2 = 0, 0
		case '[':
			in.st = lxCDATA
			in.prev, in.prev2 = 0, 0
		default:
			in.st = lxDirective
			in.dirNest = 0
		}
	case lxComment:
		if c == '>' && in.prev == '-' && in.prev2 == '-' {
			in.st = lxText
		}
		in.prev2, in.prev = in.prev, c
	case lxCDATA:
		if c == '>' && in.prev == ']' && in.prev2 == ']' {
			in.st = lxText
		}
		in.prev2, in.prev = in.prev, c
	case lxDirective:
		switch c {
		case '<':
			in.dirNest++
		case '>':
			if in.dirNest == 0 {
				in.st = lxText
			} else {
				in.dirNest--
			}
		}
	case lxPI:
		if c == '>' && in.prev == '?' {
			in.st = lxText
		}
		in.prev = c
	}
	return nil
}

// scanBody consumes the rest of the element whose start tag was just
// lexed, through its end tag, appending the bytes to dst. It applies the
// same byte budget and depth limit as ReadByte (the common states of the
// lexer are inlined here; the others go through lex).
func (in *input) scanBody(dst []byte) ([]byte, error) {
	d0 := in.depth
	limitErr := func() error {
		return fmt.Errorf("%w: element or entry larger than %d bytes", ErrLimit, in.budget)
	}
	for {
		if in.pos >= in.end {
			if err := in.fill(); err != nil {
				return dst, err
			}
		}
		// Process the buffered bytes, at most up to the budget.
		end := in.end
		if allowed := in.limit - in.n; int64(end-in.pos) > allowed {
			end = in.pos + int(allowed)
		}
		buf := in.buf[:end]
		i := in.pos
		done := false
		var err error
	scan:
		for i < end {
			switch in.st {
			case lxText:
				j := bytes.IndexByte(buf[i:], '<')
				if j < 0 {
					i = end
					break scan
				}
				i += j + 1
				in.st = lxLT
			case lxStart:
				for i < end {
					c := buf[i]
					i++
					if c == '"' || c == '\'' {
						in.quote = c
						in.st = lxQuote
						break
					}
					if c == '>' {
						if in.prev == '/' {
							in.depth--
						}
						in.st = lxText
						break
					}
					in.prev = c
				}
			case lxQuote:
				j := bytes.IndexByte(buf[i:], in.quote)
				if j < 0 {
					i = end
					break scan
				}
				i += j + 1
				in.st = lxStart
				in.prev = in.quote
			case lxEnd:
				j := bytes.IndexByte(buf[i:], '>')
				if j < 0 {
					i = end
					break scan
				}
				i += j + 1
				in.depth--
				in.st = lxText
				if in.depth < d0 {
					done = true
					break scan
				}
			default:
				c := buf[i]
				i++
				if err = in.lex(c); err != nil {
					i-- // as with ReadByte, the failing byte is not handed out
					break scan
				}
			}
		}
		dst = append(dst, buf[in.pos:i]...)
		in.n += int64(i - in.pos)
		in.pos = i
		if err != nil {
			return dst, err
		}
		if done {
			return dst, nil
		}
		if end < in.end || in.n >= in.limit && in.pos < in.end {
			return dst, limitErr()
		}
	}
}
