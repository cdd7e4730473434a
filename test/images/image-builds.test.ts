import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildRoomlineImages, describeBuilds, ROOMLINE_IMAGE_NAMES } from '../../lab/containers/image-builds.js';

// The three images Roomline deploys, built here from their Dockerfiles unchanged (the base only through its build
// argument), and built again to show that an unchanged build comes whole from the layer cache.
const WORK_DIR = join(process.env['ROOMLINE_IMAGES_WORK'] ?? '.lab', 'images');

describe('the images, built from their Dockerfiles', () => {
  it('builds the worker, Janus and registrar images, and rebuilds them from the layer cache alone', async () => {
    // Arrange, Act
    const first = await buildRoomlineImages({ workDir: WORK_DIR, label: 'first', log: (line) => console.log(line) });
    console.log(`first build\n${describeBuilds(first)}`);
    const second = await buildRoomlineImages({ workDir: WORK_DIR, label: 'second', log: (line) => console.log(line) });
    console.log(`second build\n${describeBuilds(second)}`);

    // Assess
    for (const name of ROOMLINE_IMAGE_NAMES) {
      expect(first.images[name].sizeBytes, name).toBeGreaterThan(50e6);
      expect(second.images[name].cachedSteps, `${name}: every step of an unchanged build from the cache`).toBe(second.images[name].steps);
      expect(second.images[name].sizeBytes, name).toBe(first.images[name].sizeBytes);
    }
    expect(second.base.made).toEqual({ debian: 'reused', node: 'reused' });
  });
});
