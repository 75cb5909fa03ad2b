package state

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/lettrage/lettrage/domain"
	"github.com/lettrage/lettrage/pipeline/decide"
)

// Prior is what earlier passes recorded, as the identity rule of the pass
// (pipeline/identity.go) looks it up; nil for a stateless pass.
type Prior interface {
	// ByClass returns the recorded transactions of these classes
	// (decide.IdentClass).
	ByClass(ctx context.Context, classes []string) ([]Recorded, error)
	// Taken reports which of these transaction keys are recorded.
	Taken(ctx context.Context, keys []string) (map[string]bool, error)
	// Linked returns the recorded batch entries and details under these
	// link keys (decide.LinkKeys).
	Linked(ctx context.Context, links []string) ([]Linked, error)
}

// Recorded is a transaction an earlier pass recorded.
type Recorded struct {
	Key   string
	Tx    *domain.Transaction
	File  string // content hash of the file it was first read from
	State string // its state in the store
}

// Linked is a recorded batch entry or batch detail sharing a link key,
// with the decision it shows.
type Linked struct {
	Link     string
	Role     string // decide.LinkBatch or decide.LinkDetail
	Recorded Recorded
	Decision domain.Decision
}

// storePrior is the state store seen by the identity rule.
type storePrior struct {
	s   *Store
	job string
}

// inChunks runs fn over vals in slices small enough for one IN list.
func inChunks(vals []string, fn func(part []string) error) error {
	const chunk = 500
	for start := 0; start < len(vals); start += chunk {
		if err := fn(vals[start:min(start+chunk, len(vals))]); err != nil {
			return err
		}
	}
	return nil
}

// byClassQuery is ByClass's query for n classes. On SQLite the order is
// written "+key": without the statistics of ANALYZE its planner satisfied
// "ORDER BY key" by walking the primary key, reading every transaction of
// the job to test its class (0.9 s of a 1 % delta pass at 100,000
// payments, for the 115 classes of one new file), where the class index
// finds the few rows and sorts them. PostgreSQL plans it well as written.
func byClassQuery(n int, d Dialect) string {
	order := "key"
	if d == SQLite {
		order = "+key"
	}
	return `SELECT ` + txCols("t") + `, t.state, t.file_hash FROM transactions t
			WHERE job = ? AND ident IN (` + placeholders(n) + `) ORDER BY ` + order
}

func (p storePrior) ByClass(ctx context.Context, classes []string) ([]Recorded, error) {
	var out []Recorded
	err := inChunks(classes, func(part []string) error {
		args := []any{p.job}
		for _, c := range part {
			args = append(args, c)
		}
		rows, err := p.s.onDB().QueryContext(ctx, byClassQuery(len(part), p.s.dialect), args...)
		if err != nil {
			return fmt.Errorf("looking up recorded transactions: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var k Recorded
			var r txRow
			if err := rows.Scan(append(r.dest(), &k.State, &k.File)...); err != nil {
				return fmt.Errorf("reading recorded transactions: %w", err)
			}
			k.Key, k.Tx = r.key, new(domain.Transaction)
			if err := r.decode(k.Tx); err != nil {
				return err
			}
			out = append(out, k)
		}
		return rows.Err()
	})
	return out, err
}

func (p storePrior) Taken(ctx context.Context, keys []string) (map[string]bool, error) {
	return p.s.KnownTransactions(ctx, p.job, keys)
}

func (p storePrior) Linked(ctx context.Context, links []string) ([]Linked, error) {
	var out []Linked
	err := inChunks(links, func(part []string) error {
		args := []any{p.job}
		for _, l := range part {
			args = append(args, l)
		}
		rows, err := p.s.onDB().QueryContext(ctx, `SELECT l.link, l.role, `+txCols("t")+`, t.state, t.file_hash, `+txDecision+`
			FROM tx_links l JOIN transactions t ON t.job = l.job AND t.key = l.tx_key
			WHERE l.job = ? AND l.link IN (`+placeholders(len(part))+`) ORDER BY l.link, t.key`, args...)
		if err != nil {
			return fmt.Errorf("looking up batch links: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var r Linked
			var tr txRow
			var dec string
			if err := rows.Scan(append(append([]any{&r.Link, &r.Role}, tr.dest()...), &r.Recorded.State, &r.Recorded.File, &dec)...); err != nil {
				return fmt.Errorf("reading batch links: %w", err)
			}
			r.Recorded.Key, r.Recorded.Tx = tr.key, new(domain.Transaction)
			if err := tr.decode(r.Recorded.Tx); err != nil {
				return err
			}
			if err := json.Unmarshal([]byte(dec), &r.Decision); err != nil {
				return fmt.Errorf("decoding stored decision of %q: %w", r.Recorded.Key, err)
			}
			out = append(out, r)
		}
		return rows.Err()
	})
	return out, err
}

// AllLetters implements StateStore.
func (s *Store) AllLetters(ctx context.Context, job, txKey string) ([]decide.AutoDecision, error) {
	return s.letters(ctx, s.onDB(), job, txKey)
}

// Prior implements StateStore: the identity rule looks up the store.
func (s *Store) Prior(job string) Prior { return storePrior{s, job} }
