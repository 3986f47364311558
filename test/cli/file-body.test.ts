/**
 * `--file` bodies (server/cli/route/file-body.ts): YAML and JSON read into the
 * same object; bad YAML says line and column; hostile YAML is refused before
 * anything reaches the appliance.
 */
import { describe, it, expect } from 'vitest';
import { FILE_BODY_MAX_BYTES, FileBodyError, parseFileBody } from '../../server/cli/route/file-body.ts';

const refused = (name: string, text: string): FileBodyError => {
  try {
    parseFileBody(name, text);
  } catch (e) {
    expect(e).toBeInstanceOf(FileBodyError);
    return e as FileBodyError;
  }
  throw new Error(`${name} was accepted`);
};

const policy = { name: 'web', task: 'debian', enabled: true, max_count: 3, metadata: { role: 'db', rack: 'r1' }, tags: ['a', 'b'] };

describe('--file body', () => {
  it('reads the same object from YAML, from JSON in a .yaml file, and from a .json file', () => {
    const yaml = 'name: web\ntask: debian\nenabled: true\nmax_count: 3\nmetadata:\n  role: db\n  rack: "r1"\ntags: [a, b]\n';
    expect(parseFileBody('p.yaml', yaml)).toEqual(policy);
    expect(parseFileBody('p.yml', JSON.stringify(policy))).toEqual(policy);
    expect(parseFileBody('p.json', JSON.stringify(policy, null, 2))).toEqual(policy);
    // YAML 1.2 core schema: `no` and dates stay strings, unlike YAML 1.1 loaders.
    expect(parseFileBody('p.yaml', 'a: no\nb: 2001-12-14\nc: null\n')).toEqual({ a: 'no', b: '2001-12-14', c: null });
  });

  it('says the line and column of bad YAML and of bad JSON', () => {
    const y = refused('p.yaml', 'name: web\nmetadata: [1, 2\ntask: debian\n');
    expect(y.where).toBe('line 3, column 1');
    expect(y.message).toMatch(/^line 3, column 1: not valid YAML: /);
    const j = refused('p.json', '{\n  "name": "web",\n  "task": }\n');
    expect(j.where).toBe('line 3, column 11');
    expect(j.message).toContain('not JSON');
    expect(refused('p.yaml', 'name: web\nname: db\n').message).toContain('line 2, column 1');
  });

  it('refuses an alias bomb (billion laughs) before expanding it, naming the first anchor', () => {
    const rows = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let i = 1; i < 9; i++)
      rows.push(
        `${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9)
          .fill(`*${String.fromCharCode(96 + i)}`)
          .join(',')}]`,
      );
    const e = refused('bomb.yaml', rows.join('\n') + '\n');
    expect(e.message).toContain('anchors and aliases');
    expect(e.where).toBe('line 1, column 7'); // the anchored node
    // A merge key needs an alias too: refused the same way.
    expect(refused('m.yaml', 'base: &b {task: debian}\np: {<<: *b}\n').message).toContain('anchors and aliases');
  });

  it('refuses tags the core schema does not know, where they are', () => {
    const e = refused('t.yaml', 'name: web\nscript: !!js/function "function () { return 1 }"\n');
    expect(e.where).toBe('line 2, column 9');
    expect(e.message).toContain('Unresolved tag');
    expect(refused('t.yaml', 'x: !custom 5\n').message).toContain('Unresolved tag');
  });

  it('refuses a second document, a huge file, and anything but one object', () => {
    expect(refused('d.yaml', 'name: a\n---\nname: b\n').message).toContain('one YAML document');
    const huge = 'metadata:\n' + '  k: v\n'.repeat(FILE_BODY_MAX_BYTES / 6 + 1);
    expect(refused('h.yaml', huge).message).toContain(`over ${FILE_BODY_MAX_BYTES} bytes`);
    for (const t of ['- a\n- b\n', '"text"\n', '', '42\n']) expect(refused('x.yaml', t).message).toContain('one object');
    expect(refused('x.json', '[1]').message).toContain('one object');
  });
});
