package postgres

import (
	"context"
	"fmt"
	"testing"

	"github.com/lettrage/lettrage/connectors"
	"github.com/lettrage/lettrage/domain"
	"github.com/lettrage/lettrage/internal/testenv"
)

// BenchmarkOpenItems reads 10,000 open items through the text-cast wrapper.
func BenchmarkOpenItems(b *testing.B) {
	testenv.Need(b, "PostgreSQL", clusterErr)
	dsn := cluster.Database(b)
	if _, err := cluster.Exec(dsn, erpSchema+`
		INSERT INTO invoices SELECT 100 + g, 1 + g % 2, 'INV-' || g, '2026-10-01', '2026-11-01', 'EUR', 10 + g / 100.0, 10 + g / 100.0, 'RF' || g
		FROM generate_series(1, 9996) g;`); err != nil {
		b.Fatal(err)
	}
	c, err := New(context.Background(), Config{DSN: dsn, OpenItemsQuery: openItemsQuery})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		items, err := c.OpenItems(context.Background())
		if err != nil || len(items) != 9999 {
			b.Fatalf("OpenItems = %d items, %v", len(items), err)
		}
	}
}

// BenchmarkApply writes batches of 100 one-allocation decisions with an
// apply_statement, in one transaction each.
func BenchmarkApply(b *testing.B) {
	testenv.Need(b, "PostgreSQL", clusterErr)
	dsn := cluster.Database(b)
	if _, err := cluster.Exec(dsn, erpSchema+`UPDATE invoices SET residual = 1e9 WHERE id = 10;`); err != nil {
		b.Fatal(err)
	}
	c, err := New(context.Background(), Config{DSN: dsn, OpenItemsQuery: openItemsQuery, ApplyStatement: applyStatement})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		batch := make([]connectors.KeyedDecision, 100)
		for j := range batch {
			batch[j] = decision(fmt.Sprintf("k-%d-%d", i, j), "tx", alloc("10", "1.00", ""))
		}
		if err := c.Apply(context.Background(), batch); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkApplyPostings writes batches of 100 decisions, each one
// allocation and one on-account posting, with apply and post statements.
func BenchmarkApplyPostings(b *testing.B) {
	testenv.Need(b, "PostgreSQL", clusterErr)
	dsn := cluster.Database(b)
	if _, err := cluster.Exec(dsn, erpSchema+creditsSchema+`UPDATE invoices SET residual = 1e9 WHERE id = 10;`); err != nil {
		b.Fatal(err)
	}
	c, err := New(context.Background(), Config{DSN: dsn, OpenItemsQuery: openItemsQuery, ApplyStatement: applyStatement,
		PostStatement: postStatement})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		batch := make([]connectors.KeyedDecision, 100)
		for j := range batch {
			batch[j] = withPostings(decision(fmt.Sprintf("k-%d-%d", i, j), "tx", alloc("10", "1.00", "")),
				posting(domain.OnAccount, "1", "0.50", ""))
		}
		if err := c.Apply(context.Background(), batch); err != nil {
			b.Fatal(err)
		}
	}
}
