namespace Tuner.Scheduler.Monitoring;

/// <summary>
/// The live page: one self-contained HTML file (no scripts or styles from elsewhere) that reads
/// <c>/api/live</c> every second and redraws the workers, the experiments and their trials. Every
/// value goes in as text, never as markup.
/// </summary>
internal static class LivePage
{
    public const string Html = """
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Tuner: live</title>
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5rem; color: #1f2328; background: #f6f8fa; }
  h1 { font-size: 1.4rem; margin: 0 0 .25rem; }
  h2 { font-size: 1.1rem; margin: 1.5rem 0 .5rem; }
  .muted { color: #57606a; }
  table { border-collapse: collapse; background: #fff; margin-bottom: 1rem; min-width: 40rem; }
  th, td { border: 1px solid #d0d7de; padding: .25rem .5rem; text-align: left; font-variant-numeric: tabular-nums; }
  th { background: #eaeef2; }
  .state { font-weight: 600; }
  .RUNNING { color: #0969da; } .PENDING { color: #9a6700; } .PAUSED { color: #8250df; }
  .TERMINATED { color: #1a7f37; } .ERROR { color: #cf222e; }
  .bar { display: inline-block; height: .7rem; background: #0969da; vertical-align: middle; }
  .experiment { border-left: 4px solid #0969da; padding-left: .75rem; margin-top: 1rem; }
  nav a { margin-right: 1rem; }
</style>
</head>
<body>
<h1>Tuner</h1>
<nav><a href="dashboard">Orleans dashboard</a><a href="metrics">Prometheus metrics</a><a href="api/live">JSON</a></nav>
<p class="muted">Updated <span id="updated">never</span> <span id="error"></span></p>
<h2>Workers</h2>
<table id="workers"><thead><tr><th>worker</th><th>host</th><th>trials</th><th>CPU slots</th><th>GPUs</th><th>use</th></tr></thead><tbody></tbody></table>
<p class="muted">Trials waiting for slots: <span id="queued">0</span></p>
<h2>Experiments</h2>
<div id="experiments"><p class="muted">No experiment yet.</p></div>
<script>
"use strict";
const el = (tag, text, cls) => { const e = document.createElement(tag); if (text !== undefined && text !== null) e.textContent = String(text); if (cls) e.className = cls; return e; };
const fmt = v => v === null || v === undefined ? "" : (typeof v === "number" ? (Number.isInteger(v) ? String(v) : v.toPrecision(5)) : String(v));
function row(cells, attrs) {
  const tr = document.createElement("tr");
  for (const [k, v] of Object.entries(attrs || {})) tr.setAttribute(k, v);
  for (const c of cells) tr.appendChild(c instanceof Node ? c : el("td", fmt(c)));
  return tr;
}
function renderWorkers(state) {
  const body = document.querySelector("#workers tbody");
  body.replaceChildren();
  for (const w of state.workers) {
    const use = el("td"); const bar = el("span", null, "bar"); bar.style.width = (w.cpuSlots > 0 ? 100 * w.cpuUsed / w.cpuSlots : 0) + "px"; use.appendChild(bar);
    body.appendChild(row([w.id, w.host, w.trials, fmt(w.cpuUsed) + " / " + fmt(w.cpuSlots), fmt(w.gpuUsed) + " / " + fmt(w.gpus), use], { "data-worker": w.id }));
  }
  document.getElementById("queued").textContent = String(state.queued);
}
function renderExperiment(x) {
  const box = el("section", null, "experiment"); box.setAttribute("data-experiment", x.id);
  box.appendChild(el("h3", x.name + " (" + x.id + ")"));
  const states = Object.entries(x.states).filter(([, n]) => n > 0).map(([s, n]) => s + " " + n).join(", ");
  const summary = el("p"); summary.appendChild(el("span", x.status, "state status"));
  summary.appendChild(el("span", " · " + states + " of " + x.totalTrials + " trials · " + x.results + " results · " + fmt(x.elapsedS) + " s"));
  if (x.best) summary.appendChild(el("span", " · best " + x.metric + " (" + x.mode + ") " + fmt(x.best.value) + " by " + x.best.trial, "best"));
  if (x.statusReason) summary.appendChild(el("span", " · " + x.statusReason, "muted"));
  box.appendChild(summary);
  const params = [...new Set(x.trials.flatMap(t => Object.keys(t.config)))];
  const table = el("table"); const head = row([], {});
  for (const h of ["trial", "state", "worker", "iteration", x.metric, ...params, "note"]) head.appendChild(el("th", h));
  const thead = el("thead"); thead.appendChild(head); table.appendChild(thead);
  const body = el("tbody");
  for (const t of x.trials) {
    const state = el("td", t.state, "state " + t.state);
    body.appendChild(row([t.id, state, t.worker || "", t.iteration, t.metric, ...params.map(p => t.config[p] ?? ""), t.diagnosis || t.reason || ""],
      { "data-trial": t.id, "data-state": t.state, "data-iteration": String(t.iteration) }));
  }
  table.appendChild(body); box.appendChild(table);
  return box;
}
async function refresh() {
  try {
    const response = await fetch("api/live", { cache: "no-store" });
    if (!response.ok) throw new Error("HTTP " + response.status);
    const state = await response.json();
    renderWorkers(state);
    const list = document.getElementById("experiments");
    list.replaceChildren(...(state.experiments.length ? state.experiments.map(renderExperiment) : [el("p", "No experiment yet.", "muted")]));
    document.getElementById("updated").textContent = new Date(state.generatedAt).toLocaleTimeString();
    document.getElementById("error").textContent = "";
    document.body.setAttribute("data-refreshes", String(Number(document.body.getAttribute("data-refreshes") || "0") + 1));
  } catch (e) {
    document.getElementById("error").textContent = "(the scheduler does not answer: " + e.message + ")";
  }
}
refresh();
setInterval(refresh, 1000);
</script>
</body>
</html>
""";
}
