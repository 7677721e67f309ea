// The pipeline board: drag a card (SortableJS, mouse and touch) or use its "Move to" menu; both post
// to /deals/<id>/move/. A drop on a lost stage asks for the reason first; an error puts the card back.
(function () {
  "use strict";
  var board = document.querySelector("[data-board]");
  if (!board) return;
  var moveUrl = board.dataset.moveUrl; // ".../deals/0/move/"
  var dialog = document.getElementById("lost-dialog");

  function askLostReason(stageName) {
    return new Promise(function (resolve) {
      if (!dialog || !dialog.showModal) { resolve(window.prompt("Why was this deal lost?") || null); return; }
      var input = dialog.querySelector("input[name=lost_reason]");
      input.value = "";
      dialog.returnValue = "";
      dialog.showModal();
      dialog.addEventListener("close", function onClose() {
        dialog.removeEventListener("close", onClose);
        resolve(dialog.returnValue === "ok" && input.value.trim() ? input.value.trim() : null);
      });
    });
  }

  function column(stageId) { return board.querySelector('.cards[data-stage="' + stageId + '"]'); }

  function putBack(card, from, index) {
    var ref = from.children[index] || null;
    from.insertBefore(card, ref);
  }

  function move(card, toList, undo) {
    var stageId = toList.dataset.stage;
    var reasonNeeded = toList.dataset.lost === "1";
    var go = reasonNeeded ? askLostReason(toList.dataset.stageName) : Promise.resolve("");
    return go.then(function (reason) {
      if (reason === null) { undo(); return; }
      var body = new FormData();
      body.append("stage_id", stageId);
      body.append("version", card.dataset.version);
      if (reason) body.append("lost_reason", reason);
      card.classList.add("saving");
      return fetch(moveUrl.replace("/0/", "/" + card.dataset.deal + "/"), {
        method: "POST", body: body, credentials: "same-origin",
        headers: { "X-CSRFToken": window.crm.csrfToken(), "Accept": "application/json" }
      }).then(function (response) {
        return response.json().then(function (data) { return { ok: response.ok, data: data }; });
      }).then(function (r) {
        card.classList.remove("saving");
        if (!r.ok) {
          undo();
          var hint = r.data.code === "version_conflict" ? " Reload the board to see the latest." : "";
          window.crm.toast((r.data.error || "The move failed.") + hint);
          return;
        }
        var holder = document.createElement("ol");
        holder.innerHTML = r.data.card.trim();
        var fresh = holder.firstElementChild;
        card.replaceWith(fresh);
        var empty = toList.querySelector("[data-empty]");
        if (empty) empty.remove();
        Object.keys(r.data.stats).forEach(function (id) {
          var el = board.querySelector('[data-stats="' + id + '"]');
          if (el) el.innerHTML = r.data.stats[id];
        });
        window.crm.toast("Moved “" + fresh.querySelector(".dealname").textContent + "” to " + toList.dataset.stageName + ".");
      }).catch(function () {
        card.classList.remove("saving");
        undo();
        window.crm.toast("The server cannot be reached; the deal was not moved.");
      });
    });
  }

  board.querySelectorAll(".cards").forEach(function (list) {
    if (!window.Sortable || !board.querySelector("[data-move-select]")) return;
    window.Sortable.create(list, {
      group: "deals",
      animation: 150,
      draggable: ".dealcard",
      filter: ".moveto, select",
      preventOnFilter: false,
      delayOnTouchOnly: true,
      delay: 150,
      ghostClass: "ghost",
      chosenClass: "chosen",
      onEnd: function (evt) {
        if (evt.from === evt.to) return;
        var card = evt.item;
        move(card, evt.to, function () { putBack(card, evt.from, evt.oldIndex); });
      }
    });
  });

  // The explicit control: works with a keyboard and on phones.
  board.addEventListener("change", function (e) {
    var select = e.target.closest("[data-move-select]");
    if (!select) return;
    var card = select.closest(".dealcard");
    var from = card.parentNode;
    var index = Array.prototype.indexOf.call(from.children, card);
    var original = card.querySelector("[data-move-select] option[selected]");
    var to = column(select.value);
    if (!to || to === from) return;
    to.insertBefore(card, to.firstChild);
    move(card, to, function () {
      putBack(card, from, index);
      if (original) select.value = original.value;
    }).then(function () {
      // Focus stays where the move began: the menu, or the card's name after an arrow key (keys.js).
      var moved = document.getElementById(card.id);
      var byKey = select.dataset.byKey;
      delete select.dataset.byKey;
      if (moved) { var s = moved.querySelector(byKey ? ".dealname" : "[data-move-select]"); if (s) s.focus(); }
    });
  });
})();
