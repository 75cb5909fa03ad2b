package s3

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/lettrage/lettrage/connectors"
	"github.com/lettrage/lettrage/internal/testenv"
)

// One gateway for the package; each test uses its own bucket.
var (
	gw    *testenv.S3
	gwErr error
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "lettrage-s3-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	gw, gwErr = testenv.NewS3(dir)
	code := m.Run()
	if gw != nil {
		gw.Stop()
	}
	os.RemoveAll(dir)
	os.Exit(code)
}

func gateway(t *testing.T) *testenv.S3 {
	t.Helper()
	testenv.Need(t, "versitygw", gwErr)
	return gw
}

// counter counts the HTTP requests a client sends, by query shape.
type counter struct {
	inner aws.HTTPClient
	lists atomic.Int32
}

func (c *counter) Do(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodGet && r.URL.Query().Get("list-type") == "2" {
		c.lists.Add(1)
	}
	return c.inner.Do(r)
}

// bucket creates a fresh bucket named after the test, with objects.
func bucket(t *testing.T, g *testenv.S3, objects map[string]string) (string, *s3.Client) {
	t.Helper()
	name := strings.ToLower(strings.NewReplacer("/", "-", "_", "-").Replace(t.Name()))
	if len(name) > 50 {
		name = name[:50]
	}
	name = strings.Trim(name, "-") + fmt.Sprintf("-%d", time.Now().UnixNano()%100000)
	c := s3.New(s3.Options{
		BaseEndpoint: aws.String(g.Endpoint), UsePathStyle: true, Region: g.Region,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: g.AccessKey, SecretAccessKey: g.SecretKey}, nil
		}),
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	})
	ctx := context.Background()
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatalf("creating bucket %s: %v\n%s", name, err, g.LogTail())
	}
	for k, v := range objects {
		put(t, c, name, k, v)
	}
	return name, c
}

func put(t *testing.T, c *s3.Client, bucket, key, body string) {
	t.Helper()
	if _, err := c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: strings.NewReader(body)}); err != nil {
		t.Fatalf("putting %s: %v", key, err)
	}
}

// keys lists the whole bucket as key → content.
func keys(t *testing.T, c *s3.Client, bucket string) map[string]string {
	t.Helper()
	out := map[string]string{}
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page.Contents {
			got, err := c.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: o.Key})
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(got.Body)
			got.Body.Close()
			out[aws.ToString(o.Key)] = string(b)
		}
	}
	return out
}

func assertKeys(t *testing.T, c *s3.Client, bucket string, want map[string]string) {
	t.Helper()
	got := keys(t, c, bucket)
	for k, v := range want {
		if g, ok := got[k]; !ok || g != v {
			t.Errorf("%s: got %q (present %v), want %q", k, g, ok, v)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("unexpected key %s", k)
		}
	}
}

func newSource(t *testing.T, g *testenv.S3, bucket string, mutate func(*Config), opts ...Option) *Source {
	t.Helper()
	cfg := Config{Bucket: bucket, Endpoint: g.Endpoint, PathStyle: true, Region: g.Region, AccessKeyID: g.AccessKey, SecretAccessKey: g.SecretKey}
	if mutate != nil {
		mutate(&cfg)
	}
	opts = append([]Option{WithLogger(slog.New(slog.NewTextHandler(t.Output(), nil)))}, opts...)
	src, err := New("bucket", cfg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return src
}

func paths(refs []connectors.StatementRef) string {
	var p []string
	for _, r := range refs {
		p = append(p, r.Path)
	}
	return strings.Join(p, " ")
}

func TestList(t *testing.T) {
	g := gateway(t)
	objects := map[string]string{
		"in/a.xml": "A", "in/b.053": "B", "in/.hidden.xml": "H", "in/x.xml.error.txt": "E",
		"in/sub/c.xml": "C", "in/archive/old.xml": "O", "in/quarantine/bad.xml": "Q", "other/d.xml": "D", "top.xml": "T",
	}
	name, _ := bucket(t, g, objects)
	tests := []struct {
		name   string
		mutate func(*Config)
		want   string
	}{
		{name: "prefix and pattern", mutate: func(c *Config) { c.Prefix, c.Pattern = "in/", "*.xml" }, want: "in/a.xml"},
		{name: "prefix without pattern", mutate: func(c *Config) { c.Prefix = "in/" }, want: "in/a.xml in/b.053"},
		{name: "recursive", mutate: func(c *Config) { c.Prefix, c.Pattern, c.Recursive = "in/", "*.xml", true },
			want: "in/a.xml in/archive/old.xml in/quarantine/bad.xml in/sub/c.xml"},
		{name: "recursive skips archive and quarantine", mutate: func(c *Config) {
			c.Prefix, c.Pattern, c.Recursive = "in/", "*.xml", true
			c.ArchivePrefix, c.QuarantinePrefix = "in/archive", "in/quarantine/"
		}, want: "in/a.xml in/sub/c.xml"},
		{name: "whole bucket flat", want: "top.xml"},
		{name: "whole bucket recursive", mutate: func(c *Config) { c.Recursive, c.Pattern = true, "[a-d].xml" }, want: "in/a.xml in/sub/c.xml other/d.xml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			refs, err := newSource(t, g, name, tt.mutate).List(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if got := paths(refs); got != tt.want {
				t.Fatalf("listed %q, want %q", got, tt.want)
			}
			for _, r := range refs {
				if r.Source != "bucket" || r.Size != 1 || r.ModTime.IsZero() {
					t.Errorf("ref %+v: want source bucket, size 1 and a time", r)
				}
			}
		})
	}
}

func TestListPaginates(t *testing.T) {
	g := gateway(t)
	objects := map[string]string{}
	for i := range 23 {
		objects[fmt.Sprintf("in/%02d.xml", i)] = "x"
	}
	name, _ := bucket(t, g, objects)
	cnt := &counter{inner: awshttp.NewBuildableClient()}
	src := newSource(t, g, name, func(c *Config) { c.Prefix = "in/" }, WithPageSize(5), WithClient(func(o *s3.Options) { o.HTTPClient = cnt }))
	refs, err := src.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(refs) != 23 || refs[0].Path != "in/00.xml" || refs[22].Path != "in/22.xml" {
		t.Fatalf("listed %d: %s", len(refs), paths(refs))
	}
	if n := cnt.lists.Load(); n != 5 {
		t.Fatalf("%d list requests, want 5 pages of at most 5 keys", n)
	}
}

// TestListOver1000 is one real run past S3's 1,000-key page. The objects
// are written straight into the gateway's posix folder (fast); the
// listing goes through S3.
func TestListOver1000(t *testing.T) {
	g := gateway(t)
	name, _ := bucket(t, g, nil)
	const n = 1100
	dir := g.Path(name, "in")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("stmt-%04d.xml", i)), []byte("<Document/>"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cnt := &counter{inner: awshttp.NewBuildableClient()}
	src := newSource(t, g, name, func(c *Config) { c.Prefix, c.Pattern = "in/", "*.xml" }, WithClient(func(o *s3.Options) { o.HTTPClient = cnt }))
	refs, err := src.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(refs) != n {
		t.Fatalf("listed %d objects, want %d", len(refs), n)
	}
	if !sort.SliceIsSorted(refs, func(i, j int) bool { return refs[i].Path < refs[j].Path }) || refs[n-1].Path != "in/stmt-1099.xml" {
		t.Fatalf("not sorted or incomplete: last %q", refs[n-1].Path)
	}
	if got := cnt.lists.Load(); got != 2 {
		t.Fatalf("%d list requests, want 2", got)
	}
}

func TestOpen(t *testing.T) {
	g := gateway(t)
	big := strings.Repeat("<Ntry>0123456789</Ntry>\n", 100000)
	name, c := bucket(t, g, map[string]string{"in/a.xml": "hello", "in/big.xml": big, "in/odd name+ü.xml": "odd"})
	src := newSource(t, g, name, func(c *Config) { c.Prefix = "in/" })
	ctx := context.Background()
	refs, err := src.List(ctx)
	if err != nil || len(refs) != 3 {
		t.Fatalf("listing: %q, %v", paths(refs), err)
	}
	for _, ref := range refs {
		rc, err := src.Open(ctx, ref)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil || int64(len(b)) != ref.Size {
			t.Fatalf("%s: %d bytes of %d, %v", ref.Path, len(b), ref.Size, err)
		}
	}
	// Deleted between List and Open.
	if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(name), Key: aws.String("in/a.xml")}); err != nil {
		t.Fatal(err)
	}
	_, err = src.Open(ctx, refs[0])
	if !errors.Is(err, connectors.ErrNotFound) || !strings.Contains(err.Error(), "in/a.xml") {
		t.Fatalf("deleted object: got %v, want ErrNotFound", err)
	}
	small := newSource(t, g, name, func(c *Config) { c.MaxFileBytes = 1000 })
	if _, err := small.Open(ctx, connectors.StatementRef{Path: "in/big.xml"}); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("too large: got %v, want ErrTooLarge", err)
	}
}

func TestArchive(t *testing.T) {
	g := gateway(t)
	ctx := context.Background()
	t.Run("archive", func(t *testing.T) {
		name, c := bucket(t, g, map[string]string{
			"in/a.xml": "new A", "in/2026/b.xml": "B", "done/a.xml": "old A", "in/odd name+ü.xml": "odd",
		})
		src := newSource(t, g, name, func(c *Config) { c.Prefix, c.ArchivePrefix, c.Recursive = "in/", "done", true })
		refs, err := src.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range refs {
			if err := src.Archive(ctx, r); err != nil {
				t.Fatalf("archiving %s: %v", r.Path, err)
			}
		}
		assertKeys(t, c, name, map[string]string{"done/a.xml": "old A", "done/a.1.xml": "new A", "done/2026/b.xml": "B", "done/odd name+ü.xml": "odd"})
		if err := src.Archive(ctx, refs[0]); !errors.Is(err, connectors.ErrNotFound) {
			t.Fatalf("archiving again: got %v, want ErrNotFound", err)
		}
	})
	t.Run("delete", func(t *testing.T) {
		name, c := bucket(t, g, map[string]string{"a.xml": "A", "b.xml": "B"})
		src := newSource(t, g, name, func(c *Config) { c.After = AfterDelete })
		if err := src.Archive(ctx, connectors.StatementRef{Path: "a.xml"}); err != nil {
			t.Fatal(err)
		}
		assertKeys(t, c, name, map[string]string{"b.xml": "B"})
		if err := src.Archive(ctx, connectors.StatementRef{Path: "a.xml"}); !errors.Is(err, connectors.ErrNotFound) {
			t.Fatalf("deleting again: got %v, want ErrNotFound", err)
		}
	})
	t.Run("tag", func(t *testing.T) {
		name, c := bucket(t, g, map[string]string{"a.xml": "A"})
		if _, err := c.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{Bucket: aws.String(name), Key: aws.String("a.xml"),
			Tagging: &s3types.Tagging{TagSet: []s3types.Tag{{Key: aws.String("bank"), Value: aws.String("acme")}}}}); err != nil {
			t.Fatal(err)
		}
		src := newSource(t, g, name, func(c *Config) { c.After = AfterTag })
		if err := src.Archive(ctx, connectors.StatementRef{Path: "a.xml"}); err != nil {
			t.Fatal(err)
		}
		got, err := c.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String(name), Key: aws.String("a.xml")})
		if err != nil {
			t.Fatal(err)
		}
		tags := map[string]string{}
		for _, tg := range got.TagSet {
			tags[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
		}
		if len(tags) != 2 || tags["lettrage"] != "processed" || tags["bank"] != "acme" {
			t.Fatalf("tags %v, want lettrage=processed and bank=acme", tags)
		}
		assertKeys(t, c, name, map[string]string{"a.xml": "A"})
	})
	t.Run("leave", func(t *testing.T) {
		name, c := bucket(t, g, map[string]string{"a.xml": "A"})
		if err := newSource(t, g, name, nil).Archive(ctx, connectors.StatementRef{Path: "a.xml"}); err != nil {
			t.Fatal(err)
		}
		assertKeys(t, c, name, map[string]string{"a.xml": "A"})
	})
}

func TestQuarantine(t *testing.T) {
	g := gateway(t)
	name, c := bucket(t, g, map[string]string{"in/bad.xml": "<oops", "bad/bad.xml": "earlier"})
	now := time.Date(2026, 11, 23, 9, 30, 0, 0, time.UTC)
	src := newSource(t, g, name, func(c *Config) { c.Prefix, c.QuarantinePrefix = "in/", "bad/" }, withClock(func() time.Time { return now }))
	if err := src.Quarantine(context.Background(), connectors.StatementRef{Path: "in/bad.xml"}, errors.New("parsing line 1: unexpected EOF")); err != nil {
		t.Fatal(err)
	}
	assertKeys(t, c, name, map[string]string{
		"bad/bad.xml":   "earlier",
		"bad/bad.1.xml": "<oops",
		"bad/bad.1.xml.error.txt": "file: in/bad.xml\nsource: bucket\nquarantined_at: 2026-11-23T09:30:00Z\n" +
			"cause: parsing line 1: unexpected EOF\n",
	})
}

func TestCredentials(t *testing.T) {
	g := gateway(t)
	name, _ := bucket(t, g, map[string]string{"a.xml": "A"})
	dir := t.TempDir()
	idFile, keyFile := filepath.Join(dir, "id"), filepath.Join(dir, "key")
	if err := os.WriteFile(idFile, []byte(g.AccessKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, []byte(g.SecretKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name        string
		mutate      func(*Config)
		errContains string
	}{
		{name: "key files", mutate: func(c *Config) {
			c.AccessKeyID, c.SecretAccessKey, c.AccessKeyIDFile, c.SecretAccessKeyFile = "", "", idFile, keyFile
		}},
		{name: "wrong secret", mutate: func(c *Config) { c.SecretAccessKey = "wrong-secret-value" }, errContains: "SignatureDoesNotMatch"},
		// AWS answers InvalidAccessKeyId, versitygw XAdminUserNotFound.
		{name: "unknown key id", mutate: func(c *Config) { c.AccessKeyID = "NOSUCHKEY" }, errContains: "check access_key_id and secret_access_key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := newSource(t, g, name, tt.mutate)
			refs, err := src.List(context.Background())
			if tt.errContains == "" {
				if err != nil || paths(refs) != "a.xml" {
					t.Fatalf("got %q, %v", paths(refs), err)
				}
				return
			}
			if !errors.Is(err, ErrAccess) || errors.Is(err, connectors.ErrUnavailable) || !strings.Contains(err.Error(), tt.errContains) {
				t.Fatalf("got %v, want ErrAccess with %s", err, tt.errContains)
			}
			if strings.Contains(err.Error(), "wrong-secret-value") {
				t.Fatalf("error leaks the secret: %v", err)
			}
			if !strings.Contains(err.Error(), "check access_key_id and secret_access_key") {
				t.Errorf("error %q gives no hint", err)
			}
		})
	}
}

func TestUnavailable(t *testing.T) {
	port, err := testenv.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	src, err := New("bucket", Config{Bucket: "b", Endpoint: fmt.Sprintf("http://127.0.0.1:%d", port), PathStyle: true, AccessKeyID: "k", SecretAccessKey: "s"},
		WithClient(func(o *s3.Options) { o.RetryMaxAttempts = 1 }))
	if err != nil {
		t.Fatal(err)
	}
	_, err = src.List(context.Background())
	if !errors.Is(err, connectors.ErrUnavailable) {
		t.Fatalf("got %v, want ErrUnavailable", err)
	}
	_, err = src.Open(context.Background(), connectors.StatementRef{Path: "a.xml"})
	if !errors.Is(err, connectors.ErrUnavailable) {
		t.Fatalf("open: got %v, want ErrUnavailable", err)
	}
}

func TestMissingBucket(t *testing.T) {
	g := gateway(t)
	_, err := newSource(t, g, "no-such-bucket-here", nil).List(context.Background())
	if err == nil || !strings.Contains(err.Error(), "NoSuchBucket") || errors.Is(err, connectors.ErrUnavailable) {
		t.Fatalf("got %v, want NoSuchBucket, not ErrUnavailable", err)
	}
}

func BenchmarkOpenRead(b *testing.B) {
	if gwErr != nil {
		b.Skip(gwErr)
	}
	body := strings.Repeat("<Ntry><Amt>12.34</Amt></Ntry>\n", 1<<19) // 15.7 MB
	if err := os.MkdirAll(gw.Path("bench", ""), 0o755); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(gw.Path("bench", "big.xml"), []byte(body), 0o644); err != nil {
		b.Fatal(err)
	}
	src, err := New("bench", Config{Bucket: "bench", Endpoint: gw.Endpoint, PathStyle: true, Region: gw.Region, AccessKeyID: gw.AccessKey, SecretAccessKey: gw.SecretKey})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		rc, err := src.Open(context.Background(), connectors.StatementRef{Path: "big.xml"})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.Copy(io.Discard, rc); err != nil {
			b.Fatal(err)
		}
		rc.Close()
	}
}

// TestGatewayKilledMidDownload: the store dies while an object streams;
// the read fails with ErrUnavailable, never a silently short file.
func TestGatewayKilledMidDownload(t *testing.T) {
	g := testenv.StartS3(t)
	name, _ := bucket(t, g, nil)
	body := strings.Repeat("<Ntry><Amt>12.34</Amt></Ntry>\n", 2<<20) // 63 MB
	if err := os.WriteFile(g.Path(name, "big.xml"), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	src := newSource(t, g, name, nil, WithClient(func(o *s3.Options) { o.RetryMaxAttempts = 1 }))
	rc, err := src.Open(context.Background(), connectors.StatementRef{Path: "big.xml"})
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if _, err := io.ReadFull(rc, make([]byte, 1<<20)); err != nil {
		t.Fatal(err)
	}
	g.Stop()
	n, err := io.Copy(io.Discard, rc)
	if !errors.Is(err, connectors.ErrUnavailable) {
		t.Fatalf("after kill: read %d more bytes, err %v; want ErrUnavailable", n, err)
	}
	if err := g.Start(); err != nil {
		t.Fatal(err)
	}
	rc2, err := src.Open(context.Background(), connectors.StatementRef{Path: "big.xml"})
	if err != nil {
		t.Fatal(err)
	}
	defer rc2.Close()
	if n, err := io.Copy(io.Discard, rc2); err != nil || n != int64(len(body)) {
		t.Fatalf("after restart: %d bytes, %v", n, err)
	}
}

func TestForeignKeysRefused(t *testing.T) {
	g := gateway(t)
	name, c := bucket(t, g, map[string]string{"in/a.xml": "A", "other/b.xml": "B", "done/c.xml": "C"})
	src := newSource(t, g, name, func(c *Config) { c.Prefix, c.ArchivePrefix = "in/", "done/" })
	ctx := context.Background()
	for _, key := range []string{"other/b.xml", "", "in/"} {
		if _, err := src.Open(ctx, connectors.StatementRef{Path: key}); err == nil {
			t.Errorf("Open(%q) succeeded", key)
		}
	}
	if err := src.Archive(ctx, connectors.StatementRef{Path: "other/b.xml"}); err == nil || !strings.Contains(err.Error(), `outside the source's prefix "in/"`) {
		t.Errorf("Archive(other/b.xml): %v", err)
	}
	if err := src.Quarantine(ctx, connectors.StatementRef{Path: "done/c.xml"}, nil); err == nil {
		t.Errorf("Quarantine(done/c.xml) succeeded")
	}
	assertKeys(t, c, name, map[string]string{"in/a.xml": "A", "other/b.xml": "B", "done/c.xml": "C"})
}
