// Package demo loads the Đồng Tháp 2022 scenario of DESIGN.md ("The demo scenario"): the
// province, 18 departments and 12 districts and cities, 30 + 39 = 69 model registrations that
// reduce to 49 distinct models once the secretariat marks the same model registered with a
// different scope, projects of the provincial DT scheme in agriculture, education and health
// with partial funding from several sources, and the 2025 reorganisation as unit events.
// Every command carries a fixed idempotency key, so loading twice records nothing twice.
package demo

import (
	"fmt"

	"github.com/dxledger/dxledger/domain/item"
)

type unitDef struct{ code, name string }

// Departments are the 18 provincial departments and agencies of the demo.
var Departments = []unitDef{
	{"VP-UBND", "Văn phòng UBND tỉnh"}, {"SO-NV", "Sở Nội vụ"}, {"SO-TP", "Sở Tư pháp"},
	{"SO-KHDT", "Sở Kế hoạch và Đầu tư"}, {"SO-TC", "Sở Tài chính"}, {"SO-CT", "Sở Công Thương"},
	{"SO-NNPTNT", "Sở Nông nghiệp và Phát triển nông thôn"}, {"SO-GTVT", "Sở Giao thông vận tải"},
	{"SO-XD", "Sở Xây dựng"}, {"SO-TNMT", "Sở Tài nguyên và Môi trường"}, {"SO-TTTT", "Sở Thông tin và Truyền thông"},
	{"SO-LDTBXH", "Sở Lao động - Thương binh và Xã hội"}, {"SO-VHTTDL", "Sở Văn hóa, Thể thao và Du lịch"},
	{"SO-KHCN", "Sở Khoa học và Công nghệ"}, {"SO-GDDT", "Sở Giáo dục và Đào tạo"}, {"SO-YT", "Sở Y tế"},
	{"TTR", "Thanh tra tỉnh"}, {"BQL-KKT", "Ban Quản lý Khu kinh tế tỉnh"},
}

// Districts are the 12 district-level units: 3 cities and 9 districts.
var Districts = []unitDef{
	{"TP-CAOLANH", "Thành phố Cao Lãnh"}, {"TP-SADEC", "Thành phố Sa Đéc"}, {"TP-HONGNGU", "Thành phố Hồng Ngự"},
	{"H-TANHONG", "Huyện Tân Hồng"}, {"H-HONGNGU", "Huyện Hồng Ngự"}, {"H-TAMNONG", "Huyện Tam Nông"},
	{"H-THANHBINH", "Huyện Thanh Bình"}, {"H-CAOLANH", "Huyện Cao Lãnh"}, {"H-THAPMUOI", "Huyện Tháp Mười"},
	{"H-LAPVO", "Huyện Lấp Vò"}, {"H-LAIVUNG", "Huyện Lai Vung"}, {"H-CHAUTHANH", "Huyện Châu Thành"},
}

type modelDef struct {
	unit, title, scope string
	pillar             item.Pillar
	sector, on         string
	sameAs             string // key of the root registration, "" for a distinct model
	key                string
}

func m(key, unit, title, scope string, p item.Pillar, sector, on, sameAs string) modelDef {
	return modelDef{unit: unit, title: title, scope: scope, pillar: p, sector: sector, on: on, sameAs: sameAs, key: key}
}

const gov, eco, soc = item.Government, item.Economy, item.Society

// departmentModels: 30 registrations of 18 departments, all distinct.
var departmentModels = []modelDef{
	m("d01", "VP-UBND", "Trung tâm điều hành thông minh (IOC) tỉnh", "toàn tỉnh", gov, "general", "2022-03-10", ""),
	m("d02", "VP-UBND", "Đường dây nóng 1022 tiếp nhận phản ánh, kiến nghị", "toàn tỉnh", gov, "general", "2022-03-12", ""),
	m("d03", "SO-NV", "Số hóa hồ sơ cán bộ, công chức, viên chức", "các cơ quan cấp tỉnh", gov, "general", "2022-03-15", ""),
	m("d04", "SO-NV", "Thi tuyển công chức trên máy tính", "cấp tỉnh", gov, "general", "2022-04-02", ""),
	m("d05", "SO-TP", "Số hóa sổ hộ tịch", "toàn tỉnh", gov, "justice", "2022-03-18", ""),
	m("d06", "SO-TP", "Cấp phiếu lý lịch tư pháp trực tuyến", "toàn tỉnh", gov, "justice", "2022-04-05", ""),
	m("d07", "SO-KHDT", "Đăng ký doanh nghiệp qua mạng", "toàn tỉnh", eco, "commerce", "2022-03-20", ""),
	m("d08", "SO-TC", "Quản lý ngân sách và tài sản công trên nền tảng số", "cấp tỉnh", gov, "finance", "2022-03-22", ""),
	m("d09", "SO-CT", "Đưa hợp tác xã lên sàn thương mại điện tử", "toàn tỉnh", eco, "commerce", "2022-03-25", ""),
	m("d10", "SO-CT", "Bản đồ số điểm bán hàng Việt", "toàn tỉnh", eco, "commerce", "2022-04-08", ""),
	m("d11", "SO-NNPTNT", "Nền tảng chuyển đổi số ngành nông nghiệp", "toàn tỉnh", eco, "agriculture", "2022-03-08", ""),
	m("d12", "SO-NNPTNT", "Truy xuất nguồn gốc nông sản bằng mã QR", "vùng nguyên liệu xoài, lúa", eco, "agriculture", "2022-04-12", ""),
	m("d13", "SO-GTVT", "Quản lý phương tiện thủy nội địa trên nền tảng số", "toàn tỉnh", gov, "transport", "2022-04-15", ""),
	m("d14", "SO-XD", "Cấp phép xây dựng trực tuyến", "toàn tỉnh", gov, "infrastructure", "2022-04-18", ""),
	m("d15", "SO-TNMT", "Quan trắc môi trường tự động", "các khu công nghiệp", gov, "natural_resources", "2022-04-20", ""),
	m("d16", "SO-TNMT", "Cơ sở dữ liệu đất đai số", "toàn tỉnh", gov, "natural_resources", "2022-05-03", ""),
	m("d17", "SO-TTTT", "Cổng dịch vụ công và ứng dụng e-Dongthap", "toàn tỉnh", gov, "general", "2022-02-25", ""),
	m("d18", "SO-TTTT", "Trung tâm Chuyển đổi số tỉnh", "toàn tỉnh", gov, "general", "2022-04-01", ""),
	m("d19", "SO-LDTBXH", "Chi trả an sinh xã hội không dùng tiền mặt", "toàn tỉnh", soc, "labour", "2022-05-05", ""),
	m("d20", "SO-LDTBXH", "Sàn giao dịch việc làm trực tuyến", "toàn tỉnh", soc, "labour", "2022-05-10", ""),
	m("d21", "SO-VHTTDL", "Thuyết minh du lịch tự động qua mã QR", "các điểm du lịch", eco, "tourism", "2022-05-12", ""),
	m("d22", "SO-VHTTDL", "Thư viện số tỉnh", "toàn tỉnh", soc, "culture", "2022-05-15", ""),
	m("d23", "SO-KHCN", "Sàn giao dịch công nghệ và thiết bị", "toàn tỉnh", eco, "industry", "2022-05-18", ""),
	m("d24", "SO-KHCN", "Dự báo xâm nhập mặn bằng cảm biến IoT", "vùng ven sông Tiền", eco, "agriculture", "2022-05-20", ""),
	m("d25", "SO-GDDT", "Trường học số", "các trường trung học phổ thông", soc, "education", "2022-03-28", ""),
	m("d26", "SO-GDDT", "Học bạ điện tử", "toàn tỉnh", soc, "education", "2022-04-22", ""),
	m("d27", "SO-YT", "Hồ sơ sức khỏe điện tử", "toàn tỉnh", soc, "health", "2022-03-30", ""),
	m("d28", "SO-YT", "Khám chữa bệnh từ xa", "các bệnh viện tuyến tỉnh", soc, "health", "2022-04-25", ""),
	m("d29", "TTR", "Tiếp công dân và giải quyết khiếu nại trên môi trường số", "toàn tỉnh", gov, "justice", "2022-05-25", ""),
	m("d30", "BQL-KKT", "Cửa khẩu số Thường Phước", "khu kinh tế cửa khẩu", eco, "commerce", "2022-06-01", ""),
}

// localityModels: 39 registrations of the 12 districts and cities; 20 of them are the same
// model as another registration with a different scope.
var localityModels = func() []modelDef {
	var out []modelDef
	// Tổ công nghệ số cộng đồng: piloted in all 12 localities; the first is the model.
	for i, d := range append([]unitDef{{"H-LAPVO", ""}}, without(Districts, "H-LAPVO")...) {
		same := ""
		if i > 0 {
			same = "l01"
		}
		out = append(out, m(fmt.Sprintf("l%02d", i+1), d.code, "Tổ công nghệ số cộng đồng", "các ấp, khóm của "+districtName(d.code), soc, "general", fmt.Sprintf("2022-06-%02d", 2+i), same))
	}
	for i, u := range []string{"TP-SADEC", "TP-CAOLANH", "H-CHAUTHANH", "H-LAIVUNG", "H-THANHBINH", "H-THAPMUOI"} {
		same := ""
		if i > 0 {
			same = "l13"
		}
		out = append(out, m(fmt.Sprintf("l%02d", 13+i), u, "Chợ 4.0 - thanh toán không dùng tiền mặt tại chợ", "chợ trung tâm "+districtName(u), eco, "commerce", fmt.Sprintf("2022-07-%02d", 4+i), same))
	}
	for i, u := range []string{"TP-CAOLANH", "TP-SADEC", "TP-HONGNGU"} {
		same := ""
		if i > 0 {
			same = "l19"
		}
		out = append(out, m(fmt.Sprintf("l%02d", 19+i), u, "Tuyến phố không dùng tiền mặt", "tuyến phố đi bộ "+districtName(u), eco, "commerce", fmt.Sprintf("2022-07-%02d", 12+i), same))
	}
	for i, u := range []string{"H-TAMNONG", "H-TANHONG", "H-HONGNGU"} {
		same := ""
		if i > 0 {
			same = "l22"
		}
		out = append(out, m(fmt.Sprintf("l%02d", 22+i), u, "Trạm y tế xã số", "các trạm y tế xã của "+districtName(u), soc, "health", fmt.Sprintf("2022-07-%02d", 20+i), same))
	}
	return append(out,
		m("l25", "TP-CAOLANH", "Đô thị thông minh thành phố Cao Lãnh", "nội thành", gov, "infrastructure", "2022-08-01", ""),
		m("l26", "TP-SADEC", "Làng hoa Sa Đéc trên bản đồ số", "làng hoa Tân Quy Đông", eco, "tourism", "2022-08-02", ""),
		m("l27", "TP-HONGNGU", "Camera giám sát an ninh trật tự", "các tuyến đường chính", gov, "public_security", "2022-08-03", ""),
		m("l28", "H-TANHONG", "Nhật ký nông hộ điện tử", "các hợp tác xã lúa", eco, "agriculture", "2022-08-04", ""),
		m("l29", "H-HONGNGU", "Giám sát vùng trồng lúa bằng ảnh vệ tinh", "toàn huyện", eco, "agriculture", "2022-08-05", ""),
		m("l30", "H-TAMNONG", "Du lịch số Vườn quốc gia Tràm Chim", "Vườn quốc gia Tràm Chim", eco, "tourism", "2022-08-08", ""),
		m("l31", "H-THANHBINH", "Xã thông minh", "xã Tân Thạnh", gov, "general", "2022-08-09", ""),
		m("l32", "H-CAOLANH", "Quản lý vùng trồng xoài xuất khẩu", "vùng xoài Mỹ Xương", eco, "agriculture", "2022-08-10", ""),
		m("l33", "H-THAPMUOI", "Lớp học trực tuyến cho trường vùng sâu", "các trường tiểu học", soc, "education", "2022-08-11", ""),
		m("l34", "H-LAPVO", "Bộ phận một cửa số cấp xã", "các xã, thị trấn", gov, "general", "2022-08-12", ""),
		m("l35", "H-LAIVUNG", "Bán quýt hồng Lai Vung trên sàn thương mại điện tử", "các nhà vườn", eco, "commerce", "2022-08-15", ""),
		m("l36", "H-CHAUTHANH", "Giám sát chất lượng nước ao nuôi thủy sản", "các vùng nuôi", eco, "agriculture", "2022-08-16", ""),
		m("l37", "TP-SADEC", "Trường học thông minh", "các trường trung học cơ sở", soc, "education", "2022-08-17", ""),
		m("l38", "H-CAOLANH", "Sổ sức khỏe điện tử người cao tuổi", "toàn huyện", soc, "health", "2022-08-18", ""),
		m("l39", "H-THAPMUOI", "Truy xuất nguồn gốc sen Tháp Mười", "vùng sen Tháp Mười", eco, "agriculture", "2022-08-19", ""),
	)
}()

func without(list []unitDef, code string) []unitDef {
	var out []unitDef
	for _, u := range list {
		if u.code != code {
			out = append(out, u)
		}
	}
	return out
}

func districtName(code string) string {
	for _, d := range Districts {
		if d.code == code {
			return d.name
		}
	}
	return code
}

// Figures the seeds state, which the loaded demo must reproduce.
const (
	DepartmentRegistrations = 30
	LocalityRegistrations   = 39
	DistinctModels          = 49
)
