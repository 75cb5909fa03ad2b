package main

import (
	"os"
	"runtime/debug"
	"testing"
	"time"
)

func TestHeapLimitFor(t *testing.T) {
	for _, c := range []struct {
		live uint64
		want int64
	}{
		{0, heapFloor},
		{1 << 30, heapFloor}, // 1.5 GiB < floor
		{2 << 30, heapFloor}, // 3 GiB = floor
		{4 << 30, 6 << 30},   // half again above the floor
		{10 << 30, 15 << 30},
	} {
		if got := heapLimitFor(c.live); got != c.want {
			t.Errorf("heapLimitFor(%d) = %d, want %d", c.live, got, c.want)
		}
	}
}

// TestFollowLiveHeap: the limit is set while a pass runs and restored
// after; GOMEMLIMIT leaves it alone.
func TestFollowLiveHeap(t *testing.T) {
	if v, ok := os.LookupEnv("GOMEMLIMIT"); ok && v != "" {
		t.Skip("GOMEMLIMIT is set")
	}
	before := debug.SetMemoryLimit(-1)
	stop := followLiveHeap()
	during := debug.SetMemoryLimit(-1)
	for range 100 { // the goroutine sets it first thing
		if during != before {
			break
		}
		time.Sleep(10 * time.Millisecond)
		during = debug.SetMemoryLimit(-1)
	}
	stop()
	if during < heapFloor {
		t.Errorf("limit while following = %d, want at least %d", during, heapFloor)
	}
	if after := debug.SetMemoryLimit(-1); after != before {
		t.Errorf("limit after = %d, want %d restored", after, before)
	}
	t.Setenv("GOMEMLIMIT", "1GiB")
	followLiveHeap()()
	if after := debug.SetMemoryLimit(-1); after != before {
		t.Errorf("with GOMEMLIMIT set the limit changed to %d", after)
	}
}
