// The run screen: ask for the run's status every ~0.5 s and show it. Values are set with
// textContent only, never as HTML. The preview screen: the mapping step applies on change.
"use strict";

const ORDER = ["created", "updated", "repaired", "unchanged", "skipped", "duplicate", "valid",
               "failed", "invalid", "not_sent"];
const BADGES = {
  running: ["running", "running"], error: ["bad", "stopped"],
  finished: ["ok", "finished"], failures: ["warn", "finished with failures"],
};

function countsLine(counts) {
  const parts = ORDER.filter((s) => counts[s]).map(
    (s) => `${counts[s].toLocaleString("en-US")} ${s.replace("_", " ")}`);
  return parts.join(", ") || "no rows yet";
}

function setText(id, text) {
  const el = document.getElementById(id);
  if (el) el.textContent = text;
}

function show(status, box) {
  const done = status.done || 0;
  const total = status.total || 0;
  setText("done", done.toLocaleString("en-US"));
  setText("total", total.toLocaleString("en-US"));
  setText("rate", String(status.rate || 0));
  setText("failed", (status.failed || 0).toLocaleString("en-US"));
  setText("counts", countsLine(status.counts || {}));
  document.getElementById("failed-box").classList.toggle("bad", Boolean(status.failed));
  const bar = document.getElementById("bar");
  const percent = total ? Math.min(100, Math.round((100 * done) / total)) : 0;
  bar.value = status.state === "running" ? percent : 100;
  bar.textContent = `${bar.value}%`;
  const key = status.state === "finished" && status.failed ? "failures" : status.state;
  const [cls, label] = BADGES[key] || BADGES.running;
  const badge = document.createElement("span");
  badge.className = `badge ${cls}`;
  badge.textContent = label;
  document.getElementById("state").replaceChildren(badge);
  box.dataset.state = status.state;
  const error = document.getElementById("error");
  error.textContent = status.error || "";
  error.hidden = !status.error;
  const files = document.getElementById("files");
  const links = (status.files || []).map((name) => {
    const a = document.createElement("a");
    a.className = "button";
    a.href = `/runs/${encodeURIComponent(status.id)}/files/${encodeURIComponent(name)}`;
    a.download = name;
    a.textContent = name;
    return a;
  });
  files.replaceChildren(...links);
  document.getElementById("downloads").hidden = links.length === 0;
}

function poll(box) {
  const url = box.dataset.statusUrl;
  const every = Number(box.dataset.pollMs) || 500;
  const tick = async () => {
    try {
      const response = await fetch(url, { headers: { Accept: "application/json" } });
      if (response.ok) {
        const status = await response.json();
        show(status, box);
        if (status.state !== "running") return;
      }
    } catch (err) {
      // The server may be restarting; keep asking.
    }
    setTimeout(tick, every);
  };
  tick();
}

// The preview screen's mapping step: a changed field, or the box "the first row is a customer",
// applies at once (the form is sent and the preview comes back with it); without this script,
// the Apply button does the same.
function mappingStep(form) {
  form.classList.add("live");
  form.addEventListener("change", (event) => {
    const box = event.target instanceof HTMLInputElement && event.target.type === "checkbox";
    if (event.target instanceof HTMLSelectElement || box) {
      form.requestSubmit();
      form.setAttribute("aria-busy", "true");
    }
  });
}

document.addEventListener("DOMContentLoaded", () => {
  const box = document.getElementById("run");
  if (box && box.dataset.state === "running") poll(box);
  const form = document.getElementById("mapping-form");
  if (form) mappingStep(form);
});
