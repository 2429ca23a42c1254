// Package dtiframe reads DTI frameworks (domain/dti) from YAML: the ones embedded in the
// binary (922/QĐ-BTTTT, 405/QĐ-BKHCN) and, when configured, a folder of files that add
// frameworks or replace an embedded one with the same code — as the workflow definition is
// replaced by configuration.
package dtiframe

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"github.com/dxledger/dxledger/domain/dti"
	"go.yaml.in/yaml/v3"
)

//go:embed *.yaml
var embedded embed.FS

// Parse reads one framework from YAML; unknown keys are refused.
func Parse(name string, data []byte) (*dti.Framework, error) {
	var f struct {
		Code     string `yaml:"code"`
		Title    string `yaml:"title"`
		Issued   string `yaml:"issued"`
		FromYear int    `yaml:"from_year"`
		ToYear   int    `yaml:"to_year"`
		Divisor  int    `yaml:"divisor"`
		Complete bool   `yaml:"complete"`
		Note     string `yaml:"note"`
		Indices  []struct {
			Code   string `yaml:"code"`
			NameVI string `yaml:"name_vi"`
			NameEN string `yaml:"name_en"`
			Points int    `yaml:"points"`
		} `yaml:"indices"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("DTI framework %s: %w", name, err)
	}
	out := &dti.Framework{Code: f.Code, Title: f.Title, Issued: f.Issued, FromYear: f.FromYear, ToYear: f.ToYear,
		Divisor: f.Divisor, Complete: f.Complete, Note: f.Note}
	for _, ix := range f.Indices {
		out.Indices = append(out.Indices, dti.Index{Code: ix.Code, NameVI: ix.NameVI, NameEN: ix.NameEN, Points: ix.Points})
	}
	if err := out.Validate(); err != nil {
		return nil, fmt.Errorf("DTI framework %s: %w", name, err)
	}
	return out, nil
}

// Embedded returns the frameworks embedded in the binary, oldest first.
func Embedded() []*dti.Framework {
	fs, err := read(embedded, ".")
	if err != nil {
		panic("workflows/dtiframe: an embedded framework is broken: " + err.Error())
	}
	return fs
}

func read(fsys fs.FS, dir string) ([]*dti.Framework, error) {
	names, err := fs.Glob(fsys, filepath.ToSlash(filepath.Join(dir, "*.yaml")))
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	var out []*dti.Framework
	var errs []error
	for _, n := range names {
		data, err := fs.ReadFile(fsys, n)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		f, err := Parse(n, data)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, f)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].FromYear < out[j].FromYear })
	return out, errors.Join(errs...)
}

// Load returns a registry of the embedded frameworks and, when dir is not empty, every
// *.yaml file in dir (a file whose code is an embedded framework's replaces it).
func Load(dir string) (*dti.Registry, error) {
	all := Embedded()
	if dir != "" {
		more, err := read(os.DirFS(dir), ".")
		if err != nil {
			return nil, err
		}
		if len(more) == 0 {
			return nil, fmt.Errorf("DTI frameworks: no *.yaml file in %s", dir)
		}
		all = append(all, more...)
	}
	return dti.NewRegistry(all...)
}

// Default is the registry of the embedded frameworks.
func Default() *dti.Registry {
	r, err := dti.NewRegistry(Embedded()...)
	if err != nil {
		panic("workflows/dtiframe: " + err.Error())
	}
	return r
}
