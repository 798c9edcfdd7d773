// The yardstick for `npm run bench:media`: the least a Worker can do to answer a GET from caches.default.

// Seeding goes through PUT so this Worker needs no R2 binding: its only work on GET is the cache lookup.
export default {
  async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const key = new Request(`${url.origin}/__bench-cache${url.pathname}`);
    if (request.method === "PUT") {
      const bytes = await request.arrayBuffer();
      await caches.default.put(
        key,
        new Response(bytes, {
          headers: {
            "Content-Type": request.headers.get("content-type") ?? "application/octet-stream",
            "Content-Length": String(bytes.byteLength),
            "Cache-Control": "public, max-age=31536000, immutable",
          },
        }),
      );
      return new Response(null, { status: 201 });
    }
    return (await caches.default.match(key)) ?? new Response("not cached\n", { status: 404 });
  },
} satisfies ExportedHandler;
