/**
 * happy-dom has no layout engine: every box measures 0x0, so virtual lists render nothing.
 * Give elements a laptop-sized box so the virtualisers have a viewport to fill.
 */
export function giveElementsASize(width = 1280, height = 720): void {
  const rect = { x: 0, y: 0, top: 0, left: 0, right: width, bottom: height, width, height, toJSON: () => ({}) };
  HTMLElement.prototype.getBoundingClientRect = function () {
    return rect as DOMRect;
  };
  for (const [prop, v] of [
    ['offsetHeight', height],
    ['clientHeight', height],
    ['offsetWidth', width],
    ['clientWidth', width],
  ] as const) {
    Object.defineProperty(HTMLElement.prototype, prop, { configurable: true, get: () => v });
  }
}
