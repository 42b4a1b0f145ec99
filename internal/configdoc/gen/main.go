// Command gen writes docs/configuration.md and the config descriptions of
// Pulumi.yaml from the config types of package stacks (make docs).
//
//	go run ./internal/configdoc/gen
package main

import (
	"fmt"
	"os"

	"gitlab.com/camps-ch/infra/internal/configdoc"
)

func main() {
	markdown, project, err := configdoc.Generate(".")
	if err == nil {
		err = os.WriteFile(configdoc.MarkdownFile, markdown, 0o644)
	}
	if err == nil {
		err = os.WriteFile(configdoc.ProjectFile, project, 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}
