/**
 * Compile-time checks of the room-provider registry, run by `tsc` (npm test's pretest): each `@ts-expect-error` must
 * meet an error, or the build fails. A registry of adapters that misses a provider of contracts/rooms is refused.
 */
import type { RoomAdapterLoaders as AdapterLoaders } from '../../bot-page/rooms/registry.js';

// @ts-expect-error a registry without the providers' adapters does not compile
export const incomplete: AdapterLoaders = {};

export const unknown: AdapterLoaders = {
  janus: async () => (await import('../../bot-page/rooms/janus.js')).createJanusRoom,
  chime: async () => (await import('../../bot-page/rooms/chime.js')).createChimeRoom,
  // @ts-expect-error an adapter for a provider the contracts do not list does not compile
  zoom: async () => undefined,
};
