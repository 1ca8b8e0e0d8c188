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

// --- Keyboard focus across htmx swaps (issue 13) ---
// A swap that replaces the element holding focus (the ledger row's "→ Contacted" button,
// the quick log after "Log meeting") would drop keyboard focus to the top of the page. So
// focus moves into the new content: to what it marks [data-swap-focus] (the quick log's
// confirmation) or a form's error summary (.form-errors), else to the same control (same
// id, field or form action), else to the new content itself.
function swapFocusKey(el) {
  if (el.id) return "#" + el.id;
  const form = el.form || el.closest("form");
  const action = form ? form.getAttribute("hx-post") || form.getAttribute("action") || "" : "";
  if (el.name) return action + " [name=" + el.name + "]=" + (el.type === "checkbox" || el.type === "radio" ? el.value : "");
  if (form && el.matches("button, [type=submit]")) return action + " submit";
  if (el.matches("a[href]")) return "a " + el.getAttribute("href");
  return null;
}

function swapFocusTarget(root, key) {
  const marked = root.querySelector("[data-swap-focus], .form-errors");
  if (marked) return marked;
  const controls = root.querySelectorAll("a[href], button, input, select, textarea, summary, [tabindex]");
  const same = key && Array.from(controls).find((el) => !el.disabled && swapFocusKey(el) === key);
  return same || root;
}

document.addEventListener("htmx:beforeRequest", (event) => {
  const active = document.activeElement;
  const target = event.detail.target;
  if (active && active !== document.body && target && target.contains(active)) {
    event.detail.xhr.rcFocus = {id: target.id, key: swapFocusKey(active)};
  }
});
document.addEventListener("htmx:afterSettle", (event) => {
  const saved = event.detail.xhr && event.detail.xhr.rcFocus;
  if (!saved) return;
  delete event.detail.xhr.rcFocus;
  const lost = !document.activeElement || document.activeElement === document.body;
  const root = (saved.id && document.getElementById(saved.id)) || event.target;
  if (!lost || !root || !root.isConnected) return;
  const next = swapFocusTarget(root, saved.key);
  if (next.tabIndex < 0 && !next.hasAttribute("tabindex")) next.setAttribute("tabindex", "-1");
  next.focus();
});

// Removing a picked person with the keyboard (Enter on ×) puts focus back in the search box
// (capture phase: before the chip, and the focused ×, are removed).
document.addEventListener("click", (event) => {
  const remove = event.target.closest && event.target.closest(".chip-remove");
  const picker = remove && remove.closest(".picker");
  const search = picker && picker.querySelector("[data-picker-search]");
  if (search) search.focus();
}, true);
// --- end keyboard focus across htmx swaps ---
