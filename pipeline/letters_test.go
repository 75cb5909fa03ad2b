package pipeline

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/lettrage/lettrage/connectors"
	"github.com/lettrage/lettrage/domain"
	"github.com/lettrage/lettrage/pipeline/decide"
)

// batchLedger records the batches it is handed, refuses the keys of
// refuse for business reasons and fails on the batch holding failOn.
type batchLedger struct {
	connectors.Ledger
	batches [][]string
	refuse  map[string]bool
	failOn  string
}

func (l *batchLedger) Apply(_ context.Context, batch []connectors.KeyedDecision) error {
	var keys []string
	var rej []error
	for _, kd := range batch {
		keys = append(keys, kd.Key)
		if kd.Key == l.failOn {
			l.batches = append(l.batches, keys)
			return errors.New("disk full")
		}
		if l.refuse[kd.Key] {
			rej = append(rej, &connectors.RejectedError{Key: kd.Key, Reason: "paid"})
		}
	}
	l.batches = append(l.batches, keys)
	return errors.Join(rej...)
}

// The write-back hands the ledger one batch per statement file, in the
// outbox's order: the keys it held already are confirmed without being
// handed again, a refused key is neither applied nor confirmed, and a
// failing batch stops the write-back with what came before confirmed and
// nothing after handed.
func TestLettersBatchPerFileInOrder(t *testing.T) {
	var list []decide.PendingDecision
	for _, d := range []struct{ key, file string }{
		{"a1", "A"}, {"a2", "A"}, {"b1", "B"}, {"c1", "C"}, {"c2", "C"}, {"c3", "C"}, {"d1", "D"}, {"e1", "E"},
	} {
		list = append(list, decide.PendingDecision{Key: d.key, FileHash: d.file,
			Decision: domain.Decision{Outcome: domain.Auto}})
	}
	ob := &outbox{list: list}
	all := make([]int32, len(list))
	for i := range all {
		all[i] = int32(i)
	}
	run := func(led *batchLedger, have map[string]bool) (*writing, error) {
		j := &Job{Name: "j", Ledger: led, Store: newMemoryStore()}
		w := &writing{j: j, log: slog.New(slog.NewTextHandler(io.Discard, nil)), have: have, refused: map[string]string{}}
		return w, w.letters(context.Background(), ob, all)
	}

	led := &batchLedger{refuse: map[string]bool{"c2": true}}
	w, err := run(led, map[string]bool{"b1": true, "c1": true})
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{{"a1", "a2"}, {"c2", "c3"}, {"d1"}, {"e1"}}
	if !slices.EqualFunc(led.batches, want, slices.Equal) {
		t.Errorf("batches %v, want %v", led.batches, want)
	}
	if done := []string{"a1", "a2", "b1", "c1", "c3", "d1", "e1"}; !slices.Equal(w.done, done) || w.applied != 5 {
		t.Errorf("done %v (applied %d), want %v (5)", w.done, w.applied, done)
	}
	if w.refused["c2"] != "paid" {
		t.Errorf("refused %v, want c2", w.refused)
	}

	led = &batchLedger{failOn: "c3"}
	w, err = run(led, nil)
	if err == nil {
		t.Fatal("a failing batch did not stop the write-back")
	}
	want = [][]string{{"a1", "a2"}, {"b1"}, {"c1", "c2", "c3"}}
	if !slices.EqualFunc(led.batches, want, slices.Equal) {
		t.Errorf("batches %v, want %v", led.batches, want)
	}
	if done := []string{"a1", "a2", "b1"}; !slices.Equal(w.done, done) {
		t.Errorf("done %v, want %v", w.done, done)
	}
}

// countingSource is an outbox over list that records which decisions were
// made into a batch (keyed).
type countingSource struct {
	list []decide.PendingDecision
	mu   sync.Mutex
	made []string
}

func (s *countingSource) len() int                         { return len(s.list) }
func (s *countingSource) get(i int) decide.PendingDecision { return s.list[i] }
func (s *countingSource) head(i int) (key, file, reverses string) {
	return s.list[i].Key, s.list[i].FileHash, s.list[i].Reverses
}

func (s *countingSource) keyed(i int) connectors.KeyedDecision {
	s.mu.Lock()
	s.made = append(s.made, s.list[i].Key)
	s.mu.Unlock()
	p := &s.list[i]
	return connectors.KeyedDecision{Key: p.Key, Tx: p.Tx, Decision: p.Decision, Items: p.Items}
}

// The next batch is made while the ledger writes the current one, never
// two ahead, and making stops when the write-back fails: once letters has
// returned, nothing more is made.
func TestLettersMakeOneBatchAhead(t *testing.T) {
	var list []decide.PendingDecision
	for _, d := range []struct{ key, file string }{
		{"a1", "A"}, {"b1", "B"}, {"c1", "C"}, {"d1", "D"}, {"e1", "E"},
	} {
		list = append(list, decide.PendingDecision{Key: d.key, FileHash: d.file, Decision: domain.Decision{Outcome: domain.Auto}})
	}
	src := &countingSource{list: list}
	all := []int32{0, 1, 2, 3, 4}
	led := &batchLedger{failOn: "b1"}
	j := &Job{Name: "j", Ledger: led, Store: newMemoryStore()}
	w := &writing{j: j, log: slog.New(slog.NewTextHandler(io.Discard, nil)), refused: map[string]string{}}
	if err := w.letters(context.Background(), &outbox{src: src}, all); err == nil {
		t.Fatal("a failing batch did not stop the write-back")
	}
	src.mu.Lock()
	made := slices.Clone(src.made)
	src.mu.Unlock()
	// a1 applied, b1 failing, c1 made (or not yet) while b1 was written;
	// d1 would be two ahead.
	if !slices.Equal(made, []string{"a1", "b1", "c1"}) && !slices.Equal(made, []string{"a1", "b1"}) {
		t.Errorf("made %v, want a1 b1 and at most c1", made)
	}
	time.Sleep(10 * time.Millisecond)
	src.mu.Lock()
	defer src.mu.Unlock()
	if !slices.Equal(src.made, made) {
		t.Errorf("made %v after the write-back had returned (%v before)", src.made, made)
	}
}
