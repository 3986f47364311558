/** Light/dark preference: follows the system until the operator picks one. */
import { ref, watch, type Ref } from 'vue';

/** The two themes. */
export type ThemeName = 'light' | 'dark';
const KEY = 'crashcart.theme';

/** The theme, persisted in localStorage; `?theme=dark` overrides (screenshots, kiosks). */
export function createTheme(win: Window = window): Ref<ThemeName> {
  const forced = new URLSearchParams(win.location.search).get('theme');
  const saved = win.localStorage.getItem(KEY);
  const system = win.matchMedia?.('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
  const initial: ThemeName = forced === 'dark' || forced === 'light' ? forced : saved === 'dark' || saved === 'light' ? saved : system;
  const theme = ref<ThemeName>(initial);
  const apply = (t: ThemeName): void => {
    win.document.documentElement.dataset.theme = t;
  };
  apply(initial);
  watch(theme, (t) => {
    win.localStorage.setItem(KEY, t);
    apply(t);
  });
  return theme;
}
