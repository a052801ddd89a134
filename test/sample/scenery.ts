import sharp from 'sharp';

/**
 * A PNG of a simple landscape (sky, sun, hills) drawn by sharp from SVG: a real image whose
 * thumbnail and placeholder are worth looking at in the page's screenshots. `hue` sets the
 * sky's colour, so each image looks different.
 */
export function scenery(width: number, height: number, hue: number): Promise<Buffer> {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 400 300">
    <defs>
      <linearGradient id="sky" x1="0" y1="0" x2="0" y2="1">
        <stop offset="0" stop-color="hsl(${hue},70%,45%)"/>
        <stop offset="1" stop-color="hsl(${(hue + 40) % 360},85%,75%)"/>
      </linearGradient>
    </defs>
    <rect width="400" height="300" fill="url(#sky)"/>
    <circle cx="${120 + (hue % 160)}" cy="110" r="38" fill="hsl(${(hue + 60) % 360},95%,85%)"/>
    <path d="M0 210 Q100 150 200 200 T400 180 V300 H0Z" fill="hsl(${(hue + 180) % 360},35%,35%)"/>
    <path d="M0 250 Q120 210 240 245 T400 235 V300 H0Z" fill="hsl(${(hue + 200) % 360},40%,22%)"/>
  </svg>`;
  return sharp(Buffer.from(svg)).png().toBuffer();
}
