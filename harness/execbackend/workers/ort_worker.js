#!/usr/bin/env node
// tailgate exec-backend worker on onnxruntime-node (docs/worker-protocol.md).
//
//   node ort_worker.js MODEL.onnx [--threads N]
//
// Loads the model on the CPU execution provider, prepares one seeded random input set from the
// model's input metadata (dynamic dimensions become 1), says ready, then answers each request
// with one session.run, reporting the run's own duration (process.hrtime) as the device time.
// Needs onnxruntime-node on NODE_PATH (`make node-worker` installs 1.30.0 into .cache).
'use strict';
const fs = require('fs');
const ort = require('onnxruntime-node');

const args = process.argv.slice(2);
let model = null, threads = 1;
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--threads') threads = parseInt(args[++i], 10);
  else if (model === null) model = args[i];
  else fail(`unexpected argument ${args[i]}`);
}
if (!model || !(threads >= 1)) fail('usage: ort_worker.js MODEL.onnx [--threads N]');

function fail(msg) {
  process.stderr.write(`ort_worker: ${msg}\n`);
  process.exit(2);
}

function readFull(buf) { // blocking: the pipe tailgate gives is
  let off = 0;
  while (off < buf.length) {
    const n = fs.readSync(0, buf, off, buf.length - off, null);
    if (n === 0) return false;
    off += n;
  }
  return true;
}

function readLine() {
  const bytes = [];
  const b = Buffer.alloc(1);
  for (;;) {
    if (!readFull(b)) return null;
    if (b[0] === 0x0a) return Buffer.from(bytes).toString('utf8');
    bytes.push(b[0]);
  }
}

function writeAll(buf) {
  let off = 0;
  while (off < buf.length) off += fs.writeSync(1, buf, off, buf.length - off);
}

// mulberry32: a small seeded generator, so inputs are the same run to run.
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const arrays = {
  float32: Float32Array, float64: Float64Array, int8: Int8Array, uint8: Uint8Array,
  int16: Int16Array, uint16: Uint16Array, int32: Int32Array, uint32: Uint32Array,
  int64: BigInt64Array, uint64: BigUint64Array, bool: Uint8Array,
};

function feeds(session, seed) {
  const next = rng(seed);
  const out = {};
  for (const m of session.inputMetadata) {
    const Arr = arrays[m.type];
    if (!m.isTensor || !Arr) fail(`input ${m.name}: type ${m.type} is not supported`);
    const dims = m.shape.map((d) => (typeof d === 'number' && d > 0 ? d : 1));
    const n = dims.reduce((a, b) => a * b, 1);
    const data = new Arr(n);
    for (let i = 0; i < n; i++) {
      const r = next();
      if (Arr === BigInt64Array || Arr === BigUint64Array) data[i] = BigInt(Math.floor(r * 16));
      else if (m.type === 'bool') data[i] = r < 0.5 ? 0 : 1;
      else if (m.type.startsWith('float')) data[i] = r * 2 - 1;
      else data[i] = Math.floor(r * 16);
    }
    out[m.name] = new ort.Tensor(m.type, data, dims);
  }
  return out;
}

async function main() {
  const hello = readLine();
  if (hello === null) return;
  const h = JSON.parse(hello);
  if (h.tailgate !== 1) fail(`hello ${hello}: not protocol 1`);
  let session;
  try {
    session = await ort.InferenceSession.create(model, {
      intraOpNumThreads: threads, interOpNumThreads: 1, executionProviders: ['cpu'],
    });
  } catch (e) {
    writeAll(Buffer.from(JSON.stringify({ worker: 1, error: `${model}: ${e.message}` }) + '\n'));
    return;
  }
  const input = feeds(session, h.seed || 1);
  writeAll(Buffer.from(JSON.stringify({
    worker: 1, runtime: 'onnxruntime-node', version: ort.env.versions.node || ort.env.versions.common,
    device: 'cpu', classes: ['default'],
  }) + '\n'));
  const req = Buffer.alloc(8);
  const rep = Buffer.alloc(16);
  while (readFull(req)) {
    if (req[0] !== 0x52) fail(`garbage request ${req.toString('hex')}`);
    req.copy(rep, 1, 1, 8);
    try {
      const t0 = process.hrtime.bigint();
      await session.run(input);
      rep[0] = 0x41;
      rep.writeBigInt64LE(process.hrtime.bigint() - t0, 8);
      writeAll(rep);
    } catch (e) {
      const msg = Buffer.from(String(e.message).slice(0, 4000));
      rep[0] = 0x45;
      rep.writeBigInt64LE(BigInt(msg.length), 8);
      writeAll(Buffer.concat([rep, msg]));
    }
  }
}

main().catch((e) => fail(e.stack || String(e)));
