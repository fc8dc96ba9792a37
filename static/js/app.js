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
});
