import { encode } from 'uqr';

/**
 * Draws `text` as a QR code on `canvas`, in the page: the otpauth:// URL carries the TOTP secret,
 * so it must never go to a QR image service. A canvas, not an SVG string: nothing is parsed as
 * markup, and the page's Content-Security-Policy (no inline styles) has nothing to refuse.
 */
export function drawQrCode(canvas: HTMLCanvasElement, text: string, moduleSize = 4): void {
  const { data, size } = encode(text, { ecc: 'M', border: 2 });
  canvas.width = canvas.height = size * moduleSize;
  const context = canvas.getContext('2d');
  if (!context) return;
  context.fillStyle = '#fff';
  context.fillRect(0, 0, canvas.width, canvas.height);
  context.fillStyle = '#000';
  data.forEach((row, y) =>
    row.forEach((dark, x) => {
      if (dark) context.fillRect(x * moduleSize, y * moduleSize, moduleSize, moduleSize);
    }),
  );
}
