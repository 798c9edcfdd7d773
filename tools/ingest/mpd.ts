// Reads the MPD ffmpeg's dash muxer writes: the codec strings and segment durations as it cut them.

export type MpdRepresentation = {
  /** Attributes of `<Representation>`: id, codecs, width, height, audioSamplingRate. */
  attrs: Record<string, string>;
  /** Attributes of the enclosing `<AdaptationSet>`, where ffmpeg puts frameRate. */
  setAttrs: Record<string, string>;
  channels: number | null;
  timescale: number;
  startNumber: number;
  durations: number[];
};

/**
 * The durations are exact (media timescale units, audio already net of the AAC priming edit
 * list), which no other ffmpeg output states; the MPD itself is then dropped, since the
 * Worker builds its own manifests from index.json.
 */
export function parseMpd(xml: string): MpdRepresentation[] {
  const representations: MpdRepresentation[] = [];
  for (const [, setTag = "", setBody = ""] of xml.matchAll(/<AdaptationSet\b([^>]*)>([\s\S]*?)<\/AdaptationSet>/g)) {
    for (const [, tag = "", body = ""] of setBody.matchAll(/<Representation\b([^>]*)>([\s\S]*?)<\/Representation>/g)) {
      const template = attributes(/<SegmentTemplate\b([^>]*)>/.exec(body)?.[1] ?? "");
      const channels = /<AudioChannelConfiguration\b[^>]*\bvalue="(\d+)"/.exec(body)?.[1];
      representations.push({
        attrs: attributes(tag),
        setAttrs: attributes(setTag),
        channels: channels ? Number(channels) : null,
        timescale: Number(requiredAttr(template, "timescale")),
        startNumber: Number(requiredAttr(template, "startNumber")),
        durations: timelineDurations(body),
      });
    }
  }
  return representations;
}

/** Representation ids are the output stream indexes of that ffmpeg run, i.e. its -map order. */
export function representation(mpd: MpdRepresentation[], streamIndex: number): MpdRepresentation {
  const found = mpd.find((rep) => rep.attrs.id === String(streamIndex));
  if (!found) throw new Error(`the MPD has no Representation for stream ${streamIndex}`);
  return found;
}

export function requiredAttr(attrs: Record<string, string>, name: string): string {
  const value = attrs[name];
  if (value === undefined) throw new Error(`the MPD lacks the attribute ${name}`);
  return value;
}

function attributes(tag: string): Record<string, string> {
  return Object.fromEntries([...tag.matchAll(/([\w:]+)="([^"]*)"/g)].map(([, name, value]) => [name, value]));
}

/** Expands `<S d=".." r="..">` runs; r counts the repeats after the first. */
function timelineDurations(representationXml: string): number[] {
  return [...representationXml.matchAll(/<S\b([^>]*)\/>/g)].flatMap(([, tag = ""]) => {
    const s = attributes(tag);
    return Array<number>(1 + Number(s.r ?? 0)).fill(Number(requiredAttr(s, "d")));
  });
}
