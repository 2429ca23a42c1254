package webui

import (
	"crypto/sha256"
	"errors"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/dxledger/dxledger/domain/civil"
	"github.com/dxledger/dxledger/domain/item"
	"github.com/dxledger/dxledger/domain/unit"
	"github.com/dxledger/dxledger/internal/identity"
	"github.com/dxledger/dxledger/workflows"
	"github.com/dxledger/dxledger/workflows/definition"
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

// refused explains why the command handler said no: field errors go next to their fields;
// a refusal of the whole form (stage, conflict, guard) goes above it. ok is false for what an
// official cannot fix (forbidden, missing, broken), which the caller shows as an error page.
func refused(lang, name string, values url.Values, err error) (f *form, ok bool) {
	f = &form{Name: name, Values: values, Errors: map[string]string{}}
	var (
		invalid   item.Invalid
		unitField *unit.FieldError
		overAppr  *item.OverApprovalError
		overDisb  *item.OverDisbursementError
		dateErr   *item.DateError
		conflict  *workflows.ConflictError
		trans     *definition.TransitionError
	)
	switch {
	case errors.As(err, &invalid):
		for _, fe := range invalid {
			f.Errors[fe.Field] = fieldMessage(lang, fe.Message)
		}
	case errors.As(err, &unitField):
		f.Errors[unitField.Field] = fieldMessage(lang, unitField.Reason)
	case errors.As(err, &overAppr):
		f.Errors["approved_vnd"] = pick2(lang, "Số tiền phê duyệt vượt số tiền đề nghị ("+vnd(lang, int64(overAppr.Requested))+").",
			"More than was requested ("+vnd(lang, int64(overAppr.Requested))+").")
	case errors.As(err, &overDisb):
		f.Errors["amount_vnd"] = pick2(lang, "Vượt số vốn còn lại của nguồn này ("+vnd(lang, int64(overDisb.Approved-overDisb.Disbursed))+").",
			"More than is left of this source ("+vnd(lang, int64(overDisb.Approved-overDisb.Disbursed))+").")
	case errors.As(err, &dateErr):
		f.Errors[dateErr.Field] = pick2(lang, "Ngày không hợp lệ: "+dateErr.Rule+".", "Date not allowed: "+dateErr.Rule+".")
	case errors.As(err, &conflict):
		f.General = tr(lang, "err.conflict")
	case errors.As(err, &trans):
		f.General = tr(lang, "err.stage")
	case errors.Is(err, item.ErrNeedsEndorsement):
		f.General = pick2(lang, "Đề nghị trên 15 tỷ đồng cần ý kiến của Ban Chỉ đạo trước khi phê duyệt.", err.Error())
	case errors.Is(err, item.ErrSameOfficer), errors.Is(err, item.ErrSecondApproval), errors.Is(err, item.ErrAlreadyDecided),
		errors.Is(err, item.ErrNotAModel), errors.Is(err, unit.ErrInvalid), errors.Is(err, unit.ErrAlreadyMerged),
		errors.Is(err, unit.ErrDissolved), errors.Is(err, unit.ErrCycle), errors.Is(err, unit.ErrInvalidParent),
		errors.Is(err, unit.ErrBeforeRegistration), errors.Is(err, unit.ErrAlreadyRegistered), errors.Is(err, workflows.ErrIdempotencyMismatch):
		f.General = err.Error()
	case errors.Is(err, identity.ErrWeakPassword):
		f.Errors["password"] = pick2(lang, "Mật khẩu phải có ít nhất 12 ký tự.", "The password needs at least 12 characters.")
	case errors.Is(err, identity.ErrLongPassword):
		f.Errors["password"] = pick2(lang, "Mật khẩu quá dài (tối đa 72 byte, khoảng 24 chữ có dấu).", "The password is too long (at most 72 bytes).")
	default:
		return nil, false
	}
	if f.General == "" {
		f.General = tr(lang, "err.fix")
	}
	return f, true
}

func pick2(lang, vi, en string) string {
	if lang == langEN {
		return en
	}
	return vi
}

// domainMessages puts the domain's English rule messages into Vietnamese, by their start.
var domainMessages = []struct{ en, vi string }{
	{"must not be empty", "Không được để trống."},
	{"must be at most", "Quá dài."},
	{"must not be in the future", "Không được sau ngày hôm nay."},
	{"must be from 0 to 100", "Phải từ 0 đến 100."},
	{"a project needs its estimated cost", "Dự án cần có kinh phí dự kiến."},
	{"a project needs its planned start date", "Dự án cần có ngày bắt đầu dự kiến."},
	{"a project needs its planned end date", "Dự án cần có ngày kết thúc dự kiến."},
	{"must not be before start_date", "Không được trước ngày bắt đầu."},
	{"must be one of central_budget", "Vui lòng chọn một nguồn vốn trong danh sách."},
	{"must be government, economy or society", "Vui lòng chọn một trụ cột."},
	{"must be effective, partly_effective or not_effective", "Vui lòng chọn một mức đánh giá."},
	{"amount must be more than 0", "Số tiền phải lớn hơn 0 đồng."},
	{"amount must be at most", "Số tiền vượt mức tối đa cho phép."},
	{"the item's requests would total more than", "Tổng các đề nghị vượt mức tối đa cho phép."},
	{"must be from 2000", "Năm phải từ 2000 đến 2100."},
	{"no such model", "Không có mô hình này."},
	{"that model is already marked the same as this one", "Mô hình kia đã được đánh dấu trùng với mô hình này."},
	{"unknown sector", "Lĩnh vực không có trong danh sách."},
	{"no such unit", "Không có đơn vị này."},
	{"unit ", "Đơn vị này đã sáp nhập, không còn hoạt động độc lập."},
}

func fieldMessage(lang, msg string) string {
	if lang == langEN {
		return msg
	}
	for _, m := range domainMessages {
		if strings.HasPrefix(msg, m.en) {
			return m.vi
		}
	}
	return "Giá trị không hợp lệ (" + msg + ")."
}

// classify maps an error a page cannot recover from to its status and message.
func classify(err error) (int, string) {
	switch {
	case errors.Is(err, workflows.ErrForbidden):
		return http.StatusForbidden, "err.forbidden"
	case errors.Is(err, workflows.ErrNotFound), errors.Is(err, item.ErrNotFound), errors.Is(err, unit.ErrNotRegistered),
		errors.Is(err, item.ErrRequestNotFound), errors.Is(err, identity.ErrNoSuchUser):
		return http.StatusNotFound, "err.notfound"
	}
	return http.StatusInternalServerError, "err.internal"
}
