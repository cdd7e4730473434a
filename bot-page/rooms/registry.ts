import type { RoomJoin, RoomProviderName } from '../../contracts/rooms/index.js';
import type { RoomAdapter, RoomAdapterEvents, RoomAdapterFactory, RoomAdapterOptions } from './room-adapter.js';

/**
 * Every provider's adapter, loaded on demand: each is its own chunk of the page (with its SDK), fetched only by a call
 * that joins such a room. The mapped type makes the compiler refuse a provider of `contracts/rooms/index.ts` that has
 * no adapter here.
 */
export type RoomAdapterLoaders = { readonly [P in RoomProviderName]: () => Promise<RoomAdapterFactory<P>> };

const ADAPTERS: RoomAdapterLoaders = {
  janus: async () => (await import('./janus.js')).createJanusRoom,
  chime: async () => (await import('./chime.js')).createChimeRoom,
  page: async () => (await import('./page.js')).createPageRoom,
};

/** Loads the adapter of the room's provider and makes one for this join. */
export async function createRoomAdapter(
  room: RoomJoin,
  events: RoomAdapterEvents,
  options: RoomAdapterOptions,
): Promise<RoomAdapter> {
  const load = ADAPTERS[room.provider] as () => Promise<RoomAdapterFactory<typeof room.provider>>;
  const factory = await load();
  return factory(room, events, options);
}
