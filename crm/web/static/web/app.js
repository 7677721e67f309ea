// Small behaviours on top of htmx: the "/" shortcut, search results by keyboard, record pickers,
// quick-add tabs, list row selection and a toast for errors. No framework.
(function () {
  "use strict";

  function csrfToken() {
    try { return JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"]; } catch (e) { return ""; }
  }

  function toast(message) {
    var el = document.getElementById("toast");
    if (!el) return;
    el.textContent = message;
    el.hidden = false;
    clearTimeout(el._timer);
    el._timer = setTimeout(function () { el.hidden = true; }, 6000);
  }
  window.crm = { csrfToken: csrfToken, toast: toast };

  function typing(el) {
    return el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));
  }

  // "/" focuses the global search; Escape closes its results.
  document.addEventListener("keydown", function (e) {
    var search = document.getElementById("global-search");
    if (!search) return;
    if (e.key === "/" && !typing(document.activeElement) && !e.ctrlKey && !e.metaKey && !e.altKey) {
      e.preventDefault();
      search.focus();
      search.select();
    } else if (e.key === "Escape" && document.getElementById("search-results").contains(document.activeElement) || e.key === "Escape" && document.activeElement === search) {
      document.getElementById("search-results").innerHTML = "";
      search.focus();
    }
  });

  // Arrow keys move through the search results.
  document.addEventListener("keydown", function (e) {
    if (e.key !== "ArrowDown" && e.key !== "ArrowUp") return;
    var results = document.getElementById("search-results");
    if (!results) return;
    var hits = Array.prototype.slice.call(results.querySelectorAll("a"));
    if (!hits.length) return;
    var search = document.getElementById("global-search");
    var i = hits.indexOf(document.activeElement);
    if (document.activeElement === search && e.key === "ArrowDown") { e.preventDefault(); hits[0].focus(); return; }
    if (i < 0) return;
    e.preventDefault();
    if (e.key === "ArrowDown") hits[Math.min(i + 1, hits.length - 1)].focus();
    else if (i === 0) search.focus();
    else hits[i - 1].focus();
  });

  // Clicking elsewhere closes the search results and picker lists.
  document.addEventListener("click", function (e) {
    var results = document.getElementById("search-results");
    if (results && !e.target.closest(".search")) results.innerHTML = "";
    document.querySelectorAll(".picker-options").forEach(function (list) {
      if (!list.parentNode.contains(e.target)) list.innerHTML = "";
    });
  });

  // Record pickers: choosing an option fills the hidden id; clearing the text clears it.
  function pick(option) {
    var picker = option.closest("[data-picker]");
    picker.querySelector("[data-picker-value]").value = option.dataset.pickId;
    var text = picker.querySelector("[data-picker-text]");
    text.value = option.dataset.pickLabel;
    option.parentNode.innerHTML = "";
    text.setAttribute("aria-expanded", "false");
    text.focus();
  }
  document.addEventListener("click", function (e) {
    var option = e.target.closest("[data-pick-id]");
    if (option) pick(option);
  });
  document.addEventListener("keydown", function (e) {
    var text = e.target.closest && e.target.closest("[data-picker-text]");
    var option = e.target.closest && e.target.closest("[data-pick-id]");
    if (text && e.key === "ArrowDown") {
      var first = text.parentNode.querySelector("[data-pick-id]");
      if (first) { e.preventDefault(); first.focus(); }
    } else if (option && (e.key === "Enter" || e.key === " ")) {
      e.preventDefault(); pick(option);
    } else if (option && (e.key === "ArrowDown" || e.key === "ArrowUp")) {
      e.preventDefault();
      var next = e.key === "ArrowDown" ? option.nextElementSibling : option.previousElementSibling;
      if (next && next.dataset.pickId) next.focus();
      else if (e.key === "ArrowUp") option.closest("[data-picker]").querySelector("[data-picker-text]").focus();
    }
  });
  document.addEventListener("input", function (e) {
    var text = e.target.closest && e.target.closest("[data-picker-text]");
    if (text && !text.value.trim()) text.parentNode.querySelector("[data-picker-value]").value = "";
  });
  document.addEventListener("keydown", function (e) {
    // Enter in a picker's text box must not submit the form before a choice is made.
    if (e.key === "Enter" && e.target.matches && e.target.matches("[data-picker-text]")) e.preventDefault();
  });

  // Quick-add tabs on record pages.
  document.addEventListener("click", function (e) {
    var tab = e.target.closest("[data-quick-tab]");
    if (!tab) return;
    var box = tab.closest(".quick");
    var kind = tab.dataset.quickTab;
    box.querySelectorAll("[data-quick-tab]").forEach(function (t) { t.setAttribute("aria-selected", String(t === tab)); });
    var activity = box.querySelector("#quick-activity");
    var task = box.querySelector("#quick-task");
    if (task) task.hidden = kind !== "task";
    if (activity) {
      activity.hidden = kind === "task";
      if (kind !== "task") {
        activity.querySelector("[data-quick-kind]").value = kind;
        activity.querySelector("[data-quick-submit]").textContent = kind === "note" ? "Add note" : "Log " + kind;
        activity.setAttribute("aria-labelledby", tab.id);
      }
    }
    box.dataset.quick = kind;
    var first = box.querySelector((kind === "task" ? "#quick-task" : "#quick-activity") + " input:not([type=hidden]), textarea");
    if (first) first.focus();
  });
  document.addEventListener("keydown", function (e) {
    // Left/right arrows move between tabs, as in any tab list.
    var tab = e.target.closest && e.target.closest("[data-quick-tab]");
    if (!tab || (e.key !== "ArrowRight" && e.key !== "ArrowLeft")) return;
    var tabs = Array.prototype.slice.call(tab.parentNode.querySelectorAll("[data-quick-tab]"));
    var i = tabs.indexOf(tab) + (e.key === "ArrowRight" ? 1 : -1);
    var next = tabs[(i + tabs.length) % tabs.length];
    next.focus(); next.click();
  });

  // Disclosure buttons (the phone menu, a list's "Filters"): the button says whether its target is
  // open; CSS decides what "open" shows, and only on narrow screens (on a desktop everything shows).
  document.addEventListener("click", function (e) {
    var button = e.target.closest("[data-toggle]");
    if (!button) return;
    var target = document.getElementById(button.dataset.toggle);
    if (!target) return;
    var open = button.getAttribute("aria-expanded") !== "true";
    button.setAttribute("aria-expanded", String(open));
    target.classList.toggle("open", open);
  });
  document.addEventListener("keydown", function (e) {
    // Escape closes an open phone menu and gives the focus back to its button.
    if (e.key !== "Escape") return;
    var button = document.querySelector('.menubtn[aria-expanded="true"]');
    if (!button) return;
    button.click();
    button.focus();
  });

  // The column chooser: the arrows move a column up or down (never above the first, the record's name);
  // the form sends the ticked columns in the order they stand.
  document.addEventListener("click", function (e) {
    var button = e.target.closest("[data-col-move]");
    if (!button) return;
    var item = button.closest("[data-col]");
    var list = item.parentNode;
    if (button.dataset.colMove === "up") {
      var before = item.previousElementSibling;
      if (before && before.previousElementSibling) list.insertBefore(item, before);
    } else if (item.nextElementSibling) {
      list.insertBefore(item.nextElementSibling, item);
    }
    button.focus();
  });

  // List pages: select all, and a count of selected rows.
  function updateCount(form) {
    var n = form.querySelectorAll("input[name=ids]:checked").length;
    var out = form.querySelector("[data-selected-count]");
    if (out) out.textContent = n ? n + " selected" : "";
  }
  document.addEventListener("change", function (e) {
    var form = e.target.form;
    if (!form || form.id !== "bulk") return;
    if (e.target.matches("[data-select-all]")) {
      form.querySelectorAll("input[name=ids]").forEach(function (box) { box.checked = e.target.checked; });
    }
    updateCount(form);
  });
  document.addEventListener("submit", function (e) {
    if (e.target.id !== "bulk") return;
    if (!e.target.querySelector("input[name=ids]:checked")) { e.preventDefault(); toast("Select at least one row first."); }
  });

  // Picker lists opened/closed: keep aria-expanded honest.
  document.addEventListener("htmx:afterSwap", function (e) {
    var list = e.detail.target;
    if (list && list.classList && list.classList.contains("picker-options")) {
      var text = list.parentNode.querySelector("[data-picker-text]");
      if (text) text.setAttribute("aria-expanded", String(!!list.children.length));
    }
  });

  // A date or number the browser cannot read (2026-02-31 typed into a date box) would be sent as
  // "" and saved as no value: the submit stops and the box says why. Capture phase, so htmx's own
  // submit handlers on the form never see the event.
  function badInputMessage(el) {
    return el.type === "number" ? "Enter a number." : "Enter a real date: this one does not exist or is incomplete.";
  }
  document.addEventListener("submit", function (e) {
    var form = e.target;
    form.querySelectorAll("[data-bad-input]").forEach(function (p) { p.remove(); });
    var bad = Array.prototype.filter.call(form.elements, function (el) { return el.validity && el.validity.badInput; });
    form.querySelectorAll("[data-was-described]").forEach(function (el) {
      el.removeAttribute("aria-invalid");
      if (el.dataset.wasDescribed) el.setAttribute("aria-describedby", el.dataset.wasDescribed);
      else el.removeAttribute("aria-describedby");
      delete el.dataset.wasDescribed;
    });
    if (!bad.length) return;
    e.preventDefault();
    e.stopPropagation();
    bad.forEach(function (el, i) {
      var note = document.createElement("p");
      note.className = "errorlist bad-input";
      note.id = (el.id || el.name || "input") + "-bad-input-" + i;
      note.setAttribute("data-bad-input", "");
      note.setAttribute("role", "alert");
      note.textContent = badInputMessage(el);
      el.insertAdjacentElement("afterend", note);
      el.dataset.wasDescribed = el.getAttribute("aria-describedby") || "";
      el.setAttribute("aria-invalid", "true");
      el.setAttribute("aria-describedby", (el.dataset.wasDescribed + " " + note.id).trim());
    });
    bad[0].focus();
  }, true);

  document.addEventListener("htmx:responseError", function (e) {
    var status = e.detail.xhr.status;
    var moved = e.detail.xhr.getResponseHeader("X-Record-Moved");
    if (status === 404 && moved) { toast("This record was assigned to someone else; ask your manager."); return; }
    toast(status === 403 ? "You are not allowed to do that." : status === 404 ? "That record is gone or hidden from you." : "Something went wrong (" + status + "). Try again.");
  });
  document.addEventListener("htmx:sendError", function () { toast("The server cannot be reached. Check your connection."); });

  // The Content-Security-Policy allows no inline script or style: behaviour and per-record colours
  // that used to be inline attributes are applied here (setting a style property from a script is allowed).
  document.addEventListener("change", function (e) {
    if (e.target.matches && e.target.matches("[data-submit-on-change]") && e.target.form) e.target.form.submit();
  });
  function paint(root) {
    root.querySelectorAll("[data-colour]").forEach(function (el) {
      if (/^#[0-9a-f]{6}$/i.test(el.dataset.colour)) el.style.color = el.dataset.colour;
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", function () { paint(document); });
  else paint(document);
  document.addEventListener("htmx:afterSwap", function (e) { paint(e.detail.target); });
})();
