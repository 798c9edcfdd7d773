// What a new password must satisfy: long enough to resist guessing, not on a leaked-password list, not the email.
import { commonPasswords } from "./common-passwords.ts";

export const MIN_PASSWORD_LENGTH = 8;
/** Generous for passphrases and password managers, yet bounds the work a request can ask of the hash. */
export const MAX_PASSWORD_LENGTH = 128;

export type PasswordVerdict = { ok: true } | { ok: false; reason: string };

/**
 * Length and a deny-list rather than composition rules (NIST SP 800-63B): "Password1!"
 * satisfies every composition rule and is among the first guesses an attacker tries.
 */
export function checkNewPassword(password: string, email: string): PasswordVerdict {
  // Code points, not UTF-16 units: an emoji is one character to the person typing it.
  const length = [...password].length;
  if (length < MIN_PASSWORD_LENGTH) {
    return { ok: false, reason: `Use at least ${MIN_PASSWORD_LENGTH} characters.` };
  }
  if (length > MAX_PASSWORD_LENGTH) {
    return { ok: false, reason: `Use at most ${MAX_PASSWORD_LENGTH} characters.` };
  }
  const lower = password.toLowerCase();
  if (commonPasswords.has(lower)) {
    return { ok: false, reason: "This password is too common. Choose one that is harder to guess." };
  }
  const address = email.trim().toLowerCase();
  const at = address.lastIndexOf("@");
  const localPart = at > 0 ? address.slice(0, at) : address;
  if (lower === address || lower === localPart) {
    return { ok: false, reason: "Do not use your email address as your password." };
  }
  return { ok: true };
}
