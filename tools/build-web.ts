// Bundles web/ (esbuild) into content-hashed static assets in web/dist, plus the
// manifest.json that maps entry names to their hashed URLs for the server-rendered pages;
// web/public is copied as it is (files whose URL must not change, like the favicon).
import { build } from "esbuild";
import { cp, mkdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { projectRoot } from "./project.ts";

const outdir = path.join(projectRoot, "web/dist");

export async function buildWeb(): Promise<Record<string, string>> {
  await rm(outdir, { recursive: true, force: true });
  await cp(path.join(projectRoot, "web/public"), outdir, { recursive: true });
  // Two bundles: every page's small script and styles, and the player (hls.js included),
  // loaded by the watch page only. The manifest names them app.js, app.css, player.js, player.css.
  const entries = {
    "app.js": "web/scripts/app.ts",
    "app.css": "web/styles/app.css",
    "player.js": "web/scripts/player.ts",
    "player.css": "web/styles/player.css",
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
  });
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
