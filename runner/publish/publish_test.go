package publish_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tailgate-ci/tailgate/runner/publish"
	"github.com/tailgate-ci/tailgate/runner/publish/publishtest"
)

const token = "ghs_s3cr3tT0kenThatMustNeverLeak0123456789"

var target = publish.Target{Owner: "pi-fleet", Repo: "vision", PR: 42, SHA: "0123456789abcdef0123456789abcdef01234567"}

// sleeper records the waits a client asks for instead of sleeping.
type sleeper struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (s *sleeper) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.waits = append(s.waits, d)
	s.mu.Unlock()
	return ctx.Err()
}

func newClient(t *testing.T, srv *publishtest.Server, sl *sleeper, attemptTimeout time.Duration) *publish.Client {
	t.Helper()
	c, err := publish.NewClient(publish.ClientOptions{
		APIURL: srv.APIURL(),
		Token:  token,
		Retry: publish.Retry{
			Sleep:          sl.sleep,
			Rand:           rand.New(rand.NewPCG(1, 2)),
			AttemptTimeout: attemptTimeout,
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func markerComments(srv *publishtest.Server, marker string) []publishtest.Comment {
	var out []publishtest.Comment
	for _, c := range srv.Comments(target.PR) {
		if strings.HasPrefix(c.Body, marker) {
			out = append(out, c)
		}
	}
	return out
}

func TestUpsertFindsMarkerOnLastPage(t *testing.T) {
	srv := publishtest.New(t, token)
	marker := publish.Marker("pr")
	for i := 0; i < 230; i++ {
		srv.Seed(target.PR, fmt.Sprintf("review comment %d", i))
	}
	ours := srv.Seed(target.PR, marker+"\nold results")[0]
	for i := 0; i < 20; i++ {
		srv.Seed(target.PR, fmt.Sprintf("later comment %d", i))
	}
	c := newClient(t, srv, &sleeper{}, 0)
	res, err := c.UpsertComment(context.Background(), target, marker, marker+"\nnew results")
	if err != nil {
		t.Fatal(err)
	}
	if res.Created || res.ID != ours {
		t.Errorf("result %+v: want the existing comment %d edited", res, ours)
	}
	if n := srv.Count(publishtest.ListComments); n != 3 {
		t.Errorf("listed %d pages, want 3 (251 comments, 100 a page)", n)
	}
	if n := srv.Count(publishtest.CreateComment); n != 0 {
		t.Errorf("created %d comments, want none", n)
	}
	got := markerComments(srv, marker)
	if len(got) != 1 || got[0].Body != marker+"\nnew results" {
		t.Fatalf("marker comments after upsert: %+v", got)
	}
	if n := len(srv.Comments(target.PR)); n != 251 {
		t.Errorf("%d comments on the PR, want 251", n)
	}
}

func TestPublishTwiceLeavesOneComment(t *testing.T) {
	srv := publishtest.New(t, token)
	srv.PageSize = 2 // several pages even for a short thread
	srv.Seed(target.PR, "first!", "LGTM", "<!-- tailgate:nightly -->\nanother config's comment")
	c := newClient(t, srv, &sleeper{}, 0)
	in := sampleInput()
	for i, head := range []string{"p99 +7.2% [+5.1%, +9.0%]", "p99 +1.0% [-0.5%, +2.4%]"} {
		in.Suites[0].Headline = head
		pl, err := publish.BuildPlan(in, target, publish.DefaultOptions)
		if err != nil {
			t.Fatal(err)
		}
		res, err := c.Execute(context.Background(), pl, time.Unix(1_790_000_000, 0))
		if err != nil {
			t.Fatalf("publish %d: %v", i+1, err)
		}
		if res.Comment == nil || res.Comment.Created != (i == 0) {
			t.Errorf("publish %d: comment result %+v", i+1, res.Comment)
		}
	}
	got := markerComments(srv, publish.Marker(in.Config))
	if len(got) != 1 {
		t.Fatalf("%d tailgate:%s comments, want 1", len(got), in.Config)
	}
	if !strings.Contains(got[0].Body, "p99 +1.0% [-0.5%, +2.4%]") || strings.Contains(got[0].Body, "**p99 +7.2%") {
		t.Errorf("comment does not carry the newer content:\n%s", got[0].Body)
	}
	if n := len(markerComments(srv, "<!-- tailgate:nightly -->")); n != 1 {
		t.Errorf("the other config's comment was touched: %d left", n)
	}
	if n := len(srv.Statuses()); n != 4 {
		t.Errorf("%d statuses, want 2 suites × 2 publishes", n)
	}
}

func TestStatusPayloads(t *testing.T) {
	in := sampleInput()
	in.Suites = append(in.Suites,
		publish.Suite{Name: "asr-int8", Verdict: "inconclusive", ExitCode: 4, Reason: "throttled at 85 °C during intervals 12-14"},
		publish.Suite{Name: "npu", Verdict: "incomparable", ExitCode: 3, Reason: "kernel pin differs: 6.12.1-rt vs 6.12.3-rt"},
		publish.Suite{Name: "long", Verdict: "regression", ExitCode: 1, Headline: strings.Repeat("p99 regressed a lot ", 20)},
	)
	for _, tc := range []struct {
		policy publish.Policy
		want   map[string]string
	}{
		{publish.InconclusiveFail, map[string]string{"vision-int8": "failure", "kws-fp32": "success", "asr-int8": "failure", "npu": "error", "long": "failure"}},
		{publish.InconclusivePass, map[string]string{"vision-int8": "failure", "kws-fp32": "success", "asr-int8": "success", "npu": "error", "long": "failure"}},
	} {
		t.Run(string(tc.policy), func(t *testing.T) {
			srv := publishtest.New(t, token)
			c := newClient(t, srv, &sleeper{}, 0)
			pl, err := publish.BuildPlan(in, target, publish.Options{Status: true, Policy: tc.policy})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.Execute(context.Background(), pl, time.Now()); err != nil {
				t.Fatal(err)
			}
			got := srv.Statuses()
			if len(got) != len(tc.want) {
				t.Fatalf("%d statuses, want %d", len(got), len(tc.want))
			}
			for _, st := range got {
				name := strings.TrimPrefix(st.Context, "tailgate/")
				if st.State != tc.want[name] {
					t.Errorf("%s: state %s, want %s", st.Context, st.State, tc.want[name])
				}
				if st.SHA != target.SHA {
					t.Errorf("%s: on %s, want the PR head %s", st.Context, st.SHA, target.SHA)
				}
				if st.TargetURL != in.RunURL {
					t.Errorf("%s: target_url %q, want %q", st.Context, st.TargetURL, in.RunURL)
				}
				if n := len([]rune(st.Description)); n > 140 || n == 0 {
					t.Errorf("%s: description of %d characters", st.Context, n)
				}
			}
			if d := got[0].Description; d != "p99 +7.2% [+5.1%, +9.0%] > +5%" {
				t.Errorf("vision-int8 description %q", d)
			}
		})
	}
}

func TestCheckRun(t *testing.T) {
	for _, tc := range []struct {
		name    string
		verdict string
		fault   publishtest.Fault
		want    string
	}{
		{"regression", "regression", nil, "failure"},
		{"inconclusive is neutral", "inconclusive", nil, "neutral"},
		{"pass after a lost answer", "pass", publishtest.DoThen502, "success"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := publishtest.New(t, token)
			if tc.fault != nil {
				srv.Fail(publishtest.CreateCheck, tc.fault)
			}
			c := newClient(t, srv, &sleeper{}, 0)
			in := sampleInput()
			in.Suites = in.Suites[:1]
			in.Suites[0].Verdict, in.Suites[0].ExitCode = tc.verdict, 0
			pl, err := publish.BuildPlan(in, target, publish.Options{Check: true})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.Execute(context.Background(), pl, time.Unix(1_790_000_000, 0)); err != nil {
				t.Fatal(err)
			}
			runs := srv.CheckRuns()
			if len(runs) != 1 {
				t.Fatalf("%d check runs, want 1", len(runs))
			}
			r := runs[0]
			if r.Conclusion != tc.want || r.Status != "completed" || r.HeadSHA != target.SHA || r.Name != "tailgate: pr" {
				t.Errorf("check run %+v", r)
			}
			if !strings.HasPrefix(r.Output.Summary, publish.Marker("pr")) {
				t.Errorf("summary is not the report:\n%.200s", r.Output.Summary)
			}
		})
	}
}

func TestFaults(t *testing.T) {
	marker := publish.Marker("pr")
	type want struct {
		comments int             // marker comments left
		statuses int             // statuses received
		waits    []time.Duration // exact waits; nil: check bounds only
		minWait  time.Duration
		maxWait  time.Duration
	}
	for _, tc := range []struct {
		name           string
		route          string
		faults         []publishtest.Fault
		attemptTimeout time.Duration
		want           want
	}{
		{"two 502s then success", publishtest.CreateStatus, []publishtest.Fault{publishtest.Status502, publishtest.Status502},
			0, want{comments: 1, statuses: 1, minWait: 500 * time.Millisecond, maxWait: 2 * time.Second}},
		{"502 on the list", publishtest.ListComments, []publishtest.Fault{publishtest.Status502},
			0, want{comments: 1, statuses: 1, minWait: 500 * time.Millisecond, maxWait: time.Second}},
		{"rate limit until reset", publishtest.ListComments, []publishtest.Fault{publishtest.RateLimited(time.Now().Add(40 * time.Second))},
			0, want{comments: 1, statuses: 1, minWait: 38 * time.Second, maxWait: 42 * time.Second}},
		{"secondary rate limit", publishtest.CreateComment, []publishtest.Fault{publishtest.SecondaryRateLimited(7)},
			0, want{comments: 1, statuses: 1, waits: []time.Duration{7 * time.Second}}},
		{"429 with Retry-After", publishtest.CreateStatus, []publishtest.Fault{publishtest.TooMany(3)},
			0, want{comments: 1, statuses: 1, waits: []time.Duration{3 * time.Second}}},
		{"comment created, answer lost", publishtest.CreateComment, []publishtest.Fault{publishtest.DoThenHang},
			300 * time.Millisecond, want{comments: 1, statuses: 1, minWait: 500 * time.Millisecond, maxWait: time.Second}},
		{"comment created, then 502", publishtest.CreateComment, []publishtest.Fault{publishtest.DoThen502},
			0, want{comments: 1, statuses: 1, minWait: 500 * time.Millisecond, maxWait: time.Second}},
		{"status set, then 502", publishtest.CreateStatus, []publishtest.Fault{publishtest.DoThen502},
			0, want{comments: 1, statuses: 2, minWait: 500 * time.Millisecond, maxWait: time.Second}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := publishtest.New(t, token)
			srv.Fail(tc.route, tc.faults...)
			sl := &sleeper{}
			c := newClient(t, srv, sl, tc.attemptTimeout)
			in := sampleInput()
			in.Suites = in.Suites[:1]
			pl, err := publish.BuildPlan(in, target, publish.DefaultOptions)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if _, err := c.Execute(ctx, pl, time.Now()); err != nil {
				t.Fatalf("publish failed: %v", err)
			}
			if n := len(markerComments(srv, marker)); n != tc.want.comments {
				t.Errorf("%d marker comments, want %d", n, tc.want.comments)
			}
			if n := len(srv.Statuses()); n != tc.want.statuses {
				t.Errorf("%d statuses received, want %d", n, tc.want.statuses)
			}
			if len(sl.waits) != len(tc.faults) {
				t.Fatalf("waits %v: want one per fault (%d)", sl.waits, len(tc.faults))
			}
			for i, w := range sl.waits {
				if tc.want.waits != nil {
					if w != tc.want.waits[i] {
						t.Errorf("wait %d: %v, want %v", i, w, tc.want.waits[i])
					}
					continue
				}
				hi := tc.want.maxWait << i
				lo := tc.want.minWait << i
				if w < lo || w > hi {
					t.Errorf("wait %d: %v, want within [%v, %v]", i, w, lo, hi)
				}
			}
		})
	}
}

func TestPermanentErrors(t *testing.T) {
	for _, tc := range []struct {
		name    string
		pr      int
		closed  bool
		route   string
		fault   publishtest.Fault
		status  int
		message string
	}{
		{"404 closed PR", 7, true, "", nil, 404, "Not Found"},
		{"422 on status", 42, false, publishtest.CreateStatus, publishtest.Answer(422, "Validation Failed: sha does not exist"), 422, "sha does not exist"},
		{"401 bad token", 42, false, publishtest.CreateStatus, publishtest.Answer(401, "Bad credentials"), 401, "Bad credentials"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := publishtest.New(t, token)
			if tc.closed {
				srv.ClosedPRs[tc.pr] = true
			}
			if tc.fault != nil {
				srv.Fail(tc.route, tc.fault)
			}
			sl := &sleeper{}
			c := newClient(t, srv, sl, 0)
			tg := target
			tg.PR = tc.pr
			in := sampleInput()
			pl, err := publish.BuildPlan(in, tg, publish.DefaultOptions)
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Execute(context.Background(), pl, time.Now())
			var ae *publish.APIError
			if !errors.As(err, &ae) {
				t.Fatalf("error %v (%T): want an *APIError", err, err)
			}
			if ae.Status != tc.status || !strings.Contains(ae.Message, tc.message) || ae.Attempts != 1 {
				t.Errorf("error %+v: want status %d with %q after 1 attempt", ae, tc.status, tc.message)
			}
			if len(sl.waits) != 0 {
				t.Errorf("waited %v before a permanent error", sl.waits)
			}
		})
	}
}

func TestDeadline(t *testing.T) {
	t.Run("server slower than the deadline", func(t *testing.T) {
		srv := publishtest.New(t, token)
		srv.Fail(publishtest.CreateStatus, publishtest.Hang)
		c := newClient(t, srv, &sleeper{}, 0)
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		err := c.CreateStatus(ctx, target, publish.StatusRequest{Context: "tailgate/x", State: "success", Description: "ok"})
		if err == nil || !strings.Contains(err.Error(), "deadline") {
			t.Fatalf("error %v: want the deadline named", err)
		}
	})
	t.Run("rate limit resets after the deadline", func(t *testing.T) {
		srv := publishtest.New(t, token)
		srv.Fail(publishtest.CreateStatus, publishtest.RateLimited(time.Now().Add(time.Hour)))
		sl := &sleeper{}
		c := newClient(t, srv, sl, 0)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		err := c.CreateStatus(ctx, target, publish.StatusRequest{Context: "tailgate/x", State: "success", Description: "ok"})
		if err == nil || !strings.Contains(err.Error(), "past the deadline") || !strings.Contains(err.Error(), "rate limit") {
			t.Fatalf("error %v: want a rate limit past the deadline", err)
		}
		if len(sl.waits) != 0 {
			t.Errorf("waited %v for a reset past the deadline", sl.waits)
		}
	})
	t.Run("attempts run out", func(t *testing.T) {
		srv := publishtest.New(t, token)
		for i := 0; i < publish.DefaultAttempts; i++ {
			srv.Fail(publishtest.CreateStatus, publishtest.Status502)
		}
		sl := &sleeper{}
		c := newClient(t, srv, sl, 0)
		err := c.CreateStatus(context.Background(), target, publish.StatusRequest{Context: "tailgate/x", State: "success", Description: "ok"})
		var ae *publish.APIError
		if !errors.As(err, &ae) || ae.Status != http.StatusBadGateway || ae.Attempts != publish.DefaultAttempts {
			t.Fatalf("error %v: want 502 after %d attempts", err, publish.DefaultAttempts)
		}
		if len(sl.waits) != publish.DefaultAttempts-1 {
			t.Errorf("%d waits, want %d", len(sl.waits), publish.DefaultAttempts-1)
		}
	})
}

func TestTokenNeverInErrors(t *testing.T) {
	srv := publishtest.New(t, token)
	srv.Fail(publishtest.CreateStatus, publishtest.EchoAuth)
	srv.Fail(publishtest.ListComments, publishtest.EchoAuth)
	c := newClient(t, srv, &sleeper{}, 0)
	pl, err := publish.BuildPlan(sampleInput(), target, publish.DefaultOptions)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Execute(context.Background(), pl, time.Now())
	if err == nil {
		t.Fatal("want the echoed rejections as errors")
	}
	if strings.Contains(err.Error(), token) {
		t.Fatalf("token in error: %v", err)
	}
	if !strings.Contains(err.Error(), "[REDACTED]") {
		t.Errorf("error %v: want the echoed token redacted", err)
	}
}

func TestDuplicateMarkerCommentsRemoved(t *testing.T) {
	srv := publishtest.New(t, token)
	marker := publish.Marker("pr")
	first := srv.Seed(target.PR, marker+"\nrace A")[0]
	srv.Seed(target.PR, "a human", marker+"\nrace B", "> "+marker+" quoted by a human")
	c := newClient(t, srv, &sleeper{}, 0)
	res, err := c.UpsertComment(context.Background(), target, marker, marker+"\nfresh")
	if err != nil {
		t.Fatal(err)
	}
	if res.ID != first || res.Removed != 1 {
		t.Errorf("result %+v: want the oldest (%d) kept and one duplicate removed", res, first)
	}
	if got := markerComments(srv, marker); len(got) != 1 || got[0].Body != marker+"\nfresh" {
		t.Errorf("marker comments %+v", got)
	}
	if n := len(srv.Comments(target.PR)); n != 3 {
		t.Errorf("%d comments left, want 3 (the quote stays)", n)
	}
}

func TestNewClientRejectsBadURL(t *testing.T) {
	for _, u := range []string{"ftp://example.com", "not a url", "https://"} {
		if _, err := publish.NewClient(publish.ClientOptions{APIURL: u}); err == nil || !strings.Contains(err.Error(), "GitHub API URL") {
			t.Errorf("%q: error %v", u, err)
		}
	}
}

func TestEnterpriseAPIPath(t *testing.T) {
	srv := publishtest.New(t, token)
	// GitHub Enterprise Server's GITHUB_API_URL ends in /api/v3; the fake serves from the root,
	// so a request under /api/v3 reaching it proves the path is kept as given.
	c, err := publish.NewClient(publish.ClientOptions{APIURL: srv.APIURL() + "/api/v3", Token: token, Retry: publish.Retry{Sleep: (&sleeper{}).sleep}})
	if err != nil {
		t.Fatal(err)
	}
	err = c.CreateStatus(context.Background(), target, publish.StatusRequest{Context: "tailgate/x", State: "success", Description: "ok"})
	if err == nil || !strings.Contains(err.Error(), "/api/v3/repos/pi-fleet/vision/statuses/") {
		t.Fatalf("error %v: want the request under /api/v3", err)
	}
}
