package unit

import "github.com/dxledger/dxledger/domain/civil"

// DistrictsAbolished is the day the district level ended (GLOSSARY.md, "The 2025
// reorganisation"): from it no district is registered and no district budget is asked for.
var DistrictsAbolished = civil.Date{Year: 2025, Month: 7, Day: 1}

// Life is when a kind of unit, or a funding source, exists: from From (zero: always before)
// until the day before Until (zero: still).
type Life struct {
	From, Until civil.Date
}

// On reports whether the life covers day d.
func (l Life) On(d civil.Date) bool {
	return (l.From.IsZero() || !d.Before(l.From)) && (l.Until.IsZero() || d.Before(l.Until))
}

// KindLives are the lives of the kinds of unit that have ended or begun; a kind not named
// lives always.
var KindLives = map[Kind]Life{
	District: {Until: DistrictsAbolished},
}

// KindLife is the life of kind k.
func KindLife(k Kind) Life { return KindLives[k] }

// SourceLives are the lives of the funding sources (API.md, "Codes") that have ended or
// begun; a source not named lives always. The district budget ended with the districts.
var SourceLives = map[string]Life{
	"district_budget": {Until: DistrictsAbolished},
}

// SourceLife is the life of the funding source with the given code.
func SourceLife(source string) Life { return SourceLives[source] }
