// Package fault says what sort of refusal an error is — its Kind — and names its message with
// a stable code, so that each adapter answers every error from one table (an HTTP status and
// problem, a page and a translated message) and never by reading the English text.
//
// An error takes part by having, somewhere in its chain, a Kind() method; a Code() method
// names its message, Args() gives the values the message shows and Fields() the fields it
// refuses. Sentinels are built with New and NewField; typed errors implement the methods, or
// unwrap to a sentinel that does.
package fault

import (
	"errors"
	"strconv"
)

// Kind is what sort of refusal an error is. The adapters map each kind to one answer.
type Kind int

// The kinds. Unknown is everything else: a failure, not a refusal.
const (
	Unknown         Kind = iota // a failure: the answer is 500 and the details go to the log
	Malformed                   // the request cannot be read (400)
	Unauthenticated             // no, a bad or an expired credential (401)
	Forbidden                   // this role or unit may not do this (403)
	NotFound                    // no such item, unit, request or user (404)
	Conflict                    // the state moved on: a version, a stage, a thing already done (409)
	TooLarge                    // the request is too big (413)
	Invalid                     // fields break a rule (422); Fields names them when it can
	Refused                     // the command as a whole breaks a rule (422)
)

// statuses is the one table of the HTTP status each kind is answered with, by the API and the
// pages alike (the numbers are HTTP's, written out so that this package needs nothing but the
// standard library's errors and strconv).
var statuses = map[Kind]int{
	Malformed:       400,
	Unauthenticated: 401,
	Forbidden:       403,
	NotFound:        404,
	Conflict:        409,
	TooLarge:        413,
	Invalid:         422,
	Refused:         422,
}

// Status is the HTTP status a kind is answered with; false for Unknown, a failure (500).
func (k Kind) Status() (int, bool) {
	s, ok := statuses[k]
	return s, ok
}

// OfStatus is the kind an HTTP status stands for (a problem read back by a client); Unknown
// for a status no kind has. 422 reads as Invalid.
func OfStatus(status int) Kind {
	for k, s := range statuses {
		if s == status && k != Refused {
			return k
		}
	}
	return Unknown
}

var names = [...]string{"unknown", "malformed", "unauthenticated", "forbidden", "not_found", "conflict", "too_large", "invalid", "refused"}

// String names the kind.
func (k Kind) String() string {
	if k < 0 || int(k) >= len(names) {
		return "kind(" + strconv.Itoa(int(k)) + ")"
	}
	return names[k]
}

// Field is one refused field: its name in the API, the code of the rule it breaks, the rule
// in English, and the values the message shows (amounts, dates, limits) in order.
type Field struct {
	Name    string
	Code    string
	Message string
	Args    []any
}

// KindOf returns the kind of the first error in err's chain that has one, or Unknown.
func KindOf(err error) Kind {
	var k interface{ Kind() Kind }
	if errors.As(err, &k) {
		return k.Kind()
	}
	return Unknown
}

// CodeOf returns the message code of the first error in err's chain that has one, or "".
func CodeOf(err error) string {
	var c interface{ Code() string }
	if errors.As(err, &c) {
		return c.Code()
	}
	return ""
}

// ArgsOf returns the values err's message shows, from the first error in its chain that
// gives them, or nil.
func ArgsOf(err error) []any {
	var a interface{ Args() []any }
	if errors.As(err, &a) {
		return a.Args()
	}
	return nil
}

// FieldsOf returns the fields err refuses: those of the first error in its chain that names
// them, and of every error joined with errors.Join; nil when none does.
func FieldsOf(err error) []Field {
	switch e := err.(type) {
	case nil:
		return nil
	case interface{ Fields() []Field }:
		return e.Fields()
	case interface{ Unwrap() []error }:
		var out []Field
		for _, err := range e.Unwrap() {
			out = append(out, FieldsOf(err)...)
		}
		return out
	case interface{ Unwrap() error }:
		return FieldsOf(e.Unwrap())
	}
	return nil
}

// Error is a sentinel error with a kind, a code and an English message; compare it with
// errors.Is.
type Error struct {
	kind  Kind
	code  string
	msg   string
	field string
	args  []any
}

// New returns a sentinel of kind k whose message code is code.
func New(k Kind, code, msg string) *Error { return &Error{kind: k, code: code, msg: msg} }

// NewField returns an Invalid sentinel that refuses one field; args are the values its
// message shows.
func NewField(field, code, msg string, args ...any) *Error {
	return &Error{kind: Invalid, code: code, msg: msg, field: field, args: args}
}

// Error returns the English message.
func (e *Error) Error() string { return e.msg }

// Kind returns the kind.
func (e *Error) Kind() Kind { return e.kind }

// Code returns the message code.
func (e *Error) Code() string { return e.code }

// Fields returns the field the error refuses, if it names one.
func (e *Error) Fields() []Field {
	if e.field == "" {
		return nil
	}
	return []Field{{Name: e.field, Code: e.code, Message: e.msg, Args: e.args}}
}

// Args are the values the message shows.
func (e *Error) Args() []any { return e.args }

// Wrap gives err, which has no kind of its own (a store's error, say), the kind k and the
// message code code; errors.Is and errors.As still see err.
func Wrap(k Kind, code string, err error) error { return &wrapped{kind: k, code: code, err: err} }

type wrapped struct {
	kind Kind
	code string
	err  error
}

func (w *wrapped) Error() string { return w.err.Error() }
func (w *wrapped) Unwrap() error { return w.err }
func (w *wrapped) Kind() Kind    { return w.kind }
func (w *wrapped) Code() string  { return w.code }
