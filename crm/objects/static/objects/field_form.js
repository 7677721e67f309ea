// The field form shows the choices only for choice types and the target only for lookups; the
// server ignores them otherwise (crm/objects/web/forms.py), so this only tidies the form.
(function () {
  "use strict";
  function show(id, visible) {
    var input = document.getElementById(id);
    var box = input && input.closest(".field");
    if (box) box.hidden = !visible;
  }
  function sync() {
    var type = document.getElementById("id_field_type");
    if (!type) return;
    show("id_choices", type.value === "choice" || type.value === "multi_choice");
    show("id_target", type.value === "lookup");
  }
  document.addEventListener("change", function (e) {
    if (e.target && e.target.id === "id_field_type") sync();
  });
  document.addEventListener("DOMContentLoaded", sync);
})();
