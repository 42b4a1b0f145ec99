// Command gen writes contract/outputs.schema.json and docs/outputs.md from
// contract.Outputs.
//
//	go run ./contract/gen
package main

import (
	"fmt"
	"os"

	"gitlab.com/camps-ch/infra/contract"
)

func main() {
	b, err := contract.Schema()
	if err == nil {
		err = os.WriteFile("contract/outputs.schema.json", b, 0o644)
	}
	if err == nil {
		err = os.WriteFile("docs/outputs.md", contract.Markdown(), 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}
