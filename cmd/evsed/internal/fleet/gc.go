package fleet

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ParseGCPercent parses the fleet's --gogc value as the GOGC environment
// variable spells it: a percentage of the live heap that may be allocated
// before the next collection (100 is Go's default), or "off". It returns
// the argument of runtime/debug.SetGCPercent (-1 for off).
//
// Why a fleet would set it: the process's memory is mostly small live
// objects and goroutine stacks, and with the default the heap grows to
// twice the live one between collections. A lower percentage trades CPU
// (collections are more frequent, each about as long) for that headroom.
func ParseGCPercent(s string) (int, error) {
	if strings.EqualFold(s, "off") {
		return -1, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("gogc %q: want a percentage or off", s)
	}
	return n, nil
}

// ParseMemoryLimit parses the fleet's --memory-limit value as the
// GOMEMLIMIT environment variable spells it: a number of bytes with an
// optional unit B, KiB, MiB, GiB or TiB. It returns the argument of
// runtime/debug.SetMemoryLimit.
//
// The limit is soft: near it the collector runs as often as it must to stay
// below, which costs CPU and, with a limit below the live heap plus stacks,
// can take most of it. It bounds the GC headroom without a low --gogc
// slowing down a fleet far from the limit.
func ParseMemoryLimit(s string) (int64, error) {
	units := []struct {
		suffix string
		shift  uint
	}{{"TiB", 40}, {"GiB", 30}, {"MiB", 20}, {"KiB", 10}, {"B", 0}}
	num, shift := s, uint(0)
	for _, u := range units {
		if rest, ok := strings.CutSuffix(s, u.suffix); ok {
			num, shift = rest, u.shift
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n <= 0 || n > math.MaxInt64>>shift {
		return 0, fmt.Errorf("memory limit %q: want a positive size such as 800MiB (units B, KiB, MiB, GiB, TiB)", s)
	}
	return n << shift, nil
}
