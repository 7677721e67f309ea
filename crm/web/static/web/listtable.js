// List tables. The frame is fitted to the window (its horizontal scroll bar in view) and shaded at its
// right edge while columns lie past it.
//
// Column widths: drag a header's right edge, or focus that edge and press ← / →
// (Shift: bigger steps). The width is kept for the user, per list and per view (POST to the table's
// data-widths-url; crm/web/column_widths.py). The Content-Security-Policy allows no style attributes
// in the HTML, so the kept widths come as data attributes and are set here as style properties.
// Wide screens only: under 720 px the rows are cards and nothing is sized.
(function () {
  "use strict";

  var WIDE = window.matchMedia("(min-width: 721px)");
  var MIN = 40, MAX = 1200, STEP = 16;
  var saveTimers = new WeakMap();

  function headCells(table) { return Array.prototype.slice.call(table.tHead.rows[0].cells); }
  function kept(table) {
    try { return JSON.parse(table.dataset.widths || "{}") || {}; } catch (e) { return {}; }
  }
  function clamp(w) { return Math.max(MIN, Math.min(MAX, Math.round(w))); }

  // Fixed layout from the widths the columns have now (a kept width replaces its column's), the table
  // exactly as wide as its columns: a column then changes alone, the others stay put.
  function size(table, widths) {
    var cells = headCells(table);
    var now = cells.map(function (th) { return th.getBoundingClientRect().width; });
    cells.forEach(function (th, i) {
      var w = th.dataset.col && widths[th.dataset.col] ? widths[th.dataset.col] : now[i];
      th.style.width = w + "px";
    });
    table.classList.add("sized");
    fit(table);
  }
  function fit(table) {
    var total = headCells(table).reduce(function (sum, th) { return sum + parseFloat(th.style.width || 0); }, 0);
    table.style.width = total + "px";
  }
  function unsize(table) {
    table.classList.remove("sized");
    table.style.width = "";
    headCells(table).forEach(function (th) { th.style.width = ""; });
    table.querySelectorAll(".colgrip").forEach(function (g) { g.remove(); });
  }

  function setWidth(table, th, w, grip) {
    if (!table.classList.contains("sized")) size(table, kept(table));
    w = clamp(w);
    th.style.width = w + "px";
    fit(table);
    shade(table.closest(".tablewrap"));
    grip.setAttribute("aria-valuenow", String(w));
    return w;
  }

  function save(table, key, w) {
    var widths = kept(table);
    widths[key] = w;
    table.dataset.widths = JSON.stringify(widths);
    clearTimeout(saveTimers.get(table));
    saveTimers.set(table, setTimeout(function () { send(table); }, 400));
  }
  function send(table) {
    var widths = kept(table);
    var body = new URLSearchParams();
    body.set("view", table.dataset.widthsView || "");
    body.set("widths", Object.keys(widths).map(function (k) { return k + ":" + widths[k]; }).join(","));
    fetch(table.dataset.widthsUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": window.crm ? window.crm.csrfToken() : "" },
      body: body
    }).then(function (r) {
      if (r.ok) return;
      return r.json().then(function (data) { throw new Error(data.error || r.status); });
    }).catch(function (err) {
      if (window.crm) window.crm.toast("The column width was not kept: " + err.message);
    });
  }

  function addGrips(table) {
    headCells(table).forEach(function (th) {
      if (!th.dataset.col || th.querySelector(".colgrip")) return;
      var grip = document.createElement("span");
      grip.className = "colgrip";
      grip.tabIndex = 0;
      grip.setAttribute("role", "separator");
      grip.setAttribute("aria-orientation", "vertical");
      grip.setAttribute("aria-label", "Width of the " + th.dataset.colLabel + " column");
      grip.setAttribute("aria-valuemin", String(MIN));
      grip.setAttribute("aria-valuemax", String(MAX));
      grip.setAttribute("aria-valuenow", String(Math.round(th.getBoundingClientRect().width)));
      grip.title = "Drag to resize; ← → with the keyboard";
      th.appendChild(grip);
    });
  }

  function prepare(table) {
    if (!WIDE.matches) { unsize(table); return; }
    var widths = kept(table);
    if (Object.keys(widths).length) size(table, widths);
    addGrips(table);
  }

  document.addEventListener("pointerdown", function (e) {
    var grip = e.target.closest && e.target.closest(".colgrip");
    if (!grip || e.button !== 0) return;
    e.preventDefault();
    var th = grip.parentNode, table = th.closest("table");
    if (!table.classList.contains("sized")) size(table, kept(table));
    var startX = e.clientX, startW = th.getBoundingClientRect().width, width = startW;
    grip.setPointerCapture(e.pointerId);
    grip.classList.add("dragging");
    document.body.classList.add("colresizing");
    function move(ev) { width = setWidth(table, th, startW + ev.clientX - startX, grip); }
    function up() {
      grip.removeEventListener("pointermove", move);
      grip.removeEventListener("pointerup", up);
      grip.removeEventListener("pointercancel", up);
      grip.classList.remove("dragging");
      document.body.classList.remove("colresizing");
      if (Math.round(width) !== Math.round(startW)) save(table, th.dataset.col, clamp(width));
    }
    grip.addEventListener("pointermove", move);
    grip.addEventListener("pointerup", up);
    grip.addEventListener("pointercancel", up);
  });
  // A click on the edge must not sort the column (the header's link sits under it).
  document.addEventListener("click", function (e) {
    if (e.target.closest && e.target.closest(".colgrip")) e.preventDefault();
  }, true);

  document.addEventListener("keydown", function (e) {
    var grip = e.target.closest && e.target.closest(".colgrip");
    if (!grip || (e.key !== "ArrowLeft" && e.key !== "ArrowRight")) return;
    e.preventDefault();
    e.stopPropagation();  // not the list's j/k/arrow shortcuts
    var th = grip.parentNode, table = th.closest("table");
    var step = (e.shiftKey ? 4 : 1) * STEP * (e.key === "ArrowLeft" ? -1 : 1);
    save(table, th.dataset.col, setWidth(table, th, th.getBoundingClientRect().width + step, grip));
  });

  // The frame ends above the window's bottom edge (at least 320 px tall), so a wide table's scroll bar
  // shows without scrolling the page; the shade says columns lie past the right edge.
  function fitFrame(frame) {
    var wrap = frame.querySelector(".tablewrap");
    if (!wrap) return;
    if (WIDE.matches) {
      var room = window.innerHeight - Math.max(wrap.getBoundingClientRect().top, 0) - 16;
      wrap.style.maxHeight = Math.max(320, Math.round(room)) + "px";
    } else {
      wrap.style.maxHeight = "";
    }
    shade(wrap);
  }
  function shade(wrap) {
    if (!wrap) return;
    var frame = wrap.parentNode;
    frame.style.setProperty("--frame-scrollbar", (wrap.offsetHeight - wrap.clientHeight) + "px");
    frame.style.setProperty("--frame-scrollbar-v", (wrap.offsetWidth - wrap.clientWidth) + "px");
    frame.classList.toggle("more-right", wrap.scrollLeft + wrap.clientWidth < wrap.scrollWidth - 1);
  }
  document.addEventListener("scroll", function (e) {
    if (e.target.classList && e.target.classList.contains("tablewrap")) shade(e.target);
  }, true);

  function prepareAll() {
    document.querySelectorAll("table[data-widths-url]").forEach(prepare);
    document.querySelectorAll("[data-table-frame]").forEach(fitFrame);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", prepareAll);
  else prepareAll();
  document.addEventListener("htmx:afterSettle", prepareAll);  // the filters swap the table
  WIDE.addEventListener("change", prepareAll);
  window.addEventListener("resize", function () { document.querySelectorAll("[data-table-frame]").forEach(fitFrame); });
})();
