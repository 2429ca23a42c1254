package httpapi

import (
	"errors"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/dxledger/dxledger/internal/textcheck"
)

// door refuses a path or a query that no text column could hold (invalid UTF-8, control
// characters) with a 400 naming it, before any handler reads it, and hands the handlers every
// query value in NFC.
func door(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := textcheck.Clean("path", r.URL.Path); err != nil {
			writeProblem(w, textProblem(err))
			return
		}
		if r.URL.RawQuery != "" {
			q, err := cleanQuery(r.URL.RawQuery)
			if err != nil {
				writeProblem(w, textProblem(err))
				return
			}
			r.URL.RawQuery = q
		}
		next.ServeHTTP(w, r)
	})
}

// cleanQuery checks every key and value of a raw query and returns it re-encoded in NFC.
func cleanQuery(raw string) (string, error) {
	values, err := url.ParseQuery(raw)
	if err != nil {
		return "", &badRequest{detail: "the query string is malformed: " + err.Error()}
	}
	clean := url.Values{}
	for key, vs := range values {
		k, err := textcheck.Clean("query", key)
		if err != nil {
			return "", err
		}
		for _, v := range vs {
			v, err := textcheck.Clean(k, v)
			if err != nil {
				return "", err
			}
			clean.Add(k, v)
		}
	}
	return clean.Encode(), nil
}

// textProblem is the 400 for a text refused at the door (or a malformed query).
func textProblem(err error) Problem {
	var bad *badRequest
	if errors.As(err, &bad) {
		return Problem{Status: http.StatusBadRequest, Detail: bad.detail, Errors: bad.fields}
	}
	var te *textcheck.Error
	if errors.As(err, &te) {
		return Problem{Status: http.StatusBadRequest, Detail: te.Field + " " + te.Message(),
			Errors: []FieldError{{Field: te.Field, Message: te.Message()}}}
	}
	return Problem{Status: http.StatusBadRequest, Detail: "the request could not be read"}
}

// cleanBody checks every string a request body was decoded into, in place: each is put in NFC,
// and the first that holds a control character is an error naming its field ("parts[1].note").
// raw is the body as sent: encoding/json quietly turns invalid UTF-8 into U+FFFD, so when raw is
// not UTF-8 the field holding a U+FFFD is named instead.
func cleanBody(raw []byte, v any) error {
	if !utf8.Valid(raw) {
		field := "body"
		walkStrings(reflect.ValueOf(v), "", func(path string, s reflect.Value) bool {
			if strings.ContainsRune(s.String(), utf8.RuneError) {
				field = path
				return false
			}
			return true
		})
		return textError(&textcheck.Error{Field: field, Reason: textcheck.InvalidUTF8})
	}
	var bad error
	walkStrings(reflect.ValueOf(v), "", func(path string, s reflect.Value) bool {
		clean, err := textcheck.Clean(leaf(path), s.String())
		if err != nil {
			var te *textcheck.Error
			if errors.As(err, &te) {
				te.Field = path
			}
			bad = textError(err)
			return false
		}
		s.SetString(clean)
		return true
	})
	return bad
}

func textError(err error) error {
	var te *textcheck.Error
	if errors.As(err, &te) {
		return &badRequest{detail: te.Field + " " + te.Message(), fields: []FieldError{{Field: te.Field, Message: te.Message()}}}
	}
	return err
}

// leaf is the last field name of a path: "parts[1].note" → "note".
func leaf(path string) string {
	if i := strings.LastIndexByte(path, '.'); i >= 0 {
		path = path[i+1:]
	}
	if i := strings.IndexByte(path, '['); i >= 0 {
		path = path[:i]
	}
	return path
}

// walkStrings calls visit with every settable string reachable from v through pointers,
// structs (by their JSON names), slices and maps of strings, until visit returns false.
func walkStrings(v reflect.Value, path string, visit func(path string, s reflect.Value) bool) bool {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return true
		}
		return walkStrings(v.Elem(), path, visit)
	case reflect.String:
		if v.CanSet() {
			return visit(path, v)
		}
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "-" {
				continue
			}
			if name == "" {
				name = f.Name
			}
			if path != "" {
				name = path + "." + name
			}
			if !walkStrings(v.Field(i), name, visit) {
				return false
			}
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			if !walkStrings(v.Index(i), path+"["+strconv.Itoa(i)+"]", visit) {
				return false
			}
		}
	case reflect.Map:
		// Maps of strings are not settable in place; a body with one is checked as it is.
		iter := v.MapRange()
		for iter.Next() {
			if iter.Value().Kind() != reflect.String {
				continue
			}
			s := reflect.New(iter.Value().Type()).Elem()
			s.Set(iter.Value())
			if !visit(path+"."+iter.Key().String(), s) {
				return false
			}
			v.SetMapIndex(iter.Key(), s)
		}
	}
	return true
}
