package ocppclient

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"

	"github.com/gorilla/websocket"
)

// rawServer is a websocket server written by hand on a loopback socket, so
// that a test decides how the bytes fall into TCP writes: the handshake's
// response and several frames in one write, as a busy CSMS's kernel may
// deliver them.
type rawServer struct {
	t  *testing.T
	ln net.Listener
}

func newRawServer(t *testing.T) *rawServer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return &rawServer{t: t, ln: ln}
}

func (s *rawServer) url() string { return "ws://" + s.ln.Addr().String() + "/ocpp/CP" }

// accept takes one connection and reads its handshake request; the
// response is the caller's (see response).
func (s *rawServer) accept() (net.Conn, *bufio.Reader, *http.Request) {
	s.t.Helper()
	nc, err := s.ln.Accept()
	if err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(func() { nc.Close() })
	br := bufio.NewReader(nc)
	req, err := http.ReadRequest(br)
	if err != nil {
		s.t.Fatal(err)
	}
	return nc, br, req
}

// response is the 101 answer to req.
func response(req *http.Request) []byte {
	h := sha1.Sum([]byte(req.Header.Get("Sec-WebSocket-Key") + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	return []byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Accept: " + base64.StdEncoding.EncodeToString(h[:]) + "\r\n" +
		"Sec-WebSocket-Protocol: ocpp1.6\r\n\r\n")
}

// frame encodes one final frame of the given opcode, masked with key when
// key is not nil (as a client's are), with the shortest length encoding.
func frame(op byte, payload []byte, key []byte) []byte {
	b := []byte{0x80 | op, 0}
	switch n := len(payload); {
	case n < 126:
		b[1] = byte(n)
	case n <= 0xffff:
		b[1] = 126
		b = binary.BigEndian.AppendUint16(b, uint16(n))
	default:
		b[1] = 127
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	if key == nil {
		return append(b, payload...)
	}
	b[1] |= 0x80
	b = append(b, key...)
	for i, c := range payload {
		b = append(b, c^key[i%4])
	}
	return b
}

// readClientFrame reads one frame a client sent (always masked) and returns
// its opcode and payload.
func readClientFrame(r io.Reader) (byte, []byte, error) {
	var h [2]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return 0, nil, err
	}
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		var e [2]byte
		if _, err := io.ReadFull(r, e[:]); err != nil {
			return 0, nil, err
		}
		n = uint64(binary.BigEndian.Uint16(e[:]))
	case 127:
		var e [8]byte
		if _, err := io.ReadFull(r, e[:]); err != nil {
			return 0, nil, err
		}
		n = binary.BigEndian.Uint64(e[:])
	}
	var key [4]byte
	if _, err := io.ReadFull(r, key[:]); err != nil {
		return 0, nil, err
	}
	p := make([]byte, n)
	if _, err := io.ReadFull(r, p); err != nil {
		return 0, nil, err
	}
	for i := range p {
		p[i] ^= key[i%4]
	}
	return h[0] & 0x0f, p, nil
}

// The gate follows the frames it hands the websocket library, whatever
// their lengths (7-bit, 16-bit, 64-bit, empty), with control frames
// between them and all in one TCP write after the handshake's response: it
// says the library's buffer is drained only once the library has returned
// the last message handed on, and what follows is then still on the
// socket, where readable sees it.
func TestFrameGateFollowsFrames(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the gate needs a poller to wait on (unix only); elsewhere connections read without it")
	}
	srv := newRawServer(t)
	long := bytes.Repeat([]byte("x"), 300)    // a 16-bit length
	huge := bytes.Repeat([]byte("y"), 70_000) // a 64-bit length
	texts := [][]byte{[]byte("first"), long, huge, []byte("last but one"), {}}
	later := []byte("after a pause")

	served := make(chan net.Conn, 1)
	go func() {
		nc, _, req := srv.accept()
		var all []byte
		all = append(all, response(req)...)
		all = append(all, frame(websocket.TextMessage, texts[0], nil)...)
		all = append(all, frame(websocket.PingMessage, []byte("ping"), nil)...)
		all = append(all, frame(websocket.TextMessage, texts[1], nil)...)
		all = append(all, frame(websocket.TextMessage, texts[2], nil)...)
		all = append(all, frame(websocket.TextMessage, texts[3], nil)...)
		all = append(all, frame(websocket.TextMessage, texts[4], nil)...)
		if _, err := nc.Write(all); err != nil {
			t.Error(err)
		}
		served <- nc
	}()

	var fg *frameGate
	d := websocket.Dialer{
		Subprotocols:   []string{"ocpp1.6"},
		ReadBufferSize: 256, // smaller than most frames: several reads each
		NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			nc, err := (&net.Dialer{}).DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			fg = gate(nc)
			if fg == nil {
				t.Fatal("no gate for a TCP socket")
			}
			return fg, nil
		},
	}
	ws, _, err := d.Dial(srv.url(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	if !fg.drained(0) {
		t.Fatal("not drained after the handshake: the gate handed on more than the response")
	}
	for i, want := range texts {
		_, got, err := ws.ReadMessage()
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("message %d: %d bytes %.20q, want %d bytes %.20q", i, len(got), got, len(want), want)
		}
		// The first read after the handshake takes in what the socket
		// holds, the ping and more behind the first message: the
		// library's buffer is not empty.
		if i == 0 && fg.drained(1) {
			t.Fatalf("drained after the first message with %d bytes handed on", fg.pos)
		}
	}
	if !fg.drained(uint64(len(texts))) {
		t.Fatalf("not drained after every message: %d of %d messages handed on, %d bytes, the last ending at %d",
			fg.msgs, len(texts), fg.pos, fg.msgEnd)
	}

	nc := <-served
	if _, err := nc.Write(frame(websocket.TextMessage, later, nil)); err != nil {
		t.Fatal(err)
	}
	if err := fg.wait.readable(); err != nil {
		t.Fatalf("readable: %v", err)
	}
	if _, got, err := ws.ReadMessage(); err != nil || !bytes.Equal(got, later) {
		t.Fatalf("after the pause: %q, %v", got, err)
	}
	if !fg.drained(uint64(len(texts)) + 1) {
		t.Fatal("not drained after the message that came after the pause")
	}

	// Closing the socket wakes a wait with an error.
	ws.Close()
	if err := fg.wait.readable(); err == nil {
		t.Fatal("readable on a closed socket: no error")
	}
}

// Two CALLs and pings in one TCP write right after the handshake's
// response, then a third CALL on its own: the Client answers all three.
// Were the second left in the library's buffer while the reader waited on
// the socket, it would wait for the next frame the CSMS happened to send;
// the trailing ping keeps the reader in the library's read until the
// third.
func TestClientAnswersCoalescedCalls(t *testing.T) {
	srv := newRawServer(t)
	c, err := New(Options{
		URL: srv.url(), ChargePointID: "CP", Subprotocols: []string{"ocpp1.6"},
		CallTimeout: testWait, PingInterval: -1,
		Handler: HandlerFunc(func(ctx context.Context, action string, payload json.RawMessage) (any, error) {
			return map[string]string{"action": action}, nil
		}),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	wait, err := c.Launch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); _ = wait() }()

	nc, br, req := srv.accept()
	var all []byte
	all = append(all, response(req)...)
	all = append(all, frame(websocket.TextMessage, []byte(`[2,"s1","DataTransfer",{"vendorId":"a"}]`), nil)...)
	all = append(all, frame(websocket.PingMessage, []byte("1"), nil)...)
	all = append(all, frame(websocket.TextMessage, []byte(`[2,"s2","DataTransfer",{"vendorId":"b"}]`), nil)...)
	all = append(all, frame(websocket.PingMessage, []byte("2"), nil)...)
	if _, err := nc.Write(all); err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	sent3 := false
	for len(ids) < 3 {
		if len(ids) == 2 && !sent3 {
			sent3 = true
			if _, err := nc.Write(frame(websocket.TextMessage, []byte(`[2,"s3","DataTransfer",{"vendorId":"c"}]`), nil)); err != nil {
				t.Fatal(err)
			}
		}
		op, p, err := readClientFrame(br)
		if err != nil {
			t.Fatalf("answers so far %v: %v", ids, err)
		}
		if op != websocket.TextMessage {
			continue
		}
		var f []json.RawMessage
		if err := json.Unmarshal(p, &f); err != nil || len(f) < 3 || string(f[0]) != "3" {
			t.Fatalf("not a CALLRESULT: %s", p)
		}
		ids[strings.Trim(string(f[1]), `"`)] = true
	}
	if !ids["s1"] || !ids["s2"] || !ids["s3"] {
		t.Fatalf("answered %v, want s1, s2 and s3", ids)
	}
}

// chunkConn is a socket whose bytes arrive in the given chunks: Read takes
// from the first, peek shows it without taking it. It stands in for a TCP
// socket where the test must decide where the kernel splits the stream.
type chunkConn struct {
	net.Conn // nil: only Read is used
	chunks   [][]byte
}

func (c *chunkConn) Read(p []byte) (int, error) {
	if len(c.chunks) == 0 {
		return 0, io.EOF
	}
	n := copy(p, c.chunks[0])
	if c.chunks[0] = c.chunks[0][n:]; len(c.chunks[0]) == 0 {
		c.chunks = c.chunks[1:]
	}
	return n, nil
}

func (c *chunkConn) peek(p []byte) (int, error) {
	if len(c.chunks) == 0 {
		return 0, io.EOF
	}
	return copy(p, c.chunks[0]), nil
}

func (c *chunkConn) readable() error { return nil }

// The end of the handshake's response split across two arrivals ("\r\n\r"
// then "\n" with the first frames behind it): the gate hands on the
// response up to its blank line and not a byte more, then follows the
// frames from their first byte.
func TestFrameGateSplitResponse(t *testing.T) {
	resp := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n"
	cut := len(resp) - 1 // the last "\n" arrives with the frames
	frames := append(frame(websocket.TextMessage, []byte("one"), nil), frame(websocket.PingMessage, nil, nil)...)
	cc := &chunkConn{chunks: [][]byte{[]byte(resp[:cut]), append([]byte(resp[cut:]), frames...)}}
	g := &frameGate{Conn: cc, wait: cc, hdrNeed: 2}

	var got []byte
	p := make([]byte, 512)
	for !g.upgraded {
		n, err := g.Read(p)
		if err != nil {
			t.Fatalf("response: %v after %q", err, got)
		}
		got = append(got, p[:n]...)
	}
	if string(got) != resp {
		t.Fatalf("handed on %q as the response, want %q", got, resp)
	}
	if !g.drained(0) {
		t.Fatal("not drained after the response")
	}
	n, err := g.Read(p)
	if err != nil || n != len(frames) {
		t.Fatalf("frames: %d bytes, %v; want %d", n, err, len(frames))
	}
	// One message handed on whole, then a ping: the library holds the
	// ping until it has read it, so the gate is not drained after one
	// message, and only one message has ended.
	if g.msgs != 1 || g.drained(1) {
		t.Fatalf("after the frames: %d messages, drained %v; want 1, not drained (a ping follows)", g.msgs, g.drained(1))
	}
}
