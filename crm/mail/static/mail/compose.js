// The compose page: a small formatting editor over the body's textarea (the textarea stays the form
// field; without JavaScript it is edited as HTML) and picking a completed address into to/cc/bcc.
// The server sanitizes the body with nh3 whatever is posted.
(function () {
  "use strict";

  var BUTTONS = [
    ["bold", "B", "Bold"],
    ["italic", "I", "Italic"],
    ["underline", "U", "Underline"],
    ["insertUnorderedList", "•", "Bulleted list"],
    ["insertOrderedList", "1.", "Numbered list"],
    ["createLink", "Link", "Link"],
    ["removeFormat", "×", "Clear formatting"],
  ];

  function enhance(textarea) {
    if (textarea.dataset.rich) return;
    textarea.dataset.rich = "1";
    var bar = document.createElement("div");
    bar.className = "rich-bar";
    bar.setAttribute("role", "toolbar");
    bar.setAttribute("aria-label", "Formatting");
    var editor = document.createElement("div");
    editor.className = "rich-editor";
    editor.contentEditable = "true";
    editor.setAttribute("role", "textbox");
    editor.setAttribute("aria-multiline", "true");
    editor.setAttribute("aria-label", "Message");
    editor.innerHTML = textarea.value;
    BUTTONS.forEach(function (b) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "btn btn-small";
      button.textContent = b[1];
      button.title = b[2];
      button.setAttribute("aria-label", b[2]);
      button.addEventListener("click", function () {
        editor.focus();
        var arg = null;
        if (b[0] === "createLink") {
          arg = window.prompt("Link address (https://…)");
          if (!arg) return;
        }
        document.execCommand(b[0], false, arg);
        sync();
      });
      bar.appendChild(button);
    });
    function sync() {
      textarea.value = editor.innerHTML;
    }
    editor.addEventListener("input", sync);
    textarea.hidden = true;
    textarea.parentNode.insertBefore(bar, textarea);
    textarea.parentNode.insertBefore(editor, textarea);
    var form = textarea.form;
    if (form) form.addEventListener("submit", sync);
  }

  function enhanceAll(root) {
    (root || document).querySelectorAll("textarea.rich-text").forEach(enhance);
  }

  document.addEventListener("DOMContentLoaded", function () {
    enhanceAll(document);
  });
  document.addEventListener("htmx:afterSwap", function (e) {
    enhanceAll(e.target);
  });

  // A picked address replaces what was being typed after the last comma.
  document.addEventListener("click", function (e) {
    var pick = e.target.closest(".addr-pick");
    if (!pick) return;
    var input = document.getElementById("id_" + pick.dataset.field);
    if (!input) return;
    var parts = input.value.split(/[,;]/).map(function (p) { return p.trim(); }).filter(Boolean);
    parts.pop();
    parts.push(pick.dataset.address);
    input.value = parts.join(", ") + ", ";
    var options = document.getElementById(pick.dataset.field + "-options");
    if (options) options.textContent = "";
    input.focus();
  });
})();
