package projections

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/dxledger/dxledger/projections/readmodel"
)

// Similarity is the Dice coefficient of two folded titles' character trigrams (with word
// boundaries), from 0 (nothing shared) to 1 (the same once folded).
func Similarity(a, b string) float64 {
	return dice(trigrams(readmodel.FoldTitle(a)), trigrams(readmodel.FoldTitle(b)))
}

func trigrams(s string) map[string]bool {
	out := map[string]bool{}
	for _, w := range strings.Fields(s) {
		r := []rune("  " + w + " ")
		for i := 0; i+3 <= len(r); i++ {
			out[string(r[i:i+3])] = true
		}
	}
	return out
}

// DuplicateCandidate is a pair of model registrations that look like the same model.
type DuplicateCandidate struct {
	ModelID       string  `json:"model_id"`
	Title         string  `json:"title"`
	UnitCode      string  `json:"unit_code"`
	Scope         string  `json:"scope"`
	OtherModelID  string  `json:"other_model_id"`
	OtherTitle    string  `json:"other_title"`
	OtherUnitCode string  `json:"other_unit_code"`
	OtherScope    string  `json:"other_scope"`
	Score         float64 `json:"score"`
}

// maxBucket bounds the registrations compared through one shared word.
const maxBucket = 500

// MinDuplicateScore is the similarity from which two registrations are proposed.
const MinDuplicateScore = 0.6

// DuplicateCandidates lists pairs of model registrations whose titles are alike (Similarity
// at least MinDuplicateScore), most alike first, leaving out pairs already linked by a
// same-as marking (directly or through the model they were both marked the same as).
// Registrations are compared only when their folded titles share a word, so the work grows
// with the number of alike pairs, not with the square of the registrations.
func (r *Reports) DuplicateCandidates(ctx context.Context) ([]DuplicateCandidate, error) {
	rows, err := r.pool.Query(ctx, `SELECT i.item_id, i.title, i.unit_code, i.scope, c.same_as
		FROM pj_items i JOIN pj_item_current c USING (item_id) WHERE i.kind = 'model' AND c.stage <> 'cancelled'
		ORDER BY i.item_id`)
	if err != nil {
		return nil, fmt.Errorf("duplicate candidates: %w", err)
	}
	type model struct {
		id, title, unit, scope, sameAs string
		grams                          map[string]bool
	}
	var models []model
	for rows.Next() {
		var m model
		if err := rows.Scan(&m.id, &m.title, &m.unit, &m.scope, &m.sameAs); err != nil {
			rows.Close()
			return nil, err
		}
		m.grams = trigrams(readmodel.FoldTitle(m.title))
		models = append(models, m)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("duplicate candidates: %w", err)
	}
	root := map[string]string{}
	for _, m := range models {
		root[m.id] = m.sameAs
	}
	rootOf := func(id string) string {
		for range len(models) + 1 {
			next := root[id]
			if next == "" {
				return id
			}
			id = next
		}
		return id
	}
	byWord := map[string][]int{}
	for i, m := range models {
		for _, w := range uniqueWords(readmodel.FoldTitle(m.title)) {
			byWord[w] = append(byWord[w], i)
		}
	}
	seen := map[[2]int]bool{}
	out := []DuplicateCandidate{}
	for _, idx := range byWord {
		if len(idx) > maxBucket {
			continue // a word most titles share ("số") says nothing; rarer shared words still pair them
		}
		for x := 0; x < len(idx); x++ {
			for y := x + 1; y < len(idx); y++ {
				i, j := idx[x], idx[y]
				if seen[[2]int{i, j}] {
					continue
				}
				seen[[2]int{i, j}] = true
				a, b := models[i], models[j]
				if rootOf(a.id) == rootOf(b.id) {
					continue
				}
				score := dice(a.grams, b.grams)
				if score < MinDuplicateScore {
					continue
				}
				out = append(out, DuplicateCandidate{ModelID: a.id, Title: a.title, UnitCode: a.unit, Scope: a.scope,
					OtherModelID: b.id, OtherTitle: b.title, OtherUnitCode: b.unit, OtherScope: b.scope,
					Score: float64(int(score*1000+0.5)) / 1000})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Score != out[j].Score {
			return out[i].Score > out[j].Score
		}
		if out[i].ModelID != out[j].ModelID {
			return out[i].ModelID < out[j].ModelID
		}
		return out[i].OtherModelID < out[j].OtherModelID
	})
	return out, nil
}

func dice(a, b map[string]bool) float64 {
	if len(a) == 0 || len(b) == 0 {
		return 0
	}
	shared := 0
	for g := range a {
		if b[g] {
			shared++
		}
	}
	return 2 * float64(shared) / float64(len(a)+len(b))
}

func uniqueWords(s string) []string {
	seen := map[string]bool{}
	var out []string
	for _, w := range strings.Fields(s) {
		if !seen[w] {
			seen[w] = true
			out = append(out, w)
		}
	}
	return out
}
