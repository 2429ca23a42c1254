package httpapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/dxledger/dxledger/domain/dti"
	"github.com/dxledger/dxledger/internal/identity"
	"github.com/dxledger/dxledger/projections"
	"github.com/dxledger/dxledger/workflows"
)

// router registers every route from one table, docs, and builds the OpenAPI document from it:
// a route without its documentation is refused at start, so the two cannot drift apart.
type router struct {
	mux    *http.ServeMux
	routes []string
}

// doc documents one route. The document says what the route answers from these fields alone
// (TestEveryRouteIsDeclared fails for a route that leaves one out):
type doc struct {
	summary string
	// who may call it: "public", "any" (any signed-in role) or the roles of API.md. Who may is
	// decided by workflows; this is what the document says, and the authorisation tests check
	// the two agree.
	who    string
	body   any // a value of the request body type, nil for none; its rules are its api tags (schema.go)
	query  []param
	status int // the success status

	// op is the operationId, lowerCamelCase, what a generated client names the method; on a
	// {kind} route it holds "{Kind}", which becomes Model or Project.
	op string
	// resp is a value of the success answer's type (its JSON tags and api tags describe it);
	// plainText for a text answer, anyJSON for a free-form JSON object.
	resp any
	// optionalBody: the whole body may be left out (every field of it is optional).
	optionalBody bool
	// ifMatch says how a write honours If-Match (API.md: append only at that version, else
	// 409): ifMatchStream — the handler passes it to the command (workflows.Options.IfMatch)
	// and the command compares it with the version of the stream it appends to
	// (workflows.CheckIfMatch); ifMatchNew — the write starts a new stream, at version 0, so
	// only If-Match: 0 matches (the router checks it before the handler runs); "" for a read.
	ifMatch string
	// idem says how a POST honours Idempotency-Key: idemStore — the handler passes it to the
	// command (workflows.Options, from options()) and the store keeps the first answer;
	// idemNone — the call writes nothing (a what-if) or does not honour it yet (say why).
	idem string
	// requiredQuery names the query parameters the server requires.
	requiredQuery []string
	// also are further answers than the common ones (see responses): status → a value of the
	// body type, or nil for a problem.
	also map[int]any
	// etag: a success answer carries ETag, the stream version (for If-Match).
	etag bool
}

// The values of doc.ifMatch and doc.idem.
const (
	ifMatchStream = "stream"
	ifMatchNew    = "new"
	idemStore     = "store"
	idemNone      = "none"
)

// plainText is doc.resp of a text answer; anyJSON of a free-form JSON object.
type (
	plainText string
	anyJSON   struct{}
)

type param struct {
	name, desc string
	enum       []string
}

var (
	groupParam   = param{"group_by", "grouping", nil}
	asOfParam    = param{"as_of", "the programme at the end of this day (YYYY-MM-DD)", nil}
	knownAtParam = param{"known_at", "only what had been recorded by then (RFC 3339 or YYYY-MM-DD)", nil}
	listParams   = []param{{"unit_code", "a registered unit (400 when no unit ever had the code)", nil}, {"stage", "stage", enums["stage"]},
		{"pillar", "pillar", enums["pillar"]}, {"sector", "sector code", nil},
		{"q", "search in titles, tone marks ignored", nil}, {"limit", "page size, 1 to 200", nil}, {"cursor", "next_cursor of the previous page", nil},
		{"as_of", "only items proposed by the end of this day; unit_code follows the successors of that day", nil}}
	itemWriter = "focal_point (own unit)"
	groupBy    = []string{"group_by"}
)

// The answers' types that are not the handlers' own.
type (
	healthBody struct {
		Status string `json:"status" api:"enum=health_status"`
	}
	// list is {"items": [...]}; page adds next_cursor.
	list[T any] struct {
		Items []T `json:"items"`
	}
	page[T any] struct {
		Items      []T     `json:"items"`
		NextCursor *string `json:"next_cursor" api:"desc=the cursor of the next page, null on the last"`
	}
	// createdUser is POST /users's answer: the token is shown once.
	createdUser struct {
		ID       string `json:"id" api:"format=ulid"`
		Token    string `json:"token,omitempty" api:"desc=the bearer token, shown once (a replay answers without it)"`
		Name     string `json:"name"`
		Role     string `json:"role" api:"enum=role"`
		UnitCode string `json:"unit_code"`
	}
)

// docs documents every route, by its pattern. {kind} is models or projects.
//
// To declare a new route fully (TestEveryRouteIsDeclared checks each point):
//  1. summary, who, status as before; op: a lowerCamelCase operationId ("{Kind}" on a {kind}
//     route); resp: a value of the answer's type (a struct with JSON tags; list[T]{} for
//     {"items": [...]}); query: its parameters, requiredQuery those the server requires.
//  2. A write: body: a value of its body type, whose fields carry api tags (schema.go: required,
//     enum=…, min/max, maxlen, example) — decode checks them, 422 naming the field, so the
//     handler need not; optionalBody if every field is optional. ifMatch: ifMatchStream when it
//     writes an existing stream (pass options()'s IfMatch in workflows.Options and have the
//     command call workflows.CheckIfMatch before appending), ifMatchNew when it creates one.
//     idem: idemStore when Idempotency-Key reaches the store (workflows.Options), idemNone
//     with a comment saying why not.
//  3. also: any other status it answers with its body (nil: a problem); the common ones
//     (401, 403, 404, 400, 413, 415, 422, 409, 405, 500, 503) follow from who, path, body and
//     method (responses).
//  4. A generic enum or number a rule names goes in enums or limits (schema.go), from the
//     domain; a type of another package that an answer holds gets its rules in foreign.
var docs = map[string]doc{
	"GET /healthz": {summary: "200 when the store answers", who: "public", status: 200, op: "getHealth", resp: healthBody{},
		also: map[int]any{503: nil}},
	"GET /readyz": {summary: "200 when every projection is current and holds no set-aside events; else 503 naming each projection's state", who: "public", status: 200,
		op: "getReadiness", resp: readyBody{}, also: map[int]any{503: readyBody{}}},
	"GET /metrics":             {summary: "Prometheus metrics", who: "public", status: 200, op: "getMetrics", resp: plainText("Prometheus text exposition format")},
	"GET /api/v1/me":           {summary: "the signed-in user", who: "any", status: 200, op: "getMe", resp: identity.User{}},
	"GET /api/v1/openapi.json": {summary: "this document", who: "any", status: 200, op: "getOpenAPI", resp: anyJSON{}},
	"POST /api/v1/units": {summary: "register a unit", who: "admin", body: unitBody{}, status: 201, op: "registerUnit", resp: writeResponse{},
		ifMatch: ifMatchNew, idem: idemStore},
	"POST /api/v1/units/{code}/merge": {summary: "merge a unit into its successor from an effective date", who: "admin", body: mergeBody{}, status: 200,
		op: "mergeUnit", resp: writeResponse{}, ifMatch: ifMatchStream, idem: idemStore},
	"POST /api/v1/units/{code}/split": {summary: "dissolve a unit, handing each item (and the rights over it) to a named successor from an effective date", who: "admin", body: splitBody{}, status: 200,
		op: "splitUnit", resp: writeResponse{}, ifMatch: ifMatchStream, idem: idemStore},
	"GET /api/v1/units": {summary: "units, with their successors", who: "any", status: 200, op: "listUnits", resp: list[unitView]{}, query: []param{asOfParam}},
	// POST /users: a replay of the same key and body answers the same account without its token.
	"POST /api/v1/users": {summary: "create a user; the token is shown once", who: "admin", body: userBody{}, status: 201, op: "createUser", resp: createdUser{},
		ifMatch: ifMatchNew, idem: idemStore},
	"GET /api/v1/users": {summary: "users, without tokens or password hashes", who: "admin", status: 200, op: "listUsers", resp: list[identity.User]{}},
	// The account's changes append to its stream (identity): If-Match is checked against it.
	"POST /api/v1/users/{id}/suspend": {summary: "suspend: every session and token of the user stops at once", who: "admin", body: suspendBody{}, status: 200,
		op: "suspendUser", resp: writeResponse{}, ifMatch: ifMatchStream, idem: idemStore},
	"POST /api/v1/users/{id}/reactivate": {summary: "the user may sign in again; revoked tokens stay revoked", who: "admin", body: reactivateBody{}, status: 200,
		op: "reactivateUser", resp: writeResponse{}, optionalBody: true, ifMatch: ifMatchStream, idem: idemStore},
	// password: Idempotency-Key is not honoured, for its fingerprint of the body would keep a
	// hash of the password in the store; setting the same password twice is harmless.
	"POST /api/v1/users/{id}/password": {summary: "a new password; ends every session and token of the user (the owner gives current_password)", who: "admin, or the user for themself", body: passwordBody{}, status: 200,
		op: "setUserPassword", resp: writeResponse{}, ifMatch: ifMatchStream, idem: idemNone},
	// tokens: a replay of the same key and body answers the same token without its secret.
	"POST /api/v1/users/{id}/tokens": {summary: "a new named token, shown once, with its end", who: "admin, or the user for themself", body: tokenBody{}, status: 201,
		op: "issueUserToken", resp: issuedToken{}, optionalBody: true, ifMatch: ifMatchStream, idem: idemStore},
	"GET /api/v1/users/{id}/tokens": {summary: "the user's tokens, never their secrets", who: "admin, or the user for themself", status: 200,
		op: "listUserTokens", resp: list[identity.Token]{}},
	// DELETE is idempotent by itself: revoking a revoked token changes nothing.
	"DELETE /api/v1/users/{id}/tokens/{token_id}": {summary: "revoke a token at once", who: "admin, or the user for themself", status: 200,
		op: "revokeUserToken", resp: writeResponse{}, ifMatch: ifMatchStream, idem: idemNone},
	"GET /api/v1/users/{id}/events": {summary: "the account's history, each change with its actor and time", who: "admin", status: 200,
		op: "listUserEvents", resp: []identity.HistoryEvent{}},
	"POST /api/v1/users/{id}/grant": {summary: "the role (and unit) from now on, as an event", who: "admin", body: grantBody{}, status: 200,
		op: "grantUserRole", resp: writeResponse{}, ifMatch: ifMatchStream, idem: idemStore},
	"POST /api/v1/models": {summary: "register a model", who: "focal_point (own unit), admin", body: modelBody{}, status: 201, op: "proposeModel",
		resp: writeResponse{}, ifMatch: ifMatchNew, idem: idemStore},
	"POST /api/v1/projects": {summary: "propose a project", who: "focal_point (own unit), admin", body: projectBody{}, status: 201, op: "proposeProject",
		resp: writeResponse{}, ifMatch: ifMatchNew, idem: idemStore},
	"GET /api/v1/models":               {summary: "models, newest first", who: "any", query: listParams, status: 200, op: "listModels", resp: page[projections.ListItem]{}},
	"GET /api/v1/projects":             {summary: "projects, newest first", who: "any", query: listParams, status: 200, op: "listProjects", resp: page[projections.ListItem]{}},
	"GET /api/v1/models/{id}":          {summary: "a model as it stands", who: "any", status: 200, op: "getModel", resp: itemView{}, etag: true},
	"GET /api/v1/projects/{id}":        {summary: "a project as it stands", who: "any", status: 200, op: "getProject", resp: itemView{}, etag: true},
	"GET /api/v1/models/{id}/events":   {summary: "a model's events in stream order", who: "any", status: 200, op: "listModelEvents", resp: []workflows.EventView{}},
	"GET /api/v1/projects/{id}/events": {summary: "a project's events in stream order", who: "any", status: 200, op: "listProjectEvents", resp: []workflows.EventView{}},
	"DELETE /api/v1/models/{id}/same-as": {summary: "undo a same-as marking made by mistake (as an event)", who: "steering_committee, admin", body: unmarkBody{}, status: 200,
		op: "unmarkSameModel", resp: writeResponse{}, optionalBody: true, ifMatch: ifMatchStream, idem: idemStore},
	"POST /api/v1/models/{id}/same-as": {summary: "count this registration as the same model as another", who: "steering_committee, admin", body: sameAsBody{}, status: 200,
		op: "markSameModel", resp: writeResponse{}, ifMatch: ifMatchStream, idem: idemStore},
	"GET /api/v1/models/duplicate-candidates": {summary: "likely duplicate registrations with a score", who: "steering_committee, admin", status: 200,
		op: "listDuplicateCandidates", resp: list[projections.DuplicateCandidate]{}},
	"POST /api/v1/{kind}/{id}/funding-requests": {summary: "ask for money from one source for one year", who: "focal_point (own unit)", body: fundingRequestBody{}, status: 201,
		op: "request{Kind}Funding", resp: writeResponse{}, ifMatch: ifMatchStream, idem: idemStore},
	"POST /api/v1/{kind}/{id}/funding-requests/{request_id}/endorsement": {summary: "the steering committee's endorsement", who: "steering_committee", body: noteBody{}, status: 200,
		op: "endorse{Kind}Funding", resp: writeResponse{}, optionalBody: true, ifMatch: ifMatchStream, idem: idemStore},
	"POST /api/v1/{kind}/{id}/funding-requests/{request_id}/decision": {summary: "approve (in full or in part) or reject", who: "finance_officer", body: decisionBody{}, status: 200,
		op: "decide{Kind}Funding", resp: writeResponse{}, ifMatch: ifMatchStream, idem: idemStore},
	"POST /api/v1/{kind}/{id}/disbursements": {summary: "money spent, drawn on the approved funding request request_id names (its source may be left out); without request_id, on the approved requests of the source decided by the date, the earliest approval first, split over several when one is not enough; counted in the request's budget year", who: "focal_point (own unit), finance_officer", body: moneyBody{}, status: 201,
		op: "record{Kind}Disbursement", resp: writeResponse{}, ifMatch: ifMatchStream, idem: idemStore},
	"POST /api/v1/{kind}/{id}/own-funding": {summary: "no separate state funding needed: carried out with the unit's regular budget, by an enterprise partner or by re-use (workflow version 2); the item is funded, with no gap", who: "focal_point (own unit), admin", body: ownFundingBody{}, status: 200,
		op: "arrange{Kind}OwnFunding", resp: writeResponse{}, ifMatch: ifMatchStream, idem: idemStore},
	"POST /api/v1/{kind}/{id}/workflow-version": {summary: "move an item in flight to a newer workflow version that mends its own, as an event with a note", who: "steering_committee, admin", body: workflowVersionBody{}, status: 200,
		op: "move{Kind}WorkflowVersion", resp: writeResponse{}, ifMatch: ifMatchStream, idem: idemStore},
	"POST /api/v1/{kind}/{id}/progress": {summary: "progress reported", who: itemWriter, body: progressBody{}, status: 201,
		op: "report{Kind}Progress", resp: writeResponse{}, ifMatch: ifMatchStream, idem: idemStore},
	"POST /api/v1/{kind}/{id}/implemented": {summary: "the work is done", who: itemWriter, body: datedNoteBody{}, status: 200,
		op: "mark{Kind}Implemented", resp: writeResponse{}, ifMatch: ifMatchStream, idem: idemStore},
	"POST /api/v1/{kind}/{id}/evaluation": {summary: "the steering committee's evaluation", who: "steering_committee", body: evaluationBody{}, status: 200,
		op: "evaluate{Kind}", resp: writeResponse{}, ifMatch: ifMatchStream, idem: idemStore},
	"POST /api/v1/{kind}/{id}/suspend": {summary: "suspend", who: "focal_point (own unit), steering_committee", body: reasonBody{}, status: 200,
		op: "suspend{Kind}", resp: writeResponse{}, ifMatch: ifMatchStream, idem: idemStore},
	"POST /api/v1/{kind}/{id}/resume": {summary: "back to the stage it was suspended from", who: "focal_point (own unit), steering_committee", body: noteBody{}, status: 200,
		op: "resume{Kind}", resp: writeResponse{}, optionalBody: true, ifMatch: ifMatchStream, idem: idemStore},
	"POST /api/v1/{kind}/{id}/cancel": {summary: "cancel", who: "focal_point (own unit), steering_committee", body: reasonBody{}, status: 200,
		op: "cancel{Kind}", resp: writeResponse{}, ifMatch: ifMatchStream, idem: idemStore},
	"GET /api/v1/reports/funding-gaps": {summary: "funding gaps", who: "any", status: 200, op: "getFundingGaps", resp: projections.FundingGapReport{}, requiredQuery: groupBy,
		query: []param{{"group_by", "grouping", []string{"unit", "pillar", "sector", "source", "year"}}, asOfParam, knownAtParam}},
	"GET /api/v1/reports/model-counts": {summary: "registrations and distinct models", who: "any", status: 200, op: "getModelCounts", resp: projections.ModelCountReport{}, requiredQuery: groupBy,
		query: []param{{"group_by", "grouping", []string{"unit", "unit_kind", "pillar", "sector"}}, asOfParam, knownAtParam}},
	"GET /api/v1/reports/completion": {summary: "items by stage, overdue, average progress", who: "any", status: 200, op: "getCompletion", resp: projections.CompletionReport{}, requiredQuery: groupBy,
		query: []param{{"group_by", "grouping", []string{"unit", "unit_kind", "pillar", "sector"}}, {"kind", "model or project", enums["item_kind"]}, asOfParam, knownAtParam}},
	"GET /api/v1/reports/payments-by-date": {summary: "money disbursed by the calendar year or month it was paid (the funding gaps by year count it in its request's budget year); items cancelled by the day left out", who: "any", status: 200,
		op: "getPaymentsByDate", resp: projections.PaymentReport{}, requiredQuery: groupBy,
		query: []param{{"group_by", "grouping", []string{"year", "month"}}, asOfParam, knownAtParam}},
	// Indicators and the DTI (issue 15; API.md, "The DTI").
	// The what-ifs store nothing: Idempotency-Key has nothing to keep (idemNone).
	"POST /api/v1/dti/score": {summary: "the total of a set of main-index values under a framework, to four decimals (nothing is stored)", who: "any", body: scoreBody{}, status: 200,
		op: "scoreDTI", resp: scoreView{}, idem: idemNone},
	"POST /api/v1/dti/what-if": {summary: "a plan to improve the DTI: changed values and projects linked to a main index with an expected gain, the new total and the distance to a target score (default: the 25th place of the last published year)", who: "any", body: whatIfBody{}, status: 200,
		op: "planDTIWhatIf", resp: whatIfView{}, optionalBody: true, idem: idemNone},
	"GET /api/v1/dti/frameworks": {summary: "the DTI frameworks: main indices, points, effective years", who: "any", status: 200,
		op: "listDTIFrameworks", resp: list[dti.Framework]{}},
	"GET /api/v1/dti/{province}": {summary: "a province's DTI by year (published and self-assessed) and the plan's links", who: "any", status: 200, query: []param{asOfParam, knownAtParam},
		op: "getProvinceDTI", resp: projections.DTIHistory{}},
	// A province's DTI stream starts with its first result; If-Match is checked against it.
	"POST /api/v1/dti/{province}/results": {summary: "record a province's DTI result for a year (published or self_assessment), checked against the year's framework", who: "steering_committee, admin", body: resultBody{}, status: 201,
		op: "recordDTIResult", resp: writeResponse{}, ifMatch: ifMatchStream, idem: idemStore},
	"POST /api/v1/dti/{province}/links": {summary: "link a project or model to the main index it should raise, with the expected gain", who: "steering_committee, admin", body: linkBody{}, status: 201,
		op: "linkDTIGain", resp: writeResponse{}, ifMatch: ifMatchStream, idem: idemStore},
	"GET /api/v1/reports/indicators": {summary: "indicators with a target for the year: target, actual, status (met, exceeded, missed, no_data for an ended year; on_track, at_risk, off_track, no_data for the year in progress)", who: "any", status: 200,
		op: "getIndicatorReport", resp: projections.IndicatorReport{}, requiredQuery: []string{"year"},
		query: []param{{"year", "the target year, 2000 to 2100", nil}, asOfParam, knownAtParam, {"unit_code", "a unit's own targets instead of the province's (400 when no unit ever had the code)", nil}}},
	"GET /api/v1/indicators": {summary: "the indicators' definitions in force", who: "any", status: 200, query: []param{{"unit_code", "the responsible unit (400 when no unit ever had the code)", nil}, asOfParam, knownAtParam},
		op: "listIndicators", resp: list[projections.IndicatorDefinition]{}},
	"POST /api/v1/indicators": {summary: "define an indicator", who: "steering_committee, admin", body: definitionBody{}, status: 201,
		op: "defineIndicator", resp: writeResponse{}, ifMatch: ifMatchNew, idem: idemStore},
	"POST /api/v1/indicators/{code}/revisions": {summary: "revise an indicator's definition from an effective date", who: "steering_committee, admin", body: definitionBody{}, status: 201,
		op: "reviseIndicator", resp: writeResponse{}, ifMatch: ifMatchStream, idem: idemStore},
	"POST /api/v1/indicators/{code}/baselines": {summary: "set a baseline for a scope (province or a unit)", who: "steering_committee, admin", body: figureBody{}, status: 201,
		op: "setIndicatorBaseline", resp: writeResponse{}, ifMatch: ifMatchStream, idem: idemStore},
	"POST /api/v1/indicators/{code}/targets": {summary: "set a yearly target for a scope (province or a unit)", who: "steering_committee, admin", body: figureBody{}, status: 201,
		op: "setIndicatorTarget", resp: writeResponse{}, ifMatch: ifMatchStream, idem: idemStore},
	"POST /api/v1/indicators/{code}/actuals": {summary: "report an actual: value (or numerator and denominator), business date, method, estimator, evidence; a correction is a new report", who: "focal_point (responsible unit), steering_committee, admin", body: actualBody{}, status: 201,
		op: "reportIndicatorActual", resp: writeResponse{}, ifMatch: ifMatchStream, idem: idemStore},
}

// handle registers h under pattern; the pattern must be documented in docs. A write that
// creates a stream (ifMatchNew) answers 409 to an If-Match other than 0 before h runs.
func (rt *router) handle(pattern string, h http.Handler) {
	d, ok := docs[pattern]
	if !ok {
		panic("httpapi: route " + pattern + " has no documentation in docs")
	}
	if d.ifMatch == ifMatchNew {
		h = newStreamOnly(h)
	}
	rt.mux.Handle(pattern, h)
	rt.routes = append(rt.routes, pattern)
}

// notNew: If-Match names a version of a stream that a create starts at 0.
const notNew = "this call creates a new resource, at version 0: If-Match must be 0 or left out"

// newStreamOnly refuses a create whose If-Match is not 0: the stream it starts is at 0.
func newStreamOnly(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if v := r.Header.Get("If-Match"); v != "" {
			n, err := ifMatchVersion(v)
			if err != nil {
				writeProblem(w, Problem{Status: http.StatusBadRequest, Detail: err.Error(), Errors: []FieldError{{Field: "If-Match", Message: err.Error()}}})
				return
			}
			if n != 0 {
				writeProblem(w, Problem{Status: http.StatusConflict, Title: "Version conflict", Detail: notNew})
				return
			}
		}
		h.ServeHTTP(w, r)
	})
}

// ifMatchVersion reads If-Match: the stream version, a whole number, quoted or not (an ETag).
func ifMatchVersion(v string) (int64, error) {
	n, err := strconv.ParseInt(strings.Trim(strings.TrimPrefix(strings.TrimSpace(v), "W/"), `"`), 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("If-Match: want the stream version, a whole number (the ETag of the read)")
	}
	return n, nil
}

// opID is the operationId of pattern's route at path (a {kind} route has two).
func opID(d doc, path string) string {
	switch {
	case strings.HasPrefix(path, "/api/v1/models/"):
		return strings.ReplaceAll(d.op, "{Kind}", "Model")
	case strings.HasPrefix(path, "/api/v1/projects/"):
		return strings.ReplaceAll(d.op, "{Kind}", "Project")
	}
	return d.op
}

// statuses are every status pattern's route may answer, success first.
func (d doc) statuses(pattern string) []int {
	method, path, _ := strings.Cut(pattern, " ")
	out := []int{d.status}
	add := func(cs ...int) {
		for _, c := range cs {
			if !slices.Contains(out, c) {
				out = append(out, c)
			}
		}
	}
	if d.who != "public" {
		add(401)
		if d.who != "any" {
			add(403)
		}
	}
	if strings.Contains(path, "{") {
		add(404)
	}
	if len(d.query) > 0 || (method == http.MethodGet && d.who != "public") {
		add(400) // a bad parameter, or a bad min_position
	}
	if d.body != nil {
		add(400, 413, 415, 422)
	}
	if d.ifMatch != "" {
		add(409)
	}
	add(405, 500)
	if method == http.MethodGet && d.who != "public" {
		add(503) // a read that waits for a position past its limit
	}
	for c := range d.also {
		add(c)
	}
	return out
}

// responses are the shared answers, by status: a problem, with the headers that status carries.
var commonResponses = map[int]string{400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound", 405: "MethodNotAllowed",
	409: "Conflict", 413: "TooLarge", 415: "UnsupportedMediaType", 422: "Unprocessable", 500: "Internal", 503: "Unavailable"}

var responseText = map[int]string{
	400: "malformed: the body is not JSON or not of the declared form, or a parameter is wrong; the fields are named",
	401: "no token, a bad one, or one that expired or was revoked",
	403: "this role, or this unit, may not do this",
	404: "no such resource",
	405: "the path exists, not for this method (Allow names those it has)",
	409: "the stream is not at the If-Match version, or the stage does not allow it",
	413: "the body is larger than 1 MiB",
	415: "the body is not application/json",
	422: "well-formed, but a value breaks a rule (the fields are named), or the Idempotency-Key was used with another body",
	500: "the server failed; the detail carries the request id",
	503: "not yet current: the projections have not reached Dxledger-Min-Position in time (Retry-After), or the store does not answer",
}

// openAPI builds the OpenAPI 3.1 document of the registered routes. A documented route that
// was not registered is an error, so the document never promises what is not served.
func (rt *router) openAPI() ([]byte, error) {
	registered := map[string]bool{"GET /api/v1/openapi.json": true} // registered right after
	for _, r := range rt.routes {
		registered[r] = true
	}
	for pattern := range docs {
		// /metrics may be served on an address of its own (metrics_addr) instead.
		if !registered[pattern] && pattern != "GET /metrics" {
			return nil, fmt.Errorf("httpapi: %s is documented but not served", pattern)
		}
	}
	rt.routes = append(rt.routes, "GET /api/v1/openapi.json")
	defer func() { rt.routes = rt.routes[:len(rt.routes)-1] }()
	return buildDocument(rt.routes)
}

func ref(kind, name string) map[string]any {
	return map[string]any{"$ref": "#/components/" + kind + "/" + name}
}

func buildDocument(patterns []string) ([]byte, error) {
	sch := newSchemas()
	paths := map[string]map[string]any{}
	tags := map[string]bool{}
	for _, pattern := range patterns {
		method, path, _ := strings.Cut(pattern, " ")
		d := docs[pattern]
		for _, p := range expandKind(path) {
			op, err := d.operation(pattern, p, sch)
			if err != nil {
				return nil, err
			}
			for _, t := range op["tags"].([]string) {
				tags[t] = true
			}
			if paths[p] == nil {
				paths[p] = map[string]any{}
			}
			paths[p][strings.ToLower(method)] = op
		}
	}
	problem := map[string]any{"application/problem+json": map[string]any{"schema": ref("schemas", "Problem")}}
	responses := map[string]any{}
	for status, name := range commonResponses {
		r := map[string]any{"description": responseText[status], "content": problem}
		switch status {
		case 401:
			r["headers"] = map[string]any{"WWW-Authenticate": ref("headers", "WWW-Authenticate")}
		case 405:
			r["headers"] = map[string]any{"Allow": ref("headers", "Allow")}
		case 503:
			r["headers"] = map[string]any{"Retry-After": ref("headers", "Retry-After")}
		}
		responses[name] = r
	}
	sch.of(reflect.TypeFor[Problem](), false) // registers #/components/schemas/Problem
	str := map[string]any{"type": "string"}
	var tagList []map[string]any
	for _, t := range slices.Sorted(func(yield func(string) bool) {
		for t := range tags {
			if !yield(t) {
				return
			}
		}
	}) {
		desc := tagText[t]
		if desc == "" {
			desc = t
		}
		tagList = append(tagList, map[string]any{"name": t, "description": desc})
	}
	return json.MarshalIndent(map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{"title": "dxledger", "version": "1",
			"description": "The digital-transformation programme's ledger (shared/API.md).",
			"license":     map[string]any{"name": "Proprietary", "identifier": "LicenseRef-dxledger"}},
		"servers": []map[string]any{{"url": "/", "description": "the server that serves this document"}},
		"tags":    tagList,
		"paths":   paths,
		"components": map[string]any{
			"securitySchemes": map[string]any{"bearer": map[string]any{"type": "http", "scheme": "bearer",
				"description": "a user's token (POST /api/v1/users) or the bootstrap administrator's"}},
			"schemas":   sch.components,
			"responses": responses,
			"parameters": map[string]any{
				"If-Match": map[string]any{"name": "If-Match", "in": "header", "schema": str,
					"description": "append only if the stream is at this version (the ETag of a read, or a write's version), else 409; on a create only 0 matches"},
				"Idempotency-Key": map[string]any{"name": "Idempotency-Key", "in": "header", "schema": map[string]any{"type": "string", "maxLength": 200},
					"description": "a retry by the same user with the same key and body returns the first answer and appends nothing; another body is 422"},
				"Dxledger-Min-Position": map[string]any{"name": "Dxledger-Min-Position", "in": "header", "schema": str,
					"description": "a write's Dxledger-Position: the answer includes that write (waits up to 2 s, else 503 with Retry-After)"},
				"min_position": map[string]any{"name": "min_position", "in": "query", "schema": str,
					"description": "as the header Dxledger-Min-Position"},
			},
			"headers": map[string]any{
				"Dxledger-Position": map[string]any{"required": true, "schema": str,
					"description": "the store position the write reached; send it as Dxledger-Min-Position to read your write"},
				"ETag":             map[string]any{"required": true, "schema": str, "description": "the stream version, quoted: send it as If-Match"},
				"Retry-After":      map[string]any{"schema": map[string]any{"type": "string", "examples": []string{"1"}}, "description": "seconds to wait before trying again"},
				"WWW-Authenticate": map[string]any{"schema": str, "description": "Bearer"},
				"Allow":            map[string]any{"required": true, "schema": str, "description": "the methods the path has"},
			},
		},
	}, "", "  ")
}

var tagText = map[string]string{
	"service":  "health, readiness, metrics and this document",
	"accounts": "users and the signed-in user",
	"units":    "the province's units, their mergers",
	"models":   "model registrations and their life",
	"projects": "projects and their life",
	"reports":  "bitemporal reports (as_of, known_at)",
}

func tagOf(path string) string {
	seg := strings.Split(strings.TrimPrefix(path, "/api/v1/"), "/")[0]
	switch {
	case !strings.HasPrefix(path, "/api/v1/") || seg == "openapi.json":
		return "service"
	case seg == "users" || seg == "me":
		return "accounts"
	}
	return seg
}

// operation is the document's operation of pattern's route at path p.
func (d doc) operation(pattern, p string, sch *schemas) (map[string]any, error) {
	method, _, _ := strings.Cut(pattern, " ")
	id := opID(d, p)
	if id == "" {
		// Not declared yet (TestEveryRouteIsDeclared names it): a generated name keeps the
		// document whole meanwhile.
		id = fallbackOpID(method, p)
	}
	op := map[string]any{"summary": d.summary, "description": "Who: " + d.who, "operationId": id, "tags": []string{tagOf(p)}}
	var params []any
	for _, seg := range strings.Split(p, "/") {
		if strings.HasPrefix(seg, "{") {
			params = append(params, map[string]any{"name": strings.Trim(seg, "{}"), "in": "path", "required": true,
				"schema": map[string]any{"type": "string"}})
		}
	}
	for _, q := range d.query {
		schema := map[string]any{"type": "string"}
		if q.enum != nil {
			schema["enum"] = q.enum
		}
		if q.name == "limit" {
			schema = map[string]any{"type": "integer", "minimum": 1, "maximum": 200}
		}
		params = append(params, map[string]any{"name": q.name, "in": "query", "description": q.desc, "schema": schema,
			"required": slices.Contains(d.requiredQuery, q.name)})
	}
	if method == http.MethodGet && d.who != "public" {
		params = append(params, ref("parameters", "Dxledger-Min-Position"), ref("parameters", "min_position"))
	}
	if d.ifMatch != "" {
		params = append(params, ref("parameters", "If-Match"))
	}
	if d.idem == idemStore {
		params = append(params, ref("parameters", "Idempotency-Key"))
	}
	if d.body != nil {
		op["requestBody"] = map[string]any{"required": !d.optionalBody, "content": map[string]any{
			"application/json": map[string]any{"schema": sch.of(reflect.TypeOf(d.body), true)}}}
	}
	if params != nil {
		op["parameters"] = params
	}
	responses := map[string]any{}
	for _, c := range d.statuses(pattern) {
		key := strconv.Itoa(c)
		body, special := d.also[c]
		switch {
		case c == d.status:
			responses[key] = d.success(pattern, sch)
		case special && body != nil:
			responses[key] = map[string]any{"description": http.StatusText(c), "content": map[string]any{
				"application/json": map[string]any{"schema": sch.of(reflect.TypeOf(body), false)}}}
		default:
			responses[key] = ref("responses", commonResponses[c])
		}
	}
	op["responses"] = responses
	if d.who == "public" {
		// Probes and scrapers carry no token: health, readiness and metrics are public.
		op["security"] = []map[string]any{}
	} else {
		op["security"] = []map[string]any{{"bearer": []string{}}}
	}
	return op, nil
}

// success is the success answer of pattern's route.
func (d doc) success(pattern string, sch *schemas) map[string]any {
	method, _, _ := strings.Cut(pattern, " ")
	r := map[string]any{"description": d.summary}
	switch resp := d.resp.(type) {
	case nil:
		// Not declared yet (TestEveryRouteIsDeclared names it): the answer's body is not described.
	case plainText:
		r["content"] = map[string]any{"text/plain": map[string]any{"schema": map[string]any{"type": "string", "description": string(resp)}}}
	case anyJSON:
		r["content"] = map[string]any{"application/json": map[string]any{"schema": map[string]any{"type": "object"}}}
	default:
		r["content"] = map[string]any{"application/json": map[string]any{"schema": sch.of(reflect.TypeOf(d.resp), false)}}
	}
	headers := map[string]any{}
	if method != http.MethodGet && d.ifMatch != "" { // a write (a what-if writes nothing: no position)
		headers["Dxledger-Position"] = ref("headers", "Dxledger-Position")
	}
	if d.etag {
		headers["ETag"] = ref("headers", "ETag")
	}
	if len(headers) > 0 {
		r["headers"] = headers
	}
	return r
}

// fallbackOpID names an operation whose doc has no op yet: "POST /api/v1/dti/score" is
// postDtiScore.
func fallbackOpID(method, path string) string {
	var b strings.Builder
	b.WriteString(strings.ToLower(method))
	for _, seg := range strings.Split(strings.TrimPrefix(path, "/api/v1"), "/") {
		for _, w := range strings.FieldsFunc(strings.Trim(seg, "{}"), func(r rune) bool { return r == '-' || r == '_' || r == '.' }) {
			b.WriteString(strings.ToUpper(w[:1]) + w[1:])
		}
	}
	return b.String()
}

func expandKind(path string) []string {
	if !strings.Contains(path, "{kind}") {
		return []string{path}
	}
	return []string{strings.Replace(path, "{kind}", "models", 1), strings.Replace(path, "{kind}", "projects", 1)}
}

// sortedPatterns are docs' patterns in order, for tests.
func sortedPatterns() []string {
	out := make([]string, 0, len(docs))
	for p := range docs {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}
