// Command evsed is the charge-point agent: see the README.
package main

import (
	"fmt"
	"os"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	if len(os.Args) > 1 && os.Args[1] == "version" {
		fmt.Println("evsed", version)
		return
	}
	fmt.Fprintln(os.Stderr, "usage: evsed run|ctl|boards|version")
	os.Exit(2)
}
