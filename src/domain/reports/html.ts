/**
 * HTML rendering: one self-contained page (no scripts, no external assets, a CSP that forbids fetching
 * anything), findings first: the score and the checks with open findings above the fold, then the trend and
 * severity charts (inline SVG), the decisions since the previous run, a table per instance, and print styles.
 * Every finding shows its ID, selectable in one click, because that is what `portcullis audit suppress` takes.
 * Times read as "2025-06-01 06:00 UTC" (the ISO value stays in <time datetime>). Every piece of text is
 * HTML-escaped: names come from other people's resources.
 */
import { AUDIT_CHECKS, CHECK_IDS, type CheckId } from "../audit/checks.ts";
import { SEVERITIES, type Finding, type Severity } from "../audit/findings.ts";
import type { InstanceSummary, RemediationRecord, ScorePoint } from "../audit/run.ts";
import { countDecisions, DECISION_KIND_LABEL, REPORTED_DECISION_KINDS, REPORTED_DECISIONS_LIMIT, type DecisionsSection } from "./decisions.ts";
import {
  findingsByInstance,
  findingsOfOtherInstances,
  findingType,
  formatTime,
  instanceFacts,
  instancesByType,
  instanceType,
  shortName,
  suppressCommand,
  typeLabel,
  type AuditReport,
  type RenderedReport,
} from "./report.ts";

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

const SEVERITY_COLOUR: Readonly<Record<Severity, string>> = {
  critical: "#7f1d1d",
  high: "#b91c1c",
  medium: "#b45309",
  low: "#1d4ed8",
  info: "#4b5563",
};

const STYLE = `
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;margin:0;color:#111827;background:#f9fafb;line-height:1.45}
main{max-width:1200px;margin:0 auto;padding:24px}
header{display:flex;justify-content:space-between;align-items:center;gap:24px;border-bottom:2px solid #e5e7eb;padding-bottom:16px}
h1{font-size:1.6rem;margin:0 0 4px}h2{font-size:1.2rem;margin:28px 0 8px}h3{font-size:1rem;margin:16px 0 6px}
.meta{color:#4b5563;font-size:.9rem;margin:0}
.score{text-align:center;border-radius:12px;padding:12px 20px;color:#fff;min-width:140px}
.score b{display:block;font-size:2.4rem;line-height:1}.score span{font-size:.8rem}
.cards{display:flex;flex-wrap:wrap;gap:12px;margin-top:16px}
.card{background:#fff;border:1px solid #e5e7eb;border-radius:8px;padding:10px 14px;min-width:130px}
.card b{display:block;font-size:1.4rem}.card span{color:#4b5563;font-size:.8rem}
.charts{display:grid;grid-template-columns:2fr 1fr;gap:16px}
figure{margin:0;background:#fff;border:1px solid #e5e7eb;border-radius:8px;padding:12px}
figcaption{font-weight:600;margin-bottom:6px}
table{width:100%;border-collapse:collapse;background:#fff;font-size:.85rem}
th,td{border:1px solid #e5e7eb;padding:6px 8px;text-align:left;vertical-align:top}
th{background:#f3f4f6}
td.num{text-align:right}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.8rem;overflow-wrap:anywhere}
code.check{overflow-wrap:normal;word-break:normal;hyphens:none}
code.finding-id{user-select:all;-webkit-user-select:all;background:#eef2ff;border-radius:3px;padding:0 3px;cursor:copy;overflow-wrap:normal;word-break:normal}
code.ticket{white-space:nowrap}
.table-scroll{overflow-x:auto;max-width:100%}
.not-evaluated{color:#6d28d9}
details{margin-top:8px}summary{cursor:pointer;color:#374151}
.decision-approved{color:#047857}.decision-rejected{color:#b91c1c}.decision-left-for-human{color:#b45309}.decision-revoked{color:#7f1d1d}
.badge{display:inline-block;border-radius:4px;padding:1px 6px;color:#fff;font-size:.75rem;font-weight:600}
.status-resolved{color:#047857}.status-suppressed{color:#6b7280}
.instance{background:#fff;border:1px solid #e5e7eb;border-radius:8px;padding:4px 16px 16px;margin-top:16px}
.facts{display:flex;flex-wrap:wrap;gap:6px 18px;font-size:.85rem;color:#374151;margin:0 0 8px;padding:0;list-style:none}
.ok{color:#047857}
.fix{margin:6px 0 0;font-size:.8rem;color:#374151}
footer{margin-top:32px;color:#6b7280;font-size:.8rem}
@media (max-width:800px){.charts{grid-template-columns:1fr}}
@media print{
  @page{margin:1.5cm}
  body{background:#fff;font-size:10pt}
  main{max-width:none;padding:0}
  .instance,figure,.card{border-color:#9ca3af}
  .badge,.score{-webkit-print-color-adjust:exact;print-color-adjust:exact}
  tr,figure,.card{break-inside:avoid}
  .table-scroll{overflow:visible}
  details>*{display:block}
  h2,h3{break-after:avoid}
}
`;

function scoreColour(score: number): string {
  return score >= 90 ? "#047857" : score >= 70 ? "#b45309" : "#b91c1c";
}

/** A time as people read it, with the machine value kept in the element. */
function timeHtml(iso: string, options: { readonly seconds?: boolean } = {}): string {
  return `<time datetime="${escapeHtml(iso)}">${escapeHtml(formatTime(iso, options))}</time>`;
}

/** Escaped text that may break after hyphens, slashes and dots (check IDs wrap between their words, resource IDs between segments). */
function breakable(text: string): string {
  return escapeHtml(text).replace(/([-/.])/g, "$1<wbr>");
}

function badge(severity: Severity): string {
  return `<span class="badge" style="background:${SEVERITY_COLOUR[severity]}">${escapeHtml(severity)}</span>`;
}

/** An inline SVG line chart of the score (0-100) over the runs, oldest left. */
export function scoreChartSvg(history: readonly ScorePoint[]): string {
  const width = 640;
  const height = 220;
  const left = 36;
  const right = 12;
  const top = 12;
  const bottom = 38;
  const plotWidth = width - left - right;
  const plotHeight = height - top - bottom;
  const x = (i: number) => (history.length <= 1 ? left + plotWidth / 2 : left + (plotWidth * i) / (history.length - 1));
  const y = (score: number) => top + plotHeight * (1 - Math.min(100, Math.max(0, score)) / 100);
  const grid = [0, 25, 50, 75, 100]
    .map((v) => `<line x1="${left}" x2="${width - right}" y1="${y(v)}" y2="${y(v)}" stroke="#e5e7eb"/><text x="${left - 6}" y="${y(v) + 4}" text-anchor="end" font-size="10" fill="#6b7280">${v}</text>`)
    .join("");
  const points = history.map((p, i) => `${x(i).toFixed(1)},${y(p.score).toFixed(1)}`).join(" ");
  const dots = history
    .map((p, i) => `<circle cx="${x(i).toFixed(1)}" cy="${y(p.score).toFixed(1)}" r="3.5" fill="${scoreColour(p.score)}"><title>${escapeHtml(`${formatTime(p.startedAt)}: score ${p.score} (run ${p.runId})`)}</title></circle>`)
    .join("");
  const last = history.at(-1);
  const labels =
    history.length === 0
      ? `<text x="${left + plotWidth / 2}" y="${top + plotHeight / 2}" font-size="12" fill="#6b7280" text-anchor="middle">no runs yet</text>`
      : runLabels(history, x, height) +
        (history.length === 1
          ? `<text class="only-run" x="${left + plotWidth / 2}" y="${top + 14}" font-size="12" fill="#6b7280" text-anchor="middle">Only one run so far: the trend starts with the next run.</text>`
          : "");
  const line = history.length > 1 ? `<polyline points="${points}" fill="none" stroke="#1d4ed8" stroke-width="2"/>` : "";
  const description = `Compliance score over the last ${history.length} run(s)${last ? `, latest ${last.score}` : ""}`;
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="100%" role="img" aria-label="${escapeHtml(description)}"><title>${escapeHtml(description)}</title>${grid}${line}${dots}${labels}</svg>`;
}

/** At most this many runs get a date-and-time label under the chart; the others keep theirs in the point's tooltip. */
const MAX_RUN_LABELS = 6;

/** Labels under the chart: date and time (UTC) of the first, the last and evenly spaced runs between. */
function runLabels(history: readonly ScorePoint[], x: (i: number) => number, height: number): string {
  const count = Math.min(history.length, MAX_RUN_LABELS);
  const indexes = count === 1 ? [0] : [...new Set(Array.from({ length: count }, (_, k) => Math.round((k * (history.length - 1)) / (count - 1))))];
  return indexes
    .map((i, k) => {
      const time = formatTime(history[i]!.startedAt);
      const [day, clock] = [time.slice(0, 10), time.slice(11)];
      const anchor = indexes.length === 1 ? "middle" : k === 0 ? "start" : k === indexes.length - 1 ? "end" : "middle";
      return (
        `<text class="run-label" x="${x(i).toFixed(1)}" y="${height - 16}" font-size="10" fill="#6b7280" text-anchor="${anchor}">` +
        `<tspan x="${x(i).toFixed(1)}">${escapeHtml(day)}</tspan><tspan x="${x(i).toFixed(1)}" dy="11">${escapeHtml(clock)}</tspan></text>`
      );
    })
    .join("");
}

/** An inline SVG bar chart of open findings by severity. */
export function severityChartSvg(counts: Readonly<Record<Severity, number>>): string {
  const width = 300;
  const rowHeight = 30;
  const labelWidth = 70;
  const max = Math.max(1, ...SEVERITIES.map((s) => counts[s]));
  const rows = SEVERITIES.map((s, i) => {
    const barWidth = ((width - labelWidth - 40) * counts[s]) / max;
    const yTop = i * rowHeight + 6;
    return (
      `<text x="0" y="${yTop + 14}" font-size="12" fill="#374151">${escapeHtml(s)}</text>` +
      `<rect x="${labelWidth}" y="${yTop}" width="${barWidth.toFixed(1)}" height="18" fill="${SEVERITY_COLOUR[s]}"/>` +
      `<text x="${(labelWidth + barWidth + 6).toFixed(1)}" y="${yTop + 14}" font-size="12" fill="#111827">${counts[s]}</text>`
    );
  }).join("");
  const total = SEVERITIES.reduce((sum, s) => sum + counts[s], 0);
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${SEVERITIES.length * rowHeight + 6}" width="100%" role="img" aria-label="${total} open findings by severity"><title>${total} open findings by severity</title>${rows}</svg>`;
}

function findingsTable(findings: readonly Finding[]): string {
  if (findings.length === 0) return `<p class="ok">No findings.</p>`;
  const rows = findings.map((f) => {
    const suppression = f.suppression
      ? `<br><span class="status-suppressed">suppressed by ${escapeHtml(f.suppression.owner)} until ${timeHtml(f.suppression.expiresAt)}: ${escapeHtml(f.suppression.reason)}</span>`
      : "";
    const notEvaluated = f.notEvaluated
      ? `<br><span class="not-evaluated" title="${escapeHtml(f.notEvaluated.reason)}"><b>not evaluated in this run</b>: ${escapeHtml(f.notEvaluated.reason)}</span>`
      : "";
    return (
      `<tr id="${escapeHtml(f.id)}" class="finding">` +
      `<td>${badge(f.severity)}</td>` +
      `<td><code class="finding-id" title="${escapeHtml(`Finding ID (one click selects it): ${suppressCommand(f.id)}`)}">${breakable(f.id)}</code></td>` +
      `<td class="status-${escapeHtml(f.status)}">${escapeHtml(f.status)}${f.resolvedAt ? `<br>${timeHtml(f.resolvedAt)}` : ""}${suppression}${notEvaluated}</td>` +
      `<td><code class="check">${breakable(f.checkId)}</code></td>` +
      `<td title="${escapeHtml(f.resourceId)}">${breakable(shortName(f.resourceId))}<br><small class="type" title="${escapeHtml(findingType(f))}">${escapeHtml(typeLabel(findingType(f)))}</small></td>` +
      `<td>${escapeHtml(f.message)}<br><small>expected: ${escapeHtml(f.evidence.expected)}<br>actual: ${escapeHtml(f.evidence.actual)}</small>` +
      `<p class="fix"><b>Fix:</b> ${escapeHtml(f.remediation.portal)}<br><code>${escapeHtml(f.remediation.azCli)}</code></p></td>` +
      `<td>${timeHtml(f.firstSeenAt)}<br><small>last seen ${timeHtml(f.lastSeenAt)}</small></td>` +
      `</tr>`
    );
  });
  return (
    `<div class="table-scroll"><table><thead><tr><th>Severity</th><th>ID</th><th>Status</th><th>Check</th><th>Resource (type)</th><th>Finding and fix</th><th>First seen</th></tr></thead>` +
    `<tbody>${rows.join("")}</tbody></table></div>`
  );
}

/** What was approved, rejected, left for a human and revoked between the previous run and this one. */
function decisionsSection(section: DecisionsSection): string {
  const window = section.from === undefined
    ? `before this run (${timeHtml(section.to)}; this is the first run)`
    : `from the previous run (${timeHtml(section.from)}) to this run (${timeHtml(section.to)})`;
  const counts = countDecisions(section);
  const cards = REPORTED_DECISION_KINDS.map((k) => `<div class="card"><b>${counts[k]}</b><span>${escapeHtml(DECISION_KIND_LABEL[k])}</span></div>`).join("");
  const intro = `<h2 id="decisions">Decisions since the previous run</h2><p class="meta">Decisions recorded ${window}.</p><div class="cards">${cards}</div>`;
  if (section.decisions.length === 0) return `${intro}<p class="ok">No connection was approved, rejected, left for a human or revoked in this window.</p>`;
  const rows = section.decisions
    .map(
      (d) =>
        `<tr class="decision"><td>${timeHtml(d.recordedAt)}</td><td class="decision-${escapeHtml(d.kind)}">${escapeHtml(DECISION_KIND_LABEL[d.kind])}</td>` +
        `<td title="${escapeHtml(d.connectionId)}">${breakable(shortName(d.connectionId))}<br><small>${escapeHtml(shortName(d.resourceId))}</small></td>` +
        `<td>${escapeHtml(d.decidedBy)}</td><td>${d.ticket !== undefined ? `<code class="ticket">${escapeHtml(d.ticket)}</code>` : "<small>none</small>"}</td>` +
        `<td>${escapeHtml(d.reason)}</td><td>${escapeHtml(d.outcome)}</td></tr>`,
    )
    .join("");
  const more = section.truncated ? `<p class="meta">Only the first ${REPORTED_DECISIONS_LIMIT} decisions are listed; the decision log (GET /api/decisions) has them all.</p>` : "";
  return (
    intro +
    `<div class="table-scroll"><table><thead><tr><th>When</th><th>Decision</th><th>Connection</th><th>By</th><th>Ticket</th><th>Reason</th><th>Outcome</th></tr></thead><tbody>${rows}</tbody></table></div>${more}`
  );
}

/** Open findings by check: the checks with open findings first, the quiet ones folded away. */
function checksSection(openByCheck: Readonly<Partial<Record<CheckId, number>>>): string {
  const row = (id: CheckId) => `<tr><td><code class="check">${breakable(id)}</code></td><td>${escapeHtml(AUDIT_CHECKS[id].title)}</td><td class="num">${openByCheck[id] ?? 0}</td></tr>`;
  const head = `<thead><tr><th>Check</th><th>What it means</th><th>Open</th></tr></thead>`;
  const open = CHECK_IDS.filter((id) => (openByCheck[id] ?? 0) > 0);
  const quiet = CHECK_IDS.filter((id) => (openByCheck[id] ?? 0) === 0);
  const openTable = open.length > 0 ? `<div class="table-scroll"><table id="open-checks">${head}<tbody>${open.map(row).join("")}</tbody></table></div>` : `<p class="ok">No check has open findings.</p>`;
  const folded = quiet.length > 0
    ? `<details id="quiet-checks"><summary>${quiet.length} check(s) with no open findings</summary><div class="table-scroll"><table>${head}<tbody>${quiet.map(row).join("")}</tbody></table></div></details>`
    : "";
  return `<h2>Open findings by check</h2>${openTable}${folded}`;
}

function instanceSection(instance: InstanceSummary, findings: readonly Finding[]): string {
  const fact = (label: string, value: string | number | undefined) => `<li>${escapeHtml(label)}: <b>${escapeHtml(String(value ?? "unknown"))}</b></li>`;
  return (
    `<section class="instance"><h3>${escapeHtml(instance.name)} <span class="badge" style="background:${scoreColour(instance.score)}">score ${instance.score}</span></h3>` +
    `<p class="meta">${escapeHtml(typeLabel(instanceType(instance)))} · <code>${escapeHtml(instance.instanceId)}</code></p>` +
    `<ul class="facts">${fact("readable", instance.readable ? "yes" : "no")}${instanceFacts(instance).map((f) => fact(f.label, f.value)).join("")}` +
    `${fact("connections", `${instance.connections.approved} approved / ${instance.connections.pending} pending / ${instance.connections.rejected} rejected`)}</ul>` +
    `${findingsTable(findings)}</section>`
  );
}

function remediationTarget(record: RemediationRecord): string {
  return record.change.kind === "disable-public-network-access" ? record.change.instanceId : `${record.change.zoneId}/A/${record.change.recordName}`;
}

function remediationsSection(records: readonly RemediationRecord[]): string {
  if (records.length === 0) return "";
  const rows = records
    .map((r) => `<tr><td class="num">${r.sequence}</td><td>${timeHtml(r.recordedAt)}</td><td>${escapeHtml(r.change.kind)}</td><td><code>${escapeHtml(remediationTarget(r))}</code></td><td>${escapeHtml(r.outcome)}</td><td>${escapeHtml(r.message ?? "")}</td></tr>`)
    .join("");
  return `<h2>Remediations</h2><div class="table-scroll"><table><thead><tr><th>#</th><th>When</th><th>Change</th><th>Target</th><th>Outcome</th><th>Message</th></tr></thead><tbody>${rows}</tbody></table></div>`;
}

export function renderHtmlReport(report: AuditReport): RenderedReport {
  const { summary } = report;
  const groups = findingsByInstance(report.findings);
  const estate = groups.get("") ?? [];
  const others = findingsOfOtherInstances(report);
  const card = (value: string | number, label: string) => `<div class="card"><b>${escapeHtml(String(value))}</b><span>${escapeHtml(label)}</span></div>`;
  const title = `Portcullis compliance report ${summary.runId}`;
  const body =
    `<!doctype html><html lang="en"><head><meta charset="utf-8">` +
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">` +
    `<meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head><body><main>` +
    `<header><div><h1>Portcullis compliance report</h1>` +
    `<p class="meta">Run <code>${escapeHtml(summary.runId)}</code> · ${escapeHtml(summary.trigger)}${summary.requestedBy ? ` by ${escapeHtml(summary.requestedBy)}` : ""} · mode ${escapeHtml(summary.mode)}</p>` +
    `<p class="meta">${timeHtml(summary.startedAt, { seconds: true })} – ${timeHtml(summary.finishedAt, { seconds: true })}</p></div>` +
    `<div class="score" style="background:${scoreColour(summary.score)}"><b>${escapeHtml(String(summary.score))}</b><span>compliance score / 100</span></div></header>` +
    `<div class="cards">${card(summary.instances, "instances")}${card(summary.unreadableInstances, "unreadable")}${card(summary.connections.total, "connections")}` +
    `${card(summary.findings.open, "open findings")}${card(summary.findings.suppressed, "suppressed")}${card(summary.opened, "opened this run")}${card(summary.resolvedInRun, "resolved this run")}` +
    `${summary.findings.notEvaluated > 0 ? card(summary.findings.notEvaluated, "not evaluated in this run") : ""}</div>` +
    checksSection(summary.openByCheck) +
    `<h2>Trend and severity</h2><div class="charts">` +
    `<figure><figcaption>Score over the last ${report.history.length} run(s)</figcaption>${scoreChartSvg(report.history)}</figure>` +
    `<figure><figcaption>Open findings by severity</figcaption>${severityChartSvg(summary.openBySeverity)}</figure></div>` +
    decisionsSection(report.decisions) +
    (estate.length > 0 ? `<h2>Estate-wide findings</h2>${findingsTable(estate)}` : "") +
    `<h2>Resources (${report.instances.length})</h2>` +
    (report.instances.length > 0
      ? `<p class="meta" id="by-type">${instancesByType(report.instances).map((t) => `${escapeHtml(typeLabel(t.resourceType))} (<code>${escapeHtml(t.resourceType || "unknown")}</code>): ${t.count}`).join(" · ")}</p>`
      : "") +
    report.instances.map((i) => instanceSection(i, groups.get(i.instanceId.toLowerCase()) ?? [])).join("") +
    (others.length > 0 ? `<h2>Resources not audited in this run (gone, or outside its scope)</h2>${findingsTable(others)}` : "") +
    remediationsSection(report.remediations) +
    `<footer>Generated by Portcullis from stored run ${escapeHtml(summary.runId)}. Times are UTC. Scores: each instance starts at 100 and loses 50/25/10/3 points per open critical/high/medium/low finding. ` +
    `A finding marked "not evaluated in this run" was carried from the previous run because this run could not look at it; it is neither confirmed nor fixed. ` +
    `Suppress a finding by its ID: <code>${escapeHtml(suppressCommand("<finding-id>"))}</code>.</footer>` +
    `</main></body></html>\n`;
  return { contentType: "text/html; charset=utf-8", fileExtension: "html", body };
}
