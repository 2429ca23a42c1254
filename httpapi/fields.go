package httpapi

import (
	"strconv"

	"github.com/dxledger/dxledger/domain/civil"
)

// fields collects bad fields while a request is turned into a command.
type fields []FieldError

func (f *fields) add(field, msg string) { *f = append(*f, FieldError{Field: field, Message: msg}) }

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

// err is a 400 problem naming every bad field, or nil.
func (f fields) err() error {
	if len(f) == 0 {
		return nil
	}
	return &badRequest{detail: strconv.Itoa(len(f)) + " field(s) have the wrong form", fields: f}
}
