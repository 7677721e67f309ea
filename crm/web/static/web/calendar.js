// The calendar: drag an item (HTML5 drag and drop) onto another day cell (month) or hour slot (day,
// week); the drop posts to /calendar/move/ with the item's version, as its "Reschedule" form does.
// A refusal (stale version, no right, a task rule) puts the item back and says why.
(function () {
  "use strict";
  var cal = document.querySelector("[data-calendar]");
  if (!cal) return;
  var dragged = null;

  // Day and week open on the working day: scrolled to 07:00, or to the first item when it is earlier.
  var scroller = cal.querySelector(".calscroll");
  var seven = cal.querySelector('[data-drop-time="07:00"]');
  if (scroller && seven) {
    var first = cal.querySelector(".calitem");
    var row = seven.closest("tr");
    if (first && first.closest("tr").offsetTop < row.offsetTop) row = first.closest("tr");
    var head = cal.querySelector("thead");
    scroller.scrollTop = row.offsetTop - (head ? head.offsetHeight : 0);
  }

  cal.addEventListener("dragstart", function (e) {
    var item = e.target.closest && e.target.closest(".calitem[draggable=true]");
    if (!item) return;
    dragged = item;
    item.classList.add("dragging");
    e.dataTransfer.effectAllowed = "move";
    e.dataTransfer.setData("text/plain", item.id);
  });
  cal.addEventListener("dragend", function () {
    if (dragged) dragged.classList.remove("dragging");
    cal.querySelectorAll(".dropping").forEach(function (c) { c.classList.remove("dropping"); });
    dragged = null;
  });
  cal.addEventListener("dragover", function (e) {
    var cell = e.target.closest && e.target.closest("[data-drop-day]");
    if (!cell || !dragged) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = "move";
    cal.querySelectorAll(".dropping").forEach(function (c) { if (c !== cell) c.classList.remove("dropping"); });
    cell.classList.add("dropping");
  });
  cal.addEventListener("drop", function (e) {
    var cell = e.target.closest && e.target.closest("[data-drop-day]");
    var item = dragged;
    if (!cell || !item) return;
    e.preventDefault();
    cell.classList.remove("dropping");
    if (cell.contains(item)) return;
    move(item, cell);
  });

  function move(item, cell) {
    var from = item.parentNode;
    var next = item.nextSibling;
    cell.appendChild(item);
    item.classList.add("saving");
    var body = new FormData();
    body.append("item", item.dataset.calItem);
    body.append("id", item.dataset.id);
    body.append("version", item.dataset.version);
    body.append("day", cell.dataset.dropDay);
    if (cell.dataset.dropTime) body.append("time", cell.dataset.dropTime);
    fetch(cal.dataset.moveUrl, {
      method: "POST", body: body, credentials: "same-origin",
      headers: { "X-CSRFToken": window.crm.csrfToken(), "Accept": "application/json" }
    }).then(function (response) {
      return response.json().then(function (data) { return { ok: response.ok, data: data }; });
    }).then(function (r) {
      item.classList.remove("saving");
      if (!r.ok) {
        from.insertBefore(item, next);
        window.crm.toast(r.data.error || "The item was not moved.");
        return;
      }
      item.dataset.version = r.data.version;
      var form = item.querySelector("form");
      if (form) {
        form.elements.version.value = r.data.version;
        form.elements.day.value = r.data.day;
        if (cell.dataset.dropTime) form.elements.time.value = cell.dataset.dropTime;
      }
      if (cell.dataset.dropTime) item.querySelector(".caltime").textContent = cell.dataset.dropTime;
      window.crm.toast("Moved “" + item.querySelector(".caltitle").textContent + "” to " + r.data.when + ".");
    }).catch(function () {
      item.classList.remove("saving");
      from.insertBefore(item, next);
      window.crm.toast("The server cannot be reached; the item was not moved.");
    });
  }
})();
