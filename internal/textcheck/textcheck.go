// Package textcheck is the door every text passes on its way into the product: it refuses
// what PostgreSQL, a report or an Excel cell cannot hold (invalid UTF-8, U+0000 and the other
// control characters) and hands back the rest normalised to NFC, so that the same words typed
// on two keyboards are stored as the same string.
//
// The adapters (the JSON API, the web pages) call it for every field, query parameter and path
// they read; what it refuses is a 400 or 422 naming the field, never a 500 further in.
package textcheck

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Reason says why a text was refused.
type Reason int

const (
	// InvalidUTF8 is a byte sequence that is not UTF-8.
	InvalidUTF8 Reason = iota + 1
	// ControlChar is U+0000–U+001F or U+007F–U+009F (tab, CR and LF are allowed in
	// multi-line fields).
	ControlChar
)

// Error is a text refused at the door.
type Error struct {
	Field  string
	Reason Reason
	Rune   rune // the refused character, for ControlChar
}

func (e *Error) Error() string {
	return e.Field + ": " + e.Message()
}

// Message is the English message for a field error, without the field's name.
func (e *Error) Message() string {
	switch e.Reason {
	case InvalidUTF8:
		return "is not valid UTF-8 text"
	case ControlChar:
		return fmt.Sprintf("contains the control character %U, which text may not hold", e.Rune)
	}
	return "is not acceptable text"
}

// multiline names the fields that may hold several lines: notes, reasons and scopes are
// written as paragraphs, everything else (titles, names, codes) is one line.
var multiline = map[string]bool{"note": true, "reason": true, "scope": true}

// Multiline reports whether field may hold tab, CR and LF.
func Multiline(field string) bool { return multiline[field] }

// Secret reports whether field holds a secret that is never stored as text (a password is
// only hashed): it passes the door untouched, so that what was typed is what is hashed.
func Secret(field string) bool { return field == "password" || strings.HasSuffix(field, "_password") }

// Clean checks one text read from field and returns it in NFC. Secret fields are returned as
// they are.
func Clean(field, s string) (string, error) {
	if Secret(field) {
		return s, nil
	}
	if !utf8.ValidString(s) {
		return "", &Error{Field: field, Reason: InvalidUTF8}
	}
	lines := Multiline(field)
	for _, r := range s {
		if isControl(r) && !(lines && (r == '\t' || r == '\n' || r == '\r')) {
			return "", &Error{Field: field, Reason: ControlChar, Rune: r}
		}
	}
	return norm.NFC.String(s), nil
}

func isControl(r rune) bool { return r < 0x20 || (r >= 0x7f && r <= 0x9f) }
