package postgres

import (
	"context"
	"fmt"
	"strings"
)

// OpenItemsStamp implements connectors.OpenItemsStamper: the server
// aggregates exactly the rows OpenItems would read — open_items_query,
// its columns cast to text as OpenItems casts them — into their count and
// two sums of 64-bit hashes of each row's text (hashtextextended under two
// seeds). Any change of what the query returns, whatever table or join or
// clock it comes from (an item added, deleted, settled or partly paid, a
// customer renamed, a payment reference changed), changes a row's text and
// so the stamp, except by a collision of both 64-bit sums. Only the three
// numbers cross the network: the server still runs the query, but the
// rows are neither sent nor parsed. The sums do not depend on the rows'
// order. One statement, so one snapshot: a change committed after the
// stamp is taken is seen by the next one.
func (c *Client) OpenItemsStamp(ctx context.Context) (string, error) {
	conn, err := c.pool.Acquire(ctx)
	if err != nil {
		return "", fmt.Errorf("stamping open items: connecting to postgres: %w", err)
	}
	defer conn.Release()
	_, sel, err := c.projection(ctx, conn)
	if err != nil {
		return "", fmt.Errorf("stamping open items: %w", err)
	}
	// COLLATE "C": the hash of the bytes, whatever the database's collation
	// (a nondeterministic one would hash "A" and "a" alike).
	q := `SELECT count(*)::text, coalesce(sum(hashtextextended(s.r, 0)), 0)::text,
	coalesce(sum(hashtextextended(s.r, 1)), 0)::text
	FROM (SELECT ROW(` + strings.Join(sel, ", ") + `)::text COLLATE "C" AS r FROM (` + c.query() + `) AS q) AS s`
	var n, h0, h1 string
	if err := conn.QueryRow(ctx, q).Scan(&n, &h0, &h1); err != nil {
		return "", fmt.Errorf("stamping open items: running open_items_query: %w", err)
	}
	return "postgres-v1|" + n + "|" + h0 + "|" + h1, nil
}

// OpenItemsLasting implements connectors.OpenItemsStamper: the items are
// what the query returns, all of them in the stamp, so they last as long as
// it does (a query that reads the clock, current_date, is stamped with it).
func (c *Client) OpenItemsLasting() bool { return true }

func (l *lazyPostgres) OpenItemsStamp(ctx context.Context) (string, error) {
	c, err := l.client(ctx)
	if err != nil {
		return "", err
	}
	return c.OpenItemsStamp(ctx)
}

func (l *lazyPostgres) OpenItemsLasting() bool { return true }
