// The Firmware tab: the files staged in the cloud for the group, with their size, upload date
// and the models each fits.
import { firmwareFiles, type FirmwareFileView } from "./backend";
import { button, el } from "./dom";
import type { ErrorBanner } from "./error_banner";

/** "12.5 MB", "640 KB", "" when unknown. */
export function sizeText(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined) return "";
  if (bytes >= 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
  return `${Math.max(1, Math.round(bytes / 1024))} KB`;
}

function row(f: FirmwareFileView): HTMLTableRowElement {
  const tr = el("tr", "firmware-file");
  tr.dataset.fileId = f.file_id;
  tr.append(
    el("td", undefined, f.title),
    el("td", undefined, f.file_name, "mono"),
    el("td", "firmware-size", sizeText(f.size_bytes)),
    el("td", undefined, f.uploaded_at ?? ""),
    el("td", "firmware-models", f.fits_models.join(", ")),
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
  for (const h of ["Title", "File", "Size", "Uploaded", "Fits models"]) head.append(el("th", undefined, h));
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
      const listing = await firmwareFiles();
      tbody.replaceChildren(...listing.files.map(row));
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
