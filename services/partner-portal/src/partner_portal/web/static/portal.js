// Native <dialog> handling: open as modal, focus its first field, give focus back on close.
// The pages read and filter without this file; it only adds the confirmations.
(function () {
  "use strict";
  let opener = null;
  // A dialog that confirms the checked rows lists them (the capacity manager's domains).
  function fillChecked(dialog) {
    const list = dialog.querySelector("[data-list-checked]");
    if (!list) { return; }
    list.replaceChildren();
    dialog.closest("form").querySelectorAll("input[name='" + list.dataset.listChecked + "']:checked").forEach(function (box) {
      const item = document.createElement("li");
      item.textContent = box.value;
      list.appendChild(item);
    });
  }
  document.addEventListener("click", function (event) {
    const open = event.target.closest("[data-open]");
    if (open) {
      const dialog = document.getElementById(open.dataset.open);
      if (dialog) {
        opener = open;
        fillChecked(dialog);
        dialog.showModal();
        const first = dialog.querySelector("input:not([type=hidden]), select, textarea, button");
        if (first) { first.focus(); }
      }
      return;
    }
    const close = event.target.closest("[data-close]");
    if (close) { close.closest("dialog").close(); }
  });
  document.addEventListener("close", function () {
    if (opener) { opener.focus(); opener = null; }
  }, true);
  // A confirmation word: the submit button stays disabled until the field says it exactly.
  document.addEventListener("input", function (event) {
    const field = event.target;
    if (field.dataset && field.dataset.confirmWord) {
      const button = field.form.querySelector("button[type=submit]");
      button.disabled = field.value !== field.dataset.confirmWord;
    }
  });
  // "Select all on this page" for the capacity manager's rows.
  document.addEventListener("change", function (event) {
    const all = event.target;
    if (all.dataset && all.dataset.selectAll) {
      document.querySelectorAll("input[name='" + all.dataset.selectAll + "']").forEach(function (box) {
        box.checked = all.checked;
      });
    }
  });
})();
