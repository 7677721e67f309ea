// Keyboard shortcuts ("?" lists them). The targets are links the server renders into the shortcuts
// dialog (data-goto, data-shortcut), so no path is written here and a shortcut exists only where the
// user may use it. Keys are ignored while typing (inputs, textareas, selects, contenteditable) and
// with Ctrl/Alt/Meta, so browser shortcuts keep working. "/" (search) lives in app.js.
(function () {
  "use strict";
  var GOTO_WAIT_MS = 1500;
  var waitingForGoto = false;
  var gotoTimer = null;

  function typing(el) {
    return el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));
  }
  function dialog() { return document.getElementById("shortcuts"); }
  function follow(selector) {
    var d = dialog();
    var link = d && d.querySelector(selector);
    if (link) window.location.assign(link.href);
    return !!link;
  }

  // --- the "?" dialog: modal (the page behind is inert), Tab stays inside, Escape closes ----------
  var opener = null;
  function openDialog() {
    var d = dialog();
    if (!d || d.open || !d.showModal) return;
    opener = document.activeElement;
    d.showModal();
    var first = focusables(d)[0];
    if (first) first.focus();
  }
  function focusables(root) {
    return Array.prototype.filter.call(
      root.querySelectorAll("a[href], button, input, select, textarea, [tabindex]:not([tabindex='-1'])"),
      function (el) { return !el.disabled && el.offsetParent !== null; });
  }
  document.addEventListener("keydown", function (e) {
    var d = dialog();
    if (!d || !d.open || e.key !== "Tab") return;
    var all = focusables(d);
    if (!all.length) return;
    var i = all.indexOf(document.activeElement);
    if (e.shiftKey && i <= 0) { e.preventDefault(); all[all.length - 1].focus(); }
    else if (!e.shiftKey && i === all.length - 1) { e.preventDefault(); all[0].focus(); }
  });
  document.addEventListener("close", function (e) {
    if (e.target === dialog() && opener && opener.focus) opener.focus();
  }, true);

  // --- j / k through list rows, Enter opens ---------------------------------------------------
  function rows() {
    return Array.prototype.filter.call(document.querySelectorAll("table.records tbody tr"), function (tr) {
      return tr.querySelector("td.lead a[href]");
    });
  }
  function selectRow(step) {
    var all = rows();
    if (!all.length) return false;
    var current = document.querySelector("table.records tr.kbd-selected");
    var i = all.indexOf(current);
    var next = all[i < 0 ? (step > 0 ? 0 : all.length - 1) : Math.max(0, Math.min(all.length - 1, i + step))];
    if (current) { current.classList.remove("kbd-selected"); current.removeAttribute("aria-current"); }
    next.classList.add("kbd-selected");
    next.setAttribute("aria-current", "true");
    var link = next.querySelector("td.lead a[href]");
    link.focus({ preventScroll: true });
    next.scrollIntoView({ block: "nearest" });
    return true;
  }

  // --- board: arrows move the focused card one stage, through its "Move to" menu (board.js) ----
  function moveCard(card, step) {
    var select = card.querySelector("[data-move-select]");
    if (!select) return false;
    var i = select.selectedIndex + step;
    if (i < 0 || i >= select.options.length) return true;
    select.selectedIndex = i;
    select.dataset.byKey = "1";
    select.dispatchEvent(new Event("change", { bubbles: true }));
    return true;
  }

  document.addEventListener("keydown", function (e) {
    if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey) return;
    if (typing(document.activeElement)) return;
    var d = dialog();
    if (d && d.open) return;
    var key = e.key;
    if (waitingForGoto) {
      waitingForGoto = false;
      clearTimeout(gotoTimer);
      if (/^[a-z]$/.test(key) && follow('[data-goto="' + key + '"]')) e.preventDefault();
      return;
    }
    var card = document.activeElement && document.activeElement.closest && document.activeElement.closest(".dealcard");
    if (card && (key === "ArrowLeft" || key === "ArrowRight")) {
      if (moveCard(card, key === "ArrowRight" ? 1 : -1)) e.preventDefault();
      return;
    }
    if (key === "?") { e.preventDefault(); openDialog(); }
    else if (key === "g") { waitingForGoto = true; gotoTimer = setTimeout(function () { waitingForGoto = false; }, GOTO_WAIT_MS); }
    else if (key === "n") { if (follow('[data-shortcut="new"]')) e.preventDefault(); }
    else if (key === "e") { if (follow('[data-shortcut="edit"]')) e.preventDefault(); }
    else if (key === "j" || key === "k") { if (selectRow(key === "j" ? 1 : -1)) e.preventDefault(); }
    else if (key === "Enter") {
      // The selected row's link has the focus, and Enter follows it natively; this covers a
      // selection whose focus went elsewhere (a click on the page's background).
      var selected = document.querySelector("table.records tr.kbd-selected td.lead a[href]");
      if (selected && document.activeElement === document.body) { e.preventDefault(); window.location.assign(selected.href); }
    }
  });
})();
