"""A stand-in for HailoRT's hailo_platform, for testing docs/workers/hailo_worker.py's protocol
handling where no Hailo NPU is: the calls the worker makes, doing nothing. FAKE_HAILO_FAIL=open
makes VDevice() fail; FAKE_HAILO_FAIL=infer makes the third infer raise."""
import os

__version__ = "4.20.0"
_infers = 0


class HEF:
    def __init__(self, path):
        if not os.path.exists(path):
            raise FileNotFoundError(f"HEF file not found: {path}")

    def get_input_vstream_infos(self):
        return [type("Info", (), {"name": "input_layer1", "shape": (224, 224, 3)})()]


class _Ctx:
    def __enter__(self):
        return self

    def __exit__(self, *a):
        return False


class _Identity:
    device_architecture = "HailoArchitecture.HAILO10H"


class _Device:
    control = type("Control", (), {"identify": lambda self: _Identity()})()


class VDevice(_Ctx):
    def __init__(self):
        if os.environ.get("FAKE_HAILO_FAIL") == "open":
            raise RuntimeError("HAILO_OUT_OF_PHYSICAL_DEVICES: no Hailo device found")

    def get_physical_devices(self):
        return [_Device()]

    def configure(self, hef, params):
        return [_Group()]


class _Group:
    def create_params(self):
        return None

    def activate(self, params):
        return _Ctx()


class HailoStreamInterface:
    PCIe = "PCIe"


class FormatType:
    UINT8, FLOAT32 = "UINT8", "FLOAT32"


class ConfigureParams:
    @staticmethod
    def create_from_hef(hef, interface):
        return None


class InputVStreamParams:
    @staticmethod
    def make(group, format_type):
        return None


OutputVStreamParams = InputVStreamParams


class InferVStreams(_Ctx):
    def __init__(self, group, in_params, out_params):
        pass

    def infer(self, inputs):
        global _infers
        _infers += 1
        if os.environ.get("FAKE_HAILO_FAIL") == "infer" and _infers == 3:
            raise RuntimeError("HAILO_TIMEOUT: infer timed out")
        return {"output": inputs}
