"""End-to-end flows of the official IB Python API (ibapi-stable 10.50.2) against tickwork-sim.

Usage: python flows.py PORT EXPECTED_VERSION [MAX_CLIENT_VER]

Every step waits on an event with a timeout; any timeout, unexpected error code or wrong value
exits non-zero with a one-line reason. Requests are paced below the simulator's 50 msg/s limit.
"""

import os
import sys
import threading
import time
from decimal import Decimal

import ibapi.client

from driver import STEP_TIMEOUT, Recorder, fail

# Codes that are notices, not failures of the flow under test.
NOTICES = {2104, 2106, 2158, 0}


def main():
    port = int(sys.argv[1])
    expected = int(sys.argv[2])
    if len(sys.argv) > 3:
        # connect() reads the module global when called (reference section 14).
        ibapi.client.MAX_CLIENT_VER = int(sys.argv[3])

    from ibapi.client import EClient
    from ibapi.contract import Contract
    from ibapi.execution import ExecutionFilter
    from ibapi.order import Order
    from ibapi.order_cancel import OrderCancel
    from ibapi.wrapper import EWrapper

    class App(Recorder, EWrapper, EClient):
        def __init__(self):
            EWrapper.__init__(self)
            EClient.__init__(self, self)
            self.init_recorder()
            self.errors = []

        def diagnostics(self):
            return f"; errors {self.errors[-5:]}"

        # --- callbacks -------------------------------------------------------------------
        def error(self, reqId, errorTime, errorCode, errorString, advancedOrderRejectJson=""):
            self.errors.append((reqId, errorCode, errorString))
            self.record("error", reqId, errorCode, errorString)

        def nextValidId(self, orderId):
            self.record("nextValidId", orderId)

        def managedAccounts(self, accountsList):
            self.record("managedAccounts", accountsList)

        def currentTime(self, t):
            self.record("currentTime", t)

        def currentTimeInMillis(self, ms):
            self.record("currentTimeInMillis", ms)

        def familyCodes(self, familyCodes):
            self.record("familyCodes", len(familyCodes))

        def softDollarTiers(self, reqId, tiers):
            self.record("softDollarTiers", reqId, len(tiers))

        def contractDetails(self, reqId, cd):
            c = cd.contract
            self.record("contractDetails", reqId, c.symbol, cd.longName, c.conId, c.secType,
                        c.lastTradeDateOrContractMonth, c.strike, c.right, c.multiplier)

        def contractDetailsEnd(self, reqId):
            self.record("contractDetailsEnd", reqId)

        def tickPrice(self, reqId, tickType, price, attrib):
            self.record("tickPrice", reqId, tickType, price)

        def tickSize(self, reqId, tickType, size):
            self.record("tickSize", reqId, tickType, size)

        def tickSnapshotEnd(self, reqId):
            self.record("tickSnapshotEnd", reqId)

        def marketDataType(self, reqId, t):
            self.record("marketDataType", reqId, t)

        def historicalData(self, reqId, bar):
            self.record("historicalData", reqId, bar.date, bar.open, bar.high, bar.low, bar.close)

        def historicalDataEnd(self, reqId, start, end):
            self.record("historicalDataEnd", reqId, start, end)

        def historicalDataUpdate(self, reqId, bar):
            self.record("historicalDataUpdate", reqId, bar.date, bar.open, bar.high, bar.low, bar.close)

        def headTimestamp(self, reqId, headTimestamp):
            self.record("headTimestamp", reqId, headTimestamp)

        def symbolSamples(self, reqId, contractDescriptions):
            pairs = [(d.contract.symbol, t) for d in contractDescriptions for t in d.derivativeSecTypes]
            self.record("symbolSamples", reqId, pairs)

        def securityDefinitionOptionParameter(self, reqId, exchange, underlyingConId, tradingClass, multiplier, expirations, strikes):
            self.record("optParams", reqId, len(expirations), len(strikes), multiplier)

        def securityDefinitionOptionParameterEnd(self, reqId):
            self.record("optParamsEnd", reqId)

        def accountSummary(self, reqId, account, tag, value, currency):
            self.record("accountSummary", reqId, account, tag, value)

        def accountSummaryEnd(self, reqId):
            self.record("accountSummaryEnd", reqId)

        def updateAccountValue(self, key, val, currency, accountName):
            self.record("updateAccountValue", key, val)

        def updatePortfolio(self, contract, position, marketPrice, marketValue, averageCost, unrealizedPNL, realizedPNL, accountName):
            self.record("updatePortfolio", contract.symbol, position)

        def updateAccountTime(self, timeStamp):
            self.record("updateAccountTime", timeStamp)

        def accountDownloadEnd(self, accountName):
            self.record("accountDownloadEnd", accountName)

        def position(self, account, contract, position, avgCost):
            self.record("position", contract.symbol, position)

        def pnl(self, reqId, dailyPnL, unrealizedPnL, realizedPnL):
            self.record("pnl", reqId, unrealizedPnL)

        def pnlSingle(self, reqId, pos, dailyPnL, unrealizedPnL, realizedPnL, value):
            self.record("pnlSingle", reqId, pos, value)

        def positionMulti(self, reqId, account, modelCode, contract, pos, avgCost):
            self.record("positionMulti", reqId, contract.symbol, pos)

        def positionMultiEnd(self, reqId):
            self.record("positionMultiEnd", reqId)

        def positionEnd(self):
            self.record("positionEnd")

        def orderStatus(self, orderId, status, filled, remaining, avgFillPrice, permId, parentId, lastFillPrice, clientId, whyHeld, mktCapPrice):
            self.record("orderStatus", orderId, status, filled, remaining)

        def openOrder(self, orderId, contract, order, orderState):
            self.record("openOrder", orderId, orderState.status, order.whatIf, orderState.initMarginAfter, orderState.initMarginBefore)

        def openOrderEnd(self):
            self.record("openOrderEnd")

        def completedOrder(self, contract, order, orderState):
            self.record("completedOrder", orderState.status)

        def completedOrdersEnd(self):
            self.record("completedOrdersEnd")

        def execDetails(self, reqId, contract, execution):
            self.record("execDetails", reqId, execution.orderId, execution.side, execution.shares, execution.execId)

        def execDetailsEnd(self, reqId):
            self.record("execDetailsEnd", reqId)

        def commissionAndFeesReport(self, report):
            self.record("commission", report.execId, report.commissionAndFees)

    def stock(symbol):
        c = Contract()
        c.symbol = symbol
        c.secType = "STK"
        c.exchange = "SMART"
        c.currency = "USD"
        return c

    def pace():
        time.sleep(0.05)

    app = App()
    app.connect("127.0.0.1", port, 21)
    threading.Thread(target=app.run, daemon=True).start()

    # --- negotiation and startup ----------------------------------------------------------
    app.wait(lambda e: e[0] == "nextValidId", "nextValidId")
    accounts = app.wait(lambda e: e[0] == "managedAccounts", "managedAccounts")[1]
    if app.serverVersion() != expected:
        fail(f"server version {app.serverVersion()} != {expected}")
    for code in (2104, 2106, 2158):
        app.wait(lambda e, c=code: e[0] == "error" and e[2] == c, f"farm notice {code}")
    account = accounts.split(",")[0]
    if not account:
        fail("empty managed accounts")
    next_id = app.wait(lambda e: e[0] == "nextValidId", "nextValidId")[1]

    # --- one-shots ------------------------------------------------------------------------
    app.clear()
    app.reqCurrentTime()
    t = app.wait(lambda e: e[0] == "currentTime", "currentTime")[1]
    if abs(t - time.time()) > 5:
        fail(f"current time {t} is off")
    pace()
    app.reqIds(1)
    app.wait(lambda e: e[0] == "nextValidId", "nextValidId after reqIds")
    pace()
    app.reqManagedAccts()
    app.wait(lambda e: e[0] == "managedAccounts", "managedAccounts after reqManagedAccts")
    if expected >= 213:  # the client only sends it to servers that support it
        pace()
        app.reqCurrentTimeInMillis()
        ms = app.wait(lambda e: e[0] == "currentTimeInMillis", "currentTimeInMillis")[1]
        if abs(ms / 1000 - time.time()) > 5:
            fail(f"current time in ms {ms} is off")
    pace()
    app.reqFamilyCodes()
    app.wait(lambda e: e[0] == "familyCodes", "familyCodes")
    pace()
    app.reqSoftDollarTiers(109)
    app.wait(lambda e: e[0] == "softDollarTiers" and e[1] == 109, "softDollarTiers")

    # --- contract details -----------------------------------------------------------------
    pace()
    app.reqContractDetails(101, stock("AAPL"))
    d = app.wait(lambda e: e[0] == "contractDetails" and e[1] == 101, "contractDetails")
    if d[2] != "AAPL" or d[3] != "APPLE INC" or d[4] <= 0:
        fail(f"bad contract details {d}")
    app.wait(lambda e: e[0] == "contractDetailsEnd" and e[1] == 101, "contractDetailsEnd")
    pace()
    es = Contract()
    es.symbol, es.secType, es.exchange, es.currency = "ES", "FUT", "CME", "USD"
    app.reqContractDetails(103, es)
    app.wait(lambda e: e[0] == "contractDetailsEnd" and e[1] == 103, "futures contractDetailsEnd")
    futs = [e for e in app.events if e[0] == "contractDetails" and e[1] == 103]
    if len(futs) != 3 or any(len(f[6]) != 8 or f[9] != "50" for f in futs):
        fail(f"ES futures details {futs}")
    pace()
    chain = stock("AAPL")
    chain.secType = "OPT"
    app.reqContractDetails(104, chain)
    app.wait(lambda e: e[0] == "contractDetailsEnd" and e[1] == 104, "option chain contractDetailsEnd")
    opts = [e for e in app.events if e[0] == "contractDetails" and e[1] == 104]
    if len(opts) < 60 or any(o[5] != "OPT" or o[7] <= 0 or o[8] not in ("C", "P") or o[9] != "100" for o in opts):
        fail(f"option chain details: {len(opts)} first {opts[:1]}")
    pace()
    app.reqContractDetails(102, stock("NOSUCH"))
    app.wait(lambda e: e[0] == "error" and e[1] == 102 and e[2] == 200, "error 200")

    # --- market data ----------------------------------------------------------------------
    pace()
    app.reqMktData(201, stock("AAPL"), "", True, False, [])
    app.wait(lambda e: e[0] == "marketDataType" and e[1] == 201, "marketDataType")
    bid = app.wait(lambda e: e[0] == "tickPrice" and e[1] == 201 and e[2] == 1, "bid")[3]
    ask = app.wait(lambda e: e[0] == "tickPrice" and e[1] == 201 and e[2] == 2, "ask")[3]
    app.wait(lambda e: e[0] == "tickSize" and e[1] == 201 and e[2] == 8, "volume")
    app.wait(lambda e: e[0] == "tickSnapshotEnd" and e[1] == 201, "tickSnapshotEnd")
    if not (0 < bid < ask):
        fail(f"bid {bid} ask {ask}")
    pace()
    app.reqMktData(202, stock("MSFT"), "", False, False, [])
    deadline = time.time() + STEP_TIMEOUT
    while sum(1 for e in list(app.events) if e[0] == "tickPrice" and e[1] == 202) < 20:
        if time.time() > deadline:
            fail("streaming ticks did not arrive")
        time.sleep(0.05)
    app.cancelMktData(202)
    time.sleep(0.5)
    before = sum(1 for e in list(app.events) if e[0] == "tickPrice" and e[1] == 202)
    time.sleep(0.6)
    after = sum(1 for e in list(app.events) if e[0] == "tickPrice" and e[1] == 202)
    if after != before:
        fail("ticks continued after cancelMktData")
    app.reqMarketDataType(3)
    pace()
    app.reqMktData(203, stock("SPY"), "", True, False, [])
    app.wait(lambda e: e[0] == "marketDataType" and e[1] == 203 and e[2] == 3, "delayed marketDataType")
    app.wait(lambda e: e[0] == "tickPrice" and e[1] == 203 and e[2] == 66, "delayed bid")
    app.wait(lambda e: e[0] == "tickSnapshotEnd" and e[1] == 203, "delayed snapshot end")
    app.reqMarketDataType(1)

    # --- historical data ------------------------------------------------------------------
    pace()
    app.reqHistoricalData(301, stock("AAPL"), "", "1 M", "1 day", "TRADES", 1, 1, False, [])
    end = app.wait(lambda e: e[0] == "historicalDataEnd" and e[1] == 301, "daily historicalDataEnd")
    daily = [e for e in app.events if e[0] == "historicalData" and e[1] == 301]
    if len(daily) < 15 or len(daily[0][2]) != 8:
        fail(f"daily bars: {len(daily)} first {daily[:1]}")
    if not end[3].endswith(" UTC"):
        fail(f"end string without zone: {end}")
    pace()
    app.reqHistoricalData(302, stock("AAPL"), "", "2 D", "5 mins", "MIDPOINT", 0, 2, False, [])
    app.wait(lambda e: e[0] == "historicalDataEnd" and e[1] == 302, "intraday historicalDataEnd")
    intraday = [e for e in app.events if e[0] == "historicalData" and e[1] == 302]
    if len(intraday) < 100 or not intraday[0][2].isdigit():
        fail(f"intraday bars: {len(intraday)} first {intraday[:1]}")
    if any(not (b[5] <= b[3] and b[5] <= b[6] <= b[4]) for b in intraday):
        fail("inconsistent OHLC")
    pace()
    # IB paces only bars of 30 s or less: the identical daily request is answered at once.
    app.reqHistoricalData(303, stock("AAPL"), "", "1 M", "1 day", "TRADES", 1, 1, False, [])
    app.wait(lambda e: e[0] == "historicalDataEnd" and e[1] == 303, "identical daily request answered")
    pace()
    app.reqHistoricalData(304, stock("MSFT"), "", "1 D", "1 min", "TRADES", 0, 2, True, [])
    app.wait(lambda e: e[0] == "historicalDataEnd" and e[1] == 304, "keepUpToDate bars")
    upd = app.wait(lambda e: e[0] == "historicalDataUpdate" and e[1] == 304, "historicalDataUpdate")
    if not (upd[5] <= upd[6] <= upd[4]):
        fail(f"inconsistent update bar {upd}")
    app.cancelHistoricalData(304)
    pace()
    app.reqHeadTimeStamp(305, stock("AAPL"), "TRADES", 1, 2)
    head = app.wait(lambda e: e[0] == "headTimestamp" and e[1] == 305, "headTimestamp")
    if head[2] != "1136298600":
        fail(f"head timestamp {head}")
    pace()
    app.reqMktDepth(306, stock("AAPL"), 5, False, [])
    app.wait(lambda e: e[0] == "error" and e[1] == 306 and e[2] == 321, "321 for an unsupported request")
    pace()
    app.reqMatchingSymbols(307, "AAP")
    samples = app.wait(lambda e: e[0] == "symbolSamples" and e[1] == 307, "symbolSamples")
    if ("AAPL", "OPT") not in samples[2]:
        fail(f"symbol samples {samples}")
    pace()
    app.reqSecDefOptParams(308, "AAPL", "", "STK", 0)
    app.wait(lambda e: e[0] == "optParamsEnd" and e[1] == 308, "securityDefinitionOptionParameterEnd")
    rows = [e for e in app.events if e[0] == "optParams" and e[1] == 308]
    if len(rows) != 1 or rows[0][2] != 3 or rows[0][3] != 11 or rows[0][4] != "100":
        fail(f"option parameters {rows}")
    pace()
    app.cancelHistoricalData(999)
    app.wait(lambda e: e[0] == "error" and e[1] == 999 and e[2] == 366, "366 for unknown cancel")

    # --- accounts and positions -----------------------------------------------------------
    pace()
    app.reqAccountSummary(401, "All", "NetLiquidation,TotalCashValue,BuyingPower")
    app.wait(lambda e: e[0] == "accountSummaryEnd" and e[1] == 401, "accountSummaryEnd")
    tags = {e[3] for e in app.events if e[0] == "accountSummary" and e[1] == 401}
    if tags != {"NetLiquidation", "TotalCashValue", "BuyingPower"}:
        fail(f"summary tags {tags}")
    app.cancelAccountSummary(401)
    pace()
    app.reqAccountUpdates(True, account)
    app.wait(lambda e: e[0] == "accountDownloadEnd", "accountDownloadEnd")
    app.wait(lambda e: e[0] == "updateAccountValue" and e[1] == "NetLiquidation", "NetLiquidation value")
    app.wait(lambda e: e[0] == "updatePortfolio" and e[1] == "AAPL", "AAPL portfolio")
    app.wait(lambda e: e[0] == "updateAccountTime", "updateAccountTime")
    app.reqAccountUpdates(False, account)
    pace()
    app.reqPositions()
    app.wait(lambda e: e[0] == "positionEnd", "positionEnd")
    if ("position", "AAPL", Decimal(100)) not in app.events:
        fail("AAPL position missing")
    app.cancelPositions()
    pace()
    app.reqPositionsMulti(404, account, "")
    app.wait(lambda e: e[0] == "positionMultiEnd" and e[1] == 404, "positionMultiEnd")
    if ("positionMulti", 404, "SPY", Decimal(50)) not in app.events:
        fail("SPY missing from positions multi")
    app.cancelPositionsMulti(404)
    pace()
    app.reqPnL(402, account, "")
    p = app.wait(lambda e: e[0] == "pnl" and e[1] == 402, "pnl")
    if not p[2] > 0:
        fail(f"unrealized P&L of the seeded positions {p}")
    app.cancelPnL(402)
    pace()
    app.reqPnLSingle(403, account, "", d[4])
    p = app.wait(lambda e: e[0] == "pnlSingle" and e[1] == 403, "pnlSingle")
    if p[2] != Decimal(100) or not p[3] > 0:
        fail(f"AAPL P&L {p}")
    app.cancelPnLSingle(403)

    # --- orders ---------------------------------------------------------------------------
    app.clear()
    pace()
    what_if = Order()
    what_if.action = "BUY"
    what_if.totalQuantity = Decimal(100)
    what_if.orderType = "MKT"
    what_if.whatIf = True
    app.placeOrder(next_id, stock("AAPL"), what_if)
    oo = app.wait(lambda e: e[0] == "openOrder" and e[1] == next_id, "what-if openOrder")
    if not oo[3] or float(oo[4]) <= float(oo[5]):
        fail(f"what-if margins: {oo}")
    time.sleep(0.2)
    if any(e[0] == "orderStatus" and e[1] == next_id for e in app.events):
        fail("what-if produced an orderStatus")

    mkt_id = next_id + 1
    mkt = Order()
    mkt.action = "BUY"
    mkt.totalQuantity = Decimal(10)
    mkt.orderType = "MKT"
    pace()
    app.placeOrder(mkt_id, stock("MSFT"), mkt)
    app.wait(lambda e: e[0] == "orderStatus" and e[1] == mkt_id and e[2] == "Filled" and e[4] == 0, "Filled")
    ex = app.wait(lambda e: e[0] == "execDetails" and e[2] == mkt_id, "execDetails")
    if ex[3] != "BOT" or ex[4] != Decimal(10):
        fail(f"execution {ex}")
    app.wait(lambda e: e[0] == "commission" and e[1] == ex[5] and e[2] >= 1.0, "commission report")

    pace()
    app.placeOrder(mkt_id, stock("MSFT"), mkt)
    app.wait(lambda e: e[0] == "error" and e[1] == mkt_id and e[2] == 103, "103 duplicate id")

    lmt_id = mkt_id + 1
    lmt = Order()
    lmt.action = "BUY"
    lmt.totalQuantity = Decimal(5)
    lmt.orderType = "LMT"
    lmt.lmtPrice = 1.0
    pace()
    app.placeOrder(lmt_id, stock("MSFT"), lmt)
    app.wait(lambda e: e[0] == "orderStatus" and e[1] == lmt_id and e[2] == "Submitted", "LMT Submitted")
    pace()
    app.reqOpenOrders()
    app.wait(lambda e: e[0] == "openOrderEnd", "openOrderEnd")
    pace()
    app.cancelOrder(lmt_id, OrderCancel())
    app.wait(lambda e: e[0] == "orderStatus" and e[1] == lmt_id and e[2] == "Cancelled", "Cancelled")
    app.wait(lambda e: e[0] == "error" and e[1] == lmt_id and e[2] == 202, "202")
    pace()
    app.placeOrder(lmt_id + 1, stock("MSFT"), lmt)
    app.wait(lambda e: e[0] == "orderStatus" and e[1] == lmt_id + 1 and e[2] == "Submitted", "second LMT Submitted")
    pace()
    app.reqGlobalCancel(OrderCancel())
    app.wait(lambda e: e[0] == "orderStatus" and e[1] == lmt_id + 1 and e[2] == "Cancelled", "Cancelled by reqGlobalCancel")

    pace()
    app.reqExecutions(501, ExecutionFilter())
    app.wait(lambda e: e[0] == "execDetailsEnd" and e[1] == 501, "execDetailsEnd")
    if not any(e[0] == "execDetails" and e[1] == 501 for e in app.events):
        fail("no executions reported")
    pace()
    app.reqCompletedOrders(False)
    app.wait(lambda e: e[0] == "completedOrdersEnd", "completedOrdersEnd")
    statuses = {e[1] for e in app.events if e[0] == "completedOrder"}
    if not {"Filled", "Cancelled"} <= statuses:
        fail(f"completed orders {statuses}")
    pace()
    app.reqPositions()
    app.wait(lambda e: e[0] == "position" and e[1] == "MSFT" and e[2] == Decimal(10), "MSFT position after fill")

    # --- client id in use -----------------------------------------------------------------
    dup = App()
    dup.connect("127.0.0.1", port, 21)
    threading.Thread(target=dup.run, daemon=True).start()
    dup.wait(lambda e: e[0] == "error" and e[2] == 326, "326 for a duplicate client id")

    unexpected = [e for e in app.errors if e[1] not in NOTICES | {200, 162, 366, 103, 202, 321}]
    if unexpected:
        fail(f"unexpected errors {unexpected}")
    app.disconnect()
    print(f"OK server version {expected}", flush=True)


if __name__ == "__main__":
    main()
    os._exit(0)
