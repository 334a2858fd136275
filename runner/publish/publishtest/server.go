// Package publishtest is a fake GitHub REST API for tests of publishing: issue comments with
// Link-header pagination, commit statuses and check runs, each endpoint with its own handler,
// and a queue of faults (5xx, rate limits, timeouts) to play before the real answer.
//
// It keeps state like GitHub does, so a test asserts on what is left (exactly one comment)
// rather than on which calls were made.
package publishtest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"
)

// Route names for faults and counts.
const (
	ListComments  = "GET comments"
	CreateComment = "POST comment"
	EditComment   = "PATCH comment"
	DeleteComment = "DELETE comment"
	CreateStatus  = "POST status"
	CreateCheck   = "POST check-run"
	ListChecks    = "GET check-runs"
	UpdateCheck   = "PATCH check-run"
)

// Comment is an issue comment the server holds.
type Comment struct {
	ID   int64  `json:"id"`
	Body string `json:"body"`
	User string `json:"-"`
	PR   int    `json:"-"`
}

// Status is a commit status the server received.
type Status struct {
	SHA         string `json:"-"`
	State       string `json:"state"`
	TargetURL   string `json:"target_url"`
	Description string `json:"description"`
	Context     string `json:"context"`
}

// CheckRun is a check run the server holds.
type CheckRun struct {
	ID          int64  `json:"id"`
	Name        string `json:"name"`
	HeadSHA     string `json:"head_sha"`
	ExternalID  string `json:"external_id"`
	Status      string `json:"status"`
	Conclusion  string `json:"conclusion"`
	DetailsURL  string `json:"details_url"`
	CompletedAt string `json:"completed_at"`
	Output      struct {
		Title   string `json:"title"`
		Summary string `json:"summary"`
	} `json:"output"`
}

// Fault answers a request instead of the endpoint, or (returning false) lets the endpoint
// answer after it has done its part.
type Fault func(s *Server, w http.ResponseWriter, r *http.Request) (handled bool)

// Server is the fake GitHub.
type Server struct {
	*httptest.Server
	Token string
	// PageSize is how many comments a page holds at most; GitHub allows 100.
	PageSize int
	// ClosedPRs answer 404 for their comments, as for a pull request the token cannot see.
	ClosedPRs map[int]bool

	mu       sync.Mutex
	nextID   int64
	comments []Comment
	statuses []Status
	checks   []CheckRun
	faults   map[string][]Fault
	counts   map[string]int
	handlers map[string]http.HandlerFunc
}

// New starts a fake GitHub that wants token as a Bearer token; it stops with the test.
func New(t testing.TB, token string) *Server {
	s := &Server{Token: token, PageSize: 100, ClosedPRs: map[int]bool{}, nextID: 1000,
		faults: map[string][]Fault{}, counts: map[string]int{}, handlers: map[string]http.HandlerFunc{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /repos/{owner}/{repo}/issues/{number}/comments", s.route(ListComments, s.listComments))
	mux.HandleFunc("POST /repos/{owner}/{repo}/issues/{number}/comments", s.route(CreateComment, s.createComment))
	mux.HandleFunc("PATCH /repos/{owner}/{repo}/issues/comments/{id}", s.route(EditComment, s.editComment))
	mux.HandleFunc("DELETE /repos/{owner}/{repo}/issues/comments/{id}", s.route(DeleteComment, s.deleteComment))
	mux.HandleFunc("POST /repos/{owner}/{repo}/statuses/{sha}", s.route(CreateStatus, s.createStatus))
	mux.HandleFunc("POST /repos/{owner}/{repo}/check-runs", s.route(CreateCheck, s.createCheck))
	mux.HandleFunc("GET /repos/{owner}/{repo}/commits/{sha}/check-runs", s.route(ListChecks, s.listChecks))
	mux.HandleFunc("PATCH /repos/{owner}/{repo}/check-runs/{id}", s.route(UpdateCheck, s.updateCheck))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "Not Found (fake GitHub has no " + r.Method + " " + r.URL.Path + ")"})
	})
	s.Server = httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

// URL of the API root, as GITHUB_API_URL would give it.
func (s *Server) APIURL() string { return s.Server.URL }

// Fail queues faults for a route; each request takes the next one.
func (s *Server) Fail(route string, faults ...Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[route] = append(s.faults[route], faults...)
}

// Count is how many requests a route has had.
func (s *Server) Count(route string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts[route]
}

// Seed adds comments by other users to pr, as a busy pull request has.
func (s *Server) Seed(pr int, bodies ...string) []int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ids []int64
	for _, b := range bodies {
		s.nextID++
		s.comments = append(s.comments, Comment{ID: s.nextID, Body: b, User: "someone", PR: pr})
		ids = append(ids, s.nextID)
	}
	return ids
}

// Comments returns pr's comments, oldest first.
func (s *Server) Comments(pr int) []Comment {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Comment
	for _, c := range s.comments {
		if c.PR == pr {
			out = append(out, c)
		}
	}
	return out
}

// Statuses returns the statuses received, in order.
func (s *Server) Statuses() []Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Status(nil), s.statuses...)
}

// CheckRuns returns the check runs held.
func (s *Server) CheckRuns() []CheckRun {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]CheckRun(nil), s.checks...)
}

func (s *Server) route(name string, h http.HandlerFunc) http.HandlerFunc {
	s.handlers[name] = h
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.counts[name]++
		var f Fault
		if q := s.faults[name]; len(q) > 0 {
			f, s.faults[name] = q[0], q[1:]
		}
		s.mu.Unlock()
		if r.Header.Get("Authorization") != "Bearer "+s.Token {
			writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"})
			return
		}
		r = r.WithContext(context.WithValue(r.Context(), routeKey{}, name))
		if f != nil && f(s, w, r) {
			return
		}
		h(w, r)
	}
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func pathInt(r *http.Request, name string) (int64, bool) {
	n, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	return n, err == nil
}

func (s *Server) listComments(w http.ResponseWriter, r *http.Request) {
	pr, ok := pathInt(r, "number")
	if !ok {
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "Not Found"})
		return
	}
	if s.ClosedPRs[int(pr)] {
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "Not Found"})
		return
	}
	per, _ := strconv.Atoi(r.URL.Query().Get("per_page"))
	if per <= 0 || per > 100 {
		per = 30
	}
	per = min(per, s.PageSize)
	page, _ := strconv.Atoi(r.URL.Query().Get("page"))
	if page <= 0 {
		page = 1
	}
	all := s.Comments(int(pr))
	last := max(1, (len(all)+per-1)/per)
	lo, hi := min((page-1)*per, len(all)), min(page*per, len(all))
	link := func(p int, rel string) string {
		u := *r.URL
		q := u.Query()
		q.Set("page", strconv.Itoa(p))
		q.Set("per_page", strconv.Itoa(per))
		u.RawQuery = q.Encode()
		return fmt.Sprintf("<%s%s>; rel=%q", s.Server.URL, u.String(), rel)
	}
	var links []string
	if page < last {
		links = append(links, link(page+1, "next"), link(last, "last"))
	}
	if page > 1 {
		links = append(links, link(1, "first"), link(page-1, "prev"))
	}
	if len(links) > 0 {
		l := links[0]
		for _, x := range links[1:] {
			l += ", " + x
		}
		w.Header().Set("Link", l)
	}
	writeJSON(w, http.StatusOK, all[lo:hi])
}

func (s *Server) createComment(w http.ResponseWriter, r *http.Request) {
	pr, ok := pathInt(r, "number")
	if !ok || s.ClosedPRs[int(pr)] {
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "Not Found"})
		return
	}
	var in struct{ Body string }
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.Body == "" {
		writeJSON(w, http.StatusUnprocessableEntity, map[string]string{"message": "Validation Failed: body is empty"})
		return
	}
	if len(in.Body) > 65536 {
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"message": "Validation Failed",
			"errors": []map[string]string{{"resource": "IssueComment", "code": "custom", "field": "body", "message": "body is too long (maximum is 65536 characters)"}}})
		return
	}
	s.mu.Lock()
	s.nextID++
	c := Comment{ID: s.nextID, Body: in.Body, User: "tailgate", PR: int(pr)}
	s.comments = append(s.comments, c)
	s.mu.Unlock()
	writeJSON(w, http.StatusCreated, c)
}

func (s *Server) editComment(w http.ResponseWriter, r *http.Request) {
	id, _ := pathInt(r, "id")
	var in struct{ Body string }
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || len(in.Body) > 65536 {
		writeJSON(w, http.StatusUnprocessableEntity, map[string]string{"message": "Validation Failed"})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.comments {
		if s.comments[i].ID == id {
			s.comments[i].Body = in.Body
			writeJSON(w, http.StatusOK, s.comments[i])
			return
		}
	}
	writeJSON(w, http.StatusNotFound, map[string]string{"message": "Not Found"})
}

func (s *Server) deleteComment(w http.ResponseWriter, r *http.Request) {
	id, _ := pathInt(r, "id")
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.comments {
		if s.comments[i].ID == id {
			s.comments = append(s.comments[:i], s.comments[i+1:]...)
			w.WriteHeader(http.StatusNoContent)
			return
		}
	}
	writeJSON(w, http.StatusNotFound, map[string]string{"message": "Not Found"})
}

var validStates = map[string]bool{"error": true, "failure": true, "pending": true, "success": true}

func (s *Server) createStatus(w http.ResponseWriter, r *http.Request) {
	var st Status
	if err := json.NewDecoder(r.Body).Decode(&st); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"message": "Problems parsing JSON"})
		return
	}
	if !validStates[st.State] {
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"message": "Validation Failed",
			"errors": []map[string]string{{"resource": "Status", "code": "custom", "field": "state", "message": "state is not included in the list"}}})
		return
	}
	if len([]rune(st.Description)) > 140 {
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"message": "Validation Failed",
			"errors": []map[string]string{{"resource": "Status", "code": "custom", "field": "description", "message": "description is too long (maximum is 140 characters)"}}})
		return
	}
	st.SHA = r.PathValue("sha")
	s.mu.Lock()
	s.statuses = append(s.statuses, st)
	s.mu.Unlock()
	writeJSON(w, http.StatusCreated, st)
}

func (s *Server) createCheck(w http.ResponseWriter, r *http.Request) {
	var c CheckRun
	if err := json.NewDecoder(r.Body).Decode(&c); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"message": "Problems parsing JSON"})
		return
	}
	if len([]rune(c.Output.Summary)) > 65535 {
		writeJSON(w, http.StatusUnprocessableEntity, map[string]string{"message": "Invalid request.\n\nOnly 65535 characters are allowed; 65536 were supplied."})
		return
	}
	s.mu.Lock()
	s.nextID++
	c.ID = s.nextID
	s.checks = append(s.checks, c)
	s.mu.Unlock()
	writeJSON(w, http.StatusCreated, c)
}

func (s *Server) listChecks(w http.ResponseWriter, r *http.Request) {
	name, sha := r.URL.Query().Get("check_name"), r.PathValue("sha")
	var runs []CheckRun
	for _, c := range s.CheckRuns() {
		if c.HeadSHA == sha && (name == "" || c.Name == name) {
			runs = append(runs, c)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"total_count": len(runs), "check_runs": runs})
}

func (s *Server) updateCheck(w http.ResponseWriter, r *http.Request) {
	id, _ := pathInt(r, "id")
	var c CheckRun
	if err := json.NewDecoder(r.Body).Decode(&c); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"message": "Problems parsing JSON"})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.checks {
		if s.checks[i].ID == id {
			c.ID, c.HeadSHA = id, s.checks[i].HeadSHA
			s.checks[i] = c
			writeJSON(w, http.StatusOK, c)
			return
		}
	}
	writeJSON(w, http.StatusNotFound, map[string]string{"message": "Not Found"})
}

// Status502 answers 502 Bad Gateway, as GitHub's edge does under load.
func Status502(_ *Server, w http.ResponseWriter, _ *http.Request) bool {
	w.Header().Set("Content-Type", "text/html")
	w.WriteHeader(http.StatusBadGateway)
	_, _ = w.Write([]byte("<html><body><h1>502 Bad Gateway</h1></body></html>"))
	return true
}

// RateLimited answers 403 with the primary rate limit used up until reset.
func RateLimited(reset time.Time) Fault {
	return func(_ *Server, w http.ResponseWriter, _ *http.Request) bool {
		w.Header().Set("X-RateLimit-Limit", "5000")
		w.Header().Set("X-RateLimit-Remaining", "0")
		w.Header().Set("X-RateLimit-Used", "5000")
		w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(reset.Unix(), 10))
		w.Header().Set("X-RateLimit-Resource", "core")
		writeJSON(w, http.StatusForbidden, map[string]string{
			"message":           "API rate limit exceeded for installation ID 1.",
			"documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-primary-rate-limits"})
		return true
	}
}

// SecondaryRateLimited answers 403 with a secondary rate limit and Retry-After seconds.
func SecondaryRateLimited(retryAfter int) Fault {
	return func(_ *Server, w http.ResponseWriter, _ *http.Request) bool {
		w.Header().Set("Retry-After", strconv.Itoa(retryAfter))
		writeJSON(w, http.StatusForbidden, map[string]string{
			"message":           "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
			"documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"})
		return true
	}
}

// TooMany answers 429 Too Many Requests with Retry-After seconds.
func TooMany(retryAfter int) Fault {
	return func(_ *Server, w http.ResponseWriter, _ *http.Request) bool {
		w.Header().Set("Retry-After", strconv.Itoa(retryAfter))
		writeJSON(w, http.StatusTooManyRequests, map[string]string{"message": "Too many requests"})
		return true
	}
}

// Answer answers code with GitHub's JSON error body.
func Answer(code int, message string) Fault {
	return func(_ *Server, w http.ResponseWriter, _ *http.Request) bool {
		writeJSON(w, code, map[string]string{"message": message, "documentation_url": "https://docs.github.com/rest"})
		return true
	}
}

// EchoAuth answers 422 with the request's Authorization header in the message, as a badly
// behaved proxy might; nothing tailgate prints may then contain the token.
func EchoAuth(_ *Server, w http.ResponseWriter, r *http.Request) bool {
	writeJSON(w, http.StatusUnprocessableEntity, map[string]string{"message": "rejected credentials " + r.Header.Get("Authorization")})
	return true
}

type routeKey struct{}

// serve lets the endpoint do its work, the answer thrown away.
func (s *Server) serve(r *http.Request) {
	name, _ := r.Context().Value(routeKey{}).(string)
	s.handlers[name](httptest.NewRecorder(), r)
}

// DoThenHang lets the endpoint do its work (the comment or check run is created) but holds the
// answer until the client gives up, as when the answer is lost on the way back.
func DoThenHang(s *Server, w http.ResponseWriter, r *http.Request) bool {
	s.serve(r)
	return Hang(s, w, r)
}

// DoThen502 lets the endpoint do its work and then answers 502, as a proxy that timed out might.
func DoThen502(s *Server, w http.ResponseWriter, r *http.Request) bool {
	s.serve(r)
	return Status502(s, w, r)
}

// Hang holds the answer until the client gives up (a server slower than the deadline).
func Hang(_ *Server, _ http.ResponseWriter, r *http.Request) bool {
	// The server notices a client hanging up only once the body has been read to its end.
	_, _ = io.Copy(io.Discard, r.Body)
	select {
	case <-r.Context().Done():
	case <-time.After(10 * time.Second):
	}
	return true
}
