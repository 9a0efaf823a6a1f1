// The Firmware tab: the files staged in the cloud for the group, with their size, upload date
// and the models each fits; and, per model, whether agents may roll the file out (the person
// qualifies it here: the agents' envelope then lets an agent promote and resume its rollouts).
import { agentPolicy, firmwareFiles, qualifyFirmware, type AgentPolicy, type FirmwareFileView } from "./backend";
import { button, el } from "./dom";
import type { ErrorBanner } from "./error_banner";

/** "12.5 MB", "640 KB", "" when unknown. */
export function sizeText(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined) return "";
  if (bytes >= 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
  return `${Math.max(1, Math.round(bytes / 1024))} KB`;
}

/** Whether `policy` lets agents roll `fileId` out to `model`. */
export function isQualified(policy: AgentPolicy | null, model: string, fileId: string): boolean {
  return (policy?.qualified ?? []).some((q) => q.file_id === fileId && q.model.toLowerCase() === model.toLowerCase());
}

function qualifyCell(f: FirmwareFileView, policy: AgentPolicy | null, banner: ErrorBanner): HTMLTableCellElement {
  const td = el("td", "firmware-agents");
  for (const model of f.fits_models) {
    const box = el("input", `qualify-${f.file_id}-${model}`);
    box.type = "checkbox";
    box.checked = isQualified(policy, model, f.file_id);
    box.disabled = policy === null;
    box.addEventListener("change", () => {
      const want = box.checked;
      box.disabled = true;
      qualifyFirmware(model, f.file_id, want)
        .catch((err: unknown) => {
          box.checked = !want;
          banner.report(err);
        })
        .finally(() => {
          box.disabled = false;
        });
    });
    const label = el("label", undefined, undefined, "qualify");
    label.append(box, ` ${model}`);
    td.append(label);
  }
  return td;
}

function row(f: FirmwareFileView, policy: AgentPolicy | null, banner: ErrorBanner): HTMLTableRowElement {
  const tr = el("tr", "firmware-file");
  tr.dataset.fileId = f.file_id;
  tr.append(
    el("td", undefined, f.title),
    el("td", undefined, f.file_name, "mono"),
    el("td", "firmware-size", sizeText(f.size_bytes)),
    el("td", undefined, f.uploaded_at ?? ""),
    el("td", "firmware-models", f.fits_models.join(", ")),
    qualifyCell(f, policy, banner),
  );
  return tr;
}

export interface FirmwareView {
  readonly root: HTMLElement;
  load(): Promise<void>;
}

export function createFirmwareView(banner: ErrorBanner): FirmwareView {
  const root = el("section", "firmware-view", undefined, "view");
  const status = el("p", "firmware-status", "", "muted");
  const table = el("table", "firmware-list", undefined, "list-table");
  const head = el("tr");
  for (const h of ["Title", "File", "Size", "Uploaded", "Fits models", "Agents may roll it out to"]) head.append(el("th", undefined, h));
  const thead = el("thead");
  thead.append(head);
  const tbody = el("tbody");
  table.append(thead, tbody);
  const refresh = button("firmware-refresh", "Refresh", () => void load());
  const bar = el("div", undefined, undefined, "toolbar");
  bar.append(el("h2", undefined, "Staged firmware"), refresh);
  root.append(bar, status, table);

  async function load() {
    status.textContent = "Loading…";
    refresh.disabled = true;
    try {
      const [listing, policy] = await Promise.all([firmwareFiles(), agentPolicy().catch(() => null)]);
      tbody.replaceChildren(...listing.files.map((f) => row(f, policy, banner)));
      status.textContent = listing.files.length === 0 ? "No firmware files are staged." : `${listing.total_files} files`;
    } catch (err) {
      status.textContent = "";
      banner.report(err, () => void load());
    } finally {
      refresh.disabled = false;
    }
  }

  return { root, load };
}
