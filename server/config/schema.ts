/** The one appliance configuration: validated at the edge, frozen, passed down. */
import { Type, type Static } from 'typebox';

const Ipv4 = Type.String({ pattern: '^(\\d{1,3}\\.){3}\\d{1,3}$' });

/** The whole configuration of one appliance run. */
export const ConfigSchema = Type.Object(
  {
    iface: Type.Union([Type.String({ minLength: 1, maxLength: 15 }), Type.Null()]),
    ifindex: Type.Union([Type.Integer({ minimum: 1 }), Type.Null()]),
    address: Type.Union([Type.Object({ ip: Ipv4, prefix: Type.Integer({ minimum: 1, maximum: 32 }) }), Type.Null()]),
    dhcp: Type.Union([Type.Literal('full'), Type.Literal('proxy'), Type.Literal('off')]),
    range: Type.Union([Type.Object({ start: Ipv4, end: Ipv4 }), Type.Null()]),
    force: Type.Boolean(),
    dataDir: Type.String({ minLength: 1 }),
    http: Type.Object({ host: Type.String(), port: Type.Integer({ minimum: 0, maximum: 65535 }) }),
    /** URL nodes use to reach the node plane (written into boot scripts and kernel args). */
    publicUrl: Type.String(),
    admin: Type.Object(
      {
        host: Type.String(),
        port: Type.Integer({ minimum: 0, maximum: 65535 }),
        /** Listening beyond loopback (only with --admin-token-required). */
        exposed: Type.Boolean(),
        /** Extra names the Host header may carry (--admin-hostname); loopback and the listen address always may. */
        hostnames: Type.Array(Type.String({ pattern: '^[a-z0-9]([a-z0-9.-]{0,252})$' }), { maxItems: 64 }),
        /** HTTPS for the admin plane: null = plain HTTP (loopback); cert/key null = self-signed in the data dir. */
        tls: Type.Union([
          Type.Object({ cert: Type.Union([Type.String(), Type.Null()]), key: Type.Union([Type.String(), Type.Null()]) }),
          Type.Null(),
        ]),
        /** A browser session ends after this much idle time. */
        sessionIdleS: Type.Integer({ minimum: 60 }),
        /** A browser session ends this long after sign-in, however busy. */
        sessionMaxS: Type.Integer({ minimum: 60 }),
      },
      { additionalProperties: false },
    ),
    lab: Type.Union([Type.Object({ nodes: Type.Integer({ minimum: 0, maximum: 100000 }) }), Type.Null()]),
    microkernelDir: Type.Union([Type.String(), Type.Null()]),
    tftpRoot: Type.Union([Type.String(), Type.Null()]),
    /**
     * `--efi-loader`: written into the setting `default_efi_loader` at start, which is what the boot flow reads
     * (the UI changes it later); null when the flag was not given, so the stored setting stands.
     */
    efiLoader: Type.Union([Type.Literal('ipxe.efi'), Type.Literal('snponly.efi'), Type.Null()]),
    logLevel: Type.Union([
      Type.Literal('debug'),
      Type.Literal('info'),
      Type.Literal('warn'),
      Type.Literal('error'),
      Type.Literal('silent'),
    ]),
    rateLimitPerMin: Type.Integer({ minimum: 0 }),
    /** Extra full-mode pools for relayed subnets (`--pool`, chosen by giaddr); checked by server/dhcp/pools.ts. */
    pools: Type.Array(
      Type.Object(
        { subnet: Ipv4, prefix: Type.Integer({ minimum: 1, maximum: 32 }), start: Ipv4, end: Ipv4 },
        { additionalProperties: false },
      ),
      { maxItems: 64 },
    ),
    /** Operator-defined DHCP options (`--dhcp-option`); checked by server/dhcp/extra-options.ts. */
    dhcpOptions: Type.Array(
      Type.Object(
        { code: Type.Integer({ minimum: 1, maximum: 254 }), type: Type.String({ maxLength: 16 }), value: Type.String({ maxLength: 1024 }) },
        { additionalProperties: false },
      ),
      { maxItems: 64 },
    ),
    /** Ping an address before offering it (`--dhcp-conflict-check`, off by default: docs/dhcp.md). */
    conflictCheck: Type.Boolean(),
    /** Run synthetic exchanges through the DHCP path right after start so V8 optimises it before a rack's first storm (`--dhcp-warm-start`, on by default). */
    dhcpWarmStart: Type.Boolean(),
    /** Node-plane files are copied from memory instead of sent with sendfile(2) (`--http-copy`, to compare: server/http/asset-sendfile.ts). */
    httpCopy: Type.Optional(Type.Boolean()),
    /** TFTP transfers run in JavaScript instead of the native pump (`--tftp-js`, to compare: server/tftp/native-transfer.ts). */
    tftpJs: Type.Optional(Type.Boolean()),
    /** DHCP sockets read through Node's datagram layer instead of in batches by the addon (`--dhcp-js`, to compare: server/net/native-udp.ts). */
    dhcpJs: Type.Optional(Type.Boolean()),
    ports: Type.Object({
      dhcp: Type.Integer({ minimum: 0, maximum: 65535 }),
      proxy: Type.Integer({ minimum: 0, maximum: 65535 }),
      tftp: Type.Integer({ minimum: 0, maximum: 65535 }),
    }),
  },
  { additionalProperties: false },
);
/** The configuration. */
export type Config = Readonly<Static<typeof ConfigSchema>>;
