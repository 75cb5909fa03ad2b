// Package s3 is the statement source that reads CAMT files from an S3
// bucket (AWS, or an S3-compatible store through a custom endpoint).
//
// Listing paginates; objects are streamed. Errors caused by the network,
// throttling or the store being down wrap connectors.ErrUnavailable (the
// SDK has already retried them): the pass must be retried later and the
// object must not be quarantined. Refused credentials wrap ErrAccess.
package s3

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/lettrage/lettrage/connectors"
	"github.com/lettrage/lettrage/connectors/internal/secret"
	"github.com/lettrage/lettrage/connectors/source/internal/filing"
)

// ErrAccess is wrapped when the store refused the credentials or the
// request (bad key or secret, missing permission): a permanent error.
var ErrAccess = errors.New("access refused by the S3 store")

// ErrTooLarge is wrapped when an object exceeds max_file_bytes.
var ErrTooLarge = errors.New("object exceeds max_file_bytes")

// Option adjusts a Source beyond its Config.
type Option func(*Source)

// WithLogger sets the logger (default slog.Default()); the source adds
// component=source and source=<name>.
func WithLogger(l *slog.Logger) Option { return func(s *Source) { s.log = l } }

// WithPageSize sets the number of keys asked per ListObjectsV2 page
// (default 1000, the S3 maximum).
func WithPageSize(n int32) Option { return func(s *Source) { s.pageSize = n } }

// WithClient replaces the S3 client options after the configuration is
// applied (tests, custom HTTP clients).
func WithClient(fn func(*s3.Options)) Option {
	return func(s *Source) { s.clientOpts = append(s.clientOpts, fn) }
}

// withClock replaces time.Now (tests).
func withClock(now func() time.Time) Option { return func(s *Source) { s.now = now } }

// Source is a StatementSource over an S3 bucket. It is safe for concurrent
// use.
type Source struct {
	name       string
	cfg        Config
	client     *s3.Client
	dirPrefix  string // Prefix up to its last "/": what Archive replaces
	pageSize   int32
	clientOpts []func(*s3.Options)
	log        *slog.Logger
	now        func() time.Time
}

var _ connectors.StatementSource = (*Source)(nil)

// New validates cfg, reads the key files, resolves the credential chain
// and region (without network calls) and returns the source.
func New(name string, cfg Config, opts ...Option) (*Source, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("configuring s3 source %q: %w", name, err)
	}
	s := &Source{name: name, cfg: cfg, pageSize: 1000, log: slog.Default(), now: time.Now}
	for _, o := range opts {
		o(s)
	}
	s.log = s.log.With("component", "source", "source", name)
	s.cfg.After = cfg.after()
	s.cfg.ArchivePrefix = folder(cfg.ArchivePrefix)
	s.cfg.QuarantinePrefix = folder(cfg.QuarantinePrefix)
	if s.cfg.TagKey == "" {
		s.cfg.TagKey = DefaultTagKey
	}
	if s.cfg.TagValue == "" {
		s.cfg.TagValue = DefaultTagValue
	}
	if i := strings.LastIndex(cfg.Prefix, "/"); i >= 0 {
		s.dirPrefix = cfg.Prefix[:i+1]
	}
	id, err := secret.Read("access_key_id", cfg.AccessKeyID, cfg.AccessKeyIDFile)
	if err != nil {
		return nil, fmt.Errorf("configuring s3 source %q: %w", name, err)
	}
	key, err := secret.Read("secret_access_key", cfg.SecretAccessKey, cfg.SecretAccessKeyFile)
	if err != nil {
		return nil, fmt.Errorf("configuring s3 source %q: %w", name, err)
	}
	var loadOpts []func(*awsconfig.LoadOptions) error
	if cfg.Region != "" {
		loadOpts = append(loadOpts, awsconfig.WithRegion(cfg.Region))
	}
	if cfg.Profile != "" {
		loadOpts = append(loadOpts, awsconfig.WithSharedConfigProfile(cfg.Profile))
	}
	if id != "" {
		loadOpts = append(loadOpts, awsconfig.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(id, key, "")))
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(context.Background(), loadOpts...)
	if err != nil {
		return nil, fmt.Errorf("configuring s3 source %q: loading the AWS configuration: %w", name, err)
	}
	if awsCfg.Region == "" {
		if cfg.Endpoint == "" {
			return nil, fmt.Errorf("configuring s3 source %q: region: required (or AWS_REGION, or a profile with a region)", name)
		}
		awsCfg.Region = "us-east-1"
	}
	s.client = s3.NewFromConfig(awsCfg, func(o *s3.Options) {
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
			// Many S3-compatible stores reject the newer default
			// checksum headers; send them only where S3 requires them.
			o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
			o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
		}
		o.UsePathStyle = cfg.PathStyle
	}, func(o *s3.Options) {
		for _, fn := range s.clientOpts {
			fn(o)
		}
	})
	return s, nil
}

// folder makes a non-empty prefix end with "/".
func folder(p string) string {
	if p != "" && !strings.HasSuffix(p, "/") {
		return p + "/"
	}
	return p
}

// classify wraps an SDK error with connectors.ErrNotFound, ErrAccess or
// connectors.ErrUnavailable when it is one of those, with a hint for
// operators.
func classify(err error) error {
	if err == nil {
		return nil
	}
	var nsk *types.NoSuchKey
	var nf *types.NotFound
	if errors.As(err, &nsk) || errors.As(err, &nf) {
		return fmt.Errorf("%w: %w", connectors.ErrNotFound, err)
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		switch api.ErrorCode() {
		case "NoSuchKey", "NotFound":
			return fmt.Errorf("%w: %w", connectors.ErrNotFound, err)
		case "SignatureDoesNotMatch", "InvalidAccessKeyId",
			"XAdminUserNotFound": // versitygw's answer to an unknown key id
			return fmt.Errorf("%w (check access_key_id and secret_access_key): %w", ErrAccess, err)
		case "AccessDenied", "Forbidden", "ExpiredToken", "InvalidToken", "AllAccessDisabled":
			return fmt.Errorf("%w (check the credentials and the bucket policy): %w", ErrAccess, err)
		case "SlowDown", "ServiceUnavailable", "InternalError", "RequestTimeout", "Throttling", "RequestTimeTooSkewed":
			return fmt.Errorf("%w: %w", connectors.ErrUnavailable, err)
		}
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) && re.HTTPStatusCode() != 0 { // 0: no response at all
		switch code := re.HTTPStatusCode(); {
		case code == 401 || code == 403:
			return fmt.Errorf("%w (check the credentials and the bucket policy): %w", ErrAccess, err)
		case code == 404 && api == nil:
			return fmt.Errorf("%w: %w", connectors.ErrNotFound, err)
		case code == 429 || code >= 500:
			return fmt.Errorf("%w: %w", connectors.ErrUnavailable, err)
		}
		return err
	}
	var send *smithyhttp.RequestSendError
	var ne net.Error
	if errors.As(err, &send) || errors.As(err, &ne) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w: %w", connectors.ErrUnavailable, err)
	}
	if strings.Contains(err.Error(), "failed to retrieve credentials") || strings.Contains(err.Error(), "failed to refresh cached credentials") {
		return fmt.Errorf("%w (no credentials found: set access_key_id/secret_access_key, a profile, or the AWS environment): %w", ErrAccess, err)
	}
	return err
}

// List returns the objects below the prefix that match the pattern,
// sorted by key. It paginates through any number of keys and skips
// "folder" markers, hidden names, quarantine sidecars and the archive and
// quarantine prefixes when they lie below the prefix.
func (s *Source) List(ctx context.Context) ([]connectors.StatementRef, error) {
	in := &s3.ListObjectsV2Input{Bucket: aws.String(s.cfg.Bucket), MaxKeys: aws.Int32(s.pageSize)}
	if s.cfg.Prefix != "" {
		in.Prefix = aws.String(s.cfg.Prefix)
	}
	if !s.cfg.Recursive {
		in.Delimiter = aws.String("/")
	}
	p := s3.NewListObjectsV2Paginator(s.client, in)
	var refs []connectors.StatementRef
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("listing s3://%s/%s: %w", s.cfg.Bucket, s.cfg.Prefix, classify(err))
		}
		for _, o := range page.Contents {
			key := aws.ToString(o.Key)
			if !s.listed(key) {
				continue
			}
			ref := connectors.StatementRef{Source: s.name, Path: key, Size: -1}
			if o.Size != nil {
				ref.Size = *o.Size
			}
			if o.LastModified != nil {
				ref.ModTime = *o.LastModified
			}
			refs = append(refs, ref)
		}
	}
	sort.Slice(refs, func(i, j int) bool { return refs[i].Path < refs[j].Path })
	return refs, nil
}

func (s *Source) listed(key string) bool {
	if strings.HasSuffix(key, "/") || strings.HasSuffix(key, filing.SidecarSuffix) {
		return false
	}
	for _, p := range []string{s.cfg.ArchivePrefix, s.cfg.QuarantinePrefix} {
		if p != "" && strings.HasPrefix(key, p) {
			return false
		}
	}
	base := path.Base(key)
	if strings.HasPrefix(base, ".") {
		return false
	}
	if s.cfg.Pattern != "" {
		if ok, _ := path.Match(s.cfg.Pattern, base); !ok {
			return false
		}
	}
	return true
}

// Open streams the object. An object deleted since List gives an error
// wrapping connectors.ErrNotFound; a larger one than max_file_bytes
// ErrTooLarge; a connection lost while reading connectors.ErrUnavailable.
func (s *Source) Open(ctx context.Context, ref connectors.StatementRef) (io.ReadCloser, error) {
	if err := s.inside(ref.Path); err != nil {
		return nil, fmt.Errorf("opening %q: %w", ref.Path, err)
	}
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.cfg.Bucket), Key: aws.String(ref.Path)})
	if err != nil {
		return nil, fmt.Errorf("opening s3://%s/%s: %w", s.cfg.Bucket, ref.Path, classify(err))
	}
	size := aws.ToInt64(out.ContentLength)
	if max := s.cfg.MaxFileBytes; max > 0 && size > max {
		out.Body.Close()
		return nil, fmt.Errorf("opening s3://%s/%s: %w: %d bytes > %d", s.cfg.Bucket, ref.Path, ErrTooLarge, size, max)
	}
	return &reader{body: out.Body, key: ref.Path, max: s.cfg.MaxFileBytes}, nil
}

// inside refuses keys this source does not own: outside the prefix, or
// already archived or quarantined.
func (s *Source) inside(key string) error {
	switch {
	case key == "" || strings.HasSuffix(key, "/"):
		return fmt.Errorf("%q is not an object key", key)
	case !strings.HasPrefix(key, s.cfg.Prefix):
		return fmt.Errorf("key %q is outside the source's prefix %q", key, s.cfg.Prefix)
	case s.cfg.ArchivePrefix != "" && strings.HasPrefix(key, s.cfg.ArchivePrefix),
		s.cfg.QuarantinePrefix != "" && strings.HasPrefix(key, s.cfg.QuarantinePrefix):
		return fmt.Errorf("key %q is already archived or quarantined", key)
	}
	return nil
}

// reader streams one object, classifying errors.
type reader struct {
	body io.ReadCloser
	key  string
	max  int64
	n    int64
}

func (r *reader) Read(p []byte) (int, error) {
	n, err := r.body.Read(p)
	r.n += int64(n)
	if r.max > 0 && r.n > r.max {
		return 0, fmt.Errorf("reading %q: %w: more than %d bytes", r.key, ErrTooLarge, r.max)
	}
	if err != nil && err != io.EOF {
		// net/http reports a body cut short of its Content-Length as
		// io.ErrUnexpectedEOF: the connection dropped.
		return n, fmt.Errorf("reading %q: %w: %w", r.key, connectors.ErrUnavailable, err)
	}
	return n, err
}

func (r *reader) Close() error { return r.body.Close() }

// Archive files the object away as configured by after: copied to
// archive_prefix (same path below the prefix; a taken key gets a numeric
// suffix: stmt.1.xml) then deleted, deleted, tagged, or left.
func (s *Source) Archive(ctx context.Context, ref connectors.StatementRef) error {
	if err := s.inside(ref.Path); err != nil {
		return fmt.Errorf("archiving %q: %w", ref.Path, err)
	}
	switch s.cfg.After {
	case AfterArchive:
		dst, err := s.move(ctx, ref.Path, s.cfg.ArchivePrefix)
		if err != nil {
			return fmt.Errorf("archiving %q: %w", ref.Path, err)
		}
		s.log.Info("archived statement", "file", ref.Path, "to", dst)
	case AfterDelete:
		if err := s.mustExist(ctx, ref.Path); err != nil {
			return fmt.Errorf("deleting %q: %w", ref.Path, err)
		}
		if err := s.delete(ctx, ref.Path); err != nil {
			return fmt.Errorf("deleting %q: %w", ref.Path, err)
		}
		s.log.Info("deleted statement", "file", ref.Path)
	case AfterTag:
		if err := s.tag(ctx, ref.Path); err != nil {
			return fmt.Errorf("tagging %q: %w", ref.Path, err)
		}
		s.log.Info("tagged statement", "file", ref.Path, "tag", s.cfg.TagKey+"="+s.cfg.TagValue)
	}
	return nil
}

// Quarantine copies the object under quarantine_prefix like Archive,
// writes beside it <key>.error.txt with the cause, and deletes the
// original. Without quarantine_prefix the object stays in place.
func (s *Source) Quarantine(ctx context.Context, ref connectors.StatementRef, cause error) error {
	if err := s.inside(ref.Path); err != nil {
		return fmt.Errorf("quarantining %q: %w", ref.Path, err)
	}
	if s.cfg.QuarantinePrefix == "" {
		s.log.Warn("statement not readable; no quarantine_prefix, left in place", "file", ref.Path, "err", cause)
		return nil
	}
	dst, err := s.move(ctx, ref.Path, s.cfg.QuarantinePrefix)
	if err != nil {
		return fmt.Errorf("quarantining %q: %w", ref.Path, err)
	}
	body := filing.Sidecar(ref.Path, s.name, s.now(), cause)
	in := &s3.PutObjectInput{
		Bucket: aws.String(s.cfg.Bucket), Key: aws.String(dst + filing.SidecarSuffix),
		Body: bytes.NewReader(body), ContentType: aws.String("text/plain; charset=utf-8"),
	}
	s.encrypt(&in.ServerSideEncryption, &in.SSEKMSKeyId)
	if _, err := s.client.PutObject(ctx, in); err != nil {
		return fmt.Errorf("quarantining %q: writing the error sidecar: %w", ref.Path, classify(err))
	}
	s.log.Warn("quarantined statement", "file", ref.Path, "to", dst, "err", cause)
	return nil
}

func (s *Source) encrypt(sse *types.ServerSideEncryption, kms **string) {
	switch s.cfg.SSE {
	case "AES256":
		*sse = types.ServerSideEncryptionAes256
	case "aws:kms":
		*sse = types.ServerSideEncryptionAwsKms
		if s.cfg.SSEKMSKeyID != "" {
			*kms = aws.String(s.cfg.SSEKMSKeyID)
		}
	}
}

// move copies key under destPrefix (keeping its path below the prefix's
// folder) to the first free key, then deletes the original. S3 has no
// rename, and CopyObject has no "only if absent" condition: a free key is
// found with HEAD first (one replica runs a job at a time).
func (s *Source) move(ctx context.Context, key, destPrefix string) (string, error) {
	rel := strings.TrimPrefix(key, s.dirPrefix)
	dir, base := path.Split(rel)
	for i := 0; i < filing.MaxSuffix; i++ {
		dst := destPrefix + dir + filing.Suffixed(base, i)
		_, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(s.cfg.Bucket), Key: aws.String(dst)})
		if err == nil {
			continue // taken
		}
		if err = classify(err); !errors.Is(err, connectors.ErrNotFound) {
			return "", fmt.Errorf("checking %q: %w", dst, err)
		}
		in := &s3.CopyObjectInput{
			Bucket: aws.String(s.cfg.Bucket), Key: aws.String(dst),
			CopySource: aws.String(s.cfg.Bucket + "/" + escapeKey(key)),
		}
		s.encrypt(&in.ServerSideEncryption, &in.SSEKMSKeyId)
		if _, err := s.client.CopyObject(ctx, in); err != nil {
			return "", fmt.Errorf("copying to %q: %w", dst, classify(err))
		}
		if err := s.delete(ctx, key); err != nil {
			return "", fmt.Errorf("deleting after copying to %q: %w", dst, err)
		}
		return dst, nil
	}
	return "", fmt.Errorf("no free key for %q under %q after %d tries", base, destPrefix, filing.MaxSuffix)
}

// escapeKey URL-encodes a key for CopySource, keeping its slashes; "+"
// is encoded too, as stores decode it as a space.
func escapeKey(key string) string {
	parts := strings.Split(key, "/")
	for i, p := range parts {
		parts[i] = strings.ReplaceAll(url.QueryEscape(p), "+", "%20")
	}
	return strings.Join(parts, "/")
}

func (s *Source) mustExist(ctx context.Context, key string) error {
	_, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(s.cfg.Bucket), Key: aws.String(key)})
	return classify(err)
}

func (s *Source) delete(ctx context.Context, key string) error {
	_, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(s.cfg.Bucket), Key: aws.String(key)})
	return classify(err)
}

// tag adds the configured tag, keeping the object's other tags.
func (s *Source) tag(ctx context.Context, key string) error {
	got, err := s.client.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String(s.cfg.Bucket), Key: aws.String(key)})
	if err != nil {
		return classify(err)
	}
	tags := []types.Tag{{Key: aws.String(s.cfg.TagKey), Value: aws.String(s.cfg.TagValue)}}
	for _, t := range got.TagSet {
		if aws.ToString(t.Key) != s.cfg.TagKey {
			tags = append(tags, t)
		}
	}
	_, err = s.client.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{
		Bucket: aws.String(s.cfg.Bucket), Key: aws.String(key), Tagging: &types.Tagging{TagSet: tags},
	})
	return classify(err)
}
