// Document AI Workbench: service health, document upload, questions. Same-origin calls only.
async function loadHealth() {
  const body = document.querySelector("#health-table tbody");
  const res = await fetch("/api/services");
  const data = await res.json();
  body.innerHTML = "";
  for (const row of data.services) {
    const tr = document.createElement("tr");
    const cls = row.status === "ok" ? "ok" : "bad";
    tr.innerHTML = `<td>${row.service}</td><td class="${cls}">${row.status}</td>`;
    body.appendChild(tr);
  }
  document.querySelector("#app").dataset.ready = "true";
}

async function show(target, response) {
  const text = await response.text();
  try { target.textContent = JSON.stringify(JSON.parse(text), null, 2); } catch (e) { target.textContent = text; }
}

document.querySelector("#upload-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const out = document.querySelector("#upload-result");
  out.textContent = "Processing...";
  await show(out, await fetch("/api/doc/documents", { method: "POST", body: new FormData(ev.target) }));
});

document.querySelector("#ask-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const out = document.querySelector("#ask-result");
  const question = new FormData(ev.target).get("question");
  out.textContent = "Thinking...";
  // the answer streams in (server-sent events from rag-service), token by token
  const res = await fetch("/api/rag/ask/stream", {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ question }) });
  if (!res.ok || !res.body) { await show(out, res); return; }
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "", answer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    const events = buffer.split("\n\n");
    buffer = events.pop();
    for (const ev of events) {
      if (!ev.startsWith("data: ")) continue;
      const data = JSON.parse(ev.slice(6));
      if (data.token) { answer += data.token; out.textContent = answer; }
      if (data.error) { out.textContent = `error: ${data.error}`; }
      if (data.done) { out.dataset.done = "true"; out.textContent = data.answer; }
    }
  }
});

loadHealth().catch((err) => {
  document.querySelector("#health-table tbody").innerHTML = `<tr><td colspan="2" class="bad">${err}</td></tr>`;
  document.querySelector("#app").dataset.ready = "true";
});
