/**
 * Built-in tasks (boot profiles). Each is an iPXE template plus answer-file
 * templates rendered per node. Context: see docs/tasks.md
 * (server_url, node.*, policy.*, image.*, files_base, stage_url, token, hostname).
 */
import type { Task, TaskField } from '../../contract/index.ts';
import { BURNIN_FIELDS, ERASE_FIELDS } from '../deploy/maintenance-jobs.ts';

const STAGE = '# crashcart: stage_url={{stage_url}}';
const ERR = [
  ':error',
  'echo Crashcart: installer boot failed; retrying in 30 s',
  'sleep 30',
  'chain --replace --autofree {{server_url}}/boot.ipxe || reboot',
].join('\n');

function kernelBoot(args: string): string {
  // UEFI: the kernel's EFI stub loads only the initrd its command line names (iPXE registers it by name).
  const kernelArgs = `initrd={{image.initrd}} ${args}`;
  return [
    '#!ipxe',
    STAGE,
    'echo Crashcart: {{node.hostname}} installs {{policy.name}} ({{image.name}})',
    ':kernel',
    `kernel {{image.url}}/{{image.kernel}} ${kernelArgs} || goto kernel_retry`,
    ':initrd',
    'initrd {{image.url}}/{{image.initrd}} || goto initrd_retry',
    'boot || goto error',
    ':kernel_retry',
    'sleep 5',
    'kernel {{image.url}}/{{image.kernel}} ' + kernelArgs + ' && goto initrd || goto error',
    ':initrd_retry',
    'sleep 5',
    'initrd {{image.url}}/{{image.initrd}} && boot || goto error',
    ERR,
    '',
  ].join('\n');
}

const PRESEED = `# Crashcart preseed for {{node.hostname}} (node {{node.id}}, policy {{policy.name}})
d-i debian-installer/locale string en_US.UTF-8
d-i keyboard-configuration/xkb-keymap select us
d-i netcfg/choose_interface select auto
d-i netcfg/get_hostname string {{hostname}}
d-i netcfg/get_domain string {{domain}}
d-i netcfg/hostname string {{hostname}}
d-i mirror/country string manual
d-i mirror/http/hostname string {{mirror_host}}
d-i mirror/http/directory string {{mirror_dir}}
d-i mirror/http/proxy string
{{#if appliance_mirror}}d-i apt-setup/services-select multiselect
d-i apt-setup/cdrom/set-first boolean false
{{/if}}d-i passwd/root-login boolean true
d-i passwd/make-user boolean false
{{#if policy.root_password_hash}}d-i passwd/root-password-crypted password {{policy.root_password_hash}}
{{else}}d-i passwd/root-password-crypted password !
{{/if}}d-i clock-setup/utc boolean true
d-i time/zone string UTC
d-i partman-auto/method string lvm
d-i partman-auto/choose_recipe select atomic
d-i partman-lvm/device_remove_lvm boolean true
d-i partman-lvm/confirm boolean true
d-i partman-lvm/confirm_nooverwrite boolean true
d-i partman/confirm_write_new_label boolean true
d-i partman/choose_partition select finish
d-i partman/confirm boolean true
d-i partman/confirm_nooverwrite boolean true
tasksel tasksel/first multiselect standard, ssh-server
d-i grub-installer/only_debian boolean true
d-i grub-installer/bootdev string default
d-i preseed/early_command string wget -q -O /dev/null "{{stage_url}}&name=installing" || true
d-i preseed/late_command string mkdir -p /target/root/.ssh; {{#each policy.ssh_keys}}echo '{{this}}' >> /target/root/.ssh/authorized_keys; {{/each}}wget -q -O /dev/null "{{stage_url}}&name=installed" || true
d-i finish-install/reboot_in_progress note
`;

const USER_DATA = `#cloud-config
# Crashcart autoinstall for {{node.hostname}} (node {{node.id}}, policy {{policy.name}})
autoinstall:
  version: 1
  identity:
    hostname: {{hostname}}
    username: ubuntu
    password: "{{#if policy.root_password_hash}}{{policy.root_password_hash}}{{else}}!{{/if}}"
{{#if network}}  network:
    version: 2
    ethernets:
      boot:
        match:
          macaddress: "{{node.boot_mac}}"
        addresses: [{{network.ip}}/{{network.prefix}}]
{{#if network.gateway}}        routes:
          - to: default
            via: {{network.gateway}}
{{/if}}{{#if network.nameservers}}        nameservers:
          addresses: [{{network.nameservers}}]
{{/if}}{{/if}}{{#if appliance_mirror}}  apt:
    geoip: false
    primary:
      - arches: [default]
        uri: {{mirror_url}}
{{/if}}  ssh:
    install-server: true
    authorized-keys:
{{#each policy.ssh_keys}}      - "{{this}}"
{{/each}}  storage:
    layout:
      name: lvm
  early-commands:
    - wget -q -O /dev/null "{{stage_url}}&name=installing" || true
  late-commands:
    - wget -q -O /dev/null "{{stage_url}}&name=installed" || true
`;

const META_DATA = `instance-id: crashcart-node-{{node.id}}
local-hostname: {{hostname}}
`;

const KICKSTART = `# Crashcart kickstart for {{node.hostname}} (node {{node.id}}, policy {{policy.name}})
text
{{#if repo_url}}url --url={{repo_url}}
{{/if}}{{#each repo_extra}}repo --name={{name}} --baseurl={{url}}
{{/each}}lang en_US.UTF-8
keyboard us
timezone UTC --utc
{{#if network}}network --bootproto=static --device={{node.boot_mac}} --ip={{network.ip}} --netmask={{network.netmask}}{{#if network.gateway}} --gateway={{network.gateway}}{{/if}}{{#if network.nameservers}} --nameserver={{network.nameservers}}{{/if}} --hostname={{hostname}}
{{else}}network --bootproto=dhcp --hostname={{hostname}}
{{/if}}{{#if policy.root_password_hash}}rootpw --iscrypted {{policy.root_password_hash}}
{{else}}rootpw --lock
{{/if}}{{#each policy.ssh_keys}}sshkey --username=root "{{this}}"
{{/each}}zerombr
clearpart --all --initlabel
autopart --type=lvm
bootloader --location=mbr
reboot
%packages
@^minimal-environment
%end
%pre
curl -s -o /dev/null "{{stage_url}}&name=installing" || true
%end
%post
curl -s -o /dev/null "{{stage_url}}&name=installed" || true
%end
`;

/** Debian-installer settings a policy may give (read by taskContext, server/tasks/task-service.ts). */
const DEBIAN_FIELDS: TaskField[] = [
  { key: 'mirror_host', label: 'Mirror host', kind: 'text', required: false, placeholder: 'deb.debian.org' },
  { key: 'mirror_dir', label: 'Mirror directory', kind: 'text', required: false, placeholder: '/debian' },
  { key: 'domain', label: 'DNS domain', kind: 'text', required: false, placeholder: 'local' },
];

/** Kickstart needs the installation tree: Anaconda cannot install without `inst.repo` and `url`. */
const REPO_URL: TaskField = {
  key: 'repo_url',
  label: 'Repository URL (installation tree)',
  kind: 'url',
  required: true,
  help: 'The BaseOS tree the installer reads, reachable from the rack. Not needed when the image carries a repository (crashcart image import --iso): the appliance serves it.',
  placeholder: 'http://mirror.example/rocky/9/BaseOS/x86_64/os/',
};

/** A built-in task as declared here; `fields` and `login` default to none and false (server/tasks/task-service.ts). */
export type BuiltinTask = Omit<Task, 'fields' | 'login'> & Partial<Pick<Task, 'fields' | 'login'>>;

/** The built-in tasks; users add their own with the same shape. */
export const BUILTIN_TASKS: readonly BuiltinTask[] = [
  {
    name: 'local-disk',
    description: 'Boot from the local disk (nothing is installed).',
    builtin: true,
    ipxe: [
      '#!ipxe',
      STAGE,
      'echo Crashcart: {{node.hostname}} boots from local disk',
      // An error status: on EFI_SUCCESS the boot manager may stop at its menu (UEFI 2.10 3.1.1, docs/deploy.md).
      'iseq ${platform} efi && exit 1 ||',
      'sanboot --no-describe --drive 0x80 || exit',
      '',
    ].join('\n'),
    templates: {},
    fields: [],
    login: false,
  },
  {
    name: 'debian',
    description: 'Debian netboot installer with a preseed rendered per node (image: kernel `linux` + `initrd.gz`).',
    builtin: true,
    // A static address is given on the boot line: d-i configures the network before it fetches the
    // preseed, and writes that configuration into the installed system.
    ipxe: kernelBoot(
      'auto=true priority=critical url={{files_base}}/preseed.cfg hostname={{hostname}} domain={{domain}} interface=auto netcfg/choose_interface=auto netcfg/no_default_route=true{{#if network}} netcfg/disable_autoconfig=true netcfg/get_ipaddress={{network.ip}} netcfg/get_netmask={{network.netmask}}{{#if network.gateway}} netcfg/get_gateway={{network.gateway}}{{/if}}{{#if network.dns}} netcfg/get_nameservers={{network.dns.0}}{{/if}} netcfg/confirm_static=true{{/if}} console=tty0 console=ttyS0,115200n8 ipv6.disable=1 --- quiet',
    ),
    templates: { 'preseed.cfg': PRESEED },
    fields: DEBIAN_FIELDS,
    login: true,
  },
  {
    name: 'ubuntu',
    description: 'Ubuntu live-server autoinstall via cloud-init NoCloud (image: `vmlinuz` + `initrd` from the live-server ISO).',
    builtin: true,
    ipxe: kernelBoot('ip=dhcp url={{image.url}}/{{image.iso}} autoinstall ds=nocloud-net;s={{files_base}}/ console=ttyS0,115200n8 ---'),
    templates: { 'user-data': USER_DATA, 'meta-data': META_DATA },
    fields: [],
    login: true,
  },
  {
    name: 'rocky',
    description:
      'Rocky Linux via kickstart (image: `vmlinuz` + `initrd.img` from images/pxeboot; the repository: the image\u2019s own (image import --iso) or policy metadata repo_url).',
    builtin: true,
    ipxe: kernelBoot('inst.ks={{files_base}}/ks.cfg {{#if repo_url}}inst.repo={{repo_url}}{{/if}} ip=dhcp console=ttyS0,115200n8'),
    templates: { 'ks.cfg': KICKSTART },
    fields: [REPO_URL],
    login: true,
  },
  {
    name: 'alma',
    description:
      'AlmaLinux via kickstart (image: `vmlinuz` + `initrd.img` from images/pxeboot; the repository: the image\u2019s own (image import --iso) or policy metadata repo_url).',
    builtin: true,
    ipxe: kernelBoot('inst.ks={{files_base}}/ks.cfg {{#if repo_url}}inst.repo={{repo_url}}{{/if}} ip=dhcp console=ttyS0,115200n8'),
    templates: { 'ks.cfg': KICKSTART },
    fields: [REPO_URL],
    login: true,
  },
  {
    name: 'image-deploy',
    description:
      'Write the policy\u2019s disk image to the root disk from the microkernel, seed cloud-init, boot it (docs/deploy.md). Root device hints: policy metadata root_device.',
    builtin: true,
    runs_in: 'microkernel',
    // Never rendered for a boot: /boot answers these nodes with the microkernel, then with the local disk.
    ipxe: '#!ipxe\n' + STAGE + '\nchain --replace --autofree {{server_url}}/boot.ipxe\n',
    templates: {},
  },
  {
    name: 'erase',
    description:
      'Erase every disk of the machine from the microkernel: NVMe format, ATA secure erase or discard where the drive offers it, else zeros over every byte (docs/deploy.md "Erase"). Binds only by hand, confirmed with the node count.',
    builtin: true,
    runs_in: 'microkernel',
    // Never rendered for a boot: /boot answers these nodes with the microkernel.
    ipxe: '#!ipxe\n' + STAGE + '\nchain --replace --autofree {{server_url}}/boot.ipxe\n',
    templates: {},
    fields: ERASE_FIELDS,
  },
  {
    name: 'burn-in',
    description:
      'Stress CPU and memory and read every disk for a set time from the microkernel; results become burnin_* facts (docs/deploy.md "Burn-in").',
    builtin: true,
    runs_in: 'microkernel',
    ipxe: '#!ipxe\n' + STAGE + '\nchain --replace --autofree {{server_url}}/boot.ipxe\n',
    templates: {},
    fields: BURNIN_FIELDS,
  },
  {
    name: 'custom-ipxe',
    description: 'Runs the iPXE script in the policy metadata key `ipxe` (itself a template), e.g. to chain another boot server.',
    builtin: true,
    ipxe: '#!ipxe\n' + STAGE + '\n{{policy.metadata.ipxe}}\n',
    templates: {},
    fields: [
      {
        key: 'ipxe',
        label: 'iPXE script',
        kind: 'script',
        required: true,
        help: 'Runs after #!ipxe; a template like the task (e.g. {{node.id}}, {{server_url}}).',
        placeholder: 'chain http://other-boot-server/boot.ipxe',
      },
    ],
    login: false,
  },
];
