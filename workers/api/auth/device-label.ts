// A short label for a signed-in device from its User-Agent ("Chrome on Linux"), for the
// account's list of devices and the streams it shows, when the device names none itself.
export function deviceLabel(userAgent: string): string {
  const browser = /Firefox|Edg|Chrome|Safari/.exec(userAgent)?.[0];
  const os = /Windows|Mac OS X|Android|iPhone|iPad|Linux/.exec(userAgent)?.[0];
  return [browser, os].filter(Boolean).join(" on ") || "Unknown device";
}
