//go:build linux

package periphboard

import "periph.io/x/host/v3"

// hostInit loads periph's host drivers (GPIO, I2C, SPI of the SoC). It is
// idempotent, as periph's state is process-wide.
func hostInit() error {
	_, err := host.Init()
	return err
}
