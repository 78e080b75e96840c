// The live page: reads the admin API (same origin) and shows it. Every value from the mock
// goes in with textContent, never as HTML.
"use strict";

const API = "/__mock/";
const JOURNAL_SHOWN = 200; // the latest matching requests among this many
const REFRESH_MS = 2000;
const opened = new Set(); // journal entries whose bodies are shown

function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (className) node.className = className;
  return node;
}

function row(cells) {
  const tr = document.createElement("tr");
  for (const cell of cells) tr.appendChild(cell instanceof Node ? cell : el("td", cell));
  return tr;
}

function fill(tableId, rows) {
  const body = document.querySelector(`#${tableId} tbody`);
  body.replaceChildren(...rows);
}

function when(seconds) {
  return seconds === null || seconds === undefined ? "" : new Date(seconds * 1000).toISOString();
}

async function read(path) {
  const response = await fetch(API + path, { headers: { Accept: "application/json" } });
  const data = await response.json();
  if (!response.ok) throw new Error(`${path}: ${data.error ? data.error.message : response.status}`);
  return data;
}

async function send(path, body) {
  const response = await fetch(API + path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  const data = await response.json();
  if (!response.ok) throw new Error(`${path}: ${data.error ? data.error.message : response.status}`);
  return data;
}

function showProblem(error) {
  const problem = document.getElementById("problem");
  problem.hidden = error === null;
  problem.textContent = error === null ? "" : String(error.message || error);
}

// A task's plan in words, its times in mock seconds after its creation:
// "processing +5 s; completed +150 s", "… after 3 polls", "failed (code)", "never ends".
function lifecycleText(task) {
  const plan = task.lifecycle;
  const polls = (count) => (count ? ` after ${count} poll${count === 1 ? "" : "s"}` : "");
  const at = (seconds) => `+${Math.round((seconds - task.created) * 10) / 10} s`;
  const start = `processing ${at(plan.processing_at)}${polls(plan.processing_after_polls)}`;
  if (plan.ends_at === null) return `${start}; never ends`;
  const outcome = plan.outcome === "failed" ? `failed (${plan.failure_code})` : "completed";
  return `${start}; ${outcome} ${at(plan.ends_at)}${polls(plan.ends_after_polls)}`;
}

function taskRows(tasks) {
  return tasks.map((task) => {
    const tr = row([
      el("td", task.id, "mono"),
      el("td", task.status, `status status-${task.status}`),
      el("td", `${task.progress}%`),
      el("td", task.token, "mono"),
      el("td", task.scenario || ""),
      el("td", when(task.created)),
      el("td", task.polls),
      el("td", when(task.ended_at)),
      el("td", lifecycleText(task)),
      el("td", task.callback_url || "", "mono"),
    ]);
    tr.dataset.taskId = task.id;
    return tr;
  });
}

function message(title, part) {
  const cell = el("div");
  let about = `${title}: ${part.body_size} bytes`;
  if (part.body_truncated) about += " (cut to the journal's limit)";
  if (part.body_dropped) about += " (dropped: the journal's body budget is spent)";
  cell.appendChild(el("strong", about));
  const headers = Object.entries(part.headers).map(([name, value]) => `${name}: ${value}`);
  if (headers.length) cell.appendChild(el("pre", headers.join("\n")));
  if (part.body !== null) cell.appendChild(el("pre", part.body, "body"));
  return cell;
}

function journalRows(entries) {
  const rows = [];
  for (const entry of entries.slice().reverse()) {
    const request = `${entry.method} ${entry.path}`;
    const status = el("td", entry.status, entry.status >= 400 || entry.status === 0 ? "http-error" : "");
    const toggle = el("button", opened.has(entry.seq) ? "▾" : "▸");
    toggle.type = "button";
    toggle.title = "show the bodies";
    toggle.addEventListener("click", () => {
      if (opened.has(entry.seq)) opened.delete(entry.seq);
      else opened.add(entry.seq);
      refresh();
    });
    const first = el("td", null);
    first.append(toggle, ` ${entry.seq}`);
    const tr = row([
      first,
      el("td", when(entry.time)),
      el("td", request, "mono"),
      status,
      el("td", entry.task_id || "", "mono"),
      el("td", entry.task_status || "", entry.task_status ? `status-${entry.task_status}` : ""),
      el("td", entry.token || "", "mono"),
      el("td", entry.scenario || ""),
    ]);
    tr.dataset.seq = entry.seq;
    rows.push(tr);
    if (opened.has(entry.seq)) {
      const detail = el("td");
      detail.colSpan = 8;
      detail.append(message("request", entry.request), message("response", entry.response));
      if (entry.violations.length) detail.appendChild(el("p", `violations: ${entry.violations.join("; ")}`));
      const extra = row([detail]);
      extra.className = "detail";
      rows.push(extra);
    }
  }
  return rows;
}

function journalQuery(limit) {
  const params = new URLSearchParams({ order: "newest", limit: String(limit) });
  const filters = { token: "filter-token", task_id: "filter-task", status: "filter-status" };
  for (const [name, id] of Object.entries(filters)) {
    const value = document.getElementById(id).value.trim();
    if (value) params.set(name, value);
  }
  params.set("mock_routes", document.getElementById("filter-mock").checked ? "true" : "false");
  return `journal?${params}`;
}

let refreshing = false;
let again = false; // a refresh asked for while one runs: run it after

async function refresh() {
  if (refreshing) {
    again = true;
    return;
  }
  refreshing = true;
  again = false;
  try {
    const [clock, tasks] = await Promise.all([read("clock"), read("tasks")]);
    document.getElementById("clock-now").textContent = when(clock.now);
    document.getElementById("clock-kind").textContent =
      clock.speed && clock.speed !== 1 ? `${clock.kind}, speed ${clock.speed}` : clock.kind;
    fill("tasks", taskRows(tasks.tasks));
    document.getElementById("task-count").textContent = `(${tasks.count})`;
    const journal = await read(journalQuery(JOURNAL_SHOWN));
    fill("journal", journalRows(journal.entries));
    document.getElementById("journal-count").textContent =
      `(the latest ${journal.entries.length} that match, at most ${JOURNAL_SHOWN}; ${journal.total} requests since the last reset)`;
    showProblem(null);
  } catch (error) {
    showProblem(error);
  } finally {
    refreshing = false;
    if (again) refresh();
  }
}

async function loadScenarios() {
  try {
    const listing = await read("scenarios");
    fill("scenarios", listing.scenarios.map((s) => row([el("td", s.name, "mono"), s.description, s.source])));
    document.getElementById("scenario-count").textContent = `(${listing.count})`;
  } catch (error) {
    showProblem(error);
  }
}

async function act(path, body) {
  try {
    await send(path, body);
    showProblem(null);
  } catch (error) {
    showProblem(error);
  }
  await refresh();
}

document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("advance-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const seconds = Number(document.getElementById("advance-seconds").value);
    act("clock/advance", { seconds });
  });
  document.getElementById("reset").addEventListener("click", async () => {
    opened.clear();
    await act("reset", {});
    await loadScenarios();
  });
  document.getElementById("refresh").addEventListener("click", refresh);
  document.getElementById("filters").addEventListener("input", refresh);
  document.getElementById("filters").addEventListener("submit", (event) => event.preventDefault());
  setInterval(() => {
    if (document.getElementById("auto").checked) refresh();
  }, REFRESH_MS);
  loadScenarios();
  refresh();
});
