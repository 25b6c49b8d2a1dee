// Types of the modules the Keyhole plugin makes (keyhole-plugin.mjs). Add
// to tsconfig.json "types", or reference it:
//   /// <reference types="keyhole-example-vite-plugin/client" />
declare module 'keyhole:*' {
  /**
   * The signed URL; with ?srcset=320,640,… the srcset attribute's text
   * ("<url> 320w, <url> 640w, …").
   */
  const value: string;
  export default value;
  /** With ?srcset=: each width's signed URL, in the order listed; otherwise empty. */
  export const urls: ReadonlyArray<{ readonly width: number; readonly url: string }>;
}
