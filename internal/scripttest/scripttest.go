// Package scripttest runs a shell script the program ships (the restore
// drills') with stand-ins for the commands it calls, so its logic is
// tested without a cluster.
package scripttest

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Run is one run of a script.
type Run struct {
	// Files are written into the run's directory first: the script and
	// what it sources, by name.
	Files map[string]string
	// Script is the file to run with sh.
	Script string
	// Stubs are executables put first on PATH, by name: shell scripts
	// that stand in for commands. They see the run's directory as $DIR.
	Stubs map[string]string
	// Env is the script's environment beside PATH and DIR.
	Env map[string]string
}

// Result is what a run did.
type Result struct {
	// Output is standard output and error, interleaved.
	Output string
	// Err is the run's error (an exit status other than 0).
	Err error
	// Dir is the run's directory, where stubs may leave records.
	Dir string
}

// File reads a file the run left in its directory ("" when there is none).
func (r Result) File(name string) string {
	b, _ := os.ReadFile(filepath.Join(r.Dir, name))
	return string(b)
}

// Exec runs r in a new directory; it skips the test without sh.
func Exec(t *testing.T, r Run) Result {
	t.Helper()
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	if err := os.Mkdir(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, body := range r.Files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for name, body := range r.Stubs {
		if err := os.WriteFile(filepath.Join(bin, name), []byte("#!/bin/sh\n"+body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("sh", filepath.Join(dir, r.Script))
	cmd.Env = []string{"PATH=" + bin + ":" + os.Getenv("PATH"), "DIR=" + dir}
	for k, v := range r.Env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.CombinedOutput()
	return Result{Output: string(out), Err: err, Dir: dir}
}

// Clock stands in for date: date +%s answers 1764979300 (2025-12-06
// 00:01:40 UTC) first, then a minute later at each call; any other use
// goes to the real date.
const Clock = `if [ "$*" != +%s ]; then PATH=${PATH#*:} exec date "$@"; fi
n=$(cat "$DIR/clock" 2>/dev/null || echo 1764979300)
echo $((n + 60)) > "$DIR/clock"
echo "$n"
`
