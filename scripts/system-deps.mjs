// Makes sure the system programs the lab and the end-to-end tests use are installed: Janus, Chromium, baresip (with
// its FFmpeg codecs), Kamailio, SIPp, FFmpeg, iproute2, nftables and eSpeak NG; with the argument `images`, also
// podman, runc and mmdebstrap (the image tests). On Debian/Ubuntu as root, missing ones are installed with apt-get;
// elsewhere this stops with the exact command to run. Runs before `npm test` and `npm run demo`; plain JavaScript so
// it works on any Node.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';

/** What must exist, and the Debian package that provides it. */
const multiarch = process.arch === 'arm64' ? 'aarch64-linux-gnu' : 'x86_64-linux-gnu';
const NEEDS = [
  { path: '/usr/bin/janus', pkg: 'janus', what: 'Janus WebRTC Server' },
  { path: `/usr/lib/${multiarch}/janus/plugins/libjanus_sip.so`, pkg: 'janus', what: 'Janus SIP plugin' },
  { path: '/usr/bin/chromium', pkg: 'chromium', what: 'Chromium' },
  { path: '/usr/bin/baresip', pkg: 'baresip', what: 'baresip (the lab SIP phone)' },
  { path: '/usr/lib/baresip/modules/avcodec.so', pkg: 'baresip-ffmpeg', what: 'baresip H.264 codec (avcodec)' },
  { path: '/usr/sbin/kamailio', pkg: 'kamailio', what: 'Kamailio (SIP failure simulator, authenticating trunk)' },
  { path: `/usr/lib/${multiarch}/kamailio/modules/tls.so`, pkg: 'kamailio-tls-modules', what: 'Kamailio TLS (the lab trunk over TLS)' },
  { path: '/usr/bin/sipp', pkg: 'sip-tester', what: 'SIPp (scripted SIP peers)' },
  { path: '/usr/bin/openssl', pkg: 'openssl', what: 'OpenSSL (the lab\'s TLS certificate)' },
  { path: '/usr/bin/ffmpeg', pkg: 'ffmpeg', what: 'FFmpeg (test videos)' },
  { path: '/usr/share/janus/demos/videoroomtest.html', pkg: 'janus-demos', what: 'the Janus demo web app (page mode)' },
  { path: '/usr/sbin/ip', pkg: 'iproute2', what: 'iproute2 (network namespaces)' },
  { path: '/usr/sbin/nft', pkg: 'nftables', what: 'nftables (the fault tests cut a connection silently inside the lab)' },
  { path: '/usr/bin/espeak-ng', pkg: 'espeak-ng', what: 'eSpeak NG (the dial-in PIN prompts, spoken)' },
];
/** `images` (npm run test:images): the lab's programs and what builds and runs the container images without Docker. */
const IMAGE_NEEDS = [
  { path: '/usr/bin/podman', pkg: 'podman', what: 'Podman (builds the images and runs them as tasks, daemonless)' },
  { path: '/usr/sbin/runc', pkg: 'runc', what: 'runc (the OCI runtime podman starts containers with)' },
  { path: '/usr/bin/mmdebstrap', pkg: 'mmdebstrap', what: 'mmdebstrap (the local Debian base image)' },
];
const sets = { lab: NEEDS, images: [...NEEDS, ...IMAGE_NEEDS] };
const set = process.argv[2] ?? 'lab';
if (!(set in sets)) {
  process.stderr.write(`system-deps: unknown set "${set}" (one of ${Object.keys(sets).join(', ')})\n`);
  process.exit(2);
}
const needs = sets[set];

const missing = needs.filter((need) => !existsSync(need.path));
if (missing.length === 0) process.exit(0);

const packages = [...new Set(missing.map((m) => m.pkg))];
const command = `apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${packages.join(' ')}`;
const list = missing.map((m) => `  - ${m.what} (${m.path})`).join('\n');

const osRelease = existsSync('/etc/os-release') ? readFileSync('/etc/os-release', 'utf8') : '';
const debianLike = process.platform === 'linux' && /^(ID|ID_LIKE)=.*\b(debian|ubuntu)\b/m.test(osRelease);
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

if (!debianLike || !isRoot) {
  process.stderr.write(
    `roomline needs system programs that are not installed:\n${list}\n\n` +
      (debianLike
        ? `Install them as root:\n  sudo sh -c '${command}'\n`
        : `This system is not Debian/Ubuntu: install the equivalents of the Debian packages ${packages.join(', ')}.\n`),
  );
  process.exit(1);
}

process.stdout.write(`roomline: installing system packages: ${packages.join(' ')}\n`);
const started = Date.now();
const result = spawnSync('sh', ['-c', command], { stdio: 'inherit' });
if (result.status !== 0) {
  process.stderr.write(`roomline: installing system packages failed (exit ${result.status}); the command was:\n  ${command}\n`);
  process.exit(1);
}
const still = needs.filter((need) => !existsSync(need.path));
if (still.length > 0) {
  process.stderr.write(`roomline: still missing after install:\n${still.map((m) => `  - ${m.what} (${m.path})`).join('\n')}\n`);
  process.exit(1);
}
process.stdout.write(`roomline: system packages installed in ${Math.round((Date.now() - started) / 1000)} s\n`);
