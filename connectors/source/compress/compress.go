// Package compress opens compressed statement deliveries transparently:
// a gzip file holds one statement file, a zip file holds several. A gzip
// of several members (cat a.xml.gz b.xml.gz) is read to its last member,
// as one statement file holding the members' contents one after the
// other (the camt reader then reads every document in it); bytes after
// the last member are ErrCorrupt. The format is recognised by its magic
// bytes; the extension is only checked for consistency. Every read is bounded by Limits so that a zip bomb is
// refused with a clear error instead of filling the disk or the memory.
package compress

import (
	"archive/zip"
	"bufio"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strings"
)

// Default limits, used for every Limits field left at zero.
const (
	DefaultMaxMemberBytes int64 = 1 << 30 // 1 GiB decompressed per statement
	DefaultMaxTotalBytes  int64 = 4 << 30 // 4 GiB decompressed per delivery
	DefaultMaxMembers           = 10000
	DefaultMaxRatio             = 200
)

// ratioFloor is the decompressed size below which the ratio limit is not
// applied: tiny highly compressible files are not bombs.
const ratioFloor = 1 << 20

// Limits bound what one delivery may expand to. A zero field takes its
// Default value; a negative field disables that limit.
type Limits struct {
	// MaxMemberBytes bounds the decompressed size of one statement file
	// (a zip member; a whole gzip, all its members together).
	MaxMemberBytes int64 `yaml:"max_member_bytes"`
	// MaxTotalBytes bounds the decompressed size of all statements of one
	// delivery together, and the size of a zip spooled to disk.
	MaxTotalBytes int64 `yaml:"max_total_bytes"`
	// MaxMembers bounds the number of statements in one zip.
	MaxMembers int `yaml:"max_members"`
	// MaxRatio bounds decompressed size / compressed size of a member
	// (checked once a member has produced more than 1 MiB).
	MaxRatio int64 `yaml:"max_ratio"`
	// TempDir is where zips are spooled for random access; empty means
	// os.TempDir().
	TempDir string `yaml:"temp_dir"`
}

func (l Limits) withDefaults() Limits {
	if l.MaxMemberBytes == 0 {
		l.MaxMemberBytes = DefaultMaxMemberBytes
	}
	if l.MaxTotalBytes == 0 {
		l.MaxTotalBytes = DefaultMaxTotalBytes
	}
	if l.MaxMembers == 0 {
		l.MaxMembers = DefaultMaxMembers
	}
	if l.MaxRatio == 0 {
		l.MaxRatio = DefaultMaxRatio
	}
	return l
}

// ErrLimit is wrapped by every error caused by a limit (see LimitError):
// the delivery should be quarantined, not retried.
var ErrLimit = errors.New("decompression limit exceeded")

// ErrCorrupt is wrapped when a delivery is not a readable gzip or zip,
// or when its extension promises a format its content is not.
var ErrCorrupt = errors.New("corrupt compressed delivery")

// LimitError says which limit a delivery broke, and where.
type LimitError struct {
	File   string // the delivery's name
	Member string // the statement inside it, empty for the delivery itself
	Limit  string // "max_member_bytes", "max_total_bytes", "max_members" or "max_ratio"
	Max    int64  // the configured limit
}

func (e *LimitError) Error() string {
	where := e.File
	if e.Member != "" {
		where += "!" + e.Member
	}
	return fmt.Sprintf("%s: %v: %s %d (possible zip bomb)", where, ErrLimit, e.Limit, e.Max)
}

// Unwrap makes errors.Is(err, ErrLimit) true.
func (e *LimitError) Unwrap() error { return ErrLimit }

// Format is what a delivery was recognised as.
type Format int

// The formats Expand recognises.
const (
	Plain Format = iota
	Gzip
	Zip
)

func (f Format) String() string {
	switch f {
	case Gzip:
		return "gzip"
	case Zip:
		return "zip"
	default:
		return "plain"
	}
}

// Sniff recognises a format by the first bytes of a file.
func Sniff(head []byte) Format {
	switch {
	case len(head) >= 2 && head[0] == 0x1f && head[1] == 0x8b:
		return Gzip
	case len(head) >= 4 && (bytes.Equal(head[:4], []byte("PK\x03\x04")) || bytes.Equal(head[:4], []byte("PK\x05\x06"))):
		return Zip
	default:
		return Plain
	}
}

// Expand calls fn once per statement in the delivery read from r: a plain
// file once with itself (member = name); a gzip file once, decompressed
// (member = the name without ".gz"; every gzip member, in order, the
// limits bounding them together as one statement file); a zip once per
// regular member in name
// order (member = the member's path; directories and macOS "__MACOSX/"
// metadata are skipped). Archives are not nested: a compressed member is
// passed on as it is.
//
// fn must not keep the reader after it returns. An error from fn stops the
// expansion and is returned as it is; a broken limit returns a
// *LimitError (wrapping ErrLimit) even when fn swallowed the read error.
func Expand(name string, r io.Reader, lim Limits, fn func(member string, r io.Reader) error) error {
	lim = lim.withDefaults()
	br := bufio.NewReader(r)
	head, err := br.Peek(4)
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("reading %q: %w", name, err)
	}
	format := Sniff(head)
	if want := extFormat(name); want != Plain && want != format {
		return fmt.Errorf("opening %q: named as %s but content is %s: %w", name, want, format, ErrCorrupt)
	}
	switch format {
	case Gzip:
		return expandGzip(name, br, lim, fn)
	case Zip:
		return expandZip(name, br, lim, fn)
	default:
		b := &budget{lim: lim, file: name}
		lr := &limitedReader{r: br, b: b, member: name, in: nil}
		if err := fn(name, lr); err != nil {
			return firstLimit(b, err)
		}
		return firstLimit(b, nil)
	}
}

// extFormat is the format a name's extension promises.
func extFormat(name string) Format {
	switch strings.ToLower(path.Ext(name)) {
	case ".gz", ".gzip":
		return Gzip
	case ".zip":
		return Zip
	}
	return Plain
}

// budget tracks the bytes produced across the members of one delivery.
type budget struct {
	lim   Limits
	file  string
	total int64
	err   *LimitError // the first limit broken
}

func (b *budget) fail(member, limit string, max int64) error {
	if b.err == nil {
		b.err = &LimitError{File: b.file, Member: member, Limit: limit, Max: max}
	}
	return b.err
}

// firstLimit prefers a broken limit over whatever fn made of it.
func firstLimit(b *budget, err error) error {
	if b.err != nil {
		return b.err
	}
	return err
}

// countingReader counts the compressed bytes consumed.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// limitedReader enforces the limits on one member's decompressed bytes.
type limitedReader struct {
	r          io.Reader
	b          *budget
	member     string
	n          int64
	in         func() int64 // compressed bytes so far; nil for plain files
	compressed int64        // known compressed size, when in is nil
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.b.err != nil {
		return 0, l.b.err
	}
	lim := l.b.lim
	// Never read more than one byte past a limit.
	if lim.MaxMemberBytes > 0 {
		if room := lim.MaxMemberBytes - l.n + 1; int64(len(p)) > room {
			p = p[:room]
		}
	}
	if lim.MaxTotalBytes > 0 {
		if room := lim.MaxTotalBytes - l.b.total + 1; int64(len(p)) > room {
			p = p[:room]
		}
	}
	n, err := l.r.Read(p)
	l.n += int64(n)
	l.b.total += int64(n)
	if lim.MaxMemberBytes > 0 && l.n > lim.MaxMemberBytes {
		return 0, l.b.fail(l.member, "max_member_bytes", lim.MaxMemberBytes)
	}
	if lim.MaxTotalBytes > 0 && l.b.total > lim.MaxTotalBytes {
		return 0, l.b.fail(l.member, "max_total_bytes", lim.MaxTotalBytes)
	}
	if lim.MaxRatio > 0 && l.n > ratioFloor {
		c := l.compressed
		if l.in != nil {
			c = l.in()
		}
		if l.in != nil || l.compressed > 0 {
			if c < 1 {
				c = 1
			}
			if l.n/c > lim.MaxRatio {
				return 0, l.b.fail(l.member, "max_ratio", lim.MaxRatio)
			}
		}
	}
	return n, err
}

func expandGzip(name string, r io.Reader, lim Limits, fn func(string, io.Reader) error) error {
	cr := &countingReader{r: r}
	zr, err := gzip.NewReader(cr)
	if err != nil {
		return fmt.Errorf("opening gzip %q: %w: %w", name, ErrCorrupt, err)
	}
	defer zr.Close()
	// Every member, one after the other (the default, relied upon: cat
	// a.gz b.gz is one delivery); what follows the last member is a header
	// error, reported as ErrCorrupt by gzipErrs.
	zr.Multistream(true)
	member := name
	if ext := path.Ext(name); strings.EqualFold(ext, ".gz") || strings.EqualFold(ext, ".gzip") {
		member = strings.TrimSuffix(name, ext)
	}
	b := &budget{lim: lim, file: name}
	lr := &limitedReader{r: &gzipErrs{r: zr, name: name}, b: b, member: member, in: func() int64 { return cr.n }}
	if err := fn(member, lr); err != nil {
		return firstLimit(b, err)
	}
	return firstLimit(b, nil)
}

// gzipErrs marks decompression errors as ErrCorrupt.
type gzipErrs struct {
	r    io.Reader
	name string
}

func (g *gzipErrs) Read(p []byte) (int, error) {
	n, err := g.r.Read(p)
	if err != nil && err != io.EOF {
		if errors.Is(err, gzip.ErrChecksum) || errors.Is(err, gzip.ErrHeader) || errors.Is(err, io.ErrUnexpectedEOF) || isFlateErr(err) {
			err = fmt.Errorf("decompressing %q: %w: %w", g.name, ErrCorrupt, err)
		}
	}
	return n, err
}

func isFlateErr(err error) bool {
	var ce flate.CorruptInputError
	var ie flate.InternalError
	return errors.As(err, &ce) || errors.As(err, &ie)
}

func expandZip(name string, br *bufio.Reader, lim Limits, fn func(string, io.Reader) error) error {
	f, err := os.CreateTemp(lim.TempDir, "lettrage-zip-*")
	if err != nil {
		return fmt.Errorf("spooling zip %q: %w", name, err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	src := io.Reader(br)
	if lim.MaxTotalBytes > 0 {
		src = io.LimitReader(br, lim.MaxTotalBytes+1)
	}
	size, err := io.Copy(f, src)
	if err != nil {
		return fmt.Errorf("spooling zip %q: %w", name, err)
	}
	if lim.MaxTotalBytes > 0 && size > lim.MaxTotalBytes {
		return &LimitError{File: name, Limit: "max_total_bytes", Max: lim.MaxTotalBytes}
	}
	zr, err := zip.NewReader(f, size)
	if err != nil {
		return fmt.Errorf("opening zip %q: %w: %w", name, ErrCorrupt, err)
	}
	var members []*zip.File
	for _, m := range zr.File {
		if !m.Mode().IsRegular() || strings.HasSuffix(m.Name, "/") || strings.HasPrefix(m.Name, "__MACOSX/") {
			continue
		}
		members = append(members, m)
	}
	if lim.MaxMembers > 0 && len(members) > lim.MaxMembers {
		return &LimitError{File: name, Limit: "max_members", Max: int64(lim.MaxMembers)}
	}
	sort.SliceStable(members, func(i, j int) bool { return members[i].Name < members[j].Name })
	b := &budget{lim: lim, file: name}
	var declared uint64
	for _, m := range members {
		// Refuse on the declared sizes first: cheap, and most bombs are honest.
		declared += m.UncompressedSize64
		switch {
		case lim.MaxMemberBytes > 0 && m.UncompressedSize64 > uint64(lim.MaxMemberBytes):
			return &LimitError{File: name, Member: m.Name, Limit: "max_member_bytes", Max: lim.MaxMemberBytes}
		case lim.MaxTotalBytes > 0 && declared > uint64(lim.MaxTotalBytes):
			return &LimitError{File: name, Member: m.Name, Limit: "max_total_bytes", Max: lim.MaxTotalBytes}
		case lim.MaxRatio > 0 && m.UncompressedSize64 > ratioFloor &&
			m.UncompressedSize64/max(m.CompressedSize64, 1) > uint64(lim.MaxRatio):
			return &LimitError{File: name, Member: m.Name, Limit: "max_ratio", Max: lim.MaxRatio}
		}
	}
	for _, m := range members {
		if err := expandMember(name, m, b, fn); err != nil {
			return err
		}
	}
	return nil
}

func expandMember(name string, m *zip.File, b *budget, fn func(string, io.Reader) error) error {
	rc, err := m.Open()
	if err != nil {
		return fmt.Errorf("opening %q in zip %q: %w: %w", m.Name, name, ErrCorrupt, err)
	}
	defer rc.Close()
	lr := &limitedReader{r: &zipErrs{r: rc, name: name, member: m.Name}, b: b, member: m.Name, compressed: int64(min(m.CompressedSize64, 1<<62))}
	if err := fn(m.Name, lr); err != nil {
		return firstLimit(b, err)
	}
	return firstLimit(b, nil)
}

// zipErrs marks member read errors as ErrCorrupt.
type zipErrs struct {
	r            io.Reader
	name, member string
}

func (z *zipErrs) Read(p []byte) (int, error) {
	n, err := z.r.Read(p)
	if err != nil && err != io.EOF {
		err = fmt.Errorf("decompressing %q in zip %q: %w: %w", z.member, z.name, ErrCorrupt, err)
	}
	return n, err
}
