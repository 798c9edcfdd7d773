// The watch page's start-up requests (web/scripts/player/prefetch.ts) against a real HTTP
// server: the init segments the Play answer carries are answered from its bytes, with no
// request; only the first media segments go over the network.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { base64UrlEncode } from "../../lib/base64url.ts";
import { initsInHand, SegmentPrefetch, startRequests } from "../scripts/player/prefetch.ts";

const requested: string[] = [];
let server: http.Server;
let base = "";

beforeAll(async () => {
  server = http.createServer((req, res) => {
    requested.push(req.url!.split("?")[0]!);
    res.end(Buffer.from(`bytes of ${req.url!.split("?")[0]}`));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/p/TOKEN/film/`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const playlist = (track: string) => ({ url: `${base}${track}/playlist.m3u8`, text: `#EXTM3U\n#EXT-X-MAP:URI="init.m4s"\n#EXTINF:2,\n1.m4s\n#EXTINF:2,\n2.m4s\n#EXT-X-ENDLIST\n` });
/** The start variant's and its audio's, once the server is up. */
const startPlaylists = () => [playlist("480p"), playlist("audio-en")];
const cmcd = { sid: "s", cid: "c" };
const videoInit = Uint8Array.from([0, 0, 0, 24, 102, 116, 121, 112]);

describe("the start-up requests", () => {
  it("take the init segments the Play answer carries from its bytes, and fetch only the media segments", async () => {
    requested.length = 0;
    const inits = [
      { url: `${base}480p/init.m4s`, data: base64UrlEncode(videoInit) },
      { url: `${base}audio-en/init.m4s`, data: base64UrlEncode(Uint8Array.from([1, 2, 3])) },
    ];
    const prefetch = new SegmentPrefetch(startPlaylists(), 0, (u) => u, cmcd, inits);
    expect(prefetch.size).toBe(4);
    expect(new Uint8Array((await prefetch.take(`${base}480p/init.m4s`))!.data)).toEqual(videoInit);
    expect(new TextDecoder().decode((await prefetch.take(`${base}480p/1.m4s`))!.data)).toBe("bytes of /p/TOKEN/film/480p/1.m4s");
    await prefetch.take(`${base}audio-en/1.m4s`);
    expect(requested.sort()).toEqual(["/p/TOKEN/film/480p/1.m4s", "/p/TOKEN/film/audio-en/1.m4s"]);
  });

  it("fetch what the answer does not carry, or carries in anything but canonical base64url", async () => {
    requested.length = 0;
    // "AAECAx" has unused bits set: a sibling spelling of AAECAw, refused.
    const prefetch = new SegmentPrefetch(startPlaylists(), 0, (u) => u, cmcd, [{ url: `${base}480p/init.m4s`, data: "AAECAx" }]);
    await Promise.all([`${base}480p/init.m4s`, `${base}480p/1.m4s`, `${base}audio-en/init.m4s`, `${base}audio-en/1.m4s`].map((u) => prefetch.take(u)));
    expect(requested.sort()).toEqual(["/p/TOKEN/film/480p/1.m4s", "/p/TOKEN/film/480p/init.m4s", "/p/TOKEN/film/audio-en/1.m4s", "/p/TOKEN/film/audio-en/init.m4s"]);
    expect(initsInHand([{ url: "x", data: "AAECAx" }, { url: "y", data: "" }]).size).toBe(0);
  });

  it("leave out of the title page's warm-up the init segments in hand", () => {
    const all = startRequests(startPlaylists(), 0, (u) => u, cmcd).map((r) => r.url);
    const some = startRequests(startPlaylists(), 0, (u) => u, cmcd, new Set([`${base}480p/init.m4s`])).map((r) => r.url);
    expect(all).toHaveLength(4);
    expect(some).toEqual(all.filter((u) => u !== `${base}480p/init.m4s`));
  });
});
