// What a manifest needs to offer more than one pathway (docs/media-origin.md): the pathways
// the asset is complete on, the one this manifest was requested on, the one a player should
// start with, and the steering server's URI. With one pathway, manifests are as before.

export type ManifestPathways = {
  /** Pathway ids the asset is complete on, the primary first (at least two). */
  ids: readonly string[];
  /** Where a player should start, before it has asked the steering server. */
  initial: string;
  /** The pathway this manifest was requested on: its HLS URIs stay relative. */
  current: string;
  /** The URL path of the asset folder on a pathway: `/p2/{token}/{assetId}/`. */
  base: (id: string) => string;
  /** The steering server's URL path for this format. */
  serverUri: string;
};

/** Pathway ids are `p`, `p2` … `p9` (lib/media-origins/pathways.ts): safe in any attribute as they are. */
export function steered(pathways: ManifestPathways | undefined): pathways is ManifestPathways {
  return pathways !== undefined && pathways.ids.length > 1;
}
