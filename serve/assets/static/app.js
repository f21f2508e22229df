// chara serve: the page talks to the JSON API only.
"use strict";

const $ = (id) => document.getElementById(id);
let queryURL = null;

function pct(p) {
  return (100 * p).toFixed(1) + "%";
}

function showError(msg) {
  $("busy").hidden = true;
  $("result").hidden = true;
  $("error").textContent = msg;
  $("error").hidden = false;
}

function showResult(data) {
  $("busy").hidden = true;
  $("error").hidden = true;
  const top = data.predictions[0];
  // Below the run's open-set threshold: a stranger, not one of the classes.
  $("result-name").textContent = data.none ? "none of these characters" : top.class;
  $("result-prob").textContent = data.none ? "(closest: " + top.class + " " + pct(top.prob) + ")" : pct(top.prob);
  $("result-picture").hidden = !!data.none;
  $("result-picture").src = top.picture;
  $("result-picture").alt = top.class;
  const chart = $("chart");
  chart.replaceChildren();
  for (const p of data.predictions.slice(0, 5)) {
    const li = document.createElement("li");
    li.dataset.label = p.label;
    const label = document.createElement("span");
    label.className = "label";
    label.textContent = p.class;
    const track = document.createElement("span");
    track.className = "track";
    const bar = document.createElement("span");
    bar.className = "bar";
    bar.style.display = "block";
    bar.style.width = (100 * p.prob).toFixed(2) + "%";
    track.append(bar);
    const v = document.createElement("span");
    v.className = "pct";
    v.textContent = pct(p.prob);
    li.append(label, track, v);
    chart.append(li);
  }
  $("result").hidden = false;
}

async function predict(blob) {
  if (queryURL) URL.revokeObjectURL(queryURL);
  queryURL = URL.createObjectURL(blob);
  $("query").src = queryURL;
  $("error").hidden = true;
  $("busy").hidden = false;
  let res;
  try {
    res = await fetch("/api/predict?top=5", {
      method: "POST",
      headers: { "Content-Type": blob.type || "application/octet-stream" },
      body: blob,
    });
  } catch (e) {
    showError("The server cannot be reached: " + e.message);
    return;
  }
  let data = null;
  try {
    data = await res.json();
  } catch (e) {
    showError("Unexpected answer from the server (HTTP " + res.status + ").");
    return;
  }
  if (!res.ok) {
    showError(data.error || "HTTP " + res.status);
    return;
  }
  showResult(data);
}

async function loadSamples() {
  const res = await fetch("/api/samples");
  const samples = await res.json();
  const box = $("samples");
  if (samples.length === 0) {
    box.textContent = "No test images available.";
    return;
  }
  for (const s of samples) {
    const b = document.createElement("button");
    b.type = "button";
    b.className = "sample";
    b.dataset.id = s.id;
    b.title = s.class;
    const img = document.createElement("img");
    img.src = s.url;
    img.alt = "sample " + s.id;
    b.append(img);
    b.addEventListener("click", async () => {
      const r = await fetch(s.url);
      if (!r.ok) {
        showError("Cannot load sample " + s.id + " (HTTP " + r.status + ").");
        return;
      }
      predict(await r.blob());
    });
    box.append(b);
  }
}

async function loadClasses() {
  const res = await fetch("/api/classes");
  const info = await res.json();
  $("run").textContent = "Run " + info.run + " · model " + info.model + " · dataset " + info.dataset +
    " · " + info.classes.length + " characters · test accuracy " + pct(info.test_acc);
  $("known").textContent = info.classes.map((c) => c.name).join(", ");
  $("max-upload").textContent = Math.round(info.max_upload / 1048576) + " MB";
}

function setupUpload() {
  $("file").addEventListener("change", (e) => {
    const f = e.target.files[0];
    if (f) predict(f);
    e.target.value = "";
  });
  const drop = $("drop");
  for (const ev of ["dragenter", "dragover"]) {
    drop.addEventListener(ev, (e) => {
      e.preventDefault();
      drop.classList.add("over");
    });
  }
  for (const ev of ["dragleave", "drop"]) {
    drop.addEventListener(ev, () => drop.classList.remove("over"));
  }
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    const f = e.dataTransfer.files[0];
    if (f) predict(f);
  });
  // Dropping outside the zone must not navigate away from the page.
  window.addEventListener("dragover", (e) => e.preventDefault());
  window.addEventListener("drop", (e) => e.preventDefault());
}

setupUpload();
loadClasses().catch((e) => showError("Cannot read the model's classes: " + e.message));
loadSamples().catch((e) => showError("Cannot list the samples: " + e.message));
