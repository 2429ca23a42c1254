package webui

import (
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/dxledger/dxledger/domain/fault"
	"github.com/dxledger/dxledger/internal/faulttest"
)

// TestEveryErrorHasOneAnswer walks every error the handlers can return (faulttest's table,
// which fails when a package declares an error without a row) through the pages' one
// mapping: a refusal the official can fix shows the form again with 422, its message beside
// each refused field or above the form; the others are the error page with the row's status.
// Every message is the catalogue's Vietnamese, never the error's English text.
func TestEveryErrorHasOneAnswer(t *testing.T) {
	t.Parallel()
	for _, c := range faulttest.Cases(t) {
		t.Run(c.Name, func(t *testing.T) {
			a := answerOf(langVI, c.Err)
			if a.Status != c.Status || a.Form != c.Form {
				t.Errorf("status %d, on the form %v; want %d, %v", a.Status, a.Form, c.Status, c.Form)
			}
			var fields []string
			for f := range a.Fields {
				fields = append(fields, f)
			}
			sort.Strings(fields)
			want := slices.Sorted(slices.Values(c.Fields))
			if !slices.Equal(fields, want) {
				t.Errorf("messages beside %v, want %v", fields, want)
			}
			f, ok := refused(langVI, "f", nil, c.Err)
			if ok != c.Form || ok && (f.General == "" || !f.Bad()) {
				t.Errorf("refused = %+v, %v; want the form again: %v", f, ok, c.Form)
			}
			if c.Status == http.StatusInternalServerError {
				if a.Message != tr(langVI, "err.internal") {
					t.Errorf("a failure says %q", a.Message)
				}
				return
			}
			english := []string{c.Err.Error()}
			codes := []string{fault.CodeOf(c.Err)}
			for _, f := range fault.FieldsOf(c.Err) {
				english = append(english, f.Message)
				codes = append(codes, f.Code)
			}
			if len(fault.FieldsOf(c.Err)) > 0 {
				codes = codes[1:] // the fields speak for the error
			}
			for _, code := range codes {
				if _, ok := messages["fault."+code]; !ok {
					t.Errorf("message code %q has no entry in the catalogue", code)
				}
			}
			msgs := []string{a.Message}
			for _, m := range a.Fields {
				msgs = append(msgs, m)
			}
			en := answerOf(langEN, c.Err)
			for _, m := range msgs {
				switch {
				case m == "" || m == tr(langVI, "err.refused"):
					t.Errorf("message %q: the catalogue does not know the error", m)
				case strings.Contains(m, "%!"):
					t.Errorf("message %q: the values do not fit it", m)
				case m == en.Message || slices.Contains(mapValues(en.Fields), m):
					t.Errorf("message %q is the same in English", m)
				}
				for _, e := range english {
					if strings.Contains(m, e) {
						t.Errorf("message %q shows the English %q", m, e)
					}
				}
			}
			t.Logf("%d %s %v", a.Status, a.Message, a.Fields)
		})
	}
}

// TestEveryCodeHasAMessage checks the catalogue against the message codes the domain and the
// handlers use: each has its Vietnamese and English entry, without values ("fault.<code>"),
// and no entry is left for a code nobody uses.
func TestEveryCodeHasAMessage(t *testing.T) {
	t.Parallel()
	codes := faulttest.Codes(t)
	if len(codes) < 50 {
		t.Fatalf("found only %d message codes: the scan is broken", len(codes))
	}
	for _, code := range codes {
		m, ok := messages["fault."+code]
		if !ok {
			t.Errorf("message code %q has no entry in the catalogue", code)
			continue
		}
		if strings.Contains(m[0]+m[1], "%") {
			t.Errorf("%q: the entry without values has a %%; put values in %q", code, "fault."+code+"%")
		}
	}
	for key, m := range messages {
		code, ok := strings.CutPrefix(key, "fault.")
		if !ok {
			continue
		}
		base := strings.TrimSuffix(code, "%")
		if !slices.Contains(codes, base) {
			t.Errorf("%q: no error uses the code %q", key, base)
		}
		if base != code && strings.Count(m[0], "%s") != strings.Count(m[1], "%s") {
			t.Errorf("%q: the two languages show a different number of values", key)
		}
	}
}

func mapValues(m map[string]string) []string {
	var out []string
	for _, v := range m {
		out = append(out, v)
	}
	return out
}
