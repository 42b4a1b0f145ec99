// Package kaas is the client of Infomaniak's managed Kubernetes (KaaS) REST
// API that the in-repo Pulumi provider is built on. It follows the contract
// documented in shared/INFOMANIAK-KAAS.md: the /1/ paths, the JSON envelope
// {result, data, error}, Bearer authentication, and the API's limit of 60
// requests a minute.
//
// It is strict where the API is documented and tolerant where the public
// sources disagree (labels, prices, booleans), retries 429 and 5xx with
// backoff (honouring Retry-After), never retries other 4xx, and always
// surfaces the API's error code and description, or the raw body when the
// answer is not the JSON envelope (a proxy's 502).
package kaas

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DefaultBaseURL is the Infomaniak API.
const DefaultBaseURL = "https://api.infomaniak.com"

// Client calls the KaaS API of one Public Cloud project.
type Client struct {
	// BaseURL is the API's address; default DefaultBaseURL.
	BaseURL string
	// Token is the API token, sent as a Bearer token.
	Token string
	// PublicCloudID and ProjectID name the project.
	PublicCloudID, ProjectID int
	// HTTP is the HTTP client; default one with a 60 s timeout.
	HTTP *http.Client
	// Retry bounds retries of 429 and 5xx answers.
	Retry Retry
	// Limiter spaces requests; default 60 a minute.
	Limiter *Limiter
	// Sleep waits; tests replace it. Default: a timer that honours ctx.
	Sleep func(ctx context.Context, d time.Duration) error
	// UserAgent names the caller.
	UserAgent string
}

// Retry is the retry policy for 429 and 5xx answers and network errors.
type Retry struct {
	// Attempts is the most tries of one request; default 6.
	Attempts int
	// Base is the first backoff; it doubles each time, with jitter. Default 1 s.
	Base time.Duration
	// Max caps one backoff and a Retry-After; default 60 s.
	Max time.Duration
}

func (r Retry) withDefaults() Retry {
	if r.Attempts <= 0 {
		r.Attempts = 6
	}
	if r.Base <= 0 {
		r.Base = time.Second
	}
	if r.Max <= 0 {
		r.Max = time.Minute
	}
	return r
}

// Limiter is a token bucket: Burst requests at once, then one every Every.
type Limiter struct {
	Every time.Duration
	Burst int

	mu     sync.Mutex
	tokens float64
	last   time.Time
	now    func() time.Time
}

// NewLimiter allows n requests per period, in bursts of at most burst.
func NewLimiter(n int, period time.Duration, burst int) *Limiter {
	return &Limiter{Every: period / time.Duration(n), Burst: burst, tokens: float64(burst)}
}

// reserve takes a token and returns how long to wait for it.
func (l *Limiter) reserve() time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	if l.now != nil {
		now = l.now()
	}
	if !l.last.IsZero() {
		l.tokens = min(float64(l.Burst), l.tokens+float64(now.Sub(l.last))/float64(l.Every))
	}
	l.last = now
	l.tokens--
	if l.tokens >= 0 {
		return 0
	}
	return time.Duration(-l.tokens * float64(l.Every))
}

var defaultLimiter = NewLimiter(60, time.Minute, 10)

// Error is an error answer of the API.
type Error struct {
	// Status is the HTTP status.
	Status int
	// Code is the API's machine code, e.g. object_not_found.
	Code string
	// Description is the API's message.
	Description string
	// Details are nested errors (validation), as "attribute: description".
	Details []string
	// Body is the raw answer when it was not the JSON error envelope.
	Body string
	// Method and Path are the request's.
	Method, Path string
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: HTTP %d", e.Method, e.Path, e.Status)
	if e.Code != "" {
		fmt.Fprintf(&b, " %s", e.Code)
	}
	if e.Description != "" {
		fmt.Fprintf(&b, ": %s", e.Description)
	}
	if len(e.Details) > 0 {
		fmt.Fprintf(&b, " (%s)", strings.Join(e.Details, "; "))
	}
	if e.Body != "" {
		fmt.Fprintf(&b, ": %s", e.Body)
	}
	return b.String()
}

// IsNotFound tells whether err is the API's 404.
func IsNotFound(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Status == http.StatusNotFound
}

type envelope struct {
	Result string          `json:"result"`
	Data   json.RawMessage `json:"data"`
	Error  *apiError       `json:"error"`
	// Pages is the page count of a paginated list (page, per_page).
	Pages int `json:"pages"`
}

// page is one page of a paginated list: its data and the page count.
type page struct {
	data  json.RawMessage
	pages int
}

// IsAmbiguous tells whether err leaves open whether the API acted on the
// request: a 5xx answer (a proxy's 502 included) or no answer at all. A
// create that fails so may have created what it asked for.
func IsAmbiguous(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Status >= 500
	}
	return true
}

type apiError struct {
	Code        string         `json:"code"`
	Description string         `json:"description"`
	Errors      []apiError     `json:"errors"`
	Context     map[string]any `json:"context"`
}

func (e apiError) details() []string {
	var out []string
	for _, n := range e.Errors {
		d := n.Description
		if d == "" {
			d = n.Code
		}
		if attr, ok := n.Context["attribute"].(string); ok && attr != "" {
			d = attr + ": " + d
		}
		out = append(out, d)
	}
	return out
}

func (c *Client) base() string {
	if c.BaseURL == "" {
		return DefaultBaseURL
	}
	return strings.TrimSuffix(c.BaseURL, "/")
}

func (c *Client) sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	if c.Sleep != nil {
		return c.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// do sends one API call, retrying 429, and 5xx and network errors for all
// but POST (which creates: a repeat could create twice), and decodes the
// envelope's data into out (when out is not nil).
func (c *Client) do(ctx context.Context, method, path string, query url.Values, body, out any) error {
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return fmt.Errorf("%s %s: encode body: %w", method, path, err)
		}
	}
	u := c.base() + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	retry := c.Retry.withDefaults()
	limiter := c.Limiter
	if limiter == nil {
		limiter = defaultLimiter
	}
	httpc := c.HTTP
	if httpc == nil {
		httpc = &http.Client{Timeout: time.Minute}
	}
	var last error
	for attempt := 1; attempt <= retry.Attempts; attempt++ {
		if err := c.sleep(ctx, limiter.reserve()); err != nil {
			return err
		}
		req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(payload))
		if err != nil {
			return fmt.Errorf("%s %s: %w", method, path, err)
		}
		if payload != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		req.Header.Set("Accept", "application/json")
		req.Header.Set("Authorization", "Bearer "+c.Token)
		if c.UserAgent != "" {
			req.Header.Set("User-Agent", c.UserAgent)
		}
		resp, err := httpc.Do(req)
		var wait time.Duration
		if err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("%s %s: %w", method, path, ctx.Err())
			}
			last = fmt.Errorf("%s %s: %w", method, path, err)
			if method == http.MethodPost {
				return last
			}
		} else {
			raw, readErr := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
			resp.Body.Close()
			if readErr != nil {
				last = fmt.Errorf("%s %s: read answer: %w", method, path, readErr)
			} else if resp.StatusCode < 400 {
				return decodeData(method, path, raw, out)
			} else {
				apiErr := decodeError(method, path, resp.StatusCode, raw)
				// A POST that failed with a 5xx may still have created
				// something: it is not repeated (the next run adopts what
				// it finds). A 429 was refused outright and is retried.
				if resp.StatusCode != http.StatusTooManyRequests && (resp.StatusCode < 500 || method == http.MethodPost) {
					return apiErr
				}
				last, wait = apiErr, retryAfter(resp.Header.Get("Retry-After"))
			}
		}
		if attempt == retry.Attempts {
			break
		}
		if wait <= 0 {
			backoff := retry.Base << (attempt - 1)
			wait = backoff/2 + rand.N(backoff/2+1)
		}
		if err := c.sleep(ctx, min(wait, retry.Max)); err != nil {
			return err
		}
	}
	return fmt.Errorf("giving up after %d attempts: %w", retry.Attempts, last)
}

// retryAfter reads a Retry-After header: seconds or an HTTP date.
func retryAfter(h string) time.Duration {
	if h == "" {
		return 0
	}
	if s, err := strconv.Atoi(strings.TrimSpace(h)); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil {
		return time.Until(t)
	}
	return 0
}

func decodeData(method, path string, raw []byte, out any) error {
	if out == nil {
		return nil
	}
	var env envelope
	if err := json.Unmarshal(raw, &env); err != nil {
		return fmt.Errorf("%s %s: answer is not the JSON envelope: %w", method, path, err)
	}
	if len(env.Data) == 0 || string(env.Data) == "null" {
		return fmt.Errorf("%s %s: answer has no data", method, path)
	}
	if p, ok := out.(*page); ok {
		p.data, p.pages = env.Data, env.Pages
		return nil
	}
	if err := json.Unmarshal(env.Data, out); err != nil {
		return fmt.Errorf("%s %s: unexpected data: %w", method, path, err)
	}
	return nil
}

// decodeError reads the error envelope, falling back to the status and
// the raw body (shortened) when the answer is something else.
func decodeError(method, path string, status int, raw []byte) *Error {
	e := &Error{Status: status, Method: method, Path: path}
	var env envelope
	if err := json.Unmarshal(raw, &env); err == nil && env.Error != nil {
		e.Code, e.Description, e.Details = env.Error.Code, env.Error.Description, env.Error.details()
		return e
	}
	body := strings.TrimSpace(string(raw))
	if len(body) > 300 {
		body = body[:300] + "…"
	}
	if body == "" {
		body = http.StatusText(status)
	}
	e.Body = body
	return e
}

// projectPath is the path prefix of the project's resources.
func (c *Client) projectPath() string {
	return fmt.Sprintf("/1/public_clouds/%d/projects/%d", c.PublicCloudID, c.ProjectID)
}
