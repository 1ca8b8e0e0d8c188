// Small progressive enhancements; every feature works without this file.
document.addEventListener("htmx:responseError", (event) => {
  if (event.detail.xhr.status === 422) return; // a form re-rendered with its errors
  const box = document.getElementById("messages");
  if (!box) return;
  const div = document.createElement("div");
  div.className = "flash flash-error";
  div.setAttribute("role", "alert");
  div.textContent = "That did not work (" + event.detail.xhr.status + "). Nothing was lost: please try again.";
  box.replaceChildren(div);
});

// htmx swaps 4xx responses only when told to: 422 is a form with its errors.
document.addEventListener("htmx:beforeSwap", (event) => {
  if (event.detail.xhr.status === 422) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});

// Contact picker: after picking, clear the search box and the suggestions.
window.rcPicked = function (field) {
  const input = document.getElementById("search-" + field);
  const list = document.getElementById("suggestions-" + field);
  if (list) list.replaceChildren();
  if (input) { input.value = ""; input.focus(); }
};

// Suggestions that add a contact (a fellow group member) reset the picker the same way.
document.addEventListener("htmx:afterRequest", (event) => {
  const field = event.target.dataset && event.target.dataset.pickerField;
  if (field && event.detail.successful) window.rcPicked(field);
});
