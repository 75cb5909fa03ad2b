package decide

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
)

// ShortHash is the first 24 hex digits (96 bits) of SHA-256.
func ShortHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:12])
}

// DecisionKey is the idempotency key of the generation-th automatic decision
// on a transaction (generation 0 unless it was unlettered and re-lettered).
func DecisionKey(job, txKey string, generation int) string {
	return "ltr-" + ShortHash(fmt.Sprintf("%s\x00%s\x00%d", job, txKey, generation))
}
