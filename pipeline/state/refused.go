package state

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/lettrage/lettrage/pipeline/decide"
)

// Refused statement files (issue 17). A file the pipeline cannot read —
// not well-formed, not CAMT, too large — is reported once (quarantined,
// counted, exit code 1) and remembered by its content hash: later passes
// skip it, wherever it lies (left in the source when no quarantine folder
// is configured, or put back there), so that one bad file does not make
// every run partial. A new version of the file under the same name (other
// content) is read and makes the old refusal forgotten; `lettrage release`
// forgets a refusal by hand.

// refusedFilesMigration creates the table of refused files (schema 7).
var refusedFilesMigration = []string{
	`CREATE TABLE refused_files (
		job TEXT NOT NULL, hash TEXT NOT NULL, source TEXT NOT NULL, path TEXT NOT NULL,
		size INTEGER NOT NULL, mod_time TEXT NOT NULL, reason TEXT NOT NULL, refused_at TEXT NOT NULL,
		PRIMARY KEY (job, source, path, hash))`,
	`CREATE INDEX refused_files_hash ON refused_files (job, hash)`,
}

// RefusedFile is a statement file a job refused and now holds.
type RefusedFile struct {
	Hash    string // SHA-256 of the file's content, hex
	Source  string
	Path    string
	Size    int64 // -1 when unknown
	ModTime time.Time
	Reason  string
	At      time.Time // when it was first refused
}

// maxReasonLen bounds the reason kept with a refusal.
const maxReasonLen = 1000

// Refuse records a refused file (the same content under another name is
// another file; the same file listed again updates its size and time).
func (s *Store) Refuse(ctx context.Context, job string, f RefusedFile) error {
	reason := decide.MaskIBANs(f.Reason)
	if len(reason) > maxReasonLen {
		reason = reason[:maxReasonLen] + "…"
	}
	_, err := s.onDB().ExecContext(ctx, `INSERT INTO refused_files (job, hash, source, path, size, mod_time, reason, refused_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (job, source, path, hash) DO UPDATE SET size = excluded.size, mod_time = excluded.mod_time`,
		job, f.Hash, f.Source, f.Path, f.Size, ListingTime(f.ModTime), reason, f.At.UTC().Format(time.RFC3339Nano))
	if err != nil {
		return fmt.Errorf("recording refused file %q: %w", f.Path, err)
	}
	return nil
}

// Held reports whether the job holds a refused file with this content.
func (s *Store) Held(ctx context.Context, job, hash string) (bool, error) {
	var n int
	if err := s.onDB().QueryRowContext(ctx, `SELECT COUNT(*) FROM refused_files WHERE job = ? AND hash = ?`, job, hash).Scan(&n); err != nil {
		return false, fmt.Errorf("looking up refused file %s: %w", shortHashText(hash), err)
	}
	return n > 0, nil
}

// HeldListing reports whether a listed file (source, path, size and
// modification time) is a refused file the job holds, so that it need not
// be read again. Unknown sizes or times never match.
func (s *Store) HeldListing(ctx context.Context, job, source, path string, size int64, mod time.Time) (bool, error) {
	if size < 0 || mod.IsZero() {
		return false, nil
	}
	var n int
	err := s.onDB().QueryRowContext(ctx, `SELECT COUNT(*) FROM refused_files WHERE job = ? AND source = ? AND path = ? AND size = ? AND mod_time = ?`,
		job, source, path, size, ListingTime(mod)).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("looking up refused file %q: %w", path, err)
	}
	return n > 0, nil
}

// ForgetOtherVersions forgets the refusals of the file at source/path
// whose content is not hash: a new version of the file replaces them. It
// returns how many were forgotten.
func (s *Store) ForgetOtherVersions(ctx context.Context, job, source, path, hash string) (int, error) {
	r, err := s.onDB().ExecContext(ctx, `DELETE FROM refused_files WHERE job = ? AND source = ? AND path = ? AND hash <> ?`, job, source, path, hash)
	if err != nil {
		return 0, fmt.Errorf("forgetting the refusal of %q: %w", path, err)
	}
	n, _ := r.RowsAffected()
	return int(n), nil
}

// HeldFiles lists the refused files the job holds, oldest first.
func (s *Store) HeldFiles(ctx context.Context, job string) ([]RefusedFile, error) {
	rows, err := s.onDB().QueryContext(ctx, `SELECT hash, source, path, size, mod_time, reason, refused_at FROM refused_files
		WHERE job = ? ORDER BY refused_at, path`, job)
	if err != nil {
		return nil, fmt.Errorf("listing refused files: %w", err)
	}
	defer rows.Close()
	var out []RefusedFile
	for rows.Next() {
		var f RefusedFile
		var mod, at string
		if err := rows.Scan(&f.Hash, &f.Source, &f.Path, &f.Size, &mod, &f.Reason, &at); err != nil {
			return nil, fmt.Errorf("listing refused files: %w", err)
		}
		f.ModTime, _ = time.Parse(time.RFC3339Nano, mod)
		f.At, _ = time.Parse(time.RFC3339Nano, at)
		out = append(out, f)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing refused files: %w", err)
	}
	return out, nil
}

// CountHeld is the number of refused files the job holds (the same
// content under two names counts twice).
func (s *Store) CountHeld(ctx context.Context, job string) (int, error) {
	var n int
	if err := s.onDB().QueryRowContext(ctx, `SELECT COUNT(*) FROM refused_files WHERE job = ?`, job).Scan(&n); err != nil {
		return 0, fmt.Errorf("counting refused files: %w", err)
	}
	return n, nil
}

// Release forgets the refusals of the job that match: a content hash (the
// full 64 hex digits, or a prefix of at least 12), or a path as the
// source listed it. "" releases every refusal of the job. It returns the
// files released.
func (s *Store) Release(ctx context.Context, job, match string) ([]RefusedFile, error) {
	held, err := s.HeldFiles(ctx, job)
	if err != nil {
		return nil, err
	}
	var out []RefusedFile
	for _, f := range held {
		if match != "" && f.Path != match && !(len(match) >= 12 && strings.HasPrefix(f.Hash, strings.ToLower(match))) {
			continue
		}
		if _, err := s.onDB().ExecContext(ctx, `DELETE FROM refused_files WHERE job = ? AND source = ? AND path = ? AND hash = ?`,
			job, f.Source, f.Path, f.Hash); err != nil {
			return out, fmt.Errorf("releasing %q: %w", f.Path, err)
		}
		out = append(out, f)
	}
	return out, nil
}

func shortHashText(h string) string { return h[:min(len(h), 16)] }
