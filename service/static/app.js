// The calculator page: builds its form from the service's catalogs and the scenario schema (in /openapi.json),
// posts the scenario to /v1/run?explain=1, and draws what comes back: a summary of every methodology, the
// emissions breakdown as an inline SVG chart, the derivation of a headline result, the inputs with their
// sources, and the scenario as YAML. No framework, no build step; all text goes in through textContent.
"use strict";

const $ = (id) => document.getElementById(id);
const PREFER = { model: "llama-3.1-70b", precision: "fp16", deployment: "cloud", accelerator: "h100-sxm",
                 location: "aws-us-east-1" };
const CATALOG_OF = { model: "models", precision: "precisions", deployment: "deployments",
                     accelerator: "accelerators", location: "regions" };
const PARTS = [["operational_emissions", "operational", "#1f6f5c"], ["embodied_emissions", "embodied", "#d08c2b"],
               ["training_emissions", "training", "#6a5fb5"]];
const state = { catalogs: {}, headline: {}, serving: [] };

async function getJSON(url, options) {
  const response = await fetch(url, options);
  const body = await response.json();
  if (!response.ok) throw body;
  return body;
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v; else if (k.startsWith("data-")) node.setAttribute(k, v); else node[k] = v;
  }
  for (const child of children) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return node;
}

// Numbers for people: four significant digits, exponent notation when very large or small.
function format(value) {
  const v = Number(value);
  if (v === 0 || !Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a >= 1e6 || a < 1e-3) return v.toExponential(3);
  return String(Number(v.toPrecision(4)));
}

function fill(select, entries, prefer, blank) {
  select.replaceChildren();
  if (blank) select.append(el("option", { value: "" }, blank));
  for (const [id, data] of Object.entries(entries)) {
    select.append(el("option", { value: id }, data && data.name && data.name !== id ? `${data.name} (${id})` : id));
  }
  if (prefer && prefer in entries) select.value = prefer;
}

// Follow a $ref inside the OpenAPI document (#/components/schemas/scenario.v1/$defs/...).
function deref(api, schema) {
  let node = schema;
  while (node && node.$ref && node.$ref.startsWith("#/")) {
    node = node.$ref.slice(2).split("/").reduce((at, key) => (at ? at[key.replace(/~1/g, "/")] : undefined), api);
  }
  return node || {};
}

// Fields of the scenario's `serving:` block, when the schema has one: a select for a catalog id or an enum,
// a number input otherwise; left blank, a field is not sent.
function buildServing(api, serving) {
  const box = $("serving-fields");
  const block = deref(api, serving);
  for (const [key, raw] of Object.entries(block.properties || {})) {
    const spec = deref(api, raw);
    const id = `serving-${key}`;
    let input;
    const catalog = state.catalogs[`${key}s`];
    if (catalog || spec.enum) {
      input = el("select", { id, name: id });
      fill(input, catalog || Object.fromEntries(spec.enum.map((v) => [v, null])), null, "(default)");
    } else {
      input = el("input", { id, name: id, type: "number", placeholder: "(default)" });
      if (spec.minimum !== undefined) input.min = spec.minimum;
      input.step = spec.type === "integer" ? "1" : "any";
    }
    state.serving.push({ key, input, numeric: input.tagName === "INPUT" });
    box.append(el("label", {}, key.replace(/_/g, " "), input));
  }
  box.hidden = state.serving.length === 0;
}

function scenario() {
  const out = {
    kind: "scenario", schema_version: 1, name: "calculator",
    deployment: $("deployment").value, model: $("model").value, precision: $("precision").value,
    hardware: { accelerator: $("accelerator").value, gpus: Number($("gpus").value) },
    location: $("location").value,
    request: { input_tokens: Number($("input_tokens").value), output_tokens: Number($("output_tokens").value) },
  };
  const serving = {};
  for (const { key, input, numeric } of state.serving) {
    if (input.value !== "") serving[key] = numeric ? Number(input.value) : input.value;
  }
  if (Object.keys(serving).length) out.serving = serving;
  return out;
}

function yamlScalar(value) {
  if (typeof value === "number") return String(value);
  const plain = /^[A-Za-z0-9][A-Za-z0-9 ._\/-]*$/.test(value) && !/^(y|n|yes|no|on|off|true|false|null)$/i.test(value)
    && Number.isNaN(Number(value));
  return plain ? value : JSON.stringify(value);
}

function toYaml(data, indent = "") {
  return Object.entries(data).map(([k, v]) => (v !== null && typeof v === "object"
    ? `${indent}${k}:\n${toYaml(v, indent + "  ")}` : `${indent}${k}: ${yamlScalar(v)}`)).join("\n");
}

function updateYaml() {
  const text = "# Written by the impact calculator page; run it with: impact run scenario.yaml\n" +
    toYaml(scenario()) + "\n";
  const link = $("yaml-link");
  if (link.dataset.url) URL.revokeObjectURL(link.dataset.url);
  link.dataset.url = URL.createObjectURL(new Blob([text], { type: "text/yaml" }));
  link.href = link.dataset.url;
  $("yaml").querySelector("pre").textContent = text;
}

function showProblems(body) {
  const list = $("problems").querySelector("ul");
  list.replaceChildren();
  const problems = (body && body.problems) || [{ path: "$", message: String(body) }];
  for (const p of problems) {
    list.append(el("li", {}, `${p.path}: ${p.message}${p.expected ? `; expected ${p.expected}` : ""}` +
      `${p.hint ? ` (${p.hint})` : ""}`));
  }
  $("problems").hidden = false;
}

function renderSummary(runs) {
  const body = $("summary").querySelector("tbody");
  body.replaceChildren();
  for (const run of runs) {
    const headline = state.headline[run.methodology] || {};
    for (const [label, name] of Object.entries(headline)) {
      const r = run.results[name];
      if (!r) continue;
      body.append(el("tr", { "data-methodology": run.methodology, "data-result": name },
        el("td", {}, run.methodology), el("td", {}, label), el("td", {}, name),
        el("td", { class: "num value", "data-value": String(r.value) }, format(r.value)), el("td", {}, r.unit)));
    }
  }
  $("summary").hidden = false;
}

function svg(tag, attrs = {}, text) {
  const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

// One stacked bar per methodology that splits its emissions into operational, embodied and training.
function renderChart(runs) {
  const bars = runs.filter((r) => PARTS.some(([name]) => name in r.results));
  const chart = $("chart");
  chart.replaceChildren();
  $("breakdown").hidden = bars.length === 0;
  if (!bars.length) return;
  const width = 760, left = 90, barWidth = 460, rowHeight = 64;
  const root = svg("svg", { width, height: bars.length * rowHeight + 10, viewBox: `0 0 ${width} ${bars.length * rowHeight + 10}`,
                            role: "img", "aria-label": "emissions breakdown" });
  chart.append(root);
  bars.forEach((run, i) => {
    const y = 8 + i * rowHeight;
    const parts = PARTS.filter(([name]) => name in run.results).map(([name, label, colour]) =>
      ({ name, label, colour, value: Number(run.results[name].value), unit: run.results[name].unit }));
    const total = parts.reduce((sum, p) => sum + p.value, 0);
    root.append(svg("text", { x: 0, y: y + 16 }, run.methodology));
    let x = left;
    for (const p of parts) {
      const w = total > 0 ? (p.value / total) * barWidth : 0;
      const rect = svg("rect", { x, y, width: Math.max(w, 0), height: 22, fill: p.colour, "data-part": p.name, "data-methodology": run.methodology,
                                 "data-value": String(p.value) });
      rect.append(svg("title", {}, `${p.label}: ${format(p.value)} ${p.unit}`));
      root.append(rect);
      x += w;
    }
    root.append(svg("text", { x: left + barWidth + 8, y: y + 16 }, `${format(total)} ${parts[0].unit} in all`));
    let lx = left;
    for (const p of parts) {
      const share = total > 0 ? Math.round((100 * p.value) / total) : 0;
      root.append(svg("rect", { x: lx, y: y + 30, width: 10, height: 10, fill: p.colour }));
      const label = svg("text", { x: lx + 14, y: y + 39 }, `${p.label} ${format(p.value)} ${p.unit} (${share}%)`);
      root.append(label);
      lx += 14 + label.getComputedTextLength() + 18;  // measured: the svg is in the page already
    }
  });
}

// The derivation of a headline result: each formula with its expression, the values substituted, and the
// names it reads, down to the inputs and their sources.
function renderExplain(runs) {
  const run = runs.find((r) => (state.headline[r.methodology] || {}).emissions && r.explain) ||
              runs.find((r) => r.explain && Object.keys(state.headline[r.methodology] || {}).length);
  $("explain").hidden = !run;
  if (!run) return;
  const headline = state.headline[run.methodology];
  const name = headline.emissions || Object.values(headline)[0];
  $("explain-name").textContent = `${run.methodology} ${name}`;
  const seen = new Set();
  function node(n, depth) {
    const item = el("li", { "data-name": n });
    const result = run.results[n], input = run.inputs[n], formula = run.explain[n];
    const value = result || input;
    item.append(el("code", {}, n), " = ", el("span", { class: "value" }, value ? `${format(value.value)} ${value.unit}` : "?"));
    if (formula && !seen.has(n)) {
      seen.add(n);
      item.append(el("span", { class: "muted" }, `  = ${formula.expr}  = ${formula.substituted}`));
      const children = el("ul");
      for (const read of formula.reads) children.append(node(read, depth + 1));
      const details = el("details", { open: depth < 2 }, el("summary", {}, `${formula.reads.length} inputs`), children);
      item.append(details);
    } else if (formula) {
      item.append(el("span", { class: "muted" }, "  (as above)"));
    } else if (input) {
      item.append(el("span", { class: "muted" }, `  from ${input.source}`));
    }
    return item;
  }
  $("tree").replaceChildren(el("ul", {}, node(name, 0)));
}

function renderSources(runs) {
  const body = $("sources").querySelector("tbody");
  body.replaceChildren();
  for (const run of runs) {
    for (const [name, v] of Object.entries(run.inputs)) {
      body.append(el("tr", {}, el("td", {}, run.methodology), el("td", {}, name),
        el("td", { class: "num" }, format(v.value)), el("td", {}, v.unit), el("td", { class: "source" }, v.source)));
    }
  }
  $("sources").hidden = false;
}

async function calculate() {
  document.body.dataset.state = "busy";
  $("status").textContent = "Calculating...";
  $("problems").hidden = true;
  updateYaml();
  try {
    const doc = await getJSON("/v1/run?explain=1", { method: "POST", headers: { "content-type": "application/json" },
                                                     body: JSON.stringify(scenario()) });
    renderSummary(doc.runs);
    renderChart(doc.runs);
    renderExplain(doc.runs);
    renderSources(doc.runs);
    $("yaml").hidden = false;
    $("status").textContent = `${doc.runs.length} methodologies evaluated.`;
    document.body.dataset.state = "done";
  } catch (problem) {
    showProblems(problem);
    $("status").textContent = "The service refused these choices.";
    document.body.dataset.state = "refused";
  }
}

async function init() {
  const kinds = ["models", "precisions", "deployments", "accelerators", "regions", "engines"];
  const [health, methods, api] = await Promise.all([getJSON("/healthz"), getJSON("/v1/methodologies"),
                                                    getJSON("/openapi.json")]);
  const wanted = kinds.filter((k) => health.catalogs.includes(k));
  const tables = await Promise.all(wanted.map((k) => getJSON(`/v1/catalog/${k}`)));
  wanted.forEach((k, i) => { state.catalogs[k] = tables[i].entries; });
  for (const m of methods.methodologies) state.headline[m.name] = m.headline;
  for (const [field, catalog] of Object.entries(CATALOG_OF)) fill($(field), state.catalogs[catalog] || {}, PREFER[field]);
  const props = deref(api, api.components.schemas["scenario.v1"]).properties || {};
  if (props.serving) buildServing(api, props.serving);
  $("calculator").addEventListener("submit", (event) => { event.preventDefault(); calculate(); });
  $("calculator").addEventListener("change", updateYaml);
  $("calculator").addEventListener("input", updateYaml);
  updateYaml();
  $("status").textContent = "Choose, then Calculate.";
  document.body.dataset.state = "ready";
}

init().catch((problem) => { showProblems(problem); document.body.dataset.state = "broken"; });
