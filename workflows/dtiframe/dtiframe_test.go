package dtiframe

import (
	"os"
	"path/filepath"
	"testing"
)

func TestEmbedded922ScoresDaNang(t *testing.T) {
	t.Parallel()
	r := Default()
	f, ok := r.ForYear(2022)
	if !ok || f.Code != "922/QĐ-BTTTT" {
		t.Fatalf("framework of 2022: %v", f)
	}
	if f2, _ := r.ForYear(2024); f2.Code != "405/QĐ-BKHCN" {
		t.Errorf("framework of 2024: %s, want 405/QĐ-BKHCN", f2.Code)
	}
	s, err := r.Score("922/QĐ-BTTTT", map[string]string{"awareness": "1.0000", "institutions": "0.9000", "infrastructure": "0.8253",
		"workforce": "0.8487", "cybersecurity": "0.7578", "digital_government": "0.8575", "digital_economy": "0.7836", "digital_society": "0.5197"})
	if err != nil || s.Total.String() != "0.8002" {
		t.Errorf("Đà Nẵng 2022: %v %v, want 0.8002", s.Total, err)
	}
	if _, err := r.Score("405/QĐ-BKHCN", map[string]string{}); err == nil {
		t.Error("405 scored without its points table")
	}
}

func TestConfigurationReplacesAFramework(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	yaml := "code: 405/QĐ-BKHCN\nfrom_year: 2024\ndivisor: 100\ncomplete: true\nindices:\n  - {code: a, points: 60}\n  - {code: b, points: 40}\n"
	if err := os.WriteFile(filepath.Join(dir, "405.yaml"), []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	s, err := r.Score("405/QĐ-BKHCN", map[string]string{"a": "0.5", "b": "1"})
	if err != nil || s.Total.String() != "0.7000" {
		t.Errorf("replaced 405: %v %v, want 0.7000", s.Total, err)
	}
	if err := os.WriteFile(filepath.Join(dir, "bad.yaml"), []byte("code: x\nfrom_year: 2024\nsurprise: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(dir); err == nil {
		t.Error("a file with an unknown key was accepted")
	}
}
