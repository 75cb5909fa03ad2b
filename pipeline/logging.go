package pipeline

import (
	"context"
	"io"
	"log/slog"

	"github.com/lettrage/lettrage/pipeline/decide"
)

// NewLogger returns the daemon's structured logger (text or JSON) at level.
// Every message and string attribute passes through MaskIBANs: an IBAN that
// reaches a log line — in an error from a bank file, say — shows only its
// country, check digits and last four characters.
func NewLogger(w io.Writer, level, format string) *slog.Logger {
	var lv slog.Level
	_ = lv.UnmarshalText([]byte(level))
	return NewLevelLogger(w, lv, format)
}

// NewLevelLogger is NewLogger at a level that may change (a *slog.LevelVar:
// the daemon's reload).
func NewLevelLogger(w io.Writer, lv slog.Leveler, format string) *slog.Logger {
	opts := &slog.HandlerOptions{Level: lv}
	var h slog.Handler = slog.NewTextHandler(w, opts)
	if format == "json" {
		h = slog.NewJSONHandler(w, opts)
	}
	return slog.New(maskingHandler{h})
}

type maskingHandler struct{ next slog.Handler }

func (m maskingHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return m.next.Enabled(ctx, l)
}

func (m maskingHandler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, decide.MaskIBANs(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(maskAttr(a))
		return true
	})
	return m.next.Handle(ctx, out)
}

func (m maskingHandler) WithAttrs(as []slog.Attr) slog.Handler {
	masked := make([]slog.Attr, len(as))
	for i, a := range as {
		masked[i] = maskAttr(a)
	}
	return maskingHandler{m.next.WithAttrs(masked)}
}

func (m maskingHandler) WithGroup(name string) slog.Handler {
	return maskingHandler{m.next.WithGroup(name)}
}

func maskAttr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, decide.MaskIBANs(v.String()))
	case slog.KindGroup:
		g := v.Group()
		out := make([]slog.Attr, len(g))
		for i, x := range g {
			out[i] = maskAttr(x)
		}
		return slog.Attr{Key: a.Key, Value: slog.GroupValue(out...)}
	case slog.KindAny:
		if err, ok := v.Any().(error); ok {
			return slog.String(a.Key, decide.MaskIBANs(err.Error()))
		}
	}
	return a
}
