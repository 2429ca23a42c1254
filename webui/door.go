package webui

import (
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/dxledger/dxledger/internal/textcheck"
)

// door refuses a path, a query or a posted form holding text no column could keep (invalid
// UTF-8, control characters) with a 400 page that names the field, before any page reads it,
// and hands the pages every value in NFC.
func (s *server) door(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := func() error {
			if _, err := textcheck.Clean("path", r.URL.Path); err != nil {
				return err
			}
			if r.URL.RawQuery != "" {
				q, err := url.ParseQuery(r.URL.RawQuery)
				if err != nil {
					return err
				}
				if q, err = cleanValues(q); err != nil {
					return err
				}
				r.URL.RawQuery = q.Encode()
			}
			// The same test ParseForm makes (media types are case-insensitive): a form the pages
			// would read is one the door reads first.
			if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); r.Method == http.MethodPost && mt == "application/x-www-form-urlencoded" {
				r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
				if err := r.ParseForm(); err != nil {
					return err
				}
				post, err := cleanValues(r.PostForm)
				if err != nil {
					return err
				}
				r.PostForm = post
				r.Form = url.Values{}
				for k, vs := range r.URL.Query() {
					r.Form[k] = append(r.Form[k], vs...)
				}
				for k, vs := range post {
					r.Form[k] = append(r.Form[k], vs...)
				}
			}
			return nil
		}()
		if err != nil {
			s.refuseText(w, r, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func cleanValues(values url.Values) (url.Values, error) {
	clean := url.Values{}
	for key, vs := range values {
		k, err := textcheck.Clean("name", key)
		if err != nil {
			return nil, err
		}
		for _, v := range vs {
			v, err := textcheck.Clean(k, v)
			if err != nil {
				return nil, err
			}
			clean.Add(k, v)
		}
	}
	return clean, nil
}

// refuseText answers a text refused at the door: 400, the field named by its label.
func (s *server) refuseText(w http.ResponseWriter, r *http.Request, err error) {
	lang := langOf(r)
	msg := tr(lang, "err.badquery")
	var te *textcheck.Error
	if errors.As(err, &te) {
		field := tr(lang, "f."+te.Field)
		if field == "f."+te.Field {
			field = te.Field
		}
		switch te.Reason {
		case textcheck.InvalidUTF8:
			msg = fmt.Sprintf(tr(lang, "err.text.utf8"), field)
		default:
			msg = fmt.Sprintf(tr(lang, "err.text.control"), field, fmt.Sprintf("%U", te.Rune))
		}
	}
	rq := &request{lang: lang, id: w.Header().Get("X-Request-ID")}
	if !strings.Contains(r.Header.Get("Accept"), "text/html") {
		http.Error(w, msg, http.StatusBadRequest)
		return
	}
	p := s.newPage(r, rq, msg)
	p.Data = errorData{Message: msg, Status: http.StatusBadRequest}
	s.render(w, http.StatusBadRequest, "error", p)
}
