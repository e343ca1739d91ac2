// Draws the app and tray icons without any image tool: an envelope with a relay arrow on a blue
// rounded tile, rasterised into RGBA and written as PNG with node:zlib. Run from anywhere when the
// design changes; the PNGs are checked in:  node build/icons/make-icons.mjs
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';

const here = path.dirname(fileURLToPath(import.meta.url));

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}
function png(size, pixel) {
  const raw = Buffer.alloc((size * 4 + 1) * size);
  for (let y = 0; y < size; y++) {
    raw[y * (size * 4 + 1)] = 0; // filter: none
    for (let x = 0; x < size; x++) {
      // 4×4 supersampling for smooth edges
      let r = 0, g = 0, b = 0, a = 0;
      for (let sy = 0; sy < 4; sy++)
        for (let sx = 0; sx < 4; sx++) {
          const [pr, pg, pb, pa] = pixel((x + (sx + 0.5) / 4) / size, (y + (sy + 0.5) / 4) / size);
          r += pr * pa; g += pg * pa; b += pb * pa; a += pa;
        }
      const o = y * (size * 4 + 1) + 1 + x * 4;
      raw[o] = a ? Math.round(r / a) : 0;
      raw[o + 1] = a ? Math.round(g / a) : 0;
      raw[o + 2] = a ? Math.round(b / a) : 0;
      raw[o + 3] = Math.round((a / 16) * 255);
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 6; // RGBA
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw, { level: 9 })), chunk('IEND', Buffer.alloc(0))]);
}

const inRoundRect = (x, y, x0, y0, x1, y1, r) => {
  if (x < x0 || x > x1 || y < y0 || y > y1) return false;
  const cx = Math.min(Math.max(x, x0 + r), x1 - r);
  const cy = Math.min(Math.max(y, y0 + r), y1 - r);
  return (x - cx) ** 2 + (y - cy) ** 2 <= r * r;
};
const nearSegment = (x, y, ax, ay, bx, by, w) => {
  const t = Math.max(0, Math.min(1, ((x - ax) * (bx - ax) + (y - ay) * (by - ay)) / ((bx - ax) ** 2 + (by - ay) ** 2)));
  return Math.hypot(x - (ax + t * (bx - ax)), y - (ay + t * (by - ay))) <= w;
};
const inArrow = (x, y) => (x >= 0.58 && x <= 0.8 && y >= 0.6 && y <= 0.78) || (x >= 0.78 && x <= 0.95 && Math.abs(y - 0.69) <= (0.95 - x) * 1.0 && y >= 0.52 && y <= 0.86);

const BLUE = [31, 95, 174], WHITE = [255, 255, 255], AMBER = [242, 169, 0];
const none = [0, 0, 0, 0];

function appIcon(x, y) {
  if (inArrow(x, y)) return [...AMBER, 1];
  const envelope = x >= 0.19 && x <= 0.81 && y >= 0.3 && y <= 0.7;
  if (envelope) {
    if (nearSegment(x, y, 0.2, 0.31, 0.5, 0.53, 0.025) || nearSegment(x, y, 0.8, 0.31, 0.5, 0.53, 0.025)) return [...BLUE, 1];
    return [...WHITE, 1];
  }
  if (inRoundRect(x, y, 0.03, 0.03, 0.97, 0.97, 0.19)) return [...BLUE, 1];
  return none;
}

// macOS template image: black shapes with alpha; the system tints it for light and dark menu bars.
function trayTemplate(x, y) {
  const envelope = x >= 0.1 && x <= 0.9 && y >= 0.22 && y <= 0.78;
  if (!envelope) return none;
  if (nearSegment(x, y, 0.12, 0.25, 0.5, 0.55, 0.06) || nearSegment(x, y, 0.88, 0.25, 0.5, 0.55, 0.06)) return none;
  return [0, 0, 0, 1];
}

writeFileSync(path.join(here, 'icon.png'), png(512, appIcon));
writeFileSync(path.join(here, 'tray.png'), png(32, appIcon));
writeFileSync(path.join(here, 'trayTemplate.png'), png(16, trayTemplate));
writeFileSync(path.join(here, 'trayTemplate@2x.png'), png(32, trayTemplate));
console.log('wrote build/icons/icon.png, tray.png, trayTemplate.png, trayTemplate@2x.png');
