package state

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/lettrage/lettrage/domain"
	"github.com/lettrage/lettrage/pipeline/decide"
)

// Incremental passes (issue 18). A pass re-matches the job's open
// exceptions (and the batch entries whose wait is over) together with the
// transactions it reads. Re-matching is pure: the same exceptions, open
// items, learned memory, configuration and clock-driven deadlines give the
// same decisions. So a pass that read no new statement re-examines the
// open exceptions only when one of those inputs changed since an
// examination that changed nothing; otherwise it would decide exactly what
// the store already holds, and it skips the re-match.
//
// The inputs are summarised in an examination fingerprint (examInputs):
//   - the configuration hash;
//   - a hash of the open items the ledger reports (order-independent);
//   - the job's state revision, bumped by every write to its state
//     (commits, refusals, resolutions, redaction): new exceptions, new
//     letters (Memory.Lettered, Memory.Settled), changed decisions;
//   - the number of learned facts (the memory table is shared by jobs);
//   - the day (the 400-day windows of Memory.Lettered and Memory.Settled
//     move with it);
//   - the batch entries whose wait for their details is over (DueWaiting);
//   - the letters the ledger refused still within RejectedRetryAfter (one
//     leaving the window is a retry that came due).
//
// The reports (exceptions.csv, .xlsx) are rewritten only when the state,
// the open items or the day changed since they were written (reportKey),
// or when they are missing; a pass that finds them current reads their
// figures from job_state. A ledger that records exceptions itself
// (connectors.ExceptionSink) is handed the list with the reports: when
// they are rewritten, and by the next pass when that failed (the key is
// recorded after the ledger took them all).
//
// The fingerprint of an examination that committed nothing is recorded
// (job_state.examined); a later pass without new statements whose
// fingerprint is the same skips the re-match and says so in its summary
// (Result.Examined, Result.ExaminedWhy). Anything else re-examines every
// open exception: the matcher's decisions are coupled (payments compete
// for items, an item a payment's text designates is kept from the others,
// amount-only matching spans customers), so a subset re-matched alone
// could decide differently from the full re-match.

// examinedMigration adds the job state table (schema 8: the revision, the
// last examination, the key and figures of the last reports written) and
// the index the letters of a transaction are read by.
var examinedMigration = []string{
	`CREATE TABLE job_state (job TEXT NOT NULL PRIMARY KEY, revision INTEGER NOT NULL,
		examined TEXT NOT NULL, examined_at TEXT NOT NULL, reported TEXT NOT NULL DEFAULT '')`,
	`CREATE INDEX decisions_tx ON decisions (job, tx_key)`,
}

// bumpRevision records, inside the write transaction q, that the job's
// state changed.
func bumpRevision(ctx context.Context, q interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}, job string) error {
	if _, err := q.ExecContext(ctx, `INSERT INTO job_state (job, revision, examined, examined_at) VALUES (?, 1, '', '')
		ON CONFLICT (job) DO UPDATE SET revision = job_state.revision + 1`, job); err != nil {
		return fmt.Errorf("recording the state revision of job %q: %w", job, err)
	}
	return nil
}

// ExamInputs is the fingerprint of what re-matching the open exceptions
// depends on (see the comment at the top of this file).
type ExamInputs struct {
	Config     string
	Items      string
	Revision   int64
	Memory     int64
	Day        string
	DueWaiting int
	Refusals   int
}

// String is the fingerprint as recorded.
func (e ExamInputs) String() string {
	return strings.Join([]string{"v1", e.Config, e.Items, strconv.FormatInt(e.Revision, 10), strconv.FormatInt(e.Memory, 10),
		e.Day, strconv.Itoa(e.DueWaiting), strconv.Itoa(e.Refusals)}, "|")
}

// ChangedSince names what differs from the recorded fingerprint prev
// ("" when nothing does).
func (e ExamInputs) ChangedSince(prev string) string {
	if prev == "" {
		return "no earlier examination recorded"
	}
	first := ""
	if strings.HasSuffix(prev, ChangedMark) {
		prev, first = strings.TrimSuffix(prev, ChangedMark), "the last examination changed decisions"
	}
	p := strings.Split(prev, "|")
	c := strings.Split(e.String(), "|")
	if len(p) != len(c) || p[0] != c[0] {
		return "no earlier examination recorded"
	}
	names := []string{"", "configuration changed", "open items changed", "state changed (decisions, letters, resolutions)",
		"new learning about payers", "a new day", "batch entries due", "a refused letter's retry due"}
	var why []string
	if first != "" {
		why = append(why, first)
	}
	for i := 1; i < len(c); i++ {
		if p[i] != c[i] {
			why = append(why, names[i])
		}
	}
	return strings.Join(why, ", ")
}

// ItemsHash hashes the open items independently of their order: the sum,
// modulo 2^64 twice, of each item's SHA-256 (a repeated item counts twice).
func ItemsHash(items []domain.OpenItem) string {
	var a, b uint64
	var buf []byte
	for i := range items {
		buf = appendItem(buf[:0], &items[i])
		sum := sha256.Sum256(buf)
		a += binary.LittleEndian.Uint64(sum[0:8])
		b += binary.LittleEndian.Uint64(sum[8:16])
	}
	return fmt.Sprintf("%d-%016x%016x", len(items), a, b)
}

// appendItem appends every field of it, separated, to buf.
func appendItem(buf []byte, it *domain.OpenItem) []byte {
	for _, s := range []string{it.ID, it.CustomerID, it.CustomerName, it.DocumentNumber, it.PaymentReference,
		it.IssueDate.Format(time.RFC3339Nano), it.DueDate.Format(time.RFC3339Nano), it.Currency,
		it.Amount.String(), it.Residual.String()} {
		buf = append(buf, s...)
		buf = append(buf, 0)
	}
	for _, s := range it.IBANs {
		buf = append(buf, s...)
		buf = append(buf, 1)
	}
	return buf
}

// ExamState reads the job's part of the examination fingerprint: its
// revision, the learned facts, the due batch entries (as DueWaiting counts
// them) and the refusals within their retry window; and the fingerprint
// last recorded.
func (s *Store) ExamState(ctx context.Context, job string, now, waitCutoff time.Time) (e ExamInputs, recorded string, err error) {
	q := s.onDB()
	err = q.QueryRowContext(ctx, `SELECT revision, examined FROM job_state WHERE job = ?`, job).Scan(&e.Revision, &recorded)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return e, "", fmt.Errorf("reading the state revision of job %q: %w", job, err)
	}
	if err = q.QueryRowContext(ctx, `SELECT COUNT(*) FROM memory`).Scan(&e.Memory); err != nil {
		return e, "", fmt.Errorf("counting learned facts: %w", err)
	}
	if err = q.QueryRowContext(ctx, `SELECT COUNT(*) FROM transactions WHERE job = ? AND state = ? AND first_seen_at < ?`,
		job, decide.TxWaiting, waitCutoff.UTC().Format(time.RFC3339Nano)).Scan(&e.DueWaiting); err != nil {
		return e, "", fmt.Errorf("counting due batch entries: %w", err)
	}
	rows, err := q.QueryContext(ctx, `SELECT applied_at FROM decisions WHERE job = ? AND state = '`+decide.DecRejected+`'`, job)
	if err != nil {
		return e, "", fmt.Errorf("reading refused letters: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var at string
		if err = rows.Scan(&at); err != nil {
			return e, "", fmt.Errorf("reading refused letters: %w", err)
		}
		if t, perr := time.Parse(time.RFC3339Nano, at); perr == nil && now.Sub(t) < decide.RejectedRetryAfter {
			e.Refusals++
		}
	}
	if err = rows.Err(); err != nil {
		return e, "", fmt.Errorf("reading refused letters: %w", err)
	}
	e.Day = now.UTC().Format("2006-01-02")
	return e, recorded, nil
}

// RecordExamined records the fingerprint of an examination: one that
// changed nothing (settled) unless the state moved on meanwhile (another
// writer); one that changed decisions marked so, for the next pass's
// summary.
func (s *Store) RecordExamined(ctx context.Context, job string, e ExamInputs, settled bool, at time.Time) error {
	text, cond := e.String(), " WHERE job_state.revision = excluded.revision"
	if !settled {
		text, cond = text+ChangedMark, ""
	}
	if _, err := s.onDB().ExecContext(ctx, `INSERT INTO job_state (job, revision, examined, examined_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (job) DO UPDATE SET examined = excluded.examined, examined_at = excluded.examined_at`+cond,
		job, e.Revision, text, at.UTC().Format(time.RFC3339Nano)); err != nil {
		return fmt.Errorf("recording the examination of job %q: %w", job, err)
	}
	return nil
}

// ChangedMark ends the recorded fingerprint of an examination that changed
// decisions: the next pass examines again.
const ChangedMark = "|changed"

// Empty reports whether a commit writes nothing.
func (c Commit) Empty() bool {
	return len(c.Files) == 0 && len(c.Decisions) == 0 && len(c.Learned) == 0 && len(c.Deliveries) == 0 && len(c.Enriched) == 0
}

// ReportedFigures are the figures of the reports last written, kept with
// their key so that a pass that finds them current need not read every
// exception again.
type ReportedFigures struct {
	Key        string
	Exceptions int
	Cash       map[string]domain.Amount
}

// Encode is the figures as stored: key, count, then currency=amount pairs,
// tab-separated.
func (f ReportedFigures) Encode() string {
	parts := []string{f.Key, strconv.Itoa(f.Exceptions)}
	for _, c := range decide.Currencies(f.Cash) {
		parts = append(parts, c+"="+f.Cash[c].String())
	}
	return strings.Join(parts, "\t")
}

// DecodeReported reads what encode wrote (ok false for anything else).
func DecodeReported(s string) (f ReportedFigures, ok bool) {
	parts := strings.Split(s, "\t")
	if len(parts) < 2 {
		return f, false
	}
	n, err := strconv.Atoi(parts[1])
	if err != nil {
		return f, false
	}
	f = ReportedFigures{Key: parts[0], Exceptions: n, Cash: map[string]domain.Amount{}}
	for _, p := range parts[2:] {
		c, a, found := strings.Cut(p, "=")
		amt, err := domain.ParseAmount(a)
		if !found || err != nil {
			return f, false
		}
		f.Cash[c] = amt
	}
	return f, true
}

// ReportState reads the job's revision now and the figures of the reports
// last written.
func (s *Store) ReportState(ctx context.Context, job string) (revision int64, last ReportedFigures, err error) {
	var text string
	err = s.onDB().QueryRowContext(ctx, `SELECT revision, reported FROM job_state WHERE job = ?`, job).Scan(&revision, &text)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, last, nil
	}
	if err != nil {
		return 0, last, fmt.Errorf("reading the reports state of job %q: %w", job, err)
	}
	last, _ = DecodeReported(text)
	return revision, last, nil
}

// RecordReported records the figures of the reports just written from the
// state at revision (nothing when the state moved on meanwhile).
func (s *Store) RecordReported(ctx context.Context, job string, revision int64, f ReportedFigures) error {
	if _, err := s.onDB().ExecContext(ctx, `UPDATE job_state SET reported = ? WHERE job = ? AND revision = ?`,
		f.Encode(), job, revision); err != nil {
		return fmt.Errorf("recording the reports of job %q: %w", job, err)
	}
	return nil
}
