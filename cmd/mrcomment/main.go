// Command mrcomment posts a stack's `pulumi preview` to its merge request
// as one note per stack, and updates that note on every push instead of
// adding another. It talks to the GitLab REST API (v4) with a token that
// may write notes (a project access token with the api scope; CI_JOB_TOKEN
// cannot).
//
//	pulumi preview --stack uat --diff > preview.txt 2>&1; status=$?
//	go run ./cmd/mrcomment -stack uat -file preview.txt -status $status
//
// It reads the merge request from GitLab CI's variables: CI_API_V4_URL,
// CI_PROJECT_ID, CI_MERGE_REQUEST_IID, and the token from
// GITLAB_COMMENT_TOKEN. Secrets never reach the preview: Pulumi prints
// them as [secret].
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

func main() {
	if err := run(os.Args[1:], os.Getenv, &http.Client{Timeout: time.Minute}); err != nil {
		fmt.Fprintln(os.Stderr, "mrcomment:", err)
		os.Exit(1)
	}
}

// maxPreview is how much of a preview goes into the note; GitLab refuses
// notes over 1,000,000 characters, and nobody reads that much.
const maxPreview = 60000

func run(args []string, getenv func(string) string, client *http.Client) error {
	fs := flag.NewFlagSet("mrcomment", flag.ContinueOnError)
	stack := fs.String("stack", "", "the stack the preview is of (required)")
	file := fs.String("file", "", "the preview's output (required)")
	status := fs.Int("status", 0, "the preview's exit status")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *stack == "" || *file == "" {
		return errors.New("-stack and -file are required")
	}
	preview, err := os.ReadFile(*file)
	if err != nil {
		return fmt.Errorf("read the preview: %w", err)
	}
	mr, err := mergeRequestFromEnv(getenv)
	if err != nil {
		return err
	}
	mr.client = client
	id, created, err := mr.upsert(marker(*stack), body(*stack, string(preview), *status))
	if err != nil {
		return err
	}
	verb := "updated"
	if created {
		verb = "created"
	}
	fmt.Printf("%s note %d on merge request !%s for stack %s\n", verb, id, mr.iid, *stack)
	return nil
}

// marker identifies a stack's note among the merge request's notes.
func marker(stack string) string { return "<!-- camps-infra preview: " + stack + " -->" }

// body renders the note: a verdict, then the preview in a collapsed block.
func body(stack, preview string, status int) string {
	verdict := "succeeded"
	if status != 0 {
		verdict = fmt.Sprintf("**failed** (exit status %d)", status)
	}
	if len(preview) > maxPreview {
		preview = "[… cut: the job log has the whole preview …]\n" + preview[len(preview)-maxPreview:]
	}
	// A fence longer than any backtick run in the preview.
	fence := "```"
	for strings.Contains(preview, fence) {
		fence += "`"
	}
	return fmt.Sprintf("%s\n### `pulumi preview` of stack %s %s\n\n<details><summary>Preview</summary>\n\n%s\n%s\n%s\n\n</details>\n\n_Updated %s._\n",
		marker(stack), stack, verdict, fence, strings.TrimRight(preview, "\n"), fence, time.Now().UTC().Format(time.RFC3339))
}

// mergeRequest is one merge request of the GitLab API.
type mergeRequest struct {
	api, project, iid, token string
	client                   *http.Client
}

func mergeRequestFromEnv(getenv func(string) string) (*mergeRequest, error) {
	mr := &mergeRequest{
		api: strings.TrimRight(getenv("CI_API_V4_URL"), "/"), project: getenv("CI_PROJECT_ID"),
		iid: getenv("CI_MERGE_REQUEST_IID"), token: getenv("GITLAB_COMMENT_TOKEN"),
	}
	var missing []string
	for name, v := range map[string]string{"CI_API_V4_URL": mr.api, "CI_PROJECT_ID": mr.project,
		"CI_MERGE_REQUEST_IID": mr.iid, "GITLAB_COMMENT_TOKEN": mr.token} {
		if v == "" {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("not in a merge request pipeline: %s not set", strings.Join(slices.Sorted(slices.Values(missing)), ", "))
	}
	if _, err := strconv.Atoi(mr.iid); err != nil {
		return nil, fmt.Errorf("CI_MERGE_REQUEST_IID %q is not a number", mr.iid)
	}
	return mr, nil
}

type note struct {
	ID   int    `json:"id"`
	Body string `json:"body"`
}

func (mr *mergeRequest) notesURL() string {
	return fmt.Sprintf("%s/projects/%s/merge_requests/%s/notes", mr.api, url.PathEscape(mr.project), mr.iid)
}

// upsert updates the note that carries the marker, or creates one.
func (mr *mergeRequest) upsert(marker, text string) (id int, created bool, err error) {
	existing, err := mr.find(marker)
	if err != nil {
		return 0, false, err
	}
	payload, _ := json.Marshal(map[string]string{"body": text})
	var n note
	if existing != 0 {
		err = mr.do(http.MethodPut, fmt.Sprintf("%s/%d", mr.notesURL(), existing), payload, &n)
		return n.ID, false, err
	}
	err = mr.do(http.MethodPost, mr.notesURL(), payload, &n)
	return n.ID, true, err
}

// find pages through the notes for the marker; 0 means none.
func (mr *mergeRequest) find(marker string) (int, error) {
	for page := 1; page != 0; {
		var notes []note
		next, err := mr.get(fmt.Sprintf("%s?per_page=100&sort=asc&order_by=created_at&page=%d", mr.notesURL(), page), &notes)
		if err != nil {
			return 0, err
		}
		for _, n := range notes {
			if strings.HasPrefix(n.Body, marker) {
				return n.ID, nil
			}
		}
		page = next
	}
	return 0, nil
}

// get fetches a page and returns the next page's number (0: the last).
func (mr *mergeRequest) get(u string, into any) (int, error) {
	resp, err := mr.send(http.MethodGet, u, nil)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if err := decode(resp, into); err != nil {
		return 0, err
	}
	next, _ := strconv.Atoi(resp.Header.Get("X-Next-Page"))
	return next, nil
}

func (mr *mergeRequest) do(method, u string, payload []byte, into any) error {
	resp, err := mr.send(method, u, payload)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return decode(resp, into)
}

func (mr *mergeRequest) send(method, u string, payload []byte) (*http.Response, error) {
	req, err := http.NewRequest(method, u, bytes.NewReader(payload))
	if err != nil {
		return nil, err
	}
	req.Header.Set("PRIVATE-TOKEN", mr.token)
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := mr.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, req.URL.Path, err)
	}
	return resp, nil
}

func decode(resp *http.Response, into any) error {
	if resp.StatusCode/100 != 2 {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("%s %s: %s: %s", resp.Request.Method, resp.Request.URL.Path, resp.Status, bytes.TrimSpace(msg))
	}
	if err := json.NewDecoder(resp.Body).Decode(into); err != nil {
		return fmt.Errorf("%s %s: decode: %w", resp.Request.Method, resp.Request.URL.Path, err)
	}
	return nil
}
