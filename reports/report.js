// Client-side filtering and sorting of the findings. No network, no data interpreted as HTML: rows are rendered
// (escaped) by the server; this only shows, hides and reorders them.
(function () {
  "use strict";
  const bar = document.getElementById("filters");
  if (!bar) { return; }
  const rows = Array.from(document.querySelectorAll("tr.finding"));
  const text = new Map(rows.map((r) => [r, r.textContent.toLowerCase()]));
  const bodies = Array.from(document.querySelectorAll("tbody[data-section]"));
  const severityBoxes = Array.from(bar.querySelectorAll("input[name=severity]"));
  const provider = document.getElementById("filter-provider");
  const account = document.getElementById("filter-account");
  const search = document.getElementById("filter-text");
  const shown = document.getElementById("shown");

  function apply() {
    const severities = new Set(severityBoxes.filter((b) => b.checked).map((b) => b.value));
    const p = provider.value;
    const a = account.value;
    const q = search.value.trim().toLowerCase();
    let total = 0;
    for (const body of bodies) {
      let visible = 0;
      for (const row of body.rows) {
        if (!row.classList.contains("finding")) { continue; }
        const d = row.dataset;
        const show = severities.has(d.severity) && (!p || d.provider === p) && (!a || d.account === a) &&
          (!q || text.get(row).includes(q));
        if (row.hidden === show) { row.hidden = !show; }
        if (show) { visible += 1; }
      }
      total += visible;
      const section = body.dataset.section;
      const counter = document.querySelector("[data-shown-for='" + section + "']");
      if (counter) { counter.textContent = String(visible); }
      const none = body.querySelector("tr.no-match");
      if (none) { none.hidden = visible > 0 || body.querySelectorAll("tr.finding").length === 0; }
    }
    shown.textContent = String(total);
  }

  let timer = 0;
  function applySoon() {
    window.clearTimeout(timer);
    timer = window.setTimeout(apply, 120);
  }

  const keys = {
    severity: (r) => Number(r.dataset.rank),
    resource: (r) => r.dataset.resource,
    account: (r) => r.dataset.account,
    exposure: (r) => Number(r.dataset.exposure),
    "first-seen": (r) => r.dataset.firstSeen,
  };

  function sortTable(button) {
    const th = button.closest("th");
    const table = th.closest("table");
    const body = table.tBodies[0];
    const key = keys[button.dataset.sort];
    const descending = th.getAttribute("aria-sort") !== "descending";
    for (const other of table.querySelectorAll("th[aria-sort]")) { other.removeAttribute("aria-sort"); }
    th.setAttribute("aria-sort", descending ? "descending" : "ascending");
    const sorted = Array.from(body.querySelectorAll("tr.finding"));
    sorted.sort((x, y) => {
      const kx = key(x);
      const ky = key(y);
      const order = kx < ky ? -1 : kx > ky ? 1 : 0;
      return descending ? -order : order;
    });
    const fragment = document.createDocumentFragment();
    for (const row of sorted) { fragment.appendChild(row); }
    body.insertBefore(fragment, body.querySelector("tr.no-match"));
  }

  bar.addEventListener("submit", (event) => { event.preventDefault(); apply(); });  // Enter in the text box
  for (const box of severityBoxes) { box.addEventListener("change", apply); }
  provider.addEventListener("change", apply);
  account.addEventListener("change", apply);
  search.addEventListener("input", applySoon);
  document.getElementById("filter-clear").addEventListener("click", () => {
    for (const box of severityBoxes) { box.checked = true; }
    provider.value = "";
    account.value = "";
    search.value = "";
    apply();
  });
  for (const button of document.querySelectorAll("th button[data-sort]")) {
    button.addEventListener("click", () => sortTable(button));
  }
  bar.hidden = false;
  apply();
}());
