package modbus

import "sort"

// request is one read of Qty registers from Addr with one function.
type request struct {
	Function Function
	Addr     uint16
	Qty      uint16
}

// plan groups the registers of m into the fewest requests: registers of one
// function are merged while the gap between them is at most m.MaxGap and the
// request spans at most m.maxRegs() registers. The result is in address
// order, input registers first; m must be valid.
func plan(m *Model) []request {
	regs := append([]Register(nil), m.Registers...)
	sort.Slice(regs, func(i, j int) bool {
		if regs[i].Function != regs[j].Function {
			return regs[i].Function > regs[j].Function // "input" before "holding"
		}
		return regs[i].Addr < regs[j].Addr
	})
	var out []request
	var cur request
	curEnd := 0 // address after the last register in cur
	for i, r := range regs {
		if i > 0 && r.Function == cur.Function &&
			int(r.Addr)-curEnd <= m.MaxGap && max(curEnd, r.end())-int(cur.Addr) <= m.maxRegs() {
			curEnd = max(curEnd, r.end())
			cur.Qty = uint16(curEnd - int(cur.Addr))
			continue
		}
		if i > 0 {
			out = append(out, cur)
		}
		cur = request{Function: r.Function, Addr: r.Addr, Qty: uint16(r.Type.Words())}
		curEnd = r.end()
	}
	return append(out, cur)
}

// Wire sizes of one read-registers exchange, in bytes.
const (
	rtuRequestBytes   = 8  // unit, function, address, quantity, CRC
	rtuResponseBytes  = 5  // unit, function, byte count, CRC; plus 2 per register
	tcpRequestBytes   = 12 // MBAP header, function, address, quantity
	tcpResponseHeader = 9  // MBAP header, function, byte count; plus 2 per register
)

// wireBytes returns the bytes on the wire for the requests, both directions,
// in RTU framing and in Modbus TCP framing.
func wireBytes(reqs []request) (rtu, tcp int) {
	for _, q := range reqs {
		rtu += rtuRequestBytes + rtuResponseBytes + 2*int(q.Qty)
		tcp += tcpRequestBytes + tcpResponseHeader + 2*int(q.Qty)
	}
	return rtu, tcp
}
