package publish

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-github/v60/github"
)

// DefaultAPIURL is the REST API root of github.com; GitHub Enterprise Server runners set
// GITHUB_API_URL to theirs (https://HOST/api/v3).
const DefaultAPIURL = "https://api.github.com/"

// Retry defaults: about 1 s, 2 s, 4 s … between attempts, at most 30 s, each attempt cut
// after 30 s, and the whole publish bounded by the caller's context (--timeout).
const (
	DefaultAttempts       = 6
	DefaultBackoff        = time.Second
	DefaultMaxBackoff     = 30 * time.Second
	DefaultAttemptTimeout = 30 * time.Second
	// DefaultAbuseWait is how long to wait after a secondary rate limit without Retry-After:
	// GitHub asks for at least a minute.
	DefaultAbuseWait = time.Minute
	// rateLimitMargin is added to a primary rate-limit reset, which GitHub gives in whole
	// seconds, so the retry does not land a moment early.
	rateLimitMargin = time.Second
)

// Retry says how requests are retried. Zero fields take the Default* values.
type Retry struct {
	Attempts       int
	Backoff        time.Duration
	MaxBackoff     time.Duration
	AttemptTimeout time.Duration
	AbuseWait      time.Duration
	// Sleep waits d or until ctx is done; tests record instead of sleeping.
	Sleep func(ctx context.Context, d time.Duration) error
	// Rand draws the jitter; seed it in tests.
	Rand *rand.Rand
}

func (r Retry) withDefaults() Retry {
	if r.Attempts <= 0 {
		r.Attempts = DefaultAttempts
	}
	if r.Backoff <= 0 {
		r.Backoff = DefaultBackoff
	}
	if r.MaxBackoff <= 0 {
		r.MaxBackoff = DefaultMaxBackoff
	}
	if r.AttemptTimeout <= 0 {
		r.AttemptTimeout = DefaultAttemptTimeout
	}
	if r.AbuseWait <= 0 {
		r.AbuseWait = DefaultAbuseWait
	}
	if r.Sleep == nil {
		r.Sleep = sleepCtx
	}
	if r.Rand == nil {
		r.Rand = rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 0x7a11))
	}
	return r
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// backoff is the wait before attempt n+1: exponential, capped, with equal jitter so that a
// fleet of boards that failed together does not retry together.
func (r Retry) backoff(n int) time.Duration {
	d := r.Backoff << min(n-1, 20)
	if d <= 0 || d > r.MaxBackoff {
		d = r.MaxBackoff
	}
	half := d / 2
	return half + time.Duration(r.Rand.Int64N(int64(half)+1))
}

// ClientOptions configure a [Client].
type ClientOptions struct {
	// APIURL is the REST API root; empty means DefaultAPIURL.
	APIURL string
	// Token authenticates; it is kept out of every error message.
	Token string
	// HTTPClient carries the requests; nil means a fresh one.
	HTTPClient *http.Client
	Retry      Retry
}

// Client talks to GitHub through go-github with retries.
type Client struct {
	opt  ClientOptions
	base *url.URL
	gh   *github.Client
}

// NewClient returns a client for the API at opt.APIURL. The URL must be https, since the
// token travels in every request; plain http is accepted only for a loopback host (127.0.0.1,
// ::1, localhost), which is what tests' fake servers listen on. It must carry no user
// information, query or fragment.
func NewClient(opt ClientOptions) (*Client, error) {
	api := opt.APIURL
	if api == "" {
		api = DefaultAPIURL
	}
	u, err := url.Parse(api)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return nil, fmt.Errorf("GitHub API URL %q: want an https URL such as %s", api, DefaultAPIURL)
	}
	switch {
	case u.User != nil || u.RawQuery != "" || u.Fragment != "":
		return nil, fmt.Errorf("GitHub API URL %q: want an https URL without credentials, query or fragment, such as %s", u.Redacted(), DefaultAPIURL)
	case u.Scheme == "https":
	case u.Scheme == "http" && loopback(u.Hostname()):
	case u.Scheme == "http":
		return nil, fmt.Errorf("GitHub API URL %q: plain http would send the token in clear text; want https (http is accepted for loopback test servers only: 127.0.0.1, ::1, localhost)", api)
	default:
		return nil, fmt.Errorf("GitHub API URL %q: want an https URL such as %s", api, DefaultAPIURL)
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
	}
	opt.Retry = opt.Retry.withDefaults()
	c := &Client{opt: opt, base: u}
	c.reset()
	return c, nil
}

// loopback says whether host is this machine's loopback interface by name or address.
func loopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// reset builds a fresh go-github client. go-github remembers a rate-limit reset and refuses
// requests until it passes by the local clock; once we have waited the reset out ourselves, a
// board whose clock runs behind GitHub's (a Pi without an RTC battery) would otherwise keep
// refusing until the deadline.
func (c *Client) reset() {
	hc := c.opt.HTTPClient
	if hc == nil {
		hc = &http.Client{}
	}
	gh := github.NewClient(hc)
	if c.opt.Token != "" {
		gh = gh.WithAuthToken(c.opt.Token)
	}
	base := *c.base
	gh.BaseURL = &base
	gh.UploadURL = &base
	gh.UserAgent = "tailgate"
	c.gh = gh
}

// APIError is a failed GitHub call with the token scrubbed from its message.
type APIError struct {
	Op       string
	Status   int // HTTP status; 0 for network errors and timeouts
	Message  string
	Attempts int
}

func (e *APIError) Error() string {
	s := e.Op + ": "
	if e.Status != 0 {
		s += fmt.Sprintf("GitHub answered %d: ", e.Status)
	}
	s += e.Message
	if e.Attempts > 1 {
		s += fmt.Sprintf(" (after %d attempts)", e.Attempts)
	}
	return s
}

// scrub removes the token from s.
func (c *Client) scrub(s string) string {
	if t := c.opt.Token; t != "" {
		s = strings.ReplaceAll(s, t, "[REDACTED]")
	}
	return s
}

// class is what a failed attempt means for the next one.
type class int

const (
	permanent class = iota
	transient
	rateLimited
)

// classify says whether err is worth retrying and how long to wait first (zero: backoff).
func (c *Client) classify(err error, attemptCtx context.Context) (class, time.Duration, int, string) {
	var rl *github.RateLimitError
	var ab *github.AbuseRateLimitError
	var er *github.ErrorResponse
	var acc *github.AcceptedError
	var ne net.Error
	switch {
	case errors.As(err, &rl):
		wait := time.Until(rl.Rate.Reset.Time) + rateLimitMargin
		return rateLimited, max(wait, rateLimitMargin), http.StatusForbidden, fmt.Sprintf("rate limit exceeded (%s), resets at %s", rl.Message, rl.Rate.Reset.Time.UTC().Format(time.RFC3339))
	case errors.As(err, &ab):
		wait := c.opt.Retry.AbuseWait
		if ab.RetryAfter != nil {
			wait = *ab.RetryAfter
		}
		return rateLimited, wait, http.StatusForbidden, "secondary rate limit: " + ab.Message
	case errors.As(err, &acc):
		return transient, 0, http.StatusAccepted, "GitHub is still preparing the answer"
	case errors.As(err, &er):
		status := 0
		if er.Response != nil {
			status = er.Response.StatusCode
		}
		msg := er.Message
		for _, e := range er.Errors {
			if e.Message != "" {
				msg += "; " + e.Message
			} else {
				msg += fmt.Sprintf("; %s %s on %s", e.Code, e.Field, e.Resource)
			}
		}
		if msg == "" {
			msg = http.StatusText(status)
		}
		if status == http.StatusTooManyRequests {
			// GitHub answers some secondary limits with 429 and Retry-After in seconds.
			if secs, err := strconv.Atoi(er.Response.Header.Get("Retry-After")); err == nil && secs >= 0 {
				return rateLimited, time.Duration(secs) * time.Second, status, msg
			}
			return transient, 0, status, msg
		}
		if status >= 500 {
			return transient, 0, status, msg
		}
		return permanent, 0, status, msg
	case attemptCtx.Err() != nil:
		return transient, 0, 0, "no answer within the attempt timeout"
	case errors.As(err, &ne), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return transient, 0, 0, err.Error()
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return transient, 0, 0, err.Error()
	}
	return permanent, 0, 0, err.Error()
}

// do runs fn until it succeeds, fails for good, runs out of attempts or the context ends. fn
// gets the attempt number, so that a non-idempotent call can look before it repeats itself.
func (c *Client) do(ctx context.Context, op string, fn func(ctx context.Context, gh *github.Client, attempt int) error) error {
	r := c.opt.Retry
	var last *APIError
	for attempt := 1; ; attempt++ {
		actx, cancel := context.WithTimeout(ctx, r.AttemptTimeout)
		err := fn(actx, c.gh, attempt)
		if err == nil {
			cancel()
			return nil
		}
		cls, wait, status, msg := c.classify(err, actx)
		cancel()
		last = &APIError{Op: op, Status: status, Message: c.scrub(msg), Attempts: attempt}
		if ctx.Err() != nil {
			last.Message = "overall deadline passed; last failure: " + last.Message
			return last
		}
		if cls == permanent || attempt >= r.Attempts {
			return last
		}
		if wait == 0 {
			wait = r.backoff(attempt)
		}
		if dl, ok := ctx.Deadline(); ok && time.Now().Add(wait).After(dl) {
			last.Message = fmt.Sprintf("%s; the next try (in %s) would be past the deadline", last.Message, wait.Round(time.Second))
			return last
		}
		if err := r.Sleep(ctx, wait); err != nil {
			last.Message = "overall deadline passed; last failure: " + last.Message
			return last
		}
		if cls == rateLimited {
			c.reset()
		}
	}
}
