/**
 * The few DOM shapes the page-side callbacks (`page.evaluate`) use. The root tsconfig has no
 * DOM lib (the server is Node), so these callbacks reach the page through `globalThis` typed
 * with this instead.
 */

/** An element, as far as the tests read it. */
export interface PageElement {
  textContent: string | null;
  scrollTop: number;
  scrollHeight: number;
  dataset: Record<string, string | undefined>;
}

/** The page's window, as far as the tests use it. */
export interface PageWindow {
  document: {
    querySelector(selector: string): PageElement | null;
    querySelectorAll(selector: string): { length: number };
    documentElement: PageElement;
  };
  requestAnimationFrame(cb: (t: number) => void): number;
  /** A mark set by a test: it survives only if the page is not reloaded. */
  ccMark?: number;
}
