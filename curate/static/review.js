// chara review page: a click rejects an image from its class, or restores a
// rejected one; the server saves it to the journal and the decisions file
// and answers with every decision the click changed.
"use strict";
document.addEventListener("click", async (ev) => {
  if (ev.target.closest("a")) return;
  const card = ev.target.closest("figure.card");
  if (!card) return;
  const action = card.dataset.decision === "rejected" ? "restore" : "reject";
  card.classList.add("pending");
  const status = document.getElementById("status");
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
    status.textContent = action + "ed " + card.dataset.sha.slice(0, 10);
  } catch (e) {
    status.textContent = "not saved: " + e.message;
  } finally {
    card.classList.remove("pending");
  }
});
