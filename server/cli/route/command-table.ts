/**
 * `crashcart <noun> <verb>`: which admin route each command calls. The route
 * table (contract/routes.ts) says what a route takes and answers; this table
 * only names the command, which positionals fill what, and which columns a
 * human table shows. Adding a command: one entry here, nothing else.
 */
import type { AdminRouteKey } from '../../../contract/routes.ts';

/** One CLI command bound to one admin route. */
export interface CliCommand {
  readonly route: AdminRouteKey;
  readonly summary: string;
  /**
   * What the positionals fill, in order: the route's path parameters by name,
   * `ids...` for the rest as the body's `node_ids`, or `manifest-file` for a CSV/JSON file sent as the
   * manifest body (format from the extension, bytes base64 so the appliance names a bad UTF-8 byte).
   */
  readonly args?: readonly string[];
  /** The route answers a list: the first positional picks the row whose `name` (or this key) equals it. */
  readonly pick?: string;
  /** Columns of the human table for a list answer (first array in the answer). */
  readonly columns?: readonly string[];
}

const NODE_COLUMNS = ['id', 'hostname', 'state', 'policy', 'tags', 'boot_mac', 'ip', 'last_seen'] as const;
const bulk = (route: AdminRouteKey, summary: string): CliCommand => ({ route, summary, args: ['ids...'] });

/** Every noun, its verbs, and the route each verb calls. */
export const CLI_COMMANDS: Readonly<Record<string, Readonly<Record<string, CliCommand>>>> = {
  nodes: {
    list: { route: 'GET /api/v1/nodes', summary: 'list nodes (--state S, --q TEXT, --limit N, --offset N)', columns: NODE_COLUMNS },
    show: { route: 'GET /api/v1/nodes/:id', summary: 'one node', args: ['id'] },
    facts: { route: 'GET /api/v1/nodes/:id/facts', summary: "a node's facts and inventory", args: ['id'] },
    events: {
      route: 'GET /api/v1/nodes/:id/events',
      summary: "a node's events",
      args: ['id'],
      columns: ['seq', 'ts', 'type', 'message'],
    },
    edit: { route: 'PATCH /api/v1/nodes/:id', summary: 'set --hostname, --efi-loader, --metadata JSON', args: ['id'] },
    bind: {
      route: 'POST /api/v1/nodes/bind',
      summary: 'bind nodes to a policy: bind ID... --policy NAME (an erase policy also needs --confirm-count N, the number of nodes)',
      args: ['ids...'],
    },
    unbind: bulk('POST /api/v1/nodes/unbind', 'unbind nodes: unbind ID...'),
    reinstall: bulk('POST /api/v1/nodes/reinstall', 'install bound nodes again: reinstall ID...'),
    reboot: bulk('POST /api/v1/nodes/reboot', 'ask running agents to reboot: reboot ID...'),
    poweroff: bulk('POST /api/v1/nodes/poweroff', 'ask running agents to power off: poweroff ID...'),
    forget: bulk('POST /api/v1/nodes/forget', 'delete node records: forget ID...'),
    approve: bulk('POST /api/v1/nodes/approve', 'approve nodes for automatic actions: approve ID...'),
    merge: { route: 'POST /api/v1/nodes/merge', summary: 'fold one record into another: merge --into ID --from ID' },
    'keep-apart': {
      route: 'POST /api/v1/nodes/:id/conflicts/dismiss',
      summary: 'dismiss a conflict: keep-apart ID --node-id OTHER',
      args: ['id'],
    },
  },
  policies: {
    list: {
      route: 'GET /api/v1/policies',
      summary: 'policies in priority order',
      columns: ['priority', 'name', 'enabled', 'task', 'image', 'tags', 'bound_count'],
    },
    show: { route: 'GET /api/v1/policies/:name', summary: 'one policy', args: ['name'] },
    create: { route: 'POST /api/v1/policies', summary: 'create from --file FILE (JSON or YAML) (flags override fields)' },
    update: { route: 'PUT /api/v1/policies/:name', summary: 'replace from --file FILE (JSON or YAML)', args: ['name'] },
    delete: { route: 'DELETE /api/v1/policies/:name', summary: 'delete a policy', args: ['name'] },
    move: { route: 'POST /api/v1/policies/:name/move', summary: 'one step: move NAME --direction up|down', args: ['name'] },
    'dry-run': { route: 'POST /api/v1/dry-run', summary: 'which nodes a rule/tag/policy would match (--file FILE (JSON or YAML))' },
  },
  tags: {
    list: { route: 'GET /api/v1/tags', summary: 'tags and their match counts', columns: ['name', 'node_count', 'rule', 'description'] },
    show: { route: 'GET /api/v1/tags/:name', summary: 'one tag', args: ['name'] },
    create: { route: 'POST /api/v1/tags', summary: 'create: --name N --rule JSON, or --file FILE (JSON or YAML)' },
    update: { route: 'PUT /api/v1/tags/:name', summary: 'replace: update NAME --rule JSON, or --file', args: ['name'] },
    delete: { route: 'DELETE /api/v1/tags/:name', summary: 'delete a tag', args: ['name'] },
  },
  tasks: {
    list: { route: 'GET /api/v1/tasks', summary: 'tasks (boot profiles)', columns: ['name', 'builtin', 'description'] },
    show: { route: 'GET /api/v1/tasks/:name', summary: 'one task', args: ['name'] },
    create: { route: 'POST /api/v1/tasks', summary: 'create from --file FILE (JSON or YAML)' },
    update: { route: 'PUT /api/v1/tasks/:name', summary: 'replace from --file FILE (JSON or YAML)', args: ['name'] },
    delete: { route: 'DELETE /api/v1/tasks/:name', summary: 'delete a task', args: ['name'] },
    preview: { route: 'POST /api/v1/tasks/:name/preview', summary: 'render for a node: preview NAME --node-id ID', args: ['name'] },
  },
  images: {
    list: { route: 'GET /api/v1/images', summary: 'OS images', columns: ['name', 'kind', 'created_at', 'files'] },
    show: { route: 'GET /api/v1/images', summary: 'one image with its files and sha256', pick: 'name' },
    delete: { route: 'DELETE /api/v1/images/:name', summary: 'delete an image', args: ['name'] },
  },
  reservations: {
    list: { route: 'GET /api/v1/reservations', summary: 'DHCP reservations', columns: ['mac', 'ip', 'hostname'] },
    show: { route: 'GET /api/v1/reservations/:mac', summary: 'one reservation', args: ['mac'] },
    set: { route: 'PUT /api/v1/reservations/:mac', summary: 'set: set MAC --ip IP [--hostname H]', args: ['mac'] },
    delete: { route: 'DELETE /api/v1/reservations/:mac', summary: 'delete a reservation', args: ['mac'] },
  },
  manifest: {
    import: {
      route: 'POST /api/v1/manifest/import',
      summary: 'import a rack manifest: import FILE.csv|FILE.json [--skip-invalid true]',
      args: ['manifest-file'],
    },
    preview: {
      route: 'POST /api/v1/manifest/preview',
      summary: 'what importing FILE would do, row by row; changes nothing',
      args: ['manifest-file'],
    },
    status: { route: 'GET /api/v1/manifest', summary: 'expected machines not seen yet, arrived, unexpected' },
  },
  hooks: {
    list: {
      route: 'GET /api/v1/hooks',
      summary: 'hooks (the secret is never shown)',
      columns: ['id', 'name', 'kind', 'events', 'script', 'url', 'has_secret'],
    },
    add: {
      route: 'POST /api/v1/hooks',
      summary: 'add: --name N --events registered,bound --kind script --script F | --kind webhook --url U [--secret S]',
    },
    update: {
      route: 'PUT /api/v1/hooks/:id',
      summary: 'replace a hook (--file F, or the add flags); no --url or --secret keeps the stored one',
      args: ['id'],
    },
    test: { route: 'POST /api/v1/hooks/:id/test', summary: 'fire a test delivery now; prints its first attempt', args: ['id'] },
    remove: { route: 'DELETE /api/v1/hooks/:id', summary: 'remove a hook and its delivery log', args: ['id'] },
    deliveries: {
      route: 'GET /api/v1/hooks/:id/deliveries',
      summary: "a hook's delivery log, newest first",
      args: ['id'],
      columns: ['created_at', 'event', 'node_id', 'status', 'attempts', 'next_attempt_at', 'last_error'],
    },
  },
  settings: {
    show: { route: 'GET /api/v1/settings', summary: 'appliance settings' },
    set: { route: 'PATCH /api/v1/settings', summary: 'change settings: --file FILE (JSON or YAML) or --NAME VALUE' },
  },
  events: {
    list: {
      route: 'GET /api/v1/events',
      summary: 'the event log (--follow streams it live)',
      columns: ['seq', 'ts', 'type', 'node_id', 'message'],
    },
  },
  status: {
    show: { route: 'GET /api/v1/status', summary: 'what the appliance serves' },
  },
};
