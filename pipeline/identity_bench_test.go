package pipeline

import (
	"context"
	"fmt"
	"testing"

	"github.com/lettrage/lettrage/domain"
	"github.com/lettrage/lettrage/internal/gen"
)

// BenchmarkIntake measures the identity rule of a stateless pass (what
// lettrage match adds per transaction): 100,000 generated transactions in
// 100 files, then the same files delivered again.
//
//	go test ./pipeline -run '^$' -bench Intake -benchmem
func BenchmarkIntake(b *testing.B) {
	ds := gen.Generate(42, 100_000)
	files := make([][]domain.Transaction, 100)
	for i, t := range ds.Transactions {
		files[i%100] = append(files[i%100], t)
	}
	for _, again := range []bool{false, true} {
		b.Run(fmt.Sprintf("redelivered=%v", again), func(b *testing.B) {
			for b.Loop() {
				in := newIntake(nil)
				for f, txs := range files {
					cp := append([]domain.Transaction(nil), txs...)
					_ = in.addFile(context.Background(), fmt.Sprint("file-", f), cp)
				}
				if again {
					for f, txs := range files {
						cp := append([]domain.Transaction(nil), txs...)
						_ = in.addFile(context.Background(), fmt.Sprint("again-", f), cp)
					}
				}
				in.kept(true)
			}
		})
	}
}
