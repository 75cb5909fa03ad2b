package matcher

// keyItems maps a key to the items it names, in the order added: the map
// holds the item itself when the key names one (most document numbers and
// payment references) and the place of a list otherwise, so a key costs
// one map slot with no pointer to follow and no slice of its own (a
// map[string][]int32 costs 40 bytes a slot and a 4-byte allocation per
// key: about 150 MB at 1,000,000 open items).
type keyItems struct {
	m     map[string]int32 // key → item (≥ 0), or ^i for lists[i]
	lists [][]int32
	// self[n] is n: the list of a key naming item n alone, without
	// allocating (capped, so that appending to it copies)
	self []int32
}

// newKeyItems returns an empty keyItems sized for keys keys, over self
// (selfList: the index shares one between its keyItems).
func newKeyItems(keys int, self []int32) keyItems {
	return keyItems{m: make(map[string]int32, keys), self: self}
}

// selfList is the list [0, 1, …, n-1]: keyItems's self.
func selfList(n int) []int32 {
	self := make([]int32, n)
	for i := range self {
		self[i] = int32(i)
	}
	return self
}

// add appends item n to the items of key.
func (k *keyItems) add(key string, n int32) {
	v, ok := k.m[key]
	switch {
	case !ok:
		k.m[key] = n
	case v >= 0:
		k.lists = append(k.lists, []int32{v, n})
		k.m[key] = ^int32(len(k.lists) - 1)
	default:
		k.lists[^v] = append(k.lists[^v], n)
	}
}

// get returns the items of key (nil: none). The slice is the index's:
// not to be changed.
func (k *keyItems) get(key string) []int32 {
	v, ok := k.m[key]
	switch {
	case !ok:
		return nil
	case v >= 0:
		return k.self[v : v+1 : v+1]
	}
	return k.lists[^v]
}

// len is the number of keys.
func (k *keyItems) len() int { return len(k.m) }
