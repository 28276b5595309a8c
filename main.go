// Command bisonsync keeps a PostgreSQL copy of every Email Bison workspace's sender accounts
// complete and fresh. See README.md.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "bisonsync: not implemented yet")
	os.Exit(2)
}
