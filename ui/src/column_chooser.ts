// The fleet grid's column chooser: a "Columns" menu with one checkbox per column. A plain
// <details> element, so it opens and closes from the keyboard without any script of ours.
import { el } from "./dom";
import { FLEET_COLUMNS } from "./fleet_filters";

/** The menu; `onChange` gets the ids of the checked columns, in grid order. */
export function createColumnChooser(
  shown: readonly string[],
  onChange: (ids: string[]) => void,
): HTMLDetailsElement {
  const menu = el("details", "column-chooser", undefined, "menu");
  const summary = el("summary", "column-chooser-toggle", "Columns");
  const list = el("fieldset", undefined, undefined, "menu-items");
  list.append(el("legend", undefined, "Columns shown"));
  const boxes = FLEET_COLUMNS.map((column) => {
    const box = el("input", `column-${column.id}`);
    box.type = "checkbox";
    box.checked = shown.includes(column.id);
    box.value = column.id;
    const label = el("label", undefined, undefined, "checkbox-field");
    label.append(box, el("span", undefined, column.header));
    list.append(label);
    return box;
  });
  list.addEventListener("change", () => {
    const ids = boxes.filter((b) => b.checked).map((b) => b.value);
    // The grid keeps at least one column: the last one cannot be unchecked.
    if (ids.length === 0) {
      for (const b of boxes) if (b === document.activeElement) b.checked = true;
      return;
    }
    onChange(ids);
  });
  menu.append(summary, list);
  return menu;
}
