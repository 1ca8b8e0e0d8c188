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
