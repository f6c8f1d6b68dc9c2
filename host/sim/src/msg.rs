//! Codec-independent messages: what a client asked for ([`Request`]) and what the simulator
//! answers ([`Response`]). The text (178) and protobuf (213..226) codecs translate between these
//! and the wire, so the session logic is written once for both encodings.

use rust_decimal::Decimal;

/// A contract as a client describes it in a request (any field may be empty).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ContractSpec {
    pub con_id: i32,
    pub symbol: String,
    pub sec_type: String,
    pub expiry: String,
    pub strike: f64,
    pub right: String,
    pub multiplier: String,
    pub exchange: String,
    pub primary_exchange: String,
    pub currency: String,
    pub local_symbol: String,
    pub trading_class: String,
}

/// The order fields the simulator acts on.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OrderSpec {
    pub action: String,
    pub total_quantity: Decimal,
    pub order_type: String,
    pub lmt_price: Option<f64>,
    pub aux_price: Option<f64>,
    pub tif: String,
    pub account: String,
    pub parent_id: i32,
    pub transmit: bool,
    pub what_if: bool,
    pub outside_rth: bool,
    pub oca_group: String,
    pub order_ref: String,
    /// How a stop is triggered (IB's codes: 0 default, 1 double bid/ask, 2 last, 3 double
    /// last, 4 bid/ask, 7 last or bid/ask, 8 mid-point); see [`crate::stops`].
    pub trigger_method: i32,
}

/// Filter of an executions query; empty strings and 0 match everything.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExecFilter {
    pub client_id: i32,
    pub account: String,
    pub symbol: String,
    pub sec_type: String,
    pub side: String,
}

/// A decoded client request.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    StartApi {
        client_id: i32,
    },
    ReqIds,
    CurrentTime,
    ManagedAccounts,
    MktData {
        req_id: i32,
        contract: ContractSpec,
        generic_ticks: String,
        snapshot: bool,
    },
    CancelMktData {
        req_id: i32,
    },
    MarketDataType {
        kind: i32,
    },
    AccountSummary {
        req_id: i32,
        group: String,
        tags: String,
    },
    CancelAccountSummary {
        req_id: i32,
    },
    AccountUpdates {
        subscribe: bool,
        account: String,
    },
    AccountUpdatesMulti {
        req_id: i32,
        account: String,
    },
    CancelAccountUpdatesMulti {
        req_id: i32,
    },
    Positions,
    CancelPositions,
    ContractDetails {
        req_id: i32,
        contract: ContractSpec,
    },
    CancelContractData {
        req_id: i32,
    },
    HistoricalData(Box<HistoricalRequest>),
    CancelHistoricalData {
        req_id: i32,
    },
    PlaceOrder {
        order_id: i32,
        contract: ContractSpec,
        order: Box<OrderSpec>,
    },
    /// reqGlobalCancel: cancel every working order.
    GlobalCancel,
    /// reqCurrentTimeInMillis.
    CurrentTimeMillis,
    /// reqPnL (con_id 0) or reqPnLSingle: P&L once a second until cancelled.
    Pnl {
        req_id: i32,
        account: String,
        con_id: i32,
    },
    /// reqPositionsMulti: positions of one account (or all), then the end.
    PositionsMulti {
        req_id: i32,
        account: String,
    },
    /// reqRealTimeBars: a 5-second bar as each interval completes.
    RealTimeBars {
        req_id: i32,
        contract: ContractSpec,
    },
    CancelRealTimeBars {
        req_id: i32,
    },
    /// cancelPnL / cancelPnLSingle.
    CancelPnl {
        req_id: i32,
    },
    /// reqFamilyCodes (none in the simulated accounts).
    FamilyCodes,
    /// reqSoftDollarTiers (none configured).
    SoftDollarTiers {
        req_id: i32,
    },
    /// reqMatchingSymbols: symbol search.
    MatchingSymbols {
        req_id: i32,
        pattern: String,
    },
    /// reqSecDefOptParams: the option chain's expiries and strikes.
    SecDefOptParams {
        req_id: i32,
        symbol: String,
        sec_type: String,
        con_id: i32,
    },
    /// reqHeadTimestamp: earliest available bar.
    HeadTimestamp {
        req_id: i32,
        contract: ContractSpec,
        format_date: i32,
    },
    CancelOrder {
        order_id: i32,
    },
    OpenOrders,
    AllOpenOrders,
    AutoOpenOrders,
    CompletedOrders,
    Executions {
        req_id: i32,
        filter: ExecFilter,
    },
    /// A well-formed message the simulator does not serve; logged and ignored.
    Unsupported {
        id: u32,
    },
    /// A request the simulator does not serve that carries a request id: answered with an
    /// error bound to that id, so the client's request ends instead of waiting for ever.
    UnsupportedRequest {
        id: u32,
        req_id: i32,
    },
}

/// Requests with a request id the simulator answers with an error: market depth, option
/// calculations, news, histogram, historical ticks, tick-by-tick, WSH, user info.
pub const UNSUPPORTED_WITH_REQ_ID: &[u32] =
    &[10, 50, 54, 55, 74, 84, 86, 88, 96, 97, 100, 102, 104];
/// Of those, the ones whose text form has a version field before the request id.
pub const VERSIONED_AT_178: &[u32] = &[10, 54, 55];

/// reqHistoricalData parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoricalRequest {
    pub req_id: i32,
    pub contract: ContractSpec,
    pub end: String,
    pub bar_size: String,
    pub duration: String,
    pub use_rth: bool,
    pub what_to_show: String,
    pub format_date: i32,
    pub keep_up_to_date: bool,
}

/// A contract as the simulator describes it in responses.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ContractView {
    pub con_id: i32,
    pub symbol: String,
    pub sec_type: String,
    pub expiry: String,
    pub strike: f64,
    pub right: String,
    /// 0 when the instrument has no multiplier (stocks).
    pub multiplier: f64,
    pub exchange: String,
    pub primary_exchange: String,
    pub currency: String,
    pub local_symbol: String,
    pub trading_class: String,
}

/// Contract details beyond the contract itself.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DetailsView {
    pub contract: ContractView,
    pub market_name: String,
    pub min_tick: f64,
    pub order_types: String,
    pub valid_exchanges: String,
    pub under_con_id: i32,
    pub long_name: String,
    pub contract_month: String,
    pub industry: String,
    pub category: String,
    pub subcategory: String,
    pub time_zone_id: String,
    pub trading_hours: String,
    pub liquid_hours: String,
    pub under_symbol: String,
    pub under_sec_type: String,
    pub real_expiration_date: String,
    pub stock_type: String,
}

/// One historical bar; `date` is already formatted per the request's formatDate.
#[derive(Debug, Clone, PartialEq)]
pub struct BarView {
    pub date: String,
    pub open: f64,
    pub high: f64,
    pub low: f64,
    pub close: f64,
    pub volume: Decimal,
    pub wap: Decimal,
    pub count: i32,
}

/// What-if margin figures (before, change, after).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MarginView {
    pub init_before: f64,
    pub maint_before: f64,
    pub ewl_before: f64,
    pub init_change: f64,
    pub maint_change: f64,
    pub ewl_change: f64,
    pub init_after: f64,
    pub maint_after: f64,
    pub ewl_after: f64,
}

/// An order as reported by openOrder / completedOrder.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OrderView {
    pub order_id: i32,
    pub client_id: i32,
    pub perm_id: i64,
    pub parent_id: i32,
    pub contract: ContractView,
    pub spec: OrderSpec,
    pub filled: Decimal,
    pub status: String,
    pub margins: Option<MarginView>,
    pub commission: Option<f64>,
    pub currency: String,
    pub warning: String,
    pub completed_time: String,
    pub completed_status: String,
}

/// An execution as reported by execDetails.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExecView {
    pub order_id: i32,
    pub client_id: i32,
    pub exec_id: String,
    pub time: String,
    pub account: String,
    pub exchange: String,
    pub side: String,
    pub shares: Decimal,
    pub price: f64,
    pub perm_id: i64,
    pub cum_qty: Decimal,
    pub avg_price: f64,
    pub order_ref: String,
}

/// A response to send; a codec turns each into one frame (HistoricalData into two at ≥ 213).
#[derive(Debug, Clone, PartialEq)]
pub enum Response {
    NextValidId(i32),
    ManagedAccounts(String),
    CurrentTime(i64),
    Error {
        id: i32,
        code: i32,
        msg: String,
        time_ms: i64,
    },
    TickReqParams {
        req_id: i32,
        min_tick: f64,
        bbo_exchange: String,
    },
    MarketDataType {
        req_id: i32,
        kind: i32,
    },
    TickPrice {
        req_id: i32,
        tick_type: i32,
        price: f64,
        size: Decimal,
        attr: i32,
    },
    TickSize {
        req_id: i32,
        tick_type: i32,
        size: Decimal,
    },
    TickString {
        req_id: i32,
        tick_type: i32,
        value: String,
    },
    TickGeneric {
        req_id: i32,
        tick_type: i32,
        value: f64,
    },
    TickSnapshotEnd(i32),
    AccountSummary {
        req_id: i32,
        account: String,
        tag: String,
        value: String,
        currency: String,
    },
    AccountSummaryEnd(i32),
    AccountValue {
        key: String,
        value: String,
        currency: String,
        account: String,
    },
    PortfolioValue(Box<PortfolioView>),
    AccountUpdateTime(String),
    AccountDownloadEnd(String),
    AccountUpdateMulti {
        req_id: i32,
        account: String,
        key: String,
        value: String,
        currency: String,
    },
    AccountUpdateMultiEnd(i32),
    Position {
        account: String,
        contract: Box<ContractView>,
        position: Decimal,
        avg_cost: f64,
    },
    PositionEnd,
    ContractData {
        req_id: i32,
        details: Box<DetailsView>,
    },
    ContractDataEnd(i32),
    HistoricalData {
        req_id: i32,
        start: String,
        end: String,
        bars: Vec<BarView>,
    },
    HistoricalDataUpdate {
        req_id: i32,
        bar: BarView,
    },
    OpenOrder(Box<OrderView>),
    OrderStatus(Box<StatusView>),
    OpenOrderEnd,
    CompletedOrder(Box<OrderView>),
    CompletedOrdersEnd,
    ExecDetails {
        req_id: i32,
        contract: Box<ContractView>,
        exec: Box<ExecView>,
    },
    ExecDetailsEnd(i32),
    SymbolSamples {
        req_id: i32,
        items: Vec<(ContractView, Vec<String>)>,
    },
    SecDefOptParam(Box<OptParamsView>),
    CurrentTimeMillis(i64),
    PositionMulti {
        req_id: i32,
        account: String,
        contract: Box<ContractView>,
        position: Decimal,
        avg_cost: f64,
    },
    PositionMultiEnd(i32),
    /// A completed real-time bar; `bar.date` holds its start in epoch seconds.
    RealTimeBar {
        req_id: i32,
        bar: BarView,
    },
    Pnl {
        req_id: i32,
        daily: f64,
        unrealized: f64,
        realized: f64,
    },
    PnlSingle {
        req_id: i32,
        position: Decimal,
        daily: f64,
        unrealized: f64,
        realized: f64,
        value: f64,
    },
    /// An empty family-code list.
    FamilyCodes,
    /// An empty soft-dollar tier list.
    SoftDollarTiers(i32),
    SecDefOptParamEnd(i32),
    HeadTimestamp {
        req_id: i32,
        value: String,
    },
    CommissionReport {
        exec_id: String,
        commission: f64,
        currency: String,
        realized_pnl: Option<f64>,
    },
}

/// updatePortfolio payload.
#[derive(Debug, Clone, PartialEq)]
pub struct PortfolioView {
    pub contract: ContractView,
    pub position: Decimal,
    pub market_price: f64,
    pub market_value: f64,
    pub avg_cost: f64,
    pub unrealized: f64,
    pub realized: f64,
    pub account: String,
}

/// orderStatus payload.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusView {
    pub order_id: i32,
    pub status: String,
    pub filled: Decimal,
    pub remaining: Decimal,
    pub avg_fill_price: f64,
    pub perm_id: i64,
    pub parent_id: i32,
    pub last_fill_price: f64,
    pub client_id: i32,
    pub why_held: String,
}

/// securityDefinitionOptionParameter payload: one row per exchange and trading class.
#[derive(Debug, Clone, PartialEq)]
pub struct OptParamsView {
    pub req_id: i32,
    pub exchange: String,
    pub under_con_id: i32,
    pub trading_class: String,
    pub multiplier: String,
    pub expirations: Vec<String>,
    pub strikes: Vec<f64>,
}
