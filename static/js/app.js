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
  if (input) {
    input.value = "";
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    // Tell htmx the box changed, or typing the same letters again would not search.
    input.dispatchEvent(new Event("input", {bubbles: true}));
    input.focus();
  }
};

// Suggestions that add a contact (a fellow group member) reset the picker the same way.
document.addEventListener("htmx:afterRequest", (event) => {
  const field = event.target.dataset && event.target.dataset.pickerField;
  if (field && event.detail.successful) window.rcPicked(field);
});

// Contact picker, an ARIA combobox: ArrowDown/ArrowUp move through the suggestions
// (aria-activedescendant), Enter picks the highlighted one or else the first one for what
// is typed (fetching the list first when it is for an older query), Escape closes the list.
// The pick is requested on behalf of the chips, so a list replaced meanwhile cannot
// swallow it.
const pickerOptions = (field) =>
  Array.from(document.querySelectorAll("#suggestions-" + field + " [role=option]"));

function pickerHighlight(search, field, index) {
  const options = pickerOptions(field);
  options.forEach((option, i) => {
    option.setAttribute("aria-selected", i === index ? "true" : "false");
    option.classList.toggle("active", i === index);
  });
  if (index >= 0 && options[index]) {
    search.setAttribute("aria-activedescendant", options[index].id);
    options[index].scrollIntoView({block: "nearest"});
  } else {
    search.removeAttribute("aria-activedescendant");
  }
}

function pickerPick(field, option) {
  const post = option.getAttribute("hx-post");
  htmx.ajax(post ? "POST" : "GET", post || option.getAttribute("hx-get"), {
    source: document.getElementById("chips-" + field),
    target: "#chips-" + field,
    swap: option.getAttribute("hx-swap") || "innerHTML",
  }).then(() => window.rcPicked(field));
}

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
document.addEventListener("htmx:afterSettle", (event) => {
  const list = event.target;
  const field = list.id && list.id.startsWith("suggestions-") && list.id.slice(12);
  const search = field && document.getElementById("search-" + field);
  if (!search) return;
  search.setAttribute("aria-expanded", pickerOptions(field).length ? "true" : "false");
  search.removeAttribute("aria-activedescendant");
});
document.addEventListener("keydown", (event) => {
  const search = event.target;
  const field = search.dataset && search.dataset.pickerSearch;
  if (!field) return;
  const options = pickerOptions(field);
  const active = options.findIndex((o) => o.getAttribute("aria-selected") === "true");
  if (event.key === "ArrowDown" || event.key === "ArrowUp") {
    event.preventDefault();
    if (!options.length) return;
    const step = event.key === "ArrowDown" ? 1 : -1;
    pickerHighlight(search, field, (active + step + options.length) % options.length);
  } else if (event.key === "Escape") {
    document.getElementById("suggestions-" + field).replaceChildren();
    search.setAttribute("aria-expanded", "false");
    search.removeAttribute("aria-activedescendant");
  } else if (event.key === "Enter") {
    event.preventDefault();
    if (active >= 0) {
      pickerPick(field, options[active]);
    } else if (search.dataset.shownFor === search.value) {
      if (options[0]) pickerPick(field, options[0]);
    } else {
      htmx.ajax("GET", search.getAttribute("hx-get"), {
        source: search,
        target: "#suggestions-" + field,
        swap: "innerHTML",
      }).then(() => {
        const first = pickerOptions(field)[0];
        if (first) pickerPick(field, first);
      });
    }
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
