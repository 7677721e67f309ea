// A button with data-copy="<selector>" copies that input's value to the clipboard and says so.
// Falls back to selecting the text (the user copies it) where the clipboard API is not allowed.
document.addEventListener("click", async (event) => {
  const button = event.target.closest("[data-copy]");
  if (!button) return;
  const field = document.querySelector(button.dataset.copy);
  if (!field) return;
  field.select();
  try {
    await navigator.clipboard.writeText(field.value);
  } catch (_) {
    document.execCommand("copy");
  }
  const note = button.parentElement.querySelector("[data-copied]");
  if (note) note.hidden = false;
});
