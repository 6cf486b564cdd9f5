package ocppclient

import (
	"encoding/binary"
	"net"
)

// frameGate is the socket of a plain ws:// connection as the websocket
// library reads it: it follows the frames in the bytes it hands the
// library, so that the reader can tell when the library's read buffer is
// empty: when the library has returned the message that ends last in what
// the gate handed it. (In the handshake it never hands on more than the
// HTTP response, so that the frames are followed from their first byte.)
// What comes next can then only come from the socket.
//
// That is what lets a connection wait for its next frame on a goroutine of
// the smallest stack (see conn.awaitFrames): a goroutine parked inside the
// library's read sits some 1.1 KB deep, which keeps a 4 KB stack for as
// long as the connection lives, and the fleet simulator holds thousands.
//
// The gate parses only what RFC 6455 section 5.2 fixes: the first two
// header bytes, the extended length and the masking key. It is read by one
// goroutine at a time (the dial, then the reader), as the library is.
type frameGate struct {
	net.Conn
	wait waiter // waits until the socket has something to read

	upgraded bool // the handshake's response has been read
	crlf     int  // how much of "\r\n\r\n" the response has matched so far

	hdr     [14]byte // the current frame's header, as far as read
	hdrLen  int      // bytes of hdr read
	hdrNeed int      // bytes the header has (2 until the second is read)
	fin     bool     // the current frame is the last of a data message
	left    uint64   // payload bytes of the current frame not yet handed on

	pos    uint64 // bytes of frames handed on
	msgs   uint64 // data messages whose last frame was handed on whole
	msgEnd uint64 // pos at the end of the last of those
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
	if !g.upgraded {
		return g.readResponse(p)
	}
	n, err := g.Conn.Read(p)
	g.follow(p[:n])
	return n, err
}

// follow takes b, the next bytes handed to the library.
func (g *frameGate) follow(b []byte) {
	for len(b) > 0 {
		if g.left > 0 {
			k := min(uint64(len(b)), g.left)
			g.left -= k
			g.pos += k
			b = b[k:]
			if g.left == 0 {
				g.frameEnd()
			}
			continue
		}
		g.hdr[g.hdrLen] = b[0]
		g.hdrLen++
		g.pos++
		b = b[1:]
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
			continue
		}
		switch n := g.hdr[1] & 0x7f; n {
		case 126:
			g.left = uint64(binary.BigEndian.Uint16(g.hdr[2:4]))
		case 127:
			g.left = binary.BigEndian.Uint64(g.hdr[2:10])
		default:
			g.left = uint64(n)
		}
		// FIN set on a text, binary or continuation frame (opcodes below
		// 8; control frames are 8 and above).
		g.fin = g.hdr[0]&0x80 != 0 && g.hdr[0]&0x0f < 8
		g.hdrLen, g.hdrNeed = 0, 2
		if g.left == 0 {
			g.frameEnd()
		}
	}
}

// frameEnd notes the end of the current frame.
func (g *frameGate) frameEnd() {
	if g.fin {
		g.msgs++
		g.msgEnd = g.pos
	}
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

// drained says the library's read buffer is empty once it has returned
// read messages: the read-th is the last the gate handed on whole, and
// nothing after its end was handed on.
func (g *frameGate) drained(read uint64) bool {
	return g.upgraded && read == g.msgs && g.pos == g.msgEnd
}
