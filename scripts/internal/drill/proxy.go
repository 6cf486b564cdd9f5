package main

import (
	"net"
	"sync"
	"time"
)

// proxy is a loopback TCP proxy between the agent and the CSMS that can
// turn into a blackhole: the network path dies without a FIN or RST, as
// when a mobile link or a NAT entry silently goes away.
//
// While the blackhole is on, the connections that were open stop forwarding
// in both directions for good and are never closed by the proxy (what the
// agent sends is read and dropped, so its writes do not block); new
// connections are accepted but held, their bytes kept. When the blackhole
// ends, the dead connections' CSMS sides are closed (the CSMS "eventually"
// notices; ocpp-go refuses a second connection for a charge point id while
// the first is open) and the held ones go through.
type proxy struct {
	ln       net.Listener
	upstream string

	mu        sync.Mutex // guards the fields below
	blackhole bool
	conns     map[*pconn]bool
	accepted  int
	// agentClosed receives the time the agent closed its side of a dead
	// connection: when it noticed the silence.
	agentClosed chan time.Time
}

// pconn states.
const (
	stateLive = iota // forwarding
	stateHeld        // accepted during a blackhole, not yet forwarded
	stateDead        // caught by a blackhole: forwards nothing, ever
)

type pconn struct {
	agent net.Conn

	mu      sync.Mutex // guards state, up, pending; held while writing to up
	state   int
	up      net.Conn
	pending []byte // agent bytes of a held connection
}

// startProxy listens on a free loopback port and forwards to upstream
// (host:port).
func startProxy(upstream string) (*proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &proxy{ln: ln, upstream: upstream, conns: map[*pconn]bool{}, agentClosed: make(chan time.Time, 16)}
	go p.acceptLoop()
	return p, nil
}

func (p *proxy) addr() string { return p.ln.Addr().String() }

// close stops listening and closes every connection.
func (p *proxy) close() {
	p.ln.Close()
	p.mu.Lock()
	conns := make([]*pconn, 0, len(p.conns))
	for c := range p.conns {
		conns = append(conns, c)
	}
	p.mu.Unlock()
	for _, c := range conns {
		c.agent.Close()
		c.mu.Lock()
		if c.up != nil {
			c.up.Close()
		}
		c.mu.Unlock()
	}
}

// acceptCount is the number of connections accepted so far.
func (p *proxy) acceptCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.accepted
}

func (p *proxy) acceptLoop() {
	for {
		a, err := p.ln.Accept()
		if err != nil {
			return
		}
		c := &pconn{agent: a}
		p.mu.Lock()
		p.accepted++
		p.conns[c] = true
		held := p.blackhole
		p.mu.Unlock()
		if held {
			c.state = stateHeld
		} else if err := c.connect(p); err != nil {
			a.Close()
			continue
		}
		go p.fromAgent(c)
	}
}

// connect dials the CSMS, flushes what a held connection kept, and starts
// forwarding the CSMS's bytes. The caller must not hold c.mu.
func (c *pconn) connect(p *proxy) error {
	up, err := net.DialTimeout("tcp", p.upstream, 5*time.Second)
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.up = up
	if len(c.pending) > 0 {
		_, err = up.Write(c.pending)
		c.pending = nil
	}
	c.state = stateLive
	c.mu.Unlock()
	go p.fromCSMS(c, up)
	return err
}

// fromAgent forwards, keeps or drops the agent's bytes per c's state.
func (p *proxy) fromAgent(c *pconn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := c.agent.Read(buf)
		c.mu.Lock()
		if n > 0 {
			switch c.state {
			case stateLive:
				_, _ = c.up.Write(buf[:n])
			case stateHeld:
				c.pending = append(c.pending, buf[:n]...)
			}
		}
		state := c.state
		c.mu.Unlock()
		if err != nil {
			if state == stateDead {
				select {
				case p.agentClosed <- time.Now():
				default: // nobody is measuring
				}
				return // the CSMS side stays open until the blackhole ends
			}
			c.mu.Lock()
			if c.up != nil {
				c.up.Close()
			}
			c.mu.Unlock()
			p.mu.Lock()
			delete(p.conns, c)
			p.mu.Unlock()
			return
		}
	}
}

// fromCSMS forwards the CSMS's bytes while c is live.
func (p *proxy) fromCSMS(c *pconn, up net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := up.Read(buf)
		c.mu.Lock()
		live := c.state == stateLive
		c.mu.Unlock()
		if n > 0 && live {
			_, _ = c.agent.Write(buf[:n])
		}
		if err != nil {
			if live {
				c.agent.Close()
			}
			return
		}
	}
}

// setBlackhole turns the blackhole on or off. Off, it calls beforeRelease
// (if not nil) after closing the dead connections' CSMS sides and before
// letting the held connections through.
func (p *proxy) setBlackhole(on bool, beforeRelease func()) {
	p.mu.Lock()
	p.blackhole = on
	conns := make([]*pconn, 0, len(p.conns))
	for c := range p.conns {
		conns = append(conns, c)
	}
	p.mu.Unlock()
	if on {
		for _, c := range conns {
			c.mu.Lock()
			if c.state == stateLive {
				c.state = stateDead
			}
			c.mu.Unlock()
		}
		return
	}
	var held, dead []*pconn
	for _, c := range conns {
		c.mu.Lock()
		switch c.state {
		case stateDead:
			if c.up != nil {
				c.up.Close()
			}
			c.agent.Close()
			dead = append(dead, c)
		case stateHeld:
			held = append(held, c)
		}
		c.mu.Unlock()
	}
	p.mu.Lock()
	for _, c := range dead {
		delete(p.conns, c)
	}
	p.mu.Unlock()
	if beforeRelease != nil {
		beforeRelease()
	}
	for _, c := range held {
		if err := c.connect(p); err != nil {
			c.agent.Close()
		}
	}
}
