// Package sdnotify tells a service manager (systemd, Type=notify) how the
// service is doing: ready, alive (watchdog), stopping.
//
// The protocol is one datagram per notification, sent to the unix socket
// named by $NOTIFY_SOCKET and holding newline-separated KEY=VALUE
// assignments. A name starting with "@" is a Linux abstract socket. When
// $NOTIFY_SOCKET is unset the process was not started by such a manager,
// and FromEnv returns a nil *Notifier whose methods do nothing, so callers
// need no special case.
package sdnotify

import (
	"errors"
	"fmt"
	"math"
	"net"
	"strconv"
	"strings"
	"time"
)

// Environment variables the service manager sets.
const (
	// SocketEnv names the socket notifications go to.
	SocketEnv = "NOTIFY_SOCKET"
	// WatchdogUsecEnv is the watchdog timeout in microseconds (WatchdogSec=).
	WatchdogUsecEnv = "WATCHDOG_USEC"
	// WatchdogPIDEnv is the process the watchdog timeout is meant for; when
	// set to another pid, the timeout belongs to someone else.
	WatchdogPIDEnv = "WATCHDOG_PID"
)

// Notification states evsed sends.
const (
	Ready    = "READY=1"
	Stopping = "STOPPING=1"
	Watchdog = "WATCHDOG=1"
)

// Notifier sends notifications to one socket. It holds no connection (each
// Notify dials anew, so a restarted manager is found again) and is safe
// for concurrent use. A nil *Notifier is valid and sends nothing.
type Notifier struct {
	addr *net.UnixAddr
}

// FromEnv returns the Notifier for $NOTIFY_SOCKET as getenv reports it
// (os.Getenv in production), or nil when the variable is unset or empty.
// Only unix socket paths and abstract names are supported; another form
// (such as systemd's vsock: addresses) is an error.
func FromEnv(getenv func(string) string) (*Notifier, error) {
	name := getenv(SocketEnv)
	if name == "" {
		return nil, nil
	}
	if name[0] != '/' && name[0] != '@' {
		return nil, fmt.Errorf("sdnotify: %s=%q: want an absolute path or an @abstract name", SocketEnv, name)
	}
	// The Go runtime maps a leading "@" to the abstract namespace itself.
	return &Notifier{addr: &net.UnixAddr{Name: name, Net: "unixgram"}}, nil
}

// Notify sends the given KEY=VALUE assignments as one datagram. On a nil
// Notifier it does nothing and returns nil.
func (n *Notifier) Notify(states ...string) error {
	if n == nil {
		return nil
	}
	if len(states) == 0 {
		return errors.New("sdnotify: nothing to send")
	}
	for _, s := range states {
		if !strings.Contains(s, "=") || strings.Contains(s, "\n") {
			return fmt.Errorf("sdnotify: %q is not one KEY=VALUE line", s)
		}
	}
	conn, err := net.DialUnix("unixgram", nil, n.addr)
	if err != nil {
		return fmt.Errorf("sdnotify: %w", err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte(strings.Join(states, "\n"))); err != nil {
		return fmt.Errorf("sdnotify: %w", err)
	}
	return nil
}

// WatchdogTimeout returns the service manager's watchdog timeout for the
// process pid, from getenv's $WATCHDOG_USEC and $WATCHDOG_PID; false when
// no watchdog is enabled for it. The process must send Watchdog more often
// than that: systemd recommends every half of it.
func WatchdogTimeout(getenv func(string) string, pid int) (time.Duration, bool, error) {
	usec := getenv(WatchdogUsecEnv)
	if usec == "" {
		return 0, false, nil
	}
	if p := getenv(WatchdogPIDEnv); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil {
			return 0, false, fmt.Errorf("sdnotify: %s=%q: %w", WatchdogPIDEnv, p, err)
		}
		if n != pid {
			return 0, false, nil
		}
	}
	n, err := strconv.ParseInt(usec, 10, 64)
	if err != nil || n <= 0 || n > math.MaxInt64/int64(time.Microsecond) {
		return 0, false, fmt.Errorf("sdnotify: %s=%q: want a positive number of microseconds", WatchdogUsecEnv, usec)
	}
	return time.Duration(n) * time.Microsecond, true, nil
}
