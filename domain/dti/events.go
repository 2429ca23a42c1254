package dti

import (
	"encoding/json"
	"errors"
	"fmt"
	"github.com/dxledger/dxledger/domain/internal/strictjson"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Source says whose figures a result holds.
type Source string

// The sources of a result.
const (
	// Published: the Ministry's published values, total and rank.
	Published Source = "published"
	// SelfAssessment: the province's own estimate by main index (and by component).
	SelfAssessment Source = "self_assessment"
)

// ResultRecorded is a province's DTI for a year under a framework: each main index's value,
// the total (as published, or as computed when the province assessed itself), the rank.
// Components hold a self-assessment's component values where a unit keeps them
// ("digital_government.c1" → "0.5"). A later result for the same province, year and source
// supersedes it.
type ResultRecorded struct {
	Province   string            `json:"province"`
	Year       int               `json:"year"`
	Framework  string            `json:"framework"`
	Source     Source            `json:"source"`
	Values     map[string]string `json:"values"`
	Components map[string]string `json:"components,omitempty"`
	Total      Fixed4            `json:"total"`
	Rank       int               `json:"rank,omitempty"`
	Of         int               `json:"of,omitempty"`
	RegionRank int               `json:"region_rank,omitempty"`
	RegionOf   int               `json:"region_of,omitempty"`
	Note       string            `json:"note,omitempty"`
	// PlaceScores are the published totals at some places of the ranking ("25" → the 25th
	// province's total), the targets a plan measures itself against.
	PlaceScores map[string]Fixed4 `json:"place_scores,omitempty"`
	// Illustrative marks values the demo made up where the seeds give none.
	Illustrative bool `json:"illustrative,omitempty"`
}

// GainLinked ties a project or model to the main index it should raise, with the expected
// gain, for the DTI of Year: the plan to improve the DTI.
type GainLinked struct {
	Province string `json:"province"`
	Year     int    `json:"year"`
	ItemID   string `json:"item_id"`
	Index    string `json:"index"`
	Gain     string `json:"gain"`
	Note     string `json:"note,omitempty"`
}

// Event is a fact of a province's DTI stream.
type Event interface{ ProvinceCode() string }

// ProvinceCode is the province the result is of.
func (e ResultRecorded) ProvinceCode() string { return e.Province }

// ProvinceCode is the province whose plan the link belongs to.
func (e GainLinked) ProvinceCode() string { return e.Province }

// StreamID is the DTI stream of a province.
func StreamID(province string) string { return "dti-" + province }

// Stored type names.
const (
	TypeResult = "dti.result_recorded.v1"
	TypeLink   = "dti.gain_linked.v1"
)

// ErrUnknownEventType: not a DTI event type.
var ErrUnknownEventType = errors.New("unknown DTI event type")

// Encode returns e's stored type and data.
func Encode(e Event) (string, []byte, error) {
	var typ string
	switch e.(type) {
	case ResultRecorded:
		typ = TypeResult
	case GainLinked:
		typ = TypeLink
	default:
		return "", nil, fmt.Errorf("encode %T: %w", e, ErrUnknownEventType)
	}
	data, err := json.Marshal(e)
	return typ, data, err
}

// Decode reads a stored DTI event.
func Decode(typ string, data []byte) (Event, error) {
	switch typ {
	case TypeResult:
		return strictjson.Event[Event, ResultRecorded](typ, data)
	case TypeLink:
		return strictjson.Event[Event, GainLinked](typ, data)
	}
	return nil, fmt.Errorf("decode %q: %w", typ, ErrUnknownEventType)
}

var provinceRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$`)

// RecordResult asks to record a result; the handler checks the framework and the province.
type RecordResult struct {
	ResultRecorded
	// TotalGiven: the published total was given (else it is computed).
	TotalGiven bool
}

// DecideResult checks a result against its framework and returns the event: every scored
// index's value in [0, 1]; the total computed when not given, and a given total within
// 0.0001 of the computed one (the published values are themselves rounded).
func DecideResult(f *Framework, c RecordResult) (ResultRecorded, error) {
	r := c.ResultRecorded
	var errs []error
	if !provinceRE.MatchString(r.Province) {
		errs = append(errs, &ValueError{Field: "province", Index: "province", Reason: "1 to 40 letters, digits, '_' or '-'"})
	}
	if r.Year < 2000 || r.Year > 2100 {
		errs = append(errs, &ValueError{Field: "year", Index: "year", Reason: "a year from 2000 to 2100"})
	} else if !f.InForce(r.Year) {
		errs = append(errs, &ValueError{Field: "year", Index: "year", Reason: fmt.Sprintf("%s scores the DTI of %d–%d", f.Code, f.FromYear, f.ToYear)})
	}
	switch r.Source {
	case Published, SelfAssessment:
	default:
		errs = append(errs, &ValueError{Field: "source", Index: "source", Reason: "must be published or self_assessment"})
	}
	if r.Rank < 0 || r.Of < 0 || r.Rank > r.Of || r.RegionRank < 0 || r.RegionRank > r.RegionOf {
		errs = append(errs, &ValueError{Field: "rank", Index: "rank", Reason: "a rank from 1 to the number ranked (of)"})
	}
	if len(r.Note) > 1000 || strings.ContainsRune(r.Note, 0) {
		errs = append(errs, &ValueError{Field: "note", Index: "note", Reason: "at most 1000 characters"})
	}
	for place, v := range r.PlaceScores {
		n, err := strconv.Atoi(place)
		if err != nil || n < 1 || (r.Of > 0 && n > r.Of) || v < 0 || v > 10000 {
			errs = append(errs, &ValueError{Field: "place_scores", Index: "place_scores", Reason: "a place from 1 to the number ranked, with a total from 0 to 1"})
			break
		}
	}
	keys := make([]string, 0, len(r.Components))
	for k := range r.Components {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v, ok := ParseValue(r.Components[k])
		if !ok || v.r.Sign() < 0 || len(k) > 80 {
			errs = append(errs, &ValueError{Field: "components", Index: "components", Reason: "component " + k + ": a number not below 0"})
		}
	}
	if err := errors.Join(errs...); err != nil {
		return ResultRecorded{}, err
	}
	s, err := Compute(f, r.Values)
	if err != nil {
		return ResultRecorded{}, err
	}
	if c.TotalGiven {
		d := r.Total - s.Total
		if d < -1 || d > 1 {
			return ResultRecorded{}, &ValueError{Field: "total", Index: "total", Reason: fmt.Sprintf("the values give %s under %s, not %s", s.Total, f.Code, r.Total)}
		}
	} else {
		r.Total = s.Total
	}
	r.Framework = f.Code
	return r, nil
}
