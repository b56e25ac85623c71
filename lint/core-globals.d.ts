// The only globals the platform-neutral core may use: those every platform strainer targets provides
// (Node >= 20, current browsers, workers), declared here in their minimal form so that tsconfig.core.json
// can type-check the core with no DOM and no Node declarations. Adding a line here is a decision that
// the API exists everywhere (WHATWG Encoding, High Resolution Time, WebCrypto, HTML base64).

declare class TextEncoder {
  encode(input?: string): Uint8Array;
}
declare class TextDecoder {
  constructor(label?: string, options?: { fatal?: boolean });
  decode(input?: ArrayBufferView | ArrayBuffer): string;
}
declare const performance: { now(): number };
declare function atob(data: string): string;
declare function btoa(data: string): string;
/** WHATWG DOM's AbortSignal (Node >= 15, browsers): only read here, to stop a fit. */
declare interface AbortSignal {
  readonly aborted: boolean;
}
/** The console's warn (every platform): the one note of the prior-trust policy when no sink is given. */
declare const console: { warn(...data: unknown[]): void };
