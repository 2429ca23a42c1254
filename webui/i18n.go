package webui

import (
	"strconv"
	"strings"
	"time"

	"github.com/dxledger/dxledger/domain/civil"
)

// Languages: Vietnamese first, English on request (a cookie set by the switch in the header).
const (
	langVI = "vi"
	langEN = "en"
)

// messages holds every label of the pages: key → {Vietnamese, English}.
var messages = map[string][2]string{
	"app":                                {"Sổ theo dõi chuyển đổi số", "Digital transformation ledger"},
	"province":                           {"Ban Chỉ đạo chuyển đổi số tỉnh", "Provincial digital-transformation steering committee"},
	"nav.dashboard":                      {"Tổng quan", "Overview"},
	"nav.items":                          {"Mô hình và dự án", "Models and projects"},
	"nav.my":                             {"Đơn vị của tôi", "My unit"},
	"nav.queue":                          {"Hồ sơ chờ phê duyệt", "Funding queue"},
	"nav.duplicates":                     {"Mô hình trùng lặp", "Duplicate models"},
	"nav.units":                          {"Đơn vị", "Units"},
	"nav.users":                          {"Người dùng", "Users"},
	"signin":                             {"Đăng nhập", "Sign in"},
	"signout":                            {"Đăng xuất", "Sign out"},
	"signin.name":                        {"Tên đăng nhập", "Name"},
	"signin.password":                    {"Mật khẩu", "Password"},
	"signin.wrong":                       {"Sai tên đăng nhập hoặc mật khẩu.", "Wrong name or password."},
	"signin.expired":                     {"Phiên làm việc đã hết hạn. Vui lòng đăng nhập lại.", "Your session has expired. Please sign in again."},
	"signin.needed":                      {"Vui lòng đăng nhập để tiếp tục.", "Please sign in to continue."},
	"signin.throttled":                   {"Đã có quá nhiều lần nhập sai mật khẩu từ máy này. Vui lòng thử lại sau ít phút hoặc liên hệ quản trị hệ thống.", "Too many wrong passwords from this computer. Try again in a few minutes or ask the administrator."},
	"nav.account":                        {"Tài khoản của tôi", "My account"},
	"account.title":                      {"Tài khoản", "Account"},
	"account.active":                     {"đang hoạt động", "active"},
	"account.suspended":                  {"đang tạm khóa", "suspended"},
	"account.revoked":                    {"đã thu hồi", "revoked"},
	"account.expired":                    {"đã hết hạn", "expired"},
	"account.expires":                    {"Hết hạn", "Expires"},
	"account.tokens":                     {"Mã truy cập API", "API tokens"},
	"account.token_once":                 {"Mã truy cập mới (chỉ hiện một lần):", "New API token (shown once):"},
	"account.issue":                      {"Cấp mã truy cập", "Issue a token"},
	"account.revoke":                     {"Thu hồi", "Revoke"},
	"account.manage":                     {"Quản lý tài khoản", "Manage the account"},
	"account.suspend":                    {"Tạm khóa", "Suspend"},
	"account.reactivate":                 {"Mở khóa", "Reactivate"},
	"account.grant":                      {"Giao vai trò", "Grant the role"},
	"account.history":                    {"Lịch sử tài khoản", "Account history"},
	"setup.title":                        {"Thiết lập lần đầu", "First-run setup"},
	"setup.intro":                        {"Chưa có quản trị viên. Hãy chọn tên đăng nhập và mật khẩu (ít nhất 12 ký tự) cho quản trị viên đầu tiên. Liên kết này chỉ dùng được một lần.", "There is no administrator yet. Choose the first administrator's sign-in name and password (at least 12 characters). This link works once."},
	"setup.create":                       {"Tạo quản trị viên", "Create the administrator"},
	"f.current_password":                 {"Mật khẩu hiện tại", "Current password"},
	"f.password2":                        {"Nhập lại mật khẩu", "Password again"},
	"f.expires_in_days":                  {"Thời hạn (ngày, để trống: mặc định)", "Lifetime (days; empty: the default)"},
	"signin.suspended":                   {"Tài khoản này đang bị tạm khóa. Hãy liên hệ quản trị hệ thống.", "This account is suspended. Ask the administrator."},
	"signin.csrf":                        {"Biểu mẫu đã cũ. Vui lòng thử lại.", "The form was stale. Please try again."},
	"signed.as":                          {"Đang đăng nhập:", "Signed in as"},
	"lang.switch":                        {"English", "Tiếng Việt"},
	"role.admin":                         {"Quản trị hệ thống", "Administrator"},
	"role.focal_point":                   {"Cán bộ đầu mối", "Focal point"},
	"role.finance_officer":               {"Cán bộ tài chính", "Finance officer"},
	"role.steering_committee":            {"Ban Chỉ đạo / Tổ giúp việc", "Steering committee / secretariat"},
	"asof":                               {"Tính đến ngày", "As of"},
	"knownat":                            {"Theo số liệu đã ghi nhận đến", "As recorded by"},
	"asof.apply":                         {"Xem", "Show"},
	"asof.today":                         {"Hôm nay", "Today"},
	"asof.list.note":                     {"Danh sách dưới đây là hiện trạng hôm nay; số liệu phía trên tính đến ngày đã chọn.", "The lists below stand as of today; the figures above are as of the chosen day."},
	"gaps":                               {"Khoảng trống kinh phí", "Funding gaps"},
	"gaps.chart":                         {"Kinh phí còn thiếu theo đơn vị", "Funding gap by unit"},
	"counts":                             {"Số lượng mô hình", "Model counts"},
	"completion":                         {"Tình hình thực hiện", "Completion"},
	"overdue.list":                       {"Mô hình, dự án quá hạn", "Overdue models and projects"},
	"export.xlsx":                        {"Xuất Excel", "Export to Excel"},
	"print":                              {"In", "Print"},
	"by.unit":                            {"Theo đơn vị", "By unit"},
	"by.unit_kind":                       {"Theo loại đơn vị", "By unit kind"},
	"by.pillar":                          {"Theo trụ cột", "By pillar"},
	"by.sector":                          {"Theo lĩnh vực", "By sector"},
	"by.source":                          {"Theo nguồn vốn", "By funding source"},
	"by.year":                            {"Theo năm", "By year"},
	"col.key":                            {"Nhóm", "Group"},
	"col.unit":                           {"Đơn vị", "Unit"},
	"col.title":                          {"Tên", "Title"},
	"col.kind":                           {"Loại", "Kind"},
	"col.stage":                          {"Giai đoạn", "Stage"},
	"col.estimated":                      {"Kinh phí dự kiến", "Estimated"},
	"col.requested":                      {"Đề nghị", "Requested"},
	"col.approved":                       {"Đã phê duyệt", "Approved"},
	"col.disbursed":                      {"Đã giải ngân", "Disbursed"},
	"col.gap":                            {"Còn thiếu", "Gap"},
	"col.items_with_gap":                 {"Số hồ sơ còn thiếu vốn", "Items with a gap"},
	"col.registrations":                  {"Lượt đăng ký", "Registrations"},
	"col.distinct":                       {"Số mô hình (không trùng)", "Distinct models"},
	"col.overdue":                        {"Quá hạn", "Overdue"},
	"col.progress":                       {"Tiến độ bình quân", "Average progress"},
	"col.end":                            {"Ngày kết thúc", "End date"},
	"col.source":                         {"Nguồn vốn", "Source"},
	"col.year":                           {"Năm", "Year"},
	"col.amount":                         {"Số tiền", "Amount"},
	"col.status":                         {"Trạng thái", "Status"},
	"col.date":                           {"Ngày", "Date"},
	"col.when":                           {"Thời điểm ghi nhận", "Recorded at"},
	"col.who":                            {"Người thực hiện", "Who"},
	"col.what":                           {"Nội dung", "What"},
	"col.score":                          {"Độ tương đồng", "Similarity"},
	"col.name":                           {"Tên", "Name"},
	"col.code":                           {"Mã", "Code"},
	"col.role":                           {"Vai trò", "Role"},
	"col.parent":                         {"Trực thuộc", "Parent"},
	"col.successor":                      {"Đơn vị kế thừa", "Successor"},
	"col.needs":                          {"Cần bổ sung", "Needs"},
	"total":                              {"Tổng cộng", "Total"},
	"none":                               {"Không có.", "None."},
	"kind.model":                         {"Mô hình", "Model"},
	"kind.project":                       {"Dự án", "Project"},
	"stage.proposed":                     {"Đề xuất", "Proposed"},
	"stage.funded":                       {"Đã bố trí vốn", "Funded"},
	"stage.implemented":                  {"Đã triển khai xong", "Implemented"},
	"stage.evaluated":                    {"Đã đánh giá", "Evaluated"},
	"stage.suspended":                    {"Tạm dừng", "Suspended"},
	"stage.cancelled":                    {"Hủy bỏ", "Cancelled"},
	"pillar.government":                  {"Chính quyền số", "Digital government"},
	"pillar.economy":                     {"Kinh tế số", "Digital economy"},
	"pillar.society":                     {"Xã hội số", "Digital society"},
	"source.central_budget":              {"Ngân sách trung ương", "Central budget"},
	"source.provincial_budget":           {"Ngân sách tỉnh", "Provincial budget"},
	"source.district_budget":             {"Ngân sách huyện", "District budget"},
	"source.commune_budget":              {"Ngân sách xã", "Commune budget"},
	"source.enterprise":                  {"Doanh nghiệp, xã hội hóa", "Enterprises"},
	"source.oda":                         {"Vốn ODA", "ODA"},
	"source.other":                       {"Nguồn hợp pháp khác", "Other lawful sources"},
	"sector.agriculture":                 {"Nông nghiệp", "Agriculture"},
	"sector.education":                   {"Giáo dục", "Education"},
	"sector.health":                      {"Y tế", "Health"},
	"sector.finance":                     {"Tài chính", "Finance"},
	"sector.commerce":                    {"Thương mại", "Commerce"},
	"sector.tourism":                     {"Du lịch", "Tourism"},
	"sector.transport":                   {"Giao thông", "Transport"},
	"sector.natural_resources":           {"Tài nguyên", "Natural resources"},
	"sector.infrastructure":              {"Hạ tầng", "Infrastructure"},
	"sector.industry":                    {"Công nghiệp", "Industry"},
	"sector.culture":                     {"Văn hóa", "Culture"},
	"sector.labour":                      {"Lao động", "Labour"},
	"sector.justice":                     {"Tư pháp", "Justice"},
	"sector.public_security":             {"An ninh trật tự", "Public security"},
	"sector.general":                     {"Chung", "General"},
	"unitkind.province":                  {"Tỉnh", "Province"},
	"unitkind.department":                {"Sở, ban, ngành", "Departments"},
	"unitkind.district":                  {"Huyện, thị xã, thành phố", "Districts and cities"},
	"unitkind.commune":                   {"Xã, phường, thị trấn", "Communes"},
	"rating.effective":                   {"Hiệu quả", "Effective"},
	"rating.partly_effective":            {"Hiệu quả một phần", "Partly effective"},
	"rating.not_effective":               {"Chưa hiệu quả", "Not effective"},
	"status.pending":                     {"Chờ quyết định", "Pending"},
	"status.approved":                    {"Đã phê duyệt", "Approved"},
	"status.rejected":                    {"Không phê duyệt", "Rejected"},
	"needs.no_request":                   {"Chưa đề nghị bố trí vốn", "No funding request"},
	"needs.no_progress":                  {"Không báo cáo tiến độ trên 90 ngày", "No progress report for 90 days"},
	"needs.past_end":                     {"Đã quá ngày kết thúc", "Past its end date"},
	"my.title":                           {"Mô hình và dự án của đơn vị", "My unit's models and projects"},
	"my.attention":                       {"Việc cần làm", "What is missing"},
	"my.new.model":                       {"Đăng ký mô hình", "Register a model"},
	"my.new.project":                     {"Đề xuất dự án", "Propose a project"},
	"f.title":                            {"Tên mô hình / dự án", "Title"},
	"f.unit_code":                        {"Đơn vị", "Unit"},
	"f.pillar":                           {"Trụ cột", "Pillar"},
	"f.sector":                           {"Lĩnh vực", "Sector"},
	"f.scope":                            {"Phạm vi triển khai", "Scope"},
	"f.estimated_cost_vnd":               {"Kinh phí dự kiến (đồng)", "Estimated cost (đồng)"},
	"f.start_date":                       {"Ngày bắt đầu", "Start date"},
	"f.end_date":                         {"Ngày kết thúc", "End date"},
	"f.occurred_on":                      {"Ngày (nghiệp vụ)", "Business date"},
	"f.source":                           {"Nguồn vốn", "Funding source"},
	"f.amount_vnd":                       {"Số tiền (đồng)", "Amount (đồng)"},
	"f.year":                             {"Năm ngân sách", "Budget year"},
	"f.percent":                          {"Tiến độ (%)", "Progress (%)"},
	"f.date":                             {"Ngày", "Date"},
	"f.note":                             {"Ghi chú", "Note"},
	"f.decision":                         {"Quyết định", "Decision"},
	"f.approved_vnd":                     {"Số tiền phê duyệt (đồng)", "Amount approved (đồng)"},
	"f.model_id":                         {"Trùng với mô hình", "Same as model"},
	"f.rating":                           {"Đánh giá", "Rating"},
	"f.score":                            {"Điểm (0–100)", "Score (0–100)"},
	"f.reason":                           {"Lý do", "Reason"},
	"f.name":                             {"Họ tên / tên đăng nhập", "Name"},
	"f.role":                             {"Vai trò", "Role"},
	"f.password":                         {"Mật khẩu (ít nhất 12 ký tự)", "Password (at least 12 characters)"},
	"f.code":                             {"Mã đơn vị", "Unit code"},
	"f.kind":                             {"Loại đơn vị", "Unit kind"},
	"f.parent_code":                      {"Trực thuộc", "Parent unit"},
	"f.into_code":                        {"Sáp nhập vào", "Merge into"},
	"f.effective_date":                   {"Ngày hiệu lực", "Effective date"},
	"f.choose":                           {"— chọn —", "— choose —"},
	"decision.approve":                   {"Phê duyệt", "Approve"},
	"decision.reject":                    {"Không phê duyệt", "Reject"},
	"act.propose":                        {"Gửi", "Submit"},
	"act.request":                        {"Gửi đề nghị bố trí vốn", "Request funding"},
	"act.progress":                       {"Báo cáo tiến độ", "Report progress"},
	"act.implemented":                    {"Xác nhận đã triển khai xong", "Mark implemented"},
	"act.decide":                         {"Ghi quyết định", "Record the decision"},
	"act.endorse":                        {"Cho ý kiến đồng ý", "Endorse"},
	"act.same_as":                        {"Xác nhận trùng", "Confirm: same model"},
	"act.evaluate":                       {"Ghi đánh giá", "Record the evaluation"},
	"act.create_user":                    {"Tạo người dùng", "Create user"},
	"act.set_password":                   {"Đặt lại mật khẩu", "Set password"},
	"act.register_unit":                  {"Thêm đơn vị", "Add unit"},
	"act.merge":                          {"Sáp nhập", "Merge"},
	"new.unit_hint":                      {"Hồ sơ có ngày trước khi sáp nhập hoặc chia tách thuộc đơn vị cũ của ngày đó.", "An item dated before a merger or split belongs to the old unit of that day."},
	"act.split":                          {"Chia tách", "Split"},
	"split.title":                        {"Chia tách đơn vị", "Split a unit"},
	"split.hint":                         {"Đơn vị chấm dứt từ ngày hiệu lực. Chọn đơn vị kế thừa cho từng hồ sơ; hồ sơ không chọn chuyển về đơn vị nhận phần còn lại. Lịch sử trước ngày hiệu lực giữ nguyên.", "The unit ends on the effective date. Choose each item's successor; items left unchosen go to the unit that takes the rest. History before the effective date stays as it was."},
	"split.into":                         {"Chuyển về", "Goes to"},
	"split.rest":                         {"— phần còn lại —", "— the rest —"},
	"split.truncated":                    {"Chỉ hiện 200 hồ sơ đầu; các hồ sơ khác chuyển về đơn vị nhận phần còn lại.", "Only the first 200 items are shown; the others go to the unit that takes the rest."},
	"f.rest_into_code":                   {"Phần còn lại chuyển về", "The rest goes to"},
	"item.history":                       {"Lịch sử", "History"},
	"item.requests":                      {"Đề nghị bố trí vốn", "Funding requests"},
	"item.money":                         {"Kinh phí", "Money"},
	"item.evaluation":                    {"Đánh giá", "Evaluation"},
	"item.events":                        {"Các sự kiện", "Events"},
	"item.version":                       {"Phiên bản", "Version"},
	"item.same_as":                       {"Trùng với mô hình", "Same model as"},
	"queue.title":                        {"Đề nghị bố trí vốn chờ quyết định", "Funding requests awaiting a decision"},
	"dup.title":                          {"Các cặp đăng ký có thể trùng nhau", "Registrations that may be the same model"},
	"saved":                              {"Đã ghi nhận.", "Recorded."},
	"err.fix":                            {"Vui lòng sửa các ô được đánh dấu.", "Please correct the marked fields."},
	"err.forbidden":                      {"Bạn không có quyền thực hiện thao tác này.", "You may not do this."},
	"err.notfound":                       {"Không tìm thấy trang hoặc hồ sơ.", "No such page or item."},
	"err.internal":                       {"Có lỗi trong hệ thống. Mã yêu cầu:", "Something went wrong. Request id:"},
	"fault.workflows.unreadable_history": {"Lịch sử của hồ sơ này có một sự kiện hệ thống không đọc được; chưa thể thao tác trên hồ sơ. Hãy báo quản trị viên.", "This record's history holds an event the system cannot read; nothing can be done on it yet. Tell an administrator."},
	"act.unmark_same_as":                 {"Bỏ đánh dấu trùng (nhầm)", "Undo the marking (a mistake)"},
	"nav.reports_health":                 {"Tình trạng báo cáo", "Reports' health"},
	"health.intro":                       {"Các báo cáo được tính từ nhật ký sự kiện. Bảng dưới cho biết mỗi phần tính toán đã theo kịp nhật ký đến đâu, và những sự kiện hệ thống chưa xử lý được (để riêng, cùng các sự kiện sau đó của cùng hồ sơ).", "The reports are computed from the event log. The table says how far each part has caught up with the log, and which events the system could not process (set aside, with the later events of the same record)."},
	"health.projection":                  {"Phần tính toán", "Projection"},
	"health.position":                    {"Vị trí", "Position"},
	"health.lag_events":                  {"Sự kiện chưa tính", "Events behind"},
	"health.lag_seconds":                 {"Chậm (giây)", "Behind (seconds)"},
	"health.set_aside":                   {"Sự kiện để riêng", "Set aside"},
	"health.set_aside_in":                {"Sự kiện để riêng trong", "Events set aside in"},
	"health.retry":                       {"Khi nguyên nhân đã được khắc phục (phiên bản mới, dữ liệu đã sửa), chạy lệnh dxledger projections retry để xử lý lại.", "Once the cause is fixed (a new version, repaired data), run dxledger projections retry to apply them again."},
	"health.stream":                      {"Hồ sơ (luồng)", "Record (stream)"},
	"health.type":                        {"Loại sự kiện", "Event type"},
	"health.error":                       {"Lỗi", "Error"},
	"health.when":                        {"Để riêng lúc", "Set aside at"},
	"setaside.banner":                    {"Chú ý: các số liệu dưới đây chưa tính %d sự kiện đã ghi mà hệ thống chưa xử lý được (đang để riêng). Quản trị viên xem chi tiết tại /readyz và xử lý bằng lệnh dxledger projections retry.", "Note: the figures below leave out %d recorded events the system could not process (set aside). Administrators see them at /readyz and apply them again with dxledger projections retry."},
	"err.stale":                          {"Các báo cáo chưa kịp cập nhật thay đổi bạn vừa ghi. Hãy tải lại trang sau giây lát.", "The reports have not yet taken in the change you just made. Reload the page in a moment."},
	"err.badquery":                       {"Tham số không hợp lệ.", "A parameter is not valid."},
	"err.text.utf8":                      {"Trường «%s» không phải văn bản UTF-8 hợp lệ; hãy gõ lại nội dung.", "The field “%s” is not valid UTF-8 text; please type it again."},
	"err.text.control":                   {"Trường «%s» chứa ký tự điều khiển %s, không được phép trong văn bản; hãy xoá ký tự đó.", "The field “%s” holds the control character %s, which text may not hold; please remove it."},
	"back":                               {"Quay lại", "Back"},
	"search":                             {"Tìm kiếm", "Search"},
	"filter":                             {"Lọc", "Filter"},
	"more":                               {"Trang sau", "Next page"},
	"all":                                {"Tất cả", "All"},
	"ev.proposed":                        {"Đề xuất, đăng ký", "Proposed"},
	"ev.funding_requested":               {"Đề nghị bố trí vốn", "Funding requested"},
	"ev.funding_endorsed":                {"Ban Chỉ đạo cho ý kiến", "Endorsed by the steering committee"},
	"ev.funding_approval_proposed":       {"Phê duyệt lần 1 (chờ xác nhận)", "First approval (awaiting a second officer)"},
	"ev.funding_approved":                {"Phê duyệt kinh phí", "Funding approved"},
	"ev.funding_rejected":                {"Không phê duyệt", "Funding rejected"},
	"ev.disbursed":                       {"Giải ngân", "Disbursed"},
	"ev.progress_reported":               {"Báo cáo tiến độ", "Progress reported"},
	"ev.implemented":                     {"Đã triển khai xong", "Implemented"},
	"ev.evaluated":                       {"Đánh giá", "Evaluated"},
	"ev.suspended":                       {"Tạm dừng", "Suspended"},
	"ev.resumed":                         {"Tiếp tục", "Resumed"},
	"ev.cancelled":                       {"Hủy bỏ", "Cancelled"},
	"ev.marked_same_as":                  {"Đánh dấu trùng mô hình", "Marked the same model"},
	"ev.flagged_no_progress":             {"Cảnh báo chậm báo cáo tiến độ", "Flagged: no progress"},
	"ev.own_funding_arranged":            {"Triển khai không cần cấp vốn riêng", "Carried out without separate state funding"},
	"ev.workflow_version_changed":        {"Áp dụng phiên bản quy trình mới", "Moved to a newer workflow version"},
	"means.regular_budget":               {"Kinh phí thường xuyên của đơn vị", "The unit's regular budget"},
	"means.enterprise":                   {"Doanh nghiệp thực hiện, không dùng ngân sách", "An enterprise partner, at no cost to the state"},
	"means.reuse":                        {"Tái sử dụng hệ thống sẵn có", "Re-use of an existing system"},
	"f.means":                            {"Hình thức triển khai", "Paid for by"},
	"f.version":                          {"Phiên bản quy trình", "Workflow version"},
	"f.from":                             {"Từ phiên bản", "From version"},
	"f.to":                               {"Sang phiên bản", "To version"},
	"disburse.auto":                      {"Tự động: đề nghị được phê duyệt sớm nhất của nguồn vốn", "Automatic: the source's earliest approval first"},
	"act.own_funding":                    {"Triển khai không cần cấp vốn riêng", "Carry out without separate state funding"},
	"act.adopt_version":                  {"Áp dụng phiên bản quy trình mới", "Move to the newer workflow version"},
	"item.own_funding":                   {"Không cần cấp vốn riêng", "No separate state funding needed"},
	"item.workflow_version":              {"Quy trình áp dụng: phiên bản", "Workflow version"},
	"ev.became_overdue":                  {"Quá hạn", "Became overdue"},
	"f.request_id":                       {"Mã đề nghị", "Request"},
	"f.amount":                           {"Số tiền", "Amount"},
	"f.stage":                            {"Giai đoạn", "Stage"},
	"f.approve":                          {"Phê duyệt", "Approve"},
	"f.officers":                         {"Cán bộ phê duyệt", "Approved by"},
	"f.unit":                             {"Đơn vị", "Unit"},
	"f.officer":                          {"Cán bộ", "Officer"},
	"produced":                           {"Lập lúc", "Produced"},

	// Refusals, by message code (domain/fault): "fault.<code>" without values, and where the
	// error gives them, "fault.<code>%" showing them with one %s each, in order.
	"err.refused":                          {"Yêu cầu không thực hiện được.", "The request was refused."},
	"fault.item.not_found":                 {"Không tìm thấy hồ sơ này.", "No such item."},
	"fault.item.already_exists":            {"Hồ sơ này đã được tạo trước đó.", "This item already exists."},
	"fault.item.request_not_found":         {"Không tìm thấy đề nghị bố trí vốn này.", "No such funding request on this item."},
	"fault.item.already_decided":           {"Đề nghị này đã có quyết định.", "This funding request has already been decided."},
	"fault.item.needs_endorsement":         {"Đề nghị này cần ý kiến của Ban Chỉ đạo trước khi phê duyệt.", "The steering committee must endorse this request before finance decides it."},
	"fault.item.same_officer":              {"Lần phê duyệt thứ hai phải do một cán bộ tài chính khác thực hiện.", "The second approval must come from another finance officer."},
	"fault.item.not_a_model":               {"Chỉ mô hình mới đánh dấu được là trùng với mô hình khác.", "Only a model can be marked the same as another model."},
	"fault.item.second_approval":           {"Lần phê duyệt thứ hai phải xác nhận đúng số tiền của lần thứ nhất.", "The second approval must confirm the amount of the first."},
	"fault.item.too_early":                 {"Ngày nghiệp vụ trước ngày của việc mà nó phụ thuộc.", "The business date is before a fact it depends on."},
	"fault.item.too_much":                  {"Số tiền vượt mức cho phép.", "The amount is more than allowed."},
	"fault.item.over_approval":             {"Số tiền phê duyệt vượt số tiền đề nghị.", "More than was requested."},
	"fault.item.over_approval%":            {"Số tiền phê duyệt vượt số tiền đề nghị (%s).", "More than was requested (%s)."},
	"fault.item.over_disbursement":         {"Vượt số vốn còn lại của nguồn này.", "More than is left of this source."},
	"fault.item.over_disbursement%":        {"Vượt số vốn còn lại của nguồn này (%s).", "More than is left of this source (%s)."},
	"fault.item.before_proposed":           {"Không được trước ngày đề xuất hồ sơ.", "Not before the item was proposed."},
	"fault.item.before_proposed%":          {"Không được trước ngày đề xuất hồ sơ (%s).", "Not before the item was proposed (%s)."},
	"fault.item.before_requested":          {"Không được trước ngày đề nghị bố trí vốn.", "Not before the request was made."},
	"fault.item.before_requested%":         {"Không được trước ngày đề nghị bố trí vốn (%s).", "Not before the request was made (%s)."},
	"fault.item.before_implemented":        {"Không được trước ngày triển khai xong.", "Not before the item was implemented."},
	"fault.item.before_implemented%":       {"Không được trước ngày triển khai xong (%s).", "Not before the item was implemented (%s)."},
	"fault.item.before_first_approval":     {"Không được trước ngày phê duyệt vốn đầu tiên của nguồn này.", "Not before the first approval from this source."},
	"fault.item.own_funding_arranged":      {"Hồ sơ này đã được ghi nhận là triển khai không cần cấp vốn riêng.", "This item already says how it is paid for without separate state funding."},
	"fault.item.means":                     {"Hình thức phải là kinh phí thường xuyên (regular_budget), doanh nghiệp (enterprise) hoặc tái sử dụng (reuse).", "Must be regular_budget, enterprise or reuse."},
	"fault.item.version_not_newer":         {"Phải là phiên bản mới hơn phiên bản quy trình hồ sơ đang áp dụng.", "Must be newer than the workflow version the item lives under."},
	"fault.item.version_not_newer%":        {"Phải là phiên bản mới hơn phiên bản %s mà hồ sơ đang áp dụng.", "Must be newer than the item's version %s."},
	"fault.item.no_such_request":           {"Hồ sơ không có đề nghị bố trí vốn với mã này.", "No funding request of this item has this id."},
	"fault.item.request_not_approved":      {"Đề nghị bố trí vốn này chưa được phê duyệt.", "The funding request is not approved."},
	"fault.item.source_of_request":         {"Nguồn vốn không khớp với đề nghị bố trí vốn được chọn.", "The source is not that of the funding request named."},
	"fault.item.source_of_request%":        {"Đề nghị bố trí vốn được chọn thuộc nguồn %s.", "The request named draws on %s."},
	"fault.item.before_request_approved":   {"Không được trước ngày đề nghị bố trí vốn được phê duyệt.", "Not before the funding request was approved."},
	"fault.item.before_request_approved%":  {"Không được trước ngày đề nghị bố trí vốn được phê duyệt (%s).", "Not before the funding request was approved (%s)."},
	"fault.item.name_the_request":          {"Các đề nghị đã phê duyệt đến ngày này đã được các khoản chi khác sử dụng: hãy chọn đề nghị bố trí vốn mà khoản chi này sử dụng.", "The requests approved by this date are drawn by other payments: name the request this payment draws on."},
	"fault.workflows.no_such_version":      {"Không có phiên bản quy trình này.", "No workflow definition of this version is loaded."},
	"fault.workflows.does_not_mend":        {"Phiên bản này không sửa phiên bản quy trình mà hồ sơ đang áp dụng; hồ sơ giữ quy trình của mình.", "That version does not mend the item's version: the item keeps its rules."},
	"fault.item.not_covered":               {"Số tiền này vượt quá số vốn đã được phê duyệt từ nguồn này, trừ phần đã giải ngân, tính đến ngày chi.", "This amount exceeds the money approved from this source, less what was disbursed, as of the day it was spent."},
	"fault.item.not_covered%":              {"Số tiền này vượt quá số vốn đã được phê duyệt từ nguồn này, trừ phần đã giải ngân, tính đến ngày %s.", "This amount exceeds the money approved from this source, less what was disbursed, as of %s."},
	"fault.item.before_first_approval%":    {"Không được trước ngày phê duyệt vốn đầu tiên của nguồn này (%s).", "Not before the first approval from this source (%s)."},
	"fault.item.in_future":                 {"Không được sau ngày hôm nay.", "Must not be after today."},
	"fault.item.in_future%":                {"Không được sau ngày hôm nay (%s).", "Must not be after today (%s)."},
	"fault.item.percent":                   {"Phải từ 0 đến 100.", "Must be from 0 to 100."},
	"fault.item.score":                     {"Điểm phải từ 0 đến 100.", "The score must be from 0 to 100."},
	"fault.item.rating":                    {"Vui lòng chọn một mức đánh giá.", "Choose a rating."},
	"fault.item.required":                  {"Không được để trống.", "Must not be empty."},
	"fault.item.too_long":                  {"Quá dài.", "Too long."},
	"fault.item.not_utf8":                  {"Không phải văn bản UTF-8 hợp lệ; hãy gõ lại.", "Not valid UTF-8 text; please type it again."},
	"fault.item.control_char":              {"Có ký tự điều khiển không được phép (chỉ ghi chú, lý do và phạm vi được xuống dòng).", "Holds a control character (only notes, reasons and scopes may break lines)."},
	"fault.item.too_long%":                 {"Quá dài: tối đa %s ký tự.", "Too long: at most %s characters."},
	"fault.item.same_as_itself":            {"Mô hình không thể trùng với chính nó.", "A model cannot be the same as itself."},
	"fault.item.unknown_command":           {"Thao tác không hợp lệ.", "Unknown command."},
	"fault.item.kind":                      {"Vui lòng chọn mô hình hoặc dự án.", "Must be a model or a project."},
	"fault.item.pillar":                    {"Vui lòng chọn một trụ cột.", "Choose a pillar."},
	"fault.item.amount_not_positive":       {"Số tiền phải lớn hơn 0 đồng.", "The amount must be more than 0 đồng."},
	"fault.item.amount_too_large":          {"Số tiền vượt mức tối đa cho phép.", "The amount is more than the most allowed."},
	"fault.item.amount_too_large%":         {"Số tiền không được vượt %s.", "The amount must be at most %s."},
	"fault.item.project_needs_cost":        {"Dự án cần có kinh phí dự kiến.", "A project needs its estimated cost."},
	"fault.item.project_needs_start":       {"Dự án cần có ngày bắt đầu dự kiến.", "A project needs its planned start date."},
	"fault.item.project_needs_end":         {"Dự án cần có ngày kết thúc dự kiến.", "A project needs its planned end date."},
	"fault.item.model_names_model":         {"Chỉ dự án mới ghi mô hình mà nó thuộc về.", "Only a project names the model it belongs to."},
	"fault.item.end_before_start":          {"Không được trước ngày bắt đầu.", "Not before the start date."},
	"fault.item.end_before_start%":         {"Không được trước ngày bắt đầu (%s).", "Not before the start date (%s)."},
	"fault.item.workflow_version":          {"Phiên bản quy trình phải từ 1 trở lên.", "The workflow version must be 1 or more."},
	"fault.item.initial_stage":             {"Thiếu giai đoạn ban đầu của quy trình.", "The initial stage must be given."},
	"fault.item.request_id_used":           {"Mã đề nghị này đã được dùng cho hồ sơ.", "Already used on this item."},
	"fault.item.source":                    {"Vui lòng chọn một nguồn vốn trong danh sách.", "Choose a funding source from the list."},
	"fault.item.requests_total":            {"Tổng các đề nghị vượt mức tối đa cho phép.", "The item's requests would total more than allowed."},
	"fault.item.requests_total%":           {"Tổng các đề nghị của hồ sơ sẽ vượt %s.", "The item's requests would total more than %s."},
	"fault.item.year":                      {"Năm ngân sách không hợp lệ.", "Not a budget year."},
	"fault.item.year%":                     {"Năm phải từ %s đến %s.", "The year must be from %s to %s."},
	"fault.indicator.not_defined":          {"Không tìm thấy chỉ tiêu này.", "No such indicator."},
	"fault.indicator.already_defined":      {"Chỉ tiêu này đã được định nghĩa; hãy sửa đổi định nghĩa thay vì tạo mới.", "This indicator is already defined: revise it instead."},
	"fault.indicator.invalid":              {"Giá trị không hợp lệ; xem hướng dẫn của ô này.", "Not a valid value; see the field's hint."},
	"fault.dti.unknown_framework":          {"Không có bộ chỉ số DTI này.", "No such DTI framework."},
	"fault.dti.incomplete_framework":       {"Bộ chỉ số này chưa có bảng điểm nên chưa tính điểm được.", "This framework's points table is not loaded: nothing can be scored under it."},
	"fault.dti.bad_value":                  {"Giá trị chỉ số phải là số từ 0 đến 1 và không được để trống.", "An index value must be a number from 0 to 1, and is required."},
	"fault.unit.invalid":                   {"Thao tác với đơn vị không hợp lệ.", "Not a valid unit command."},
	"fault.unit.already_registered":        {"Mã đơn vị này đã được đăng ký.", "This unit code is already registered."},
	"fault.unit.already_registered%":       {"Đơn vị %s đã được đăng ký từ ngày %s.", "Unit %s was already registered on %s."},
	"fault.unit.not_registered":            {"Không tìm thấy đơn vị này.", "No such unit."},
	"fault.unit.not_registered%":           {"Không tìm thấy đơn vị %s.", "No unit %s."},
	"fault.unit.invalid_parent":            {"Đơn vị trực thuộc không phù hợp: tỉnh không trực thuộc đơn vị nào; sở, ngành và huyện trực thuộc tỉnh; xã trực thuộc huyện hoặc tỉnh.", "The parent unit does not fit: a province has none, a department or district has the province, a commune has a district or the province."},
	"fault.unit.already_merged":            {"Đơn vị này đã sáp nhập vào đơn vị khác.", "This unit was merged into another."},
	"fault.unit.already_merged%":           {"Đơn vị %s đã sáp nhập vào %s từ ngày %s.", "Unit %s was merged into %s on %s."},
	"fault.unit.dissolved":                 {"Đơn vị này đã giải thể.", "This unit was dissolved."},
	"fault.unit.dissolved%":                {"Đơn vị %s đã giải thể từ ngày %s.", "Unit %s was dissolved on %s."},
	"fault.unit.before_registration":       {"Ngày này trước ngày đăng ký đơn vị.", "The date is before the unit was registered."},
	"fault.unit.before_registration%":      {"Đơn vị %s được đăng ký ngày %s; không ghi được thay đổi trước ngày đó.", "Unit %s was registered on %s; no change can be dated before that."},
	"fault.unit.cycle":                     {"Sáp nhập này sẽ tạo thành vòng lặp.", "This merge would make a cycle."},
	"fault.unit.cycle%":                    {"Sáp nhập này sẽ tạo thành vòng lặp: %s.", "This merge would make a cycle: %s."},
	"fault.unit.kind":                      {"Vui lòng chọn loại đơn vị: tỉnh, sở/ngành, huyện hoặc xã.", "Choose a unit kind: province, department, district or commune."},
	"fault.unit.name":                      {"Tên đơn vị không hợp lệ.", "Not a valid unit name."},
	"fault.unit.name%":                     {"Tên đơn vị phải có từ 1 đến %s ký tự, trên một dòng, không có ký tự điều khiển.", "The unit name needs 1 to %s characters on one line, without control characters."},
	"fault.unit.date":                      {"Ngày không hợp lệ.", "Not a valid date."},
	"fault.unit.date%":                     {"Ngày phải là một ngày có thật, từ %s đến %s.", "The date must be a real day from %s to %s."},
	"fault.unit.code":                      {"Mã đơn vị gồm 1 đến 32 ký tự A-Z, 0-9 hoặc '-', bắt đầu bằng chữ cái.", "A unit code has 1 to 32 characters A-Z, 0-9 or '-', starting with a letter."},
	"fault.workflows.forbidden":            {"Bạn không có quyền thực hiện thao tác này.", "You may not do this."},
	"fault.workflows.not_found":            {"Không tìm thấy hồ sơ hoặc đơn vị này.", "No such item or unit."},
	"fault.workflows.idempotency_mismatch": {"Biểu mẫu này đã được gửi trước đó với nội dung khác. Vui lòng tải lại trang và nhập lại.", "This form was sent before with other values. Reload the page and enter them again."},
	"fault.workflows.conflict":             {"Hồ sơ vừa được người khác cập nhật. Vui lòng tải lại trang và thử lại.", "Someone changed this item meanwhile. Reload the page and try again."},
	"fault.workflows.unknown_sector":       {"Lĩnh vực không có trong danh sách.", "The sector is not in the list."},
	"fault.workflows.no_such_model":        {"Không tìm thấy mô hình này.", "No such model."},
	"fault.workflows.same_as_loop":         {"Mô hình kia đã được đánh dấu trùng với mô hình này (trực tiếp hoặc qua mô hình khác); đánh dấu thêm sẽ tạo vòng lặp và làm mất một mô hình khỏi số đếm.", "That model is already marked, directly or through others, the same as this one: marking it would close a loop and lose a model from the count."},
	"fault.workflows.no_such_unit":         {"Không có đơn vị này.", "No such unit."},
	"fault.workflows.unit_ended":           {"Đơn vị này không còn tồn tại vào ngày đó.", "This unit no longer existed on that day."},
	"fault.workflows.unit_ended%":          {"Đơn vị %s không còn tồn tại từ ngày %s (đơn vị kế thừa: %s).", "Unit %s no longer exists from %s (successor: %s)."},
	"fault.workflows.not_the_units_item":   {"Hồ sơ này không thuộc đơn vị được chia tách.", "This item is not an item of the unit being split."},
	"fault.workflows.not_the_units_item%":  {"Hồ sơ %s không thuộc đơn vị %s vào ngày trước khi chia tách.", "Item %s is not an item of unit %s on the day before the split."},
	"fault.workflows.source_ended":         {"Nguồn vốn này không còn tồn tại vào ngày đó.", "This funding source no longer existed on that day."},
	"fault.workflows.source_ended%":        {"Nguồn vốn %s không còn tồn tại từ ngày %s.", "The funding source %s no longer exists from %s."},
	"fault.unit.kind_ended":                {"Loại đơn vị này không còn tồn tại vào ngày đó.", "This kind of unit no longer existed on that day."},
	"fault.unit.kind_ended%":               {"Không đăng ký được đơn vị loại %s từ ngày %s: cấp này không còn tồn tại.", "No unit of kind %s can be registered from %s on: that level no longer exists."},
	"fault.unit.required":                  {"Vui lòng nhập trường này.", "This field is required."},
	"fault.unit.item_twice":                {"Một hồ sơ được nêu hai lần.", "An item is named twice."},
	"fault.unit.item_twice%":               {"Hồ sơ %s được nêu hai lần.", "Item %s is named twice."},
	"fault.definition.unknown_action":      {"Quy trình của hồ sơ này không có thao tác này.", "The item's workflow has no such action."},
	"fault.definition.role":                {"Vai trò của bạn không được thực hiện thao tác này.", "Your role may not do this."},
	"fault.definition.transition":          {"Thao tác này không được phép ở giai đoạn hiện tại của hồ sơ.", "This is not allowed in the item's current stage."},
	"fault.identity.unauthenticated":       {"Vui lòng đăng nhập để tiếp tục.", "Please sign in to continue."},
	"fault.identity.bad_credentials":       {"Sai tên đăng nhập hoặc mật khẩu.", "Wrong name or password."},
	"fault.identity.session_expired":       {"Phiên làm việc đã hết hạn. Vui lòng đăng nhập lại.", "Your session has expired. Please sign in again."},
	"fault.identity.weak_password":         {"Mật khẩu quá ngắn.", "The password is too short."},
	"fault.identity.weak_password%":        {"Mật khẩu phải có ít nhất %s ký tự.", "The password needs at least %s characters."},
	"fault.identity.long_password":         {"Mật khẩu quá dài (tối đa 72 byte, khoảng 24 chữ có dấu).", "The password is too long (at most 72 bytes)."},
	"fault.identity.no_such_user":          {"Không tìm thấy người dùng này.", "No such user."},
	"fault.identity.no_such_token":         {"Người dùng này không có mã truy cập đó.", "This user has no such token."},
	"fault.identity.suspended":             {"Tài khoản này đang bị tạm khóa. Hãy liên hệ quản trị viên.", "This account is suspended. Contact an administrator."},
	"fault.identity.self_suspend":          {"Quản trị viên không thể tự khóa tài khoản của mình.", "An administrator cannot suspend their own account."},
	"fault.identity.token_ttl":             {"Thời hạn mã truy cập không hợp lệ.", "The token's lifetime is not valid."},
	"fault.identity.token_ttl%":            {"Thời hạn phải từ %s đến %s ngày.", "The lifetime must be %s to %s days."},
	"fault.identity.separation_of_duties":  {"Không được tham gia: chỉ người được giao vai trò, và có thông tin đăng nhập do người khác đặt lần cuối, trước khi đề nghị được ghi nhận mới được phê duyệt hoặc thông qua.", "Not allowed: only a person whose role was granted, and whose credentials were last set by someone else, before the request was recorded may approve or endorse it."},
	"fault.identity.wrong_password":        {"Mật khẩu hiện tại không đúng.", "That is not your current password."},
	"fault.identity.idempotency_mismatch":  {"Yêu cầu này đã được gửi trước đó với nội dung khác. Vui lòng tải lại trang và nhập lại.", "This request was sent before with other values. Reload the page and enter them again."},
	"fault.identity.setup_link":            {"Liên kết thiết lập không tồn tại, đã được dùng hoặc đã hết hạn.", "This setup link is unknown, already used or expired."},
}

// tr returns the label key in lang; an unknown key is shown as itself, so a missing label is
// visible rather than blank.
func tr(lang, key string) string {
	m, ok := messages[key]
	if !ok {
		m, ok = indicatorMessages[key] // indicators.go's labels
	}
	if !ok {
		return key
	}
	if lang == langEN {
		return m[1]
	}
	return m[0]
}

// label names a code of a family ("stage", "sector", …) in lang, or shows the code.
func label(lang, family, code string) string {
	if _, ok := messages[family+"."+code]; ok {
		return tr(lang, family+"."+code)
	}
	if _, ok := indicatorMessages[family+"."+code]; ok {
		return tr(lang, family+"."+code)
	}
	return code
}

// vnd writes whole đồng with Vietnamese grouping (8.000.000.000 đ); English uses commas.
func vnd(lang string, v int64) string {
	sep := "."
	if lang == langEN {
		sep = ","
	}
	return group(v, sep) + " đ"
}

func group(v int64, sep string) string {
	neg := v < 0
	s := strconv.FormatUint(uint64(max(v, -v)), 10)
	if v == -v && v < 0 { // math.MinInt64
		s = "9223372036854775808"
	}
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteString(sep)
		}
		b.WriteRune(c)
	}
	return b.String()
}

// count writes a whole number with the language's grouping.
func count(lang string, v int64) string {
	sep := "."
	if lang == langEN {
		sep = ","
	}
	return group(v, sep)
}

// dmy writes a business date as dd/mm/yyyy; the zero date is blank.
func dmy(d civil.Date) string {
	if d.IsZero() {
		return ""
	}
	return d.Time(time.UTC).Format("02/01/2006")
}

// dmyhm writes a moment as dd/mm/yyyy hh:mm in loc.
func dmyhm(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return ""
	}
	return t.In(loc).Format("02/01/2006 15:04")
}

// percent writes a one-decimal percentage with the language's decimal mark.
func percent(lang string, v float64) string {
	s := strconv.FormatFloat(v, 'f', 1, 64)
	if lang != langEN {
		s = strings.Replace(s, ".", ",", 1)
	}
	return s + "%"
}

// parseDay reads a date an official typed: YYYY-MM-DD (what a date input sends) or dd/mm/yyyy.
func parseDay(s string) (civil.Date, error) {
	s = strings.TrimSpace(s)
	if d, m, y, ok := splitDMY(s); ok {
		s = y + "-" + m + "-" + d
	}
	return civil.Parse(s)
}

func splitDMY(s string) (d, m, y string, ok bool) {
	parts := strings.Split(s, "/")
	if len(parts) != 3 || len(parts[2]) != 4 {
		return "", "", "", false
	}
	pad := func(p string) string {
		if len(p) == 1 {
			return "0" + p
		}
		return p
	}
	return pad(parts[0]), pad(parts[1]), parts[2], true
}

// parseVND reads an amount an official typed, with or without grouping: "1.500.000.000",
// "1 500 000 000", "1,500,000,000 đ". Every group after the first must have three digits, so
// "1,5" (a Vietnamese decimal) is refused rather than read as 15: money is whole đồng.
func parseVND(s string) (int64, bool) {
	s = strings.TrimSpace(strings.TrimSuffix(strings.TrimSuffix(strings.TrimSpace(s), "đ"), "₫"))
	groups := strings.FieldsFunc(s, func(r rune) bool { return r == '.' || r == ',' || r == ' ' || r == '\u00a0' })
	if len(groups) == 0 || strings.HasPrefix(s, ".") || strings.HasPrefix(s, ",") {
		return 0, false
	}
	for i, g := range groups {
		if g == "" || strings.ContainsFunc(g, func(r rune) bool { return r < '0' || r > '9' }) ||
			(len(groups) > 1 && ((i == 0 && len(g) > 3) || (i > 0 && len(g) != 3))) {
			return 0, false
		}
	}
	digits := strings.Join(groups, "")
	if len(digits) > 18 {
		return 0, false
	}
	v, err := strconv.ParseInt(digits, 10, 64)
	return v, err == nil
}
