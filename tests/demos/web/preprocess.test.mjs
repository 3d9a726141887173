// demos/web/preprocess.mjs against Pillow: node --test tests/demos/web/preprocess.test.mjs
//
// PREPROCESS_FIXTURES names a folder that tests/demos/test_web_preprocess.py writes (it runs
// this file): manifest.json lists the cases, each with the RGBA bytes a browser would decode,
// the model.json `input` spec, and what demos/runtime.py makes of the same file: the uint8
// RGB image after the resize (before normalisation) and the float32 CHW tensor. Without the
// variable only the fixture-free checks run. The manifest's `exact` asks for identical
// results; without it a uint8 value may differ by 1 (and the tensor by 1/255/std).

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";

import {
  compositeOnWhite,
  resizeBilinear,
  resizedRGB,
  toTensor,
} from "../../../demos/web/preprocess.mjs";

const SPEC = { size: [4, 4], resize: "squish", mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] };

test("an unknown resize method is refused by name", () => {
  assert.throws(
    () => toTensor(new Uint8Array(4), 1, 1, { ...SPEC, resize: "stretch" }),
    /unknown resize method "stretch"; expected one of squish, crop, pad/,
  );
});

test("a zero-sized image is refused", () => {
  assert.throws(() => toTensor(new Uint8Array(0), 0, 5, SPEC), /no pixels \(0x5\)/);
  assert.throws(() => resizedRGB(new Uint8Array(0), 3, 0, SPEC), /no pixels \(3x0\)/);
});

test("RGBA data of the wrong length is refused", () => {
  assert.throws(
    () => toTensor(new Uint8Array(7), 2, 1, SPEC),
    /holds 7 bytes but a 2x1 image needs 8/,
  );
});

test("transparent pixels become white, opaque ones keep their colour", () => {
  const rgba = Uint8Array.from([10, 20, 30, 0, 10, 20, 30, 255, 0, 0, 0, 128]);
  // On white Pillow's fixed-point formula gives round((c * a + 255 * (255 - a)) / 255);
  // a pixel with alpha 0 is white whatever its colour bytes.
  assert.deepEqual(
    Array.from(compositeOnWhite(rgba, 3, 1)),
    [255, 255, 255, 10, 20, 30, 127, 127, 127],
  );
});

test("resizing to the same size copies; a solid colour stays solid", () => {
  const rgb = new Uint8Array(5 * 3 * 3).fill(77);
  const same = resizeBilinear(rgb, 5, 3, 5, 3);
  assert.notEqual(same, rgb);
  assert.deepEqual(same, rgb);
  assert.ok(resizeBilinear(rgb, 5, 3, 17, 2, [0.5, 0.25, 4.75, 3]).every((v) => v === 77));
});

test("the tensor is channels first and normalised", () => {
  const rgba = new Uint8Array(4 * 4 * 4);
  for (let i = 0; i < 16; i++) rgba.set([255, 0, 51, 255], i * 4);
  const tensor = toTensor(rgba, 4, 4, SPEC);
  assert.equal(tensor.length, 48);
  assert.equal(tensor[0], 2); // (1 - 0.5) / 0.25
  assert.equal(tensor[16], -2);
  assert.equal(tensor[32], Math.fround(Math.fround(Math.fround(51 / 255) - 0.5) / 0.25));
});

const folder = process.env.PREPROCESS_FIXTURES;

if (!folder) {
  test("matches Pillow on the fixture images", {
    skip:
      "PREPROCESS_FIXTURES is not set; run `pytest tests/demos/test_web_preprocess.py`, " +
      "which writes the fixtures from Pillow and runs this file",
  }, () => {});
} else {
  const manifest = JSON.parse(readFileSync(join(folder, "manifest.json"), "utf8"));
  // exact: the pixels must be Pillow's bit for bit and the tensor numpy's (the writer sets
  // it for the Pillow version this was checked against: every rounding detail, such as the
  // float32 resize box or the alpha composite's, otherwise shows only as ±1 somewhere).
  // Without it a uint8 value may be off by 1 and the tensor by that much over std.
  const exact = manifest.exact === true;
  const bytes = (name) => new Uint8Array(readFileSync(join(folder, name)));
  const floats = (name) => new Float32Array(bytes(name).buffer); // little-endian float32
  const summary = new Map(); // kind -> {cases, maxByte, differing, values, maxTensor}

  for (const c of manifest.cases) {
    test(`${c.kind}: ${c.name}`, () => {
      const rgba = bytes(c.rgba);
      const where = `case "${c.name}" (${c.width}x${c.height}, ${c.input.resize} to ` +
        `${c.input.size[0]}x${c.input.size[1]})`;
      if (c.error) {
        // Python raised; the page must refuse the image too rather than invent pixels.
        assert.throws(() => toTensor(rgba, c.width, c.height, c.input), Error,
          `${where}: Python raised "${c.error}" but toTensor returned a tensor`);
        return;
      }
      const expectedRGB = bytes(c.expected_rgb);
      const gotRGB = resizedRGB(rgba, c.width, c.height, c.input);
      assert.equal(gotRGB.length, expectedRGB.length, `${where}: wrong number of RGB bytes`);
      let maxByte = 0;
      let differing = 0;
      let worst = -1;
      for (let i = 0; i < gotRGB.length; i++) {
        const d = Math.abs(gotRGB[i] - expectedRGB[i]);
        if (d) differing += 1;
        if (d > maxByte) {
          maxByte = d;
          worst = i;
        }
      }

      const expected = floats(c.expected_tensor);
      const tensor = toTensor(rgba, c.width, c.height, c.input);
      assert.equal(tensor.length, expected.length, `${where}: wrong tensor length`);
      let maxTensor = 0;
      for (let i = 0; i < tensor.length; i++) {
        const d = Math.abs(tensor[i] - expected[i]);
        if (!(d <= maxTensor)) maxTensor = d; // NaN counts as a failure too
      }

      const entry = summary.get(c.kind) ??
        { cases: 0, exact: 0, maxByte: 0, differing: 0, values: 0, maxTensor: 0 };
      entry.cases += 1;
      entry.exact += differing === 0 ? 1 : 0;
      entry.maxByte = Math.max(entry.maxByte, maxByte);
      entry.differing += differing;
      entry.values += gotRGB.length;
      entry.maxTensor = Math.max(entry.maxTensor, maxTensor);
      summary.set(c.kind, entry);

      const W = c.input.size[1];
      const pixel = Math.floor(worst / 3);
      const allowed = exact ? 0 : 1;
      assert.ok(maxByte <= allowed,
        `${where}: ${differing} of ${gotRGB.length} uint8 values differ from Pillow, by up to ` +
        `${maxByte} (x=${pixel % W}, y=${Math.floor(pixel / W)}, channel ${worst % 3}: ` +
        `got ${gotRGB[worst]}, Pillow ${expectedRGB[worst]}); allowed ${allowed}`);
      const tolerance = exact ? 0 : 1 / 255 / Math.min(...c.input.std) + 1e-5;
      assert.ok(maxTensor <= tolerance,
        `${where}: the tensor differs from demos/runtime.py preprocess by up to ${maxTensor} ` +
        `(allowed ${tolerance})`);
    });
  }

  test("agreement with Pillow, per kind of case", (t) => {
    for (const [kind, s] of summary) {
      t.diagnostic(
        `${kind}: ${s.cases} cases, ${s.exact} identical; uint8 max difference ${s.maxByte}, ` +
        `${s.differing} of ${s.values} values differ; tensor max difference ${s.maxTensor}`,
      );
    }
    assert.ok(summary.size > 0, "the manifest lists no cases that ran");
  });
}
