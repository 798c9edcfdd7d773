// Bundles web/ (esbuild) into content-hashed static assets in web/dist, plus the
// manifest.json that maps entry names to their hashed URLs for the server-rendered pages;
// web/public is copied as it is (files whose URL must not change, like the favicon).
import { build } from "esbuild";
import { readFileSync } from "node:fs";
import { cp, mkdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { projectRoot } from "./project.ts";

const outdir = path.join(projectRoot, "web/dist");

/**
 * hls.js's build-time features (its rollup config's defines), for the source build the
 * player bundles (web/vendor/hls-trimmed.js). On: what Marquee plays — alternate audio
 * renditions, subtitles, CMCD (docs/qoe.md), media-capabilities checks, content steering
 * (docs/media-origin.md: 7.8 KB of the player bundle, 499.0 → 506.8 KB). Off: DRM (EME),
 * variable substitution, interstitials, I-frame playlists and the MPEG-TS advanced codecs —
 * none of them in what our packager writes. hls.min.js's 609 KB becomes 443 KB
 * (`npm run bench:web` prints the watch page's JS).
 */
export const HLS_FEATURES = {
  ALT_AUDIO: true,
  SUBTITLES: true,
  CMCD: true,
  MEDIA_CAPABILITIES: true,
  EME_DRM: false,
  CONTENT_STEERING: true,
  VARIABLE_SUBSTITUTION: false,
  INTERSTITIALS: false,
  IFRAMES: false,
  M2TS_ADVANCED_CODECS: false,
} as const;

/** Packages that must never reach a browser bundle: the schemas they serve live on the server. */
const SERVER_ONLY = ["node_modules/zod/", "node_modules/hono/", "node_modules/drizzle-orm/"];

function hlsVersion(): string {
  return (JSON.parse(readFileSync(path.join(projectRoot, "node_modules/hls.js/package.json"), "utf8")) as { version: string }).version;
}

export async function buildWeb(): Promise<Record<string, string>> {
  await rm(outdir, { recursive: true, force: true });
  await cp(path.join(projectRoot, "web/public"), outdir, { recursive: true });
  // Four bundles: every page's small script and styles; the player, loaded by the watch
  // page only; hls.js, which the player imports after the first frame (docs/qoe.md, "Start
  // faster"); and watch together, which the player imports only in a party. The manifest
  // names them app.js, app.css, player.js, player.css, player-hls.js, party.js.
  const entries = {
    "app.js": "web/scripts/app.ts",
    "app.css": "web/styles/app.css",
    "player.js": "web/scripts/player.ts",
    "player-hls.js": "web/scripts/player/hls-engine.ts",
    "player.css": "web/styles/player.css",
    "party.js": "web/scripts/party.ts",
  };
  const result = await build({
    entryPoints: Object.fromEntries(Object.entries(entries).map(([name, file]) => [name.replace(".", "-"), path.join(projectRoot, file)])),
    outdir: path.join(outdir, "assets"),
    entryNames: "[name]-[hash]",
    bundle: true,
    minify: true,
    format: "esm",
    target: "es2022",
    sourcemap: "linked",
    metafile: true,
    logLevel: "warning",
    alias: { "hls.js": path.join(projectRoot, "web/vendor/hls-trimmed.js") },
    define: {
      ...Object.fromEntries(Object.entries(HLS_FEATURES).map(([name, on]) => [`__USE_${name}__`, String(on)])),
      __VERSION__: JSON.stringify(hlsVersion()),
      __IN_WORKER__: "false",
    },
  });
  const leaked = Object.keys(result.metafile.inputs).filter((input) => SERVER_ONLY.some((p) => input.includes(p)));
  if (leaked.length > 0) throw new Error(`web bundles must not contain server-only packages; a page script imports: ${[...new Set(leaked.map((i) => i.split("/").slice(0, 2).join("/")))].join(", ")} (import types only, or move the constant to a module without them)`);
  const manifest: Record<string, string> = {};
  const nameOf = new Map(Object.entries(entries).map(([name, file]) => [file, name]));
  for (const [file, output] of Object.entries(result.metafile.outputs)) {
    if (!output.entryPoint) continue;
    const name = nameOf.get(output.entryPoint.split(path.sep).join("/"));
    // A stylesheet a script imports comes out beside it; only entry points are named.
    if (!name || path.extname(file) !== path.extname(name)) continue;
    manifest[name] = "/" + path.relative(outdir, path.join(projectRoot, file)).split(path.sep).join("/");
  }
  await writeFile(path.join(outdir, "manifest.json"), JSON.stringify(manifest, null, 2) + "\n");
  // Hashed names never change content, so browsers and the edge may keep them forever.
  // Every static file: never sniffed as another type (pages set their own, fuller headers).
  await writeFile(
    path.join(outdir, "_headers"),
    "/*\n  X-Content-Type-Options: nosniff\n  Referrer-Policy: strict-origin-when-cross-origin\n/assets/*\n  Cache-Control: public, max-age=31536000, immutable\n",
  );
  return manifest;
}

if (import.meta.main) {
  const manifest = await buildWeb();
  console.log(`web assets: ${Object.values(manifest).join(", ")}`);
}
