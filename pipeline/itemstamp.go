package pipeline

import (
	"context"

	"github.com/lettrage/lettrage/connectors"
	"github.com/lettrage/lettrage/pipeline/state"
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

// stamper is the job's ledger as an OpenItemsStamper with the SQL store
// to record stamps in, or nil when the pass reads the items every time
// (Job.OpenItems set, a full examination configured, the memory store, a
// ledger that cannot tell).
func (j *Job) stamper() (connectors.OpenItemsStamper, *state.Store) {
	if j.OpenItems != nil || j.FullExamination {
		return nil, nil
	}
	st, ok := j.Ledger.(connectors.OpenItemsStamper)
	s, isSQL := j.Store.(*state.Store)
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
	rec, err := s.ItemsRecord(ctx, p.j.Name)
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
	rec := state.ItemsRecord{Stamp: p.itemsStamp, Config: p.j.ConfigHash, Items: p.itemsHash,
		Note: p.res.OpenItemsNote, Announced: p.res.OpenItemsAnnouncements}
	if !st.OpenItemsLasting() {
		rec.Stamp = ""
	}
	return s.RecordItems(ctx, p.j.Name, rec)
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
