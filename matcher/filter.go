package matcher

import "math/bits"

// keyFilter is a one-hash bitset over the keys of a lookup map: when it
// says no, the key is certainly absent and the map (large, and slow to
// probe at a million keys) need not be looked at. It is sized at 16 bits
// per key, so about 6 % of absent keys still get through.
type keyFilter struct {
	bits  []uint64
	shift uint // 64 − log2(number of bits)
}

func newKeyFilter(keys int) keyFilter {
	n := max(16*keys, 1<<10)
	lg := bits.Len(uint(n - 1)) // bits rounded up to a power of two
	return keyFilter{bits: make([]uint64, (1<<lg)/64), shift: uint(64 - lg)}
}

// keyHash is FNV-1a with a final multiply, so that the top bits (used as
// the position) depend on every byte.
func keyHash[S string | []byte](s S) uint64 { return keyHashEnd(keyHashAdd(keyHashStart, s)) }

// keyHashStart, keyHashAdd and keyHashEnd compute keyHash of a string
// given in pieces: keyHashEnd(keyHashAdd(keyHashAdd(keyHashStart, a), b))
// is keyHash(a+b). A scan that extends a key piece by piece hashes each
// byte once.
const keyHashStart = uint64(14695981039346656037)

func keyHashAdd[S string | []byte](h uint64, s S) uint64 {
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

func keyHashEnd(h uint64) uint64 {
	h ^= h >> 29
	return h * 0xbf58476d1ce4e5b9
}

// mayContainHash is mayContain for a key whose keyHash is h.
func (f *keyFilter) mayContainHash(h uint64) bool {
	if f.bits == nil {
		return true
	}
	p := h >> f.shift
	return f.bits[p/64]&(1<<(p%64)) != 0
}

func (f *keyFilter) add(s string) {
	p := keyHash(s) >> f.shift
	f.bits[p/64] |= 1 << (p % 64)
}

// mayContain reports whether s may be a key; false is certain.
func mayContain[S string | []byte](f *keyFilter, s S) bool {
	if f.bits == nil {
		return true
	}
	p := keyHash(s) >> f.shift
	return f.bits[p/64]&(1<<(p%64)) != 0
}
