// A QR code the clinic drew (SVG text) as an image's address. An <img> shows
// it without its markup ever entering the page, so nothing in it can run or
// reach the page; the page's policy allows images from data: addresses.

/** How many bytes go to `String.fromCharCode` at once: well under any engine's limit on arguments. */
const CHUNK = 0x8000;

/** `svg` as a `data:image/svg+xml;base64,…` address for an <img>. */
export function svgImageSource(svg: string): string {
  const bytes = new TextEncoder().encode(svg);
  let binary = "";
  for (let at = 0; at < bytes.length; at += CHUNK) binary += String.fromCharCode(...bytes.subarray(at, at + CHUNK));
  return `data:image/svg+xml;base64,${btoa(binary)}`;
}
