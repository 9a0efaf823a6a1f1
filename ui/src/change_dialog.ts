// The dialog that carries out a change on the selected devices: the action's form, then
// rmm-core's preview (nothing changed yet), then, once confirmed, the result. Problems with the
// input show beside their fields; other failures show in the dialog and keep what was typed.
import {
  BackendError,
  applyChange,
  previewChange,
  type ChangePreview,
  type ChangeRequest,
  type ChangeResult,
} from "./backend";
import type { ChangeForm } from "./change_form";
import { renderPreview } from "./change_preview_view";
import { button, el, errorCode, errorText } from "./dom";
import { openModal, type Modal } from "./modal";

export interface ChangeDialogHooks {
  /** After a change was carried out: refresh those devices, the activity list. */
  onApplied(result: ChangeResult, deviceIds: string[]): void;
  /** Failures the rest of the window should know of (an expired sign-in). */
  onError(err: unknown): void;
}

export const PREVIEW_CHANGED_NOTE = "The devices changed since this preview; review and confirm again";

type Stage = "form" | "preview" | "result";

export interface ChangeDialog {
  readonly root: HTMLDialogElement;
  stage(): Stage;
  close(): void;
}

export function openChangeDialog(form: ChangeForm, hooks: ChangeDialogHooks): ChangeDialog {
  let stage: Stage = "form";
  let previewed: { request: ChangeRequest; preview: ChangePreview } | null = null;

  const title = el("h2", "dialog-title", form.title);
  const formError = el("p", "form-error", undefined, "error");
  formError.setAttribute("role", "alert");
  formError.hidden = true;
  const previewArea = el("div", undefined, undefined, "preview-area");
  const resultArea = el("div", undefined, undefined, "result-area");

  const previewButton = el("button", "form-preview", "Preview", "primary");
  previewButton.type = "submit";
  const cancelButton = button("form-cancel", "Cancel", () => modal.close());
  form.element.append(el("div", undefined, undefined, "form-buttons"));
  form.element.lastElementChild?.append(previewButton, cancelButton);
  form.element.addEventListener("submit", (e) => {
    e.preventDefault();
    void preview();
  });

  const confirmButton = button("confirm-change", "Confirm", () => void confirm());
  confirmButton.classList.add("primary");
  const backButton = button("back-to-form", "Edit again", () => show("form"));
  const previewButtons = el("div", undefined, undefined, "form-buttons");
  previewButtons.append(confirmButton, backButton);
  const closeButton = button("close-dialog", "Close", () => modal.close());
  const resultButtons = el("div", undefined, undefined, "form-buttons");
  resultButtons.append(closeButton);

  const modal: Modal = openModal("change-dialog", [
    title,
    formError,
    form.element,
    previewArea,
    previewButtons,
    resultArea,
    resultButtons,
  ]);

  function show(next: Stage) {
    stage = next;
    form.element.hidden = next !== "form";
    previewArea.hidden = next !== "preview";
    previewButtons.hidden = next !== "preview";
    resultArea.hidden = next !== "result";
    resultButtons.hidden = next !== "result";
    if (next === "form") form.focusFirst();
    if (next === "preview") confirmButton.focus();
    if (next === "result") closeButton.focus();
  }

  function setError(text: string | null) {
    formError.textContent = text ?? "";
    formError.hidden = text === null;
  }

  function busy(on: boolean) {
    for (const b of [previewButton, confirmButton, backButton]) b.disabled = on;
  }

  function showPreview(request: ChangeRequest, preview: ChangePreview, note?: string) {
    previewed = { request, preview };
    const look = note
      ? { testid: "change-preview", summaryTestid: "preview-summary", note }
      : { testid: "change-preview", summaryTestid: "preview-summary" };
    previewArea.replaceChildren(renderPreview(preview, look));
    show("preview");
  }

  async function preview() {
    setError(null);
    form.problems.clear();
    const request = form.request();
    busy(true);
    let answer: ChangePreview;
    try {
      answer = await previewChange(request);
    } catch (err) {
      busy(false);
      failed(err);
      return;
    }
    // Enabled before it is shown: the focus goes to Confirm, which a disabled button refuses.
    busy(false);
    showPreview(request, answer);
  }

  async function confirm() {
    if (!previewed) return;
    const { request, preview } = previewed;
    setError(null);
    busy(true);
    try {
      const result = await applyChange(request, preview.digest);
      showResult(result, preview);
      hooks.onApplied(
        result,
        preview.devices.map((d) => d.device_id),
      );
    } catch (err) {
      if (err instanceof BackendError && err.code === "preview_changed" && err.preview) {
        showPreview(request, err.preview, PREVIEW_CHANGED_NOTE);
      } else {
        failed(err);
      }
    } finally {
      busy(false);
    }
  }

  function failed(err: unknown) {
    if (err instanceof BackendError && err.code === "bad_input" && err.problems.length > 0) {
      show("form");
      form.problems.show(err.problems, form.deviceNames);
      return;
    }
    setError(errorText(err));
    if (errorCode(err) === "sign_in_needed") hooks.onError(err);
  }

  function showResult(result: ChangeResult, preview: ChangePreview) {
    const section = el("section", "change-result", undefined, "change-result");
    section.append(
      el("p", "result-outcome", `Outcome: ${result.outcome}`, "result-outcome"),
      el("p", "result-took-effect", `Took effect: ${tookEffectText(result.took_effect)}`),
      el("p", "result-audit-id", `Audit entry #${result.audit_id}`, "muted"),
    );
    const table = el("table", "result-devices", undefined, "preview-devices");
    for (const d of preview.devices) {
      const row = el("tr", "result-device");
      row.dataset.deviceId = d.device_id;
      row.append(
        el("td", undefined, d.model),
        el("td", undefined, d.name ?? d.device_id),
        el("td", undefined, d.change),
        el("td", undefined, result.outcome),
      );
      table.append(row);
    }
    section.append(table);
    resultArea.replaceChildren(section);
    show("result");
  }

  show("form");
  return { root: modal.root, stage: () => stage, close: () => modal.close() };
}

export function tookEffectText(took: boolean | null | undefined): string {
  if (took === true) return "yes";
  if (took === false) return "no";
  return "not known yet";
}
