package state

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
)

// The open items' stamps (schema 10, issue 18): what the pass recorded of
// the ledger's stamp when it last read the open items (pipeline/itemstamp.go
// says how the pass uses it).

// itemsStampMigration adds the table of the stamps (schema 10): per job,
// the ledger's stamp when the items were last read, the configuration
// hash, the hash of the items (itemsHash), and the ledger's note and
// announcements (JSON).
var itemsStampMigration = []string{
	`CREATE TABLE items_stamps (job TEXT NOT NULL PRIMARY KEY, stamp TEXT NOT NULL, config TEXT NOT NULL,
		items TEXT NOT NULL, note TEXT NOT NULL, announced TEXT NOT NULL)`,
}

// ItemsRecord is a row of items_stamps.
type ItemsRecord struct {
	Stamp, Config, Items, Note string
	Announced                  []string
}

// ItemsRecord reads the job's stamp record (the zero record when none).
func (s *Store) ItemsRecord(ctx context.Context, job string) (ItemsRecord, error) {
	var r ItemsRecord
	var announced string
	err := s.onDB().QueryRowContext(ctx, `SELECT stamp, config, items, note, announced FROM items_stamps WHERE job = ?`, job).
		Scan(&r.Stamp, &r.Config, &r.Items, &r.Note, &announced)
	if errors.Is(err, sql.ErrNoRows) {
		return ItemsRecord{}, nil
	}
	if err == nil {
		err = json.Unmarshal([]byte(announced), &r.Announced)
	}
	if err != nil {
		return ItemsRecord{}, fmt.Errorf("reading the open items' stamp of job %q: %w", job, err)
	}
	return r, nil
}

// RecordItems records the job's stamp record.
func (s *Store) RecordItems(ctx context.Context, job string, r ItemsRecord) error {
	announced, err := json.Marshal(r.Announced)
	if err == nil {
		_, err = s.onDB().ExecContext(ctx, `INSERT INTO items_stamps (job, stamp, config, items, note, announced) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (job) DO UPDATE SET stamp = excluded.stamp, config = excluded.config, items = excluded.items,
			note = excluded.note, announced = excluded.announced`,
			job, r.Stamp, r.Config, r.Items, r.Note, string(announced))
	}
	if err != nil {
		return fmt.Errorf("recording the open items' stamp of job %q: %w", job, err)
	}
	return nil
}
