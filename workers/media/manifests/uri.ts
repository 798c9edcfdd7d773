// Relative URIs written into HLS and DASH manifests, so the token in the request path carries over.

/** Percent-encodes each segment of a relative path, keeping the `/` separators. */
export function encodePath(path: string): string {
  return path.split("/").map(encodeURIComponent).join("/");
}

/**
 * `path` (relative to the asset folder) as seen from a document inside `fromFolder`
 * (also relative to the asset folder, no trailing slash).
 */
export function relativeTo(fromFolder: string, path: string): string {
  const prefix = `${fromFolder}/`;
  // Only the one-level case is needed today (`subs/…`); anything else climbs to the asset root.
  if (path.startsWith(prefix)) return encodePath(path.slice(prefix.length));
  const depth = fromFolder.split("/").filter(Boolean).length;
  return "../".repeat(depth) + encodePath(path);
}
