//go:build !linux

package main

import (
	"context"
	"errors"
)

// fsType is only known on Linux; elsewhere the table says so.
func fsType(string) string { return "an unknown file system" }

// scratchDevice needs Linux loop devices.
func scratchDevice(context.Context, string) (mnt, dev string, undo func(), err error) {
	return "", "", nil, errors.New("needs Linux")
}
