// Searchable multi-selects (issue 13): long lists of choices (180 languages, 195 States, the "To" list) with a filter
// box, the chosen items as removable chips, and a list operated by the keyboard without Ctrl.
//
// Without this file the page shows the native <select multiple>, which submits the same values. With it, the
// select stays in the form (hidden, still submitted) and is kept in step with:
//   - a filter box (type to narrow the list: accents and case do not matter; Down arrow goes into the list);
//   - a list box (role="listbox", aria-multiselectable): Up/Down/Home/End move, Space or Enter chooses or un-chooses,
//     a click chooses or un-chooses (no Ctrl needed);
//   - the chosen items as buttons ("Remove …"), and a count read out politely ("12 of 195 shown").
// Its words come from the select's data-* attributes, translated by the template (templates/macros.html).
(() => {
  "use strict";

  const fold = (text) => text.normalize("NFD").replace(/\p{M}/gu, "").toLocaleLowerCase();
  const fill = (template, values) => template.replace(/%\((\w+)\)s/g, (_all, name) => String(values[name] ?? ""));

  function enhance(select, index) {
    const words = select.dataset;
    const base = select.id || `multiselect-${index}`;
    const label = select.id ? document.querySelector(`label[for="${CSS.escape(select.id)}"]`) : null;
    const labelId = label ? (label.id || `${base}-label`) : "";
    if (label) label.id = labelId;
    const hadFocus = document.activeElement === select;

    const box = document.createElement("div");
    box.className = "multiselect";

    // The filter box takes the field's id: its label, the error summary's link and the focus on an error (app.js)
    // all reach the box one types in. The select keeps its name (what is submitted) under another id.
    const filter = document.createElement("input");
    filter.type = "search";
    if (select.id) select.id = `${base}-select`;
    filter.id = base;
    filter.className = "form-control form-control-sm multiselect-filter";
    filter.autocomplete = "off";
    filter.setAttribute("aria-controls", `${base}-listbox`);
    filter.placeholder = words.filterLabel || "";
    if (!label) filter.setAttribute("aria-label", words.filterLabel || "Filter");
    const hint = document.createElement("span");
    hint.className = "visually-hidden";
    hint.id = `${base}-keys`;
    hint.textContent = words.keysHint || "";

    const count = document.createElement("p");
    count.className = "form-text multiselect-count";
    count.setAttribute("aria-live", "polite");
    count.id = `${base}-count`;

    const chips = document.createElement("ul");
    chips.className = "multiselect-chips list-unstyled";
    chips.setAttribute("aria-label", words.chosenLabel || "Chosen");

    const list = document.createElement("ul");
    list.id = `${base}-listbox`;
    list.className = "multiselect-list list-unstyled form-control";
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-multiselectable", "true");
    list.tabIndex = 0; // a tab stop too (a scrollable region must be reachable); Down arrow also goes there
    if (labelId) list.setAttribute("aria-labelledby", labelId);
    const described = [select.getAttribute("aria-describedby"), count.id].filter(Boolean).join(" ");
    list.setAttribute("aria-describedby", described);
    filter.setAttribute("aria-describedby", `${described} ${hint.id}`);
    if (select.required) filter.setAttribute("aria-required", "true");
    if (select.getAttribute("aria-invalid")) {
      filter.setAttribute("aria-invalid", "true");
      filter.classList.add("is-invalid");
      select.removeAttribute("aria-invalid");
    }

    const options = Array.from(select.options);
    const items = options.map((option, n) => {
      const item = document.createElement("li");
      item.id = `${base}-option-${n}`;
      item.setAttribute("role", "option");
      item.className = "multiselect-option";
      item.textContent = option.textContent;
      item.dataset.search = fold(option.textContent);
      item.addEventListener("mousedown", (event) => event.preventDefault()); // keep the focus where it is
      item.addEventListener("click", () => { setActive(n); toggle(n); list.focus(); });
      list.appendChild(item);
      return item;
    });
    let active = -1;

    function visible() { return items.filter((item) => !item.hidden); }

    function setActive(n) {
      if (active >= 0) items[active].classList.remove("active");
      active = n;
      if (n < 0) { list.removeAttribute("aria-activedescendant"); return; }
      items[n].classList.add("active");
      list.setAttribute("aria-activedescendant", items[n].id);
      items[n].scrollIntoView({ block: "nearest" });
    }

    function move(step) {
      const shown = visible();
      if (!shown.length) return;
      const at = shown.indexOf(items[active]);
      let next;
      if (step === "first") next = shown[0];
      else if (step === "last") next = shown[shown.length - 1];
      else next = shown[Math.min(shown.length - 1, Math.max(0, (at < 0 ? -1 : at) + step))] || shown[0];
      setActive(items.indexOf(next));
    }

    function render() {
      chips.replaceChildren();
      options.forEach((option, n) => {
        items[n].setAttribute("aria-selected", option.selected ? "true" : "false");
        if (!option.selected) return;
        const chip = document.createElement("li");
        const remove = document.createElement("button");
        remove.type = "button";
        remove.className = "btn btn-sm btn-outline-secondary multiselect-chip";
        remove.textContent = `${option.textContent} ×`;
        remove.setAttribute("aria-label", fill(words.removeLabel || "Remove %(name)s", { name: option.textContent }));
        remove.addEventListener("click", () => {
          option.selected = false;
          select.dispatchEvent(new Event("change", { bubbles: true }));
          render();
          (chips.querySelector("button") || filter).focus(); // the focus never falls back to the page's top
        });
        chip.appendChild(remove);
        chips.appendChild(chip);
      });
      chips.hidden = !chips.children.length;
    }

    function toggle(n) {
      options[n].selected = !options[n].selected;
      select.dispatchEvent(new Event("change", { bubbles: true }));
      render();
    }

    function applyFilter() {
      const wanted = fold(filter.value.trim());
      items.forEach((item) => { item.hidden = Boolean(wanted) && !item.dataset.search.includes(wanted); });
      const shown = visible().length;
      count.textContent = fill(words.countTemplate || "%(shown)s of %(total)s shown", { shown, total: items.length });
      if (active >= 0 && items[active].hidden) setActive(-1);
    }

    filter.addEventListener("input", applyFilter);
    filter.addEventListener("keydown", (event) => {
      if (event.key === "ArrowDown") { event.preventDefault(); list.focus(); if (active < 0) move("first"); }
      if (event.key === "Enter") { // choose the first match rather than sending the form
        event.preventDefault();
        const first = visible()[0];
        if (first) { setActive(items.indexOf(first)); toggle(active); }
      }
    });
    list.addEventListener("focus", () => { if (active < 0) move("first"); });
    list.addEventListener("keydown", (event) => {
      const keys = { ArrowDown: 1, ArrowUp: -1, Home: "first", End: "last", PageDown: 10, PageUp: -10 };
      const shown = visible();
      if (event.key === "Escape" || (event.key === "ArrowUp" && shown[0] === items[active])) {
        event.preventDefault(); filter.focus(); return; // back to the filter box
      }
      if (event.key in keys) { event.preventDefault(); move(keys[event.key]); return; }
      if ((event.key === " " || event.key === "Enter") && active >= 0) { event.preventDefault(); toggle(active); return; }
      if (event.key.length === 1 && !event.ctrlKey && !event.metaKey && !event.altKey) {
        filter.focus(); // typing in the list types in the filter box
      }
    });

    // The select stays in the form and is what is submitted; constraint validation would refuse a hidden required
    // control, so the server's check (the same message) speaks instead.
    select.required = false;
    select.hidden = true;
    select.tabIndex = -1;
    box.append(filter, hint, count, list, chips);
    select.after(box);
    render();
    applyFilter();
    if (hadFocus) filter.focus(); // app.js focused the field with an error before this script ran
  }

  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("select[multiple][data-filterable]").forEach(enhance);
  });
})();
