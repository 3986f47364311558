/**
 * Golden dumps for the disk codecs: a decoded value as stable, readable JSON (bytes as hex, bigints as
 * decimal strings). Regenerated only on purpose: `CC_UPDATE_GOLDEN=1 npx vitest run test/images`.
 */
import fs from 'node:fs';
import { expect } from 'vitest';

/** JSON text of a decoded value. */
export function dump(value: unknown): string {
  return (
    JSON.stringify(
      value,
      (_k, v: unknown) => {
        if (v instanceof Uint8Array) return `hex:${Buffer.from(v).toString('hex')}`;
        if (typeof v === 'bigint') return `bigint:${v.toString()}`;
        return v;
      },
      2,
    ) + '\n'
  );
}

/** Compare `value` with the golden file, or rewrite it when CC_UPDATE_GOLDEN=1. */
export function expectGolden(file: string, value: unknown): void {
  const text = dump(value);
  if (process.env.CC_UPDATE_GOLDEN === '1') fs.writeFileSync(file, text);
  if (!fs.existsSync(file))
    throw new Error(`${file} is missing\n  fix: CC_UPDATE_GOLDEN=1 npx vitest run test/images (then review the diff)`);
  expect(text).toBe(fs.readFileSync(file, 'utf8'));
}
