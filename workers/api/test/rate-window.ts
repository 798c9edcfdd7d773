// The Rate Limiting binding counts in fixed windows aligned to the wall clock (Miniflare's
// as Cloudflare's): a burst that straddles a window's turn gets a fresh allowance in the
// next one. A test that counts exactly starts its burst well inside a window.
export async function wellInsideRateWindow(periodSec: number, marginMs = 3_000): Promise<void> {
  const windowMs = periodSec * 1000;
  const into = Date.now() % windowMs;
  if (into > windowMs - marginMs) await new Promise((r) => setTimeout(r, windowMs - into + 50));
}
