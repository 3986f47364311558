/** Drag-and-drop reordering as a pure move. */

/** Move the item at `from` to index `to` (both clamped); returns a new array. */
export function moveItem<T>(list: readonly T[], from: number, to: number): T[] {
  const out = [...list];
  if (from < 0 || from >= out.length) return out;
  const [item] = out.splice(from, 1);
  const dest = Math.max(0, Math.min(out.length, to));
  out.splice(dest, 0, item as T);
  return out;
}
