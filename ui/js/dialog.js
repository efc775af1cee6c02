// A comment prompt in a <dialog>: big enough for a touch screen, and testable (no window.prompt).

import {h} from "./dom.js";

/**
 * Ask for a comment; resolves to the text, or null when cancelled.
 * `act(comment)` runs on confirm; if it throws, the error is shown and the dialog stays open.
 */
export function askComment(title, act, {confirmLabel = "Confirm", required = false} = {}) {
  return new Promise((resolve) => {
    const text = h("textarea", {name: "comment", rows: 3, maxlength: 2000, placeholder: "Comment"});
    const error = h("p", {class: "dialog-error", role: "alert"});
    const confirm = h("button", {type: "submit", class: "primary"}, confirmLabel);
    const cancel = h("button", {type: "button"}, "Cancel");
    const form = h("form", {method: "dialog"}, h("h3", {}, title), text, error, h("div", {class: "dialog-buttons"}, cancel, confirm));
    const dialog = h("dialog", {class: "comment-dialog"}, form);
    const close = (value) => {
      dialog.close();
      dialog.remove();
      resolve(value);
    };
    cancel.addEventListener("click", () => close(null));
    dialog.addEventListener("cancel", () => close(null));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const comment = text.value.trim();
      if (required && !comment) {
        error.textContent = "A comment is required.";
        return;
      }
      confirm.disabled = true;
      try {
        await act(comment);
        close(comment);
      } catch (err) {
        error.textContent = err.detail ?? err.message;
        confirm.disabled = false;
      }
    });
    document.body.append(dialog);
    dialog.showModal();
    text.focus();
  });
}
