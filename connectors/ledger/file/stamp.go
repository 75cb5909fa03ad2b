package file

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
)

// OpenItemsStamp implements connectors.OpenItemsStamper: the size and
// modification time of the three files OpenItems reads — the export, the
// journal and the unletterings journal — ("absent" for a file not there).
// Any write to one of them changes its size or time; the statements'
// listing relies on the same (path, size, time) identity.
func (l *Ledger) OpenItemsStamp(ctx context.Context) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("stamping open items: %w", err)
	}
	var b strings.Builder
	b.WriteString("file-v1")
	for _, path := range []string{l.cfg.OpenItems, l.cfg.Journal, l.unletteringsPath()} {
		b.WriteByte('|')
		b.WriteString(path)
		b.WriteByte('=')
		info, err := os.Stat(path)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			b.WriteString("absent")
		case err != nil:
			return "", fmt.Errorf("stamping open items: %w", err)
		default:
			b.WriteString(strconv.FormatInt(info.Size(), 10))
			b.WriteByte('@')
			b.WriteString(strconv.FormatInt(info.ModTime().UnixNano(), 10))
		}
	}
	return b.String(), nil
}

// OpenItemsLasting implements connectors.OpenItemsStamper: the items last
// read stay the same under the same files unless an as_of after the clock
// left some unplaced (a later pass may place them).
func (l *Ledger) OpenItemsLasting() bool {
	n := l.LastLoad()
	return n != nil && n.future == 0
}
