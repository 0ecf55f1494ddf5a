// The practice tab of jaxdl's course page: a student picks a problem, gets a verified variant,
// types the answers part by part and is told, per blank, right or wrong — and which common
// mistake a wrong number is, or the part's hint — then sees the worked solution. Offline: the
// pool, the words and the variants' HTML are in the page; the record stays in localStorage.
(function () {
  "use strict";
  const app = document.getElementById("practice-app");
  if (!app) return;
  const read = (id) => JSON.parse(document.getElementById(id).textContent);
  const POOL = read("practice-pool");
  const TEXT = read("practice-text");
  const PACKED = read("practice-html");
  const PICKS = read("practice-picks");
  const STORE = "jaxdl-practice-record";
  const UI = {
    hr: {check: "Provjeri", next: "Nova inačica", clear: "Obriši zapis", right: "Točno.", wrong: "Netočno.",
         empty: "Nema odgovora.", nan: "To nije broj (decimalni zarez ili točka).", solution: "Rješenje",
         record: "Vaš zapis", attempted: "pokušano", solved: "sve točno", pick: "Odaberite zadatak.",
         variant: "inačica", hint: "Uputa", mistake: "Česta pogreška"},
    en: {check: "Check", next: "Next variant", clear: "Clear the record", right: "Right.", wrong: "Wrong.",
         empty: "No answer.", nan: "Not a number (a decimal point or comma).", solution: "Solution",
         record: "Your record", attempted: "attempted", solved: "all right", pick: "Pick a problem.",
         variant: "variant", hint: "Hint", mistake: "A common mistake"},
  };
  const byKey = new Map(POOL.map((r) => [r.problem + "/" + r.id + "/" + r.lang, r]));
  // problem/lang → {labels: {id: {blank: label}}, <question code>: {question: {id: html}, solution: {id: html}}}
  const pages = {};
  let current = null;  // {pick, id}

  function lang() {
    const en = document.getElementById("lang-en");
    return en && en.checked ? "en" : "hr";
  }

  // Base 85 with RFC 1924's digits (Python's base64.b85encode): 4 bytes in 5 characters.
  const B85 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz!#$%&()*+-;<=>?@^_`{|}~";
  function b85decode(text) {
    const value = new Map([...B85].map((c, i) => [c, i]));
    const pad = (5 - (text.length % 5)) % 5;
    const full = text + "~".repeat(pad);
    const out = new Uint8Array((full.length / 5) * 4);
    for (let i = 0, o = 0; i < full.length; i += 5, o += 4) {
      let n = 0;
      for (let j = 0; j < 5; j++) n = n * 85 + value.get(full[i + j]);
      out[o] = n >>> 24; out[o + 1] = (n >>> 16) & 255; out[o + 2] = (n >>> 8) & 255; out[o + 3] = n & 255;
    }
    return out.subarray(0, out.length - pad);
  }

  async function page(problem, code) {
    const key = problem + "/" + code;
    if (!pages[key]) {
      const bytes = b85decode(PACKED[problem][code]);
      const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("deflate"));
      pages[key] = JSON.parse(await new Response(stream).text());
    }
    return pages[key];
  }

  function recordOf() {
    try { return JSON.parse(localStorage.getItem(STORE)) || {}; } catch (e) { return {}; }
  }

  function note(problem, id, allRight) {
    const rec = recordOf();
    const r = rec[problem] || (rec[problem] = {attempted: 0, right: 0, seen: {}});
    if (!(id in r.seen)) { r.seen[id] = 0; r.attempted += 1; }
    if (allRight && !r.seen[id]) { r.seen[id] = 1; r.right += 1; }
    localStorage.setItem(STORE, JSON.stringify(rec));
    showRecord();
  }

  function showRecord() {
    const ui = UI[lang()], rec = recordOf();
    const rows = Object.keys(TEXT).map((p) => {
      const r = rec[p] || {attempted: 0, right: 0};
      return `<tr data-problem="${p}"><td>${p}</td><td data-count="attempted">${r.attempted}</td>` +
             `<td data-count="right">${r.right}</td></tr>`;
    }).join("");
    app.querySelector(".practice-record").innerHTML =
      `<h3>${ui.record}</h3><table><thead><tr><th></th><th>${ui.attempted}</th><th>${ui.solved}</th></tr>` +
      `</thead><tbody>${rows}</tbody></table><button type="button" data-action="clear">${ui.clear}</button>`;
  }

  function esc(text) {
    return String(text).replace(/[&<>"]/g, (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}[c]));
  }

  function pickOf(name) { return PICKS.find((p) => p.pick === name); }

  function partsOf(record, pick) {
    return record.parts.filter((part) => pick.questions.some((q) => part.part === q || part.part.startsWith(q + "(")));
  }

  async function show() {
    const box = app.querySelector("#practice-variant");
    if (!current) { box.innerHTML = `<p>${UI[lang()].pick}</p>`; return; }
    const code = lang(), ui = UI[code], pick = pickOf(current.pick);
    const record = byKey.get(pick.problem + "/" + current.id + "/" + code);
    box.replaceChildren();  // at once: no answer is ever typed into the previous variant
    const html = await page(pick.problem, code);
    const questions = pick.questions.map((q) => html[q].question[current.id]).join("");
    const fields = partsOf(record, pick).map((part) => {
      const inputs = part.blanks.map((b) => {
        const key = `${record.problem}/${record.id}/${part.part}/${b.blank}`;
        return `<label>${esc(html.labels[current.id][b.blank])} <input type="text" inputmode="decimal" autocomplete="off" ` +
               `data-blank="${esc(key)}"></label> <span class="practice-feedback" data-for="${esc(key)}"></span>`;
      }).join("<br>");
      return `<fieldset data-part="${esc(part.part)}"><legend>${esc(part.part)}</legend>${inputs}</fieldset>`;
    }).join("");
    const answers = TEXT[record.problem][code].code || {};
    const solutions = pick.questions.map((q) => html[q].solution[current.id] + (answers[q] || "")).join("");
    box.innerHTML = `<article data-problem="${record.problem}" data-id="${record.id}" data-pick="${pick.pick}" ` +
      `lang="${code}">` +
      `<p class="muted">${pick.pick} · ${ui.variant} ${record.id}</p>${questions}` +
      `<form class="practice-answers" onsubmit="return false">${fields}</form>` +
      `<button type="button" data-action="check">${ui.check}</button>` +
      `<div class="practice-solution" hidden><h3>${ui.solution}</h3>${solutions}</div></article>`;
  }

  function parse(text) {
    const t = text.trim().replace(/\u2212/g, "-").replace(",", ".");
    return t === "" ? null : (/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(t) ? Number(t) : NaN);
  }

  function check() {
    const code = lang(), ui = UI[code], pick = pickOf(current.pick);
    const record = byKey.get(pick.problem + "/" + current.id + "/" + code);
    const words = TEXT[record.problem][code];
    let allRight = true;
    for (const part of partsOf(record, pick)) {
      for (const b of part.blanks) {
        const key = `${record.problem}/${record.id}/${part.part}/${b.blank}`;
        const input = app.querySelector(`input[data-blank="${CSS.escape(key)}"]`);
        const out = app.querySelector(`.practice-feedback[data-for="${CSS.escape(key)}"]`);
        const x = parse(input.value), slack = 1e-9 * Math.max(1, Math.abs(b.key));
        const right = x !== null && !Number.isNaN(x) && Math.abs(x - b.key) <= b.tol + slack;
        const found = right || x === null || Number.isNaN(x) ? null
          : b.mistakes.find((m) => Math.abs(x - m.value) <= b.tol + slack);
        for (const el of [input, out]) {
          el.dataset.verdict = right ? "right" : "wrong";
          if (found) el.dataset.mistake = found.name; else delete el.dataset.mistake;
        }
        let say = right ? ui.right : ui.wrong + " ";
        if (!right) {
          if (x === null) say += ui.empty;
          else if (Number.isNaN(x)) say += ui.nan;
          else if (found) say += `${ui.mistake}: ${words.mistakes[found.name].title} — ${words.mistakes[found.name].why}`;
          else say += `${ui.hint}: ${words.hints[part.part] || ""}`;
        }
        out.textContent = say;
        allRight = allRight && right;
      }
    }
    app.querySelector(".practice-solution").hidden = false;
    note(record.problem, record.id, allRight);
  }

  function next() {
    if (!current) return;
    const pick = pickOf(current.pick);
    const ids = POOL.filter((r) => r.problem === pick.problem && r.lang === lang() && partsOf(r, pick).length)
                    .map((r) => r.id);
    let id = ids[Math.floor(Math.random() * ids.length)];
    if (ids.length > 1) while (id === current.id) id = ids[Math.floor(Math.random() * ids.length)];
    current = {pick: pick.pick, id};
    return show();
  }

  app.addEventListener("click", (event) => {
    const target = event.target.closest("[data-action], [data-pick]");
    if (!target) return;
    if (target.dataset.pick) { current = {pick: target.dataset.pick, id: null}; next(); }
    else if (target.dataset.action === "next") next();
    else if (target.dataset.action === "check" && current) check();
    else if (target.dataset.action === "clear") { localStorage.removeItem(STORE); showRecord(); }
  });
  for (const radio of document.querySelectorAll("input.lang-switch")) {
    radio.addEventListener("change", () => { relabel(); showRecord(); show(); });
  }

  function relabel() {
    const ui = UI[lang()];
    app.querySelector('[data-action="next"]').textContent = ui.next;
  }

  relabel();
  showRecord();
  show();
  app.dataset.ready = "true";
})();
