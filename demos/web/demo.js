// The in-browser demo: runs a bundle's ONNX model in the reader's browser with ONNX Runtime
// Web (WebAssembly, no server). Reads model.json for the labels, the input size, the resize
// method and the normalisation; the page's #demo-config names the runtime's folder, the model
// file and the Space to fall back on. Preprocessing is preprocess.mjs, which matches
// demos/runtime.py (tested against it).
//
// Readable from the DOM (tests and users): body[data-state] is loading | ready | working |
// done | error | unsupported; after a prediction [data-testid="prediction"] holds one <li> per
// label, best first, with data-label and data-probability (a decimal number);
// body[data-predictions] counts the uploads answered so far (a prediction or an error).

import { toTensor } from "./preprocess.mjs";

const config = JSON.parse(document.getElementById("demo-config").textContent);
const $ = (id) => document.getElementById(id);
const MAX_PIXELS = 50_000_000; // as demos/runtime.py: a 48 MP photo fits, a decompression bomb doesn't
// Bytes: a bigger model waits for the reader to ask for it (the config may lower it).
const ASK_ABOVE = config.ask_above ?? 30_000_000;
const SUPPORTED = "PNG, JPEG, WebP, GIF or BMP";

let meta = null; // model.json
let session = null;
let ort = null;
let busy = Promise.resolve();
let done = 0; // predictions finished (or failed): body[data-predictions]

function setState(state, message, bad = false) {
  document.body.dataset.state = state;
  if (message !== undefined) {
    $("status").textContent = message;
    $("status").classList.toggle("bad", bad);
  }
}

function megabytes(bytes) {
  return `${(bytes / 1e6).toFixed(bytes < 10e6 ? 1 : 0)} MB`;
}

function fallback(reason) {
  const space = config.space
    ? ` Try the same model on its Hugging Face Space: ${config.space}`
    : "";
  setState("unsupported", `${reason}${space}`, true);
  if (config.space) {
    const link = document.createElement("a");
    link.href = config.space;
    link.textContent = "Open the Space";
    $("status").append(" ", link);
  }
}

// --- the model ---------------------------------------------------------------------------

async function download(url, bytes) {
  // A progress bar while the model downloads (fetch streams it); the whole file at the end.
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  const total = Number(response.headers.get("content-length")) || bytes || 0;
  if (!response.body || !total) return new Uint8Array(await response.arrayBuffer());
  const reader = response.body.getReader();
  const chunks = [];
  let received = 0;
  $("download").hidden = false;
  $("load").hidden = true;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    received += value.length;
    $("progress").value = Math.min(1, received / total);
    setState("loading", `Downloading the model: ${megabytes(received)} of ${megabytes(total)}…`);
  }
  const data = new Uint8Array(received);
  let offset = 0;
  for (const chunk of chunks) {
    data.set(chunk, offset);
    offset += chunk.length;
  }
  $("download").hidden = true;
  return data;
}

async function loadModel() {
  setState("loading", "Loading the model…");
  try {
    ort = await import(new URL(`${config.ort}ort.wasm.min.mjs`, document.baseURI).href);
    ort.env.wasm.wasmPaths = new URL(config.ort, document.baseURI).href;
    // GitHub Pages can't send the headers that allow threads; a static Space can.
    ort.env.wasm.numThreads = self.crossOriginIsolated
      ? Math.min(2, navigator.hardwareConcurrency || 1)
      : 1;
    ort.env.wasm.proxy = false;
    const bytes = await download(config.model, config.bytes);
    session = await ort.InferenceSession.create(bytes, {
      executionProviders: ["wasm"],
      graphOptimizationLevel: "all",
    });
  } catch (error) {
    console.error(error);
    fallback(`The model could not be loaded in this browser (${error.message || error}).`);
    return;
  }
  $("file").disabled = false;
  for (const button of $("examples").querySelectorAll("button")) button.disabled = false;
  setState("ready", "Choose an image, drop one here, or click an example.");
}

// --- images ------------------------------------------------------------------------------

class BadImage extends Error {}

async function pixels(blob, name) {
  // Decoding as Pillow does: EXIF orientation applied, first frame of an animation, no colour
  // management, alpha left for preprocess.mjs to composite on white.
  let bitmap;
  try {
    bitmap = await createImageBitmap(blob, {
      imageOrientation: "from-image",
      premultiplyAlpha: "none",
      colorSpaceConversion: "none",
    });
  } catch {
    throw new BadImage(`"${name}" is not an image this demo can read. Upload a ${SUPPORTED} image.`);
  }
  const { width, height } = bitmap;
  if (!width || !height) throw new BadImage(`"${name}" has no pixels. Try another image.`);
  if (width * height > MAX_PIXELS) {
    bitmap.close();
    throw new BadImage(`"${name}" is too large: ${width}x${height} pixels, over the ` +
      `${MAX_PIXELS / 1e6} megapixels this demo accepts. Resize it and try again.`);
  }
  const canvas = typeof OffscreenCanvas !== "undefined"
    ? new OffscreenCanvas(width, height)
    : Object.assign(document.createElement("canvas"), { width, height });
  const context = canvas.getContext("2d", { willReadFrequently: true, colorSpace: "srgb" });
  context.drawImage(bitmap, 0, 0);
  bitmap.close();
  return { rgba: context.getImageData(0, 0, width, height).data, width, height };
}

async function preprocess(blob, name = "the image") {
  const { rgba, width, height } = await pixels(blob, name);
  return toTensor(rgba, width, height, meta.input);
}

function softmax(logits) {
  const top = Math.max(...logits);
  const exp = Array.from(logits, (v) => Math.exp(v - top));
  const sum = exp.reduce((a, b) => a + b, 0);
  return exp.map((v) => v / sum);
}

async function classify(blob, name) {
  const [height, width] = meta.input.size;
  const data = await preprocess(blob, name);
  const input = new ort.Tensor("float32", data, [1, 3, height, width]);
  const output = await session.run({ [meta.onnx.input]: input });
  const probabilities = softmax(output[meta.onnx.output].data);
  return meta.labels
    .map((label, i) => ({ label, p: probabilities[i] }))
    .sort((a, b) => b.p - a.p);
}

function show(ranked) {
  const list = $("prediction");
  list.replaceChildren(...ranked.map(({ label, p }) => {
    const item = document.createElement("li");
    item.dataset.label = label;
    item.dataset.probability = p.toFixed(4);
    const name = document.createElement("span");
    name.className = "name";
    name.textContent = label;
    const bar = document.createElement("span");
    bar.className = "bar";
    bar.append(document.createElement("span"));
    bar.style.setProperty("--p", p.toFixed(4));
    const value = document.createElement("span");
    value.className = "value";
    value.textContent = `${(p * 100).toFixed(1)}%`;
    item.append(name, bar, value);
    return item;
  }));
  list.classList.toggle("short", ranked.length > 5 && !$("more").dataset.all);
  $("more").hidden = ranked.length <= 5 || Boolean($("more").dataset.all);
}

function predict(blob, name) {
  // One prediction at a time, in the order the reader asked for them.
  busy = busy.then(async () => {
    setState("working", `Looking at "${name}"…`);
    const preview = $("preview");
    if (preview.src) URL.revokeObjectURL(preview.src);
    preview.onload = () => preview.classList.toggle("small", preview.naturalWidth < 96);
    preview.src = URL.createObjectURL(blob);
    preview.hidden = false;
    try {
      const ranked = await classify(blob, name);
      show(ranked);
      setState("done", `${ranked[0].label}: ${(ranked[0].p * 100).toFixed(1)}%`);
    } catch (error) {
      $("prediction").replaceChildren();
      preview.hidden = true;
      preview.removeAttribute("src");
      const message = error instanceof BadImage ? error.message
        : `Could not classify "${name}" (${error.message || error}). Try another image.`;
      setState("error", message, true);
    } finally {
      $("file").value = ""; // the same file can be chosen again, and a bad one doesn't linger
      document.body.dataset.predictions = String(++done);
    }
  });
  return busy;
}

// --- the page ----------------------------------------------------------------------------

function percent(value) {
  return `${(value * 100).toFixed(2)}%`;
}

function renderCard() {
  const rows = [];
  const m = meta.metrics || {};
  if (typeof m.accuracy === "number") rows.push(["Accuracy", percent(m.accuracy)]);
  if (typeof m.error_rate === "number") rows.push(["Error rate", percent(m.error_rate)]);
  if (typeof m.n_valid === "number") rows.push(["Validation images", String(m.n_valid)]);
  const int8 = meta.int8;
  if (int8 && typeof int8.accuracy === "number") {
    rows.push(["Accuracy of the int8 model", percent(int8.accuracy)]);
  }
  rows.push(["Runs", config.precision === "int8"
    ? "the int8 model (model.int8.onnx)" : "the full-precision model (model.onnx)"]);
  rows.push(["Download", megabytes(config.bytes)]);
  if (meta.architecture?.name) rows.push(["Architecture", meta.architecture.name]);
  $("metrics").replaceChildren(...rows.map(([key, value]) => {
    const row = document.createElement("tr");
    const th = document.createElement("th");
    th.textContent = key;
    const td = document.createElement("td");
    td.textContent = value;
    row.append(th, td);
    return row;
  }));
  const report = config.report || [];
  if (report.length) {
    $("report").hidden = false;
    $("report-images").replaceChildren(...report.map((file) => {
      const img = document.createElement("img");
      img.src = file;
      img.loading = "lazy";
      img.alt = file.includes("confusion") ? "Confusion matrix" : "Top losses";
      return img;
    }));
  }
  const links = [];
  if (config.space) links.push([config.space, "The same model on Hugging Face Spaces"]);
  if (meta.post && /^https?:\/\//.test(meta.post)) links.push([meta.post, "The blog post"]);
  if (config.home) links.push([config.home, "More on the blog"]);
  $("links").replaceChildren(...links.flatMap(([href, text], i) => {
    const a = document.createElement("a");
    a.href = href;
    a.textContent = text;
    return i ? [" · ", a] : [a];
  }));
}

function renderExamples() {
  const examples = meta.examples || [];
  $("examples-title").hidden = !examples.length;
  $("examples").replaceChildren(...examples.map((example, i) => {
    const button = document.createElement("button");
    button.type = "button";
    button.disabled = true;
    button.title = `Example ${i + 1}`;
    const img = document.createElement("img");
    img.src = example.file;
    img.alt = `Example ${i + 1}`; // never the label: that would give the answer away
    img.loading = "lazy";
    button.append(img);
    button.addEventListener("click", async () => {
      const response = await fetch(example.file);
      predict(await response.blob(), `Example ${i + 1}`);
    });
    return button;
  }));
}

function wireInputs() {
  const file = $("file");
  file.disabled = true;
  file.addEventListener("change", () => {
    if (file.files.length) predict(file.files[0], file.files[0].name);
  });
  const drop = $("drop");
  for (const kind of ["dragenter", "dragover"]) {
    drop.addEventListener(kind, (event) => {
      event.preventDefault();
      drop.classList.add("over");
    });
  }
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (event) => {
    event.preventDefault();
    drop.classList.remove("over");
    const dropped = event.dataTransfer.files[0];
    if (dropped && session) predict(dropped, dropped.name);
  });
  $("more").addEventListener("click", () => {
    $("more").dataset.all = "1";
    $("more").hidden = true;
    $("prediction").classList.remove("short");
  });
  $("load").addEventListener("click", () => loadModel());
  // The camera, where the browser allows it (a secure context with a camera).
  if (navigator.mediaDevices?.getUserMedia) {
    const video = $("video");
    $("camera").hidden = false;
    $("camera").addEventListener("click", async () => {
      try {
        const stream = await navigator.mediaDevices.getUserMedia({
          video: { facingMode: "environment" }, audio: false });
        video.srcObject = stream;
        video.hidden = false;
        $("snap").hidden = false;
        await video.play();
      } catch (error) {
        setState(document.body.dataset.state, `The camera is not available (${error.message}).`, true);
      }
    });
    $("snap").addEventListener("click", () => {
      if (!session) return;
      const canvas = document.createElement("canvas");
      canvas.width = video.videoWidth;
      canvas.height = video.videoHeight;
      canvas.getContext("2d").drawImage(video, 0, 0);
      canvas.toBlob((blob) => blob && predict(blob, "camera photo"), "image/png");
    });
  }
}

async function main() {
  wireInputs();
  if (typeof WebAssembly !== "object") {
    fallback("This browser can't run the model here: it has no WebAssembly.");
    return;
  }
  try {
    const response = await fetch("model.json");
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    meta = await response.json();
  } catch (error) {
    fallback(`The model's description (model.json) could not be read (${error.message}).`);
    return;
  }
  document.title = `${meta.title || meta.name} · live demo`;
  $("title").textContent = meta.title || meta.name;
  $("description").textContent = meta.description || "";
  renderCard();
  renderExamples();
  if (config.bytes > ASK_ABOVE) {
    $("download").hidden = false;
    $("progress").hidden = true;
    $("load").textContent = `Load the model (${megabytes(config.bytes)})`;
    setState("ready-to-load", `This model is a ${megabytes(config.bytes)} download.`);
    $("load").addEventListener("click", () => { $("progress").hidden = false; }, { once: true });
    return;
  }
  await loadModel();
}

// For tests and the curious: the tensor the model sees for an image (Float32Array, CHW).
window.demo = {
  preprocess: (blob) => preprocess(blob),
  predict: (blob, name = "image") => predict(blob, name),
};

main();
