// Command e2e runs the program through the real Pulumi engine: the Pulumi
// CLI, the real Pulumi.yaml and stack files (with the overlay of
// e2e/config.yaml), the Infomaniak provider plugin against a fake of the
// KaaS API, the Kubernetes provider against a real kube-apiserver, and
// the charts' real CRDs. See docs/e2e.md for what it
// proves and what it cannot.
//
// Usage (make e2e does this):
//
//	go run ./cmd/e2e -tools ~/.cache/camps-infra-e2e/bin -charts "$E2E_CHARTS"
//
// The same binary also serves, when started under the name
// pulumi-resource-<package>, as the stand-in plugin of random, openstack
// and cloudflare (package internal/e2e/standin).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"gitlab.com/camps-ch/infra/internal/e2e/standin"
)

func main() {
	if pkg, ok := strings.CutPrefix(filepath.Base(os.Args[0]), "pulumi-resource-"); ok && slices.Contains(standin.Packages, pkg) {
		if err := standin.Main(pkg); err != nil {
			fmt.Fprintf(os.Stderr, "stand-in %s: %v\n", pkg, err)
			os.Exit(1)
		}
		return
	}
	cache := os.Getenv("E2E_CACHE")
	if cache == "" {
		if dir, err := os.UserCacheDir(); err == nil {
			cache = filepath.Join(dir, "camps-infra-e2e")
		}
	}
	var r runner
	flag.StringVar(&r.tools, "tools", filepath.Join(cache, "bin"), "directory of the tools make e2e-tools builds")
	flag.StringVar(&r.charts, "charts", os.Getenv("E2E_CHARTS"), "directory of the charts' directories, one per pinned chart (empty: the platform is skipped)")
	flag.StringVar(&r.kaasBin, "kaas-fake", "bin/kaas-fake", "the KaaS API fake (make e2e builds it)")
	flag.StringVar(&r.overlay, "overlay", "e2e/config.yaml", "the overlay of the stack files")
	flag.StringVar(&r.work, "work", "", "working directory (default: a new temporary one, removed after a passing run)")
	runs := flag.String("runs", strings.Join(runNames(), ","), "the runs to do, comma-separated")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	start := time.Now()
	err := r.main(ctx, strings.Split(*runs, ","))
	fmt.Printf("\ne2e: %s in %s\n", map[bool]string{true: "PASS", false: "FAIL"}[err == nil], time.Since(start).Round(time.Second))
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2e: %v\n", err)
		if r.work != "" {
			fmt.Fprintf(os.Stderr, "e2e: logs and state are kept in %s\n", r.work)
		}
		os.Exit(1)
	}
}
