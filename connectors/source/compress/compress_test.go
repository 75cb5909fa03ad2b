package compress

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the .golden files")

// describe runs Expand and renders what fn saw, one line per member, or
// the error.
func describe(name string, r io.Reader, lim Limits) (string, error) {
	var sb strings.Builder
	err := Expand(name, r, lim, func(member string, r io.Reader) error {
		h := sha256.New()
		n, err := io.Copy(h, r)
		if err != nil {
			return fmt.Errorf("reading member %q: %w", member, err)
		}
		fmt.Fprintf(&sb, "%s\t%d\t%x\n", member, n, h.Sum(nil)[:8])
		return nil
	})
	return sb.String(), err
}

// TestGolden walks testdata/cases: each delivery has a .golden file with
// the members Expand yields, or the error it gives.
func TestGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/cases/*")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, file := range files {
		if strings.HasSuffix(file, ".golden") {
			continue
		}
		n++
		t.Run(filepath.Base(file), func(t *testing.T) {
			f, err := os.Open(file)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			got, err := describe(filepath.Base(file), f, Limits{})
			if err != nil {
				got = "error: " + err.Error() + "\n"
			}
			golden := file + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("reading golden (run with -update): %v", err)
			}
			if got != string(want) {
				t.Errorf("got:\n%s\nwant:\n%s", got, want)
			}
		})
	}
	if n < 8 {
		t.Fatalf("only %d cases found in testdata/cases", n)
	}
}

func gz(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

type member struct {
	name   string
	body   []byte
	stored bool
}

func zipOf(t testing.TB, members ...member) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	for _, m := range members {
		h := &zip.FileHeader{Name: m.name, Method: zip.Deflate}
		if m.stored {
			h.Method = zip.Store
		}
		f, err := w.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.Write(m.body); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// lieAboutSize rewrites the uncompressed size a zip declares for every
// member (local and central headers), as a bomb would.
func lieAboutSize(b []byte, size uint32) []byte {
	out := bytes.Clone(b)
	for i := 0; i+30 < len(out); i++ {
		switch {
		case bytes.Equal(out[i:i+4], []byte("PK\x01\x02")) && i+28 <= len(out):
			putLE32(out[i+24:], size)
		case bytes.Equal(out[i:i+4], []byte("PK\x03\x04")):
			putLE32(out[i+22:], size)
		}
	}
	return out
}

func putLE32(b []byte, v uint32) {
	b[0], b[1], b[2], b[3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
}

func TestExpand(t *testing.T) {
	zeros := bytes.Repeat([]byte{0}, 4<<20) // 4 MiB: compresses ~1000×
	text := []byte(strings.Repeat("<Ntry><Amt Ccy=\"EUR\">10.00</Amt></Ntry>\n", 1000))
	tests := []struct {
		name        string
		file        string
		data        []byte
		lim         Limits
		want        string // members, space separated
		errContains string
		errIs       error
	}{
		{name: "plain", file: "a.xml", data: text, want: "a.xml"},
		{name: "empty plain", file: "a.xml", data: nil, want: "a.xml"},
		{name: "gzip", file: "in/a.xml.gz", data: gz(t, text), want: "in/a.xml"},
		{name: "gzip without extension", file: "a.bin", data: gz(t, text), want: "a.bin"},
		{name: "zip in name order", file: "d.zip", data: zipOf(t, member{name: "z.xml", body: text}, member{name: "a.xml", body: text}, member{name: "m/", body: nil}), want: "a.xml z.xml"},
		{name: "empty zip", file: "d.zip", data: zipOf(t), want: ""},
		{name: "zip skips macos metadata", file: "d.zip", data: zipOf(t, member{name: "__MACOSX/._a.xml", body: []byte("x")}, member{name: "a.xml", body: text}), want: "a.xml"},
		{name: "plain over member limit", file: "a.xml", data: text, lim: Limits{MaxMemberBytes: 100}, errContains: "max_member_bytes 100", errIs: ErrLimit},
		{name: "gzip over member limit", file: "a.xml.gz", data: gz(t, text), lim: Limits{MaxMemberBytes: 1000}, errContains: "a.xml.gz!a.xml: decompression limit exceeded: max_member_bytes 1000", errIs: ErrLimit},
		{name: "gzip bomb by ratio", file: "a.xml.gz", data: gz(t, zeros), errContains: "max_ratio 200", errIs: ErrLimit},
		{name: "gzip ratio disabled", file: "a.xml.gz", data: gz(t, zeros), lim: Limits{MaxRatio: -1}, want: "a.xml"},
		{name: "zip bomb by declared ratio", file: "b.zip", data: zipOf(t, member{name: "a.xml", body: zeros}), errContains: "b.zip!a.xml: decompression limit exceeded: max_ratio", errIs: ErrLimit},
		{name: "zip bomb lying about its size", file: "b.zip", data: lieAboutSize(zipOf(t, member{name: "a.xml", body: zeros}), 100), errIs: ErrCorrupt},
		{name: "zip over total", file: "b.zip", data: zipOf(t, member{name: "a.xml", body: text}, member{name: "b.xml", body: text}), lim: Limits{MaxTotalBytes: int64(len(text)) + 10}, errContains: "max_total_bytes", errIs: ErrLimit},
		{name: "zip spool over total", file: "b.zip", data: zipOf(t, member{name: "a.xml", body: text, stored: true}), lim: Limits{MaxTotalBytes: 1000}, errContains: "b.zip: decompression limit exceeded: max_total_bytes 1000", errIs: ErrLimit},
		{name: "zip too many members", file: "b.zip", data: zipOf(t, member{name: "a", body: text}, member{name: "b", body: text}, member{name: "c", body: text}), lim: Limits{MaxMembers: 2}, errContains: "max_members 2", errIs: ErrLimit},
		{name: "zip member over limit by header", file: "b.zip", data: zipOf(t, member{name: "a.xml", body: text}), lim: Limits{MaxMemberBytes: 10}, errContains: "b.zip!a.xml: decompression limit exceeded: max_member_bytes 10", errIs: ErrLimit},
		{name: "named zip but plain", file: "b.zip", data: text, errContains: "named as zip but content is plain", errIs: ErrCorrupt},
		{name: "named gz but zip", file: "b.xml.gz", data: zipOf(t), errContains: "named as gzip but content is zip", errIs: ErrCorrupt},
		{name: "corrupt gzip body", file: "b.xml.gz", data: append(gz(t, text)[:40:40], bytes.Repeat([]byte{0xff}, 40)...), errIs: ErrCorrupt},
		{name: "zip central directory only", file: "b.zip", data: []byte("PK\x05\x06garbage"), errIs: ErrCorrupt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			err := Expand(tt.file, bytes.NewReader(tt.data), tt.lim, func(member string, r io.Reader) error {
				got = append(got, member)
				if _, err := io.Copy(io.Discard, r); err != nil {
					return fmt.Errorf("reading: %w", err)
				}
				return nil
			})
			if tt.errContains != "" || tt.errIs != nil {
				if err == nil {
					t.Fatalf("no error, members %v", got)
				}
				if !strings.Contains(err.Error(), tt.errContains) {
					t.Errorf("error %q does not contain %q", err, tt.errContains)
				}
				if tt.errIs != nil && !errors.Is(err, tt.errIs) {
					t.Errorf("error %q is not %v", err, tt.errIs)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if g := strings.Join(got, " "); g != tt.want {
				t.Errorf("members %q, want %q", g, tt.want)
			}
		})
	}
}

// TestGzipMembers: a gzip of several members (cat a.xml.gz b.xml.gz) is
// one statement file, the members' contents one after the other, read to
// the end; bytes after the last member are corruption, not silence; the
// member limit bounds the members together.
func TestGzipMembers(t *testing.T) {
	a, b := []byte("<Document>A</Document>\n"), []byte("<Document>B</Document>\n")
	two := append(gz(t, a), gz(t, b)...)
	read := func(data []byte, lim Limits) ([]byte, error) {
		var got []byte
		err := Expand("c.xml.gz", bytes.NewReader(data), lim, func(member string, r io.Reader) error {
			if member != "c.xml" {
				t.Errorf("member %q, want c.xml", member)
			}
			b, err := io.ReadAll(r)
			got = append(got, b...)
			return err
		})
		return got, err
	}
	got, err := read(two, Limits{})
	if err != nil || !bytes.Equal(got, append(bytes.Clone(a), b...)) {
		t.Fatalf("got %q, %v; want both members", got, err)
	}
	got, err = read(append(append(gz(t, a), gz(t, nil)...), gz(t, b)...), Limits{})
	if err != nil || !bytes.Equal(got, append(bytes.Clone(a), b...)) {
		t.Fatalf("with an empty member between: got %q, %v", got, err)
	}
	for name, tail := range map[string][]byte{
		"garbage after the last member":   []byte("not gzip at all, but long enough"),
		"zero padding":                    make([]byte, 512),
		"fewer than a header of zeros":    {0, 0, 0},
		"a truncated third member":        gz(t, a)[:15],
		"a third member with a bad check": append(gz(t, a)[:len(gz(t, a))-8], 1, 2, 3, 4, 5, 6, 7, 8),
	} {
		if _, err := read(append(bytes.Clone(two), tail...), Limits{}); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: err = %v, want ErrCorrupt", name, err)
		}
	}
	lim := Limits{MaxMemberBytes: int64(len(a)) + 5}
	if _, err := read(two, lim); !errors.Is(err, ErrLimit) || !strings.Contains(err.Error(), "max_member_bytes") {
		t.Errorf("members under the limit one by one but not together: err = %v, want max_member_bytes", err)
	}
}

// TestLimitSurvivesSwallowedError: fn ignoring the read error must not
// hide the bomb.
func TestLimitSurvivesSwallowedError(t *testing.T) {
	data := gz(t, bytes.Repeat([]byte("x"), 10000))
	err := Expand("a.gz", bytes.NewReader(data), Limits{MaxMemberBytes: 100}, func(_ string, r io.Reader) error {
		_, _ = io.Copy(io.Discard, r)
		return nil
	})
	var le *LimitError
	if !errors.As(err, &le) || le.Limit != "max_member_bytes" || le.Member != "a" {
		t.Fatalf("got %v, want a max_member_bytes LimitError for member a", err)
	}
}

// TestFnErrorReturned: an error of fn stops the expansion and comes back as is.
func TestFnErrorReturned(t *testing.T) {
	stop := errors.New("stop")
	calls := 0
	data := zipOf(t, member{name: "a", body: []byte("1")}, member{name: "b", body: []byte("2")})
	err := Expand("x.zip", bytes.NewReader(data), Limits{}, func(string, io.Reader) error {
		calls++
		return stop
	})
	if !errors.Is(err, stop) || calls != 1 {
		t.Fatalf("err %v after %d calls, want stop after 1", err, calls)
	}
}

// TestZipTempFileRemoved: the spool file does not outlive Expand.
func TestZipTempFileRemoved(t *testing.T) {
	dir := t.TempDir()
	data := zipOf(t, member{name: "a", body: []byte("1")})
	err := Expand("x.zip", bytes.NewReader(data), Limits{TempDir: dir}, func(string, io.Reader) error {
		ents, _ := os.ReadDir(dir)
		if len(ents) != 1 {
			return fmt.Errorf("want 1 spool file while expanding, got %d", len(ents))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Fatalf("%d files left in temp dir", len(ents))
	}
}

func TestSniff(t *testing.T) {
	for _, tt := range []struct {
		head string
		want Format
	}{
		{"\x1f\x8b\x08\x00", Gzip}, {"PK\x03\x04", Zip}, {"PK\x05\x06", Zip}, {"<?xm", Plain}, {"", Plain}, {"\x1f", Plain}, {"PK\x07\x08", Plain},
	} {
		if got := Sniff([]byte(tt.head)); got != tt.want {
			t.Errorf("Sniff(%q) = %v, want %v", tt.head, got, tt.want)
		}
	}
}

// FuzzExpand: never panics, never hands out more than the limits allow,
// and errors are either fn's, limits or corruption.
func FuzzExpand(f *testing.F) {
	text := []byte("<Document><Stmt><Ntry/></Stmt></Document>")
	f.Add("a.xml", text)
	f.Add("a.xml.gz", gz(f, text))
	f.Add("a.xml.gz", append(gz(f, text), gz(f, text)...))
	f.Add("a.xml.gz", append(append(gz(f, text), gz(f, nil)...), "trailing"...))
	f.Add("a.zip", zipOf(f, member{name: "b", body: text}, member{name: "a", body: text, stored: true}))
	f.Add("a.zip", lieAboutSize(zipOf(f, member{name: "a", body: bytes.Repeat([]byte{0}, 5000)}), 10))
	f.Add("x", []byte("PK\x05\x06"))
	f.Add("x.gz", []byte{0x1f, 0x8b})
	if files, err := filepath.Glob("testdata/cases/*"); err == nil {
		for _, file := range files {
			if b, err := os.ReadFile(file); err == nil && !strings.HasSuffix(file, ".golden") {
				f.Add(filepath.Base(file), b)
			}
		}
	}
	lim := Limits{MaxMemberBytes: 4096, MaxTotalBytes: 8192, MaxMembers: 5, MaxRatio: 50, TempDir: f.TempDir()}
	f.Fuzz(func(t *testing.T, name string, data []byte) {
		var total int64
		members := 0
		err := Expand(name, bytes.NewReader(data), lim, func(_ string, r io.Reader) error {
			members++
			n, err := io.Copy(io.Discard, r)
			total += n
			if n > lim.MaxMemberBytes {
				t.Fatalf("member of %d bytes passed the limit", n)
			}
			return err
		})
		if total > lim.MaxTotalBytes {
			t.Fatalf("%d bytes passed the total limit", total)
		}
		if members > lim.MaxMembers {
			t.Fatalf("%d members passed the limit", members)
		}
		if err != nil && !errors.Is(err, ErrLimit) && !errors.Is(err, ErrCorrupt) {
			t.Fatalf("unclassified error: %v", err)
		}
	})
}

func BenchmarkExpandGzip(b *testing.B) {
	var buf bytes.Buffer
	for i := range 100000 {
		fmt.Fprintf(&buf, "<Ntry><Amt Ccy=\"EUR\">%d.%02d</Amt><Ustrd>INV-2026-%06d</Ustrd></Ntry>\n", i*7%100000, i%100, i)
	}
	text := buf.Bytes()
	data := gz(b, text)
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		if err := Expand("a.xml.gz", bytes.NewReader(data), Limits{}, func(_ string, r io.Reader) error {
			_, err := io.Copy(io.Discard, r)
			return err
		}); err != nil {
			b.Fatal(err)
		}
	}
}
