package pipeline

import (
	"context"
	"errors"
	"log/slog"

	"github.com/lettrage/lettrage/connectors"
	"github.com/lettrage/lettrage/pipeline/state"
)

// What a pass does with the statement files it refuses (refused.go holds
// what the store keeps of them): a file refused before is held again
// without being reported again, a new refusal is remembered, and the held
// files are counted for the metric.

// refusable reports whether a statement file that could not be read was
// refused for its content (and so is held), rather than not read at all:
// the source unavailable, the pass cancelled, or not CAMT where only CAMT
// is looked for.
func refusable(ctx context.Context, err error) bool {
	return ctx.Err() == nil && !errors.Is(err, connectors.ErrUnavailable) && !errors.Is(err, errNotCAMT) &&
		!errors.Is(err, connectors.ErrNotFound)
}

// heldAgain looks at a file just read (hash is its content's, "" when it
// could not be read whole; readErr why it was refused, nil when it was
// read): a new version of a refused file makes the refusals of the older
// ones at the same path forgotten; content refused before (under another
// name, or put back) is held again without being reported again.
func (j *Job) heldAgain(ctx context.Context, log *slog.Logger, ref connectors.StatementRef, hash string, readErr error) (bool, error) {
	if hash == "" {
		return false, nil
	}
	n, err := j.Store.ForgetOtherVersions(ctx, j.Name, ref.Source, ref.Path, hash)
	if err != nil {
		return false, err
	}
	if n > 0 {
		log.Info("a new version of a refused statement replaces it", "component", "source", "file", ref.Path, "released", n)
	}
	if readErr == nil {
		return false, nil
	}
	held, err := j.Store.Held(ctx, j.Name, hash)
	if err != nil || !held {
		return false, err
	}
	log.Info("statement refused before (same content) and held: skipped; `lettrage release` reads it again",
		"component", "source", "file", ref.Path, "sha256", shortHashText(hash))
	// Held under this name too from now on: not read again.
	return true, j.Store.Refuse(ctx, j.Name, state.RefusedFile{Hash: hash, Source: ref.Source, Path: ref.Path,
		Size: ref.Size, ModTime: ref.ModTime, Reason: readErr.Error(), At: j.now()})
}

// rememberRefusal records a file refused for its content (hash known), so
// that later passes hold it instead of reporting it again.
func (j *Job) rememberRefusal(ctx context.Context, ref connectors.StatementRef, hash string, readErr error) error {
	if hash == "" || !refusable(ctx, readErr) {
		return nil
	}
	return j.Store.Refuse(ctx, j.Name, state.RefusedFile{Hash: hash, Source: ref.Source, Path: ref.Path,
		Size: ref.Size, ModTime: ref.ModTime, Reason: readErr.Error(), At: j.now()})
}

// countHeld sets lettrage_statement_files_held from the state store.
func (j *Job) countHeld(ctx context.Context, log *slog.Logger) {
	if j.Metrics == nil {
		return
	}
	n, err := j.Store.CountHeld(ctx, j.Name)
	if err != nil {
		log.Warn("counting held statement files", "component", "state", "err", err)
		return
	}
	j.Metrics.held(j.Name, n)
}

// shortHashText is a content hash as logs show it (16 hex digits).
func shortHashText(h string) string { return h[:min(len(h), 16)] }
