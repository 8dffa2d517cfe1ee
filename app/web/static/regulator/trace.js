// The regulator trace page: asks the trace API with the token typed in (kept only in this tab's sessionStorage)
// and draws the lineage as columns by depth (upstream left, downstream right) in SVG built here.
"use strict";

const NS = "http://www.w3.org/2000/svg";
const COL = 210, ROW = 54, W = 180, H = 38, PAD = 20;
const $ = (id) => document.getElementById(id);

function svg(tag, attrs, parent) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  if (parent) parent.appendChild(el);
  return el;
}

function text(tag, content, parent) {
  const el = document.createElement(tag);
  el.textContent = content == null ? "" : String(content);
  if (parent) parent.appendChild(el);
  return el;
}

function label(node) {
  const name = node.product ? (node.product.name_zh || node.product.name_en || "") : "";
  const code = node.kind === "lot" ? node.lot : node.kind === "item" ? node.serial : node.sscc;
  return [name || node.kind, code || node.id];
}

function apiPath() {
  const kind = $("kind").value, gtin = $("gtin").value.trim(), code = $("code").value.trim();
  const q = new URLSearchParams({ direction: $("direction").value });
  if ($("from").value && $("to").value) {
    q.set("from", new Date($("from").value).toISOString());
    q.set("to", new Date($("to").value).toISOString());
  }
  return [`/api/v1/${kind}/${encodeURIComponent(gtin)}/${encodeURIComponent(code)}/trace`, q];
}

function headers() {
  return { Authorization: "Bearer " + $("token").value.trim() };
}

function draw(answer) {
  const canvas = $("canvas");
  canvas.replaceChildren();
  const layers = new Map();
  for (const n of answer.nodes) {
    const d = n.depth == null ? 0 : n.depth;
    if (!layers.has(d)) layers.set(d, []);
    layers.get(d).push(n);
  }
  const depths = [...layers.keys()].sort((a, b) => a - b);
  const pos = new Map();
  let tallest = 0;
  depths.forEach((d, c) => {
    const col = layers.get(d);
    tallest = Math.max(tallest, col.length);
    col.forEach((n, r) => pos.set(n.id, { x: PAD + c * COL, y: PAD + r * ROW, node: n }));
  });
  const root = svg("svg", { width: PAD * 2 + depths.length * COL, height: PAD * 2 + tallest * ROW,
                            role: "img", "aria-label": "trace graph" }, canvas);
  for (const e of answer.edges) {
    const a = pos.get(e.from), b = pos.get(e.to);
    if (!a || !b) continue;
    const x1 = a.x + W, y1 = a.y + H / 2, x2 = b.x, y2 = b.y + H / 2, mid = (x1 + x2) / 2;
    svg("path", { d: `M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2},${y2}`, class: "edge " + e.type }, root);
  }
  for (const [id, p] of pos) {
    const n = p.node;
    const g = svg("g", { class: ["node", n.side, n.status || ""].join(" "), transform: `translate(${p.x},${p.y})`,
                         tabindex: 0 }, root);
    svg("rect", { width: W, height: H }, g);
    const [l1, l2] = label(n);
    svg("text", { x: 8, y: 15 }, g).textContent = l1.slice(0, 24);
    svg("text", { x: 8, y: 30 }, g).textContent = String(l2).slice(0, 26);
    const pick = () => {
      root.querySelectorAll(".node.selected").forEach((el) => el.classList.remove("selected"));
      g.classList.add("selected");
      details(id, n, answer);
    };
    g.addEventListener("click", pick);
    g.addEventListener("keydown", (ev) => { if (ev.key === "Enter") pick(); });
  }
}

function details(id, node, answer) {
  const box = $("details");
  box.replaceChildren();
  text("h3", id, box);
  const dl = document.createElement("dl");
  for (const k of ["kind", "status", "quantity", "unit", "owner_gln", "production_date", "expiry_date"]) {
    if (node[k] == null) continue;
    text("dt", k, dl); text("dd", node[k], dl);
  }
  box.appendChild(dl);
  const holders = answer.holders.filter((h) => h.key === id);
  if (holders.length) {
    text("h4", "持有方 Holders", box);
    const ul = text("ul", "", box);
    for (const h of holders) {
      const p = answer.parties[h.gln] || {};
      text("li", `${p.name_zh || p.name_en || h.gln} (${h.gln}): ${h.quantity ?? ""} ${h.unit ?? ""}`
        + (p.contact_phone ? ` ☎ ${p.contact_phone}` : ""), ul);
    }
  }
  const events = answer.events.filter((e) => e.objects.some((o) => o.key === id));
  text("h4", `事件 Events (${events.length})`, box);
  const ul = text("ul", "", box);
  for (const e of events) text("li", `${e.event_time} ${e.biz_step || e.type} ${e.disposition || ""}`, ul);
  const checks = answer.inspections.filter((i) => i.lot_key === id);
  for (const i of checks) text("p", `检验 ${i.report_no}: ${i.verdict}`, box);
}

function receipts(answer) {
  const body = $("receipts").querySelector("tbody");
  body.replaceChildren();
  const rows = answer.receipts.map((r) => [r.gln, r.key, `${r.quantity ?? ""} ${r.uom ?? ""}`, r.date,
    r.documents.map((d) => d.id).join("; ")]);
  for (const h of answer.holders) rows.push([h.gln, h.key, `${h.quantity ?? ""} ${h.unit ?? ""} (held)`, "", ""]);
  for (const [gln, key, qty, date, docs] of rows) {
    const tr = document.createElement("tr");
    const p = answer.parties[gln] || {};
    for (const v of [p.name_zh || p.name_en || "", gln, key, qty, date, docs]) text("td", v, tr);
    body.appendChild(tr);
  }
}

async function run(ev) {
  ev.preventDefault();
  sessionStorage.setItem("tg-token", $("token").value.trim());
  const [path, q] = apiPath();
  $("status").textContent = "…";
  const t0 = performance.now();
  const response = await fetch(`${path}?${q}`, { headers: headers() });
  const body = await response.json();
  if (!response.ok) {
    $("status").textContent = `${response.status}: ${body.error ? body.error.message : ""}`;
    return;
  }
  $("status").textContent = `${body.nodes.length} 节点 nodes · ${body.edges.length} 边 edges · `
    + `${body.events.length} 事件 events · ${Math.round(performance.now() - t0)} ms`;
  draw(body);
  receipts(body);
  const link = $("xlsx");
  link.classList.toggle("hidden", $("kind").value !== "lots");
  link.onclick = async (e) => {
    e.preventDefault();
    q.set("format", "xlsx");
    const file = await fetch(`${path}/export?${q}`, { headers: headers() });
    const url = URL.createObjectURL(await file.blob());
    const a = document.createElement("a");
    a.href = url; a.download = "trace.xlsx"; a.click();
    URL.revokeObjectURL(url);
  };
}

$("token").value = sessionStorage.getItem("tg-token") || "";
$("query").addEventListener("submit", run);
