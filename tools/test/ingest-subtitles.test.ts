// SRT (and WebVTT) in, WebVTT out; anything else is refused with an IngestInputError.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { IngestInputError } from "../ingest/errors.ts";
import { loadSubtitles } from "../ingest/subtitle-files.ts";
import { srtToVtt, toWebVtt } from "../ingest/subtitles.ts";

const SRT = `1
00:00:00,500 --> 00:00:03,000
Welcome to Marquee.

2
00:00:03,500 --> 00:00:06,500
Two lines,
of text.
`;

const VTT = `WEBVTT

1
00:00:00.500 --> 00:00:03.000
Welcome to Marquee.

2
00:00:03.500 --> 00:00:06.500
Two lines,
of text.
`;

function refusal(run: () => unknown): IngestInputError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(IngestInputError);
    return error as IngestInputError;
  }
  throw new Error("expected a refusal");
}

describe("srtToVtt", () => {
  it("adds the header, turns decimal commas into dots and keeps cue ids and text", () => {
    expect(srtToVtt(SRT)).toBe(VTT);
  });

  it("reads a UTF-8 BOM and CRLF (or lone CR) line ends", () => {
    expect(srtToVtt(`\uFEFF${SRT.replaceAll("\n", "\r\n")}`)).toBe(VTT);
    expect(srtToVtt(SRT.replaceAll("\n", "\r"))).toBe(VTT);
  });

  it("keeps HTML-like styling tags and escapes an arrow inside text", () => {
    const srt = "1\n00:00:01,000 --> 00:00:02,000\n<i>Quiet</i> <font color=\"#ff0\">now</font> --> go\n";
    expect(srtToVtt(srt)).toBe(
      "WEBVTT\n\n1\n00:00:01.000 --> 00:00:02.000\n<i>Quiet</i> <font color=\"#ff0\">now</font> --&gt; go\n",
    );
  });

  it("reads loose timings: no hours, short fractions, dots, no cue number, SRT position boxes", () => {
    const srt = "00:01,5 --> 00:02,25\nA\n\n7\n1:02:03.004 --> 1:02:04.000 X1:10 X2:20 Y1:30 Y2:40\nB\n";
    expect(srtToVtt(srt)).toBe(
      "WEBVTT\n\n00:00:01.500 --> 00:00:02.250\nA\n\n7\n01:02:03.004 --> 01:02:04.000\nB\n",
    );
  });

  it("joins a stray blank line inside a cue's text back into that cue, and ignores blank-only lines and trailing space", () => {
    const srt = "1\n00:00:01,000 --> 00:00:02,000\nFirst part\n\nsecond part\n \n\n2\n00:00:03,000 --> 00:00:04,000\nNext\n\n\n";
    expect(srtToVtt(srt)).toBe(
      "WEBVTT\n\n1\n00:00:01.000 --> 00:00:02.000\nFirst part\nsecond part\n\n2\n00:00:03.000 --> 00:00:04.000\nNext\n",
    );
  });

  it.each([
    ["an empty file", ""],
    ["plain prose", "Dear diary,\n\ntoday I packaged a video.\n"],
    ["JSON", '{"cues": []}'],
    ["a cue that ends before it starts", "1\n00:00:05,000 --> 00:00:04,000\nBackwards\n"],
    ["a number with no timing", "1\nhello\n"],
  ])("refuses %s", (_name, text) => {
    const error = refusal(() => srtToVtt(text));
    expect(error.code).toBe("SUBTITLES_INVALID");
    expect(error.message).toMatch(/^subtitles are not SRT or WebVTT: /);
  });
});

describe("toWebVtt", () => {
  it("converts SRT", () => {
    expect(toWebVtt(SRT)).toBe(VTT);
  });

  it("passes WebVTT through, minus the BOM and CRLFs", () => {
    expect(toWebVtt(`\uFEFF${VTT.replaceAll("\n", "\r\n")}`)).toBe(VTT);
    const styled = "WEBVTT - with a title\n\nNOTE made by hand\n\n00:01.000 --> 00:02.000 align:start line:0\n<v Roger>Hi\n";
    expect(toWebVtt(styled)).toBe(styled);
  });

  it.each([
    ["a malformed timing line", "WEBVTT\n\n00:00:01,000 --> 00:00:02,000\nComma\n"],
    ["no cues", "WEBVTT\n\nNOTE nothing here\n"],
    ["a header that is not WEBVTT", "WEBVTTX\n\n00:01.000 --> 00:02.000\nA\n"],
  ])("refuses WebVTT with %s", (_name, text) => {
    expect(refusal(() => toWebVtt(text)).code).toBe("SUBTITLES_INVALID");
  });
});

describe("loadSubtitles", () => {
  it("reads UTF-16 with a BOM and falls back to Windows-1252 for bytes that are not UTF-8", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "marquee-subs-test-"));
    try {
      const cue = "1\n00:00:01,000 --> 00:00:02,000\nCafé\n";
      const utf16 = path.join(dir, "utf16.srt");
      const latin = path.join(dir, "latin.srt");
      await writeFile(utf16, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(cue, "utf16le")]));
      await writeFile(latin, Buffer.from(cue, "latin1"));
      const loaded = await loadSubtitles([
        { lang: "fr", name: "Français", path: utf16 },
        { lang: "de", name: "Deutsch", path: latin, default: true },
      ]);
      expect(loaded.map((s) => [s.lang, s.default, s.vtt])).toEqual([
        ["fr", false, "WEBVTT\n\n1\n00:00:01.000 --> 00:00:02.000\nCafé\n"],
        ["de", true, "WEBVTT\n\n1\n00:00:01.000 --> 00:00:02.000\nCafé\n"],
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("names the file it refuses: unreadable, binary, or not subtitles", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "marquee-subs-test-"));
    try {
      const binary = path.join(dir, "image.srt");
      await writeFile(binary, Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 0x0d]));
      const refusal = (file: string) => loadSubtitles([{ lang: "en", name: "English", path: file }]).catch((e: unknown) => e);
      expect(await refusal(path.join(dir, "missing.srt"))).toMatchObject({
        code: "SUBTITLES_UNREADABLE",
        message: `subtitle file ${path.join(dir, "missing.srt")} is unreadable`,
      });
      expect(await refusal(dir)).toMatchObject({ code: "SUBTITLES_UNREADABLE" });
      expect(await refusal(binary)).toMatchObject({ code: "SUBTITLES_INVALID", message: `subtitle file ${binary} is not SRT or WebVTT` });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
