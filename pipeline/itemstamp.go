package pipeline

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/lettrage/lettrage/connectors"
)

// Open items left unread (issue 18). Reading the ledger's open items is
// most of an idle pass (a million items: seconds of CSV and journal). A
// ledger that can tell cheaply whether they may have changed
// (connectors.OpenItemsStamper: the file ledger's files' sizes and times)
// lets the pass leave them unread when the stamp, and the configuration,
// are those recorded the last time they were read: the pass uses the hash
// of the items then read (the examination fingerprint, the reports' key)
// and says what the ledger said of them then (the summary's open items
// line and announcements). When the pass needs the items after all (it
// examines the open exceptions: new statements, a new day, a new
// revision…; or it rewrites reports that show them) it reads them then
// (needItems). The SQL store alone records stamps: `lettrage match` reads
// its items once anyway.

// itemsStampMigration adds the table of the stamps (schema 10): per job,
// the ledger's stamp when the items were last read, the configuration
// hash, the hash of the items (itemsHash), and the ledger's note and
// announcements (JSON).
var itemsStampMigration = []string{
	`CREATE TABLE items_stamps (job TEXT NOT NULL PRIMARY KEY, stamp TEXT NOT NULL, config TEXT NOT NULL,
		items TEXT NOT NULL, note TEXT NOT NULL, announced TEXT NOT NULL)`,
}

// itemsRecord is a row of items_stamps.
type itemsRecord struct {
	Stamp, Config, Items, Note string
	Announced                  []string
}

// itemsRecord reads the job's stamp record (the zero record when none).
func (s *Store) itemsRecord(ctx context.Context, job string) (itemsRecord, error) {
	var r itemsRecord
	var announced string
	err := s.x().QueryRowContext(ctx, `SELECT stamp, config, items, note, announced FROM items_stamps WHERE job = ?`, job).
		Scan(&r.Stamp, &r.Config, &r.Items, &r.Note, &announced)
	if errors.Is(err, sql.ErrNoRows) {
		return itemsRecord{}, nil
	}
	if err == nil {
		err = json.Unmarshal([]byte(announced), &r.Announced)
	}
	if err != nil {
		return itemsRecord{}, fmt.Errorf("reading the open items' stamp of job %q: %w", job, err)
	}
	return r, nil
}

// recordItems records the job's stamp record.
func (s *Store) recordItems(ctx context.Context, job string, r itemsRecord) error {
	announced, err := json.Marshal(r.Announced)
	if err == nil {
		_, err = s.x().ExecContext(ctx, `INSERT INTO items_stamps (job, stamp, config, items, note, announced) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (job) DO UPDATE SET stamp = excluded.stamp, config = excluded.config, items = excluded.items,
			note = excluded.note, announced = excluded.announced`,
			job, r.Stamp, r.Config, r.Items, r.Note, string(announced))
	}
	if err != nil {
		return fmt.Errorf("recording the open items' stamp of job %q: %w", job, err)
	}
	return nil
}

// stamper is the job's ledger as an OpenItemsStamper with the SQL store
// to record stamps in, or nil when the pass reads the items every time
// (Job.OpenItems set, a full examination configured, the memory store, a
// ledger that cannot tell).
func (j *Job) stamper() (connectors.OpenItemsStamper, *Store) {
	if j.OpenItems != nil || j.FullExamination {
		return nil, nil
	}
	st, ok := j.Ledger.(connectors.OpenItemsStamper)
	s, isSQL := j.Store.(*Store)
	if !ok || !isSQL {
		return nil, nil
	}
	return st, s
}

// deferItems leaves the open items unread when the ledger's stamp and the
// configuration hash are those recorded when they were last read: the
// pass takes the recorded hash and note (deferred true). Otherwise it
// keeps the stamp, taken before reading, for recordItemsStamp.
func (p *pass) deferItems(ctx context.Context) (deferred bool, err error) {
	st, s := p.j.stamper()
	if st == nil {
		return false, nil
	}
	if p.itemsStamp, err = st.OpenItemsStamp(ctx); err != nil {
		return false, openItemsError(err)
	}
	if p.itemsStamp == "" {
		return false, nil
	}
	rec, err := s.itemsRecord(ctx, p.j.Name)
	if err != nil || rec.Stamp != p.itemsStamp || rec.Config != p.j.ConfigHash {
		return false, err
	}
	p.itemsDeferred, p.itemsHash = true, rec.Items
	p.res.showOpenItemsNote(rec.Note, rec.Announced, p.log)
	p.log.Info("open items unchanged since they were last read: not read", "component", "ledger")
	return true, nil
}

// recordItemsStamp records, after the items were read, the stamp taken
// before, with their hash and the ledger's note; an empty stamp when the
// ledger says the clock decided some of them (the next pass reads them).
func (p *pass) recordItemsStamp(ctx context.Context) error {
	st, s := p.j.stamper()
	if st == nil {
		return nil
	}
	rec := itemsRecord{Stamp: p.itemsStamp, Config: p.j.ConfigHash, Items: p.itemsHash,
		Note: p.res.OpenItemsNote, Announced: p.res.OpenItemsAnnouncements}
	if !st.OpenItemsLasting() {
		rec.Stamp = ""
	}
	return s.recordItems(ctx, p.j.Name, rec)
}

// needItems reads the open items left unread by deferItems, when a later
// step needs them after all (their note was shown already).
func (p *pass) needItems(ctx context.Context) error {
	if !p.itemsDeferred {
		return nil
	}
	items, err := p.j.Ledger.OpenItems(ctx)
	if err != nil {
		return openItemsError(err)
	}
	p.items, p.itemsDeferred = items, false
	p.log.Info("open items loaded", "component", "ledger", "items", len(items))
	return nil
}
