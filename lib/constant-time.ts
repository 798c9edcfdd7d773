// Comparing secrets without leaking, through timing, how much of a guess was right.

const encoder = new TextEncoder();

/**
 * True when the strings are equal. Both are hashed first so the comparison runs over
 * equal lengths, and `timingSafeEqual` takes the same time wherever they differ.
 */
export async function constantTimeEqual(a: string, b: string): Promise<boolean> {
  const [ha, hb] = await Promise.all([
    crypto.subtle.digest("SHA-256", encoder.encode(a)),
    crypto.subtle.digest("SHA-256", encoder.encode(b)),
  ]);
  return crypto.subtle.timingSafeEqual(ha, hb);
}
