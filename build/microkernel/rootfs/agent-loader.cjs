'use strict';
// Starts the discovery agent in the microkernel (supervise-agent runs it). The agent is one CommonJS file,
// compiled through vm.Script with the V8 code cache the image build made by running this very loader with the
// image's own Node and the supervisor's flags (build/microkernel/code-cache.mjs): on an emulated or slow CPU,
// compiling the 250 KB bundle is a good part of the agent's start. V8 checks the cache against its version,
// its flags and the source, and compiles as usual when it does not fit (an arm64 image built on x64 has none).
//   CRASHCART_AGENT_CACHE_INFO=1      print "code cache: used|rejected|none" to stderr
//   CRASHCART_AGENT_WRITE_CACHE=FILE  write the cache to FILE when the process exits (the build does)
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');

const file = path.join(__dirname, 'crashcart-agent.cjs');
const source = fs.readFileSync(file, 'utf8');
let cachedData;
try {
  cachedData = fs.readFileSync(`${file}.cache`);
} catch {
  cachedData = undefined;
}
const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
  filename: file,
  cachedData,
});
if (process.env.CRASHCART_AGENT_CACHE_INFO === '1')
  process.stderr.write(`code cache: ${cachedData === undefined ? 'none' : script.cachedDataRejected ? 'rejected' : 'used'}\n`);
const out = process.env.CRASHCART_AGENT_WRITE_CACHE;
// After the run, so the functions the run compiled are in it too, not only the top level.
if (out) process.once('exit', () => fs.writeFileSync(out, script.createCachedData()));
const mod = { exports: {} };
script.runInThisContext().call(mod.exports, mod.exports, require, mod, file, __dirname);
