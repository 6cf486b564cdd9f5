//go:build !linux

package periphboard

import "errors"

// hostInit fails: periph's host drivers for the boards evsed supports run on
// Linux only.
func hostInit() error {
	return errors.New("periphboard: real boards need Linux (periph host drivers)")
}
