import { afterAll, describe, it, expect, afterEach } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { requireProgram, sharedTool } from './peers/tools.ts';

const made: string[] = [];
/** A temp dir removed after the file's tests. */
const tmp = (prefix: string): string => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  made.push(d);
  return d;
};
afterAll(() => made.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

const saved = { tools: process.env['CRASHCART_SHARED_TOOLS'], path: process.env['PATH'] };
afterEach(() => {
  if (saved.tools === undefined) delete process.env['CRASHCART_SHARED_TOOLS'];
  else process.env['CRASHCART_SHARED_TOOLS'] = saved.tools;
  process.env['PATH'] = saved.path;
});

describe('missing BMC test peers fail with the fix, never skip', () => {
  it('names where sushy-tools comes from and the override', () => {
    process.env['CRASHCART_SHARED_TOOLS'] = tmp('cc-bmc-notools-');
    expect(() => sharedTool('sushy-tools')).toThrow(
      /BMC test peer missing: .*sushy-tools does not exist.*sushy-tools.*CRASHCART_SHARED_TOOLS=/s,
    );
  });

  it('names the Debian package of a missing program', () => {
    process.env['PATH'] = tmp('cc-bmc-nopath-');
    expect(() => requireProgram('ipmi_sim', 'openipmi')).toThrow('sudo apt-get install -y openipmi');
  });
});
