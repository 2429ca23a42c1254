package httpapi

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strings"

	"github.com/dxledger/dxledger/domain/fault"
)

// MaxBody is the largest request body accepted; larger is 413.
const MaxBody = 1 << 20

// errBodyTooLarge and badRequest are decoding failures, of kinds too large (413) and
// malformed (400).
var errBodyTooLarge = fault.New(fault.TooLarge, "httpapi.too_large", "the request body is larger than 1 MiB")

type badRequest struct {
	detail string
	fields []FieldError
}

func (e *badRequest) Error() string { return e.detail }

// Kind is fault.Malformed.
func (e *badRequest) Kind() fault.Kind { return fault.Malformed }

// Code names the message.
func (e *badRequest) Code() string { return "httpapi.malformed" }

// Fields are the fields of the wrong form.
func (e *badRequest) Fields() []fault.Field { return faultFields(e.fields, "httpapi.malformed") }

func faultFields(fields []FieldError, code string) []fault.Field {
	var out []fault.Field
	for _, f := range fields {
		out = append(out, fault.Field{Name: f.Field, Code: code, Message: f.Message})
	}
	return out
}

// errNotJSON refuses a body sent as another media type than JSON (415).
var errNotJSON = errors.New("the body must be sent as Content-Type: application/json")

// isJSON: the request's body is declared JSON (application/json or a +json type), or not
// declared at all (read as JSON, as before).
func isJSON(r *http.Request) bool {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return true
	}
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json"))
}

// decode reads a JSON object strictly into v: unknown fields, trailing data, wrong types
// (a fraction or a string in a _vnd field) are 400 naming the field; a body of another media
// type is 415; values that break the rules declared on v's type (its api tags, schema.go) are
// 422 naming every such field. It returns a fingerprint of the body as a JSON value (key order
// and spacing do not matter), for Idempotency-Key.
func decode(w http.ResponseWriter, r *http.Request, v any) ([]byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return nil, errBodyTooLarge
	}
	if err != nil {
		return nil, &badRequest{detail: "could not read the request body"}
	}
	if len(bytes.TrimSpace(body)) == 0 {
		body = []byte("{}")
	} else if !isJSON(r) {
		return nil, errNotJSON
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return nil, decodeError(err)
	}
	if dec.More() {
		return nil, &badRequest{detail: "the body must be a single JSON object"}
	}
	if err := cleanBody(body, v); err != nil {
		return nil, err
	}
	if bad := check(v); len(bad) > 0 {
		return nil, &unprocessable{fields: bad}
	}
	var value any
	dec = json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&value); err != nil {
		return nil, decodeError(err)
	}
	canonical, _ := json.Marshal(value) // maps marshal with sorted keys
	sum := sha256.Sum256(canonical)
	return sum[:], nil
}

func decodeError(err error) error {
	var (
		syntax   *json.SyntaxError
		typeErr  *json.UnmarshalTypeError
		fieldErr = func(field, msg string) error {
			return &badRequest{detail: "a field has the wrong form", fields: []FieldError{{Field: field, Message: msg}}}
		}
	)
	switch {
	case errors.As(err, &syntax), errors.Is(err, io.ErrUnexpectedEOF):
		return &badRequest{detail: "the body is not valid JSON"}
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			return &badRequest{detail: "the body must be a JSON object"}
		}
		want := jsonKind(typeErr.Type)
		if strings.HasSuffix(field, "_vnd") {
			want = "a whole number of đồng (no fractions, no quotes), at most 10^15"
		}
		return fieldErr(field, "must be "+want)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		// encoding/json has no typed error for this one; its message is stable since Go 1.10.
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return fieldErr(name, "unknown field")
	}
	return &badRequest{detail: "the body could not be read as JSON: " + err.Error()}
}

// jsonKind says what JSON value a field of Go type t takes, in the API's words: never the Go
// type's name (a client sent "parts": "x" and read "must be []httpapi.splitPartBody").
func jsonKind(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Bool:
		return "true or false"
	case reflect.String:
		return "a string"
	case reflect.Slice, reflect.Array:
		return "a list (JSON array) of " + strings.TrimPrefix(strings.TrimPrefix(jsonKind(t.Elem()), "a "), "an ") + "s"
	case reflect.Map, reflect.Struct:
		return "an object"
	}
	return "of another JSON type"
}
