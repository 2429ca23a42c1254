package httpapi

import (
	"bytes"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dxledger/dxledger/internal/faulttest"
)

// TestEveryErrorHasOneAnswer walks every error the handlers can return (faulttest's table,
// which fails when a package declares an error without a row, plus httpapi's own decoding
// errors) through the API's one mapping: each gets the status of its row, the fields it
// refuses, and a detail; an error without a kind is a 500 whose text stays in the log.
func TestEveryErrorHasOneAnswer(t *testing.T) {
	t.Parallel()
	own := []faulttest.Case{
		{Name: "httpapi.errBodyTooLarge", Err: errBodyTooLarge, Status: http.StatusRequestEntityTooLarge},
		{Name: "httpapi.errNoToken", Err: errNoToken, Status: http.StatusUnauthorized},
		{Name: "httpapi.errNotJSON", Err: errNotJSON, Status: http.StatusUnsupportedMediaType},
		{Name: "httpapi.badRequest", Err: decodeError(errors.New(`json: unknown field "colour"`)), Status: http.StatusBadRequest,
			Fields: []string{"colour"}},
		{Name: "httpapi.badRequest without fields", Err: &badRequest{detail: "the body is not valid JSON"}, Status: http.StatusBadRequest},
		{Name: "httpapi.Problem", Err: &Problem{Status: http.StatusConflict, Title: "Conflict", Detail: "the item moved"}, Status: http.StatusConflict},
		{Name: "httpapi.unprocessable", Err: &unprocessable{fields: []FieldError{{Field: "unit_code", Message: "no such unit"}}},
			Status: http.StatusUnprocessableEntity, Fields: []string{"unit_code"}},
	}
	faulttest.CheckCovered(t, own, faulttest.Declared(t, filepath.Join(faulttest.Root(t), "httpapi")))
	for _, c := range append(faulttest.Cases(t), own...) {
		t.Run(c.Name, func(t *testing.T) {
			var log bytes.Buffer
			a := &api{Deps: Deps{Logger: slog.New(slog.NewTextHandler(&log, nil))}}
			w := httptest.NewRecorder()
			a.fail(w, httptest.NewRequest("POST", "/api/v1/projects", nil), c.Err)
			p, _ := problemOf(c.Err)
			if w.Code != c.Status || p.Status != c.Status {
				t.Errorf("status %d (problem says %d), want %d", w.Code, p.Status, c.Status)
			}
			if ct := w.Header().Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("Content-Type %q", ct)
			}
			var fields []string
			for _, f := range p.Errors {
				if f.Message == "" {
					t.Errorf("field %s has no message", f.Field)
				}
				fields = append(fields, f.Field)
			}
			if !slices.Equal(fields, c.Fields) {
				t.Errorf("fields %v, want %v", fields, c.Fields)
			}
			if p.Detail == "" {
				t.Error("no detail")
			}
			logged := strings.Contains(log.String(), "request failed")
			if c.Status == http.StatusInternalServerError {
				if strings.Contains(w.Body.String(), c.Err.Error()) || !logged {
					t.Errorf("a 500 answered %s and logged %q: want the details in the log only", w.Body, log.String())
				}
			} else if logged {
				t.Errorf("a refusal was logged: %s", log.String())
			}
		})
	}
}
