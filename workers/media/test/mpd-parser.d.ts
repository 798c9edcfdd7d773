// Types for the parts of mpd-parser (which ships none) that the tests read.
declare module "mpd-parser" {
  /** One Event of a Period's EventStream, its times in seconds of the presentation. */
  export interface MpdEvent {
    schemeIdUri: string;
    value?: string;
    /** As written (a string). */
    id?: string;
    start: number;
    end: number;
    /** The Event's text content, else its @messageData. */
    messageData?: string;
    presentationTimeOffset: number;
  }

  export interface MpdPlaylist {
    attributes: { NAME?: string; serviceLocation?: string; RESOLUTION?: { width: number; height: number } };
    resolvedUri?: string;
    segments?: { resolvedUri: string; map?: { resolvedUri: string } }[];
  }

  export interface MpdManifest {
    duration?: number;
    playlists?: MpdPlaylist[];
    eventStream?: MpdEvent[];
    contentSteering?: { serverURL: string; defaultServiceLocation?: string; queryBeforeStart?: boolean };
  }

  export function parse(manifest: string, options?: { manifestUri?: string }): MpdManifest;
}
