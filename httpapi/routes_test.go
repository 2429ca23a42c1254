package httpapi

import (
	"encoding/json"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestEveryRouteIsDeclared fails for a route of docs that does not say all the document needs
// (routes.go, the recipe above docs): an operationId, its answer's type, and for a write its
// If-Match and Idempotency-Key handling. A route merged without them is named here.
func TestEveryRouteIsDeclared(t *testing.T) {
	seen := map[string]string{}
	camel := regexp.MustCompile(`^[a-z][a-zA-Z0-9]*$`)
	for _, pattern := range sortedPatterns() {
		d := docs[pattern]
		method, path, _ := strings.Cut(pattern, " ")
		if d.op == "" {
			t.Errorf("%s: no op (operationId)", pattern)
		}
		if d.resp == nil {
			t.Errorf("%s: no resp (the success answer's type)", pattern)
		}
		if d.status == 0 || d.summary == "" || d.who == "" {
			t.Errorf("%s: summary, who and status are all needed", pattern)
		}
		if strings.Contains(path, "{kind}") != strings.Contains(d.op, "{Kind}") {
			t.Errorf("%s: op %q: a {kind} route's op holds {Kind}, and only such a route's", pattern, d.op)
		}
		for _, p := range expandKind(path) {
			id := opID(d, p)
			if !camel.MatchString(id) {
				t.Errorf("%s: operationId %q is not lowerCamelCase", pattern, id)
			}
			if other, dup := seen[id]; dup {
				t.Errorf("%s: operationId %q is %s's too", pattern, id, other)
			}
			seen[id] = pattern
		}
		if method != http.MethodGet {
			if d.idem != idemStore && d.idem != idemNone {
				t.Errorf("%s: a %s must say how it honours Idempotency-Key (idem: idemStore, or idemNone saying why)", pattern, method)
			}
			if d.body != nil && d.ifMatch != ifMatchStream && d.ifMatch != ifMatchNew && d.idem != idemNone {
				t.Errorf("%s: a write must say how it honours If-Match (ifMatch: ifMatchStream or ifMatchNew)", pattern)
			}
			if strings.Contains(path, "{") && d.ifMatch == ifMatchNew {
				t.Errorf("%s: a write on an existing resource honours If-Match against its stream (ifMatchStream)", pattern)
			}
		}
		for _, q := range d.requiredQuery {
			if !slices.ContainsFunc(d.query, func(p param) bool { return p.name == q }) {
				t.Errorf("%s: requiredQuery %s is not among its query parameters", pattern, q)
			}
		}
		for c := range d.also {
			if _, common := commonResponses[c]; !common && d.also[c] == nil {
				t.Errorf("%s: also %d: a status without a shared answer needs its body type", pattern, c)
			}
		}
	}
	raw, err := buildDocument(sortedPatterns())
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths map[string]map[string]struct {
			OperationID string           `json:"operationId"`
			Responses   map[string]any   `json:"responses"`
			Security    []map[string]any `json:"security"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	for path, ops := range doc.Paths {
		for method, op := range ops {
			if op.Security == nil {
				t.Errorf("%s %s: no security", method, path)
			}
			for _, c := range []string{"405", "500"} {
				if op.Responses[c] == nil {
					t.Errorf("%s %s: no %s answer", method, path, c)
				}
			}
		}
	}
	if out := os.Getenv("DXLEDGER_OPENAPI_OUT"); out != "" {
		if err := os.WriteFile(out, raw, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// The rules of a body are those of its api tags: what breaks one is 422 naming the field.
func TestCheckAppliesTheDeclaredRules(t *testing.T) {
	five, big := 5, 101
	cases := []struct {
		body any
		want []string
	}{
		{&decisionBody{Decision: "maybe"}, []string{"decision"}},
		{&decisionBody{Decision: "approve"}, nil},
		{&evaluationBody{Rating: "effective", Score: &big}, []string{"score"}},
		{&evaluationBody{Rating: "great", Score: &five}, []string{"rating"}},
		{&evaluationBody{Rating: "effective"}, []string{"score"}},
		{&fundingRequestBody{Source: "oda", Amount: 1, Year: 1999}, []string{"year"}},
		{&modelBody{Title: "x", UnitCode: "DT", Pillar: "economy"}, []string{"sector"}},
		{&userBody{Name: "An", Role: "admin", Password: "short"}, []string{"password"}},
		{&noteBody{}, nil},
		// The routes of issues 12, 14 and 15, declared by their api tags.
		{&splitBody{EffectiveDate: "2025-07-01"}, []string{"rest_into_code"}},
		{&tokenBody{ExpiresInDays: &big}, nil},
		{&tokenBody{ExpiresInDays: new(int)}, []string{"expires_in_days"}},
		{&suspendBody{}, []string{"reason"}},
		{&grantBody{Role: "king"}, []string{"role"}},
		{&passwordBody{Password: "short"}, []string{"password"}},
		{&scoreBody{}, []string{"framework"}},
		{&resultBody{Year: 1999, Source: "rumour"}, []string{"year", "source"}},
		{&linkBody{Year: 2023, ItemID: "x", Index: "awareness"}, []string{"gain"}},
		{&definitionBody{NameVI: "a", NameEN: "b", Measure: "kg", Direction: "higher", Pillar: "economy"}, []string{"measure"}},
		{&figureBody{Year: 2101}, []string{"year"}},
		{&actualBody{Year: 2025, Method: "guess", Estimator: "Sở"}, []string{"method"}},
	}
	for _, c := range cases {
		var got []string
		for _, f := range check(c.body) {
			got = append(got, f.Field)
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%T %+v: refused %v, want %v", c.body, c.body, got, c.want)
		}
	}
}

// A route merged before its op and resp are declared still gets an operation (the server
// starts; TestEveryRouteIsDeclared names what to fill in).
func TestAnUndeclaredRouteStillHasAnOperation(t *testing.T) {
	d := doc{summary: "the total of a set of values", who: "any", body: noteBody{}, status: 200}
	op, err := d.operation("POST /api/v1/dti/score", "/api/v1/dti/score", newSchemas())
	if err != nil {
		t.Fatal(err)
	}
	if op["operationId"] != "postDtiScore" {
		t.Errorf("operationId %v, want postDtiScore", op["operationId"])
	}
	if _, ok := op["responses"].(map[string]any)["200"]; !ok {
		t.Errorf("no success answer: %v", op["responses"])
	}
}
