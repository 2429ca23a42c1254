// Package faulttest lists every error the command handlers can return, with the answer the
// adapters owe each, for httpapi's and webui's table tests. Cases also reads the packages'
// source and fails the test when one of them declares an error that has no row here, so a
// new error cannot go unanswered: the row says what the API and the pages must do with it.
package faulttest

import (
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/dxledger/dxledger/domain/civil"
	"github.com/dxledger/dxledger/domain/dti"
	"github.com/dxledger/dxledger/domain/indicator"
	"github.com/dxledger/dxledger/domain/item"
	"github.com/dxledger/dxledger/domain/money"
	"github.com/dxledger/dxledger/domain/role"
	"github.com/dxledger/dxledger/domain/unit"
	"github.com/dxledger/dxledger/eventstore"
	"github.com/dxledger/dxledger/internal/identity"
	"github.com/dxledger/dxledger/workflows"
	"github.com/dxledger/dxledger/workflows/definition"
)

// Case is one error and the answer it is owed.
type Case struct {
	// Name is the declared sentinel or type it stands for, as package.Name; a few rows show
	// another form of the same error and say so after a space ("unit.FieldError joined").
	Name string
	Err  error
	// Status is the API's status, and the error page's when the pages show one.
	Status int
	// Form: the pages show the form again, with 422, and the message on it.
	Form bool
	// Fields are the fields the error refuses, in the API's problem and beside the form's
	// fields; none means a message for the whole form or page.
	Fields []string
}

// Packages are the packages, relative to the module, whose errors the handlers return.
var Packages = []string{"domain/item", "domain/unit", "workflows", "workflows/definition", "internal/identity", "domain/indicator", "domain/dti"}

var day = civil.Date{Year: 2025, Month: 3, Day: 1}

// cases is the table. Errors reach the adapters wrapped, as the handlers return them.
func cases() []Case {
	const (
		forbidden = http.StatusForbidden
		notFound  = http.StatusNotFound
		conflict  = http.StatusConflict
		rule      = http.StatusUnprocessableEntity
		internal  = http.StatusInternalServerError
		unauth    = http.StatusUnauthorized
	)
	wrap := func(err error) error { return fmt.Errorf("project 01JTEST: %w", err) }
	return []Case{
		{Name: "item.ErrNotFound", Err: wrap(item.ErrNotFound), Status: notFound},
		{Name: "item.ErrAlreadyExists", Err: wrap(item.ErrAlreadyExists), Status: conflict, Form: true},
		{Name: "item.ErrRequestNotFound", Err: wrap(item.ErrRequestNotFound), Status: notFound},
		{Name: "item.ErrAlreadyDecided", Err: wrap(item.ErrAlreadyDecided), Status: conflict, Form: true},
		{Name: "item.ErrNeedsEndorsement", Err: wrap(item.ErrNeedsEndorsement), Status: rule, Form: true},
		{Name: "item.ErrSameOfficer", Err: wrap(item.ErrSameOfficer), Status: rule, Form: true},
		{Name: "item.ErrNotAModel", Err: wrap(item.ErrNotAModel), Status: rule, Form: true},
		{Name: "item.ErrSecondApproval", Err: wrap(item.ErrSecondApproval), Status: rule, Form: true},
		{Name: "item.ErrTooEarly", Err: wrap(item.ErrTooEarly), Status: rule, Form: true},
		{Name: "item.ErrTooMuch", Err: wrap(item.ErrTooMuch), Status: rule, Form: true},
		{Name: "item.ErrOwnFunding", Err: wrap(item.ErrOwnFunding), Status: conflict, Form: true},
		{Name: "item.OverApprovalError", Err: wrap(&item.OverApprovalError{RequestID: "r1", Requested: 1_500_000_000, Approved: 2_000_000_000}),
			Status: rule, Form: true, Fields: []string{"approved_vnd"}},
		{Name: "item.OverDisbursementError", Err: wrap(&item.OverDisbursementError{Source: "oda", Approved: 900, Disbursed: 400, Amount: 600}),
			Status: rule, Form: true, Fields: []string{"amount_vnd"}},
		{Name: "item.DateError", Err: wrap(mustErr(item.Decide(item.State{ID: "p", Kind: item.Project, ProposedOn: day},
			&item.ReportProgress{Meta: item.Meta{Today: day.AddDays(5), On: day.AddDays(-1)}, Percent: 10}))),
			Status: rule, Form: true, Fields: []string{"occurred_on"}},
		{Name: "item.Invalid", Err: wrap(mustErr(item.Decide(item.State{}, &item.Propose{ID: "p", Kind: item.Project,
			Title: " ", UnitCode: "SO-YT", Pillar: "space", Sector: "health", EstimatedCost: money.Ceiling + 1,
			StartDate: day, EndDate: day.AddDays(-1), WorkflowVersion: 1, Stage: "proposed",
			Meta: item.Meta{Today: day}}))),
			Status: rule, Form: true, Fields: []string{"title", "pillar", "estimated_cost_vnd", "end_date"}},
		{Name: "item.FieldError", Err: &item.FieldError{Field: "note", Code: "item.too_long", Message: "must be at most 4000 characters", Args: []any{4000}},
			Status: rule, Form: true, Fields: []string{"note"}},
		{Name: "item.Invalid of workflows", Err: item.Invalid{{Field: "sector", Code: "workflows.unknown_sector", Message: "unknown sector code"}},
			Status: rule, Form: true, Fields: []string{"sector"}},

		{Name: "unit.ErrInvalid", Err: fmt.Errorf("command %T: %w", struct{}{}, unit.ErrInvalid), Status: rule, Form: true},
		{Name: "unit.ErrAlreadyRegistered", Err: unit.ErrAlreadyRegistered, Status: conflict, Form: true},
		{Name: "unit.ErrNotRegistered", Err: unit.ErrNotRegistered, Status: notFound},
		{Name: "unit.ErrInvalidParent", Err: unit.ErrInvalidParent, Status: rule, Form: true},
		{Name: "unit.ErrAlreadyMerged", Err: unit.ErrAlreadyMerged, Status: rule, Form: true},
		{Name: "unit.ErrDissolved", Err: unit.ErrDissolved, Status: rule, Form: true},
		{Name: "unit.ErrBeforeRegistration", Err: unit.ErrBeforeRegistration, Status: rule, Form: true},
		{Name: "unit.ErrCycle", Err: unit.ErrCycle, Status: rule, Form: true},
		{Name: "unit.ErrUnknownEventType", Err: fmt.Errorf("decode %q: %w", "unit.x.v1", unit.ErrUnknownEventType), Status: internal},
		{Name: "unit.FieldError", Err: &unit.FieldError{Field: "effective_date", Code: "unit.date", Reason: "want a real day",
			Args: []any{civil.Earliest, civil.Latest}}, Status: rule, Form: true, Fields: []string{"effective_date"}},
		{Name: "unit.FieldError joined", Err: mustErr(unit.Decide(unit.State{}, unit.Register{Code: "dt", Kind: "town", On: day})),
			Status: rule, Form: true, Fields: []string{"code", "name", "kind"}},
		{Name: "unit.AlreadyRegisteredError", Err: &unit.AlreadyRegisteredError{Code: "DT", On: day}, Status: conflict, Form: true},
		{Name: "unit.NotRegisteredError", Err: &unit.NotRegisteredError{Code: "XA-KHONG"}, Status: notFound},
		{Name: "unit.ParentError", Err: &unit.ParentError{Code: "XA-A", Kind: unit.Commune, ParentCode: "SO-YT", ParentKind: unit.Department},
			Status: rule, Form: true},
		{Name: "unit.AlreadyMergedError", Err: &unit.AlreadyMergedError{Code: "SO-KHDT", Into: "SO-TC", On: day}, Status: rule, Form: true},
		{Name: "unit.DissolvedError", Err: &unit.DissolvedError{Code: "H-A", On: day}, Status: rule, Form: true},
		{Name: "unit.BeforeRegistrationError", Err: &unit.BeforeRegistrationError{Code: "H-A", Registered: day, On: day.AddDays(-3)},
			Status: rule, Form: true},
		{Name: "unit.CycleError", Err: &unit.CycleError{Chain: []string{"C", "A", "B", "C"}}, Status: rule, Form: true},
		{Name: "unit.FieldError of workflows", Err: &unit.FieldError{Field: "unit_code", Code: "workflows.unit_ended",
			Reason: "unit H-A no longer exists from 2025-07-01 (successor: H-B)", Args: []any{"H-A", day, "H-B"}},
			Status: rule, Form: true, Fields: []string{"unit_code"}},

		{Name: "workflows.FieldRefusal", Err: &workflows.FieldRefusal{Field: "into_code", Err: &unit.NotRegisteredError{Code: "XA-KHONG"}},
			Status: rule, Form: true, Fields: []string{"into_code"}},
		{Name: "workflows.FieldRefusal merged", Err: &workflows.FieldRefusal{Field: "parts[1].into_code", Err: &unit.AlreadyMergedError{Code: "SO-KHDT", Into: "SO-TC", On: day}},
			Status: rule, Form: true, Fields: []string{"parts[1].into_code"}},
		{Name: "workflows.ErrForbidden", Err: wrap(workflows.ErrForbidden), Status: forbidden},
		{Name: "workflows.ErrNotFound", Err: wrap(workflows.ErrNotFound), Status: notFound},
		{Name: "workflows.ErrSameAsLoop", Err: workflows.ErrSameAsLoop, Status: conflict, Form: true},
		{Name: "workflows.ErrIdempotencyMismatch", Err: workflows.ErrIdempotencyMismatch, Status: rule, Form: true},
		{Name: "workflows.ForbiddenError", Err: &workflows.ForbiddenError{Role: role.FocalPoint, Action: "approve_funding", Reason: "the workflow definition does not let this role take this action"},
			Status: forbidden},
		{Name: "workflows.ConflictError", Err: workflows.Conflict(&workflows.ConflictError{Stream: "project-01JTEST", Expected: 3, Actual: 4}),
			Status: conflict, Form: true},
		{Name: "workflows.conflictError", Err: workflows.Conflict(fmt.Errorf("append to x: %w", errors.Join(eventstore.ErrConflict, errors.New("head unread")))),
			Status: conflict, Form: true},

		{Name: "definition.UnknownActionError", Err: &definition.UnknownActionError{Action: "evaluate"}, Status: conflict, Form: true},
		{Name: "definition.RoleError", Err: &definition.RoleError{Action: "approve_funding", Role: role.FocalPoint, Allowed: []role.Role{role.FinanceOfficer}},
			Status: forbidden},
		{Name: "definition.TransitionError", Err: &definition.TransitionError{Action: "implemented", From: "proposed", AllowedFrom: []string{"funded"}},
			Status: conflict, Form: true},
		{Name: "definition.Problem", Err: &definition.Problem{Origin: "v2.yaml", Line: 3, Msg: "unknown stage"}, Status: internal},

		{Name: "identity.ErrUnauthenticated", Err: identity.ErrUnauthenticated, Status: unauth},
		{Name: "identity.ErrBadCredentials", Err: fmt.Errorf("sign in: %w", identity.ErrBadCredentials), Status: unauth},
		{Name: "identity.ErrSessionExpired", Err: identity.ErrSessionExpired, Status: unauth},
		{Name: "identity.ErrWeakPassword", Err: fmt.Errorf("create user: %w", identity.ErrWeakPassword), Status: rule, Form: true, Fields: []string{"password"}},
		{Name: "identity.ErrLongPassword", Err: identity.ErrLongPassword, Status: rule, Form: true, Fields: []string{"password"}},
		{Name: "identity.ErrNoSuchUser", Err: identity.ErrNoSuchUser, Status: notFound},
		{Name: "identity.ErrNoSuchToken", Err: identity.ErrNoSuchToken, Status: notFound},
		{Name: "identity.ErrSuspended", Err: identity.ErrSuspended, Status: unauth},
		{Name: "identity.ErrSelfSuspend", Err: identity.ErrSelfSuspend, Status: rule, Form: true},
		{Name: "identity.ErrTokenTTL", Err: identity.ErrTokenTTL, Status: rule, Form: true, Fields: []string{"expires_in_days"}},
		{Name: "identity.ErrSeparationOfDuties", Err: identity.ErrSeparationOfDuties, Status: forbidden},
		{Name: "identity.SeparationError", Err: fmt.Errorf("approve: %w", &identity.SeparationError{Why: "the role was granted"}), Status: forbidden},
		{Name: "identity.ErrWrongPassword", Err: identity.ErrWrongPassword, Status: rule, Form: true, Fields: []string{"current_password"}},
		{Name: "identity.ErrSetupLink", Err: identity.ErrSetupLink, Status: notFound},
		{Name: "identity.ErrIdempotencyMismatch", Err: identity.ErrIdempotencyMismatch, Status: rule, Form: true},

		{Name: "errors.New", Err: errors.New("connection refused"), Status: internal},
		// Indicators and the DTI (issue 15).
		{Name: "indicator.ErrNotDefined", Err: wrap(indicator.ErrNotDefined), Status: notFound},
		{Name: "indicator.ErrAlreadyDefined", Err: wrap(indicator.ErrAlreadyDefined), Status: conflict, Form: true},
		{Name: "indicator.ErrUnknownEventType", Err: fmt.Errorf("decode %q: %w", "indicator.x.v1", indicator.ErrUnknownEventType), Status: internal},
		{Name: "indicator.FieldError", Err: mustErr(indicator.Decide(indicator.State{Defined: true, Definition: indicator.Definition{Measure: indicator.Percentage}}, "X",
			indicator.ReportActual{Scope: indicator.Province, Year: 1999, Value: "1", Method: "guess", Estimator: "a"})),
			Status: rule, Form: true, Fields: []string{"year", "method"}},
		{Name: "dti.ErrUnknownFramework", Err: dti.ErrUnknownFramework, Status: rule, Form: true, Fields: []string{"framework"}},
		{Name: "dti.ErrIncomplete", Err: dti.ErrIncomplete, Status: rule, Form: true, Fields: []string{"framework"}},
		{Name: "dti.ValueError", Err: &dti.ValueError{Index: "awareness", Reason: "must be from 0 to 1"}, Status: rule, Form: true, Fields: []string{"values.awareness"}},
		{Name: "dti.ErrUnknownEventType", Err: fmt.Errorf("decode %q: %w", "dti.x.v1", dti.ErrUnknownEventType), Status: internal},
	}
}

func mustErr[T any](_ T, err error) error {
	if err == nil {
		panic("faulttest: the command was accepted")
	}
	return err
}

// Cases returns the table, after checking that every error Packages declare has a row and
// that every row stands for a declared error.
func Cases(t testing.TB) []Case {
	t.Helper()
	cs := cases()
	var declared []string
	for _, dir := range Packages {
		declared = append(declared, Declared(t, filepath.Join(Root(t), dir))...)
	}
	CheckCovered(t, cs, declared)
	return cs
}

// CheckCovered fails t for a declared error without a row, and for a row whose name no
// package declares (the standard library's errors.New stands for every error without a kind).
func CheckCovered(t testing.TB, cs []Case, declared []string) {
	t.Helper()
	rows := map[string]bool{"errors.New": true}
	for _, c := range cs {
		name, _, _ := strings.Cut(c.Name, " ")
		rows[name] = true
	}
	for _, d := range declared {
		if !rows[d] {
			t.Errorf("%s is an error the handlers can return, but has no row in the table: give it a kind and a row", d)
		}
		delete(rows, d)
	}
	delete(rows, "errors.New")
	for name := range rows {
		t.Errorf("row %s: no such error is declared", name)
	}
}

// Root is the module's directory.
func Root(t testing.TB) string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("faulttest: no caller")
	}
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// Declared returns the errors the package in dir declares, as package.Name: its
// package-level variables named Err… or err…, and its types with an Error method or an
// alias named …Error.
func Declared(t testing.TB, dir string) []string {
	t.Helper()
	pkg, files := parse(t, dir)
	var out []string
	methods := map[string]bool{}
	for _, f := range files {
		for _, d := range f.Decls {
			if fn, ok := d.(*ast.FuncDecl); ok && fn.Name.Name == "Error" && fn.Recv != nil && len(fn.Recv.List) == 1 {
				typ := fn.Recv.List[0].Type
				if star, ok := typ.(*ast.StarExpr); ok {
					typ = star.X
				}
				if id, ok := typ.(*ast.Ident); ok {
					methods[id.Name] = true
				}
			}
		}
	}
	for _, f := range files {
		for _, d := range f.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok {
				continue
			}
			for _, spec := range gd.Specs {
				switch s := spec.(type) {
				case *ast.ValueSpec:
					for _, n := range s.Names {
						if gd.Tok == token.VAR && (strings.HasPrefix(n.Name, "Err") || strings.HasPrefix(n.Name, "err")) {
							out = append(out, pkg+"."+n.Name)
						}
					}
				case *ast.TypeSpec:
					if methods[s.Name.Name] || (s.Assign.IsValid() && strings.HasSuffix(s.Name.Name, "Error")) {
						out = append(out, pkg+"."+s.Name.Name)
					}
				}
			}
		}
	}
	sort.Strings(out)
	return out
}

var codeLit = regexp.MustCompile(`^(item|unit|workflows|definition|identity|httpapi|indicator|dti)\.[a-z0-9_]+$`)

// Codes returns the message codes Packages use: every string literal of the form
// package.rule in their source.
func Codes(t testing.TB) []string {
	t.Helper()
	var out []string
	for _, dir := range Packages {
		_, files := parse(t, filepath.Join(Root(t), dir))
		for _, f := range files {
			ast.Inspect(f, func(n ast.Node) bool {
				if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
					if s, err := strconv.Unquote(lit.Value); err == nil && codeLit.MatchString(s) && !slices.Contains(out, s) {
						out = append(out, s)
					}
				}
				return true
			})
		}
	}
	sort.Strings(out)
	return out
}

func parse(t testing.TB, dir string) (string, []*ast.File) {
	t.Helper()
	matches, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil || len(matches) == 0 {
		t.Fatalf("faulttest: no Go files in %s: %v", dir, err)
	}
	var (
		pkg   string
		files []*ast.File
		fset  = token.NewFileSet()
	)
	for _, m := range matches {
		if strings.HasSuffix(m, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, m, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatalf("faulttest: %v", err)
		}
		pkg = f.Name.Name
		files = append(files, f)
	}
	return pkg, files
}
