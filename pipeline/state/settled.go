package state

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/lettrage/lettrage/domain"
	"github.com/lettrage/lettrage/matcher"
	"github.com/lettrage/lettrage/pipeline/decide"
)

// SettledItems returns the open items, as they were when lettered, that
// the job's letters committed since the given time took cash from (or
// closed by a cash discount), except letters the ledger refused and
// letters undone by a reversal. The matcher gets them as Memory.Settled:
// a payment naming one of them that is no longer open pays it a second
// time (issue 14: a second pass must not letter it elsewhere because the
// payer's account was learned meanwhile). Sorted by item ID, each once.
func (s *Store) SettledItems(ctx context.Context, job string, since time.Time) ([]domain.OpenItem, error) {
	undone, err := s.undoneLetters(ctx, job)
	if err != nil {
		return nil, err
	}
	rows, err := s.onDB().QueryContext(ctx, settledQuery(s.dialect),
		job, string(domain.Auto), decide.DecRejected, since.UTC().Format(time.RFC3339Nano))
	if err != nil {
		return nil, fmt.Errorf("reading settled items: %w", err)
	}
	defer rows.Close()
	byID := map[string]settledSnapshot{}
	for rows.Next() {
		var key, txKey, data string
		if err := rows.Scan(&key, &txKey, &data); err != nil {
			return nil, fmt.Errorf("reading settled items: %w", err)
		}
		if undone[key] {
			continue
		}
		if err := eachSettled(key, txKey, data, func(it domain.OpenItem, txKey, from string) {
			keepSettled(byID, it, txKey, from)
		}); err != nil {
			return nil, err
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading settled items: %w", err)
	}
	out := make([]domain.OpenItem, 0, len(byID))
	for _, sn := range byID {
		out = append(out, sn.item)
	}
	sort.Slice(out, func(a, b int) bool { return out[a].ID < out[b].ID })
	return out, nil
}

// undoneLetters returns the keys of the job's letters a reversal the
// ledger did not refuse undoes.
func (s *Store) undoneLetters(ctx context.Context, job string) (map[string]bool, error) {
	undone := map[string]bool{}
	rows, err := s.onDB().QueryContext(ctx, `SELECT reverses FROM decisions WHERE job = ? AND reverses <> '' AND state <> ?`,
		job, decide.DecRejected)
	if err != nil {
		return nil, fmt.Errorf("reading reversals: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, fmt.Errorf("reading reversals: %w", err)
		}
		undone[k] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading reversals: %w", err)
	}
	return undone, nil
}

// settledSnapshot is an item as a letter left it, and that letter.
type settledSnapshot struct {
	item        domain.OpenItem
	txKey, from string
}

// keepSettled keeps in byID the snapshot of it that letter from (of
// transaction txKey) gives when no letter of a greater transaction key,
// then decision key, gave one. An item settled by several letters (paid
// in parts) is given as the letter of the greatest transaction key, then
// decision key, left it: the order SQLite's index on (job, tx_key) gave
// the rows when the last one read won, now whatever order the rows come
// in.
func keepSettled(byID map[string]settledSnapshot, it domain.OpenItem, txKey, from string) {
	if was, ok := byID[it.ID]; ok && (was.txKey > txKey || was.txKey == txKey && was.from > from) {
		return
	}
	byID[it.ID] = settledSnapshot{it, txKey, from}
}

// eachSettled calls fn with each item of the items column data of letter
// key, with its ID set.
func eachSettled(key, txKey, data string, fn func(it domain.OpenItem, txKey, from string)) error {
	if data == "" || data == "null" {
		return nil
	}
	var items map[string]domain.OpenItem
	if err := json.Unmarshal([]byte(data), &items); err != nil {
		return fmt.Errorf("decoding the items of letter %s: %w", key, err)
	}
	for id, it := range items {
		if it.ID == "" {
			it.ID = id
		}
		fn(it, txKey, key)
	}
	return nil
}

// settledQuery is SettledItems' query of the letters' items. On SQLite it
// reads the table in its own order (NOT INDEXED): most of a job's
// decisions are letters, and its planner otherwise walked the index
// (job, tx_key) to look each row up in the table, three times the cost of
// reading the table through (0.3 s of a 1 % delta pass at 100,000
// payments). PostgreSQL chooses its own plan.
func settledQuery(d Dialect) string {
	from := "decisions"
	if d == SQLite {
		from = "decisions NOT INDEXED"
	}
	return `SELECT key, tx_key, items FROM ` + from + `
		WHERE job = ? AND outcome = ? AND reverses = '' AND state <> ? AND decided_at >= ?`
}

// The settled items looked up (issue 18, settled18). Every pass with work
// read the items of every letter of the last 400 days (SettledItems: at
// 1,000,000 payments 770,000 items, 11.9 s of a 1 % delta pass) for the
// few the payments name. The keys the matcher files a settled item under
// (matcher.SettledKeys: its reference, its number as written and without
// zeros) are kept apart, in settled_keys, with the letter that settled it,
// and the item's ID ("i:" and the ID) with each of its letters, so that a
// pass reads only the letters of the items its payments can name
// (matcher.NamedKeys) and, for each, every other letter of that item (the
// snapshot given is the letter of the greatest transaction key, as
// SettledItems gives it). Rows are written with the letter, in the
// commit's transaction, for automatic decisions that are not reversals;
// whether a letter still stands (not refused, not reversed, decided
// within the window) is read from decisions at each pass, as
// SettledItems does. A key left behind by a compaction (which drops the
// items' references) only makes a pass read one letter more.

// settledItemKey is the settled_keys key of an item's ID.
const settledItemKey = "i:"

// settledKeysTable creates settled_keys: a table clustered on its key
// on SQLite (WITHOUT ROWID: the rows are the index), on PostgreSQL a
// table and its primary key.
func settledKeysTable(pg bool) string {
	t := `CREATE TABLE settled_keys (job TEXT NOT NULL, k TEXT NOT NULL, letter TEXT NOT NULL,
		PRIMARY KEY (job, k, letter))`
	if !pg {
		t += ` WITHOUT ROWID`
	}
	return t
}

// settledKeysOf calls fn with the settled_keys keys of a letter's items.
func settledKeysOf(items map[string]domain.OpenItem, fn func(k string)) {
	for id, it := range items {
		if it.ID == "" {
			it.ID = id
		}
		fn(settledItemKey + it.ID)
		matcher.SettledKeys(&it, fn)
	}
}

// settles reports whether a decision's row is one SettledItems reads: an
// automatic letter that undoes none, with items.
func settles(outcome domain.Outcome, reverses string, items map[string]domain.OpenItem) bool {
	return outcome == domain.Auto && reverses == "" && len(items) > 0
}

// backfillSettledKeys creates settled_keys and fills it from the letters
// recorded before it, a chunk of letters at a time (PostgreSQL reads no
// rows while it writes on the same connection).
func backfillSettledKeys(ctx context.Context, q dialectQ) error {
	if _, err := q.ExecContext(ctx, settledKeysTable(q.pg)); err != nil {
		return fmt.Errorf("creating settled_keys: %w", err)
	}
	// multi-row INSERTs of batchRows rows (one statement per row was
	// 7.7 s of CPU for the 307,549 rows of 100,000 payments)
	var args []any
	flush := func() error {
		if len(args) == 0 {
			return nil
		}
		q0 := `INSERT INTO settled_keys (job, k, letter) VALUES ` +
			strings.TrimSuffix(strings.Repeat("(?, ?, ?),", len(args)/3), ",") + ` ON CONFLICT (job, k, letter) DO NOTHING`
		if !q.pg {
			q0 = strings.Replace(q0, "INSERT INTO", "INSERT OR IGNORE INTO", 1)
			q0 = strings.TrimSuffix(q0, ` ON CONFLICT (job, k, letter) DO NOTHING`)
		}
		_, err := q.ExecContext(ctx, q0, args...)
		args = args[:0]
		return err
	}
	const chunk = 5000
	lastJob, lastKey := "", ""
	for {
		rows, err := collect(ctx, q, `SELECT job, key, items FROM decisions
			WHERE (job > ? OR job = ? AND key > ?) AND outcome = ? AND reverses = '' AND items <> '' AND items <> 'null'
			ORDER BY job, key LIMIT `+strconv.Itoa(chunk), lastJob, lastJob, lastKey, string(domain.Auto))
		if err != nil {
			return fmt.Errorf("reading the letters to index their items: %w", err)
		}
		for _, r := range rows {
			var items map[string]domain.OpenItem
			if err := json.Unmarshal([]byte(r[2]), &items); err != nil {
				return fmt.Errorf("decoding the items of letter %s: %w", r[1], err)
			}
			var werr error
			settledKeysOf(items, func(k string) {
				if werr != nil {
					return
				}
				if args = append(args, r[0], k, r[1]); len(args) == 3*batchRows {
					if err := flush(); err != nil {
						werr = fmt.Errorf("indexing the items of letter %s: %w", r[1], err)
					}
				}
			})
			if werr != nil {
				return werr
			}
		}
		if len(rows) < chunk {
			if err := flush(); err != nil {
				return fmt.Errorf("indexing the items of letters: %w", err)
			}
			return nil
		}
		lastJob, lastKey = rows[len(rows)-1][0], rows[len(rows)-1][1]
	}
}

// settledKeysBatch is the multi-row INSERT of a commit's settled_keys
// rows (newCommitWriter makes it INSERT OR IGNORE on SQLite).
func settledKeysBatch() rowBatch {
	return rowBatch{head: `INSERT INTO settled_keys (job, k, letter)`, tail: ` ON CONFLICT (job, k, letter) DO NOTHING`, width: 3}
}

// settledKeys batches the settled_keys rows of a decision committed;
// items are the decision's items as the commit stores them
// (decide.ItemsOf: an automatic letter of the pass has them only in the
// commit's Snapshots).
func (w *commitWriter) settledKeys(ctx context.Context, d decide.DecisionRecord, items map[string]domain.OpenItem) error {
	if !settles(d.Decision.Outcome, d.Reverses, items) {
		return nil
	}
	var err error
	seen := make(map[string]bool, 4*len(items))
	settledKeysOf(items, func(k string) {
		switch {
		case err != nil || seen[k]:
		case w.keyOrder:
			seen[k] = true
			w.keyRows = append(w.keyRows, keyRow{k: k, letter: d.Key})
		default:
			seen[k] = true
			err = w.keys.add(ctx, w.pq, w.c.Job, k, d.Key)
		}
	})
	if err != nil {
		return fmt.Errorf("recording the keys of the items of %q: %w", d.Tx.Ref, err)
	}
	return nil
}

// SettledItemsNamed is SettledItems for the items a pass's payments can
// name: those with a key (matcher.SettledKeys) in named, sorted (the keys
// matcher.NamedKeys gives). Memory.Settled so cut decides as SettledItems
// whole (matcher's TestNamedKeysDecideAsAllSettled; the pass's
// TestSettledItemsNamedAsWhole). Each such item is given as the letter of
// the greatest transaction key, then decision key, that settled it, as
// SettledItems gives it: every letter of it is read.
func (s *Store) SettledItemsNamed(ctx context.Context, job string, since time.Time, named []string) ([]domain.OpenItem, error) {
	undone, err := s.undoneLetters(ctx, job)
	if err != nil {
		return nil, err
	}
	letters, err := s.settledLetters(ctx, job, named)
	if err != nil {
		return nil, err
	}
	byID := map[string]settledSnapshot{}
	read := map[string]bool{}
	// the letters of the keys named, then every other letter of the items
	// they settled whose snapshot has a key named
	items := map[string]bool{}
	if err := s.readSettled(ctx, job, since, letters, undone, read, func(it domain.OpenItem, txKey, from string) {
		hit := false
		matcher.SettledKeys(&it, func(k string) {
			_, found := slices.BinarySearch(named, k)
			hit = hit || found
		})
		if hit {
			items[it.ID] = true
		}
		keepSettled(byID, it, txKey, from)
	}); err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(items))
	for id := range items {
		ids = append(ids, settledItemKey+id)
	}
	slices.Sort(ids)
	more, err := s.settledLetters(ctx, job, ids)
	if err != nil {
		return nil, err
	}
	if err := s.readSettled(ctx, job, since, more, undone, read, func(it domain.OpenItem, txKey, from string) {
		if items[it.ID] {
			keepSettled(byID, it, txKey, from)
		}
	}); err != nil {
		return nil, err
	}
	out := make([]domain.OpenItem, 0, len(items))
	for id := range items {
		out = append(out, byID[id].item)
	}
	sort.Slice(out, func(a, b int) bool { return out[a].ID < out[b].ID })
	return out, nil
}

// inBatch is how many values one IN list of the settled look-ups carries.
const inBatch = 500

// settledLetters returns the letters settled_keys files under keys, each
// once.
func (s *Store) settledLetters(ctx context.Context, job string, keys []string) ([]string, error) {
	seen := map[string]bool{}
	var out []string
	for lo := 0; lo < len(keys); lo += inBatch {
		batch := keys[lo:min(lo+inBatch, len(keys))]
		var rows *sql.Rows
		var err error
		if s.dialect == Postgres {
			// One array, not an IN list of 500 parameters: after five
			// executions PostgreSQL plans a cached statement generically,
			// and its generic plan of the IN list scanned the whole table
			// (550 ms a look-up, 58 s of the server's CPU in a 1M delta).
			rows, err = s.onDB().QueryContext(ctx, `SELECT letter FROM settled_keys WHERE job = ? AND k = ANY(?)`, job, batch)
		} else {
			args := make([]any, 0, len(batch)+1)
			args = append(args, job)
			for _, k := range batch {
				args = append(args, k)
			}
			rows, err = s.onDB().QueryContext(ctx, `SELECT letter FROM settled_keys WHERE job = ? AND k IN (`+placeholders(len(batch))+`)`, args...)
		}
		if err != nil {
			return nil, fmt.Errorf("looking settled items up: %w", err)
		}
		for rows.Next() {
			var l string
			if err := rows.Scan(&l); err != nil {
				rows.Close()
				return nil, fmt.Errorf("looking settled items up: %w", err)
			}
			if !seen[l] {
				seen[l] = true
				out = append(out, l)
			}
		}
		if err := rows.Close(); err != nil {
			return nil, fmt.Errorf("looking settled items up: %w", err)
		}
	}
	slices.Sort(out)
	return out, nil
}

// readSettled calls fn with the items of the letters that stand among
// letters (SettledItems' conditions: automatic, no reversal, not refused,
// decided since, not undone), reading each letter not in read once and
// adding it to read.
func (s *Store) readSettled(ctx context.Context, job string, since time.Time, letters []string, undone, read map[string]bool,
	fn func(it domain.OpenItem, txKey, from string)) error {
	todo := make([]string, 0, len(letters))
	for _, l := range letters {
		if !read[l] && !undone[l] {
			read[l] = true
			todo = append(todo, l)
		}
	}
	at := since.UTC().Format(time.RFC3339Nano)
	for lo := 0; lo < len(todo); lo += inBatch {
		batch := todo[lo:min(lo+inBatch, len(todo))]
		args := make([]any, 0, len(batch)+4)
		args = append(args, job, string(domain.Auto), decide.DecRejected, at)
		for _, k := range batch {
			args = append(args, k)
		}
		rows, err := s.onDB().QueryContext(ctx, `SELECT key, tx_key, items FROM decisions
			WHERE job = ? AND outcome = ? AND reverses = '' AND state <> ? AND decided_at >= ? AND key IN (`+placeholders(len(batch))+`)`, args...)
		if err != nil {
			return fmt.Errorf("reading settled items: %w", err)
		}
		for rows.Next() {
			var key, txKey, data string
			if err := rows.Scan(&key, &txKey, &data); err != nil {
				rows.Close()
				return fmt.Errorf("reading settled items: %w", err)
			}
			if err := eachSettled(key, txKey, data, fn); err != nil {
				rows.Close()
				return err
			}
		}
		if err := rows.Close(); err != nil {
			return fmt.Errorf("reading settled items: %w", err)
		}
	}
	return nil
}

// LoadMemoryNamed is LoadMemory with the settled items the keys named()
// name (SettledItemsNamed) instead of all of them: what a pass gives the
// matcher, named giving matcher.NamedKeys of the payments it decides. It
// is not called when the job has no settled item (a first pass: naming
// the keys of 100,000 payments and looking them up was 3.4 s of CPU).
func (s *Store) LoadMemoryNamed(ctx context.Context, job string, since time.Time, lettered bool, named func() []string) (matcher.Memory, error) {
	mem, err := s.learnedMemory(ctx, job, since, lettered)
	if err != nil {
		return mem, err
	}
	var has int
	err = s.onDB().QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM settled_keys WHERE job = ? LIMIT 1) one`, job).Scan(&has)
	if err != nil {
		return mem, fmt.Errorf("looking settled items up: %w", err)
	}
	if has == 0 {
		return mem, nil
	}
	if mem.Settled, err = s.SettledItemsNamed(ctx, job, since, named()); err != nil {
		return mem, err
	}
	return mem, nil
}

// mmapSize is the memory map SQLite is given for a pass's reading steps
// (MapReads): larger than the state of 1,000,000 payments (2.2 GB).
const mmapSize = 8 << 30

// MapReads gives SQLite a memory map of the state file (on) or takes it
// back: the pages read are then read in place, not copied into the page
// cache (fewer reads, and fewer pages to free at close). The pages
// touched count as resident while mapped, so the pass maps only for its
// reading steps (the identity rule, the open exceptions, the memory) and
// unmaps before it commits. PostgreSQL: nothing to do.
func (s *Store) MapReads(ctx context.Context, on bool) error {
	if s.dialect != SQLite {
		return nil
	}
	n := 0
	if on {
		n = mmapSize
	}
	if _, err := s.db.ExecContext(ctx, `PRAGMA mmap_size = `+strconv.Itoa(n)); err != nil {
		return fmt.Errorf("setting the state store's memory map: %w", err)
	}
	return nil
}
