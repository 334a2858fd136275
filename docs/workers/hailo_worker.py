#!/usr/bin/env python3
"""tailgate exec-backend worker on HailoRT for the Raspberry Pi AI HAT+ 2 (Hailo NPU).

    python3 hailo_worker.py MODEL.hef

Speaks docs/worker-protocol.md on stdin/stdout: reads tailgate's hello, configures the HEF on
the NPU (VDevice, PCIe), prepares one seeded random input per input vstream, says ready naming
runtime "hailort", HailoRT's version and the device's architecture, then answers each request
with one blocking InferVStreams.infer, reporting the infer's own duration as the device time.
Logs go to stderr (tailgate keeps the tail for its error messages).

Setup on the Pi and usage: docs/workers/README.md. This worker cannot run without the NPU; the
repository tests its protocol handling with a stand-in hailo_platform module.
"""
import json
import os
import struct
import sys
import time

import numpy as np
import hailo_platform as hp

REQ = struct.Struct("<cBxxI")  # 'R', class, seq
REP = struct.Struct("<cBxxIq")  # 'A'/'E', class, seq, device ns or message length


def read_full(fd, n):
    buf = b""
    while len(buf) < n:
        chunk = os.read(fd, n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


def write_all(fd, data):
    while data:
        data = data[os.write(fd, data):]


def read_line(fd):
    line = b""
    while True:
        c = os.read(fd, 1)
        if not c:
            return None
        if c == b"\n":
            return line
        line += c


def say(obj):
    write_all(1, (json.dumps(obj) + "\n").encode())


def device_name(vdevice):
    try:
        ident = vdevice.get_physical_devices()[0].control.identify()
        return str(ident.device_architecture).replace("HailoArchitecture.", "") or "hailo"
    except Exception as e:  # an older HailoRT without identify(): still a Hailo device
        print(f"hailo_worker: cannot identify the device ({e})", file=sys.stderr)
        return "hailo"


def main():
    if len(sys.argv) != 2:
        print("usage: hailo_worker.py MODEL.hef", file=sys.stderr)
        return 2
    hello = read_line(0)
    if hello is None:
        return 0
    seed = json.loads(hello).get("seed", 1)
    try:
        hef = hp.HEF(sys.argv[1])
        vdevice = hp.VDevice()
    except Exception as e:
        say({"worker": 1, "error": f"{sys.argv[1]}: {e}"})
        return 2
    with vdevice:
        params = hp.ConfigureParams.create_from_hef(hef=hef, interface=hp.HailoStreamInterface.PCIe)
        group = vdevice.configure(hef, params)[0]
        in_params = hp.InputVStreamParams.make(group, format_type=hp.FormatType.UINT8)
        out_params = hp.OutputVStreamParams.make(group, format_type=hp.FormatType.FLOAT32)
        rng = np.random.default_rng(seed)
        inputs = {info.name: rng.integers(0, 256, size=(1, *info.shape), dtype=np.uint8)
                  for info in hef.get_input_vstream_infos()}
        with hp.InferVStreams(group, in_params, out_params) as pipeline, group.activate(group.create_params()):
            say({"worker": 1, "runtime": "hailort", "version": hp.__version__,
                 "device": device_name(vdevice), "classes": ["default"]})
            while True:
                req = read_full(0, REQ.size)
                if req is None:
                    return 0
                op, cls, seq = REQ.unpack(req)
                if op != b"R":
                    print(f"hailo_worker: garbage request {req.hex()}", file=sys.stderr)
                    return 2
                try:
                    t0 = time.monotonic_ns()
                    pipeline.infer(inputs)
                    write_all(1, REP.pack(b"A", cls, seq, time.monotonic_ns() - t0))
                except Exception as e:
                    msg = str(e).encode()[:4000] or b"infer failed"
                    write_all(1, REP.pack(b"E", cls, seq, len(msg)) + msg)


if __name__ == "__main__":
    sys.exit(main())
