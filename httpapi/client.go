package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/dxledger/dxledger/domain/fault"
	"github.com/dxledger/dxledger/internal/identity"
	"github.com/dxledger/dxledger/projections"
)

// Client calls the JSON API of a dxledger server with a bearer token, decoding the same types
// the server writes. A refusal comes back as a *Problem (use errors.As); not reaching the
// server, or an answer that is not JSON, as another error.
//
// Every write answers with the store position it reached (Written.Position). A client made by
// WithMinPosition sends a position on each of its reads, so that they include that write
// (API.md, "Conventions"); a read the server answers 503 with Retry-After is tried again after
// the delay it names, for up to DefaultRetryFor in all (WithRetryFor), before the 503 is returned.
type Client struct {
	base        string
	token       string
	http        *http.Client
	minPosition string        // sent as Dxledger-Min-Position on reads; "" sends none
	retryFor    time.Duration // how long a read answered 503 with Retry-After is retried
}

// DefaultRetryFor bounds how long a client retries a read that the server answered 503 with
// Retry-After (its read models not yet at the read's minimum position), counted from the
// first try.
const DefaultRetryFor = 10 * time.Second

// minRetryPause is the least a retry waits, whatever Retry-After says.
const minRetryPause = 100 * time.Millisecond

// NewClient returns a client of the server at baseURL (such as http://127.0.0.1:8080) that
// sends token as its bearer token; hc nil means a client that waits at most a minute.
func NewClient(baseURL, token string, hc *http.Client) *Client {
	if hc == nil {
		hc = &http.Client{Timeout: 60 * time.Second}
	}
	return &Client{base: strings.TrimRight(baseURL, "/"), token: token, http: hc, retryFor: DefaultRetryFor}
}

// WithMinPosition returns a client of the same server, over the same connections, whose reads
// include the write that answered position (a Written.Position): each GET sends it as
// Dxledger-Min-Position and the server waits until its read models have applied that write.
// An empty position reads without waiting.
func (c *Client) WithMinPosition(position string) *Client {
	cc := *c
	cc.minPosition = position
	return &cc
}

// WithRetryFor returns a client of the same server, over the same connections, that retries a
// read answered 503 with Retry-After for up to d in all (0: never) instead of DefaultRetryFor.
func (c *Client) WithRetryFor(d time.Duration) *Client {
	cc := *c
	cc.retryFor = d
	return &cc
}

// WithToken returns a client of the same server, over the same connections, as the holder of
// token.
func (c *Client) WithToken(token string) *Client {
	cc := *c
	cc.token = token
	return &cc
}

// Error says what the server refused: title, status and detail, then each bad field on a line
// of its own.
func (p *Problem) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%d): %s", p.Title, p.Status, p.Detail)
	for _, f := range p.Errors {
		fmt.Fprintf(&b, "\n  %s: %s", f.Field, f.Message)
	}
	return b.String()
}

// Kind is the kind of refusal the problem's status stands for, so that a problem passed on
// (a client inside a handler) is answered with the same status.
func (p *Problem) Kind() fault.Kind { return fault.OfStatus(p.Status) }

// Written is the answer to a write: the item (or unit, or user) and its stream version after
// the write; RequestID is set for a funding request. Position is the store position the write
// reached (the Dxledger-Position header): give it to WithMinPosition for reads that include
// the write.
type Written struct {
	ID        string `json:"id"`
	Version   int64  `json:"version"`
	RequestID string `json:"request_id,omitempty"`
	Position  string `json:"-"`
}

// ReportQuery selects a report's grouping and moment; empty fields are left out.
type ReportQuery struct {
	GroupBy string // unit, unit_kind, pillar, sector, source or year, as the report allows
	AsOf    string // YYYY-MM-DD: the programme at the end of that day
	KnownAt string // RFC 3339 or YYYY-MM-DD: only what had been recorded by then
}

func (q ReportQuery) values() url.Values {
	v := url.Values{}
	for k, s := range map[string]string{"group_by": q.GroupBy, "as_of": q.AsOf, "known_at": q.KnownAt} {
		if s != "" {
			v.Set(k, s)
		}
	}
	return v
}

// FundingGaps is GET /api/v1/reports/funding-gaps.
func (c *Client) FundingGaps(ctx context.Context, q ReportQuery) (projections.FundingGapReport, error) {
	var out projections.FundingGapReport
	return out, c.Get(ctx, "/api/v1/reports/funding-gaps?"+q.values().Encode(), &out)
}

// ModelCounts is GET /api/v1/reports/model-counts.
func (c *Client) ModelCounts(ctx context.Context, q ReportQuery) (projections.ModelCountReport, error) {
	var out projections.ModelCountReport
	return out, c.Get(ctx, "/api/v1/reports/model-counts?"+q.values().Encode(), &out)
}

// Completion is GET /api/v1/reports/completion; kind is model, project or "" for both.
func (c *Client) Completion(ctx context.Context, kind string, q ReportQuery) (projections.CompletionReport, error) {
	v := q.values()
	if kind != "" {
		v.Set("kind", kind)
	}
	var out projections.CompletionReport
	return out, c.Get(ctx, "/api/v1/reports/completion?"+v.Encode(), &out)
}

// ListQuery filters and pages a list of models or projects; empty fields are left out.
type ListQuery struct {
	UnitCode, Stage, Pillar, Sector, Q string
	Limit                              int    // 1-200; 0 is the server's default
	Cursor                             string // the NextCursor of the previous page
}

// ItemPage is one page of a list, newest first; NextCursor is "" on the last page.
type ItemPage struct {
	Items      []projections.ListItem `json:"items"`
	NextCursor string                 `json:"next_cursor"`
}

// Items is GET /api/v1/models or /api/v1/projects (kind model or project).
func (c *Client) Items(ctx context.Context, kind string, q ListQuery) (ItemPage, error) {
	coll, err := collection(kind)
	if err != nil {
		return ItemPage{}, err
	}
	v := url.Values{}
	for k, s := range map[string]string{"unit_code": q.UnitCode, "stage": q.Stage, "pillar": q.Pillar, "sector": q.Sector, "q": q.Q, "cursor": q.Cursor} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if q.Limit != 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	var out ItemPage
	return out, c.Get(ctx, "/api/v1/"+coll+"?"+v.Encode(), &out)
}

// Unit is the body of POST /api/v1/units.
type Unit struct {
	Code       string `json:"code"`
	Name       string `json:"name"`
	Kind       string `json:"kind"` // province, department, district or commune
	ParentCode string `json:"parent_code,omitempty"`
}

// RegisterUnit is POST /api/v1/units (an administrator's).
func (c *Client) RegisterUnit(ctx context.Context, u Unit) (Written, error) {
	return c.Write(ctx, http.MethodPost, "/api/v1/units", u)
}

// NewUser is the body of POST /api/v1/users.
type NewUser struct {
	Name     string `json:"name"`
	Role     string `json:"role"` // admin, focal_point, finance_officer or steering_committee
	UnitCode string `json:"unit_code,omitempty"`
	Password string `json:"password,omitempty"`
}

// CreatedUser is the answer to POST /api/v1/users: the token is shown this once. Position is
// the store position the write reached, as in Written.
type CreatedUser struct {
	ID       string `json:"id"`
	Token    string `json:"token"`
	Position string `json:"-"`
}

// CreateUser is POST /api/v1/users (an administrator's).
func (c *Client) CreateUser(ctx context.Context, u NewUser) (CreatedUser, error) {
	var out CreatedUser
	h, err := c.send(ctx, http.MethodPost, "/api/v1/users", u, &out)
	out.Position = h.Get(PositionHeader)
	return out, err
}

// Me is GET /api/v1/me: the user the client's token stands for.
func (c *Client) Me(ctx context.Context) (identity.User, error) {
	var out identity.User
	return out, c.Get(ctx, "/api/v1/me", &out)
}

// Proposal is the body of POST /api/v1/models and /api/v1/projects; dates are YYYY-MM-DD.
type Proposal struct {
	Title            string `json:"title"`
	UnitCode         string `json:"unit_code"`
	Pillar           string `json:"pillar"`
	Sector           string `json:"sector"`
	Scope            string `json:"scope,omitempty"`
	ModelID          string `json:"model_id,omitempty"` // projects only
	EstimatedCostVND int64  `json:"estimated_cost_vnd,omitempty"`
	StartDate        string `json:"start_date,omitempty"`
	EndDate          string `json:"end_date,omitempty"`
	OccurredOn       string `json:"occurred_on,omitempty"`
}

// Propose is POST /api/v1/models or /api/v1/projects (kind model or project).
func (c *Client) Propose(ctx context.Context, kind string, p Proposal) (Written, error) {
	coll, err := collection(kind)
	if err != nil {
		return Written{}, err
	}
	return c.Write(ctx, http.MethodPost, "/api/v1/"+coll, p)
}

// FundingRequest is the body of POST …/funding-requests. Zero values are sent as they are,
// for the server to name.
type FundingRequest struct {
	Source     string `json:"source"`
	AmountVND  int64  `json:"amount_vnd"`
	Year       int    `json:"year"`
	OccurredOn string `json:"occurred_on,omitempty"`
}

// RequestFunding is POST /api/v1/{models|projects}/{id}/funding-requests; the answer's
// RequestID names the request.
func (c *Client) RequestFunding(ctx context.Context, kind, id string, r FundingRequest) (Written, error) {
	coll, err := collection(kind)
	if err != nil {
		return Written{}, err
	}
	return c.Write(ctx, http.MethodPost, "/api/v1/"+coll+"/"+url.PathEscape(id)+"/funding-requests", r)
}

// Decision is the body of POST …/funding-requests/{request_id}/decision.
type Decision struct {
	Decision    string `json:"decision"`               // approve or reject
	ApprovedVND *int64 `json:"approved_vnd,omitempty"` // nil: not sent
	Note        string `json:"note,omitempty"`
	OccurredOn  string `json:"occurred_on,omitempty"`
}

// DecideFunding is POST /api/v1/{models|projects}/{id}/funding-requests/{request}/decision.
func (c *Client) DecideFunding(ctx context.Context, kind, id, request string, d Decision) (Written, error) {
	coll, err := collection(kind)
	if err != nil {
		return Written{}, err
	}
	path := "/api/v1/" + coll + "/" + url.PathEscape(id) + "/funding-requests/" + url.PathEscape(request) + "/decision"
	return c.Write(ctx, http.MethodPost, path, d)
}

// Get reads path (with its query) into out, for the calls without a method of their own.
func (c *Client) Get(ctx context.Context, path string, out any) error {
	return c.Do(ctx, http.MethodGet, path, nil, out)
}

// Write sends body as JSON to path and returns the write's answer with the position it
// reached, for the writes without a method of their own.
func (c *Client) Write(ctx context.Context, method, path string, body any) (Written, error) {
	var out Written
	h, err := c.send(ctx, method, path, body, &out)
	out.Position = h.Get(PositionHeader)
	return out, err
}

// Do sends body (nil: none) as JSON to path and decodes the answer into out (nil: discarded).
// An answer of 400 or more is returned as a *Problem: the server's, or one made of the status
// when the body is not a problem. A GET carries the client's minimum position and is retried
// on 503 with Retry-After (see Client); use Write for a write's position.
func (c *Client) Do(ctx context.Context, method, path string, body, out any) error {
	_, err := c.send(ctx, method, path, body, out)
	return err
}

// send is Do that also returns the answer's header (empty when there was no answer).
func (c *Client) send(ctx context.Context, method, path string, body, out any) (http.Header, error) {
	var raw []byte
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return http.Header{}, err
		}
		raw = b
	}
	start := time.Now()
	for {
		h, err := c.once(ctx, method, path, body != nil, raw, out)
		var p *Problem
		if method != http.MethodGet || !errors.As(err, &p) || p.Status != http.StatusServiceUnavailable {
			return h, err
		}
		wait, ok := retryAfter(h.Get("Retry-After"), time.Now())
		if !ok {
			return h, err
		}
		wait = max(wait, minRetryPause)
		if time.Since(start)+wait > c.retryFor {
			return h, err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return h, err
		case <-t.C:
		}
	}
}

// once sends one request; hasBody says whether raw is a JSON body to send.
func (c *Client) once(ctx context.Context, method, path string, hasBody bool, raw []byte, out any) (http.Header, error) {
	var rd io.Reader
	if hasBody {
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return http.Header{}, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "application/json")
	if hasBody {
		req.Header.Set("Content-Type", "application/json")
	}
	if method == http.MethodGet && c.minPosition != "" {
		req.Header.Set(MinPositionHeader, c.minPosition)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return http.Header{}, fmt.Errorf("cannot reach %s: %w", c.base, err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return resp.Header, fmt.Errorf("%s %s: %w", method, path, err)
	}
	if resp.StatusCode >= 400 {
		p := &Problem{Status: resp.StatusCode}
		_ = json.Unmarshal(answer, p) // a body that is not a problem leaves the status to speak
		p.Status = resp.StatusCode
		if p.Title == "" {
			p.Title = http.StatusText(resp.StatusCode)
		}
		return resp.Header, p
	}
	if out == nil {
		return resp.Header, nil
	}
	if err := json.Unmarshal(answer, out); err != nil {
		return resp.Header, fmt.Errorf("%s %s: the answer is not the JSON expected: %w", method, path, err)
	}
	return resp.Header, nil
}

// retryAfter reads a Retry-After value, delay-seconds or an HTTP date, as the wait from now;
// ok is false when there is none or it cannot be read.
func retryAfter(v string, now time.Time) (wait time.Duration, ok bool) {
	if v == "" {
		return 0, false
	}
	if n, err := strconv.ParseInt(v, 10, 32); err == nil {
		if n < 0 {
			return 0, false
		}
		return time.Duration(n) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

// collection is the URL's collection of an item kind.
func collection(kind string) (string, error) {
	switch kind {
	case "model", "project":
		return kind + "s", nil
	}
	return "", fmt.Errorf("kind %q: want model or project", kind)
}
