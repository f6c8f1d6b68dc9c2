"""Shared pieces of the drivers that run IB's official Python API (ibapi-stable) against
tickwork-sim: failing fast, and a recorder of callback events with bounded waits.

The drivers import it from their own directory (Python puts a script's directory first on
sys.path).
"""

import os
import threading
import time

STEP_TIMEOUT = 10.0


def fail(msg):
    # os._exit: the API's reader thread is not a daemon and would keep a plain exit waiting.
    print(f"FAIL: {msg}", flush=True)
    os._exit(1)


class Recorder:
    """Events recorded by the API's callbacks (on its reader thread), and bounded waits for them.

    A mixin for the drivers' `App(EWrapper, EClient)`: call `init_recorder()` in `__init__`.
    `diagnostics()` may add to the timeout message.
    """

    def init_recorder(self):
        self.cv = threading.Condition()
        self.events = []

    def record(self, *event):
        with self.cv:
            self.events.append(event)
            self.cv.notify_all()

    def diagnostics(self):
        return ""

    def wait(self, pred, what):
        deadline = time.time() + STEP_TIMEOUT
        with self.cv:
            while True:
                for e in self.events:
                    if pred(e):
                        return e
                left = deadline - time.time()
                if left <= 0:
                    fail(f"timed out waiting for {what}; last events {self.events[-8:]}{self.diagnostics()}")
                self.cv.wait(left)

    def snapshot(self):
        with self.cv:
            return list(self.events)

    def count(self, pred):
        with self.cv:
            return sum(1 for e in self.events if pred(e))

    def clear(self):
        with self.cv:
            self.events.clear()
