package httpapi

import (
	"strconv"

	"github.com/dxledger/dxledger/domain/civil"
)

// fields collects bad fields while a request is turned into a command.
type fields []FieldError

// add names a field of the wrong form (400: a date that is no date, a bad parameter).
func (f *fields) add(field, msg string) { *f = append(*f, FieldError{Field: field, Message: msg}) }

// rule names a well-formed field that breaks a rule (422: missing, or at odds with another).
func (f *fields) rule(field, msg string) {
	*f = append(*f, FieldError{Field: field, Message: msg, rule: true})
}

// date parses an optional YYYY-MM-DD field.
func (f *fields) date(field, s string) civil.Date {
	if s == "" {
		return civil.Date{}
	}
	d, err := civil.Parse(s)
	if err != nil {
		f.add(field, "must be a real calendar day written YYYY-MM-DD, between 2000-01-01 and 2100-12-31")
	}
	return d
}

// required parses a YYYY-MM-DD field that must be there.
func (f *fields) requiredDate(field, s string) civil.Date {
	if s == "" {
		f.add(field, "is required (YYYY-MM-DD)")
		return civil.Date{}
	}
	return f.date(field, s)
}

// err is a problem naming every bad field, or nil: 422 when each only breaks a rule, else 400.
func (f fields) err() error {
	if len(f) == 0 {
		return nil
	}
	for _, e := range f {
		if !e.rule {
			return &badRequest{detail: strconv.Itoa(len(f)) + " field(s) have the wrong form", fields: f}
		}
	}
	return &unprocessable{fields: f}
}
