/**
 * `crashcart` command line: serve, token, image import, microkernel import.
 * The only place (with Electron main) that reads argv, env and the machine.
 */
import path from 'node:path';
import fs from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { loadServeConfig, serveHelp, defaultDataDir } from '../config/load.ts';
import { ifindexOf, interfacesWithAddresses } from '../system/interfaces.ts';
import { startAppliance } from '../app.ts';
import { consoleLogger } from '../core/console-logger.ts';
import { CcError, ccError } from '../errors/cc-error.ts';
import { ensureAdminToken } from '../http/admin-auth.ts';
import { openStore } from '../store/store.ts';
import { importImageFromPaths } from '../images/image-store.ts';
import { diskImportCommand, DISK_IMPORT_USAGE } from './image-disk-import.ts';
import { imageBuildCommand, IMAGE_BUILD_USAGE } from './image-build.ts';

const USAGE = `Usage: crashcart <command> [options]

Commands:
  serve                      run the appliance (see \`crashcart serve --help\`)
  token [--data-dir DIR]     print the admin API token
  image import --name NAME (--kernel FILE --initrd FILE | --iso FILE) [--data-dir DIR]
                             import an OS installer image
${DISK_IMPORT_USAGE}
${IMAGE_BUILD_USAGE}
  microkernel import DIR [--data-dir DIR]
                             install a microkernel (vmlinuz, initrd.img, manifest.json)
`;

const machine = { interfaces: interfacesWithAddresses, ifindex: ifindexOf, env: process.env };

/** Options of the non-serve commands (token, image import, microkernel import). */
function commandArgs(argv: string[]) {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      'data-dir': { type: 'string' },
      name: { type: 'string' },
      kernel: { type: 'string' },
      initrd: { type: 'string' },
      iso: { type: 'string' },
    },
    allowPositionals: true,
    strict: true,
  });
  return { values, positionals, dataDir: path.resolve(values['data-dir'] ?? defaultDataDir(process.env)) };
}

function progressBar(label: string): (file: string, done: number, total: number) => void {
  return (file, done, total) => {
    const pct = total ? Math.floor((done / total) * 100) : 0;
    const bar = '#'.repeat(Math.floor(pct / 4)).padEnd(25, '.');
    process.stderr.write(`\r${label} ${file} [${bar}] ${pct}% ${(done / 1048576).toFixed(1)} MiB`);
    if (done >= total) process.stderr.write('\n');
  };
}

async function serve(argv: string[]): Promise<void> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(serveHelp());
    return;
  }
  const config = loadServeConfig(argv, machine);
  const log = consoleLogger(config.logLevel);
  const app = await startAppliance(config, { log });
  const failed = app.network.statuses().filter((s) => s.state === 'failed');
  if (failed.length) {
    // A NIC service that cannot run (foreign DHCP server, port denied) must not look like success.
    for (const s of failed) process.stderr.write(`${s.error?.code ?? 'error'}: ${s.name}: ${s.error?.message}\n  fix: ${s.error?.fix}\n`);
    await app.stop();
    process.exit(1);
  }
  const lines = [
    '',
    `Crashcart UI: ${app.loginUrl}`,
    `  admin API:  ${app.adminUrl}/api/v1 (token: \`crashcart token --data-dir ${config.dataDir}\`)`,
    `  node plane: ${config.publicUrl} (boot script ${config.publicUrl}/boot.ipxe)`,
    config.iface
      ? `  NIC:        ${config.iface} ${config.address?.ip}/${config.address?.prefix}, DHCP ${config.dhcp}`
      : `  NIC:        none (simulated rack of ${config.lab?.nodes ?? 0} nodes; pass --iface to serve a real rack)`,
    `  data:       ${config.dataDir}`,
    '',
  ];
  process.stdout.write(lines.join('\n') + '\n');
  let stopping = false;
  const stop = async (sig: string) => {
    if (stopping) return;
    stopping = true;
    log.info(`${sig}: stopping`);
    await app.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

async function main(argv: string[]): Promise<void> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'serve':
      return serve(rest);
    case 'token': {
      const { dataDir } = commandArgs(rest);
      process.stdout.write((await ensureAdminToken(dataDir)) + '\n');
      return;
    }
    case 'image': {
      if (rest[0] === 'build') return imageBuildCommand(rest.slice(1));
      if (rest[0] === 'import' && rest.includes('--disk')) return diskImportCommand(rest.slice(1));
      const { values, positionals, dataDir } = commandArgs(rest);
      if (positionals[0] !== 'import' || !values.name || (!values.iso && !(values.kernel && values.initrd)))
        throw ccError('CC_ERR_CONFIG_INVALID', 'usage: crashcart image import --name NAME (--kernel FILE --initrd FILE | --iso FILE)');
      const files = values.iso ? [values.iso] : [values.kernel!, values.initrd!];
      const store = await openStore(dataDir, 0);
      try {
        const doc = await importImageFromPaths(
          store.images,
          dataDir,
          values.name,
          files.map((f) => ({ file: path.basename(f), from: f })),
          progressBar(`importing ${values.name}:`),
        );
        process.stdout.write(
          `image ${doc.name}: ${doc.files.map((f) => `${f.name} ${f.size} B sha256 ${f.sha256.slice(0, 16)}`).join(', ')}\n`,
        );
      } finally {
        await store.close();
      }
      return;
    }
    case 'microkernel': {
      const { dataDir, positionals: pos } = commandArgs(rest);
      if (pos[0] !== 'import' || !pos[1]) throw ccError('CC_ERR_CONFIG_INVALID', 'usage: crashcart microkernel import DIR');
      const dest = path.join(dataDir, 'microkernel');
      const tmp = `${dest}.importing`;
      await fs.rm(tmp, { recursive: true, force: true });
      await fs.mkdir(tmp, { recursive: true });
      for (const f of ['vmlinuz', 'initrd.img', 'manifest.json']) {
        try {
          await fs.copyFile(path.join(pos[1], f), path.join(tmp, f));
        } catch {
          if (f !== 'manifest.json')
            throw ccError(
              'CC_ERR_CONFIG_INVALID',
              `${path.join(pos[1], f)} is missing; point at the folder \`npm run build:microkernel\` writes (build/out/microkernel)`,
            );
        }
      }
      await fs.rm(dest, { recursive: true, force: true });
      await fs.rename(tmp, dest);
      process.stdout.write(`microkernel installed in ${dest}\n`);
      return;
    }
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return;
    default:
      throw ccError('CC_ERR_CONFIG_INVALID', `unknown command "${cmd}"\n${USAGE}`);
  }
}

main(process.argv.slice(2)).catch((e: unknown) => {
  if (e instanceof CcError) process.stderr.write(e.toCliText() + '\n');
  else process.stderr.write(`crashcart: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
