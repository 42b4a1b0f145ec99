// Command kaas-fake serves the in-memory fake of Infomaniak's KaaS API
// (package kaastest) over HTTP on a loopback address, for `make e2e`: the
// provider plugin talks to it as to the real API (INFOMANIAK_HOST), and
// every cluster it creates answers the kubeconfig given by -kubeconfig,
// the end-to-end run's own API server.
//
// It prints its URL on the first line of standard output, logs each
// request on standard error, and serves until it is interrupted.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"os/signal"
	"syscall"

	"gitlab.com/camps-ch/infra/provider/kaas/kaastest"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "kaas-fake:", err)
		os.Exit(1)
	}
}

func run() error {
	listen := flag.String("listen", "127.0.0.1:0", "address to listen on (loopback)")
	kubeconfig := flag.String("kubeconfig", "", "file whose content every cluster answers as its kubeconfig (required)")
	token := flag.String("token", kaastest.Token, "the API token the fake accepts")
	cloud := flag.Int("public-cloud-id", 11, "the Public Cloud id the fake serves")
	project := flag.Int("project-id", 22, "the project id the fake serves")
	steps := flag.Int("steps", 1, "reads a cluster or pool stays in a transitional status")
	faults := flag.String("faults", "", `JSON file of injected answers: {"METHOD path-prefix": [{"Status": 500, "Header": {}, "Body": "", "Lost": false}, ...]}, served in order to the first matching requests`)
	flag.Parse()

	if *kubeconfig == "" {
		return errors.New("-kubeconfig is required")
	}
	kc, err := os.ReadFile(*kubeconfig)
	if err != nil {
		return err
	}
	var injected map[string][]kaastest.Response
	if *faults != "" {
		b, err := os.ReadFile(*faults)
		if err != nil {
			return err
		}
		if err := json.Unmarshal(b, &injected); err != nil {
			return fmt.Errorf("%s: %w", *faults, err)
		}
	}
	l, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	if ip := l.Addr().(*net.TCPAddr).IP; !ip.IsLoopback() {
		l.Close()
		return fmt.Errorf("-listen %s is not a loopback address", *listen)
	}

	s := kaastest.NewUnstarted()
	s.Listener.Close()
	s.Listener = l
	s.TokenValue, s.PublicCloudID, s.ProjectID, s.Steps, s.Kubeconfig = *token, *cloud, *project, *steps, string(kc)
	s.Logf = log.New(os.Stderr, "kaas-fake: ", log.LstdFlags|log.Lmicroseconds).Printf
	for key, rs := range injected {
		s.Fail(key, rs...)
	}
	s.Start()
	fmt.Println(s.URL)

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	<-stop
	s.Close()
	return nil
}
