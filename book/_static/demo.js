// The book's one-shot demo (book/demo.ipynb): the twin chapter 6 trained, run in the reader's
// browser by onnxruntime-web, on the official runs and on characters the reader draws.
//
// The build writes the network's files into _static/demo/ (siamese_utils.browser_demo) and the
// runtime's into _static/ort/ (tools/browser_runtime.py); nothing is fetched from another host.
// The twin embeds each image once; the head, s = sum_j alpha_j |h1_j - h2_j| + b, is computed
// here from the exported weights, and candidates are ranked by s, the score before the sigmoid.
// window.siameseDemo exposes the scores and timings to the book's browser check.
"use strict";

(() => {
  const container = document.getElementById("siamese-demo");
  if (!container) return;
  const root = document.documentElement.dataset.content_root ?? "../";
  // Absolute addresses: the runtime resolves a relative one against its own script's folder.
  const FILES = new URL(`${root}_static/demo/`, document.baseURI).href;
  const RUNTIME = new URL(`${root}_static/ort/`, document.baseURI).href;
  const LEVELS = 255;
  // Omniglot's drawings were made on 105-pixel canvases; the reader's are rendered the same
  // way, then area-averaged down to the network's size, as the book's images are.
  let meta, head, layout, pixels, session;
  const timings = {};
  const embedded = new Map(); // official run -> its 40 embeddings

  const element = (tag, attributes = {}, ...children) => {
    const node = document.createElement(tag);
    Object.assign(node, attributes);
    node.append(...children);
    return node;
  };
  const status = element("p", { className: "demo-status", role: "status" });
  const say = (text) => { status.textContent = text; };

  async function fetchOk(name) {
    const response = await fetch(FILES + name);
    if (!response.ok) throw new Error(`${name}: HTTP ${response.status}`);
    return response;
  }

  // runs.bin.gz is gzip; a server that sends it with Content-Encoding: gzip has already
  // unpacked it (the browser does), so only bytes that still start with gzip's magic number
  // are unpacked here.
  async function images() {
    const bytes = new Uint8Array(await (await fetchOk("runs.bin.gz")).arrayBuffer());
    if (bytes[0] !== 0x1f || bytes[1] !== 0x8b) return bytes;
    const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
    return new Uint8Array(await new Response(stream).arrayBuffer());
  }

  // The twin on a batch of 8-bit images (ink 255): one embedding per image.
  async function embed(batch, count) {
    const size = meta.image_size;
    const input = new Float32Array(count * size * size);
    for (let i = 0; i < input.length; i += 1) input[i] = batch[i] / LEVELS;
    const tensor = new ort.Tensor("float32", input, [count, size, size, 1]);
    const output = (await session.run({ [session.inputNames[0]]: tensor }))[session.outputNames[0]];
    const units = output.dims[1];
    return Array.from({ length: count }, (_, i) => output.data.subarray(i * units, (i + 1) * units));
  }

  // The head: the weighted L1 distance and its bias, the logit Keras' score layer computes.
  function score(a, b) {
    let total = head.bias;
    for (let j = 0; j < a.length; j += 1) total += head.weights[j] * Math.abs(a[j] - b[j]);
    return total;
  }

  const imageOf = (index) => {
    const area = meta.image_size * meta.image_size;
    return pixels.subarray(index * area, (index + 1) * area);
  };

  async function runEmbeddings(run) {
    if (!embedded.has(run)) {
      const { candidates, queries } = layout.runs[run];
      const order = candidates.concat(queries);
      const area = meta.image_size * meta.image_size;
      const batch = new Uint8Array(order.length * area);
      order.forEach((image, i) => batch.set(imageOf(image), i * area));
      const all = await embed(batch, order.length);
      embedded.set(run, { candidates: all.slice(0, 20), queries: all.slice(20) });
    }
    return embedded.get(run);
  }

  // Every trial of an official run: scores[query][candidate] (what the browser check compares
  // with Keras' scores).
  async function officialScores(run) {
    const { candidates, queries } = await runEmbeddings(run);
    return queries.map((query) => candidates.map((candidate) => score(query, candidate)));
  }

  // An 8-bit image (ink 255) drawn on a canvas as dark ink on white.
  function picture(image, label) {
    const size = meta.image_size;
    const canvas = element("canvas", { width: size, height: size, className: "demo-image" });
    canvas.setAttribute("role", "img");
    canvas.setAttribute("aria-label", label);
    const context = canvas.getContext("2d");
    const data = context.createImageData(size, size);
    for (let i = 0; i < image.length; i += 1) {
      const grey = LEVELS - image[i];
      data.data.set([grey, grey, grey, 255], 4 * i);
    }
    context.putImageData(data, 0, 0);
    return canvas;
  }

  // A ranking: the candidates ordered by score, highest first, the right one marked.
  function ranking(list, scores, images, labels, answer) {
    const order = scores.map((s, i) => i).sort((a, b) => scores[b] - scores[a]);
    list.replaceChildren(...order.map((candidate, place) => {
      const item = element("li", { className: "demo-candidate" },
        picture(images[candidate], labels[candidate]),
        element("span", { className: "demo-score" }, `s = ${scores[candidate].toFixed(2)}`));
      item.dataset.candidate = candidate;
      if (place === 0) item.classList.add("demo-chosen");
      if (candidate === answer) {
        item.classList.add("demo-answer");
        item.append(element("span", { className: "demo-mark" }, "right answer"));
      }
      return item;
    }));
    return order;
  }

  function officialSection() {
    const runChoice = element("select", { id: "demo-run" });
    const queryChoice = element("select", { id: "demo-query" });
    for (let i = 1; i <= layout.runs.length; i += 1) runChoice.append(element("option", { value: i - 1 }, `run ${i}`));
    for (let i = 1; i <= 20; i += 1) queryChoice.append(element("option", { value: i - 1 }, `query ${i}`));
    const query = element("div", { className: "demo-query" });
    const verdict = element("p", { className: "demo-verdict" });
    const list = element("ol", { className: "demo-ranking", id: "demo-official-ranking" });
    async function show() {
      const run = Number(runChoice.value);
      const q = Number(queryChoice.value);
      const { candidates, queries, answers } = layout.runs[run];
      const scores = (await officialScores(run))[q];
      query.replaceChildren(element("span", {}, "Query"), picture(imageOf(queries[q]), `query ${q + 1} of run ${run + 1}`));
      const order = ranking(list, scores, candidates.map(imageOf), candidates.map((_, i) => `candidate ${i + 1}`), answers[q]);
      const all = await officialScores(run);
      const right = all.filter((row, i) => row.indexOf(Math.max(...row)) === answers[i]).length;
      verdict.textContent = `${order[0] === answers[q] ? "Right" : "Wrong"}: the network ranks the ` +
        `right answer ${order.indexOf(answers[q]) + 1} of 20. On all 20 queries of run ${run + 1} it picks ` +
        `the right character ${right} times.`;
      if (timings.firstRanking === undefined) timings.firstRanking = performance.now();
    }
    runChoice.addEventListener("change", show);
    queryChoice.addEventListener("change", show);
    const section = element("div", { className: "demo-section" },
      element("p", { className: "demo-title" }, "An official run"),
      element("div", { className: "demo-controls" },
        element("label", {}, "Run ", runChoice), element("label", {}, "Query ", queryChoice)),
      query, verdict, list);
    return { section, show };
  }

  // The drawing pad: strokes kept as points in [0, 1], drawn on screen at the pad's size and
  // rendered for the network on a 105-pixel canvas, with Omniglot's stroke width.
  function pad() {
    const canvas = element("canvas", { className: "demo-pad", width: 280, height: 280 });
    canvas.setAttribute("aria-label", "drawing pad");
    let strokes = [];
    const draw = (context, width, pen) => {
      context.clearRect(0, 0, width, width);
      context.lineCap = "round";
      context.lineJoin = "round";
      context.lineWidth = pen;
      context.strokeStyle = "#000";
      context.fillStyle = "#000";
      for (const stroke of strokes) {
        context.beginPath();
        stroke.forEach(([x, y], i) => (i ? context.lineTo(x * width, y * width) : context.moveTo(x * width, y * width)));
        if (stroke.length === 1) context.arc(stroke[0][0] * width, stroke[0][1] * width, pen / 2, 0, 2 * Math.PI);
        stroke.length === 1 ? context.fill() : context.stroke();
      }
    };
    const redraw = () => draw(canvas.getContext("2d"), canvas.width, (meta.stroke_width / meta.drawing_size) * canvas.width);
    const point = (event) => {
      const box = canvas.getBoundingClientRect();
      return [(event.clientX - box.left) / box.width, (event.clientY - box.top) / box.height];
    };
    canvas.addEventListener("pointerdown", (event) => {
      canvas.setPointerCapture(event.pointerId);
      strokes.push([point(event)]);
      redraw();
    });
    canvas.addEventListener("pointermove", (event) => {
      if (!canvas.hasPointerCapture(event.pointerId)) return;
      const moves = event.getCoalescedEvents ? event.getCoalescedEvents() : [event];
      strokes[strokes.length - 1].push(...(moves.length ? moves : [event]).map(point));
      redraw();
    });
    // The network's image: the strokes on a 105-pixel canvas (ink = opacity), averaged over
    // areas down to the network's size, in 8 bits as the official runs are.
    const image = () => {
      const big = meta.drawing_size;
      const offscreen = element("canvas", { width: big, height: big });
      const context = offscreen.getContext("2d", { willReadFrequently: true });
      draw(context, big, meta.stroke_width);
      const alpha = context.getImageData(0, 0, big, big).data;
      const ink = Float64Array.from({ length: big * big }, (_, i) => alpha[4 * i + 3] / LEVELS);
      return quantise(areaResize(ink, big, meta.image_size));
    };
    return {
      canvas, image, redraw,
      empty: () => strokes.length === 0,
      clear: () => { strokes = []; redraw(); },
    };
  }

  // Area averaging (TensorFlow's "area" resize): each output pixel is the mean of the input
  // over the square it covers, fractional pixels counted by their share.
  function areaResize(source, from, to) {
    const scale = from / to;
    const weights = Array.from({ length: to }, (_, o) => {
      const start = o * scale, end = start + scale, spans = [];
      for (let i = Math.floor(start); i < Math.min(from, Math.ceil(end)); i += 1) {
        spans.push([i, Math.min(end, i + 1) - Math.max(start, i)]);
      }
      return spans;
    });
    const out = new Float64Array(to * to);
    for (let y = 0; y < to; y += 1) {
      for (let x = 0; x < to; x += 1) {
        let total = 0;
        for (const [row, wy] of weights[y]) {
          for (const [column, wx] of weights[x]) total += wy * wx * source[row * from + column];
        }
        out[y * to + x] = total / (scale * scale);
      }
    }
    return out;
  }
  const quantise = (values) => Uint8Array.from(values, (v) => Math.round(Math.min(1, Math.max(0, v)) * LEVELS));

  function drawingSection() {
    const drawing = pad();
    const alphabet = [];
    const shelf = element("ol", { className: "demo-alphabet", id: "demo-alphabet" });
    const list = element("ol", { className: "demo-ranking", id: "demo-own-ranking" });
    const note = element("p", { className: "demo-verdict" }, "Draw a character, then add it to your alphabet.");
    const button = (id, text, action) => {
      const node = element("button", { id, type: "button", className: "demo-button" }, text);
      node.addEventListener("click", action);
      return node;
    };
    const add = button("demo-add", "Add to my alphabet", async () => {
      if (drawing.empty()) { note.textContent = "The pad is empty: draw a character first."; return; }
      const image = drawing.image();
      const [embedding] = await embed(image, 1);
      alphabet.push({ image, embedding: Float32Array.from(embedding) });
      shelf.append(element("li", {}, picture(image, `your character ${alphabet.length}`),
        element("span", {}, `${alphabet.length}`)));
      drawing.clear();
      note.textContent = alphabet.length < 2
        ? "Add at least one more character."
        : `${alphabet.length} characters. Draw one of them again and score it as the query.`;
    });
    const query = button("demo-score", "Score as the query", async () => {
      if (alphabet.length < 2) { note.textContent = "A one-shot task needs at least two characters in your alphabet."; return; }
      if (drawing.empty()) { note.textContent = "The pad is empty: draw the query first."; return; }
      const image = drawing.image();
      const [embedding] = await embed(image, 1);
      const scores = alphabet.map((character) => score(embedding, character.embedding));
      const order = ranking(list, scores, alphabet.map((c) => c.image), alphabet.map((_, i) => `your character ${i + 1}`), -1);
      note.textContent = `The network picks your character ${order[0] + 1} (of ${alphabet.length}).`;
      container.dispatchEvent(new CustomEvent("ranked", { detail: { scores, order } }));
    });
    const clear = button("demo-clear", "Clear the pad", () => drawing.clear());
    const restart = button("demo-restart", "Start a new alphabet", () => {
      alphabet.length = 0;
      shelf.replaceChildren();
      list.replaceChildren();
      drawing.clear();
      note.textContent = "Draw a character, then add it to your alphabet.";
    });
    drawing.redraw();
    return element("div", { className: "demo-section" },
      element("p", { className: "demo-title" }, "Your own alphabet"),
      element("div", { className: "demo-drawing" }, drawing.canvas,
        element("div", { className: "demo-buttons" }, add, query, clear, restart)),
      note, element("p", { className: "demo-caption" }, "Your alphabet, one drawing a character"), shelf,
      element("p", { className: "demo-caption" }, "Your alphabet ranked against the query on the pad"), list);
  }

  async function start() {
    container.replaceChildren(status);
    say("Loading the network and the official runs…");
    if (typeof ort === "undefined") throw new Error("onnxruntime-web did not load (_static/ort/)");
    ort.env.wasm.wasmPaths = RUNTIME;
    // One thread: several need a cross-origin-isolated page, which a static book is not.
    ort.env.wasm.numThreads = 1;
    ort.env.logLevel = "error";
    [meta, head, layout] = await Promise.all(
      ["demo.json", "head.json", "runs.json"].map(async (name) => (await fetchOk(name)).json()));
    pixels = await images();
    const started = performance.now();
    session = await ort.InferenceSession.create(FILES + "twin.onnx", { executionProviders: ["wasm"] });
    timings.modelLoaded = performance.now();
    timings.loadMs = timings.modelLoaded - started;
    const official = officialSection();
    container.append(official.section, drawingSection());
    await official.show();
    timings.firstRankingMs = timings.firstRanking - timings.modelLoaded;
    say(`The network (${meta.source}) runs in this page: ${meta.image_size}x${meta.image_size} ` +
      `images, ${meta.embedding_units} embedding units. Loaded in ${(timings.loadMs / 1000).toFixed(1)} s; ` +
      `first ranking ${(timings.firstRankingMs / 1000).toFixed(2)} s later.`);
  }

  // A reader who leaves while the page loads aborts its downloads: that is no failure.
  let leaving = false;
  window.addEventListener("pagehide", () => { leaving = true; });
  const ready = start().catch((error) => {
    if (leaving) return;
    const local = location.protocol === "file:";
    say(`The demo could not start: ${error.message}.` + (local
      ? " Browsers do not let a page opened as a file load its network: serve the book, for " +
        "example with python -m http.server --directory _build/html, and open it from there."
      : ""));
    container.classList.add("demo-failed");
    console.error("The one-shot demo could not start:", error);
    throw error;
  });
  ready.catch(() => {}); // reported above, once
  window.siameseDemo = { ready, timings, officialScores, container };
})();
