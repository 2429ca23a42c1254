package webui

import (
	"crypto/sha256"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/dxledger/dxledger/domain/civil"
	"github.com/dxledger/dxledger/domain/fault"
	"github.com/dxledger/dxledger/domain/money"
	"github.com/dxledger/dxledger/workflows"
)

// form is a submitted form coming back to its page: what was typed and what is wrong with it,
// field by field, in the official's language.
type form struct {
	Name    string
	Values  url.Values
	Errors  map[string]string
	General string
}

// V is what was typed in a field.
func (f *form) V(field string) string {
	if f == nil {
		return ""
	}
	return f.Values.Get(field)
}

// E is what is wrong with a field ("" when nothing).
func (f *form) E(field string) string {
	if f == nil {
		return ""
	}
	return f.Errors[field]
}

// Bad reports whether the form has any error.
func (f *form) Bad() bool { return f != nil && (len(f.Errors) > 0 || f.General != "") }

// reader turns a posted form into typed values, collecting field errors in the official's
// language.
type reader struct {
	lang   string
	values url.Values
	errs   map[string]string
}

func newReader(r *http.Request, lang string) *reader {
	return &reader{lang: lang, values: r.PostForm, errs: map[string]string{}}
}

func (rd *reader) fail(field, vi, en string) {
	if _, ok := rd.errs[field]; ok {
		return
	}
	if rd.lang == langEN {
		rd.errs[field] = en
	} else {
		rd.errs[field] = vi
	}
}

func (rd *reader) text(field string) string { return strings.TrimSpace(rd.values.Get(field)) }

func (rd *reader) required(field string) string {
	s := rd.text(field)
	if s == "" {
		rd.fail(field, "Vui lòng nhập ô này.", "Please fill in this field.")
	}
	return s
}

// date reads a day (YYYY-MM-DD or dd/mm/yyyy); empty is the zero date unless need.
func (rd *reader) date(field string, need bool) civil.Date {
	s := rd.text(field)
	if s == "" {
		if need {
			rd.fail(field, "Vui lòng nhập ngày (dd/mm/yyyy).", "Please give a date (dd/mm/yyyy).")
		}
		return civil.Date{}
	}
	d, err := parseDay(s)
	if err != nil {
		rd.fail(field, "Ngày không hợp lệ; nhập theo dạng dd/mm/yyyy.", "Not a valid date; write it dd/mm/yyyy.")
	}
	return d
}

// money reads whole đồng, with or without grouping.
func (rd *reader) money(field string, need bool) int64 {
	s := rd.text(field)
	if s == "" {
		if need {
			rd.fail(field, "Vui lòng nhập số tiền (đồng).", "Please give the amount in đồng.")
		}
		return 0
	}
	v, ok := parseVND(s)
	if !ok {
		rd.fail(field, "Số tiền phải là số nguyên đồng, ví dụ 1.500.000.000.", "The amount must be whole đồng, e.g. 1,500,000,000.")
	}
	return v
}

// number reads a whole number in [lo, hi].
func (rd *reader) number(field string, lo, hi int) int {
	s := rd.text(field)
	n, err := strconv.Atoi(s)
	if s == "" || err != nil || n < lo || n > hi {
		rd.fail(field, "Phải là số nguyên từ "+strconv.Itoa(lo)+" đến "+strconv.Itoa(hi)+".",
			"Must be a whole number from "+strconv.Itoa(lo)+" to "+strconv.Itoa(hi)+".")
	}
	return n
}

// done returns the form with its errors, or nil when it has none.
func (rd *reader) done(name string) *form {
	if len(rd.errs) == 0 {
		return nil
	}
	return &form{Name: name, Values: rd.values, Errors: rd.errs, General: tr(rd.lang, "err.fix")}
}

// write finishes a posted form: bad fields, or a refusal the official can fix, show the page
// again (again, with 422) with the form's errors; anything else is the error page; success
// goes to where do says.
func (s *server) write(w http.ResponseWriter, r *http.Request, rq *request, rd *reader, name string,
	again func(http.ResponseWriter, *http.Request, *request, int, *form), do func() (to string, err error)) {
	if f := rd.done(name); f != nil {
		again(w, r, rq, http.StatusUnprocessableEntity, f)
		return
	}
	to, err := do()
	if err != nil {
		if f, ok := refused(rq.lang, name, r.PostForm, err); ok {
			again(w, r, rq, http.StatusUnprocessableEntity, f)
			return
		}
		s.failErr(w, r, rq, err)
		return
	}
	http.Redirect(w, r, s.afterWrite(r, to), http.StatusSeeOther)
}

// options reads the hidden fields every write form carries: an idempotency key (a double
// click records once) and the item's version when the form was drawn (someone else's change
// in between is a conflict, not a silent overwrite).
func options(r *http.Request, route string) workflows.Options {
	o := workflows.Options{Route: route}
	if k := r.PostForm.Get("key"); k != "" && len(k) <= 64 {
		o.IdempotencyKey = "web:" + k
		o.Fingerprint = fingerprint(r.PostForm)
	}
	if v, err := strconv.ParseInt(r.PostForm.Get("version"), 10, 64); err == nil && v >= 0 {
		o.IfMatch = &v
	}
	return o
}

func fingerprint(v url.Values) []byte {
	keys := make([]string, 0, len(v))
	for k := range v {
		if k != "csrf" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	h := sha256.New()
	for _, k := range keys {
		h.Write([]byte(k + "=" + strings.Join(v[k], "\x00") + "\n"))
	}
	return h.Sum(nil)
}

// answer is how the pages answer an error: on the form the official posted (the form shown
// again, 422, with a message next to each refused field and one above it), or as an error
// page with a status and a message.
type answer struct {
	Form    bool              // the official can fix or retry it on the form
	Status  int               // the error page's status, when there is no form to show
	Fields  map[string]string // field → message
	Message string            // above the form, or the error page's
}

// answerOf maps an error to the pages' answer, by its kind, in lang: the only place that
// knows which error is which page. Messages come from the catalogue by the error's message
// code and the codes of the fields it refuses, never from its English text.
func answerOf(lang string, err error) answer {
	k := fault.KindOf(err)
	status, known := k.Status()
	if !known {
		return answer{Status: http.StatusInternalServerError, Message: tr(lang, "err.internal")}
	}
	a := answer{Form: k == fault.Invalid || k == fault.Refused || k == fault.Conflict, Status: status}
	var each []string
	for _, f := range fault.FieldsOf(err) {
		if _, dup := a.Fields[f.Name]; dup {
			continue
		}
		if a.Fields == nil {
			a.Fields = map[string]string{}
		}
		a.Fields[f.Name] = say(lang, f.Code, f.Args)
		each = append(each, a.Fields[f.Name])
	}
	switch {
	case len(each) == 0:
		a.Message = say(lang, fault.CodeOf(err), fault.ArgsOf(err))
	case a.Form:
		a.Message = tr(lang, "err.fix")
	default:
		a.Message = strings.Join(each, " ")
	}
	return a
}

// refused is err's answer on the form name, when the official can fix it there.
func refused(lang, name string, values url.Values, err error) (*form, bool) {
	a := answerOf(lang, err)
	if !a.Form {
		return nil, false
	}
	return &form{Name: name, Values: values, Errors: a.Fields, General: a.Message}, true
}

// say is the catalogue's message for a message code, showing args (amounts, dates, codes) the
// language's way. A code's entry "fault.<code>" is its message without values; the optional
// "fault.<code>%" shows them, with one %s per value.
func say(lang, code string, args []any) string {
	key := "fault." + code
	if _, ok := messages[key]; !ok {
		return tr(lang, "err.refused")
	}
	if _, ok := messages[key+"%"]; !ok || len(args) == 0 {
		return tr(lang, key)
	}
	shown := make([]any, len(args))
	for i, v := range args {
		shown[i] = argText(lang, v)
	}
	return fmt.Sprintf(tr(lang, key+"%"), shown...)
}

// argText writes a value a message shows.
func argText(lang string, v any) string {
	switch v := v.(type) {
	case money.VND:
		return vnd(lang, int64(v))
	case civil.Date:
		return dmy(v)
	case string:
		return v
	case int:
		return strconv.Itoa(v)
	case int64:
		return strconv.FormatInt(v, 10)
	}
	return fmt.Sprint(v)
}
