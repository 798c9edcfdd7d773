// The one error type the ingest pipeline throws for a bad input, so callers can tell "your file" from "our bug".

/** Why an input was refused; stable strings a CLI or an API can branch on. */
export type IngestInputErrorCode =
  | "INPUT_NOT_FOUND"
  | "INPUT_UNREADABLE"
  | "NOT_A_VIDEO"
  | "NO_VIDEO_STREAM"
  | "STILL_IMAGE"
  | "TOO_SHORT"
  | "CORRUPT"
  | "SUBTITLES_UNREADABLE"
  | "SUBTITLES_INVALID"
  | "INVALID_OPTIONS";

/** A short, one-line message meant to be shown to the person who supplied the input as is. */
export class IngestInputError extends Error {
  readonly code: IngestInputErrorCode;

  constructor(message: string, code: IngestInputErrorCode) {
    super(message);
    this.name = "IngestInputError";
    this.code = code;
  }
}
