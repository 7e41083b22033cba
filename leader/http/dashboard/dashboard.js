// The Quarry dashboard: one page over the leader's HTTP/JSON API
// (docs/http.md). The overview polls GET /v1/cluster and GET /v1/jobs and
// follows every unfinished job on screen through GET /v1/jobs/{id}/events
// (Server-Sent Events); the job page (#/jobs/ID) follows its job the same
// way. With auth on, a token saved in localStorage ("quarry.token") is sent
// as "Authorization: Bearer"; EventSource cannot send it, so pages then
// poll instead. Plain JavaScript, no build step, no dependencies.
"use strict";

const POLL_MS = 1000;
const CHART_SECONDS = 300;
const MAX_FOLLOWED_JOBS = 8;
const TERMINAL = new Set(["DONE", "FAILED", "CANCELLED"]);

const $ = (selector) => document.querySelector(selector);
const token = localStorage.getItem("quarry.token") || "";

// "JOB_STATE_RUNNING" -> "RUNNING".
function shortName(value) {
  return String(value || "").replace(/^(JOB_STATE|EXECUTION_STATUS|WORKER_STATUS|CLUSTER_STATUS)_/, "");
}

// A DOM element: el("td", {className: "x"}, child, "text", ...).
function el(tag, props, ...children) {
  const node = Object.assign(document.createElement(tag), props || {});
  for (const child of children) {
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function badge(value) {
  const name = shortName(value);
  return el("span", {className: "badge " + name}, name);
}

function progressBar(done, total) {
  const bar = el("div");
  bar.style.width = (total > 0 ? (100 * done) / total : 0).toFixed(1) + "%";
  return el("div", {className: "progress", title: `${done} / ${total} tasks done`}, bar);
}

function seconds(timestamp) {
  return timestamp ? Date.parse(timestamp) / 1000 : null;
}

function formatDuration(job) {
  const start = seconds(job.startTime) || seconds(job.createTime);
  if (!start) return "";
  const end = seconds(job.endTime) || Date.now() / 1000;
  const total = Math.max(0, end - start);
  if (total < 60) return total.toFixed(1) + " s";
  return Math.floor(total / 60) + " min " + Math.round(total % 60) + " s";
}

function formatTime(timestamp) {
  return timestamp ? new Date(timestamp).toLocaleTimeString() : "";
}

function showConnection(text) {
  $("#connection").textContent = text;
}

// GET or POST `path`; the parsed JSON body, or an Error with its message.
async function api(path, method = "GET") {
  const headers = token ? {Authorization: "Bearer " + token} : {};
  const response = await fetch(path, {method, headers});
  const body = await response.json();
  if (!response.ok) throw new Error(body.message || response.statusText);
  return body;
}

// Follows job `id` through Server-Sent Events (or polling with a token),
// calling onJob(job) on each change; returns a function that stops it.
function followJob(id, onJob) {
  if (token) {
    const timer = setInterval(async () => {
      const answer = await api(`/v1/jobs/${id}`).catch(() => null);
      if (answer) onJob(answer.job);
      if (answer && TERMINAL.has(shortName(answer.job.state))) clearInterval(timer);
    }, POLL_MS);
    return () => clearInterval(timer);
  }
  const events = new EventSource(`/v1/jobs/${id}/events`);
  events.onmessage = (message) => onJob(JSON.parse(message.data).job);
  // The leader ends each stream with "end"; closing first keeps the
  // browser from reconnecting.
  events.addEventListener("end", () => events.close());
  return () => events.close();
}

// ---- Overview: cluster, workers, jobs, throughput ----

const followed = new Map();  // job id -> stop function
const throughput = [];       // tasks finished per second, oldest first
let lastDoneTotal = null;

function renderCluster(cluster) {
  $("#cluster-status").replaceWith(Object.assign(badge(cluster.status), {id: "cluster-status"}));
  $("#cluster-slots").textContent =
      `${cluster.slotsUsed} of ${cluster.slotsTotal} slots busy, ${cluster.queued} queued`;
  const rows = (cluster.workers || []).map((worker) => {
    const slots = worker.slotStates || [];
    const busy = slots.filter((slot) => slot.attemptId).slice(0, worker.slots).length;
    const queued = Math.max(0, slots.filter((slot) => slot.attemptId).length - worker.slots);
    const labels = Object.entries(worker.labels || {}).map(
        ([key, value]) => el("span", {className: "label"}, `${key}=${value}`));
    const running = slots.filter((slot) => slot.attemptId).map((slot) =>
        el("div", {}, el("a", {href: `#/jobs/${slot.jobId}`}, slot.jobId),
           ` task ${slot.taskIndex} `, badge(slot.status)));
    return el("tr", {},
        el("td", {}, worker.id, el("div", {className: "muted"}, worker.address)),
        el("td", {}, badge(worker.status)),
        el("td", {}, `${busy} / ${worker.slots}`),
        el("td", {}, `${queued} / ${worker.queue}`),
        el("td", {}, ...labels),
        el("td", {}, (Number(worker.heartbeatAgeMs) / 1000).toFixed(1) + " s ago"),
        el("td", {}, ...running));
  });
  $("#workers tbody").replaceChildren(...rows);
}

function jobRow(job) {
  const counts = job.taskCounts || {};
  return el("tr", {id: "job-row-" + job.id, className: "job-row"},
      el("td", {}, el("a", {href: `#/jobs/${job.id}`}, job.id)),
      el("td", {className: "state"}, badge(job.state)),
      el("td", {}, job.spec ? job.spec.kind : ""),
      el("td", {}, job.owner || "—"),
      el("td", {className: "progress-cell"}, progressBar(counts.done || 0, job.taskCount),
         el("span", {className: "muted"}, ` ${counts.done || 0} / ${job.taskCount}`)),
      el("td", {}, formatDuration(job)),
      el("td", {}, counts.failed || 0));
}

function updateJobRow(job) {
  const row = document.getElementById("job-row-" + job.id);
  if (row) row.replaceWith(jobRow(job));
}

function renderJobs(jobs) {
  $("#jobs tbody").replaceChildren(...jobs.map(jobRow));
  // Follow the unfinished jobs on screen, and only those.
  const live = new Set(jobs.filter((job) => !TERMINAL.has(shortName(job.state)))
                           .slice(0, MAX_FOLLOWED_JOBS).map((job) => job.id));
  for (const [id, stop] of followed) {
    if (!live.has(id)) { stop(); followed.delete(id); }
  }
  for (const id of live) {
    if (!followed.has(id)) followed.set(id, followJob(id, updateJobRow));
  }
}

// One sample a second: tasks finished since the last one, from the leader's
// per-job counters (Job.task_counts.done summed over every job it holds).
function sampleThroughput(jobs) {
  const total = jobs.reduce((sum, job) => sum + ((job.taskCounts || {}).done || 0), 0);
  if (lastDoneTotal !== null) throughput.push(Math.max(0, total - lastDoneTotal));
  lastDoneTotal = total;
  while (throughput.length > CHART_SECONDS) throughput.shift();
  drawChart();
}

function drawChart() {
  const canvas = $("#throughput");
  const context = canvas.getContext("2d");
  const width = canvas.width, height = canvas.height, pad = 24;
  const peak = Math.max(1, ...throughput);
  context.clearRect(0, 0, width, height);
  context.fillStyle = "#8a93a0";
  context.font = "11px system-ui, sans-serif";
  context.fillText(`${peak} tasks/s`, 4, 12);
  context.fillText(`now: ${throughput.length ? throughput[throughput.length - 1] : 0} tasks/s`,
                   width - 110, 12);
  context.strokeStyle = "#1565c0";
  context.lineWidth = 2;
  context.beginPath();
  throughput.forEach((value, i) => {
    const x = pad + ((width - 2 * pad) * (CHART_SECONDS - throughput.length + i)) / CHART_SECONDS;
    const y = height - 4 - ((height - pad) * value) / peak;
    if (i === 0) context.moveTo(x, y); else context.lineTo(x, y);
  });
  context.stroke();
}

async function refreshOverview() {
  try {
    renderCluster(await api("/v1/cluster"));
    const all = (await api("/v1/jobs?page_size=1000")).jobs || [];
    sampleThroughput(all);
    const state = $("#state-filter").value;
    renderJobs(state ? all.filter((job) => job.state === state) : all);
    showConnection("");
  } catch (error) {
    showConnection("cannot reach the leader: " + error.message);
  }
}

// ---- Job page ----

let stopJobPage = null;
let detailTimer = null;

function renderJobHeader(job) {
  const counts = job.taskCounts || {};
  $("#job-id").textContent = job.id;
  $("#job-state").replaceWith(Object.assign(badge(job.state), {id: "job-state"}));
  $("#job-summary").textContent =
      `${job.spec.kind} · owner ${job.owner || "—"} · ${counts.done || 0} of ${job.taskCount} tasks done` +
      ` · ${counts.failed || 0} failed · ${formatDuration(job)}`;
  $("#job-progress").style.width =
      (job.taskCount > 0 ? (100 * (counts.done || 0)) / job.taskCount : 0) + "%";
  $("#job-error").textContent = job.error || "";
  $("#cancel").disabled = TERMINAL.has(shortName(job.state));
}

function renderJobDetail(answer) {
  renderJobHeader(answer.job);
  const cells = (answer.tasks || []).map((task) =>
      el("div", {className: "task " + shortName(task.status),
                 title: `task ${task.index}: ${shortName(task.status)}` +
                        (task.workerId ? ` on ${task.workerId}` : "")}));
  $("#task-grid").replaceChildren(...cells);
  // Finished attempts come from the execution history (--history); each
  // task's current or last attempt from the task itself.
  const attempts = [...(answer.attempts || [])];
  const listed = new Set(attempts.map((attempt) => attempt.attemptId));
  for (const task of answer.tasks || []) {
    if (task.attemptId && !listed.has(task.attemptId)) {
      attempts.push({attemptId: task.attemptId, jobId: answer.job.id, taskIndex: task.index,
                     workerId: task.workerId, status: task.status, error: task.error});
    }
  }
  const rows = attempts.map((attempt) => el("tr", {},
      el("td", {}, attempt.attemptId),
      el("td", {}, attempt.taskIndex),
      el("td", {}, attempt.workerId || ""),
      el("td", {}, formatTime(attempt.startTime)),
      el("td", {}, formatTime(attempt.endTime)),
      el("td", {}, badge(attempt.status)),
      el("td", {className: "error"}, attempt.error || ""),
      el("td", {}, el("a", {href: `/v1/jobs/${attempt.jobId}/tasks/${attempt.taskIndex}/log` +
                                  `?attempt_id=${encodeURIComponent(attempt.attemptId)}`,
                            target: "_blank"}, "log"))));
  $("#attempts tbody").replaceChildren(...rows);
}

async function refreshJobDetail(id) {
  try {
    renderJobDetail(await api(`/v1/jobs/${id}?include_tasks=true&include_attempts=true`));
    showConnection("");
  } catch (error) {
    showConnection(error.message);
  }
}

function openJobPage(id) {
  // The header follows every event; the task grid and attempts are read
  // again at most twice a second.
  let pending = false;
  const refresh = () => {
    if (pending) return;
    pending = true;
    detailTimer = setTimeout(() => { pending = false; refreshJobDetail(id); }, 500);
  };
  refreshJobDetail(id);
  stopJobPage = followJob(id, (job) => { renderJobHeader(job); refresh(); });
  $("#cancel").onclick = async () => {
    $("#cancel").disabled = true;
    try {
      renderJobHeader((await api(`/v1/jobs/${id}:cancel`, "POST")).job);
    } catch (error) {
      showConnection("cancel: " + error.message);
    }
    refreshJobDetail(id);
  };
}

// ---- Routing: #/ is the overview, #/jobs/ID a job page ----

let overviewTimer = null;

function route() {
  if (stopJobPage) { stopJobPage(); stopJobPage = null; }
  clearTimeout(detailTimer);
  clearInterval(overviewTimer);
  const match = location.hash.match(/^#\/jobs\/([^/]+)$/);
  $("#overview").hidden = Boolean(match);
  $("#job-page").hidden = !match;
  if (match) {
    for (const stop of followed.values()) stop();
    followed.clear();
    openJobPage(decodeURIComponent(match[1]));
  } else {
    refreshOverview();
    overviewTimer = setInterval(refreshOverview, POLL_MS);
  }
}

$("#state-filter").addEventListener("change", refreshOverview);
window.addEventListener("hashchange", route);
route();
