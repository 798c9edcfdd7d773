// `npm run playback-url -- [assetId] [--height 720] [--minutes 60] [--base http://localhost:8787]`:
// prints HLS and DASH URLs for a local asset, signed with the dev key from .dev.vars, to
// try the media Worker in any player without an account (players get theirs from
// POST /v1/playback/sessions: docs/playback-sessions.md).
import { parseArgs } from "node:util";
import { parsePlaybackKeys, signPlaybackToken } from "../lib/playback-token.ts";
import { readDevVar } from "./dev-vars.ts";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    height: { type: "string", default: "2160" },
    minutes: { type: "string", default: "60" },
    base: { type: "string", default: "http://localhost:8787" },
  },
});

const assetId = positionals[0] ?? "demo-aurora";
const keys = await parsePlaybackKeys(await readDevVar("PLAYBACK_TOKEN_KEYS"));
const token = await signPlaybackToken(
  {
    assetId,
    accountId: "local-dev",
    sessionId: `dev-${Date.now()}`,
    maxHeight: Number(values.height),
    expiresAt: Math.floor(Date.now() / 1000) + Number(values.minutes) * 60,
  },
  keys,
);
const root = `${values.base.replace(/\/$/, "")}/p/${token}/${assetId}`;
console.log(`HLS:  ${root}/master.m3u8`);
console.log(`DASH: ${root}/manifest.mpd`);
