// A client generated from the served document (openapi-typescript → gen/schema.d.ts, by
// cmd/dxledger's TestOpenAPIToolsPass) walks a project through its life: proposed → funded →
// implemented → evaluated. It must compile with tsc --strict: a document that declares a body
// or an answer wrongly breaks the build here, before it breaks a real client.
//
//   node gen/walk.js BASE_URL ADMIN_TOKEN
import createClient from "openapi-fetch";
import type { paths, components } from "./gen/schema.js";

const [base, adminToken] = process.argv.slice(2);
if (!base || !adminToken) {
  throw new Error("usage: node gen/walk.js BASE_URL ADMIN_TOKEN");
}

type Client = ReturnType<typeof createClient<paths>>;
const as = (token: string): Client =>
  createClient<paths>({ baseUrl: base, headers: { Authorization: `Bearer ${token}` } });

function must<T>(what: string, r: { data?: T; error?: unknown; response: Response }): T {
  if (r.data === undefined) {
    throw new Error(`${what}: ${r.response.status} ${JSON.stringify(r.error)}`);
  }
  return r.data;
}

const today = new Date().toLocaleDateString("en-CA", { timeZone: "Asia/Ho_Chi_Minh" });
const suffix = Date.now().toString(36).toUpperCase();
const admin = as(adminToken);

const unitCode = `TS-${suffix}`;
must("register the province", await admin.POST("/api/v1/units", {
  body: { code: `TSP-${suffix}`, name: "Tỉnh thử nghiệm", kind: "province" },
}));
must("register a department", await admin.POST("/api/v1/units", {
  body: { code: unitCode, name: "Sở thử nghiệm", kind: "department", parent_code: `TSP-${suffix}` },
}));

async function user(name: string, role: components["schemas"]["UserBody"]["role"], unit?: string): Promise<Client> {
  const created = must(`create ${role}`, await admin.POST("/api/v1/users", { body: { name, role, unit_code: unit } }));
  if (!created.token) throw new Error(`create ${role}: no token in a first answer`); // only a replay leaves it out
  return as(created.token);
}
const focal = await user("Nguyễn Văn An", "focal_point", unitCode);
const finance = await user("Lê Văn Cường", "finance_officer");
const committee = await user("Võ Văn Em", "steering_committee");

const proposed = must("propose", await focal.POST("/api/v1/projects", {
  body: {
    title: "Nền tảng dữ liệu nông nghiệp (khách TypeScript)", unit_code: unitCode, pillar: "economy",
    sector: "agriculture", estimated_cost_vnd: 8_000_000_000, start_date: today, end_date: "2099-12-31",
  },
}));
const id = proposed.id;
const path = { id };

const request = must("request funding", await focal.POST("/api/v1/projects/{id}/funding-requests", {
  params: { path },
  headers: { "Idempotency-Key": `ts-${suffix}` },
  body: { source: "provincial_budget", amount_vnd: 6_000_000_000, year: Number(today.slice(0, 4)) },
}));
if (!request.request_id) {
  throw new Error("a funding request's answer carries its request_id");
}
const rid = { id, request_id: request.request_id };
must("endorse", await committee.POST("/api/v1/projects/{id}/funding-requests/{request_id}/endorsement", { params: { path: rid } }));
must("approve", await finance.POST("/api/v1/projects/{id}/funding-requests/{request_id}/decision", {
  params: { path: rid }, body: { decision: "approve", approved_vnd: 5_000_000_000, note: "duyệt một phần" },
}));
let state = must("read", await focal.GET("/api/v1/projects/{id}", { params: { path } }));
if (state.stage !== "funded" || state.approved_vnd !== 5_000_000_000) {
  throw new Error(`after approval: stage ${state.stage}, approved ${state.approved_vnd}`);
}

must("disburse", await focal.POST("/api/v1/projects/{id}/disbursements", {
  params: { path }, body: { source: "provincial_budget", amount_vnd: 2_000_000_000, date: today },
}));
must("progress", await focal.POST("/api/v1/projects/{id}/progress", { params: { path }, body: { percent: 60, date: today } }));
const read = must("read", await focal.GET("/api/v1/projects/{id}", { params: { path } }));
must("implemented", await focal.POST("/api/v1/projects/{id}/implemented", {
  params: { path }, headers: { "If-Match": String(read.version) }, body: { date: today, note: "hoàn thành" },
}));
const evaluated = await committee.POST("/api/v1/projects/{id}/evaluation", {
  params: { path }, body: { rating: "effective", score: 90 },
});
must("evaluate", evaluated);
// The reports are projections: a read that sends the write's position includes it.
const position = evaluated.response.headers.get("Dxledger-Position") ?? "";

state = must("read", await focal.GET("/api/v1/projects/{id}", { params: { path } }));
const evaluation = state.evaluation;
if (state.stage !== "evaluated" || evaluation?.rating !== "effective" || evaluation.score !== 90) {
  throw new Error(`at the end: stage ${state.stage}, evaluation ${JSON.stringify(evaluation)}`);
}
const events = must("events", await focal.GET("/api/v1/projects/{id}/events", { params: { path } }));
const report = must("report", await committee.GET("/api/v1/reports/completion", {
  params: { query: { group_by: "unit", kind: "project" }, header: { "Dxledger-Min-Position": position } },
}));
const row = report.rows.find((r) => r.key === unitCode);
if (row?.evaluated !== 1) {
  throw new Error(`completion report for ${unitCode}: ${JSON.stringify(row)}`);
}
console.log(`walked project ${id}: ${events.map((e) => e.type).join(" → ")}`);
