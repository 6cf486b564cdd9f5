package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/evsed/evsed/clock"
	"github.com/evsed/evsed/cmd/evsed/internal/agent"
	"github.com/evsed/evsed/cmd/evsed/internal/config"
	"github.com/evsed/evsed/localapi"
	"github.com/evsed/evsed/ocppclient/certstore"
	"github.com/evsed/evsed/ocppclient/firmware"
	"github.com/evsed/evsed/ocppclient/logupload"
	"github.com/evsed/evsed/ocppclient/secevents"
)

// The data directory's security parts (see docs/security.md): the
// certificate store, the security log, the firmware downloads and the log
// archives, each in a sub-directory of its own.
const (
	certsDir    = "certs"
	securityDir = "security"
	firmwareDir = "firmware"
	logsDir     = "logs"
)

// security is what evsed run opens for the security extensions.
type security struct {
	certs *certstore.Store
	log   *secevents.Log
	exe   *firmware.Executable
}

// openSecurity opens the certificate store and the security log under the
// data directory, seeds the store with csms.ca_file when it holds no CSMS
// root yet (so that profile 2 from the config file and the CSMS's
// certificate messages work on the same roots), and prepares the firmware
// hook on the running executable; restart asks evsed to restart into a
// new binary. The caller closes the log.
func openSecurity(cfg *config.Config, log *slog.Logger, restart func()) (*security, error) {
	certs, err := certstore.Open(certstore.Options{Dir: filepath.Join(cfg.DataDir, certsDir), Clock: clock.Real{}})
	if err != nil {
		return nil, fmt.Errorf("certificate store: %w", err)
	}
	if f := cfg.CSMS.CAFile; f != "" && len(certs.Certificates(certstore.CSMSRoot)) == 0 {
		if pem, err := os.ReadFile(f); err != nil {
			log.Warn("csms.ca_file not copied to the certificate store", "err", err)
		} else if _, err := certs.Install(certstore.CSMSRoot, pem); err != nil {
			// A CA the store refuses (weak key, not a CA) still serves
			// the config file's TLS; the store stays without it.
			log.Warn("csms.ca_file not copied to the certificate store", "err", err)
		}
	}
	seclog, err := secevents.OpenLog(secevents.LogOptions{Dir: filepath.Join(cfg.DataDir, securityDir), Clock: clock.Real{}})
	if err != nil {
		return nil, fmt.Errorf("security log: %w", err)
	}
	s := &security{certs: certs, log: seclog}
	if exe, err := os.Executable(); err != nil {
		log.Warn("firmware updates off: the running executable is unknown", "err", err)
	} else {
		if p, err := filepath.EvalSymlinks(exe); err == nil {
			exe = p
		}
		s.exe = &firmware.Executable{Path: exe, Restart: func(context.Context) error { restart(); return nil }}
	}
	return s, nil
}

// errRolledBack is why evsed stops at once after a new binary failed to
// come up a few times: the previous one is back in place, for the service
// manager to start.
var errRolledBack = errors.New("the new firmware did not register after several starts: the previous binary is back; restarting into it")

// checkBoot counts this start of a binary installed by a firmware update
// and not yet confirmed; after too many it rolls back (errRolledBack).
func (s *security) checkBoot() error {
	if s.exe == nil {
		return nil
	}
	rolledBack, err := s.exe.CheckBoot()
	if err != nil {
		return fmt.Errorf("firmware boot check: %w", err)
	}
	if rolledBack {
		return errRolledBack
	}
	return nil
}

// journalUnit is the systemd unit scripts/install.sh installs.
const journalUnit = "evsed"

// agentOptions sets the agent's security options: the store, the log,
// firmware updates on the executable, and log uploads of the agent's log
// and the security log. Under systemd the agent's log is the unit's
// journal, which holds the requested window however long ago it was;
// otherwise it is the recent lines the process keeps (recent, nil
// without).
func (s *security) agentOptions(o *agent.Options, dataDir string, recent *localapi.LogBuffer) {
	o.Certificates, o.SecurityLog = s.certs, s.log
	if s.exe != nil {
		o.Firmware = agent.FirmwareOptions{Dir: filepath.Join(dataDir, firmwareDir), Installer: s.exe}
	}
	o.Logs = agent.LogOptions{Dir: filepath.Join(dataDir, logsDir)}
	switch {
	case logupload.UnderSystemd():
		o.Logs.Sources = []logupload.Source{&logupload.Journal{Entry: "evsed.log", Unit: journalUnit}}
	case recent != nil:
		o.Logs.Sources = []logupload.Source{recent}
	}
}
