package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// fakeGitLab serves the merge request notes API of GitLab v4: list (paged
// by X-Next-Page, pageSize notes a page), create and update, behind a
// PRIVATE-TOKEN.
type fakeGitLab struct {
	mu       sync.Mutex
	notes    []note
	nextID   int
	pageSize int
	calls    []string
}

const (
	token   = "glpat-test-token"
	project = "camps-ch/infra"
	iid     = "42"
)

func (f *fakeGitLab) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, r.Method)
	if r.Header.Get("PRIVATE-TOKEN") != token {
		http.Error(w, `{"message":"401 Unauthorized"}`, http.StatusUnauthorized)
		return
	}
	base := "/api/v4/projects/" + strings.ReplaceAll(project, "/", "%2F") + "/merge_requests/" + iid + "/notes"
	path := r.URL.EscapedPath()
	switch {
	case r.Method == http.MethodGet && path == base:
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		if page < 1 {
			page = 1
		}
		from, to := (page-1)*f.pageSize, page*f.pageSize
		var out []note
		for i := from; i < to && i < len(f.notes); i++ {
			out = append(out, f.notes[i])
		}
		if to < len(f.notes) {
			w.Header().Set("X-Next-Page", strconv.Itoa(page+1))
		} else {
			w.Header().Set("X-Next-Page", "")
		}
		_ = json.NewEncoder(w).Encode(out)
	case r.Method == http.MethodPost && path == base:
		var in note
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.Body == "" {
			http.Error(w, `{"message":"400 body is missing"}`, http.StatusBadRequest)
			return
		}
		f.nextID++
		n := note{ID: f.nextID, Body: in.Body}
		f.notes = append(f.notes, n)
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(n)
	case r.Method == http.MethodPut && strings.HasPrefix(path, base+"/"):
		id, _ := strconv.Atoi(strings.TrimPrefix(path, base+"/"))
		var in note
		_ = json.NewDecoder(r.Body).Decode(&in)
		for i := range f.notes {
			if f.notes[i].ID == id {
				f.notes[i].Body = in.Body
				_ = json.NewEncoder(w).Encode(f.notes[i])
				return
			}
		}
		http.Error(w, `{"message":"404 Not found"}`, http.StatusNotFound)
	default:
		http.Error(w, `{"message":"404 Not found"}`, http.StatusNotFound)
	}
}

func env(api string) func(string) string {
	vars := map[string]string{"CI_API_V4_URL": api + "/api/v4", "CI_PROJECT_ID": project,
		"CI_MERGE_REQUEST_IID": iid, "GITLAB_COMMENT_TOKEN": token}
	return func(k string) string { return vars[k] }
}

func previewFile(t *testing.T, text string) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "preview.txt")
	if err := os.WriteFile(f, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

func TestCreateThenUpdateTheSameNote(t *testing.T) {
	gl := &fakeGitLab{pageSize: 2}
	// Other people's notes, over two pages, come first.
	for i := range 3 {
		gl.nextID++
		gl.notes = append(gl.notes, note{ID: gl.nextID, Body: fmt.Sprintf("review comment %d", i)})
	}
	srv := httptest.NewServer(gl)
	defer srv.Close()

	if err := run([]string{"-stack", "uat", "-file", previewFile(t, "+ 3 to create\n")}, env(srv.URL), srv.Client()); err != nil {
		t.Fatal(err)
	}
	if err := run([]string{"-stack", "prod", "-file", previewFile(t, "~ 1 to update\n"), "-status", "255"}, env(srv.URL), srv.Client()); err != nil {
		t.Fatal(err)
	}
	if len(gl.notes) != 5 {
		t.Fatalf("%d notes after the first previews, want 3 + one per stack", len(gl.notes))
	}
	uat := gl.notes[3]
	if !strings.HasPrefix(uat.Body, marker("uat")) || !strings.Contains(uat.Body, "+ 3 to create") || !strings.Contains(uat.Body, "uat succeeded") {
		t.Errorf("uat note = %q", uat.Body)
	}
	if !strings.Contains(gl.notes[4].Body, "**failed** (exit status 255)") {
		t.Errorf("prod note = %q", gl.notes[4].Body)
	}

	// The next push: uat's note is updated in place, nothing is added.
	if err := run([]string{"-stack", "uat", "-file", previewFile(t, "+ 4 to create\n")}, env(srv.URL), srv.Client()); err != nil {
		t.Fatal(err)
	}
	if len(gl.notes) != 5 || gl.notes[3].ID != uat.ID {
		t.Fatalf("notes = %+v, want uat's note %d updated", gl.notes, uat.ID)
	}
	if !strings.Contains(gl.notes[3].Body, "+ 4 to create") || strings.Contains(gl.notes[3].Body, "+ 3 to create") {
		t.Errorf("uat note not replaced: %q", gl.notes[3].Body)
	}
	if !strings.Contains(gl.notes[4].Body, "~ 1 to update") || gl.notes[0].Body != "review comment 0" {
		t.Error("another note changed")
	}
	// The note is on the second page: the search stops there.
	if got := strings.Join(gl.calls[len(gl.calls)-3:], " "); got != "GET GET PUT" {
		t.Errorf("last calls = %s, want two pages read and one PUT", got)
	}
}

func TestErrors(t *testing.T) {
	gl := &fakeGitLab{pageSize: 20}
	srv := httptest.NewServer(gl)
	defer srv.Close()
	file := previewFile(t, "preview")
	badToken := func(k string) string {
		if k == "GITLAB_COMMENT_TOKEN" {
			return "wrong"
		}
		return env(srv.URL)(k)
	}
	noMR := func(k string) string {
		if k == "CI_MERGE_REQUEST_IID" || k == "GITLAB_COMMENT_TOKEN" {
			return ""
		}
		return env(srv.URL)(k)
	}
	tests := []struct {
		name string
		args []string
		env  func(string) string
		want string
	}{
		{"no stack", []string{"-file", file}, env(srv.URL), "-stack and -file are required"},
		{"no preview file", []string{"-stack", "uat", "-file", file + ".missing"}, env(srv.URL), "read the preview"},
		{"outside a merge request", []string{"-stack", "uat", "-file", file}, noMR, "not in a merge request pipeline: CI_MERGE_REQUEST_IID, GITLAB_COMMENT_TOKEN not set"},
		{"wrong token", []string{"-stack", "uat", "-file", file}, badToken, "401 Unauthorized"},
	}
	for _, tt := range tests {
		err := run(tt.args, tt.env, srv.Client())
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want %q", tt.name, err, tt.want)
		}
	}
	if len(gl.notes) != 0 {
		t.Errorf("%d notes written by failing runs", len(gl.notes))
	}
}

func TestBodyKeepsThePreviewReadable(t *testing.T) {
	b := body("prod", "```inner fence```\n", 0)
	if !strings.Contains(b, "\n````\n```inner fence```\n````\n") {
		t.Errorf("the fence does not outgrow the preview's own backticks:\n%s", b)
	}
	long := strings.Repeat("x", maxPreview+100) + "\nend"
	b = body("prod", long, 0)
	if !strings.Contains(b, "[… cut") || !strings.Contains(b, "\nend\n") || len(b) > maxPreview+1000 {
		t.Errorf("a long preview is not cut to its end (%d bytes)", len(b))
	}
}
