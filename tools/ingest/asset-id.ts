// An asset's id from what determines its packaging: the source's bytes and the options.
// Same input and options → same id (a re-run resumes the same upload); anything else → a
// new asset, since published assets never change.
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import path from "node:path";

function slug(text: string): string {
  return (
    text
      .normalize("NFKD")
      .replace(/[\u0300-\u036f]/g, "")
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, "-")
      .replace(/^-+|-+$/g, "")
      .slice(0, 40)
      .replace(/-+$/, "") || "video"
  );
}

export async function assetIdFor(source: string, options: unknown): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(source)) hash.update(chunk as Buffer);
  hash.update(JSON.stringify(options));
  return `${slug(path.parse(source).name)}-${hash.digest("hex").slice(0, 12)}`;
}
