// Package delivery holds the tests of the project's delivery
// configuration, which is not Go: the GitLab pipeline (.gitlab-ci.yml),
// the Makefile targets it calls, and Renovate's configuration
// (renovate.json) with the regex managers that find the chart versions
// pinned in Go code.
package delivery
