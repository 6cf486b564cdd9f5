package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
)

// target is one platform evsed ships for.
type target struct {
	name          string
	goarch, goarm string
}

var targets = []target{
	{"linux/arm GOARM=6", "arm", "6"},
	{"linux/arm GOARM=7", "arm", "7"},
	{"linux/arm64", "arm64", ""},
	{"linux/amd64", "amd64", ""},
}

// buildFlags are those of a release build (the Makefile's, without the
// version stamp): stripped, reproducible paths, no cgo.
var buildFlags = []string{"build", "-trimpath", "-ldflags=-s -w"}

// sizes builds evsed for every target and adds a row each. It returns the
// path of a binary that runs on this machine, or "" when none could be
// built.
func sizes(ctx context.Context, t *table, dir string) (host string) {
	for _, tg := range targets {
		out := filepath.Join(dir, "evsed-linux-"+tg.goarch+tg.goarm)
		progress("building evsed for %s", tg.name)
		env := []string{"CGO_ENABLED=0", "GOOS=linux", "GOARCH=" + tg.goarch, "GOARM=" + tg.goarm}
		if err := build(ctx, out, env); err != nil {
			t.fail("binary size "+tg.name, err)
			continue
		}
		fi, err := os.Stat(out)
		if err != nil {
			t.fail("binary size "+tg.name, err)
			continue
		}
		t.add("binary size "+tg.name, fmt.Sprintf("%s (%d B)", mib(float64(fi.Size())), fi.Size()),
			"stripped (-s -w), -trimpath, CGO_ENABLED=0")
		// arm hosts could run one of the arm builds, but which GOARM they
		// take is not known here; they get a build of their own below.
		if runtime.GOOS == "linux" && tg.goarm == "" && tg.goarch == runtime.GOARCH {
			host = out
		}
	}
	if host == "" && ctx.Err() == nil {
		host = hostBinary(ctx, dir)
	}
	return host
}

// hostBinary builds evsed for this machine (release flags) and returns its
// path, or "" when it could not be built.
func hostBinary(ctx context.Context, dir string) string {
	out := filepath.Join(dir, "evsed-host")
	progress("building evsed for this machine")
	if err := build(ctx, out, []string{"CGO_ENABLED=0"}); err != nil {
		progress("host build: %v", err)
		return ""
	}
	return out
}

func build(ctx context.Context, out string, env []string) error {
	cmd := exec.CommandContext(ctx, "go", append(buildFlags, "-o", out, "./cmd/evsed")...)
	cmd.Env = append(os.Environ(), env...)
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build: %v: %s", err, b)
	}
	return nil
}
