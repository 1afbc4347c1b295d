"""The inspector page (`GET /_mock/`): the server's state, its request journal and the callbacks it sent,
refreshed every two seconds. One HTML page, no build step and no external asset (it works offline);
it reads `GET /_mock/state`, `GET /_mock/requests` and `GET /_mock/callbacks`, and writes every value
into the page as text (never as HTML)."""

from __future__ import annotations

PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>tavus-mock inspector</title>
<link rel="icon" href="data:,">
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5rem; color: #1d1d1f; }
  h1 { font-size: 1.3rem; } h2 { font-size: 1.05rem; margin-top: 1.6rem; }
  table { border-collapse: collapse; width: 100%; }
  th, td { text-align: left; padding: .25rem .5rem; border-bottom: 1px solid #ddd; vertical-align: top; }
  th { background: #f4f4f6; }
  .problem { background: #fff1f0; } .problem td.why { color: #b42318; font-weight: 600; }
  code { font: 12px ui-monospace, monospace; }
  #status { color: #666; font-size: 12px; }
</style>
</head>
<body>
<h1>tavus-mock inspector</h1>
<div id="status">loading...</div>
<h2>Requests (newest first)</h2>
<table id="requests"><thead><tr><th>time</th><th>request</th><th>operation</th><th>status</th><th>ms</th>
<th>problem</th></tr></thead><tbody></tbody></table>
<h2>Callbacks sent</h2>
<table id="callbacks"><thead><tr><th>time</th><th>url</th><th>event</th><th>answer</th></tr></thead>
<tbody></tbody></table>
<h2>Resources</h2>
<table id="resources"><thead><tr><th>tenant</th><th>kind</th><th>id</th><th>status</th><th>name</th>
<th>created</th></tr></thead><tbody></tbody></table>
<script>
"use strict";
function row(table, cells, cls) {
  const tr = document.createElement("tr");
  if (cls) tr.className = cls;
  for (const [text, name] of cells) {
    const td = document.createElement("td");
    td.textContent = text == null ? "" : String(text);
    if (name) td.className = name;
    tr.appendChild(td);
  }
  document.querySelector(table + " tbody").appendChild(tr);
}
function clear(table) { document.querySelector(table + " tbody").replaceChildren(); }
function when(seconds) { return new Date(seconds * 1000).toLocaleTimeString(); }
async function get(path) {
  const answer = await fetch(path, { cache: "no-store" });
  if (!answer.ok) throw new Error(path + " answered " + answer.status);
  return answer.json();
}
async function refresh() {
  try {
    const [state, journal, callbacks] = await Promise.all(
      [get("/_mock/state"), get("/_mock/requests?limit=200"), get("/_mock/callbacks")]);
    clear("#resources");
    for (const r of state.records) {
      row("#resources", [[r.tenant], [r.kind], [r.id], [r.status], [r.name], [r.created_at]]);
    }
    clear("#requests");
    for (const e of journal.requests.slice().reverse()) {
      const request = e.method + " " + e.path + (e.query ? "?" + e.query : "");
      row("#requests", [[when(e.at)], [request], [e.operation_id], [e.status], [e.ms], [e.problem, "why"]],
          e.status >= 400 ? "problem" : "");
    }
    clear("#callbacks");
    for (const c of callbacks.callbacks.slice().reverse()) {
      row("#callbacks", [[when(c.at)], [c.url], [c.event], [c.answer]], c.ok ? "" : "problem");
    }
    document.getElementById("status").textContent =
      state.records.length + " resources, " + journal.total + " requests; refreshed " + new Date().toLocaleTimeString();
  } catch (error) {
    document.getElementById("status").textContent = "could not refresh: " + error.message;
  }
}
refresh();
setInterval(refresh, 2000);
</script>
</body>
</html>
"""
