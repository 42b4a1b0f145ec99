// Command gen writes docs/configuration.md and the config descriptions of
// Pulumi.yaml from the config types of package stacks (make docs).
//
//	go run ./internal/configdoc/gen
package main

import (
	"fmt"
	"os"
	"reflect"

	"gitlab.com/camps-ch/infra/internal/configdoc"
	"gitlab.com/camps-ch/infra/stacks"
)

func main() {
	markdown, project, err := configdoc.Generate(".", configdoc.Types{
		Config: reflect.TypeFor[stacks.Config](), Secret: reflect.TypeFor[stacks.Secret](), Preset: stacks.PhaseDefault,
	})
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
