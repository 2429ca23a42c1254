package httpapi

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/dxledger/dxledger/domain/civil"
	"github.com/dxledger/dxledger/domain/dti"
	"github.com/dxledger/dxledger/domain/indicator"
	"github.com/dxledger/dxledger/domain/item"
	"github.com/dxledger/dxledger/domain/money"
	"github.com/dxledger/dxledger/domain/role"
	"github.com/dxledger/dxledger/domain/unit"
	"github.com/dxledger/dxledger/internal/identity"
	"github.com/dxledger/dxledger/projections"
	"github.com/dxledger/dxledger/workflows"
)

// A body's rules are declared once, in an `api` struct tag beside its JSON tag, and read twice:
// by decode, which refuses a body that breaks them (422 naming the field), and by the OpenAPI
// document (required, enum, minimum, maximum, minLength, maxLength, format, example). The rules
// are separated by semicolons:
//
//	required        the field must be there and not empty (422 "is required")
//	enum=NAME       one of the values of enums[NAME] (the domain's own lists), or enum=a|b|c
//	min=N, max=N    a whole number's range (N a number or a name in limits)
//	minlen=N, maxlen=N   a text's length in characters (likewise)
//	format=F        date (YYYY-MM-DD), date-time, ulid (the document only; the handler parses)
//	desc=TEXT       the field's description (the document only)
//	example=VALUE   an example (the document only); it must come last, so it may hold ";"
//
// Types of other packages that the API answers with are declared in foreign below, by JSON
// field name, in the same words.

// enums are the named lists of values a field may take, from the domain.
var enums = map[string][]string{
	"pillar":         strs([]item.Pillar{item.Government, item.Economy, item.Society}),
	"source":         strs(item.Sources),
	"rating":         strs(item.Ratings),
	"stage":          strs(item.Stages),
	"role":           strs(role.All),
	"unit_kind":      strs([]unit.Kind{unit.Province, unit.Department, unit.District, unit.Commune}),
	"item_kind":      {"model", "project"},
	"decision":       {"approve", "reject"},
	"means":          strs(item.AllMeans),
	"health_status":  {"ok"},
	"request_status": strs([]item.RequestStatus{item.RequestPending, item.RequestApproved, item.RequestRejected}),
	"measure":        strs([]indicator.Measure{indicator.Percentage, indicator.Count, indicator.VND, indicator.Ratio}),
	"direction":      strs([]indicator.Direction{indicator.Higher, indicator.Lower}),
	"method":         strs([]indicator.Method{indicator.Official, indicator.Estimate, indicator.Automated}),
	"indicator_status": strs([]indicator.Status{indicator.Met, indicator.Exceeded, indicator.Missed, indicator.OnTrack,
		indicator.AtRisk, indicator.OffTrack, indicator.NoData}),
	"dti_source": strs([]dti.Source{dti.Published, dti.SelfAssessment}),
}

// limits are the named numbers a rule may use (min=first_year), from the domain.
var limits = map[string]int64{
	"title": item.MaxTitle, "note": item.MaxNote,
	"first_year": int64(civil.Earliest.Year), "last_year": int64(civil.Latest.Year),
	"password_min": identity.MinPasswordLength, "password_max": 72,
	"dti_first_year": 2000, "dti_last_year": 2100, "token_days": 3650,
}

func strs[T ~string](vs []T) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
}

// foreign declares the rules of the answer types of other packages, by type and JSON name.
var foreign = map[reflect.Type]map[string]string{
	reflect.TypeFor[projections.ListItem](): {"kind": "enum=item_kind", "pillar": "enum=pillar", "stage": "enum=stage",
		"id": "format=ulid", "progress": "min=0;max=100"},
	reflect.TypeFor[identity.User]():                  {"role": "enum=role", "id": "format=ulid"},
	reflect.TypeFor[projections.DuplicateCandidate](): {"score": "min=0;max=1"},
	reflect.TypeFor[workflows.EventView]():            {"data": "desc=the event's fields, as the event type defines them"},
	reflect.TypeFor[identity.Token]():                 {"token_id": "desc=the token's id (tok_ and a ULID), never its secret"},
	reflect.TypeFor[identity.HistoryEvent]():          {"id": "format=ulid", "actor_role": "enum=role", "occurred_on": "format=date", "data": "desc=the change's fields, as its event type defines them"},
	reflect.TypeFor[indicator.Definition](): {"measure": "enum=measure", "direction": "enum=direction", "pillar": "enum=pillar",
		"unit_code": "desc=the responsible unit"},
	reflect.TypeFor[projections.IndicatorDefinition](): {"revisions": "min=0"},
	reflect.TypeFor[indicator.Row](): {"measure": "enum=measure", "direction": "enum=direction", "pillar": "enum=pillar",
		"status": "enum=indicator_status", "scope": "desc=province, or a unit's code"},
	reflect.TypeFor[indicator.Actual]():            {"method": "enum=method"},
	reflect.TypeFor[projections.IndicatorReport](): {"year": "min=dti_first_year;max=dti_last_year", "hard_to_reach": "desc=codes of the rows at risk, off track or missed"},
	reflect.TypeFor[dti.ResultRecorded]():          {"source": "enum=dti_source", "values": "desc=each main index's value, 0 to 1, as given"},
	reflect.TypeFor[dti.Framework](): {"from_year": "min=dti_first_year;max=dti_last_year", "to_year": "min=0;max=dti_last_year;desc=the last DTI year it scores, 0 while in force",
		"indices": "nullable;desc=the main indices and their points, null while the points table is not loaded (complete false)"},
	reflect.TypeFor[dti.GainLinked](): {"item_id": "format=ulid", "gain": "desc=the expected gain of the main index's value, a decimal above 0 and at most 1"},
	reflect.TypeFor[dti.Link]():       {"gain": "desc=the expected gain of the main index's value, a decimal"},
}

// rule is one field's declaration.
type rule struct {
	required         bool
	enum             []string
	min, max         *int64
	minLen, maxLen   int
	format, desc     string
	example          string
	hasExample, null bool
}

func parseRule(tag string) rule {
	var r rule
	for tag != "" {
		part := tag
		if strings.HasPrefix(part, "example=") {
			r.example, r.hasExample, tag = strings.TrimPrefix(part, "example="), true, ""
			break
		}
		part, tag, _ = strings.Cut(tag, ";")
		key, val, _ := strings.Cut(part, "=")
		num := func() *int64 {
			if n, ok := limits[val]; ok {
				return &n
			}
			n, err := strconv.ParseInt(val, 10, 64)
			if err != nil {
				panic("httpapi: api tag " + part + ": not a whole number nor a name in limits")
			}
			return &n
		}
		switch key {
		case "required":
			r.required = true
		case "enum":
			if vs, ok := enums[val]; ok {
				r.enum = vs
			} else if strings.Contains(val, "|") {
				r.enum = strings.Split(val, "|") // the values themselves
			} else {
				panic("httpapi: api tag enum=" + val + ": no such list in enums (write a|b for the values themselves)")
			}
		case "min":
			r.min = num()
		case "max":
			r.max = num()
		case "minlen":
			r.minLen = int(*num())
		case "maxlen":
			r.maxLen = int(*num())
		case "format":
			r.format = val
		case "desc":
			r.desc = val
		case "nullable":
			r.null = true
		default:
			panic("httpapi: api tag: unknown rule " + part)
		}
	}
	return r
}

// jsonName is a field's JSON name and whether it is left out when empty ("" for none).
func jsonName(f reflect.StructField) (string, bool) {
	if !f.IsExported() {
		return "", false
	}
	tag := f.Tag.Get("json")
	name, opts, _ := strings.Cut(tag, ",")
	if name == "-" {
		return "", false
	}
	if name == "" {
		name = f.Name
	}
	return name, strings.Contains(opts, "omitempty") || strings.Contains(opts, "omitzero")
}

func ruleOf(t reflect.Type, f reflect.StructField, name string) rule {
	if tag, ok := f.Tag.Lookup("api"); ok {
		return parseRule(tag)
	}
	return parseRule(foreign[t][name])
}

// check applies the declared rules of a decoded request body: every field that breaks one, in
// the order of the type's fields.
func check(v any) []FieldError {
	rv := reflect.Indirect(reflect.ValueOf(v))
	if rv.Kind() != reflect.Struct {
		return nil
	}
	var bad []FieldError
	t := rv.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		name, _ := jsonName(f)
		if name == "" {
			continue
		}
		r := ruleOf(t, f, name)
		fv := rv.Field(i)
		set := !fv.IsZero()
		if fv.Kind() == reflect.Pointer && set {
			fv = fv.Elem() // a pointer is there, even when it points to zero
		}
		if !set {
			if r.required {
				bad = append(bad, FieldError{Field: name, Message: "is required"})
			}
			continue
		}
		switch fv.Kind() {
		case reflect.String:
			s := fv.String()
			if r.enum != nil && !slices.Contains(r.enum, s) {
				bad = append(bad, FieldError{Field: name, Message: "must be one of " + strings.Join(r.enum, ", ")})
			}
			if n := len([]rune(s)); (r.minLen > 0 && n < r.minLen) || (r.maxLen > 0 && n > r.maxLen) {
				bad = append(bad, FieldError{Field: name, Message: lengthRule(r)})
			}
		case reflect.Int, reflect.Int64:
			n := fv.Int()
			if (r.min != nil && n < *r.min) || (r.max != nil && n > *r.max) {
				bad = append(bad, FieldError{Field: name, Message: rangeRule(r)})
			}
		}
	}
	return bad
}

func lengthRule(r rule) string {
	switch {
	case r.minLen > 0 && r.maxLen > 0:
		return fmt.Sprintf("must have %d to %d characters", r.minLen, r.maxLen)
	case r.minLen > 0:
		return fmt.Sprintf("must have at least %d characters", r.minLen)
	}
	return fmt.Sprintf("must have at most %d characters", r.maxLen)
}

func rangeRule(r rule) string {
	switch {
	case r.min != nil && r.max != nil:
		return fmt.Sprintf("must be a whole number from %d to %d", *r.min, *r.max)
	case r.min != nil:
		return fmt.Sprintf("must be at least %d", *r.min)
	}
	return fmt.Sprintf("must be at most %d", *r.max)
}

var (
	vndType  = reflect.TypeFor[money.VND]()
	dateType = reflect.TypeFor[civil.Date]()
	timeType = reflect.TypeFor[time.Time]()
	rawType  = reflect.TypeFor[json.RawMessage]()
	// Numbers that write themselves as JSON numbers though held as text or fixed point.
	numberType = reflect.TypeFor[indicator.Number]()
	fixed4Type = reflect.TypeFor[dti.Fixed4]()
)

// schemas builds the document's JSON Schemas from Go types: named structs become components
// (#/components/schemas/Name), so each is described once.
type schemas struct {
	components map[string]any
	names      map[reflect.Type]string
}

func newSchemas() *schemas {
	return &schemas{components: map[string]any{}, names: map[reflect.Type]string{}}
}

// schemaName is a type's component name: its Go name, capitalised.
func schemaName(t reflect.Type) string {
	n := t.Name()
	if i := strings.IndexByte(n, '['); i >= 0 {
		// list[…/httpapi.unitView] is UnitViewList
		arg := strings.TrimSuffix(n[i+1:], "]")
		arg = arg[strings.LastIndexByte(arg, '.')+1:]
		n = arg + strings.ToUpper(n[:1]) + n[1:i]
	}
	r := []rune(n)
	r[0] = unicode.ToUpper(r[0])
	return string(r)
}

// of is the schema of a value of type t; request is true for a request body (pointers mean
// "may be left out", not null).
func (s *schemas) of(t reflect.Type, request bool) map[string]any {
	switch {
	case t == vndType:
		return map[string]any{"type": "integer", "format": "int64", "minimum": 0, "maximum": int64(money.Ceiling), "description": "whole đồng"}
	case t == dateType:
		return map[string]any{"type": []string{"string", "null"}, "format": "date"}
	case t == timeType:
		return map[string]any{"type": "string", "format": "date-time"}
	case t == rawType:
		return map[string]any{}
	case t == numberType:
		return map[string]any{"type": []string{"number", "null"}, "description": "a decimal (null when not set)"}
	case t == fixed4Type:
		return map[string]any{"type": "number", "description": "four decimals"}
	}
	switch t.Kind() {
	case reflect.Pointer:
		inner := s.of(t.Elem(), request)
		if request {
			return inner
		}
		return nullable(inner)
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int32:
		return map[string]any{"type": "integer"}
	case reflect.Int64:
		return map[string]any{"type": "integer", "format": "int64"}
	case reflect.Float64, reflect.Float32:
		return map[string]any{"type": "number"}
	case reflect.Slice:
		return map[string]any{"type": "array", "items": s.of(t.Elem(), request)}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": s.of(t.Elem(), request)}
	case reflect.Interface:
		return map[string]any{}
	case reflect.Struct:
		if t.Name() == "" {
			return s.object(t, request)
		}
		name, ok := s.names[t]
		if !ok {
			name = schemaName(t)
			s.names[t] = name
			s.components[name] = nil // placeholder: a type that refers to itself
			s.components[name] = s.object(t, request)
		}
		return map[string]any{"$ref": "#/components/schemas/" + name}
	}
	panic("httpapi: no schema for " + t.String())
}

func nullable(sch map[string]any) map[string]any {
	if _, ok := sch["$ref"]; ok {
		return map[string]any{"oneOf": []any{sch, map[string]any{"type": "null"}}}
	}
	out := map[string]any{}
	for k, v := range sch {
		out[k] = v
	}
	switch ty := sch["type"].(type) {
	case string:
		out["type"] = []string{ty, "null"}
	case nil:
	default:
		out["type"] = ty
	}
	return out
}

// object describes a struct: its fields by JSON name, with their declared rules. In an answer
// every field not left out when empty is required (the client can count on it).
func (s *schemas) object(t reflect.Type, request bool) map[string]any {
	props := map[string]any{}
	var required []string
	s.fields(t, request, props, &required)
	out := map[string]any{"type": "object", "properties": props}
	if request {
		out["additionalProperties"] = false
	}
	if len(required) > 0 {
		slices.Sort(required)
		out["required"] = required
	}
	return out
}

func (s *schemas) fields(t reflect.Type, request bool, props map[string]any, required *[]string) {
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Anonymous && f.Tag.Get("json") == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			s.fields(ft, request, props, required)
			continue
		}
		name, omit := jsonName(f)
		if name == "" {
			continue
		}
		r := ruleOf(t, f, name)
		sch := s.of(f.Type, request)
		if _, ref := sch["$ref"]; ref && (r.desc != "" || r.null) {
			sch = map[string]any{"allOf": []any{sch}}
		}
		if sch["type"] == "string" && r.format == "" && request &&
			(name == "date" || strings.HasSuffix(name, "_date") || strings.HasSuffix(name, "_on")) {
			r.format = "date"
		}
		if r.format == "ulid" {
			sch["pattern"] = "^[0-9A-HJKMNP-TV-Z]{26}$"
			sch["description"] = "a ULID"
		} else if r.format != "" {
			sch["format"] = r.format
		}
		if r.enum != nil {
			sch["enum"] = r.enum
		}
		if r.min != nil {
			sch["minimum"] = *r.min
		}
		if r.max != nil {
			sch["maximum"] = *r.max
		}
		if r.minLen > 0 {
			sch["minLength"] = r.minLen
		} else if r.required && sch["type"] == "string" {
			sch["minLength"] = 1
		}
		if r.maxLen > 0 {
			sch["maxLength"] = r.maxLen
		}
		if r.desc != "" {
			sch["description"] = r.desc
		}
		if r.null {
			sch = nullable(sch)
		}
		if r.hasExample {
			var ex any = r.example
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if k := ft.Kind(); k == reflect.Int || k == reflect.Int64 {
				ex, _ = strconv.ParseInt(r.example, 10, 64)
			}
			sch["examples"] = []any{ex}
		}
		props[name] = sch
		if (request && r.required) || (!request && !omit) {
			*required = append(*required, name)
		}
	}
}
