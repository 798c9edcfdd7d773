// Types for the parts of m3u8-parser (which ships none) that the manifest tests read.
declare module "m3u8-parser" {
  export interface Rendition {
    default: boolean;
    autoselect: boolean;
    language?: string;
    uri?: string;
    forced?: boolean;
  }

  export interface Segment {
    duration: number;
    uri: string;
    map?: { uri: string };
    /** Unix ms, from EXT-X-PROGRAM-DATE-TIME (carried forward by the parser onto later segments). */
    programDateTime?: number;
    discontinuity?: boolean;
    gap?: boolean;
    /** The discontinuity sequence number the segment is in. */
    timeline?: number;
  }

  export interface VariantAttributes {
    BANDWIDTH?: number;
    /** Left as the raw string by the parser, unlike BANDWIDTH. */
    "AVERAGE-BANDWIDTH"?: string;
    CODECS?: string;
    RESOLUTION?: { width: number; height: number };
    "FRAME-RATE"?: number;
    AUDIO?: string;
    SUBTITLES?: string;
    [name: string]: unknown;
  }

  export interface Variant {
    uri: string;
    attributes: VariantAttributes;
  }

  export type MediaGroups = Record<"AUDIO" | "VIDEO" | "CLOSED-CAPTIONS" | "SUBTITLES", Record<string, Record<string, Rendition>>>;

  /** An EXT-X-DATERANGE, its attribute names camel-cased (X-START-SEC → xStartSec). */
  export interface DateRange {
    id: string;
    class?: string;
    startDate: Date;
    duration?: number;
    endDate?: Date;
    /** Client attributes: a decimal becomes a number, a quoted string stays a string. */
    [name: string]: unknown;
  }

  export interface Manifest {
    version?: number;
    independentSegments?: boolean;
    playlists?: Variant[];
    mediaGroups?: MediaGroups;
    segments: Segment[];
    targetDuration?: number;
    mediaSequence?: number;
    discontinuitySequence?: number;
    dateTimeString?: string;
    playlistType?: string;
    endList?: boolean;
    dateRanges?: DateRange[];
    /** EXT-X-CONTENT-STEERING, its attribute names camel-cased. */
    contentSteering?: { serverUri: string; pathwayId?: string };
  }

  export class Parser {
    manifest: Manifest;
    push(chunk: string): void;
    end(): void;
    on(event: "warn" | "info", listener: (event: { message: string }) => void): void;
  }
}
