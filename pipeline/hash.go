package pipeline

import (
	"crypto/sha256"
	"encoding/hex"
)

// shortHash is the first 24 hex digits (96 bits) of SHA-256.
func shortHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:12])
}
