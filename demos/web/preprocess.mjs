// Preprocessing for the in-browser demo: the bundle contract's validation transform
// (models/README.md, "Preprocessing"), reimplemented without dependencies so that the page
// feeds ONNX Runtime Web the same float32 tensor that demos/runtime.py feeds onnxruntime.
//
// It mirrors, step for step, demos/runtime.py `to_rgb` (RGBA composited on white with
// Image.alpha_composite) and `preprocess` (Pillow 12's BILINEAR resize for `squish`,
// ImageOps.fit for `crop`, ImageOps.pad for `pad`, then (x/255 - mean)/std in float32).
// It must match because a model is only as good as its inputs: a resize that differs from
// the one the network was validated with shifts the predictions, and the page would show
// numbers that disagree with the Python demo and the Space for the same image. The tests
// (tests/demos/test_web_preprocess.py) compare it with Pillow on real, odd images: the
// uint8 pixels after the resize and the float32 tensor are identical, bit for bit.
//
// Everything here is integer or IEEE double arithmetic arranged exactly as Pillow's C code
// does it (Resample.c, AlphaComposite.c, with their fixed-point rounding), plus Python's
// round-half-to-even where ImageOps uses round().
//
//   toTensor(rgba, width, height, input)      Float32Array [3, H, W] (CHW), ready for ORT
//   resizedRGB(rgba, width, height, input)    Uint8Array [H, W, 3]: the image before scaling
//   compositeOnWhite(rgba, width, height)     Uint8Array [height, width, 3]
//   resizeBilinear(rgb, w, h, outW, outH, box) Uint8Array [outH, outW, 3]: Image.resize
//
// `rgba` is unpremultiplied RGBA bytes, row by row (what canvas getImageData returns);
// `input` is model.json's `input`: {size: [H, W], resize: "squish"|"crop"|"pad", mean, std}.

export const RESIZE_METHODS = ["squish", "crop", "pad"];

// Resample.c keeps 8 bits for the pixel and 2 for overflow in an int32: 22 fraction bits.
const PRECISION_BITS = 32 - 8 - 2;
const ONE = 2 ** PRECISION_BITS;
const HALF = 2 ** (PRECISION_BITS - 1);
// Pillow's BILINEAR filter: a triangle of support 1.
const SUPPORT = 1.0;

function triangle(x) {
  if (x < 0.0) x = -x;
  return x < 1.0 ? 1.0 - x : 0.0;
}

// Python's round() for floats: to the nearest integer, ties to even.
function roundHalfEven(x) {
  const floor = Math.floor(x);
  const diff = x - floor; // exact for the magnitudes used here
  if (diff > 0.5) return floor + 1;
  if (diff < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

function checkImage(data, width, height, channels, what) {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new Error(
      `the image has no pixels (${width}x${height}); expected a width and height of at least 1`,
    );
  }
  if (!data || data.length !== width * height * channels) {
    throw new Error(
      `${what} holds ${data ? data.length : 0} bytes but a ${width}x${height} image needs ` +
        `${width * height * channels} (${channels} per pixel)`,
    );
  }
}

function checkInput(input) {
  if (!input || typeof input !== "object") {
    throw new Error("the model's input spec (model.json 'input') is missing");
  }
  const size = input.size;
  const pixels = (v) => Number.isInteger(v) && v > 0;
  if (!Array.isArray(size) || size.length !== 2 || !size.every(pixels)) {
    throw new Error(
      `model.json 'input.size' must be [height, width] in pixels, not ${JSON.stringify(size)}`,
    );
  }
  const method = input.resize ?? "squish"; // as runtime.py: input_spec.get("resize", "squish")
  if (!RESIZE_METHODS.includes(method)) {
    throw new Error(
      `unknown resize method ${JSON.stringify(method)}; ` +
        `expected one of ${RESIZE_METHODS.join(", ")}`,
    );
  }
  for (const key of ["mean", "std"]) {
    const values = input[key];
    if (!Array.isArray(values) || values.length !== 3 || !values.every(Number.isFinite)) {
      throw new Error(`model.json 'input.${key}' must be 3 numbers (R, G, B)`);
    }
  }
  return { height: size[0], width: size[1], method };
}

// ---------------------------------------------------------------------------------------
// Alpha: Image.alpha_composite(white, rgba).convert("RGB")

/**
 * Composite unpremultiplied RGBA on an opaque white canvas, as demos/runtime.py `to_rgb`
 * does with Image.alpha_composite: returns RGB bytes (width*height*3).
 *
 * Pillow's integer formula (AlphaComposite.c, 7 extra bits, divisions by 255 done as
 * ((t >> 8) + t) >> 8) for a destination of (255, 255, 255, 255) reduces to coef1 = a * 128,
 * coef2 = (255 - a) * 128, out = div255(c * coef1 + 255 * coef2 + 128 * 128) >> 7, which
 * equals round((c * a + 255 * (255 - a)) / 255) for every c and a (there is never a tie);
 * a fully transparent pixel becomes white whatever its colour bytes.
 */
export function compositeOnWhite(rgba, width, height) {
  checkImage(rgba, width, height, 4, "the RGBA data");
  const n = width * height;
  const out = new Uint8Array(n * 3);
  const BITS = 7;
  for (let i = 0; i < n; i++) {
    const a = rgba[i * 4 + 3];
    if (a === 0) {
      out[i * 3] = out[i * 3 + 1] = out[i * 3 + 2] = 255;
      continue;
    }
    const dstA = 255;
    const blend = dstA * (255 - a);
    const outA255 = a * 255 + blend;
    const coef1 = Math.floor((a * 255 * 255 * (1 << BITS)) / outA255);
    const coef2 = 255 * (1 << BITS) - coef1;
    for (let c = 0; c < 3; c++) {
      const t = rgba[i * 4 + c] * coef1 + 255 * coef2 + (0x80 << BITS);
      out[i * 3 + c] = (((t >>> 8) + t) >>> 8) >>> BITS;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// Resize: Image.resize(size, Image.BILINEAR, box) on an RGB image

// Per output pixel along one axis: the first input index, how many inputs, and their
// fixed-point weights (Resample.c precompute_coeffs + normalize_coeffs_8bpc). `in0` and
// `in1` are C floats there (the box is parsed as float32), the rest is double.
function coefficients(inSize, in0, in1, outSize) {
  in0 = Math.fround(in0);
  in1 = Math.fround(in1);
  const scale = Math.fround(in1 - in0) / outSize; // (double)(in1 - in0) / outSize
  const filterscale = scale < 1.0 ? 1.0 : scale;
  const support = SUPPORT * filterscale;
  const ksize = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Int32Array(outSize * ksize);
  const ss = 1.0 / filterscale;
  const w = new Float64Array(ksize);
  for (let i = 0; i < outSize; i++) {
    const center = in0 + (i + 0.5) * scale;
    let xmin = Math.trunc(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    let xmax = Math.trunc(center + support + 0.5);
    if (xmax > inSize) xmax = inSize;
    xmax -= xmin;
    let total = 0.0;
    for (let x = 0; x < xmax; x++) {
      w[x] = triangle((x + xmin - center + 0.5) * ss);
      total += w[x];
    }
    for (let x = 0; x < xmax; x++) {
      const k = total !== 0.0 ? w[x] / total : w[x];
      // (int)(±0.5 + k * 2^22): truncation toward zero after adding half
      weights[i * ksize + x] = Math.trunc(k < 0 ? -0.5 + k * ONE : 0.5 + k * ONE);
    }
    start[i] = xmin;
    count[i] = xmax;
  }
  return { start, count, weights, ksize };
}

// clip8: the sum's integer part, clamped to 0..255 (sums fit in an int32).
function clip8(sum) {
  const v = sum >> PRECISION_BITS;
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

function horizontalPass(src, srcW, rowFirst, rows, outW, co) {
  const out = new Uint8Array(outW * rows * 3);
  const { start, count, weights, ksize } = co;
  for (let y = 0; y < rows; y++) {
    const rowIn = (y + rowFirst) * srcW * 3;
    const rowOut = y * outW * 3;
    for (let x = 0; x < outW; x++) {
      const k0 = x * ksize;
      const first = start[x];
      const n = count[x];
      let r = HALF;
      let g = HALF;
      let b = HALF;
      for (let j = 0; j < n; j++) {
        const k = weights[k0 + j];
        const p = rowIn + (first + j) * 3;
        r += src[p] * k;
        g += src[p + 1] * k;
        b += src[p + 2] * k;
      }
      out[rowOut + x * 3] = clip8(r);
      out[rowOut + x * 3 + 1] = clip8(g);
      out[rowOut + x * 3 + 2] = clip8(b);
    }
  }
  return out;
}

function verticalPass(src, srcW, outH, co, shift) {
  const out = new Uint8Array(srcW * outH * 3);
  const { start, count, weights, ksize } = co;
  const stride = srcW * 3;
  for (let y = 0; y < outH; y++) {
    const k0 = y * ksize;
    const first = start[y] - shift;
    const n = count[y];
    const rowOut = y * stride;
    for (let i = 0; i < stride; i++) {
      let sum = HALF;
      for (let j = 0; j < n; j++) sum += src[(first + j) * stride + i] * weights[k0 + j];
      out[rowOut + i] = clip8(sum);
    }
  }
  return out;
}

function crop(src, w, x0, y0, outW, outH) {
  const out = new Uint8Array(outW * outH * 3);
  for (let y = 0; y < outH; y++) {
    const from = ((y + y0) * w + x0) * 3;
    out.set(src.subarray(from, from + outW * 3), y * outW * 3);
  }
  return out;
}

// One call of Pillow's C resize (_imaging.c `_resize` and Resample.c ImagingResample):
// the checks, the crop shortcut for an integer box of the output's size, then a
// horizontal pass over only the rows the vertical pass needs, then the vertical pass, each
// rounding to uint8.
function resampleOnce(src, w, h, outW, outH, box) {
  if (!Number.isInteger(outW) || !Number.isInteger(outH) || outW < 1 || outH < 1) {
    throw new Error(
      `can't resize to ${outW}x${outH} pixels: the width and height must be at least 1`,
    );
  }
  const [x0, y0, x1, y1] = box.map(Math.fround);
  if (x0 < 0 || y0 < 0) throw new Error(`resize box ${box} starts outside the image`);
  if (x1 > w || y1 > h) throw new Error(`resize box ${box} ends outside the ${w}x${h} image`);
  if (x1 - x0 < 0 || y1 - y0 < 0) throw new Error(`resize box ${box} is empty`);
  if (
    x0 === Math.trunc(x0) && Math.fround(x1 - x0) === outW &&
    y0 === Math.trunc(y0) && Math.fround(y1 - y0) === outH
  ) {
    return crop(src, w, x0, y0, outW, outH);
  }
  // As Resample.c: box[2] is compared with the output width, box[3] with its height.
  const needHorizontal = outW !== w || x0 !== 0 || x1 !== outW;
  const needVertical = outH !== h || y0 !== 0 || y1 !== outH;
  const vertical = coefficients(h, y0, y1, outH);
  const rowFirst = vertical.start[0];
  const rowLast = vertical.start[outH - 1] + vertical.count[outH - 1];
  let image = src;
  let width = w;
  let shift = 0;
  if (needHorizontal) {
    const horizontal = coefficients(w, x0, x1, outW);
    image = horizontalPass(src, w, rowFirst, rowLast - rowFirst, outW, horizontal);
    width = outW;
    shift = rowFirst;
  }
  if (needVertical) image = verticalPass(image, width, outH, vertical, shift);
  return image === src ? Uint8Array.from(src) : image;
}

/**
 * Pillow's `Image.resize((outW, outH), Image.BILINEAR, box)` for an RGB image: `rgb` is
 * w*h*3 bytes, `box` the source region [x0, y0, x1, y1] (fractions allowed; the whole image
 * when omitted). Returns outW*outH*3 bytes, identical to Pillow 12's.
 */
export function resizeBilinear(rgb, w, h, outW, outH, box = null) {
  checkImage(rgb, w, h, 3, "the RGB data");
  box = box ? Array.from(box, Number) : [0, 0, w, h];
  if (box.length !== 4 || !box.every(Number.isFinite)) {
    throw new Error(`resize box must be 4 numbers [x0, y0, x1, y1], not ${JSON.stringify(box)}`);
  }
  if (outW === w && outH === h && box[0] === 0 && box[1] === 0 && box[2] === w && box[3] === h) {
    return Uint8Array.from(rgb); // Image.resize returns a copy
  }
  // Pillow 12 resizes an image over 100 times taller than wide vertically first, as two
  // separate resizes (each rounding to uint8).
  if (h > w * 100 && outH < h) {
    const tall = resampleOnce(rgb, w, h, w, outH, [0, box[1], w, box[3]]);
    return resampleOnce(tall, w, outH, outW, outH, [box[0], 0, box[2], outH]);
  }
  return resampleOnce(rgb, w, h, outW, outH, box);
}

// ---------------------------------------------------------------------------------------
// The contract's resize methods

/**
 * The uint8 RGB image after compositing and resizing, before normalisation: H*W*3 bytes for
 * `input.size` = [H, W], what demos/runtime.py `preprocess` holds just before np.asarray.
 */
export function resizedRGB(rgba, width, height, input) {
  const { height: H, width: W, method } = checkInput(input);
  const rgb = compositeOnWhite(rgba, width, height);
  if (method === "squish") return resizeBilinear(rgb, width, height, W, H);
  if (method === "crop") {
    // ImageOps.fit(image, (W, H), BILINEAR): the largest centred box with the output's
    // aspect ratio (fractional), resized in one resample.
    const liveRatio = width / height;
    const outRatio = W / H;
    let cropW = width;
    let cropH = height;
    if (liveRatio !== outRatio) {
      if (liveRatio >= outRatio) cropW = outRatio * height;
      else cropH = width / outRatio;
    }
    const left = (width - cropW) * 0.5;
    const top = (height - cropH) * 0.5;
    return resizeBilinear(rgb, width, height, W, H, [left, top, left + cropW, top + cropH]);
  }
  // pad: ImageOps.pad(image, (W, H), BILINEAR, color=black) = ImageOps.contain (the side
  // that doesn't fill is round()ed, half to even), pasted at round(gap * 0.5).
  const imRatio = width / height;
  const destRatio = W / H;
  let fitW = W;
  let fitH = H;
  if (imRatio !== destRatio) {
    if (imRatio > destRatio) fitH = roundHalfEven((height / width) * W);
    else fitW = roundHalfEven((width / height) * H);
  }
  if (fitW < 1 || fitH < 1) {
    // Pillow raises "height and width must be > 0" here too.
    throw new Error(
      `the ${width}x${height} image is too thin to pad to ${W}x${H}: it would be resized ` +
        `to ${fitW}x${fitH} pixels`,
    );
  }
  const fitted = resizeBilinear(rgb, width, height, fitW, fitH);
  if (fitW === W && fitH === H) return fitted;
  const out = new Uint8Array(W * H * 3); // black
  const x0 = fitW !== W ? roundHalfEven((W - fitW) * 0.5) : 0;
  const y0 = fitW !== W ? 0 : roundHalfEven((H - fitH) * 0.5);
  for (let y = 0; y < fitH; y++) {
    out.set(fitted.subarray(y * fitW * 3, (y + 1) * fitW * 3), ((y + y0) * W + x0) * 3);
  }
  return out;
}

/**
 * The model's input for one image: Float32Array of 3*H*W values, channels first (the R
 * plane, then G, then B), each (pixel/255 - mean)/std computed in float32 as numpy does.
 */
export function toTensor(rgba, width, height, input) {
  const { height: H, width: W } = checkInput(input);
  const rgb = resizedRGB(rgba, width, height, input);
  const plane = H * W;
  const out = new Float32Array(3 * plane);
  const f = Math.fround;
  const scale = f(255);
  for (let c = 0; c < 3; c++) {
    const mean = f(input.mean[c]);
    const std = f(input.std[c]);
    // numpy: float32(pixel) / float32(255), minus float32 mean, divided by float32 std;
    // each operation rounded to float32 (double rounding is exact for these ops).
    const lut = new Float32Array(256);
    for (let v = 0; v < 256; v++) lut[v] = f(f(f(v / scale) - mean) / std);
    const base = c * plane;
    for (let i = 0; i < plane; i++) out[base + i] = lut[rgb[i * 3 + c]];
  }
  return out;
}
