package definition

import (
	"errors"
	"fmt"
	"maps"
	"slices"
)

// Registry holds every version of the workflow the engine knows, so that a stream keeps the
// rules of the version it started under after a newer one is loaded. It is read-only, and
// safe for concurrent use.
type Registry struct {
	byVersion map[int]*Definition
	current   *Definition
}

// NewRegistry validates defs and keeps them by version. It refuses an empty list and two
// definitions with the same version that hold different rules (a changed definition must
// carry a new version); the same definition given twice is kept once.
func NewRegistry(defs ...*Definition) (*Registry, error) {
	if len(defs) == 0 {
		return nil, errors.New("workflow registry: no definitions")
	}
	r := &Registry{byVersion: map[int]*Definition{}}
	var errs []error
	for i, d := range defs {
		if d == nil {
			errs = append(errs, fmt.Errorf("workflow registry: definition %d is nil", i))
			continue
		}
		if err := d.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("workflow registry: %w", err))
			continue
		}
		prev, ok := r.byVersion[d.Version]
		switch {
		case !ok:
			r.byVersion[d.Version] = d.clone()
		case !sameRules(prev, d):
			errs = append(errs, fmt.Errorf("workflow registry: version %d is given twice with different rules (%s %q and %s %q): give the changed definition a new version",
				d.Version, prev.Origin, prev.Name, d.Origin, d.Name))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	r.current = r.byVersion[slices.Max(r.Versions())]
	return r, nil
}

// Get returns the definition of version, the one a stream recorded when it started.
func (r *Registry) Get(version int) (*Definition, bool) {
	d, ok := r.byVersion[version]
	return d, ok
}

// Current returns the definition with the highest version, under which new streams start.
func (r *Registry) Current() *Definition { return r.current }

// Versions lists the versions held, lowest first.
func (r *Registry) Versions() []int {
	return slices.Sorted(maps.Keys(r.byVersion))
}
