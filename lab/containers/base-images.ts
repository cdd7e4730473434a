import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFile, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { buildImage, imageExists, podman } from './podman.js';

/**
 * The base images the three Dockerfiles build FROM, made on this machine (no image registry is reachable): Debian 12
 * "bookworm" from Debian's own packages (mmdebstrap, minbase, trimmed as the official slim image is), and Node 22 on
 * it from the npm `node` package the project already installs, with npm from the npm `npm` package, the `node` user
 * (1000:1000) and its home, as the official node:22-bookworm-slim has them. The Dockerfiles take them only through
 * their build arguments (NODE_IMAGE, DEBIAN_IMAGE); nothing in them changes.
 *
 * What this machine needs beyond the official images, and only when it has it: apt's `Check-Valid-Until`
 * (a mirror serving a snapshot), and the locally added CA certificates (a TLS-inspecting proxy in front of the npm
 * registry), which the Node base carries as NODE_EXTRA_CA_CERTS.
 */

const run = promisify(execFile);

/** The npm that comes with the Node base image (the one Node 22 ships with). */
export const BASE_NPM_VERSION = '10.9.9';

/** Debian's suites and mirror, as the official debian:bookworm image lists them. */
const DEBIAN_SOURCES = [
  'deb http://deb.debian.org/debian bookworm main',
  'deb http://deb.debian.org/debian bookworm-updates main',
  'deb http://deb.debian.org/debian-security bookworm-security main',
] as const;

/** What the official slim image leaves out (documentation, manuals, translations), as dpkg path excludes. */
const SLIM_EXCLUDES = [
  'path-exclude=/usr/share/doc/*',
  'path-include=/usr/share/doc/*/copyright',
  'path-exclude=/usr/share/man/*',
  'path-exclude=/usr/share/info/*',
  'path-exclude=/usr/share/locale/*',
  'path-exclude=/usr/share/groff/*',
  'path-exclude=/usr/share/lintian/*',
] as const;

export interface BaseImages {
  /** For DEBIAN_IMAGE. */
  readonly debian: string;
  /** For NODE_IMAGE. */
  readonly node: string;
  /** How each was had: made now, or already in the store from an identical recipe. */
  readonly made: { readonly debian: 'made' | 'reused'; readonly node: 'made' | 'reused' };
  readonly seconds: { readonly debian: number; readonly node: number };
}

/**
 * Makes (or finds, when the recipe is unchanged) both base images. The Debian image's tag carries a hash of its
 * recipe, so a changed recipe is a new image; the Node image is a podman build, whose layer cache does the same.
 */
export async function ensureBaseImages(options: { readonly workDir: string; readonly log: (line: string) => void }): Promise<BaseImages> {
  await mkdir(options.workDir, { recursive: true });
  const debianStarted = Date.now();
  const aptOptions = await hostAptOptions();
  const recipe = JSON.stringify({ DEBIAN_SOURCES, SLIM_EXCLUDES, aptOptions, variant: 'minbase', hook: 'merged-usr' });
  const debian = `localhost/roomline-base/debian:bookworm-slim-${createHash('sha256').update(recipe).digest('hex').slice(0, 12)}`;
  let debianMade: 'made' | 'reused' = 'reused';
  if (!(await imageExists(debian))) {
    options.log(`making ${debian} with mmdebstrap (Debian bookworm, minbase)`);
    await makeDebianImage(debian, options.workDir, aptOptions);
    debianMade = 'made';
  }
  const debianSeconds = (Date.now() - debianStarted) / 1000;

  const nodeStarted = Date.now();
  const node = 'localhost/roomline-base/node:22-bookworm-slim';
  const context = join(options.workDir, 'node-base');
  await writeNodeContext(context);
  const build = await buildImage({
    tag: node,
    context,
    file: 'Containerfile',
    buildArgs: { DEBIAN_IMAGE: debian },
    logFile: join(options.workDir, 'node-base.log'),
  });
  return {
    debian,
    node,
    made: { debian: debianMade, node: build.cachedSteps === build.steps ? 'reused' : 'made' },
    seconds: { debian: debianSeconds, node: (Date.now() - nodeStarted) / 1000 },
  };
}

/** apt options this machine's own apt runs with that a container must share to reach the same mirror. */
async function hostAptOptions(): Promise<string[]> {
  const options: string[] = [];
  for (const key of ['Acquire::Check-Valid-Until', 'Acquire::Check-Date']) {
    const { stdout } = await run('apt-config', ['dump', key]).catch(() => ({ stdout: '' }));
    if (/"false"/.test(stdout)) options.push(`${key} "false"`);
  }
  return options;
}

async function makeDebianImage(tag: string, workDir: string, aptOptions: readonly string[]): Promise<void> {
  if (!existsSync('/usr/bin/mmdebstrap')) {
    throw new Error('mmdebstrap is not installed: npm run test:images installs it (scripts/system-deps.mjs images)');
  }
  const tarball = join(workDir, 'debian-bookworm.tar');
  try {
    await run(
      'mmdebstrap',
      [
        '--variant=minbase',
        '--quiet',
        // merged /usr as Debian 12 has it, without the usrmerge package (and the Perl it pulls in)
        '--hook-dir=/usr/share/mmdebstrap/hooks/merged-usr',
        ...aptOptions.map((o) => `--aptopt=${o}`),
        ...SLIM_EXCLUDES.map((o) => `--dpkgopt=${o}`),
        'bookworm',
        tarball,
        ...DEBIAN_SOURCES,
      ],
      { maxBuffer: 64 * 1024 * 1024, timeout: 15 * 60_000 },
    ).catch((error: unknown) => {
      const { stderr } = error as { stderr?: string };
      throw new Error(`mmdebstrap could not make the Debian base image: ${(stderr ?? String(error)).trim().split('\n').slice(-10).join('\n')}`);
    });
    await podman(['import', '--change', 'CMD ["bash"]', tarball, tag]);
  } finally {
    await rm(tarball, { force: true });
  }
}

/** The Node base's build context: its Containerfile, the node binary, npm, and this machine's local CAs (if any). */
async function writeNodeContext(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  const require = createRequire(import.meta.url);
  const nodePackage = dirname(require.resolve('node/package.json'));
  const binary = join(nodePackage, 'bin', 'node');
  const { stdout: version } = await run(binary, ['--version']);
  if (!/^v22\./.test(version.trim())) throw new Error(`the npm node package holds ${version.trim()}, not Node 22 (${binary})`);
  await copyIfChanged(binary, join(dir, 'node'));
  await ensureNpm(dir);
  const cas = await localCaCertificates();
  await writeFile(join(dir, 'local-ca.pem'), cas);
  await writeFile(join(dir, 'Containerfile'), nodeContainerfile(cas.length > 0));
}

function nodeContainerfile(withLocalCas: boolean): string {
  return `ARG DEBIAN_IMAGE=debian:bookworm-slim
FROM \${DEBIAN_IMAGE}
${withLocalCas ? 'COPY local-ca.pem /usr/local/share/roomline-local-ca.pem\nENV NODE_EXTRA_CA_CERTS=/usr/local/share/roomline-local-ca.pem\n' : ''}COPY node /usr/local/bin/node
COPY npm /usr/local/lib/node_modules/npm
RUN groupadd --gid 1000 node \\
 && useradd --uid 1000 --gid node --shell /bin/bash --create-home node \\
 && ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \\
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \\
 && node --version && npm --version
CMD ["node"]
`;
}

/** npm, unpacked from the registry's tarball into `<dir>/npm` (once). */
async function ensureNpm(dir: string): Promise<void> {
  const target = join(dir, 'npm');
  const marker = join(target, 'package.json');
  if (existsSync(marker) && (JSON.parse(await readFile(marker, 'utf8')) as { version?: string }).version === BASE_NPM_VERSION) return;
  await rm(target, { recursive: true, force: true });
  await mkdir(target, { recursive: true });
  const { stdout } = await run('npm', ['pack', `npm@${BASE_NPM_VERSION}`, '--silent', '--pack-destination', dir]);
  const tgz = join(dir, stdout.trim().split('\n').at(-1) ?? '');
  await run('tar', ['-xzf', tgz, '-C', target, '--strip-components=1']);
  await rm(tgz, { force: true });
}

/** The certificates added to this machine's trust store by hand (Debian: /usr/local/share/ca-certificates). */
async function localCaCertificates(): Promise<string> {
  const dir = '/usr/local/share/ca-certificates';
  const names = existsSync(dir) ? (await readdir(dir, { recursive: true })).filter((n) => n.endsWith('.crt')).sort() : [];
  const texts = await Promise.all(names.map((n) => readFile(join(dir, n), 'utf8')));
  return texts.join('\n');
}

/** Copies unless the target already has the same size and content hash (the node binary is 120 MB). */
async function copyIfChanged(from: string, to: string): Promise<void> {
  if (existsSync(to)) {
    const [a, b] = await Promise.all([readFile(from), readFile(to)]);
    if (a.equals(b)) return;
  }
  await copyFile(from, to);
}
