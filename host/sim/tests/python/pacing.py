"""Historical-data pacing seen by the official IB Python API (ibapi-stable 10.50.2).

Usage: python pacing.py PORT EXPECTED_VERSION [MAX_CLIENT_VER]

IB paces only bars of 30 seconds or less: an identical 5-minute-bar request from a second
client right after the first is answered, while an identical 5-second-bar request within 15 s
gets error 162. Every wait is bounded; any failure exits non-zero with a one-line reason.
"""

import os
import sys
import threading

import ibapi.client

from driver import Recorder, fail



def main():
    port, expected = int(sys.argv[1]), int(sys.argv[2])
    if len(sys.argv) > 3:
        ibapi.client.MAX_CLIENT_VER = int(sys.argv[3])

    from ibapi.client import EClient
    from ibapi.contract import Contract
    from ibapi.wrapper import EWrapper

    class App(Recorder, EWrapper, EClient):
        def __init__(self):
            EWrapper.__init__(self)
            EClient.__init__(self, self)
            self.init_recorder()

        def error(self, reqId, errorTime, errorCode, errorString, advancedOrderRejectJson=""):
            self.record("error", reqId, errorCode)

        def nextValidId(self, orderId):
            self.record("nextValidId", orderId)

        def historicalDataEnd(self, reqId, start, end):
            self.record("historicalDataEnd", reqId)

    def session(client_id):
        app = App()
        app.connect("127.0.0.1", port, client_id)
        threading.Thread(target=app.run, daemon=True).start()
        app.wait(lambda e: e[0] == "nextValidId", "nextValidId")
        if app.serverVersion() != expected:
            fail(f"server version {app.serverVersion()} != {expected}")
        return app

    aapl = Contract()
    aapl.symbol, aapl.secType, aapl.exchange, aapl.currency = "AAPL", "STK", "SMART", "USD"

    def request(app, req_id, bar_size, duration):
        app.reqHistoricalData(req_id, aapl, "", duration, bar_size, "TRADES", 1, 1, False, [])
        return app.wait(
            lambda e: e == ("historicalDataEnd", req_id) or (e[0] == "error" and e[1] == req_id),
            f"answer to {req_id} ({bar_size})",
        )

    # Two clients in a row, identical 5-minute-bar requests: both answered.
    for client_id, req_id in ((41, 1), (42, 2)):
        app = session(client_id)
        answer = request(app, req_id, "5 mins", "2 D")
        if answer[0] != "historicalDataEnd":
            fail(f"5-minute bars for client {client_id}: {answer}")
        app.disconnect()

    # 5-second bars: the identical repeat within 15 s (from another client) gets 162.
    first = session(43)
    answer = request(first, 3, "5 secs", "1800 S")
    if answer[0] != "historicalDataEnd":
        fail(f"first 5-second request: {answer}")
    first.disconnect()
    second = session(44)
    answer = request(second, 4, "5 secs", "1800 S")
    if answer != ("error", 4, 162):
        fail(f"identical 5-second request within 15 s answered {answer}, not 162")
    second.disconnect()
    print(f"OK server version {expected}", flush=True)


if __name__ == "__main__":
    main()
    os._exit(0)
