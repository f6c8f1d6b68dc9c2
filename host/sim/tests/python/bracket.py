"""A bracket order from the official IB Python API (ibapi-stable 10.50.2).

Usage: python bracket.py PORT EXPECTED_VERSION [MAX_CLIENT_VER]

Parent (marketable BUY MKT, transmit=False), take-profit (SELL LMT far above, transmit=False)
and stop-loss (SELL STP far below, transmit=True), placed with pauses in between. The parent
must not fill before the last child arrives: at >= 213 the client leaves `transmit` out of the
protobuf order when it is false, and the simulator must read that as false. When the parent
fills, both children are working. Every wait is bounded; any failure exits non-zero.
"""

import os
import sys
import threading
import time
from decimal import Decimal

import ibapi.client

from driver import Recorder, fail



def main():
    port, expected = int(sys.argv[1]), int(sys.argv[2])
    if len(sys.argv) > 3:
        ibapi.client.MAX_CLIENT_VER = int(sys.argv[3])

    from ibapi.client import EClient
    from ibapi.contract import Contract
    from ibapi.order import Order
    from ibapi.wrapper import EWrapper

    class App(Recorder, EWrapper, EClient):
        def __init__(self):
            EWrapper.__init__(self)
            EClient.__init__(self, self)
            self.init_recorder()

        def error(self, reqId, errorTime, errorCode, errorString, advancedOrderRejectJson=""):
            self.record("error", reqId, errorCode, errorString)

        def nextValidId(self, orderId):
            self.record("nextValidId", orderId)

        def openOrder(self, orderId, contract, order, orderState):
            self.record("openOrder", orderId, orderState.status)

        def orderStatus(self, orderId, status, filled, remaining, avgFillPrice, permId, parentId,
                        lastFillPrice, clientId, whyHeld, mktCapPrice):
            self.record("orderStatus", orderId, status, filled)

    app = App()
    app.connect("127.0.0.1", port, 51)
    threading.Thread(target=app.run, daemon=True).start()
    parent_id = app.wait(lambda e: e[0] == "nextValidId", "nextValidId")[1]
    if app.serverVersion() != expected:
        fail(f"server version {app.serverVersion()} != {expected}")

    xom = Contract()
    xom.symbol, xom.secType, xom.exchange, xom.currency = "XOM", "STK", "SMART", "USD"

    def order(action, order_type, transmit, parent=0, lmt=None, aux=None):
        o = Order()
        o.action, o.orderType, o.totalQuantity = action, order_type, Decimal(10)
        o.transmit, o.parentId = transmit, parent
        if lmt is not None:
            o.lmtPrice = lmt
        if aux is not None:
            o.auxPrice = aux
        return o

    tp_id, sl_id = parent_id + 1, parent_id + 2
    parent_filled = lambda e: e[0] == "orderStatus" and e[1] == parent_id and e[2] == "Filled"

    app.placeOrder(parent_id, xom, order("BUY", "MKT", False))
    app.wait(lambda e: e[0] == "openOrder" and e[1] == parent_id, "parent openOrder")
    time.sleep(0.3)
    app.placeOrder(tp_id, xom, order("SELL", "LMT", False, parent_id, lmt=100000.0))
    app.wait(lambda e: e[0] == "openOrder" and e[1] == tp_id, "take-profit openOrder")
    time.sleep(0.3)
    held = app.snapshot()
    if any(parent_filled(e) or (e[0] == "openOrder" and e[1] == parent_id and e[2] != "PreSubmitted")
           for e in held):
        fail(f"parent went live before its last child was transmitted: {held}")

    app.placeOrder(sl_id, xom, order("SELL", "STP", True, parent_id, aux=1.0))
    app.wait(parent_filled, "parent Filled after the stop-loss")
    events = app.snapshot()
    first_fill = next(i for i, e in enumerate(events) if parent_filled(e))
    before = events[:first_fill]
    if not any(e[0] in ("openOrder", "orderStatus") and e[1] == sl_id for e in before):
        fail(f"parent filled before the stop-loss arrived: {events}")
    for child in (tp_id, sl_id):
        app.wait(lambda e, c=child: e[0] == "orderStatus" and e[1] == c and e[2] == "Submitted",
                 f"child {child} working after the parent's fill")
    errors = [e for e in app.snapshot() if e[0] == "error" and e[2] not in (2104, 2106, 2158)]
    if errors:
        fail(f"unexpected errors {errors}")
    app.disconnect()
    print(f"OK server version {expected}", flush=True)


if __name__ == "__main__":
    main()
    os._exit(0)
