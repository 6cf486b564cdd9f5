package ocppclient

import (
	"encoding/binary"
	"net"
)

// frameGate is the socket of a plain ws:// connection as the websocket
// library reads it: it hands the library the bytes of one frame at a time,
// never beyond the end of the current frame (nor, in the handshake, beyond
// the end of the HTTP response). So when the library has returned a whole
// message and the gate is at a frame boundary, the library's read buffer
// is empty, and what comes next can only come from the socket.
//
// That is what lets a connection wait for its next frame on a goroutine of
// the smallest stack (see conn.awaitFrames): a goroutine parked inside the
// library's read sits some 1.1 KB deep, which keeps a 4 KB stack for as
// long as the connection lives, and the fleet simulator holds thousands.
//
// The gate parses only what RFC 6455 section 5.2 fixes: the two header
// bytes, the extended length and the masking key. It is read by one
// goroutine at a time (the dial, then the reader), as the library is.
type frameGate struct {
	net.Conn
	wait waiter // waits until the socket has something to read

	upgraded bool // the handshake's response has been read
	crlf     int  // how much of "\r\n\r\n" the response has matched so far

	hdr     [14]byte // the current frame's header, as far as read
	hdrLen  int      // bytes of hdr read
	hdrNeed int      // bytes the header has (2 until the second is read)
	left    uint64   // payload bytes of the current frame not yet handed on
}

// waiter is the part of the socket the gate needs besides net.Conn.
type waiter interface {
	// peek reads into p what the socket holds without taking it off,
	// waiting for something if it holds nothing; n is 0 only with an
	// error or at the end of the stream.
	peek(p []byte) (n int, err error)
	// readable waits until the socket holds something to read, has ended
	// or failed, or has been closed (then it returns the error).
	readable() error
}

// gate wraps nc in a frameGate when the platform can wait on its socket
// (see newWaiter); otherwise it returns nil.
func gate(nc net.Conn) *frameGate {
	w := newWaiter(nc)
	if w == nil {
		return nil
	}
	return &frameGate{Conn: nc, wait: w, hdrNeed: 2}
}

// Read implements io.Reader for the library's buffered reader.
func (g *frameGate) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if !g.upgraded {
		return g.readResponse(p)
	}
	if g.left > 0 {
		n, err := g.Conn.Read(p[:min(uint64(len(p)), g.left)])
		g.left -= uint64(n)
		return n, err
	}
	n, err := g.Conn.Read(p[:min(len(p), g.hdrNeed-g.hdrLen)])
	g.header(p[:n])
	return n, err
}

// header takes b, the next bytes of a frame header.
func (g *frameGate) header(b []byte) {
	g.hdrLen += copy(g.hdr[g.hdrLen:], b)
	if g.hdrLen == 2 {
		switch g.hdr[1] & 0x7f {
		case 126:
			g.hdrNeed += 2
		case 127:
			g.hdrNeed += 8
		}
		if g.hdr[1]&0x80 != 0 {
			g.hdrNeed += 4 // masked: the library refuses it from a server, the gate keeps in step
		}
	}
	if g.hdrLen < g.hdrNeed {
		return
	}
	switch n := g.hdr[1] & 0x7f; n {
	case 126:
		g.left = uint64(binary.BigEndian.Uint16(g.hdr[2:4]))
	case 127:
		g.left = binary.BigEndian.Uint64(g.hdr[2:10])
	default:
		g.left = uint64(n)
	}
	g.hdrLen, g.hdrNeed = 0, 2
}

// readResponse reads the handshake's HTTP response, up to and including
// the blank line that ends it: it peeks at what the socket holds and takes
// only that much of it.
func (g *frameGate) readResponse(p []byte) (int, error) {
	n, err := g.wait.peek(p)
	if n == 0 {
		return 0, err
	}
	const end = "\r\n\r\n"
	take := n
	for i, b := range p[:n] {
		switch {
		case b == end[g.crlf]:
			g.crlf++
		case b == '\r':
			g.crlf = 1
		default:
			g.crlf = 0
		}
		if g.crlf == len(end) {
			take, g.upgraded = i+1, true
			break
		}
	}
	// What was peeked is there: a read of it takes it all, at once.
	got := 0
	for got < take {
		m, err := g.Conn.Read(p[got:take])
		got += m
		if err != nil {
			return got, err
		}
	}
	return got, nil
}

// atBoundary says the gate has handed on every byte of the frames it began:
// once the library has returned a whole message, its buffer is empty.
func (g *frameGate) atBoundary() bool { return g.upgraded && g.left == 0 && g.hdrLen == 0 }
