// chara review page: a click (or x on the selected image) rejects an image
// from its class, or restores a rejected one; the server saves it to the
// journal and the decisions file and answers with every decision the click
// changed and the classes' new counts, which the status bar shows.
"use strict";
const pageClass = document.body.dataset.class;
const status = () => document.getElementById("status");
const done = {reject: "rejected", restore: "restored"};

function setCounts(counts) {
  const c = counts && counts[pageClass];
  if (!c) return;
  for (const el of document.querySelectorAll(".count[data-kind]")) {
    el.textContent = c[el.dataset.kind] || 0;
  }
}

async function toggle(card) {
  if (card.classList.contains("pending")) return;
  const action = card.dataset.decision === "rejected" ? "restore" : "reject";
  card.classList.add("pending");
  try {
    const resp = await fetch("/api/review", {
      method: "POST",
      headers: {"Content-Type": "application/json"},
      body: JSON.stringify({sha256: card.dataset.sha, class: card.dataset.class, action: action}),
    });
    if (!resp.ok) throw new Error(await resp.text());
    const body = await resp.json();
    for (const d of body.changed || []) {
      for (const el of document.querySelectorAll("figure.card")) {
        if (el.dataset.sha !== d.sha256 || el.dataset.class !== d.class) continue;
        el.classList.remove(el.dataset.decision);
        el.dataset.decision = d.decision;
        el.classList.add(d.decision);
        el.querySelector(".verdict").textContent = d.decision;
        el.title = d.class + ": " + d.decision + " " + (d.reason || "");
      }
    }
    setCounts(body.counts);
    const others = (body.changed || []).length - 1;
    status().textContent = done[action] + " " + card.dataset.sha.slice(0, 10) +
      (others > 0 ? " and " + others + (others === 1 ? " duplicate" : " duplicates") : "");
  } catch (e) {
    status().textContent = "not saved: " + e.message;
  } finally {
    card.classList.remove("pending");
  }
}

// moveTo (suspects view) imports the image into its suggested class and
// rejects it from its own.
async function moveTo(card) {
  const to = card.dataset.suggest;
  if (!to) { status().textContent = "no suggested class for this image"; return; }
  if (card.classList.contains("pending") || card.dataset.decision === "rejected") return;
  card.classList.add("pending");
  try {
    const resp = await fetch("/api/move", {
      method: "POST",
      headers: {"Content-Type": "application/json"},
      body: JSON.stringify({sha256: card.dataset.sha, class: card.dataset.class, to: to}),
    });
    if (!resp.ok) throw new Error(await resp.text());
    const body = await resp.json();
    for (const d of body.changed || []) {
      for (const el of document.querySelectorAll("figure.card")) {
        if (el.dataset.sha !== d.sha256 || el.dataset.class !== d.class) continue;
        el.classList.remove(el.dataset.decision);
        el.dataset.decision = d.decision;
        el.classList.add(d.decision);
        el.querySelector(".verdict").textContent = d.decision === "rejected" ? "moved to " + body.moved_to : d.decision;
      }
    }
    status().textContent = "moved " + card.dataset.sha.slice(0, 10) + " to " + body.moved_to + " (kept there from the next curate or chara run)";
  } catch (e) {
    status().textContent = "not saved: " + e.message;
  } finally {
    card.classList.remove("pending");
  }
}

document.addEventListener("click", (ev) => {
  if (ev.target.closest("a")) return;
  const card = ev.target.closest("figure.card");
  if (card) { card.focus(); toggle(card); }
});

// Keyboard: arrows or hjkl move the selection, x/Delete/Enter toggles, o
// opens the full image, [ and ] change page, ? shows the keys.
function cards() { return Array.from(document.querySelectorAll("figure.card")); }
function move(dx, dy) {
  const all = cards();
  if (!all.length) return;
  const cur = document.activeElement && document.activeElement.closest ? document.activeElement.closest("figure.card") : null;
  if (!cur) { all[0].focus(); return; }
  if (dy === 0) {
    const i = all.indexOf(cur) + dx;
    if (i >= 0 && i < all.length) all[i].focus();
    return;
  }
  const r = cur.getBoundingClientRect();
  let best = null, bestD = Infinity;
  for (const el of all) {
    const q = el.getBoundingClientRect();
    if (dy > 0 ? q.top <= r.top + 1 : q.top >= r.top - 1) continue;
    const d = Math.abs(q.top - r.top) * 4 + Math.abs(q.left - r.left);
    if (d < bestD) { best = el; bestD = d; }
  }
  if (best) best.focus();
}

document.addEventListener("keydown", (ev) => {
  if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
  const help = document.getElementById("keyhelp");
  const cur = document.activeElement && document.activeElement.closest ? document.activeElement.closest("figure.card") : null;
  switch (ev.key) {
    case "ArrowRight": case "l": move(1, 0); break;
    case "ArrowLeft": case "h": move(-1, 0); break;
    case "ArrowDown": case "j": move(0, 1); break;
    case "ArrowUp": case "k": move(0, -1); break;
    case "x": case "Delete": case "Enter": if (cur) toggle(cur); else return; break;
    case "m": if (cur && cur.dataset.suggest !== undefined) moveTo(cur); else return; break;
    case "o": if (cur) window.open(cur.querySelector("a").href, "_blank", "noopener"); else return; break;
    case "]": if (document.body.dataset.next) location.href = document.body.dataset.next; else return; break;
    case "[": if (document.body.dataset.prev) location.href = document.body.dataset.prev; else return; break;
    case "?": help.hidden = !help.hidden; break;
    case "Escape": help.hidden = true; break;
    default: return;
  }
  ev.preventDefault();
});
