"""The part of numpy docs/workers/hailo_worker.py uses, for its stand-in test (the test machine
need not have numpy; a Pi with HailoRT does)."""
import random as _random

uint8 = "uint8"


class _Generator:
    def __init__(self, seed):
        self._r = _random.Random(seed)

    def integers(self, low, high, size, dtype):
        n = 1
        for d in size:
            n *= d
        return bytes(self._r.randrange(low, high) for _ in range(n))


class random:
    @staticmethod
    def default_rng(seed):
        return _Generator(seed)
