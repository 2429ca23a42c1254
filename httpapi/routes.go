package httpapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strings"

	"github.com/dxledger/dxledger/domain/money"
)

// router registers every route from one table, docs, and builds the OpenAPI document from it:
// a route without its documentation is refused at start, so the two cannot drift apart.
type router struct {
	mux    *http.ServeMux
	routes []string
}

// doc documents one route.
type doc struct {
	summary string
	// who may call it: "public", "any" (any signed-in role) or the roles of API.md. Who may is
	// decided by workflows; this is what the document says, and the authorisation tests check
	// the two agree.
	who    string
	body   any // a value of the request body type, nil for none
	query  []param
	status int // the success status
}

type param struct {
	name, desc string
	enum       []string
}

var (
	groupParam   = param{"group_by", "grouping", nil}
	asOfParam    = param{"as_of", "the programme at the end of this day (YYYY-MM-DD)", nil}
	knownAtParam = param{"known_at", "only what had been recorded by then (RFC 3339 or YYYY-MM-DD)", nil}
	listParams   = []param{{"unit_code", "unit", nil}, {"stage", "stage", []string{"proposed", "funded", "implemented", "evaluated", "suspended", "cancelled"}},
		{"pillar", "pillar", []string{"government", "economy", "society"}}, {"sector", "sector code", nil},
		{"q", "search in titles, tone marks ignored", nil}, {"limit", "page size, 1 to 200", nil}, {"cursor", "next_cursor of the previous page", nil},
		{"as_of", "only items proposed by the end of this day; unit_code follows the successors of that day", nil}}
	itemWriter = "focal_point (own unit)"
)

// docs documents every route, by its pattern. {kind} is models or projects.
var docs = map[string]doc{
	"GET /healthz":                                {summary: "200 when the store answers", who: "public", status: 200},
	"GET /readyz":                                 {summary: "200 when every projection is current and holds no set-aside events; else 503 naming each projection's state", who: "public", status: 200},
	"GET /metrics":                                {summary: "Prometheus metrics", who: "public", status: 200},
	"GET /api/v1/me":                              {summary: "the signed-in user", who: "any", status: 200},
	"GET /api/v1/openapi.json":                    {summary: "this document", who: "any", status: 200},
	"POST /api/v1/units":                          {summary: "register a unit", who: "admin", body: unitBody{}, status: 201},
	"POST /api/v1/units/{code}/merge":             {summary: "merge a unit into its successor from an effective date", who: "admin", body: mergeBody{}, status: 200},
	"POST /api/v1/units/{code}/split":             {summary: "dissolve a unit, handing each item (and the rights over it) to a named successor from an effective date", who: "admin", body: splitBody{}, status: 200},
	"GET /api/v1/units":                           {summary: "units, with their successors", who: "any", query: []param{asOfParam}, status: 200},
	"POST /api/v1/users":                          {summary: "create a user; the token is shown once", who: "admin", body: userBody{}, status: 201},
	"GET /api/v1/users":                           {summary: "users, without tokens or password hashes", who: "admin", status: 200},
	"POST /api/v1/users/{id}/suspend":             {summary: "suspend: every session and token of the user stops at once", who: "admin", body: suspendBody{}, status: 200},
	"POST /api/v1/users/{id}/reactivate":          {summary: "the user may sign in again; revoked tokens stay revoked", who: "admin", body: noteBody{}, status: 200},
	"POST /api/v1/users/{id}/password":            {summary: "a new password; ends every session and token of the user (the owner gives current_password)", who: "admin, or the user for themself", body: passwordBody{}, status: 200},
	"POST /api/v1/users/{id}/tokens":              {summary: "a new named token, shown once, with its end", who: "admin, or the user for themself", body: tokenBody{}, status: 201},
	"GET /api/v1/users/{id}/tokens":               {summary: "the user's tokens, never their secrets", who: "admin, or the user for themself", status: 200},
	"DELETE /api/v1/users/{id}/tokens/{token_id}": {summary: "revoke a token at once", who: "admin, or the user for themself", status: 200},
	"GET /api/v1/users/{id}/events":               {summary: "the account's history, each change with its actor and time", who: "admin", status: 200},
	"POST /api/v1/users/{id}/grant":               {summary: "the role (and unit) from now on, as an event", who: "admin", body: grantBody{}, status: 200},
	"POST /api/v1/models":                         {summary: "register a model", who: "focal_point (own unit), admin", body: proposeBody{}, status: 201},
	"POST /api/v1/projects":                       {summary: "propose a project", who: "focal_point (own unit), admin", body: proposeBody{}, status: 201},
	"GET /api/v1/models":                          {summary: "models, newest first", who: "any", query: listParams, status: 200},
	"GET /api/v1/projects":                        {summary: "projects, newest first", who: "any", query: listParams, status: 200},
	"GET /api/v1/models/{id}":                     {summary: "a model as it stands", who: "any", status: 200},
	"GET /api/v1/projects/{id}":                   {summary: "a project as it stands", who: "any", status: 200},
	"GET /api/v1/models/{id}/events":              {summary: "a model's events in stream order", who: "any", status: 200},
	"GET /api/v1/projects/{id}/events":            {summary: "a project's events in stream order", who: "any", status: 200},
	"DELETE /api/v1/models/{id}/same-as":          {summary: "undo a same-as marking made by mistake (as an event)", who: "steering_committee, admin", body: unmarkBody{}, status: 200},
	"POST /api/v1/models/{id}/same-as":            {summary: "count this registration as the same model as another", who: "steering_committee, admin", body: sameAsBody{}, status: 200},
	"GET /api/v1/models/duplicate-candidates":     {summary: "likely duplicate registrations with a score", who: "steering_committee, admin", status: 200},
	"POST /api/v1/{kind}/{id}/funding-requests":   {summary: "ask for money from one source for one year", who: "focal_point (own unit)", body: fundingRequestBody{}, status: 201},
	"POST /api/v1/{kind}/{id}/funding-requests/{request_id}/endorsement": {summary: "the steering committee's endorsement", who: "steering_committee", body: noteBody{}, status: 200},
	"POST /api/v1/{kind}/{id}/funding-requests/{request_id}/decision":    {summary: "approve (in full or in part) or reject", who: "finance_officer", body: decisionBody{}, status: 200},
	"POST /api/v1/{kind}/{id}/disbursements":                             {summary: "money spent, drawn on the approved funding request request_id names (its source may be left out); without request_id, on the approved requests of the source decided by the date, the earliest approval first, split over several when one is not enough; counted in the request's budget year", who: "focal_point (own unit), finance_officer", body: moneyBody{}, status: 201},
	"POST /api/v1/{kind}/{id}/own-funding":                               {summary: "no separate state funding needed: carried out with the unit's regular budget, by an enterprise partner or by re-use (workflow version 2); the item is funded, with no gap", who: "focal_point (own unit), admin", body: ownFundingBody{}, status: 200},
	"POST /api/v1/{kind}/{id}/workflow-version":                          {summary: "move an item in flight to a newer workflow version that mends its own, as an event with a note", who: "steering_committee, admin", body: workflowVersionBody{}, status: 200},
	"POST /api/v1/{kind}/{id}/progress":                                  {summary: "progress reported", who: itemWriter, body: progressBody{}, status: 201},
	"POST /api/v1/{kind}/{id}/implemented":                               {summary: "the work is done", who: itemWriter, body: datedNoteBody{}, status: 200},
	"POST /api/v1/{kind}/{id}/evaluation":                                {summary: "the steering committee's evaluation", who: "steering_committee", body: evaluationBody{}, status: 200},
	"POST /api/v1/{kind}/{id}/suspend":                                   {summary: "suspend", who: "focal_point (own unit), steering_committee", body: reasonBody{}, status: 200},
	"POST /api/v1/{kind}/{id}/resume":                                    {summary: "back to the stage it was suspended from", who: "focal_point (own unit), steering_committee", body: noteBody{}, status: 200},
	"POST /api/v1/{kind}/{id}/cancel":                                    {summary: "cancel", who: "focal_point (own unit), steering_committee", body: reasonBody{}, status: 200},
	"GET /api/v1/reports/funding-gaps": {summary: "funding gaps", who: "any", status: 200,
		query: []param{{"group_by", "grouping", []string{"unit", "pillar", "sector", "source", "year"}}, asOfParam, knownAtParam}},
	"GET /api/v1/reports/payments-by-date": {summary: "money disbursed by the calendar year or month it was paid (the funding gaps by year count it in its request's budget year); items cancelled by the day left out", who: "any", status: 200,
		query: []param{{"group_by", "grouping", []string{"year", "month"}}, asOfParam, knownAtParam}},
	"GET /api/v1/reports/model-counts": {summary: "registrations and distinct models", who: "any", status: 200,
		query: []param{{"group_by", "grouping", []string{"unit", "unit_kind", "pillar", "sector"}}, asOfParam, knownAtParam}},
	"GET /api/v1/reports/completion": {summary: "items by stage, overdue, average progress", who: "any", status: 200,
		query: []param{{"group_by", "grouping", []string{"unit", "unit_kind", "pillar", "sector"}}, {"kind", "model or project", []string{"model", "project"}}, asOfParam, knownAtParam}},
}

// handle registers h under pattern; the pattern must be documented in docs.
func (rt *router) handle(pattern string, h http.Handler) {
	if _, ok := docs[pattern]; !ok {
		panic("httpapi: route " + pattern + " has no documentation in docs")
	}
	rt.mux.Handle(pattern, h)
	rt.routes = append(rt.routes, pattern)
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
	problem := map[string]any{"$ref": "#/components/schemas/Problem"}
	paths := map[string]map[string]any{}
	for _, pattern := range rt.routes {
		method, path, _ := strings.Cut(pattern, " ")
		d := docs[pattern]
		for _, p := range expandKind(path) {
			op := map[string]any{"summary": d.summary, "description": "Who: " + d.who}
			var params []map[string]any
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
				params = append(params, map[string]any{"name": q.name, "in": "query", "description": q.desc, "schema": schema})
			}
			if params != nil {
				op["parameters"] = params
			}
			if d.body != nil {
				op["requestBody"] = map[string]any{"required": true, "content": map[string]any{
					"application/json": map[string]any{"schema": schemaOf(reflect.TypeOf(d.body))}}}
				op["parameters"] = append(params,
					map[string]any{"name": "If-Match", "in": "header", "description": "the stream version read; 409 if it moved", "schema": map[string]any{"type": "string"}},
					map[string]any{"name": "Idempotency-Key", "in": "header", "description": "a retry returns the first answer", "schema": map[string]any{"type": "string"}})
			}
			responses := map[string]any{fmt.Sprint(d.status): map[string]any{"description": "success"}}
			codes := []int{400, 401, 403, 404, 409, 413, 422}
			if d.who == "public" {
				codes = nil
			} else if d.body == nil {
				codes = []int{400, 401, 403, 404}
			}
			for _, c := range codes {
				responses[fmt.Sprint(c)] = map[string]any{"description": http.StatusText(c),
					"content": map[string]any{"application/problem+json": map[string]any{"schema": problem}}}
			}
			op["responses"] = responses
			if d.who != "public" {
				op["security"] = []map[string]any{{"bearer": []string{}}}
			}
			if paths[p] == nil {
				paths[p] = map[string]any{}
			}
			paths[p][strings.ToLower(method)] = op
		}
	}
	return json.MarshalIndent(map[string]any{
		"openapi": "3.1.0",
		"info":    map[string]any{"title": "dxledger", "version": "1", "description": "The digital-transformation programme's ledger (shared/API.md)."},
		"paths":   paths,
		"components": map[string]any{
			"securitySchemes": map[string]any{"bearer": map[string]any{"type": "http", "scheme": "bearer"}},
			"schemas": map[string]any{"Problem": map[string]any{"type": "object", "properties": map[string]any{
				"type": map[string]any{"type": "string"}, "title": map[string]any{"type": "string"},
				"status": map[string]any{"type": "integer"}, "detail": map[string]any{"type": "string"},
				"errors": map[string]any{"type": "array", "items": map[string]any{"type": "object", "properties": map[string]any{
					"field": map[string]any{"type": "string"}, "message": map[string]any{"type": "string"}}}},
			}}},
		},
	}, "", "  ")
}

func expandKind(path string) []string {
	if !strings.Contains(path, "{kind}") {
		return []string{path}
	}
	return []string{strings.Replace(path, "{kind}", "models", 1), strings.Replace(path, "{kind}", "projects", 1)}
}

var vndType = reflect.TypeOf(money.VND(0))

// schemaOf describes a request body type from its JSON tags.
func schemaOf(t reflect.Type) map[string]any {
	props := map[string]any{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" {
			continue
		}
		ft := f.Type
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		var s map[string]any
		switch {
		case ft == vndType:
			s = map[string]any{"type": "integer", "format": "int64", "minimum": 0, "maximum": int64(money.Ceiling), "description": "whole đồng"}
		case ft.Kind() == reflect.Int || ft.Kind() == reflect.Int64:
			s = map[string]any{"type": "integer"}
		case ft.Kind() == reflect.Bool:
			s = map[string]any{"type": "boolean"}
		default:
			s = map[string]any{"type": "string"}
			if name == "date" || strings.HasSuffix(name, "_date") || strings.HasSuffix(name, "_on") {
				s["format"] = "date"
			}
		}
		props[name] = s
	}
	return map[string]any{"type": "object", "additionalProperties": false, "properties": props}
}
