// The one launcher rule for every bin: in a source checkout run the TypeScript sources through tsx, so a stale
// bundle can never shadow them; run the bundle only when the sources are absent (a packaged install) or when
// CRASHCART_USE_DIST=1 asks for it.
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

/** Import `bundled` or, through tsx, `source`. */
export async function launch(bundled, source) {
  if (existsSync(bundled) && (process.env.CRASHCART_USE_DIST === '1' || !existsSync(source))) {
    await import(pathToFileURL(bundled).href);
  } else {
    const { register } = await import('tsx/esm/api');
    register();
    await import(pathToFileURL(source).href);
  }
}
