//go:build !linux

package main

// trimExecutable does nothing off Linux: see trim_linux.go.
func trimExecutable() (int, error) { return 0, nil }

// fileResident reports nothing off Linux.
func fileResident() (int64, error) { return 0, nil }
