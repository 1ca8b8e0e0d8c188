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

// Contact picker: Enter picks the first suggestion for what is typed, instead of submitting
// the form. When the list on screen is for an older query (typed fast, the debounced search
// not back yet) it is fetched first. The pick is requested on behalf of the chips, so a
// suggestion list replaced meanwhile cannot swallow it.
document.addEventListener("htmx:beforeRequest", (event) => {
  const search = event.target;
  if (search.dataset && search.dataset.pickerSearch) search.dataset.requestedFor = search.value;
});
document.addEventListener("htmx:afterRequest", (event) => {
  const search = event.target;
  if (search.dataset && search.dataset.pickerSearch && event.detail.successful) {
    search.dataset.shownFor = search.dataset.requestedFor;
  }
});
document.addEventListener("keydown", (event) => {
  const search = event.target;
  const field = search.dataset && search.dataset.pickerSearch;
  if (!field || event.key !== "Enter") return;
  event.preventDefault();
  const pickFirst = () => {
    const first = document.querySelector("#suggestions-" + field + " button");
    if (!first) return;
    const post = first.getAttribute("hx-post");
    htmx.ajax(post ? "POST" : "GET", post || first.getAttribute("hx-get"), {
      source: document.getElementById("chips-" + field),
      target: "#chips-" + field,
      swap: first.getAttribute("hx-swap") || "innerHTML",
    }).then(() => window.rcPicked(field));
  };
  if (search.dataset.shownFor === search.value) {
    pickFirst();
  } else {
    htmx.ajax("GET", search.getAttribute("hx-get"), {
      source: search,
      target: "#suggestions-" + field,
      swap: "innerHTML",
    }).then(pickFirst);
  }
});

// Picker chips: the × removes the person from the picked list.
document.addEventListener("click", (event) => {
  const remove = event.target.closest && event.target.closest(".chip-remove");
  if (remove) remove.closest(".chip").remove();
});

// Forms that destroy something ask first: <form data-confirm="Delete this meeting?">.
document.addEventListener("submit", (event) => {
  const message = event.target.dataset && event.target.dataset.confirm;
  if (message && !window.confirm(message)) event.preventDefault();
});

// Read-only fields to copy (the calendar URL) select themselves when focused or clicked.
document.addEventListener("focusin", (event) => {
  if (event.target.matches && event.target.matches("[data-select-on-focus]")) event.target.select();
});

// --- One-to-one prep (plan/templates/plan/prep.html): <button data-print> prints the page. ---
document.addEventListener("click", (event) => {
  if (event.target.closest && event.target.closest("[data-print]")) window.print();
});
// --- end one-to-one prep ---
