// Package domain is the vocabulary every other package of Lettrage speaks:
// money (Amount, never a float), the bank Transaction, the ledger's
// OpenItem, the Decision with its Allocations and Postings, the outcomes and
// the reasons an exception carries. It is a leaf: it imports nothing of
// this project, does no I/O and holds no policy; the matcher decides, the
// connectors read and write these values, the pipeline keeps them.
package domain
