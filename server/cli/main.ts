/**
 * `crashcart` command line: serve, token, login, image import, microkernel import.
 * The only place (with Electron main) that reads argv, env and the machine.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadServeConfig, serveHelp, defaultDataDir } from '../config/load.ts';
import { ccError } from '../errors/cc-error.ts';
import { cliErrorText, CliUsageError, DEBUG_ENV, errorLines } from './cli-errors.ts';
import { imageImport, loginCommand, microkernelImport, tokenCommand } from './data-commands.ts';
import { doctorCommand, serveReadinessGate } from './doctor.ts';
import { PREPARE_USAGE, prepareCommand } from './prepare.ts';
import { BUNDLE_USAGE, bundleCommand } from './bundle.ts';
import { diskImportCommand, DISK_IMPORT_USAGE } from './image-disk-import.ts';
import { imageBuildCommand, IMAGE_BUILD_USAGE } from './image-build.ts';
import { isoImportCommand, ISO_IMPORT_USAGE } from './image-iso-import.ts';
import { NODES_BMC_USAGE, nodesBmcCommand } from './nodes-bmc.ts';
import { ROUTE_NOUNS, routeCommand, routeHelp } from './route/route-cli.ts';

const USAGE = `Usage: crashcart <command> [options]

Commands:
  serve                      run the appliance (see \`crashcart serve --help\`); prints the readiness table
${PREPARE_USAGE}
${BUNDLE_USAGE}
  doctor [serve flags] [--image NAME ...]
                             readiness table for that configuration, each row with its fix;
                             exit status 1 when the rack cannot be served
  token [--rotate] [--data-dir DIR]
                             print the admin API token; --rotate signs out everywhere first
  login [--data-dir DIR]     print a fresh one-time sign-in link of the running appliance
  image import --name NAME --kernel FILE --initrd FILE [--data-dir DIR]
                             import an OS installer image
${ISO_IMPORT_USAGE}
${DISK_IMPORT_USAGE}
${IMAGE_BUILD_USAGE}
  microkernel import DIR [--data-dir DIR]
                             install a microkernel (vmlinuz, initrd.img, manifest.json)
${NODES_BMC_USAGE}
Commands that change data go through the running appliance when one holds the data dir.

${routeHelp()}  help NOUN                  the verbs of NOUN (docs/cli.md)
`;

/** Options of the non-serve commands. */
function commandArgs(argv: string[]) {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      'data-dir': { type: 'string' },
      name: { type: 'string' },
      kernel: { type: 'string' },
      initrd: { type: 'string' },
      iso: { type: 'string' },
      'iso-file': { type: 'string' },
      rotate: { type: 'boolean' },
    },
    allowPositionals: true,
    strict: true,
  });
  return { values, positionals, dataDir: path.resolve(values['data-dir'] ?? defaultDataDir(process.env)) };
}

async function serve(argv: string[]): Promise<void> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(serveHelp());
    return;
  }
  // Imported here, not at the top: every other command (the appliance CLI above all) starts without the whole server.
  const [{ ifindexOf, interfacesWithAddresses }, { startAppliance }, { consoleLogger }, { gcThreads, pretenuring, heapGrowingPercent }] =
    await Promise.all([
      import('../system/interfaces.ts'),
      import('../app.ts'),
      import('../core/console-logger.ts'),
      import('../system/v8-flags.ts'),
    ]);
  const machine = { interfaces: interfacesWithAddresses, ifindex: ifindexOf, env: process.env };
  const config = loadServeConfig(argv, machine);
  const log = consoleLogger(config.logLevel);
  // bin/v8-flags.mjs started this process with them (server/system/v8-flags.ts says why).
  log.info(
    { gc: gcThreads(), pretenuring: pretenuring(), heapGrowingPercent: heapGrowingPercent() },
    'V8 flags of serve: where the collector runs, allocation-site pretenuring, the old generation growing factor',
  );
  // The readiness table, and in full or proxy mode a refusal when loaders or the microkernel are missing.
  const app = await startAppliance(config, { log, beforeNetwork: serveReadinessGate((t) => process.stdout.write(t)) });
  const failed = app.network.statuses().filter((s) => s.state === 'failed');
  if (failed.length) {
    // A NIC service that cannot run (foreign DHCP server, port denied) must not look like success.
    for (const s of failed)
      process.stderr.write(errorLines(s.error?.code ?? 'error', `${s.name}: ${s.error?.message ?? s.detail}`, s.error?.fix ?? '-') + '\n');
    await app.stop();
    process.exit(1);
  }
  const lines = [
    '',
    `Crashcart UI: ${app.loginUrl}`,
    `  sign-in:    the link works once, for 10 minutes (\`crashcart login --data-dir ${config.dataDir}\` prints a new one)`,
    `  admin API:  ${app.adminUrl}/api/v1 (token: \`crashcart token --data-dir ${config.dataDir}\`)`,
    ...(app.fingerprint ? [`  admin TLS:  self-signed or given certificate, SHA-256 fingerprint ${app.fingerprint}`] : []),
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

/** Run an appliance command and exit with its code (1 when a bulk action refused a node). */
async function routeOrExit(argv: string[]): Promise<void> {
  const io = {
    env: process.env,
    write: (t: string | Uint8Array) => void process.stdout.write(t),
    warn: (t: string) => void process.stderr.write(t),
    tty: process.stdout.isTTY === true,
  };
  const code = await routeCommand(argv, io);
  if (code) process.exitCode = code;
}

async function main(argv: string[]): Promise<void> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'serve':
      return serve(rest);
    case 'prepare':
      process.exitCode = await prepareCommand(rest);
      return;
    case 'bundle':
      return bundleCommand(rest);
    case 'doctor': {
      const { ifindexOf, interfacesWithAddresses } = await import('../system/interfaces.ts');
      process.exitCode = await doctorCommand(rest, { interfaces: interfacesWithAddresses, ifindex: ifindexOf, env: process.env });
      return;
    }
    case 'token': {
      const { dataDir, values } = commandArgs(rest);
      return tokenCommand(dataDir, Boolean(values.rotate));
    }
    case 'login':
      return loginCommand(commandArgs(rest).dataDir);
    case 'image': {
      if (rest[0] !== 'import' && rest[0] !== 'build') return routeOrExit(['images', ...rest]);
      if (rest[0] === 'build') return imageBuildCommand(rest.slice(1));
      if (rest[0] === 'import' && rest.includes('--disk')) return diskImportCommand(rest.slice(1));
      const { values, positionals, dataDir } = commandArgs(rest);
      const given = [values.iso, values['iso-file'], values.kernel ?? values.initrd].filter((v) => v !== undefined).length;
      if (positionals[0] !== 'import' || !values.name || given !== 1 || (values.kernel !== undefined) !== (values.initrd !== undefined))
        throw ccError(
          'CC_ERR_CONFIG_INVALID',
          'usage: crashcart image import --name NAME (--kernel FILE --initrd FILE | --iso FILE | --iso-file FILE)',
        );
      if (values.iso) return isoImportCommand(dataDir, values.name, values.iso);
      return imageImport(dataDir, values.name, values['iso-file'] ? [values['iso-file']] : [values.kernel!, values.initrd!]);
    }
    case 'microkernel': {
      const { dataDir, positionals: pos } = commandArgs(rest);
      if (pos[0] !== 'import' || !pos[1]) throw ccError('CC_ERR_CONFIG_INVALID', 'usage: crashcart microkernel import DIR');
      return microkernelImport(dataDir, pos[1]);
    }
    case 'nodes':
      // BMC and power have their own verbs (server/cli/nodes-bmc.ts); everything else is the route table's.
      if (rest[0] === 'power' || rest[0] === 'bmc') {
        process.exitCode = await nodesBmcCommand(rest);
        return;
      }
      return routeOrExit(argv);
    case 'help':
      process.stdout.write(rest[0] ? routeHelp(rest[0]) : USAGE);
      return;
    case undefined:
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return;
    default:
      if (ROUTE_NOUNS.has(cmd)) return routeOrExit(argv);
      throw new CliUsageError('CC_ERR_CONFIG_INVALID', `unknown command "${cmd}"`, USAGE);
  }
}

main(process.argv.slice(2)).catch((e: unknown) => {
  // The code, what failed and the fix; the stack trace only when asked for (cli-errors.ts).
  process.stderr.write(cliErrorText(e, process.env[DEBUG_ENV] === '1') + '\n');
  process.exit(1);
});
