// The field form shows the choices only for choice types, the target only for lookups and
// "encrypted" only for text-like types; the server ignores the first two otherwise and refuses
// encryption of other types (crm/customization/services.py), so this only tidies the form.
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
    var encrypted = document.getElementById("id_encrypted");
    if (encrypted) {  // its data-types are crm/customization/secrets.py ENCRYPTABLE_TYPES; a checked box stays shown
      var types = (encrypted.getAttribute("data-types") || "").split(" ");
      show("id_encrypted", types.indexOf(type.value) >= 0 || encrypted.checked);
    }
  }
  document.addEventListener("change", function (e) {
    if (e.target && e.target.id === "id_field_type") sync();
  });
  document.addEventListener("DOMContentLoaded", sync);
})();
