// Small progressive enhancements; every feature works without this file.
document.addEventListener("htmx:responseError", (event) => {
  const box = document.getElementById("messages");
  if (!box) return;
  const div = document.createElement("div");
  div.className = "flash flash-error";
  div.setAttribute("role", "alert");
  div.textContent = "That did not work (" + event.detail.xhr.status + "). Nothing was lost: please try again.";
  box.replaceChildren(div);
});

// Quick log: after picking a contact, clear the search box and the suggestions.
window.rcPicked = function () {
  const input = document.getElementById("attendee-search");
  const list = document.getElementById("suggestions");
  if (list) list.replaceChildren();
  if (input) { input.value = ""; input.focus(); }
};
