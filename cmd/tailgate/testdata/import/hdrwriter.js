// hdrwriter.js writes an HdrHistogram interval log with hdr-histogram-js's HistogramLogWriter,
// for tailgate import's interop test (cmd/tailgate/import_test.go runs it).
//
// usage: node hdrwriter.js NODE_MODULES OUT
// Values in microseconds (3 significant digits, 1 µs to 1 h), tags "cpu" and "npu", timestamps
// relative to the StartTime header (the writer's baseTime; it writes no BaseTime header).
const path = require("path");
const fs = require("fs");
const hdr = require(path.join(process.argv[2], "hdr-histogram-js"));

// A seeded generator (mulberry32), so the log is the same on every run.
let seed = 7;
const rand = () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const gauss = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());

const lines = [];
const w = new hdr.HistogramLogWriter((s) => lines.push(s));
const startMs = 1795655091123;
w.baseTime = startMs;
w.outputComment("[Logged with hdrwriter.js, a tailgate test]");
w.outputLogFormatVersion();
w.outputStartTime(startMs);
w.outputLegend();
for (let i = 0; i < 60; i++) {
  for (const tag of ["cpu", "npu"]) {
    const h = hdr.build({ bitBucketSize: 64, lowestDiscernibleValue: 1, highestTrackableValue: 3600e6, numberOfSignificantValueDigits: 3 });
    h.tag = tag;
    const median = tag === "npu" ? 500 : 2000;
    for (let k = 0; k < 3000; k++) {
      let us = Math.exp(Math.log(median) + 0.3 * gauss());
      if (rand() < 0.01) us *= 20;
      h.recordValue(Math.floor(us));
    }
    h.startTimeStampMsec = startMs + i * 1000;
    h.endTimeStampMsec = startMs + (i + 1) * 1000;
    w.outputIntervalHistogram(h);
  }
}
fs.writeFileSync(process.argv[3], lines.join(""));
