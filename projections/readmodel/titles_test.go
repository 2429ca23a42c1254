package readmodel

import "testing"

func TestFoldTitle(t *testing.T) {
	t.Parallel()
	for _, c := range [][2]string{
		{"Khám sức khỏe", "kham suc khoe"},
		{"Khám sức khoẻ", "kham suc khoe"}, // the other tone-mark placement
		{"Hoà nhập  ", "hoa nhap"},
		{"Hòa nhập", "hoa nhap"},
		{"ĐỒNG THÁP — Đô thị thông minh!", "dong thap do thi thong minh"},
		{"e-Dongthap 1022", "e dongthap 1022"},
		{"Tr\u1EA1m y t\u1EBF", "tram y te"},         // precomposed
		{"Tra\u0323m y te\u0302\u0301", "tram y te"}, // decomposed
	} {
		if got := FoldTitle(c[0]); got != c[1] {
			t.Errorf("FoldTitle(%q) = %q, want %q", c[0], got, c[1])
		}
	}
}
