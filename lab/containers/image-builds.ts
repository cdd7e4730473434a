import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureBaseImages, type BaseImages } from './base-images.js';
import { buildImage, type BuildResult } from './podman.js';

/** The repository root: the worker image's build context. */
const REPOSITORY = fileURLToPath(new URL('../..', import.meta.url));

/** The three images Roomline deploys, each from its own Dockerfile and context, and the build argument of its base. */
export const ROOMLINE_IMAGES = {
  worker: { context: REPOSITORY, baseArg: 'NODE_IMAGE', base: 'node' },
  janus: { context: join(REPOSITORY, 'infra', 'janus-image'), baseArg: 'DEBIAN_IMAGE', base: 'debian' },
  registrar: { context: join(REPOSITORY, 'infra', 'registrar'), baseArg: 'DEBIAN_IMAGE', base: 'debian' },
} as const satisfies Record<string, { context: string; baseArg: string; base: keyof Pick<BaseImages, 'debian' | 'node'> }>;
export type RoomlineImage = keyof typeof ROOMLINE_IMAGES;
export const ROOMLINE_IMAGE_NAMES = Object.keys(ROOMLINE_IMAGES) as RoomlineImage[];

/** The tag the lab gives each image. */
export function imageTag(image: RoomlineImage): string {
  return `localhost/roomline/${image}:lab`;
}

export interface ImageBuilds {
  readonly base: BaseImages;
  readonly images: Readonly<Record<RoomlineImage, BuildResult>>;
}

/**
 * Builds the base images (or finds them) and then the three images, one after the other (the machine has two
 * cores), and writes what it measured to `<workDir>/builds-<label>.json`.
 */
export async function buildRoomlineImages(options: {
  readonly workDir: string;
  readonly label: string;
  readonly log: (line: string) => void;
}): Promise<ImageBuilds> {
  await mkdir(options.workDir, { recursive: true });
  const base = await ensureBaseImages({ workDir: join(options.workDir, 'base'), log: options.log });
  const images: Partial<Record<RoomlineImage, BuildResult>> = {};
  for (const name of ROOMLINE_IMAGE_NAMES) {
    const image = ROOMLINE_IMAGES[name];
    options.log(`building ${imageTag(name)} from ${image.context}`);
    images[name] = await buildImage({
      tag: imageTag(name),
      context: image.context,
      buildArgs: { [image.baseArg]: base[image.base] },
      logFile: join(options.workDir, `${name}-${options.label}.log`),
    });
  }
  const builds = { base, images: images as Record<RoomlineImage, BuildResult> };
  await writeFile(join(options.workDir, `builds-${options.label}.json`), `${JSON.stringify(builds, null, 2)}\n`);
  return builds;
}

/** A table of the builds, one line per image: build time, steps from the cache, size. */
export function describeBuilds(builds: ImageBuilds): string {
  const mb = (bytes: number) => `${(bytes / 1e6).toFixed(0)} MB`;
  const lines = [
    `base debian ${builds.base.made.debian} in ${builds.base.seconds.debian.toFixed(1)} s, node ${builds.base.made.node} in ${builds.base.seconds.node.toFixed(1)} s`,
    ...ROOMLINE_IMAGE_NAMES.map((name) => {
      const b = builds.images[name];
      return `${name.padEnd(9)} ${b.seconds.toFixed(1).padStart(7)} s  ${String(b.cachedSteps).padStart(2)}/${b.steps} steps cached  ${mb(b.sizeBytes).padStart(8)}`;
    }),
  ];
  return lines.join('\n');
}
