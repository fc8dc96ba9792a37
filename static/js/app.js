// Small progressive enhancements; every page works without this file.
document.addEventListener("DOMContentLoaded", () => {
  // Show the "authority not listed" field only when it is needed.
  const authority = document.getElementById("authority");
  const other = document.getElementById("authority_other");
  if (authority && other) {
    const wrapper = other.closest(".mb-3");
    const update = () => { wrapper.hidden = authority.value !== "other"; };
    authority.addEventListener("change", update);
    update();
  }
  // Offer only the authorities of the chosen State.
  const state = document.getElementById("state");
  if (authority && state && authority.dataset.states) {
    const states = JSON.parse(authority.dataset.states);
    const filter = () => {
      for (const option of authority.options) {
        const owner = states[option.value];
        option.hidden = Boolean(owner && state.value && owner !== state.value);
      }
      const chosen = authority.options[authority.selectedIndex];
      if (chosen && chosen.hidden) authority.value = "";
      if (authority.onchange) authority.onchange();
    };
    state.addEventListener("change", () => { filter(); authority.dispatchEvent(new Event("change")); });
    filter();
  }
  // The skip link moves the focus without adding #main to the address: a form sent from the page would carry that
  // fragment through its redirect, and the next page would focus <main> instead of its autofocus field.
  const skip = document.querySelector(".skip-link");
  const main = document.getElementById("main");
  if (skip && main) {
    skip.addEventListener("click", (event) => { event.preventDefault(); main.focus(); main.scrollIntoView(); });
  }
  // Put focus on the first field with an error, so screen readers announce it.
  const invalid = document.querySelector("[aria-invalid='true']");
  if (invalid) invalid.focus();
  // Buttons that ask before they act.
  document.querySelectorAll("form[data-confirm]").forEach((form) => {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  });
  // Copy recovery codes to the clipboard.
  const copy = document.getElementById("copy-codes");
  if (copy) {
    copy.hidden = false;
    copy.addEventListener("click", () => {
      const text = document.getElementById("codes").innerText;
      navigator.clipboard.writeText(text).then(() => { copy.textContent = copy.dataset.done; });
    });
  }
  // "Print or save as PDF" buttons (the print-ready directory): shown only when this script runs.
  document.querySelectorAll("[data-print-page]").forEach((button) => {
    button.hidden = false;
    button.addEventListener("click", () => window.print());
  });
  // The catalogue's filters: open beside the results on wide screens, behind their toggle on narrow ones.
  const filterPanel = document.getElementById("catalogue-filter-panel");
  if (filterPanel && window.matchMedia) {
    const wide = window.matchMedia("(min-width: 992px)");
    const place = () => { if (wide.matches) filterPanel.open = true; };
    place();
    wide.addEventListener("change", place);
  }
  // Navigation menus: close an open menu when the reader clicks elsewhere or presses Escape.
  const menus = document.querySelectorAll(".nav-menu details");
  document.addEventListener("click", (event) => {
    menus.forEach((menu) => { if (!menu.contains(event.target)) menu.open = false; });
  });
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape") menus.forEach((menu) => { menu.open = false; });
  });
});
