"""Fault injection observed through the official IB Python API (ibapi-stable 10.50.2).

Usage: python faults.py PORT CONTROL_PORT EXPECTED_VERSION [MAX_CLIENT_VER]

Faults are triggered through the simulator's control port, as a user would while it runs.
Every wait is bounded; any failure exits non-zero with a one-line reason.
"""

import os
import socket
import sys
import threading
import time
from decimal import Decimal

import ibapi.client

from driver import STEP_TIMEOUT, Recorder, fail



def main():
    port, control_port, expected = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    if len(sys.argv) > 4:
        ibapi.client.MAX_CLIENT_VER = int(sys.argv[4])

    from ibapi.client import EClient
    from ibapi.contract import Contract
    from ibapi.order import Order
    from ibapi.wrapper import EWrapper

    control = socket.create_connection(("127.0.0.1", control_port), timeout=STEP_TIMEOUT)
    control_in = control.makefile("r")

    def fault(cmd):
        control.sendall((cmd + "\n").encode())
        reply = control_in.readline().strip()
        if reply != "ok":
            fail(f"control port answered {reply!r} to {cmd!r}")

    class App(Recorder, EWrapper, EClient):
        def __init__(self):
            EWrapper.__init__(self)
            EClient.__init__(self, self)
            self.init_recorder()

        def error(self, reqId, errorTime, errorCode, errorString, advancedOrderRejectJson=""):
            self.record("error", reqId, errorCode)
            self.record("errorText", reqId, errorCode, errorString)

        def orderStatus(self, orderId, status, filled, remaining, avgFillPrice, permId, parentId,
                        lastFillPrice, clientId, whyHeld, mktCapPrice):
            self.record("orderStatus", orderId, status)

        def nextValidId(self, orderId):
            self.record("nextValidId", orderId)

        def currentTime(self, t):
            self.record("currentTime", t)

        def tickPrice(self, reqId, tickType, price, attrib):
            self.record("tickPrice", reqId)

        def historicalDataEnd(self, reqId, start, end):
            self.record("historicalDataEnd", reqId)

        def connectionClosed(self):
            self.record("closed")

    def session():
        # The server may not have seen the previous socket close yet (326, as TWS would
        # answer); retry a few times like a real client.
        for _ in range(10):
            app = App()
            app.connect("127.0.0.1", port, 31)
            threading.Thread(target=app.run, daemon=True).start()
            e = app.wait(lambda e: e[0] == "nextValidId" or e == ("error", -1, 326), "nextValidId")
            if e[0] == "nextValidId":
                if app.serverVersion() != expected:
                    fail(f"server version {app.serverVersion()} != {expected}")
                return app
            app.disconnect()
            time.sleep(0.3)
        fail("client id still in use after 10 attempts")

    aapl = Contract()
    aapl.symbol, aapl.secType, aapl.exchange, aapl.currency = "AAPL", "STK", "SMART", "USD"
    ticks = lambda e: e[0] == "tickPrice" and e[1] == 11

    app = session()
    fault("farm down")
    app.wait(lambda e: e == ("error", -1, 2103), "2103")
    app.wait(lambda e: e == ("error", -1, 2105), "2105")
    fault("farm up")
    app.wait(lambda e: e == ("error", -1, 2104) and app.count(lambda x: x == e) >= 2, "2104 again")

    app.reqMktData(11, aapl, "", False, False, [])
    app.wait(ticks, "streaming ticks")
    fault("lost 1102 200")
    app.wait(lambda e: e == ("error", -1, 1100), "1100")
    app.wait(lambda e: e == ("error", -1, 1102), "1102")
    time.sleep(0.3)
    n = app.count(ticks)
    time.sleep(0.7)
    if app.count(ticks) == n:
        fail("ticks stopped after 1102 (data maintained)")
    fault("lost 1101 200")
    app.wait(lambda e: e == ("error", -1, 1101), "1101")
    time.sleep(0.5)
    n = app.count(ticks)
    time.sleep(0.7)
    if app.count(ticks) != n:
        fail("ticks continued after 1101 (data lost)")

    fault("pacing 1")
    app.reqHistoricalData(12, aapl, "", "1 D", "1 hour", "TRADES", 1, 1, False, [])
    app.wait(lambda e: e == ("error", 12, 162), "forced 162")

    fault("stall 600")
    t0 = time.time()
    app.reqCurrentTime()
    app.wait(lambda e: e[0] == "currentTime", "currentTime during stall")
    if time.time() - t0 < 0.4:
        fail("stall not observed")

    # A malformed frame: at 178 the client drops the short message and carries on; at >= 213
    # ibapi 10.50.2 lets the protobuf DecodeError end its reader thread and the connection
    # closes. Either way the client must notice, and a new session must work.
    fault("malformed")
    time.sleep(0.2)
    app.reqCurrentTime()
    e = app.wait(lambda e: e[0] == "closed" or (e[0] == "currentTime" and app.count(lambda x: x[0] == "currentTime") >= 2),
                 "currentTime or connectionClosed after a malformed frame")
    if e[0] == "closed":
        if expected == 178:
            fail("the text client should survive a malformed frame")
        app.disconnect()
        app = session()

    fault("drop")
    app.wait(lambda e: e[0] == "closed", "connectionClosed after drop")
    app = session()

    fault("restart 800")
    app.wait(lambda e: e[0] == "closed", "connectionClosed after restart")
    time.sleep(1.0)
    app = session()
    app.reqCurrentTime()
    app.wait(lambda e: e[0] == "currentTime", "currentTime after restart")

    # Order-path faults: an injected rejection (201 bound to the order id, then Inactive) and
    # held acknowledgements released from the control port.
    order_id = app.wait(lambda e: e[0] == "nextValidId", "nextValidId")[1]
    lmt = Order()
    lmt.action, lmt.orderType, lmt.totalQuantity, lmt.lmtPrice = "BUY", "LMT", Decimal(1), 1.0
    fault("reject 1 201 insufficient margin")
    app.placeOrder(order_id, aapl, lmt)
    app.wait(lambda e: e == ("errorText", order_id, 201, "Order rejected - reason:insufficient margin"),
             "201 for the injected rejection")
    app.wait(lambda e: e == ("orderStatus", order_id, "Inactive"), "Inactive after the 201")
    fault("hold 10000")
    app.placeOrder(order_id + 1, aapl, lmt)
    time.sleep(0.3)
    if app.count(lambda e: e[0] == "orderStatus" and e[1] == order_id + 1):
        fail("order acknowledged while acknowledgements are held")
    fault("release")
    app.wait(lambda e: e == ("orderStatus", order_id + 1, "Submitted"), "Submitted after release")
    app.disconnect()
    print(f"OK faults at server version {expected}", flush=True)


if __name__ == "__main__":
    main()
    os._exit(0)
