// Inline editing (crm/web/views/inline.py): click a value (or its ✎ button) to edit it in place;
// Enter saves, Escape cancels. The editor is added beside the value, which is hidden meanwhile, so
// cancelling only removes the editor. Saving answers the page's details or the list row re-rendered.
(function () {
  "use strict";

  var INTERACTIVE = "a, button, input, select, textarea, label, summary, [data-inline-form]";

  function boxOf(target) {
    var box = target.closest("[data-inline]");
    if (box) return box;
    var cell = target.closest("td, dd");
    return cell ? cell.querySelector("[data-inline]") : null;
  }

  function open(box) {
    var form = box.querySelector("[data-inline-form]");
    if (form) { focusFirst(form); return; }
    var button = box.querySelector(".inline-edit");
    if (button) button.click();
  }

  function focusFirst(form) {
    var field = form.querySelector(".has-error input:not([type=hidden]), .has-error select, .has-error textarea") ||
      form.querySelector("input:not([type=hidden]), select, textarea");
    if (!field) return;
    field.focus();
    if (field.select && /^(text|search|email|url|tel|number)$/.test(field.type)) field.select();
  }

  function cancel(form) {
    var box = form.closest("[data-inline]");
    form.remove();
    if (!box) return;
    var show = box.querySelector("[data-inline-show]");
    if (show) show.hidden = false;
    var button = box.querySelector(".inline-edit");
    if (button) button.focus();
  }

  // A click on a shown value (not on a link in it) opens its editor.
  document.addEventListener("click", function (e) {
    var cancelButton = e.target.closest("[data-inline-cancel]");
    if (cancelButton) { cancel(cancelButton.closest("[data-inline-form]")); return; }
    if (e.target.closest(INTERACTIVE)) return;
    var selection = window.getSelection && window.getSelection();
    if (selection && String(selection).length) return; // selecting text to copy it
    var box = boxOf(e.target);
    if (box) open(box);
  });

  // A new editor (or one answered again with its messages): hide the value, focus the input.
  document.addEventListener("htmx:load", function (e) {
    var form = e.detail.elt;
    if (!form.matches || !form.matches("[data-inline-form]")) return;
    var box = form.closest("[data-inline]");
    var show = box && box.querySelector("[data-inline-show]");
    if (show) show.hidden = true;
    focusFirst(form);
  });

  document.addEventListener("keydown", function (e) {
    var form = e.target.closest && e.target.closest("[data-inline-form]");
    if (!form || e.defaultPrevented) return;
    if (e.key === "Escape") {
      e.preventDefault();
      cancel(form);
    } else if (e.key === "Enter" && !e.shiftKey && !e.isComposing && !e.target.matches("button, [data-pick-id]")) {
      e.preventDefault();
      form.requestSubmit();
    }
  });

  // After a save the value is shown again: keyboard focus goes back to its ✎ button.
  document.addEventListener("htmx:afterSettle", function (e) {
    var d = e.detail;
    var source = d.requestConfig && d.requestConfig.elt;
    if (!source || !source.matches || !source.matches("[data-inline-form]") || !d.xhr || d.xhr.status !== 200) return;
    var url = source.getAttribute("hx-post");
    var buttons = document.querySelectorAll(".inline-edit");
    for (var i = 0; i < buttons.length; i++) {
      if (buttons[i].getAttribute("hx-get") === url) { buttons[i].focus(); return; }
    }
  });
})();
