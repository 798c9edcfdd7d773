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
  const result = await build({
    entryPoints: { app: path.join(projectRoot, "web/scripts/app.ts"), "app-style": path.join(projectRoot, "web/styles/app.css") },
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
  for (const [file, output] of Object.entries(result.metafile.outputs)) {
    if (!output.entryPoint) continue;
    const ext = path.extname(file).slice(1);
    const url = "/" + path.relative(outdir, path.join(projectRoot, file)).split(path.sep).join("/");
    manifest[`app.${ext}`] = url;
  }
  await writeFile(path.join(outdir, "manifest.json"), JSON.stringify(manifest, null, 2) + "\n");
  // Hashed names never change content, so browsers and the edge may keep them forever.
  await writeFile(path.join(outdir, "_headers"), "/assets/*\n  Cache-Control: public, max-age=31536000, immutable\n");
  return manifest;
}

if (import.meta.main) {
  const manifest = await buildWeb();
  console.log(`web assets: ${Object.values(manifest).join(", ")}`);
}
